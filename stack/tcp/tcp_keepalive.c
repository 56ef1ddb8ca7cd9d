/* Keepalive (RFC 1122 4.2.3.6): off unless the application asks for it (sp_tcp_set_keepalive),
 * as the RFC requires.
 *
 * When: in ESTABLISHED, CLOSE-WAIT and FIN-WAIT-2, where a connection can sit idle forever, once
 * nothing has come from the peer for the idle time while nothing of ours waits for an
 * acknowledgment ("only ... when no data or acknowledgement packets have been received"). With
 * data or a FIN in flight, or a shut window being probed, the retransmission timer already finds
 * out whether the peer is there. Then a probe every interval; any acceptable segment from the
 * peer, the answer to a probe included, starts the idle time again. After `count` probes without
 * an answer the connection is reset, as Linux does, and ends with SP_ETIMEDOUT (or its soft
 * error, tcp_icmp.c). RFC 1122 warns that one unanswered probe proves nothing (an ACK without text
 * is not delivered reliably): a count of 1 is the application's choice, the daemon's default is
 * SP_TCP_KEEPALIVE_COUNT.
 *
 * The probe: <SEQ=SND.NXT-1><ACK=RCV.NXT><CTL=ACK> without text. Its sequence number lies just
 * below the peer's window, so a live peer must answer it with an ACK (RFC 9293 3.10.7.4: an
 * unacceptable segment), and it carries nothing the peer could take as data. RFC 1122 asks for
 * no data (SHOULD); the one garbage octet it allows was for old BSD peers that ignored an empty
 * segment below the window, and current stacks (Linux, the BSDs) send and answer empty probes.
 * Nothing is in flight when a probe goes, so SND.NXT - 1 is SND.UNA - 1. */
#include "tcp_internal.h"

int sp_tcp_set_keepalive(struct sp_tcp *conn, uint32_t idle_s, uint32_t interval_s, uint32_t count)
{
    if (conn->dead)
        return SP_ENOTCONN;
    if (idle_s && (idle_s > SP_TCP_KEEPALIVE_MAX_S || interval_s == 0 || interval_s > SP_TCP_KEEPALIVE_MAX_S ||
                   count == 0 || count > 255))
        return SP_EINVAL;
    if (idle_s && !conn->ka_idle_ms) {
        /* Turned on: a peer silent for a while before gets the idle time from now, as on Linux,
         * rather than a probe at once. Changed while on, it counts from the last segment heard. */
        conn->ka_heard = sp_tcp_iface(conn)->now;
        conn->ka_probes = 0;
    }
    conn->ka_idle_ms = idle_s * 1000u;
    conn->ka_intvl_ms = idle_s ? interval_s * 1000u : 0;
    conn->ka_count = (uint8_t)(idle_s ? count : 0);
    /* The keepalive deadline is one of the connection's timers: its place in the timer heap
     * changes with it (tcp_timers.c). */
    sp_tcp_enter(conn->stack);
    sp_tcp_touch(conn);
    sp_tcp_leave(conn->stack);
    return 0;
}

void sp_tcp_get_keepalive(const struct sp_tcp *conn, uint32_t *idle_s, uint32_t *interval_s, uint32_t *count)
{
    if (idle_s)
        *idle_s = conn->ka_idle_ms / 1000u;
    if (interval_s)
        *interval_s = conn->ka_intvl_ms / 1000u;
    if (count)
        *count = conn->ka_count;
}

void sp_tcp_keepalive_inherit(struct sp_tcp *c, const struct sp_tcp *l)
{
    c->ka_idle_ms = l->ka_idle_ms;
    c->ka_intvl_ms = l->ka_intvl_ms;
    c->ka_count = l->ka_count;
}

void sp_tcp_keepalive_heard(struct sp_tcp *c, sp_time_t now)
{
    c->ka_heard = now;
    c->ka_probes = 0;
}

static bool idle_state(const struct sp_tcp *c)
{
    return c->state == SP_TCP_ESTABLISHED || c->state == SP_TCP_CLOSE_WAIT || c->state == SP_TCP_FIN_WAIT_2;
}

sp_time_t sp_tcp_keepalive_at(const struct sp_tcp *c)
{
    if (!c->ka_idle_ms || c->dead || !idle_state(c) || c->snd_una != c->snd_max || c->rtx_at != SP_TIME_NEVER)
        return SP_TIME_NEVER;
    /* Probes go at the idle time and every interval after it, all counted from the last segment
     * heard, so a late timer does not push the later probes back. */
    return c->ka_heard + c->ka_idle_ms + (sp_time_t)c->ka_probes * c->ka_intvl_ms;
}

void sp_tcp_keepalive_timer(struct sp_tcp *c, sp_time_t now)
{
    struct sp_iface *iface = sp_tcp_iface(c);
    if (c->ka_probes >= c->ka_count) {
        sp_count(iface, SP_STAT_tcp_keepalive_timeout);
        sp_tcp_send_rst(c, now);
        sp_tcp_conn_finish(c, sp_tcp_timeout_error(c));
        return;
    }
    c->ka_probes++;
    sp_count(iface, SP_STAT_tcp_keepalive_probe);
    sp_tcp_send_ack_at(c, now, c->snd_una - 1);
}
