#include "slowpath/llm/error.h"

const char *sp_llm_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define SP_LLM_ERRNO_CASE(name, val, text) \
    case (val):                            \
        return text;
        SP_LLM_ERRNO_MAP(SP_LLM_ERRNO_CASE)
#undef SP_LLM_ERRNO_CASE
    default:
        return "unknown error";
    }
}

const char *sp_llm_errname(int err)
{
    switch (err) {
    case 0:
        return "0";
#define SP_LLM_ERRNAME_CASE(name, val, text) \
    case (val):                              \
        return "SP_LLM_E" #name;
        SP_LLM_ERRNO_MAP(SP_LLM_ERRNAME_CASE)
#undef SP_LLM_ERRNAME_CASE
    default:
        return "SP_LLM_E?";
    }
}
