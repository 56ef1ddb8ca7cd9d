/* ICMP errors about our segments: which connection one concerns, and what it does to it (RFC 1122
 * 4.2.3.9, RFC 5927), with path MTU discovery (RFC 1191).
 *
 * Checks. icmp.c has made sure the error quotes a datagram from our address. Here the quoted
 * addresses and ports must name a connection, and the quoted sequence number must lie in what
 * that connection has in flight, SND.UNA <= SEG.SEQ < SND.MAX (RFC 5927 4.1): a blind attacker
 * then has to guess it, as it would for a reset (RFC 5961). Anything else is dropped, counted.
 *
 * Reaction, by what the error says and the connection's state:
 *   - Fragmentation Needed (destination unreachable, code 4): the path MTU comes down to the
 *     next-hop MTU, and what is in flight goes again in smaller segments (pmtu_lower).
 *   - Not yet synchronized (SYN-SENT, SYN-RECEIVED): any other error ends the open; an active
 *     one reports it through on_connect. For protocol and port unreachable that is RFC 1122's
 *     hard error. For the soft ones (network and host unreachable, time exceeded, ...) RFC 1122
 *     says TCP MUST NOT abort; this is the departure RFC 5461 documents as widely deployed, and
 *     only while opening: a host a router cannot reach will not answer the SYN's retries either,
 *     and failing at once lets the application try its next address. A passive open ends quietly
 *     and gives its backlog slot back, which also sheds the half-open connections of SYNs from
 *     forged addresses that routers cannot reach (Linux drops its SYN-RECEIVED requests too).
 *   - Synchronized: every error is soft. RFC 1122 4.2.3.9 asks that of codes 0, 1, 5, time
 *     exceeded and parameter problem; for the hard codes it is RFC 5927's counter-measure against
 *     blind connection resets, as Linux and the BSDs do. The error is kept as the connection's soft
 *     error (sp_tcp_get_soft_error), reported by on_close instead of SP_ETIMEDOUT if the connection
 *     later times out, and forgotten when the peer acknowledges new data (tcp_input.c).
 *   - Source quench is ignored (RFC 6633), redirects are not TCP's (RFC 1122 3.2.2.2), and codes
 *     this file does not know are dropped. */
#include "tcp_internal.h"

enum icmp_class { ICMP_IGNORE, ICMP_PMTU, ICMP_SOFT, ICMP_HARD };

static enum icmp_class classify(uint8_t type, uint8_t code)
{
    switch (type) {
    case SP_ICMP_DEST_UNREACH:
        if (code == SP_ICMP_UNREACH_FRAG_NEEDED)
            return ICMP_PMTU;
        if (code == SP_ICMP_UNREACH_PROTOCOL || code == SP_ICMP_UNREACH_PORT)
            return ICMP_HARD;
        return code <= 15 ? ICMP_SOFT : ICMP_IGNORE;   /* 0-15: RFC 792, RFC 1122, RFC 1812 */
    case SP_ICMP_TIME_EXCEEDED:
        return code <= 1 ? ICMP_SOFT : ICMP_IGNORE;
    case SP_ICMP_PARAM_PROBLEM:
        return ICMP_SOFT;
    default:
        return ICMP_IGNORE;
    }
}

/* What the application hears, as the BSDs map it: the peer's host has no TCP or nothing on the
 * port (refused), a router cannot get there (no route), the header was not understood. */
static int icmp_error_code(uint8_t type, uint8_t code)
{
    if (type == SP_ICMP_DEST_UNREACH && (code == SP_ICMP_UNREACH_PROTOCOL || code == SP_ICMP_UNREACH_PORT))
        return SP_ECONNREFUSED;
    if (type == SP_ICMP_PARAM_PROBLEM)
        return SP_EMALFORMED;
    return SP_ENOROUTE;
}

static bool synchronized(const struct sp_tcp *c)
{
    return c->state != SP_TCP_SYN_SENT && c->state != SP_TCP_SYN_RECEIVED;
}

static uint16_t path_mtu(const struct sp_tcp *c) { return c->pmtu ? c->pmtu : sp_tcp_iface(c)->mtu; }

/* A router older than RFC 1191 gives no next-hop MTU: the guess is the largest plateau of RFC 1191
 * table 7-1 below the quoted datagram's length (RFC 1191 5). Routers derived from 4.2BSD return
 * that length with the header's length added, so a length not below the path MTU we used is
 * taken to be one of those and corrected. */
static uint16_t plateau_guess(const struct sp_tcp *c, const struct sp_icmp_quote *q)
{
    static const uint16_t plateaus[] = {32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68};
    uint32_t len = q->total_len;
    if (len >= path_mtu(c) && len > q->hdr_len)
        len -= q->hdr_len;
    for (size_t i = 0; i < sizeof plateaus / sizeof plateaus[0]; i++)
        if (plateaus[i] < len)
            return plateaus[i];
    return 68;
}

/* The segment was dropped, so what is in flight goes again at once, in segments of the new size.
 * RFC 1191 6.4: such a retransmission "should not change the congestion window" but "trigger the
 * slow-start mechanism (i.e., only one segment should be retransmitted until acknowledgements
 * begin to arrive again)": one segment now, ssthresh keeping (at least) the window we had, so
 * that slow start climbs back to it as the ACKs come. */
static void resend_smaller(struct sp_tcp *c, sp_time_t now)
{
    if (c->snd_una == c->snd_max)
        return;
    if (c->ssthresh < c->cwnd)
        c->ssthresh = c->cwnd;
    c->cwnd = c->mss;
    c->in_recovery = false;
    c->recover = c->snd_max;
    c->dupacks = 0;
    c->rtt_timing = false;         /* Karn: no sample from what goes again */
    c->snd_nxt = c->snd_una;
    c->rtx_at = SP_TIME_NEVER;     /* restarted by the output for the resent segment */
    sp_tcp_output(c, now);
}

/* Fragmentation Needed: the next-hop MTU (or a plateau) becomes the path MTU when it is lower.
 * Never raised by ICMP (RFC 1191 3), never below SP_TCP_PMTU_MIN: a narrower path gets datagrams
 * of that size without DF, for routers to fragment, rather than none at all. Only a message that
 * lowers the MTU our segments went out with leads to a retransmission: a burst of oversized
 * segments brings one message each, and resending for every one of them would multiply the
 * segments sent (RFC 1191 6.4). */
static void pmtu_lower(struct sp_tcp *c, sp_time_t now, const struct sp_icmp_repr *icmp,
                       const struct sp_icmp_quote *q)
{
    struct sp_iface *iface = sp_tcp_iface(c);
    if (!synchronized(c)) {
        sp_drop(iface, SP_STAT_drop_tcp_icmp_pmtu, "Fragmentation Needed about a SYN");
        return;
    }
    uint16_t mtu = icmp->mtu ? icmp->mtu : plateau_guess(c, q);
    bool narrow = mtu < SP_TCP_PMTU_MIN;
    if (narrow)
        mtu = SP_TCP_PMTU_MIN;
    bool lower = mtu < path_mtu(c), no_df = narrow && !c->pmtu_no_df;
    if (!lower && !no_df) {
        sp_drop(iface, SP_STAT_drop_tcp_icmp_pmtu, "not below the path MTU");
        return;
    }
    if (lower)
        c->pmtu = mtu;
    if (narrow)
        c->pmtu_no_df = true;
    sp_count(iface, SP_STAT_tcp_pmtu_lowered);
    uint16_t mss = (uint16_t)(path_mtu(c) - SP_IPV4_MIN_HDR_LEN - SP_TCP_MIN_HDR_LEN);
    if (c->ts.ok)   /* every segment carries the timestamp option (RFC 6691), as tcp_ts.c counts */
        mss = (uint16_t)(mss - SP_TCP_TS_OPT_LEN);
    bool smaller = mss < c->mss;
    if (smaller)
        c->mss = mss;
    sp_log(iface, SP_LOG_DEBUG, "tcp %u: path MTU %u, MSS %u%s", c->local_port, path_mtu(c), c->mss,
           c->pmtu_no_df ? " (without DF)" : "");
    /* Datagrams that were not too big for the path were not dropped, so nothing to resend: what
     * changed is the DF bit, or an MTU no smaller than our segments already were. */
    if (smaller)
        resend_smaller(c, now);
}

/* An open that will not complete: the application hears why, then the connection is gone. */
static void abort_open(struct sp_tcp *c, int err)
{
    sp_count(sp_tcp_iface(c), SP_STAT_tcp_icmp_aborted);
    if (!c->passive && c->cb.on_connect && !c->app_closed)
        c->cb.on_connect(c, err);
    sp_tcp_conn_finish(c, err);
}

static void react(struct sp_tcp *c, sp_time_t now, const struct sp_icmp_repr *icmp, const struct sp_icmp_quote *q)
{
    struct sp_iface *iface = sp_tcp_iface(c);
    enum icmp_class cls = classify(icmp->type, icmp->code);
    int err = icmp_error_code(icmp->type, icmp->code);
    switch (cls) {
    case ICMP_IGNORE:
        sp_drop(iface, SP_STAT_drop_tcp_icmp_ignored, NULL);
        return;
    case ICMP_PMTU:
        pmtu_lower(c, now, icmp, q);
        return;
    case ICMP_HARD:
    case ICMP_SOFT:
        break;
    }
    if (!synchronized(c)) {
        abort_open(c, err);
        return;
    }
    c->soft_err = err;
    sp_count(iface, SP_STAT_tcp_icmp_soft_error);
}

static bool seq_in_flight(const struct sp_tcp *c, uint32_t seq)
{
    return sp_seq_le(c->snd_una, seq) && sp_seq_lt(seq, c->snd_max);
}

void sp_tcp_icmp_input(struct sp_tcp_stack *tcp, sp_time_t now, const struct sp_icmp_repr *icmp,
                       const struct sp_icmp_quote *q)
{
    struct sp_iface *iface = tcp->iface;
    sp_count(iface, SP_STAT_tcp_icmp_rx);
    /* Our segment went from our port to the peer's: the connection's remote end is the quote's
     * destination. */
    struct sp_tcp *c = sp_tcp_lookup(tcp, q->dst, q->dst_port, q->src_port);
    if (!c || c->dead) {
        sp_drop(iface, SP_STAT_drop_tcp_icmp_no_conn, NULL);
        return;
    }
    if (!seq_in_flight(c, q->seq)) {
        sp_drop(iface, SP_STAT_drop_tcp_icmp_bad_seq, "quoted sequence number not in flight (RFC 5927)");
        return;
    }
    iface->now = now;
    sp_tcp_enter(tcp);
    sp_tcp_touch(c);   /* a resend or an abort changes its timers (tcp_timers.c) */
    react(c, now, icmp, q);
    sp_tcp_leave(tcp);
}

int sp_tcp_timeout_error(const struct sp_tcp *c) { return c->soft_err ? c->soft_err : SP_ETIMEDOUT; }

int sp_tcp_get_soft_error(const struct sp_tcp *conn) { return conn->soft_err; }
uint16_t sp_tcp_get_path_mtu(const struct sp_tcp *conn) { return path_mtu(conn); }
uint16_t sp_tcp_get_mss(const struct sp_tcp *conn) { return conn->mss; }
