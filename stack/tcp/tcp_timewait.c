/* Compact TIME-WAIT, in the spirit of Linux's time-wait sockets: once the application has let go of
 * a connection in TIME-WAIT, nothing of it is needed for 2 MSL but the pair, the two sequence
 * numbers, the window it advertised (and the peer's timestamp, had it any). That goes into a
 * 48-byte entry and the connection leaves the table, so closed connections do not take the slots
 * and buffers that open ones need.
 *
 * What an entry answers (RFC 9293 3.10.7.4 for TIME-WAIT):
 *   - the peer's FIN again (our last ACK was lost): ACKed once more, and the 2 MSL wait restarts;
 *   - a SYN that cannot belong to the old incarnation (RFC 6191: a newer timestamp when both used
 *     them, else a sequence number above the old RCV.NXT), with a listener that has room: the
 *     entry ends and the SYN opens a new connection whose ISS lies above the old SND.NXT
 *     (RFC 9293 3.6.1, RFC 1122 4.2.2.13); any other SYN is an old duplicate and gets our ACK;
 *   - a RST: ignored, as RFC 1337 recommends: a reset must not end TIME-WAIT early (TIME-WAIT
 *     assassination lets old duplicates into a new incarnation); the entry ends when its time is
 *     up. (The full connection in TIME-WAIT, while its handle is held, ignores it too.)
 *   - a bare ACK at RCV.NXT: nothing to say; anything else: our ACK, as for every unacceptable
 *     segment.
 *
 * Invariants: a pair is never both in the connection table and here (an entry is made as the
 * connection leaves the table; a new connection on the pair comes from a SYN that ended the entry,
 * or from sp_tcp_connect, which skips pairs found here). The expiry list runs oldest first: every
 * entry lives SP_TCP_TIME_WAIT_MS from its last (re)start and time never goes back, so a
 * (re)started entry belongs at the tail; insertion still walks back from the tail past any later
 * expiry, so a clock that stepped back costs time, not order. poll_at is the head's expiry.
 * When the table is full, the oldest entry (the nearest to its end anyway) makes room. */
#include <stdlib.h>
#include <string.h>

#include "tcp_internal.h"

int sp_tcp_tw_init(struct sp_tcp_stack *tcp)
{
    struct sp_tcp_tw_table *t = &tcp->tw;
    t->max = tcp->cfg.max_timewait;
    uint32_t chains = sp_tcp_hash_chains(t->max);
    t->mask = chains - 1;
    /* Neither array is written before use: the pages of a large table stay unresident until
     * entries fill them (calloc of a large block maps zero pages). */
    t->bucket = calloc(chains, sizeof *t->bucket);
    t->e = calloc((size_t)t->max + 1, sizeof *t->e);
    if (!t->bucket || !t->e)
        return SP_ENOBUFS;
    t->used = 1;
    return 0;
}

void sp_tcp_tw_free(struct sp_tcp_stack *tcp)
{
    free(tcp->tw.bucket);
    free(tcp->tw.e);
    memset(&tcp->tw, 0, sizeof tcp->tw);
}

static uint32_t *chain_of(const struct sp_tcp_stack *tcp, uint32_t rip, uint16_t rport, uint16_t lport)
{
    return &tcp->tw.bucket[sp_tcp_hash4(tcp, rip, rport, lport) & tcp->tw.mask];
}

struct sp_tcp_tw *sp_tcp_tw_lookup(const struct sp_tcp_stack *tcp, uint32_t rip, uint16_t rport, uint16_t lport)
{
    if (tcp->tw.count == 0)
        return NULL;
    for (uint32_t i = *chain_of(tcp, rip, rport, lport); i != SP_TCP_TW_NONE; i = tcp->tw.e[i].hnext) {
        struct sp_tcp_tw *w = &tcp->tw.e[i];
        if (w->remote_ip == rip && w->remote_port == rport && w->local_port == lport)
            return w;
    }
    return NULL;
}

/* --- The expiry list ------------------------------------------------------------------------ */

static void list_unlink(struct sp_tcp_tw_table *t, uint32_t i)
{
    struct sp_tcp_tw *w = &t->e[i];
    if (w->prev != SP_TCP_TW_NONE)
        t->e[w->prev].next = w->next;
    else
        t->oldest = w->next;
    if (w->next != SP_TCP_TW_NONE)
        t->e[w->next].prev = w->prev;
    else
        t->newest = w->prev;
}

/* Inserts entry i by its expiry: after the last entry that expires no later. */
static void list_insert(struct sp_tcp_tw_table *t, uint32_t i)
{
    struct sp_tcp_tw *w = &t->e[i];
    uint32_t after = t->newest;
    while (after != SP_TCP_TW_NONE && t->e[after].expires > w->expires)
        after = t->e[after].prev;
    w->prev = after;
    w->next = after == SP_TCP_TW_NONE ? t->oldest : t->e[after].next;
    if (after == SP_TCP_TW_NONE)
        t->oldest = i;
    else
        t->e[after].next = i;
    if (w->next == SP_TCP_TW_NONE)
        t->newest = i;
    else
        t->e[w->next].prev = i;
}

/* --- Entries -------------------------------------------------------------------------------- */

static uint32_t index_of(const struct sp_tcp_tw_table *t, const struct sp_tcp_tw *w)
{
    return (uint32_t)(w - t->e);
}

/* Ends entry i: off its chain and the expiry list, onto the free list. */
static void tw_remove(struct sp_tcp_stack *tcp, uint32_t i)
{
    struct sp_tcp_tw_table *t = &tcp->tw;
    struct sp_tcp_tw *w = &t->e[i];
    for (uint32_t *p = chain_of(tcp, w->remote_ip, w->remote_port, w->local_port); *p != SP_TCP_TW_NONE;
         p = &t->e[*p].hnext)
        if (*p == i) {
            *p = w->hnext;
            break;
        }
    list_unlink(t, i);
    w->next = t->free;
    t->free = i;
    t->count--;
}

/* A free entry: a released one, one never used, or else the oldest, given up early. */
static uint32_t tw_take(struct sp_tcp_stack *tcp)
{
    struct sp_tcp_tw_table *t = &tcp->tw;
    if (t->free == SP_TCP_TW_NONE && t->used > t->max) {
        sp_count(tcp->iface, SP_STAT_tcp_time_wait_evicted);
        tw_remove(tcp, t->oldest);
    }
    uint32_t i = t->free;
    if (i != SP_TCP_TW_NONE)
        t->free = t->e[i].next;
    else
        i = t->used++;
    t->count++;
    return i;
}

void sp_tcp_tw_adopt(struct sp_tcp *c, sp_time_t now)
{
    struct sp_tcp_stack *tcp = c->stack;
    struct sp_tcp_tw *old = sp_tcp_tw_lookup(tcp, c->remote_ip, c->remote_port, c->local_port);
    if (old)
        tw_remove(tcp, index_of(&tcp->tw, old));   /* never happens (see the invariants) */
    /* Our ACKs from here on advertise what the connection last did: the window must not shrink
     * (RFC 9293 3.8.6), and TIME-WAIT will never take data into it. */
    struct sp_tcp_repr ack;
    sp_tcp_init_repr(c, &ack, c->snd_max, SP_TCP_ACK);
    uint32_t i = tw_take(tcp);
    struct sp_tcp_tw *w = &tcp->tw.e[i];
    memset(w, 0, sizeof *w);
    w->remote_ip = c->remote_ip;
    w->remote_port = c->remote_port;
    w->local_port = c->local_port;
    w->snd_nxt = c->snd_max;
    w->rcv_nxt = c->rcv_nxt;
    w->window = ack.window;
    w->expires = c->close_at != SP_TIME_NEVER ? c->close_at : now + SP_TCP_TIME_WAIT_MS;
    uint32_t *chain = chain_of(tcp, w->remote_ip, w->remote_port, w->local_port);
    w->hnext = *chain;
    *chain = i;
    list_insert(&tcp->tw, i);
    sp_count(tcp->iface, SP_STAT_tcp_time_wait);
    sp_tcp_conn_finish(c, 0);
}

/* --- Segments --------------------------------------------------------------------------------- */

static void tw_send_ack(struct sp_tcp_stack *tcp, const struct sp_tcp_tw *w, sp_time_t now)
{
    struct sp_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.src_port = w->local_port;
    r.dst_port = w->remote_port;
    r.seq = w->snd_nxt;
    r.ack = w->rcv_nxt;
    r.flags = SP_TCP_ACK;
    r.window = w->window;
    r.wscale = -1;
    sp_tcp_emit(tcp, now, tcp->iface->cfg.ip, w->remote_ip, &r);
}

/* RFC 6191 2: with timestamps on both incarnations' sides, a SYN is new when its timestamp is newer
 * than the last one seen; otherwise when its sequence number lies above the old RCV.NXT. */
static bool syn_is_new(const struct sp_tcp_tw *w, const struct sp_tcp_repr *seg)
{
    if (w->ts_ok && seg->has_timestamp)
        return (int32_t)(seg->ts_val - w->ts_recent) > 0;
    return sp_seq_gt(seg->seq, w->rcv_nxt);
}

bool sp_tcp_tw_input(struct sp_tcp_stack *tcp, struct sp_tcp_tw *w, sp_time_t now, const struct sp_tcp_repr *seg)
{
    struct sp_iface *iface = tcp->iface;
    uint8_t flags = seg->flags;
    if (flags & SP_TCP_RST) {
        sp_drop(iface, SP_STAT_drop_tcp_time_wait_rst, NULL);
        return true;
    }
    struct sp_tcp *l;
    if ((flags & (SP_TCP_SYN | SP_TCP_ACK)) == SP_TCP_SYN && syn_is_new(w, seg) &&
        (l = sp_tcp_find_listener(tcp, seg->dst_port)) != NULL) {
        if (l->pending >= l->backlog) {
            /* A cookie could not promise an ISS above the old SND.NXT: the peer tries again. */
            sp_drop(iface, SP_STAT_drop_tcp_backlog_full, "TIME-WAIT pair");
            return true;
        }
        tcp->iss_floor_set = true;
        tcp->iss_floor = w->snd_nxt;
        sp_count(iface, SP_STAT_tcp_time_wait_reused);
        tw_remove(tcp, index_of(&tcp->tw, w));
        return false;
    }
    bool fin = flags & SP_TCP_FIN;
    if (fin && seg->seq + (uint32_t)seg->payload_len + 1 == w->rcv_nxt) {
        /* The peer's FIN again: it did not get our ACK. Restart the wait (RFC 9293 3.10.7.4). */
        uint32_t i = index_of(&tcp->tw, w);
        list_unlink(&tcp->tw, i);
        w->expires = now + SP_TCP_TIME_WAIT_MS;
        list_insert(&tcp->tw, i);
        tw_send_ack(tcp, w, now);
        return true;
    }
    if (!(flags & SP_TCP_SYN) && !fin && seg->payload_len == 0 && seg->seq == w->rcv_nxt)
        return true;   /* a bare ACK in the window: nothing to answer */
    tw_send_ack(tcp, w, now);
    sp_drop(iface, SP_STAT_drop_tcp_out_of_window, "TIME-WAIT");
    return true;
}

void sp_tcp_tw_poll(struct sp_tcp_stack *tcp, sp_time_t now)
{
    struct sp_tcp_tw_table *t = &tcp->tw;
    while (t->oldest != SP_TCP_TW_NONE && t->e[t->oldest].expires <= now) {
        sp_count(tcp->iface, SP_STAT_tcp_time_wait_expired);
        tw_remove(tcp, t->oldest);
    }
}
