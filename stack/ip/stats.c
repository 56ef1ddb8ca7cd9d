#include "slowpath/stats.h"

static const char *const stat_names[SP_STAT_COUNT] = {
#define SP_STAT_NAME(name) #name,
    SP_STATS_MAP(SP_STAT_NAME)
#undef SP_STAT_NAME
};

const char *sp_stat_name(enum sp_stat s)
{
    return (unsigned)s < SP_STAT_COUNT ? stat_names[s] : "?";
}
