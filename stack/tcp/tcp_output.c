/* What a connection sends and when: segments within the peer's window and the congestion window
 * (RFC 5681), Nagle (RFC 896), the advertised window, RTO estimation and backoff (RFC 6298),
 * persist probes and the per-connection timers. */
#include <string.h>

#include "tcp_internal.h"

static inline uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static inline uint32_t max32(uint32_t a, uint32_t b) { return a > b ? a : b; }

static uint16_t our_mss(const struct sp_tcp *c)
{
    return (uint16_t)(sp_tcp_iface(c)->mtu - SP_IPV4_MIN_HDR_LEN - SP_TCP_MIN_HDR_LEN);
}

uint32_t sp_tcp_rcv_wnd(const struct sp_tcp *c)
{
    return c->rcv.cap ? sp_tcp_ring_free_space(&c->rcv) : 0;
}

void sp_tcp_init_repr(const struct sp_tcp *c, struct sp_tcp_repr *r, uint32_t seq, uint8_t flags)
{
    memset(r, 0, sizeof *r);
    r->src_port = c->local_port;
    r->dst_port = c->remote_port;
    r->seq = seq;
    r->flags = flags;
    r->wscale = -1;
    if (flags & SP_TCP_ACK)
        r->ack = c->rcv_nxt;
    uint32_t w = sp_tcp_rcv_wnd(c);
    if (!c->rcv.cap && sp_seq_gt(c->rcv_adv, c->rcv_nxt))
        w = c->rcv_adv - c->rcv_nxt; /* buffers given back (TIME-WAIT): don't shrink to zero */
    if (flags & SP_TCP_SYN) {
        r->window = (uint16_t)min32(w, 0xffff);   /* never scaled in a SYN (RFC 7323 2.2) */
    } else {
        uint8_t sh = c->wscale_ok ? c->rcv_wscale : 0;
        r->window = (uint16_t)min32(w >> sh, 0xffff);
    }
}

/* Sends r; any segment with ACK settles the pending acknowledgment and moves our right edge.
 * gso: the most text per wire segment when r's text is more than one segment's (TSO), else 0. */
static void xmit_gso(struct sp_tcp *c, sp_time_t now, struct sp_tcp_repr *r, uint16_t gso)
{
    if (r->flags & SP_TCP_ACK) {
        c->ack_now = false;
        c->ack_at = SP_TIME_NEVER;
        c->unacked_bytes = 0;
        uint8_t sh = (c->wscale_ok && !(r->flags & SP_TCP_SYN)) ? c->rcv_wscale : 0;
        c->rcv_adv = c->rcv_nxt + ((uint32_t)r->window << sh);
    }
    /* Timestamps, then the SACK blocks that fit beside them (tcp_ts.c, tcp_sack.c). */
    sp_tcp_ts_out(c, now, r);
    sp_tcp_sack_out(c, r);
    if (gso && r->payload_len > gso) {
        /* Each wire segment carries the same options: what SACK blocks add beyond the
         * timestamps (which c->mss already allows for) comes off its text. */
        size_t opts = sp_tcp_repr_header_len(r) - SP_TCP_MIN_HDR_LEN;
        size_t room = (size_t)c->mss + (c->ts.ok ? SP_TCP_TS_OPT_LEN : 0);
        gso = opts < room ? (uint16_t)(room - opts < gso ? room - opts : gso) : 0;
    } else {
        gso = 0;
    }
    sp_tcp_emit_gso(c->stack, now, c->local_ip, c->remote_ip, r, !c->pmtu_no_df, gso);
}

static void xmit(struct sp_tcp *c, sp_time_t now, struct sp_tcp_repr *r)
{
    xmit_gso(c, now, r, 0);
}

/* The sequence number of a segment without text: SND.MAX rather than SND.NXT, since after a
 * go-back-N rewind SND.NXT may lie below what the peer already holds and a peer such as Linux
 * ignores a segment that old, ACK field included; but never past the right edge of the peer's
 * window (a zero-window probe byte), which it would ignore just the same. */
static uint32_t ack_seq(const struct sp_tcp *c)
{
    uint32_t wnd_end = c->snd_una + c->snd_wnd;
    return sp_seq_gt(c->snd_max, wnd_end) ? wnd_end : c->snd_max;
}

void sp_tcp_send_ack(struct sp_tcp *c, sp_time_t now)
{
    struct sp_tcp_repr r;
    sp_tcp_init_repr(c, &r, ack_seq(c), SP_TCP_ACK);
    xmit(c, now, &r);
}

void sp_tcp_send_rst(struct sp_tcp *c, sp_time_t now)
{
    /* With ACK, as Linux and the BSDs send it: a peer that checks SEG.ACK on a reset (or a
     * middlebox) accepts it, and RCV.NXT tells the peer how much of its data we had. */
    struct sp_tcp_repr r;
    sp_tcp_init_repr(c, &r, c->snd_nxt, SP_TCP_RST | SP_TCP_ACK);
    r.window = 0;
    xmit(c, now, &r);
}

void sp_tcp_send_ack_at(struct sp_tcp *c, sp_time_t now, uint32_t seq)
{
    struct sp_tcp_repr r;
    sp_tcp_init_repr(c, &r, seq, SP_TCP_ACK);
    xmit(c, now, &r);
}

void sp_tcp_send_ack_window(struct sp_tcp *c, sp_time_t now, uint16_t window)
{
    struct sp_tcp_repr r;
    sp_tcp_init_repr(c, &r, ack_seq(c), SP_TCP_ACK);
    if (window < r.window)
        r.window = window;
    xmit(c, now, &r);
}

void sp_tcp_syn_repr(const struct sp_tcp *c, struct sp_tcp_repr *r)
{
    bool synack = c->state == SP_TCP_SYN_RECEIVED;
    sp_tcp_init_repr(c, r, c->iss, synack ? SP_TCP_SYN | SP_TCP_ACK : SP_TCP_SYN);
    r->mss = our_mss(c);
    if (!synack || c->wscale_ok)
        r->wscale = (int8_t)c->rcv_wscale;
    if (synack && c->syn_custom) {
        /* A decider's SYN-ACK (validated): the same answer on every retransmission. */
        r->window = c->syn_window;
        r->mss = c->syn_mss;
    }
}

void sp_tcp_send_syn(struct sp_tcp *c, sp_time_t now)
{
    struct sp_tcp_repr r;
    sp_tcp_syn_repr(c, &r);
    if (!c->syn_lost)
        c->rtt_start = now;
    c->snd_nxt = c->iss + 1;
    if (sp_seq_lt(c->snd_max, c->snd_nxt))
        c->snd_max = c->snd_nxt;
    if (c->rtx_at == SP_TIME_NEVER)
        c->rtx_at = now + c->rto;
    xmit(c, now, &r);
}

/* One segment of up to len bytes at seq (inside the send buffer), with FIN when it ends there. */
static void send_data(struct sp_tcp *c, sp_time_t now, uint32_t seq, uint32_t len, bool fin)
{
    struct sp_tcp_repr r;
    uint32_t off = seq - c->snd_buf_seq;
    uint8_t flags = SP_TCP_ACK;
    if (fin)
        flags |= SP_TCP_FIN;
    if (len && off + len == c->snd.len)
        flags |= SP_TCP_PSH;
    sp_tcp_init_repr(c, &r, seq, flags);
    if (len) {
        sp_tcp_ring_peek(&c->snd, off, c->stack->seg_buf, len);
        r.payload = c->stack->seg_buf;
        r.payload_len = len;
    }
    if (sp_seq_lt(seq, c->snd_max))
        sp_count(sp_tcp_iface(c), SP_STAT_tcp_retransmit);
    xmit_gso(c, now, &r, len > c->mss ? c->mss : 0);
}

/* The most text one output may carry: an MSS, or with TSO as many whole MSS-sized segments as a
 * super-segment holds (the device cuts it; RFC 9293's per-segment rules apply to those pieces). */
uint32_t sp_tcp_seg_max(const struct sp_tcp *c)
{
    if (!sp_iface_tso(sp_tcp_iface(c)) || c->pmtu_no_df)
        return c->mss;
    return SP_TCP_TSO_MAX / c->mss * c->mss;
}

/* What the windows leave for new data with `flight` octets outstanding: the peer's window counts
 * sequence space, cwnd the octets in the network, where what the peer SACKed no longer is
 * (RFC 6675: pipe). */
static uint32_t usable_window(const struct sp_tcp *c, uint32_t flight)
{
    uint32_t pipe = flight - sp_tcp_sack_held(c);
    uint32_t wroom = c->snd_wnd > flight ? c->snd_wnd - flight : 0;
    return min32(wroom, c->cwnd > pipe ? c->cwnd - pipe : 0);
}

static bool can_send_data(const struct sp_tcp *c)
{
    switch (c->state) {
    case SP_TCP_ESTABLISHED:
    case SP_TCP_CLOSE_WAIT:
    case SP_TCP_FIN_WAIT_1:
    case SP_TCP_CLOSING:
    case SP_TCP_LAST_ACK:
        return true;
    default:
        return false;
    }
}

void sp_tcp_output(struct sp_tcp *c, sp_time_t now)
{
    if (c->dead)
        return;
    if (c->ack_pure) {
        c->ack_pure = false;
        sp_tcp_send_ack(c, now);
    }
    /* In SACK loss recovery, NextSeg() picks what goes (tcp_sack.c). */
    bool sent = sp_tcp_sack_output(c, now);
    while (!c->sack.recovery && can_send_data(c)) {
        sp_tcp_sack_skip(c);   /* go-back-N steps over what the peer SACKed (RFC 6675 5.1) */
        uint32_t off = c->snd_nxt - c->snd_buf_seq;
        uint32_t avail = off <= c->snd.len ? c->snd.len - off : 0;
        uint32_t fin_seq = c->snd_buf_seq + c->snd.len;
        bool fin_left = c->fin_queued && sp_seq_le(c->snd_nxt, fin_seq);
        uint32_t flight = c->snd_nxt - c->snd_una;
        uint32_t usable = usable_window(c, flight);
        if (c->probe && usable == 0 && avail > 0)
            usable = 1;   /* a zero-window probe (RFC 9293 3.8.6.1) */
        uint32_t len = min32(min32(avail, sp_tcp_seg_max(c)), usable);
        if (len > c->mss && len < avail)
            len -= len % c->mss;   /* whole segments: a short one only where the data ends */
        bool fin = fin_left && len == avail;
        if (len < avail && len < c->mss && len < c->max_snd_wnd / 2 && flight > 0 && !c->probe)
            len = 0;      /* sender silly-window avoidance: an ACK will bring a useful window */
        else if (len && len == avail && len < c->mss && !fin && !c->nodelay && flight > 0)
            len = 0;      /* Nagle: one small segment in flight at a time */
        len = sp_tcp_sack_clip(c, c->snd_nxt, len);   /* a hole ends where SACKed octets begin */
        if (len < avail)
            fin = false;
        if (len == 0 && !fin)
            break;
        c->probe = false;
        if (!c->rtt_timing && c->snd_nxt == c->snd_max) {
            c->rtt_timing = true;
            c->rtt_seq = c->snd_nxt + len + fin;
            c->rtt_start = now;
        }
        send_data(c, now, c->snd_nxt, len, fin);
        sent = true;
        c->snd_nxt += len + fin;
        if (sp_seq_gt(c->snd_nxt, c->snd_max))
            c->snd_max = c->snd_nxt;
        if (c->rtx_at == SP_TIME_NEVER)
            c->rtx_at = now + c->rto;
        if (fin)
            break;
    }
    /* Data waits for a window that is shut: the persist timer keeps probing it. */
    if (can_send_data(c) && c->rtx_at == SP_TIME_NEVER && c->snd_wnd == 0 &&
        sp_seq_lt(c->snd_nxt, c->snd_buf_seq + c->snd.len))
        c->rtx_at = now + c->rto;
    if (!sent && c->ack_now)
        sp_tcp_send_ack(c, now);
}

uint32_t sp_tcp_send_at(struct sp_tcp *c, sp_time_t now, uint32_t seq, uint32_t max)
{
    uint32_t off = seq - c->snd_buf_seq;
    uint32_t avail = off <= c->snd.len ? c->snd.len - off : 0;
    uint32_t len = min32(min32(avail, max), c->mss);
    bool fin = c->fin_queued && len == avail && max > len;
    if (len == 0 && !fin)
        return 0;
    if (sp_seq_lt(seq, c->snd_max)) {
        c->rtt_timing = false;   /* Karn: no sample from a retransmitted segment */
    } else if (!c->rtt_timing) {
        c->rtt_timing = true;
        c->rtt_seq = seq + len + fin;
        c->rtt_start = now;
    }
    send_data(c, now, seq, len, fin);
    uint32_t end = seq + len + fin;
    if (sp_seq_gt(end, c->snd_max))
        c->snd_max = end;
    if (sp_seq_gt(end, c->snd_nxt))
        c->snd_nxt = end;
    if (c->rtx_at == SP_TIME_NEVER || seq == c->snd_una)
        c->rtx_at = now + c->rto;
    return len + fin;
}

void sp_tcp_retransmit_first(struct sp_tcp *c, sp_time_t now)
{
    uint32_t off = c->snd_una - c->snd_buf_seq;
    uint32_t avail = off <= c->snd.len ? c->snd.len - off : 0;
    uint32_t len = min32(avail, c->mss);
    bool fin = c->fin_queued && len == avail && sp_seq_lt(c->snd_una + len, c->snd_max);
    if (len == 0 && !fin)
        return;
    c->rtt_timing = false;   /* Karn: no sample from a retransmitted segment */
    send_data(c, now, c->snd_una, len, fin);
    c->rtx_at = now + c->rto;
}

void sp_tcp_rtt_sample(struct sp_tcp *c, uint32_t rtt)
{
    if (c->srtt8 == 0) {
        c->srtt8 = max32(rtt, 1) * 8;
        c->rttvar8 = max32(rtt, 1) * 4;
    } else {
        int32_t delta = (int32_t)(rtt * 8) - (int32_t)c->srtt8;
        int32_t mag = delta < 0 ? -delta : delta;
        c->rttvar8 = (uint32_t)((int32_t)c->rttvar8 + (mag - (int32_t)c->rttvar8) / 4);
        c->srtt8 = (uint32_t)((int32_t)c->srtt8 + delta / 8);
    }
    uint32_t rto = (c->srtt8 + max32(8, 4 * c->rttvar8)) / 8;
    c->rto = min32(max32(rto, SP_TCP_RTO_MIN_MS), SP_TCP_RTO_MAX_MS);
}

void sp_tcp_enter_time_wait(struct sp_tcp *c, sp_time_t now)
{
    c->state = SP_TCP_TIME_WAIT;
    c->rtx_at = SP_TIME_NEVER;
    c->close_at = now + SP_TCP_TIME_WAIT_MS;
    if (c->app_closed) {
        /* Nothing more can be sent or read: give the memory back for the quiet period. */
        sp_tcp_ring_free(&c->snd);
        sp_tcp_ring_free(&c->rcv);
    }
}

static void on_rto(struct sp_tcp *c, sp_time_t now)
{
    c->rtx_at = SP_TIME_NEVER;
    if (c->state == SP_TCP_SYN_SENT || c->state == SP_TCP_SYN_RECEIVED) {
        if (c->retries >= SP_TCP_SYN_RETRIES) {
            if (c->state == SP_TCP_SYN_SENT && !c->app_closed && c->cb.on_connect)
                c->cb.on_connect(c, sp_tcp_timeout_error(c));
            sp_tcp_conn_finish(c, sp_tcp_timeout_error(c));
            return;
        }
        c->retries++;
        c->syn_lost = true;
        c->rto = min32(c->rto * 2, SP_TCP_RTO_MAX_MS);
        sp_count(sp_tcp_iface(c), SP_STAT_tcp_retransmit);
        sp_tcp_send_syn(c, now);
        return;
    }
    if (!can_send_data(c))
        return;
    uint32_t flight = c->snd_max - c->snd_una;
    bool persist = c->snd_wnd == 0 && c->snd.len > 0;
    if (flight == 0 && !persist)
        return;
    if (c->retries >= SP_TCP_MAX_RETRIES) {
        sp_tcp_send_rst(c, now);
        sp_tcp_conn_finish(c, sp_tcp_timeout_error(c));
        return;
    }
    c->retries++;
    if (persist) {
        /* A shut window: probe it with one byte (RFC 9293 3.8.6.1), backing off; every answer
         * resets the retry count, so a live peer that does not read is never given up on. */
        c->rto = min32(c->rto * 2, SP_TCP_RTO_MAX_MS);
        c->snd_nxt = c->snd_una;
        c->probe = true;
        c->rtt_timing = false;
        sp_tcp_output(c, now);
        if (c->rtx_at == SP_TIME_NEVER)
            c->rtx_at = now + c->rto;
        return;
    }
    /* RFC 5681 3.1 eq. 4, then restart from one segment; go back to the first unacked byte. */
    c->ssthresh = max32(flight / 2, 2u * c->mss);
    c->cwnd = c->mss;
    c->in_recovery = false;
    c->recover = c->snd_max;
    c->dupacks = 0;
    sp_tcp_sack_on_rto(c);   /* RFC 6675 5.1 (tcp_sack.c) */
    c->rto = min32(c->rto * 2, SP_TCP_RTO_MAX_MS);
    c->rtt_timing = false;
    c->snd_nxt = c->snd_una;
    sp_tcp_output(c, now);
}

void sp_tcp_timers(struct sp_tcp *c, sp_time_t now)
{
    if (c->dead)
        return;
    if (c->close_at <= now) {
        /* TIME-WAIT over, or an abandoned FIN-WAIT-2 gave up on the peer's FIN. */
        sp_tcp_conn_finish(c, 0);
        return;
    }
    if (c->ack_at <= now) {
        c->ack_at = SP_TIME_NEVER;
        c->ack_now = true;
        sp_tcp_output(c, now);
        if (c->ack_now)
            sp_tcp_send_ack(c, now);
    }
    if (c->rtx_at <= now)
        on_rto(c, now);
    if (!c->dead && sp_tcp_keepalive_at(c) <= now)
        sp_tcp_keepalive_timer(c, now);
}

sp_time_t sp_tcp_conn_poll_at(const struct sp_tcp *c)
{
    if (c->dead)
        return SP_TIME_NEVER;
    return sp_time_min(sp_time_min(c->rtx_at, sp_tcp_keepalive_at(c)), sp_time_min(c->ack_at, c->close_at));
}
