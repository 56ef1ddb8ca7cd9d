/* IPv4 reassembly (RFC 791 3.2, RFC 815): a few bounded slots, each tracking the byte ranges it
 * has received. Overlapping fragments discard the datagram (as Linux does since 4.19; overlaps
 * are an attack vector, never a legitimate sender's behaviour); exact duplicates are ignored.
 *
 * Bounds: the slots are allocated once, so the bytes held in total never exceed SP_REASM_SLOTS x
 * SP_REASM_MAX_DATAGRAM, one datagram's never SP_REASM_MAX_DATAGRAM. When a new datagram finds
 * every slot taken, the one started longest ago is discarded for it (drop_reasm_evicted), as
 * Linux evicts under ipfrag_high_thresh: a flood of fragments that never complete would otherwise
 * hold every slot until the timeout and starve every legitimate fragmented datagram. A datagram
 * that arrives whole within a few frames completes long before it is the oldest. */
#include <string.h>

#include "iface_internal.h"

void sp_reasm_init(struct sp_iface *iface)
{
    for (size_t i = 0; i < SP_REASM_SLOTS; i++)
        iface->reasm[i].used = false;
}

static void slot_discard(struct sp_iface *iface, struct sp_reasm_slot *s, enum sp_stat why);

/* The slot of ip's datagram; for a new datagram a free slot, or else the oldest one's, whose
 * datagram is discarded (counted). Age is the order datagrams began in, not their deadline: under
 * a flood many begin in the same millisecond. */
static struct sp_reasm_slot *slot_find(struct sp_iface *iface, const struct sp_ipv4_repr *ip, sp_time_t now)
{
    struct sp_reasm_slot *free_slot = NULL, *oldest = NULL, *newest = NULL;
    for (size_t i = 0; i < SP_REASM_SLOTS; i++) {
        struct sp_reasm_slot *s = &iface->reasm[i];
        if (!s->used) {
            if (!free_slot)
                free_slot = s;
            continue;
        }
        if (s->src == ip->src && s->dst == ip->dst && s->ident == ip->ident && s->protocol == ip->protocol)
            return s;
        if (!oldest || (int32_t)(s->order - oldest->order) < 0)
            oldest = s;
        if (!newest || (int32_t)(s->order - newest->order) > 0)
            newest = s;
    }
    if (!free_slot) {
        slot_discard(iface, oldest, SP_STAT_drop_reasm_evicted);
        free_slot = oldest;
    }
    free_slot->used = true;
    free_slot->order = newest ? newest->order + 1 : 0;
    free_slot->src = ip->src;
    free_slot->dst = ip->dst;
    free_slot->ident = ip->ident;
    free_slot->protocol = ip->protocol;
    free_slot->deadline = now + SP_REASM_TIMEOUT_MS;
    free_slot->total_len = -1;
    free_slot->first_hdr_len = 0;
    free_slot->nranges = 0;
    return free_slot;
}

static void slot_discard(struct sp_iface *iface, struct sp_reasm_slot *s, enum sp_stat why)
{
    s->used = false;
    sp_drop(iface, why, NULL);
}

enum range_result { RANGE_ADDED, RANGE_DUPLICATE, RANGE_OVERLAP, RANGE_FULL };

/* Records [first, last] in the sorted, merged range list. */
static enum range_result range_add(struct sp_reasm_slot *s, uint16_t first, uint16_t last)
{
    size_t i = 0;
    while (i < s->nranges && s->ranges[i].last < first)
        i++;
    if (i < s->nranges && s->ranges[i].first <= last) {
        /* Touches received bytes: identical to what a range holds is a duplicate, else overlap. */
        if (s->ranges[i].first <= first && last <= s->ranges[i].last)
            return RANGE_DUPLICATE;
        return RANGE_OVERLAP;
    }
    bool join_prev = i > 0 && s->ranges[i - 1].last + 1 == first;
    bool join_next = i < s->nranges && last + 1 == s->ranges[i].first;
    if (join_prev && join_next) {
        s->ranges[i - 1].last = s->ranges[i].last;
        memmove(&s->ranges[i], &s->ranges[i + 1], (s->nranges - i - 1) * sizeof s->ranges[0]);
        s->nranges--;
    } else if (join_prev) {
        s->ranges[i - 1].last = last;
    } else if (join_next) {
        s->ranges[i].first = first;
    } else {
        if (s->nranges == SP_REASM_MAX_HOLES)
            return RANGE_FULL;
        memmove(&s->ranges[i + 1], &s->ranges[i], (s->nranges - i) * sizeof s->ranges[0]);
        s->ranges[i].first = first;
        s->ranges[i].last = last;
        s->nranges++;
    }
    return RANGE_ADDED;
}

bool sp_reasm_input(struct sp_iface *iface, sp_time_t now, const struct sp_ipv4_view *v,
                    struct sp_ipv4_repr *ip, struct sp_reasm_done *out)
{
    size_t len = ip->payload_len;
    size_t end = (size_t)ip->frag_offset + len;
    if (len == 0 || (ip->more_frags && len % 8 != 0)) {
        sp_drop(iface, SP_STAT_drop_reasm_bad, "fragment length");
        return false;
    }
    if (end > SP_REASM_MAX_DATAGRAM || end + SP_IPV4_MIN_HDR_LEN > 65535) {
        sp_drop(iface, SP_STAT_drop_reasm_too_big, NULL);
        return false;
    }
    struct sp_reasm_slot *s = slot_find(iface, ip, now);
    if (!ip->more_frags) {
        /* Two different ends, or an end before bytes already received: a broken datagram. */
        if ((s->total_len >= 0 && (size_t)s->total_len != end) ||
            (s->nranges > 0 && (size_t)s->ranges[s->nranges - 1].last + 1 > end)) {
            slot_discard(iface, s, SP_STAT_drop_reasm_bad);
            return false;
        }
        s->total_len = (int32_t)end;
    }
    if (s->total_len >= 0 && end > (size_t)s->total_len) {
        slot_discard(iface, s, SP_STAT_drop_reasm_bad);
        return false;
    }
    switch (range_add(s, ip->frag_offset, (uint16_t)(end - 1))) {
    case RANGE_DUPLICATE:
        return false;
    case RANGE_OVERLAP:
        slot_discard(iface, s, SP_STAT_drop_reasm_overlap);
        return false;
    case RANGE_FULL:
        slot_discard(iface, s, SP_STAT_drop_reasm_bad);
        return false;
    case RANGE_ADDED:
        break;
    }
    memcpy(s->data + ip->frag_offset, sp_ipv4_payload(v), len);
    if (ip->frag_offset == 0) {
        s->first_hdr_len = (uint8_t)sp_ipv4_hdr_len(v);
        memcpy(s->first_hdr, v->buf, s->first_hdr_len);
    }

    bool complete = s->total_len >= 0 && s->nranges == 1 && s->ranges[0].first == 0 &&
                    s->ranges[0].last + 1 == s->total_len;
    if (!complete)
        return false;
    s->used = false; /* the data stays readable until the slot is reused */
    ip->payload_len = (uint16_t)s->total_len;
    ip->frag_offset = 0;
    ip->more_frags = false;
    out->payload = s->data;
    out->hdr = s->first_hdr;
    out->hdr_len = s->first_hdr_len;
    sp_count(iface, SP_STAT_ip_reasm_ok);
    return true;
}

void sp_reasm_poll(struct sp_iface *iface, sp_time_t now)
{
    for (size_t i = 0; i < SP_REASM_SLOTS; i++) {
        struct sp_reasm_slot *s = &iface->reasm[i];
        if (s->used && now >= s->deadline)
            slot_discard(iface, s, SP_STAT_drop_reasm_timeout);
    }
}

sp_time_t sp_reasm_poll_at(const struct sp_iface *iface)
{
    sp_time_t t = SP_TIME_NEVER;
    for (size_t i = 0; i < SP_REASM_SLOTS; i++)
        if (iface->reasm[i].used)
            t = sp_time_min(t, iface->reasm[i].deadline);
    return t;
}
