/* Segment arrival for a connection: RFC 9293 3.10.7 step by step (sequence check, RST, SYN, ACK,
 * text, FIN) with the RFC 5961 checks against blind resets and injection. */
#include "tcp_internal.h"

static inline uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static inline uint32_t max32(uint32_t a, uint32_t b) { return a > b ? a : b; }

static bool seq_in(uint32_t s, uint32_t lo, uint32_t hi_excl)
{
    return sp_seq_le(lo, s) && sp_seq_lt(s, hi_excl);
}

/* <SEQ=SEG.ACK><CTL=RST>: the reset for one segment of the peer's (RFC 9293 3.10.7). */
static void reset_seg_ack(struct sp_tcp *c, sp_time_t now, const struct sp_tcp_repr *seg)
{
    struct sp_tcp_repr r = {.src_port = c->local_port, .dst_port = c->remote_port,
                            .seq = seg->ack, .flags = SP_TCP_RST, .wscale = -1};
    sp_tcp_emit(c->stack, now, c->local_ip, c->remote_ip, &r);
}

void sp_tcp_take_syn_options(struct sp_tcp *c, const struct sp_tcp_repr *seg)
{
    uint16_t ours = (uint16_t)(sp_tcp_iface(c)->mtu - SP_IPV4_MIN_HDR_LEN - SP_TCP_MIN_HDR_LEN);
    uint16_t theirs = seg->mss ? seg->mss : SP_TCP_DEFAULT_MSS;
    c->mss = theirs < ours ? theirs : ours;
    if (c->mss < 64)
        c->mss = 64;   /* a silly MSS would only multiply our segments */
    if (seg->wscale >= 0) {
        c->wscale_ok = true;
        c->snd_wscale = (uint8_t)seg->wscale;
    } else {
        c->wscale_ok = false;
        c->snd_wscale = 0;
        c->rcv_wscale = 0;
    }
    c->irs = seg->seq;
    c->rcv_nxt = seg->seq + 1;
    c->rcv_adv = c->rcv_nxt;
    c->snd_wnd = seg->window;           /* a SYN's window is never scaled */
    c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = seg->seq;
    /* SACK and timestamps (tcp_sack.c, tcp_ts.c): used when both SYNs carry them. */
    sp_tcp_sack_take_syn(c, seg);
    sp_tcp_ts_take_syn(c, seg);
}

struct sp_tcp *sp_tcp_embryo_new(struct sp_tcp *l, const struct sp_ipv4_repr *ip, const struct sp_tcp_repr *seg)
{
    struct sp_tcp *c = sp_tcp_conn_new(l->stack, ip->src, seg->src_port, l->local_port, l->rcvbuf, l->sndbuf);
    if (!c) {
        sp_drop(l->stack->iface, SP_STAT_drop_tcp_table_full, "no connection slot");
        return NULL;
    }
    c->passive = true;
    c->listener = l;
    c->nodelay = l->nodelay;
    sp_tcp_keepalive_inherit(c, l);
    l->pending++;
    c->state = SP_TCP_SYN_RECEIVED;
    sp_tcp_take_syn_options(c, seg);
    c->snd_wl2 = c->iss;
    sp_tcp_syn_text_queue(c, seg);   /* RFC 9293 3.10.7.2: for after ESTABLISHED */
    return c;
}

void sp_tcp_listen_input(struct sp_tcp *l, sp_time_t now, const struct sp_ipv4_repr *ip, const struct sp_tcp_repr *seg)
{
    struct sp_iface *iface = l->stack->iface;
    if (l->pending >= l->backlog) {
        sp_tcp_backlog_full(l, now, ip, seg);   /* a SYN cookie, or a drop (tcp_syncookie.c) */
        return;
    }
    if (!sp_decision_is_native(iface, SP_DECISION_TCP)) {
        sp_tcp_decide_syn(l, now, ip, seg);
        return;
    }
    struct sp_tcp *c = sp_tcp_embryo_new(l, ip, seg);
    if (c)
        sp_tcp_send_syn(c, now);
}

static void start_window(struct sp_tcp *c)
{
    c->cwnd = min32(SP_TCP_INITIAL_CWND_SEGS * (uint32_t)c->mss, max32(2u * c->mss, 14600));
    c->retries = 0;
    if (c->syn_lost && c->srtt8 == 0)
        c->rto = SP_TCP_RTO_AFTER_SYN_LOSS_MS;
}

/* A synchronized state is reached: tell the application. False when the connection is gone. */
static bool established(struct sp_tcp *c)
{
    c->state = SP_TCP_ESTABLISHED;
    sp_count(sp_tcp_iface(c), SP_STAT_tcp_conn_opened);
    if (c->fin_queued)
        c->state = SP_TCP_FIN_WAIT_1;
    if (c->passive) {
        struct sp_tcp *l = c->listener;
        c->listener = NULL;
        if (l && l->pending)
            l->pending--;
        if (!l || !l->accept_cb) {
            sp_tcp_send_rst(c, sp_tcp_iface(c)->now);
            sp_tcp_conn_finish(c, SP_ECONNRESET);
            return false;
        }
        l->accept_cb(l, c);
    } else if (c->cb.on_connect && !c->app_closed) {
        c->cb.on_connect(c, 0);
    }
    return !c->dead;
}

static void syn_sent_input(struct sp_tcp *c, sp_time_t now, const struct sp_tcp_repr *seg)
{
    bool has_ack = seg->flags & SP_TCP_ACK;
    if (has_ack && (sp_seq_le(seg->ack, c->iss) || sp_seq_gt(seg->ack, c->snd_max))) {
        if (!(seg->flags & SP_TCP_RST))
            reset_seg_ack(c, now, seg);
        sp_drop(sp_tcp_iface(c), SP_STAT_drop_tcp_out_of_window, "SYN-SENT: bad ACK");
        return;
    }
    if (seg->flags & SP_TCP_RST) {
        if (!has_ack) {
            sp_drop(sp_tcp_iface(c), SP_STAT_drop_tcp_out_of_window, "SYN-SENT: RST without ACK");
            return;
        }
        if (c->cb.on_connect && !c->app_closed)
            c->cb.on_connect(c, SP_ECONNREFUSED);
        sp_tcp_conn_finish(c, SP_ECONNREFUSED);
        return;
    }
    if (!(seg->flags & SP_TCP_SYN)) {
        sp_drop(sp_tcp_iface(c), SP_STAT_drop_tcp_bad_flags, "SYN-SENT: no SYN");
        return;
    }
    if (c->deciding || (has_ack && !sp_decision_is_native(sp_tcp_iface(c), SP_DECISION_TCP))) {
        sp_tcp_decide_syn_ack(c, now, seg);
        return;
    }
    if (!has_ack) {
        /* Simultaneous open (RFC 9293 figure 7). */
        sp_tcp_take_syn_options(c, seg);
        sp_tcp_syn_text_queue(c, seg);   /* RFC 9293 3.10.7.3: for after ESTABLISHED */
        c->state = SP_TCP_SYN_RECEIVED;
        c->rtx_at = SP_TIME_NEVER;
        sp_tcp_send_syn(c, now);
        return;
    }
    sp_tcp_syn_sent_accept(c, now, now, seg, -1);
}

void sp_tcp_syn_sent_accept(struct sp_tcp *c, sp_time_t now, sp_time_t arrived, const struct sp_tcp_repr *seg,
                            long ack_window)
{
    sp_tcp_take_syn_options(c, seg);
    sp_tcp_keepalive_heard(c, now);
    if (!c->syn_lost)
        sp_tcp_rtt_sample(c, (uint32_t)(arrived - c->rtt_start));
    c->rtt_timing = false;
    c->snd_una = seg->ack;
    c->snd_wl2 = seg->ack;
    c->rtx_at = SP_TIME_NEVER;
    start_window(c);
    c->ack_now = true;
    sp_tcp_syn_text_queue(c, seg);
    if (!established(c))
        return;
    if (ack_window >= 0 && c->ack_now)
        sp_tcp_send_ack_window(c, now, (uint16_t)ack_window);
    /* RFC 9293 3.10.7.3: the SYN-ACK's text is processed in ESTABLISHED ("sixth step"), after
     * the ACK a decider proposed, which acknowledges the SYN only. */
    if (sp_tcp_syn_text_deliver(c) && !c->app_closed && c->cb.on_readable) {
        c->cb.on_readable(c);
        if (c->dead)
            return;
    }
    sp_tcp_output(c, now);
}

/* Rate-limited so that a blind attacker cannot turn us into an ACK cannon (RFC 5961 7). */
static void challenge_ack(struct sp_tcp *c, sp_time_t now)
{
    struct sp_tcp_stack *tcp = c->stack;
    if (now / 1000 != tcp->challenge_second) {
        tcp->challenge_second = now / 1000;
        tcp->challenge_count = 0;
    }
    if (tcp->challenge_count >= SP_TCP_CHALLENGE_ACKS_PER_S) {
        sp_count(sp_tcp_iface(c), SP_STAT_tcp_challenge_ack_limited);
        return;
    }
    tcp->challenge_count++;
    sp_count(sp_tcp_iface(c), SP_STAT_tcp_challenge_ack);
    sp_tcp_send_ack(c, now);
}

static bool fin_acked(const struct sp_tcp *c)
{
    return c->fin_queued && c->snd_una == c->snd_buf_seq + c->snd.len + 1;
}

/* SEG.ACK acknowledges new data: free it, sample the RTT, grow the congestion window. */
static void new_ack(struct sp_tcp *c, sp_time_t now, uint32_t ack, bool *writable)
{
    uint32_t acked = ack - c->snd_una;
    if (c->rtt_timing && sp_seq_ge(ack, c->rtt_seq)) {
        c->rtt_timing = false;
        sp_tcp_rtt_sample(c, (uint32_t)(now - c->rtt_start));
    }
    if (sp_seq_gt(ack, c->snd_buf_seq)) {
        uint32_t n = min32(ack - c->snd_buf_seq, c->snd.len);
        if (n) {
            sp_tcp_ring_consume(&c->snd, n);
            c->snd_buf_seq += n;
            *writable = true;
        }
    }
    c->snd_una = ack;
    c->soft_err = 0;        /* the path works again (tcp_icmp.c) */
    if (fin_acked(c))
        *writable = true;   /* the application may be waiting for its FIN to be delivered */
    if (sp_seq_lt(c->snd_nxt, ack))
        c->snd_nxt = ack;   /* after a go-back-N, the peer had more than we resent */
    c->retries = 0;
    uint32_t flight = c->snd_max - c->snd_una;
    if (sp_tcp_sack_new_ack(c)) {
        /* SACK loss recovery (tcp_sack.c, RFC 6675) holds the window. */
    } else if (c->in_recovery) {
        if (sp_seq_ge(ack, c->recover)) {
            c->in_recovery = false;
            c->cwnd = min32(c->ssthresh, flight + c->mss);
        } else {
            /* A partial ACK (RFC 6582 3.2): the next hole is lost too. */
            sp_tcp_retransmit_first(c, now);
            c->cwnd = c->cwnd > acked ? c->cwnd - acked + c->mss : c->mss;
        }
    } else {
        /* Byte counting (RFC 3465) with L, the most one ACK may add in slow start, one
         * segment as RFC 5681 3.1 has it, or with TSO one super-segment: our bursts are whole
         * super-segments then, and a receiver that coalesces them (GRO) acknowledges each with
         * one stretch ACK, which at one MSS per ACK would leave the window crawling. In
         * congestion avoidance, one MSS per window of acknowledged bytes. */
        if (c->cwnd < c->ssthresh)
            c->cwnd += min32(acked, sp_tcp_seg_max(c));
        else
            c->cwnd += max32(1, (uint32_t)((uint64_t)c->mss * max32(acked, c->mss) / c->cwnd));
        if (sp_seq_gt(c->snd_una, c->recover))
            c->recover = c->snd_una;
    }
    c->dupacks = 0;
    c->rtx_at = c->snd_una == c->snd_max ? SP_TIME_NEVER : now + c->rto;
}

static void dup_ack(struct sp_tcp *c, sp_time_t now)
{
    if (++c->dupacks == 3 && !c->in_recovery && sp_seq_ge(c->snd_una, c->recover)) {
        uint32_t flight = c->snd_max - c->snd_una;
        c->ssthresh = max32(flight / 2, 2u * c->mss);
        c->recover = c->snd_max;
        c->in_recovery = true;
        sp_count(sp_tcp_iface(c), SP_STAT_tcp_fast_retransmit);
        sp_tcp_retransmit_first(c, now);
        c->cwnd = c->ssthresh + 3u * c->mss;
    } else if (c->dupacks > 3 && c->in_recovery) {
        c->cwnd += c->mss;
    }
}

static void process_fin(struct sp_tcp *c, sp_time_t now)
{
    c->rcv_nxt++;
    c->rfin = true;
    c->rfin_ooo = false;
    c->ooo.n = 0;           /* anything kept beyond the FIN was never part of the stream */
    c->ack_now = true;
    switch (c->state) {
    case SP_TCP_ESTABLISHED:
        c->state = SP_TCP_CLOSE_WAIT;
        break;
    case SP_TCP_FIN_WAIT_1:
        if (fin_acked(c))
            sp_tcp_enter_time_wait(c, now);
        else
            c->state = SP_TCP_CLOSING;
        break;
    case SP_TCP_FIN_WAIT_2:
        sp_tcp_enter_time_wait(c, now);
        break;
    default:
        break;
    }
}

/* Text in sequence order goes to the application, ahead of a gap into the assembler. */
static bool take_text(struct sp_tcp *c, uint32_t seq, const uint8_t *data, uint32_t n)
{
    uint32_t off = seq - c->rcv_nxt;
    if (off == 0) {
        if (sp_tcp_rcv_reserve(c, n) < 0)
            return false;
        sp_tcp_ring_write_at(&c->rcv, 0, data, n);
        sp_tcp_ring_commit(&c->rcv, n);
        c->rcv_nxt += n;
        c->unacked_bytes += n;
        if (c->ooo.n) {
            uint32_t to = sp_tcp_ooo_advance(&c->ooo, c->rcv_nxt);
            sp_tcp_ring_commit(&c->rcv, to - c->rcv_nxt);
            c->rcv_nxt = to;
            c->ack_now = true;   /* a gap was filled: tell the sender at once (RFC 5681 4.2) */
        }
        return true;
    }
    c->ack_now = true;           /* out of order: a duplicate ACK drives fast retransmit */
    c->ack_pure = true;
    if (sp_tcp_rcv_reserve(c, off + n) < 0)
        return false;
    sp_tcp_sack_rcv_ooo(c, seq, n);   /* reported first in that ACK (tcp_sack.c) */
    if (!sp_tcp_ooo_add(&c->ooo, seq, seq + n)) {
        sp_drop(sp_tcp_iface(c), SP_STAT_drop_tcp_ooo_full, NULL);
        return false;
    }
    sp_tcp_ring_write_at(&c->rcv, off, data, n);
    return false;
}

void sp_tcp_conn_input(struct sp_tcp *c, sp_time_t now, const struct sp_tcp_repr *seg)
{
    struct sp_iface *iface = sp_tcp_iface(c);
    if (c->state == SP_TCP_SYN_SENT) {
        syn_sent_input(c, now, seg);
        return;
    }
    uint8_t flags = seg->flags;
    bool syn = flags & SP_TCP_SYN, fin = flags & SP_TCP_FIN;
    if (c->state == SP_TCP_SYN_RECEIVED) {
        /* Our SYN-ACK is still with a decider: the peer has heard nothing from us yet. */
        if (c->deciding) {
            sp_tcp_decide_parked_input(c, now, seg);
            return;
        }
        /* A retransmitted SYN: our SYN-ACK was lost. */
        if (syn && !(flags & SP_TCP_ACK) && seg->seq == c->irs) {
            sp_count(iface, SP_STAT_tcp_retransmit);
            sp_tcp_send_syn(c, now);
            return;
        }
    }

    /* Timestamps (tcp_ts.c): a segment without one, or an old duplicate (PAWS), goes no
     * further (RFC 7323 3.2, 5.3 R1). */
    if (!sp_tcp_ts_accept(c, now, seg))
        return;

    /* First: is the segment acceptable (RFC 9293 3.10.7.4, the four cases)? RCV.WND is the
     * window we advertised: while the application has not read, the buffer may have less room
     * than that, yet the peer may rightly send up to the edge we gave it (text is trimmed to the
     * room below). A segment without text exactly at that edge is acceptable too, as in Linux:
     * a sender that filled our window sends its ACKs from there, and refusing them deadlocks
     * both sides once a segment before the edge is lost. */
    uint32_t wnd = sp_tcp_rcv_wnd(c);
    uint32_t adv = sp_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    uint32_t acc = wnd > adv ? wnd : adv;
    uint32_t seq = seg->seq;
    uint32_t seg_len = (uint32_t)seg->payload_len + syn + fin;
    bool ok;
    if (seg_len == 0)
        ok = acc == 0 ? seq == c->rcv_nxt : seq_in(seq, c->rcv_nxt, c->rcv_nxt + acc + 1);
    else
        ok = acc > 0 && (seq_in(seq, c->rcv_nxt, c->rcv_nxt + acc) ||
                         seq_in(seq + seg_len - 1, c->rcv_nxt, c->rcv_nxt + acc));
    /* A zero window still takes ACKs and RSTs at RCV.NXT (the text is trimmed below). */
    if (!ok && acc == 0 && seq == c->rcv_nxt)
        ok = true;
    if (!ok) {
        if (!(flags & SP_TCP_RST)) {
            if (c->state == SP_TCP_TIME_WAIT && fin)
                c->close_at = now + SP_TCP_TIME_WAIT_MS;   /* the peer lost our last ACK */
            sp_tcp_sack_rcv_dup(c, seq, (uint32_t)seg->payload_len);   /* a D-SACK in that ACK */
            sp_tcp_send_ack(c, now);
        }
        sp_drop(iface, SP_STAT_drop_tcp_out_of_window, NULL);
        return;
    }
    sp_tcp_ts_update_recent(c, now, seg);   /* RFC 7323 4.3 (tcp_ts.c) */
    sp_tcp_keepalive_heard(c, now);

    /* Second: RST. Only an exact RCV.NXT resets; elsewhere in the window: challenge (RFC 5961 3.2). */
    if (flags & SP_TCP_RST) {
        if (seq != c->rcv_nxt) {
            challenge_ack(c, now);
            return;
        }
        if (c->state == SP_TCP_TIME_WAIT) {
            /* RFC 1337: a reset must not end TIME-WAIT early (see tcp_timewait.c). */
            sp_drop(iface, SP_STAT_drop_tcp_time_wait_rst, NULL);
            return;
        }
        if (c->state == SP_TCP_SYN_RECEIVED && !c->passive && c->cb.on_connect && !c->app_closed)
            c->cb.on_connect(c, SP_ECONNREFUSED);
        int status = c->state == SP_TCP_SYN_RECEIVED && !c->passive ? SP_ECONNREFUSED : SP_ECONNRESET;
        sp_tcp_conn_finish(c, status);
        return;
    }

    /* Trim what lies before RCV.NXT or beyond the window. */
    const uint8_t *data = seg->payload;
    uint32_t n = (uint32_t)seg->payload_len;
    sp_tcp_sack_rcv_dup(c, seq + syn, n);   /* text we had already: a D-SACK (tcp_sack.c) */
    if (sp_seq_lt(seq, c->rcv_nxt)) {
        uint32_t cut = c->rcv_nxt - seq;
        if (syn) {
            cut--;
            seq++;
        }
        uint32_t skip = min32(cut, n);
        data += skip;
        n -= skip;
        seq += skip;
        if (cut > skip)
            fin = false;   /* an old FIN */
        c->ack_now = true;  /* a duplicate: acknowledge at once */
    }
    if (sp_seq_gt(seq + n, c->rcv_nxt + wnd)) {
        n = sp_seq_gt(seq, c->rcv_nxt + wnd) ? 0 : c->rcv_nxt + wnd - seq;
        fin = false;
        c->ack_now = true;
    }

    /* Fourth: a SYN in a synchronized state only earns a challenge ACK (RFC 5961 4.2). */
    if (syn) {
        challenge_ack(c, now);
        return;
    }

    /* Fifth: ACK. */
    if (!(flags & SP_TCP_ACK)) {
        sp_drop(iface, SP_STAT_drop_tcp_bad_flags, "no ACK");
        return;
    }
    bool writable = false;
    if (c->state == SP_TCP_SYN_RECEIVED) {
        if (!(sp_seq_lt(c->snd_una, seg->ack) && sp_seq_le(seg->ack, c->snd_max))) {
            reset_seg_ack(c, now, seg);
            return;
        }
        if (!c->syn_lost && !c->syncookie)
            sp_tcp_rtt_sample(c, (uint32_t)(now - c->rtt_start));
        c->snd_una = seg->ack;
        c->rtx_at = SP_TIME_NEVER;
        c->snd_wnd = (uint32_t)seg->window << c->snd_wscale;
        c->max_snd_wnd = max32(c->max_snd_wnd, c->snd_wnd);
        c->snd_wl1 = seg->seq;
        c->snd_wl2 = seg->ack;
        start_window(c);
        if (!established(c))
            return;
    }
    if (sp_seq_gt(seg->ack, c->snd_max)) {
        sp_tcp_send_ack(c, now);   /* acknowledges something not yet sent */
        sp_drop(iface, SP_STAT_drop_tcp_out_of_window, "ACK of unsent data");
        return;
    }
    if (sp_seq_lt(seg->ack, c->snd_una - max32(c->max_snd_wnd, 1))) {
        challenge_ack(c, now);   /* too old to be a straggler (RFC 5961 5.2) */
        return;
    }
    uint32_t new_wnd = (uint32_t)seg->window << (c->wscale_ok ? c->snd_wscale : 0);
    bool dup = seg->ack == c->snd_una && seg->payload_len == 0 && !(flags & SP_TCP_FIN) &&
               new_wnd == c->snd_wnd && new_wnd > 0 && c->snd_max != c->snd_una;
    /* SACK (tcp_sack.c): the scoreboard, and RFC 6675's duplicate ACKs instead of dup_ack(). */
    bool sack_dup = sp_tcp_sack_ack(c, seg, dup);
    if (sp_seq_gt(seg->ack, c->snd_una)) {
        sp_tcp_ts_ack(c, now, seg);   /* an RTT sample from the echo (tcp_ts.c) */
        new_ack(c, now, seg->ack, &writable);
    } else if (dup && !c->sack.ok) {
        dup_ack(c, now);
    }
    if (sack_dup)
        sp_tcp_sack_dupack(c, now);
    if (sp_seq_lt(c->snd_wl1, seg->seq) || (c->snd_wl1 == seg->seq && sp_seq_le(c->snd_wl2, seg->ack))) {
        if (c->snd_wnd == 0 && new_wnd > 0 && sp_seq_gt(c->snd_nxt, c->snd_una)) {
            /* The window opens: a probe byte it did not take is resent as ordinary data. */
            c->snd_nxt = c->snd_una;
            c->rtx_at = SP_TIME_NEVER;
            c->rtt_timing = false;
        }
        c->snd_wnd = new_wnd;
        c->snd_wl1 = seg->seq;
        c->snd_wl2 = seg->ack;
        c->max_snd_wnd = max32(c->max_snd_wnd, new_wnd);
        if (new_wnd > 0 && c->snd_una == c->snd_max && c->rtx_at != SP_TIME_NEVER)
            c->rtx_at = SP_TIME_NEVER;   /* the window opened: no more probing */
    }
    if (c->snd_wnd == 0)
        c->retries = 0;   /* a peer answering our probes is alive, however long it keeps shut */
    switch (c->state) {
    case SP_TCP_FIN_WAIT_1:
        if (fin_acked(c)) {
            c->state = SP_TCP_FIN_WAIT_2;
            if (c->app_closed)
                c->close_at = now + SP_TCP_FIN_WAIT_2_TIMEOUT_MS;
        }
        break;
    case SP_TCP_CLOSING:
        if (fin_acked(c))
            sp_tcp_enter_time_wait(c, now);
        break;
    case SP_TCP_LAST_ACK:
        if (fin_acked(c)) {
            sp_tcp_conn_finish(c, 0);
            return;
        }
        break;
    default:
        break;
    }

    /* Seventh: text, in ESTABLISHED and FIN-WAIT only (later the peer has sent its FIN). */
    bool readable = false;
    bool text_state = c->state == SP_TCP_ESTABLISHED || c->state == SP_TCP_FIN_WAIT_1 ||
                      c->state == SP_TCP_FIN_WAIT_2;
    if (n > 0 && text_state && c->app_closed) {
        /* New data after CLOSE can never be read: the peer must learn it was lost
         * (RFC 1122 4.2.2.13, as Linux and the BSDs do), and the connection ends. */
        reset_seg_ack(c, now, seg);
        sp_tcp_conn_finish(c, SP_ECONNRESET);
        return;
    }
    if (n > 0 && text_state)
        readable = take_text(c, seq, data, n);
    if (text_state && sp_tcp_syn_text_deliver(c))
        readable = true;   /* a SYN's text, kept until ESTABLISHED (tcp_syntext.c) */
    /* Eighth: FIN, once everything before it is here. */
    if (fin && text_state) {
        if (seq + n == c->rcv_nxt) {
            process_fin(c, now);
            readable = true;
        } else {
            c->rfin_ooo = true;
            c->rfin_seq = seq + n;
            c->ack_now = true;
        }
    } else if (c->rfin_ooo && c->rcv_nxt == c->rfin_seq && text_state) {
        process_fin(c, now);
        readable = true;
    }
    if (c->state == SP_TCP_TIME_WAIT && fin)
        c->close_at = now + SP_TCP_TIME_WAIT_MS;
    /* Delayed ACK: at once when more than a full segment's worth is unacknowledged (so at least
     * every second full-sized segment, RFC 5681 4.2, and sooner for smaller ones, as Linux
     * does), otherwise within SP_TCP_DELACK_MS. */
    if (!c->ack_now && c->unacked_bytes) {
        uint32_t full = (uint32_t)(iface->mtu - SP_IPV4_MIN_HDR_LEN - SP_TCP_MIN_HDR_LEN);
        /* ... and at once when the window left is under a segment: the peer is stalled. */
        if (c->unacked_bytes > full || sp_tcp_rcv_wnd(c) < full)
            c->ack_now = true;
        else if (c->ack_at == SP_TIME_NEVER)
            c->ack_at = now + SP_TCP_DELACK_MS;
    }

    if (!c->app_closed) {
        if (readable && c->cb.on_readable)
            c->cb.on_readable(c);
        if (writable && !c->dead && c->cb.on_writable)
            c->cb.on_writable(c);
    }
    sp_tcp_output_later(c, now);
}
