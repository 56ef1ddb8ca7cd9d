/* The TCP module's frame: connection table, demultiplexing of arriving segments, what a host
 * does with segments for no connection (RFC 9293 3.10.7.1), timers and deferred freeing.
 * The table holds at most cfg.max_conns connections in hash chains sized for that many (keyed, so
 * that a peer choosing its ports cannot pile its connections into one chain) and in a doubly
 * linked list for the timers. A connection in TIME-WAIT whose handle is released leaves the
 * table for a compact entry (tcp_timewait.c), so closes do not hold slots for 2 MSL. */
#include <stdlib.h>
#include <string.h>

#include "tcp_internal.h"

static int default_output(void *ctx, sp_time_t now, struct sp_ip_packet *pkt)
{
    return sp_ip_output(ctx, now, pkt);
}

static uint32_t clamp_buf(uint32_t bytes)
{
    return bytes < SP_TCP_BUF_MIN ? SP_TCP_BUF_MIN : bytes > SP_TCP_BUF_MAX ? SP_TCP_BUF_MAX : bytes;
}

static struct sp_tcp_config with_defaults(const struct sp_tcp_config *in)
{
    struct sp_tcp_config c = *in;
    c.max_conns = c.max_conns ? c.max_conns : SP_TCP_MAX_CONNS;
    c.max_timewait = c.max_timewait ? c.max_timewait : SP_TCP_MAX_TIMEWAIT;
    c.backlog = c.backlog ? c.backlog : SP_TCP_DEFAULT_BACKLOG;
    c.rcvbuf = clamp_buf(c.rcvbuf ? c.rcvbuf : SP_TCP_RCV_BUF);
    c.sndbuf = clamp_buf(c.sndbuf ? c.sndbuf : SP_TCP_SND_BUF);
    c.mem_max = c.mem_max ? c.mem_max : SP_TCP_MEM_MAX;
    return c;
}

/* Chains for n entries: a power of two, about one entry per chain when the table is full. */
uint32_t sp_tcp_hash_chains(uint32_t n)
{
    uint32_t chains = 16;
    while (chains < n && chains < (1u << 24))
        chains *= 2;
    return chains;
}

struct sp_tcp_stack *sp_tcp_stack_new(struct sp_iface *iface)
{
    struct sp_tcp_stack *tcp = calloc(1, sizeof *tcp);
    if (!tcp)
        return NULL;
    tcp->iface = iface;
    tcp->output = default_output;
    tcp->output_ctx = iface;
    tcp->next_port = SP_TCP_EPHEMERAL_FIRST;
    tcp->cfg = with_defaults(&iface->cfg.tcp);
    tcp->mem.max = tcp->cfg.mem_max;
    tcp->hash_key = iface->cfg.secret * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
    uint32_t chains = sp_tcp_hash_chains(tcp->cfg.max_conns);
    tcp->hash_mask = chains - 1;
    tcp->hash = calloc(chains, sizeof *tcp->hash);
    if (!tcp->hash || sp_tcp_timers_init(tcp) < 0 || sp_tcp_tw_init(tcp) < 0) {
        sp_tcp_stack_free(tcp);
        return NULL;
    }
    sp_tcp_decide_init(iface);
    return tcp;
}

void sp_tcp_set_output(struct sp_tcp_stack *tcp, sp_tcp_output_fn fn, void *ctx)
{
    tcp->output = fn ? fn : default_output;
    tcp->output_ctx = fn ? ctx : tcp->iface;
}

static void conn_free(struct sp_tcp *c)
{
    sp_tcp_ring_free(&c->snd);
    sp_tcp_ring_free(&c->rcv);
    free(c);
}

static void reap(struct sp_tcp_stack *tcp)
{
    while (tcp->reap) {
        struct sp_tcp *c = tcp->reap;
        tcp->reap = c->reap_next;
        conn_free(c);
    }
}

void sp_tcp_stack_free(struct sp_tcp_stack *tcp)
{
    if (!tcp)
        return;
    reap(tcp);
    while (tcp->all) {
        struct sp_tcp *c = tcp->all;
        tcp->all = c->all_next;
        conn_free(c);
    }
    while (tcp->listeners) {
        struct sp_tcp *l = tcp->listeners;
        tcp->listeners = l->hnext;
        free(l);
    }
    sp_tcp_tw_free(tcp);
    sp_tcp_timers_free(tcp);
    free(tcp->hash);
    free(tcp);
}

void sp_tcp_enter(struct sp_tcp_stack *tcp) { tcp->depth++; }

void sp_tcp_leave(struct sp_tcp_stack *tcp)
{
    if (--tcp->depth == 0) {
        sp_tcp_timers_settle(tcp);
        reap(tcp);
    }
}

uint32_t sp_tcp_hash4(const struct sp_tcp_stack *tcp, uint32_t rip, uint16_t rport, uint16_t lport)
{
    uint8_t id[8];
    sp_put32(id, rip);
    sp_put16(id + 4, rport);
    sp_put16(id + 6, lport);
    return (uint32_t)sp_siphash24(tcp->hash_key, ~tcp->hash_key, id, sizeof id);
}

static struct sp_tcp **chain_of(const struct sp_tcp_stack *tcp, uint32_t rip, uint16_t rport, uint16_t lport)
{
    return &tcp->hash[sp_tcp_hash4(tcp, rip, rport, lport) & tcp->hash_mask];
}

uint8_t sp_tcp_wscale_for(uint32_t rcvbuf)
{
    uint8_t shift = 0;
    while (shift < 14 && (rcvbuf >> shift) > 0xffff)
        shift++;
    return shift;
}

struct sp_tcp *sp_tcp_lookup(struct sp_tcp_stack *tcp, uint32_t rip, uint16_t rport, uint16_t lport)
{
    for (struct sp_tcp *c = *chain_of(tcp, rip, rport, lport); c; c = c->hnext)
        if (c->remote_ip == rip && c->remote_port == rport && c->local_port == lport)
            return c;
    return NULL;
}

struct sp_tcp *sp_tcp_find_listener(struct sp_tcp_stack *tcp, uint16_t port)
{
    for (struct sp_tcp *l = tcp->listeners; l; l = l->hnext)
        if (l->local_port == port)
            return l;
    return NULL;
}

struct sp_tcp *sp_tcp_conn_new(struct sp_tcp_stack *tcp, uint32_t rip, uint16_t rport, uint16_t lport,
                               uint32_t rcvbuf, uint32_t sndbuf)
{
    if (tcp->nconns >= tcp->cfg.max_conns)
        return NULL;
    struct sp_tcp *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->rcvbuf = rcvbuf;
    c->sndbuf = sndbuf;
    sp_tcp_ring_init(&c->snd, sndbuf, &tcp->mem);
    sp_tcp_ring_init(&c->rcv, rcvbuf, &tcp->mem);
    struct sp_iface *iface = tcp->iface;
    c->stack = tcp;
    c->local_ip = iface->cfg.ip;
    c->remote_ip = rip;
    c->remote_port = rport;
    c->local_port = lport;
    c->rtx_at = c->ack_at = c->close_at = SP_TIME_NEVER;
    c->rto = SP_TCP_RTO_INITIAL_MS;
    c->ssthresh = 0x7fffffff;
    c->mss = SP_TCP_DEFAULT_MSS;
    c->rcv_wscale = sp_tcp_wscale_for(rcvbuf);
    c->iss = sp_tcp_isn(iface->cfg.secret, iface->now, c->local_ip, lport, rip, rport);
    if (tcp->iss_floor_set && !sp_seq_gt(c->iss, tcp->iss_floor))
        c->iss = tcp->iss_floor + 1 + (c->iss & 0xffffff); /* above the old incarnation, still keyed */
    c->snd_una = c->snd_nxt = c->snd_max = c->iss;
    c->snd_buf_seq = c->iss + 1;
    c->recover = c->iss;
    sp_tcp_ts_init(c);   /* the timestamp clock's offset (tcp_ts.c) */
    struct sp_tcp **chain = chain_of(tcp, rip, rport, lport);
    c->hnext = *chain;
    *chain = c;
    c->linked = true;
    c->all_next = tcp->all;
    if (tcp->all)
        tcp->all->all_prev = c;
    tcp->all = c;
    tcp->nconns++;
    sp_tcp_touch(c);
    return c;
}

static void unlink_conn(struct sp_tcp *c)
{
    struct sp_tcp_stack *tcp = c->stack;
    if (!c->linked)
        return;
    c->linked = false;
    for (struct sp_tcp **p = chain_of(tcp, c->remote_ip, c->remote_port, c->local_port); *p; p = &(*p)->hnext)
        if (*p == c) {
            *p = c->hnext;
            break;
        }
    if (c->all_prev)
        c->all_prev->all_next = c->all_next;
    else
        tcp->all = c->all_next;
    if (c->all_next)
        c->all_next->all_prev = c->all_prev;
    /* all_next stays: a walk of the list may be standing on c and still need its successor. */
    sp_tcp_timers_remove(c);
    tcp->nconns--;
}

void sp_tcp_conn_finish(struct sp_tcp *c, int status)
{
    if (c->dead)
        return;
    if (c->state == SP_TCP_SYN_RECEIVED && c->listener && c->listener->pending)
        c->listener->pending--;
    c->state = SP_TCP_CLOSED;
    c->dead = true;
    c->close_status = status;
    c->rtx_at = c->ack_at = c->close_at = SP_TIME_NEVER;
    unlink_conn(c);
    sp_count(c->stack->iface, status == 0 ? SP_STAT_tcp_conn_closed : SP_STAT_tcp_conn_reset);
    struct sp_tcp_stack *tcp = c->stack;
    tcp->depth++;
    if (c->deciding) {
        /* Its parked handshake decision ends with it (dropped, SP_ECLOSED). */
        c->deciding = false;
        sp_decision_cancel_owner(tcp->iface, tcp->iface->now, c);
    }
    if (!c->app_closed && c->cb.on_close)
        c->cb.on_close(c, status);
    c->reap_next = tcp->reap;
    tcp->reap = c;
    sp_tcp_leave(tcp);
}

int sp_tcp_emit(struct sp_tcp_stack *tcp, sp_time_t now, uint32_t src, uint32_t dst, struct sp_tcp_repr *r)
{
    /* DF on every segment: a router that cannot forward one whole says so with Fragmentation
     * Needed instead of fragmenting it, which is how a connection learns its path MTU (RFC 1191
     * 2; tcp_icmp.c). */
    return sp_tcp_emit_df(tcp, now, src, dst, r, true);
}

int sp_tcp_emit_df(struct sp_tcp_stack *tcp, sp_time_t now, uint32_t src, uint32_t dst, struct sp_tcp_repr *r,
                   bool dont_frag)
{
    return sp_tcp_emit_gso(tcp, now, src, dst, r, dont_frag, 0);
}

int sp_tcp_emit_gso(struct sp_tcp_stack *tcp, sp_time_t now, uint32_t src, uint32_t dst, struct sp_tcp_repr *r,
                    bool dont_frag, uint16_t gso_size)
{
    struct sp_ip_packet pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.ip.src = src;
    pkt.ip.dst = dst;
    pkt.ip.protocol = SP_IP_PROTO_TCP;
    pkt.ip.ttl = SP_DEFAULT_TTL;
    pkt.ip.dont_frag = dont_frag;
    pkt.kind = SP_L4_TCP;
    pkt.gso_size = gso_size;
    pkt.l4.tcp = *r;
    sp_count(tcp->iface, SP_STAT_tcp_tx);
    if (r->flags & SP_TCP_RST)
        sp_count(tcp->iface, SP_STAT_tcp_rst_tx);
    return tcp->output(tcp->output_ctx, now, &pkt);
}

static struct sp_tcp_repr blank_repr(uint16_t sport, uint16_t dport)
{
    struct sp_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.src_port = sport;
    r.dst_port = dport;
    r.wscale = -1;
    return r;
}

void sp_tcp_reset_repr(const struct sp_tcp_repr *seg, struct sp_tcp_repr *r)
{
    *r = blank_repr(seg->dst_port, seg->src_port);
    if (seg->flags & SP_TCP_ACK) {
        r->seq = seg->ack;
        r->flags = SP_TCP_RST;
    } else {
        uint32_t seg_len = (uint32_t)seg->payload_len + !!(seg->flags & SP_TCP_SYN) + !!(seg->flags & SP_TCP_FIN);
        r->seq = 0;
        r->ack = seg->seq + seg_len;
        r->flags = SP_TCP_RST | SP_TCP_ACK;
    }
}

void sp_tcp_send_reset_for(struct sp_tcp_stack *tcp, sp_time_t now, const struct sp_ipv4_repr *ip,
                           const struct sp_tcp_repr *seg)
{
    if (seg->flags & SP_TCP_RST)
        return;   /* never answer a reset with a reset */
    struct sp_tcp_repr r;
    sp_tcp_reset_repr(seg, &r);
    sp_tcp_emit(tcp, now, ip->dst, ip->src, &r);
}

void sp_tcp_input(struct sp_tcp_stack *tcp, sp_time_t now, const struct sp_ipv4_repr *ip, const uint8_t *buf,
                  size_t len)
{
    struct sp_iface *iface = tcp->iface;
    struct sp_tcp_view v;
    int rc = sp_tcp_view_init(&v, buf, len);
    if (rc < 0) {
        sp_drop(iface, rc == SP_ETRUNCATED ? SP_STAT_drop_tcp_truncated : SP_STAT_drop_tcp_malformed, NULL);
        return;
    }
    struct sp_tcp_repr seg;
    rc = iface->rx_csum_ok ? sp_tcp_repr_parse_unchecked(&v, &seg) : sp_tcp_repr_parse(&v, ip->src, ip->dst, &seg);
    if (rc < 0) {
        sp_drop(iface, rc == SP_ECHECKSUM ? SP_STAT_drop_tcp_bad_checksum : SP_STAT_drop_tcp_malformed, NULL);
        return;
    }
    /* Only unicast to our address: a broadcast or multicast segment never gets an answer. */
    if (ip->dst != iface->cfg.ip || ip->src == 0 || sp_ipv4_is_multicast(ip->src) ||
        sp_iface_is_broadcast(iface, ip->src)) {
        sp_drop(iface, SP_STAT_drop_tcp_malformed, "not unicast");
        return;
    }
    if (seg.src_port == 0 || seg.dst_port == 0) {
        sp_drop(iface, SP_STAT_drop_tcp_malformed, "port 0");
        return;
    }
    /* SYN with RST has no meaning (and covers the "every flag set" probe): never answered. */
    if ((seg.flags & SP_TCP_SYN) && (seg.flags & SP_TCP_RST)) {
        sp_drop(iface, SP_STAT_drop_tcp_bad_flags, "SYN with RST");
        return;
    }
    bool syn_fin = (seg.flags & SP_TCP_SYN) && (seg.flags & SP_TCP_FIN);
    sp_count(iface, SP_STAT_tcp_rx);
    iface->now = now;
    sp_tcp_enter(tcp);
    tcp->rx_ip = ip;
    tcp->rx_seg = buf;
    tcp->rx_seg_len = len;
    struct sp_tcp *c = sp_tcp_lookup(tcp, ip->src, seg.src_port, seg.dst_port);
    struct sp_tcp_tw *tw = c ? NULL : sp_tcp_tw_lookup(tcp, ip->src, seg.src_port, seg.dst_port);
    /* A new SYN above everything the old incarnation used ends its TIME-WAIT (RFC 9293 3.6.1,
     * as BSD and Linux do): the peer may reuse its port without waiting 2 MSL. */
    if (c && c->state == SP_TCP_TIME_WAIT && seg.flags == SP_TCP_SYN && sp_seq_gt(seg.seq, c->rcv_nxt) &&
        sp_tcp_find_listener(tcp, seg.dst_port)) {
        sp_count(iface, SP_STAT_tcp_time_wait_reused);
        tcp->iss_floor_set = true;
        tcp->iss_floor = c->snd_max;
        sp_tcp_conn_finish(c, 0);
        c = NULL;
    }
    if (syn_fin && (c || tw || sp_tcp_find_listener(tcp, seg.dst_port))) {
        /* A closed port answers it like any segment (RFC 9293 3.10.7.1); a listener or a
         * connection drops it, as Linux does (a scan probe, not a way to open). */
        sp_drop(iface, SP_STAT_drop_tcp_bad_flags, "SYN with FIN");
    } else if (c) {
        sp_tcp_touch(c);
        sp_tcp_conn_input(c, now, &seg);
        if (!c->dead && c->state == SP_TCP_TIME_WAIT && c->app_closed)
            sp_tcp_tw_adopt(c, now);   /* the ACK of the peer's FIN is out: only the pair is left */
    } else if (tw && sp_tcp_tw_input(tcp, tw, now, &seg)) {
        /* answered as TIME-WAIT */
    } else {
        struct sp_tcp *l = sp_tcp_find_listener(tcp, seg.dst_port);
        if (!l) {
            sp_drop(iface, SP_STAT_drop_tcp_no_port, NULL);
            if (!sp_tcp_decide_closed(tcp, now, ip, &seg))
                sp_tcp_send_reset_for(tcp, now, ip, &seg);
        } else if (seg.flags & SP_TCP_RST) {
            /* LISTEN: an incoming RST is ignored. */
        } else if (seg.flags & SP_TCP_ACK) {
            if (!sp_tcp_cookie_ack(l, now, ip, &seg))
                sp_tcp_send_reset_for(tcp, now, ip, &seg);
        } else if (seg.flags & SP_TCP_SYN) {
            sp_tcp_listen_input(l, now, ip, &seg);
        } else {
            sp_drop(iface, SP_STAT_drop_tcp_bad_flags, "no SYN/ACK/RST in LISTEN");
        }
    }
    tcp->rx_ip = NULL;
    tcp->rx_seg = NULL;
    tcp->rx_seg_len = 0;
    tcp->iss_floor_set = false;
    sp_tcp_leave(tcp);
}

void sp_tcp_poll(struct sp_tcp_stack *tcp, sp_time_t now)
{
    tcp->iface->now = now;
    sp_tcp_enter(tcp);
    /* Each due connection leaves the heap as its timers run and is put back (touched) at its next
     * deadline when the stack is left, so none runs twice here. */
    struct sp_tcp *c;
    while ((c = sp_tcp_timers_due(tcp, now)) != NULL) {
        sp_tcp_touch(c);
        sp_tcp_timers(c, now);
    }
    sp_tcp_tw_poll(tcp, now);
    sp_tcp_leave(tcp);
}

sp_time_t sp_tcp_poll_at(const struct sp_tcp_stack *tcp)
{
    if (!tcp)
        return SP_TIME_NEVER;
    return sp_time_min(sp_tcp_timers_next(tcp), sp_tcp_tw_poll_at(tcp));
}
