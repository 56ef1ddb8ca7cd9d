/* TCP connections by state, for the operator's gauges: a walk over the live lists when asked,
 * so the state machine keeps no extra counters. */
#include <string.h>

#include "tcp_internal.h"

void sp_tcp_count_by_state(const struct sp_iface *iface, unsigned counts[SP_TCP_STATE_COUNT])
{
    memset(counts, 0, SP_TCP_STATE_COUNT * sizeof counts[0]);
    if (!iface || !iface->tcp)
        return;
    for (const struct sp_tcp *l = iface->tcp->listeners; l; l = l->hnext)
        counts[SP_TCP_LISTEN]++;
    /* A connection finished but not yet reaped is unlinked from `all`: it is gone already. */
    for (const struct sp_tcp *c = iface->tcp->all; c; c = c->all_next)
        if ((unsigned)c->state < SP_TCP_STATE_COUNT)
            counts[c->state]++;
}
