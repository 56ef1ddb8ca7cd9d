/* The neighbour cache: IPv4 -> MAC mappings learned by ARP, bounded, expiring, with a small queue
 * of frames that wait for their next hop to resolve.
 *
 * Who may take whose place when the cache is full. An entry is in use while frames of ours went
 * (or wait) to it within SP_ARP_IN_USE_MS. A neighbour learned from a packet (an ARP request for
 * us, an IP datagram's on-link sender) is a guess that we may talk to it: it may replace only an
 * entry not in use, the least recently confirmed first, and when every entry is in use it is not
 * cached (arp_learn_skipped; the request is still answered, and our first frame to it resolves
 * it). Traffic of ours that needs an address may replace any entry, the least recently used. So
 * a storm of requests from thousands of senders churns the entries nobody uses and never the
 * peer we are talking to, as Linux's garbage collection spares referenced, recently confirmed
 * neighbours. */
#include <string.h>

#include "iface_internal.h"

void sp_neigh_init(struct sp_neigh *n)
{
    memset(n, 0, sizeof *n);
}

static struct sp_neigh_entry *neigh_find(struct sp_neigh *n, uint32_t ip)
{
    for (size_t i = 0; i < n->used; i++)
        if (n->entries[i].ip == ip)
            return &n->entries[i];
    return NULL;
}

static void neigh_flush(struct sp_iface *iface, uint32_t ip, const struct sp_mac *mac);

static bool neigh_in_use(const struct sp_neigh_entry *e, sp_time_t now)
{
    return e->sent && now < e->last_used + SP_ARP_IN_USE_MS;
}

/* Of two entries, whether a is the better one to replace: one not in use before one in use; of two
 * not in use, an unresolved one (it gave up, or is about to) before the least recently confirmed;
 * of two in use, the least recently used. */
static bool neigh_worse(const struct sp_neigh_entry *a, const struct sp_neigh_entry *b, sp_time_t now)
{
    bool ua = neigh_in_use(a, now), ub = neigh_in_use(b, now);
    if (ua != ub)
        return !ua;
    if (ua)
        return a->last_used < b->last_used;
    if (a->resolved != b->resolved)
        return !a->resolved;
    return a->expires < b->expires; /* expires is the last confirmation plus the TTL */
}

/* A free slot, or else an entry to replace (counted as an eviction; frames that waited for it are
 * dropped with it): for a neighbour learned from a packet (`learned`) only one not in use, else
 * NULL. */
static struct sp_neigh_entry *neigh_alloc(struct sp_iface *iface, sp_time_t now, bool learned)
{
    struct sp_neigh_entry *victim = NULL;
    for (size_t i = 0; i < SP_ARP_CACHE_SIZE; i++) {
        struct sp_neigh_entry *e = &iface->neigh.entries[i];
        if (e->ip == 0) {
            if (i >= iface->neigh.used)
                iface->neigh.used = i + 1;
            return e;
        }
        if (!victim || neigh_worse(e, victim, now))
            victim = e;
    }
    if (neigh_in_use(victim, now)) {
        if (learned)
            return NULL;
        /* more neighbours in use than the cache holds: worth an operator's notice */
        sp_count(iface, SP_STAT_arp_evicted_in_use);
    }
    sp_count(iface, SP_STAT_arp_evicted);
    if (!victim->resolved)
        neigh_flush(iface, victim->ip, NULL);
    memset(victim, 0, sizeof *victim);
    return victim;
}

static void neigh_send(struct sp_iface *iface, struct sp_mac dst, uint8_t *frame, size_t len)
{
    memcpy(frame, dst.b, 6);
    if (sp_iface_send_frame(iface, frame, len) < 0) {
        sp_count(iface, SP_STAT_tx_errors);
        return;
    }
    sp_count(iface, SP_STAT_tx_frames);
    iface->stats.v[SP_STAT_tx_bytes] += sp_iface_wire_len(iface, frame, len);
}

int sp_neigh_output_meta(struct sp_iface *iface, sp_time_t now, uint32_t next_hop, uint8_t *frame, size_t len,
                         const struct sp_frame_meta *meta, unsigned frames)
{
    struct sp_neigh_entry *e = neigh_find(&iface->neigh, next_hop);
    if (!e || !e->resolved || e->expires <= now)
        return SP_ENOROUTE;
    e->sent = true;
    e->last_used = now;
    memcpy(frame, e->mac.b, 6);
    if (sp_iface_send_frame_meta(iface, frame, len, meta, frames) < 0) {
        sp_count(iface, SP_STAT_tx_errors);
        return 0;
    }
    iface->stats.v[SP_STAT_tx_frames] += frames;
    iface->stats.v[SP_STAT_tx_bytes] += len;
    sp_count(iface, SP_STAT_tx_super_segments);
    return 0;
}

/* Sends (mac given) or drops every frame queued for ip, oldest first. */
static void neigh_flush(struct sp_iface *iface, uint32_t ip, const struct sp_mac *mac)
{
    for (;;) {
        struct sp_neigh_pending *p = NULL;
        for (size_t i = 0; i < SP_ARP_QUEUE_LEN; i++) {
            struct sp_neigh_pending *q = &iface->neigh.queue[i];
            if (q->next_hop == ip && (!p || (int32_t)(q->order - p->order) < 0))
                p = q;
        }
        if (!p)
            return;
        if (mac)
            neigh_send(iface, *mac, p->frame, p->len);
        else
            sp_drop(iface, SP_STAT_drop_arp_unresolved, NULL);
        p->next_hop = 0;
    }
}

void sp_neigh_update(struct sp_iface *iface, sp_time_t now, uint32_t ip, struct sp_mac mac, bool create)
{
    /* Callers drop (and count) frames from such addresses first; this keeps the cache from ever
     * holding one, whatever a future caller forgets. */
    if (!sp_mac_is_host(mac))
        return;
    struct sp_neigh_entry *e = neigh_find(&iface->neigh, ip);
    if (!e) {
        if (!create)
            return;
        e = neigh_alloc(iface, now, true);
        if (!e) {
            sp_count(iface, SP_STAT_arp_learn_skipped);
            return;
        }
        e->ip = ip;
    }
    bool was_resolved = e->resolved;
    if (!was_resolved || !sp_mac_eq(e->mac, mac))
        sp_count(iface, SP_STAT_arp_learned);
    e->mac = mac;
    e->resolved = true;
    e->tries = 0;
    e->expires = now + SP_ARP_ENTRY_TTL_MS;
    /* Frames wait only for unresolved entries (an expired one is marked so before queueing):
     * a refresh, which every on-link frame received brings, has nothing to send. */
    if (!was_resolved)
        neigh_flush(iface, ip, &mac);
}

bool sp_iface_neighbour(const struct sp_iface *iface, uint32_t addr, struct sp_mac *mac)
{
    for (size_t i = 0; i < iface->neigh.used; i++) {
        const struct sp_neigh_entry *e = &iface->neigh.entries[i];
        if (e->ip == addr && e->resolved && e->expires > iface->now) {
            *mac = e->mac;
            return true;
        }
    }
    return false;
}

int sp_neigh_output(struct sp_iface *iface, sp_time_t now, uint32_t next_hop, uint8_t *frame, size_t len)
{
    /* A point-to-point link has one neighbour and no addresses to resolve: the frame leaves at
     * once, its (all-zero) destination MAC stripped with the rest of the header (link_raw.c). */
    if (!sp_iface_has_arp(iface)) {
        neigh_send(iface, sp_mac_zero, frame, len);
        return 0;
    }
    if (next_hop == SP_IPV4_BROADCAST || sp_iface_is_broadcast(iface, next_hop)) {
        neigh_send(iface, sp_mac_broadcast, frame, len);
        return 0;
    }
    struct sp_neigh_entry *e = neigh_find(&iface->neigh, next_hop);
    if (e && e->resolved && e->expires > now) {
        e->sent = true;
        e->last_used = now;
        neigh_send(iface, e->mac, frame, len);
        return 0;
    }

    /* Unresolved: park the frame and ask, at most once per interval per address. */
    struct sp_neigh_pending *slot = NULL;
    for (size_t i = 0; i < SP_ARP_QUEUE_LEN && !slot; i++)
        if (iface->neigh.queue[i].next_hop == 0)
            slot = &iface->neigh.queue[i];
    if (!slot || len > sizeof slot->frame) {
        sp_drop(iface, SP_STAT_drop_arp_queue_full, NULL);
        return SP_ENOBUFS;
    }
    slot->next_hop = next_hop;
    slot->order = iface->neigh.next_order++;
    slot->len = (uint16_t)len;
    memcpy(slot->frame, frame, len);

    if (!e) {
        e = neigh_alloc(iface, now, false);
        e->ip = next_hop;
    } else if (e->resolved) {
        e->resolved = false; /* expired: resolve again */
        e->tries = 0;
        e->next_request = now;
    }
    e->sent = true;
    e->last_used = now;
    if (e->tries == 0 || now >= e->next_request) {
        if (e->tries < SP_ARP_MAX_TRIES) {
            sp_arp_send_request(iface, next_hop);
            e->tries++;
            e->next_request = now + SP_ARP_REQUEST_INTERVAL_MS;
        }
    }
    return 0;
}

void sp_neigh_poll(struct sp_iface *iface, sp_time_t now)
{
    for (size_t i = 0; i < iface->neigh.used; i++) {
        struct sp_neigh_entry *e = &iface->neigh.entries[i];
        if (e->ip == 0)
            continue;
        if (e->resolved) {
            if (now >= e->expires) {
                sp_count(iface, SP_STAT_arp_expired);
                memset(e, 0, sizeof *e);
            }
            continue;
        }
        if (now < e->next_request)
            continue;
        if (e->tries >= SP_ARP_MAX_TRIES) {
            /* Gave up: what waited for this address is lost, and the entry with it. */
            neigh_flush(iface, e->ip, NULL);
            memset(e, 0, sizeof *e);
            continue;
        }
        sp_arp_send_request(iface, e->ip);
        e->tries++;
        e->next_request = now + SP_ARP_REQUEST_INTERVAL_MS;
    }
    while (iface->neigh.used > 0 && iface->neigh.entries[iface->neigh.used - 1].ip == 0)
        iface->neigh.used--;
}

sp_time_t sp_neigh_poll_at(const struct sp_iface *iface)
{
    sp_time_t t = SP_TIME_NEVER;
    for (size_t i = 0; i < iface->neigh.used; i++) {
        const struct sp_neigh_entry *e = &iface->neigh.entries[i];
        if (e->ip == 0)
            continue;
        t = sp_time_min(t, e->resolved ? e->expires : e->next_request);
    }
    return t;
}
