/* SYN cookies (RFC 4987 3.6): when a listener's backlog of half-open connections is full, a SYN
 * is answered with a SYN-ACK whose ISS carries, authenticated, what the handshake needs, and no
 * state is kept; the ACK that comes back (SEG.ACK = ISS + 1) is checked and only then is the
 * connection made. A flood of SYNs from sources that never answer then costs us nothing but the
 * SYN-ACKs, and a real client still gets in.
 *
 * The cookie, 32 bits:
 *   31..9  a MAC: the top 23 bits of SipHash-2-4, keyed by the interface's secret (another key
 *          than the ISNs'), over both addresses and ports, the peer's ISN, the clock tick t and
 *          the data below (our window scale too, so a listener resized meanwhile fails cleanly);
 *    8..7  t mod 4, t = now / SP_TCP_SYNCOOKIE_PERIOD_MS: a cookie is good in its own tick and
 *          the next, so for one to two ticks (64 to 128 s);
 *    6..3  the peer's window scale, 0..14, or 15: it sent none (we then offer none);
 *    2..0  the peer's MSS rounded down to one of eight common values (536 for no option).
 * A blind attacker completing a handshake must guess 23 bits per try.
 *
 * What a cookie connection loses against one from the backlog: the peer's exact MSS (rounded
 * down to the table), SACK-permitted and timestamps (not encoded), data carried on the SYN (the
 * peer sends it again), retransmission of our SYN-ACK (a lost one is recovered by the peer's SYN
 * retransmission), the handshake's RTT sample, and any handshake decision (cookies are answered
 * natively; a delegated handshake keeps dropping SYNs beyond the backlog). The ACK must be the
 * one right after the handshake (SEG.SEQ = the peer's ISN + 1): a later segment, after that ACK
 * was lost, fails the check and is reset, as LISTEN resets any ACK.
 * An ACK is checked only while a cookie the listener sent could still be valid; otherwise it is an
 * ordinary stray ACK. */
#include <string.h>

#include "tcp_internal.h"

static const uint16_t mss_table[8] = {536, 1200, 1300, 1360, 1400, 1440, 1452, 1460};

#define COOKIE_DATA_BITS 9
#define COOKIE_T_SHIFT 7
#define COOKIE_WS_SHIFT 3
#define COOKIE_WS_NONE 15

static uint32_t cookie_mac(const struct sp_tcp_stack *tcp, uint64_t t, uint32_t rip, uint16_t rport,
                           uint16_t lport, uint32_t peer_isn, uint32_t data)
{
    uint8_t m[28];
    sp_put32(m, tcp->iface->cfg.ip);
    sp_put32(m + 4, rip);
    sp_put16(m + 8, lport);
    sp_put16(m + 10, rport);
    sp_put32(m + 12, peer_isn);
    sp_put32(m + 16, (uint32_t)(t >> 32));
    sp_put32(m + 20, (uint32_t)t);
    sp_put32(m + 24, data);
    uint64_t secret = tcp->iface->cfg.secret;
    uint64_t h = sp_siphash24(secret ^ 0x5fc6a1b2d3e4f708ull, (secret << 23 | secret >> 41) ^ 0x0123fedcba987654ull,
                              m, sizeof m);
    return (uint32_t)(h >> (64 - (32 - COOKIE_DATA_BITS)));
}

static unsigned mss_index(uint16_t mss)
{
    unsigned i = 0;
    while (i + 1 < 8 && mss_table[i + 1] <= mss)
        i++;
    return i;
}

/* The 9 data bits, and what the MAC covers besides them (our scale). */
static uint32_t cookie_data(uint64_t t, uint16_t mss, int8_t wscale)
{
    uint32_t ws = wscale < 0 ? COOKIE_WS_NONE : (uint32_t)(wscale > 14 ? 14 : wscale);
    return (uint32_t)(t & 3) << COOKIE_T_SHIFT | ws << COOKIE_WS_SHIFT | mss_index(mss ? mss : SP_TCP_DEFAULT_MSS);
}

uint32_t sp_tcp_cookie_make(const struct sp_tcp_stack *tcp, sp_time_t now, uint32_t rip, uint16_t rport,
                            uint16_t lport, uint32_t peer_isn, uint16_t mss, int8_t wscale, uint8_t our_wscale)
{
    uint64_t t = now / SP_TCP_SYNCOOKIE_PERIOD_MS;
    uint32_t data = cookie_data(t, mss, wscale);
    uint32_t mac = cookie_mac(tcp, t, rip, rport, lport, peer_isn, data | (uint32_t)our_wscale << 16);
    return mac << COOKIE_DATA_BITS | data;
}

/* The cookie iss for the pair, checked: true with the peer's MSS and window scale (-1: none). */
static bool cookie_check(const struct sp_tcp_stack *tcp, sp_time_t now, uint32_t rip, uint16_t rport,
                         uint16_t lport, uint32_t peer_isn, uint32_t iss, uint32_t rcvbuf, uint16_t *mss,
                         int8_t *wscale)
{
    uint32_t data = iss & ((1u << COOKIE_DATA_BITS) - 1);
    uint32_t ws = (data >> COOKIE_WS_SHIFT) & 15;
    uint32_t ours = ws == COOKIE_WS_NONE ? 0 : sp_tcp_wscale_for(rcvbuf);
    uint64_t tnow = now / SP_TCP_SYNCOOKIE_PERIOD_MS;
    for (uint64_t age = 0; age < 2 && age <= tnow; age++) {
        uint64_t t = tnow - age;
        if ((t & 3) != ((data >> COOKIE_T_SHIFT) & 3))
            continue;
        if (cookie_mac(tcp, t, rip, rport, lport, peer_isn, data | ours << 16) == iss >> COOKIE_DATA_BITS) {
            *mss = mss_table[data & 7];
            *wscale = ws == COOKIE_WS_NONE ? -1 : (int8_t)ws;
            return true;
        }
    }
    return false;
}

static uint16_t min16(uint32_t a, uint32_t b) { return (uint16_t)(a < b ? a : b); }

void sp_tcp_backlog_full(struct sp_tcp *l, sp_time_t now, const struct sp_ipv4_repr *ip, const struct sp_tcp_repr *seg)
{
    struct sp_tcp_stack *tcp = l->stack;
    struct sp_iface *iface = tcp->iface;
    if (tcp->cfg.no_syncookies || !sp_decision_is_native(iface, SP_DECISION_TCP)) {
        sp_drop(iface, SP_STAT_drop_tcp_backlog_full, NULL);
        return;
    }
    bool scale = seg->wscale >= 0;
    uint8_t ours = scale ? sp_tcp_wscale_for(l->rcvbuf) : 0;
    uint32_t iss = sp_tcp_cookie_make(tcp, now, ip->src, seg->src_port, l->local_port, seg->seq, seg->mss,
                                      seg->wscale, ours);
    if (tcp->iss_floor_set && !sp_seq_gt(iss, tcp->iss_floor)) {
        /* The SYN ends a TIME-WAIT, and this ISS is not above the old SND.NXT (RFC 9293 3.6.1). */
        sp_drop(iface, SP_STAT_drop_tcp_backlog_full, "cookie below the old incarnation");
        return;
    }
    struct sp_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.src_port = l->local_port;
    r.dst_port = seg->src_port;
    r.seq = iss;
    r.ack = seg->seq + 1;
    r.flags = SP_TCP_SYN | SP_TCP_ACK;
    r.window = min16(l->rcvbuf, 0xffff);   /* never scaled in a SYN (RFC 7323 2.2) */
    r.mss = (uint16_t)(iface->mtu - SP_IPV4_MIN_HDR_LEN - SP_TCP_MIN_HDR_LEN);
    r.wscale = scale ? (int8_t)ours : -1;
    l->cookie_at = now;
    sp_count(iface, SP_STAT_tcp_syncookie_sent);
    sp_tcp_emit(tcp, now, iface->cfg.ip, ip->src, &r);
}

/* c, new in the table, becomes the SYN-RECEIVED connection the cookie stood for. */
static void take_cookie(struct sp_tcp *c, struct sp_tcp *l, uint32_t iss, const struct sp_tcp_repr *seg,
                        uint16_t mss, int8_t wscale)
{
    c->iss = c->snd_una = c->snd_wl2 = c->recover = iss;
    c->snd_nxt = c->snd_max = c->snd_buf_seq = iss + 1;
    c->passive = true;
    c->syncookie = true;
    c->listener = l;
    c->nodelay = l->nodelay;
    c->state = SP_TCP_SYN_RECEIVED;
    l->pending++;
    struct sp_tcp_repr syn;
    memset(&syn, 0, sizeof syn);
    syn.seq = seg->seq - 1;
    syn.mss = mss;
    syn.wscale = wscale;
    syn.window = seg->window;
    sp_tcp_take_syn_options(c, &syn);
    c->rcv_adv = c->rcv_nxt + min16(l->rcvbuf, 0xffff);   /* what the cookie SYN-ACK offered */
}

bool sp_tcp_cookie_ack(struct sp_tcp *l, sp_time_t now, const struct sp_ipv4_repr *ip, const struct sp_tcp_repr *seg)
{
    struct sp_tcp_stack *tcp = l->stack;
    if (l->cookie_at == SP_TIME_NEVER || now - l->cookie_at >= 2 * (sp_time_t)SP_TCP_SYNCOOKIE_PERIOD_MS ||
        (seg->flags & (SP_TCP_SYN | SP_TCP_RST)) || !(seg->flags & SP_TCP_ACK))
        return false;
    uint32_t iss = seg->ack - 1;
    uint16_t mss;
    int8_t wscale;
    if (!cookie_check(tcp, now, ip->src, seg->src_port, l->local_port, seg->seq - 1, iss, l->rcvbuf, &mss,
                      &wscale)) {
        sp_drop(tcp->iface, SP_STAT_drop_tcp_syncookie_bad, NULL);
        return false;
    }
    struct sp_tcp *c = sp_tcp_conn_new(tcp, ip->src, seg->src_port, l->local_port, l->rcvbuf, l->sndbuf);
    if (!c) {
        /* The peer believes it is connected: its next segment is checked again. */
        sp_drop(tcp->iface, SP_STAT_drop_tcp_table_full, "SYN cookie");
        return true;
    }
    take_cookie(c, l, iss, seg, mss, wscale);
    sp_count(tcp->iface, SP_STAT_tcp_syncookie_ok);
    sp_tcp_conn_input(c, now, seg);
    return true;
}
