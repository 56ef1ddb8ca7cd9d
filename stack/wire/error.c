#include "slowpath/error.h"

const char *sp_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define SP_ERRNO_CASE(name, val, text) \
    case (val):                        \
        return text;
        SP_ERRNO_MAP(SP_ERRNO_CASE)
#undef SP_ERRNO_CASE
    default:
        return "unknown error";
    }
}
