/* How many neighbours the cache holds, for the operator's gauges: counted on demand rather than
 * kept up to date on the packet path, since a scrape is rare and the cache is small. */
#include "iface_internal.h"

size_t sp_iface_neighbour_count(const struct sp_iface *iface)
{
    size_t n = 0;
    for (size_t i = 0; i < SP_ARP_CACHE_SIZE; i++) {
        const struct sp_neigh_entry *e = &iface->neigh.entries[i];
        if (e->ip && e->resolved && e->expires > iface->now)
            n++;
    }
    return n;
}
