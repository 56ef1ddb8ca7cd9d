/* TCP scenarios: CLOSED and LISTEN (RFC 9293 3.10.7.1-2), passive and active open, options, SYN
 * retransmission and backoff, backlog, ISNs (RFC 6528). */
#include "tcp_harness.h"

#define SYN SP_TCP_SYN
#define ACK SP_TCP_ACK
#define RST SP_TCP_RST
#define FIN SP_TCP_FIN
#define PSH SP_TCP_PSH

/* CLOSED, no ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, SYN and FIN counted in SEG.LEN. */
static void test_closed_syn_gets_rst_ack(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    th_send(t, T0, SYN, 0, 0, 1000, NULL, 0);
    struct out_seg *o = th_take(t);
    assert_int_equal(o->tcp.flags, RST | ACK);
    assert_int_equal(o->tcp.seq, 0);
    assert_int_equal(o->tcp.ack, PEER_ISN + 1);
    assert_int_equal(o->tcp.src_port, US_PORT);
    assert_int_equal(o->tcp.dst_port, PEER_PORT);
    th_send(t, T0, FIN, 5, 0, 1000, "abc", 3);
    o = th_take(t);
    assert_int_equal(o->tcp.flags, RST | ACK);
    assert_int_equal(o->tcp.ack, PEER_ISN + 5 + 3 + 1);
    assert_int_equal(th_stat(t, SP_STAT_tcp_rst_tx), 2);
    th_close(t);
}

/* CLOSED, ACK set: <SEQ=SEG.ACK><CTL=RST>. */
static void test_closed_ack_gets_rst(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    t->iss = 0;
    th_send(t, T0, ACK, 1, 777, 1000, NULL, 0);
    th_expect(t, RST, 777, 0, 0, 0);
    th_send(t, T0, FIN | ACK, 1, 778, 1000, NULL, 0);
    th_expect(t, RST, 778, 0, 0, 0);
    th_close(t);
}

/* CLOSED or LISTEN: an incoming RST is dropped in silence. */
static void test_rst_never_answered(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_send(t, T0, RST, 1, 0, 0, NULL, 0);
    th_send(t, T0, RST | ACK, 1, 5, 0, NULL, 0);
    th_send_ex(t, T0, RST, 1, 0, 0, NULL, 0, (struct seg_opts){.wscale = -1, .dport = 81});
    th_expect_nothing(t);
    th_close(t);
}

static void test_bad_checksum_is_silent(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    th_send_ex(t, T0, SYN, 0, 0, 1000, "x", 1, (struct seg_opts){.wscale = -1, .corrupt = true});
    th_expect_nothing(t);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_bad_checksum), 1);
    th_close(t);
}

/* FIN+SYN+RST+PSH+ACK+URG+ECE+CWR: nonsense, dropped without an answer, even to a closed port.
 * SYN+FIN: dropped by a listener (like Linux; FreeBSD's drop_synfin), reset by a closed port. */
static void test_every_flag_dropped(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_send(t, T0, 0xff, 0, 0, 1000, NULL, 0);
    th_send_ex(t, T0, 0xff, 0, 0, 1000, NULL, 0, (struct seg_opts){.wscale = -1, .dport = 81});
    th_send(t, T0, SYN | FIN, 0, 0, 1000, NULL, 0);
    th_expect_nothing(t);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_bad_flags), 3);
    th_send_ex(t, T0, SYN | FIN, 0, 0, 1000, NULL, 0, (struct seg_opts){.wscale = -1, .dport = 81});
    struct out_seg *o = th_take(t);
    assert_int_equal(o->tcp.flags, RST | ACK);
    assert_int_equal(o->tcp.seq, 0);
    assert_int_equal(o->tcp.ack, PEER_ISN + 2);
    th_close(t);
}

/* LISTEN, ACK: <SEQ=SEG.ACK><CTL=RST>; no SYN/ACK/RST (a bare FIN): dropped. */
static void test_listen_ack_and_fin(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_send(t, T0, ACK, 17, 34, 32767, NULL, 0);
    th_expect(t, RST, 34, 0, 0, 0);
    th_send(t, T0, FIN, 17, 0, 32767, NULL, 0);
    th_send(t, T0, 0, 17, 0, 32767, NULL, 0);
    th_expect_nothing(t);
    assert_null(t->conn);
    th_close(t);
}

/* LISTEN, SYN with MSS, SACK-permitted, timestamps, NOP, WS -> SYN-ACK with our MSS from the MTU
 * and our window scale; SACK and timestamps are answered (RFC 2018 2, RFC 7323 3.2), the echo
 * being the SYN's TSval. */
static void test_listen_syn_gets_syn_ack(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct out_seg *s = th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 7, .sack_perm = true, .ts = true});
    assert_int_equal(s->tcp.mss, OUR_MSS);
    assert_int_equal(s->tcp.wscale, 1);         /* 64 KiB buffer: one bit */
    assert_true(s->tcp.sack_perm);
    assert_true(s->tcp.has_timestamp);
    assert_int_equal(s->tcp.ts_ecr, 12345);
    assert_int_equal(s->tcp.window, 65535);     /* never scaled in a SYN */
    assert_int_equal(s->tcp.payload_len, 0);
    assert_null(t->conn);                       /* not accepted before the handshake completes */
    th_send_ex(t, T0 + 5, ACK, 1, 1, 100, NULL, 0, (struct seg_opts){.wscale = -1, .ts = true});
    assert_int_equal(t->accepts, 1);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    assert_int_equal(th_stat(t, SP_STAT_tcp_conn_opened), 1);
    th_expect_nothing(t);
    th_close(t);
}

/* Without a window-scale option from the peer, we send none and do not scale. */
static void test_no_wscale_without_peer_option(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct out_seg *s = th_syn(t, T0, NO_OPTS);
    assert_int_equal(s->tcp.wscale, -1);
    th_send(t, T0, ACK, 1, 1, 1000, NULL, 0);
    th_send(t, T0, ACK | PSH, 1, 1, 1000, "hi", 2);
    th_advance(t, T0 + SP_TCP_DELACK_MS);
    th_expect(t, ACK, 1, 3, 65534, 0);          /* 65536 - 2 free, unscaled */
    th_close(t);
}

/* No MSS option: 536 (RFC 9293 3.7.1); we never send more per segment. */
static void test_default_mss_536(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_syn(t, T0, NO_OPTS);
    th_send(t, T0, ACK, 1, 1, 65535, NULL, 0);
    uint8_t data[1200];
    th_fill(data, sizeof data, 1);
    sp_tcp_set_nodelay(t->conn, true);
    assert_int_equal(sp_tcp_send(t->conn, data, sizeof data), 1200);
    th_expect(t, ACK, 1, 1, -1, 536);
    th_expect(t, ACK, 537, 1, -1, 536);
    struct out_seg *o = th_expect(t, ACK | PSH, 1073, 1, -1, 128);
    assert_memory_equal(o->data, data + 1072, 128);
    th_close(t);
}

/* The peer's MSS is honoured when smaller than ours. */
static void test_peer_mss_honoured(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_syn(t, T0, (struct seg_opts){.mss = 1000, .wscale = 0});
    th_send(t, T0, ACK, 1, 1, 65535, NULL, 0);
    uint8_t data[1500] = {0};
    assert_int_equal(sp_tcp_send(t->conn, data, sizeof data), 1500);
    th_expect(t, ACK, 1, 1, -1, 1000);
    th_expect_nothing(t);                       /* Nagle: the small rest waits for the ACK */
    th_send(t, T0 + 10, ACK, 1, 1001, 65535, NULL, 0);
    th_expect(t, ACK | PSH, 1001, 1, -1, 500);
    th_close(t);
}

static sp_time_t backed_off(int i)
{
    sp_time_t rto = (sp_time_t)SP_TCP_RTO_INITIAL_MS << i;
    return rto < SP_TCP_RTO_MAX_MS ? rto : SP_TCP_RTO_MAX_MS;
}

/* SYN-ACK lost: retransmitted at 1 s, then 2 s later, ... (RFC 6298 backoff), and given up after
 * SP_TCP_SYN_RETRIES without a trace. */
static void test_syn_ack_retransmission_backoff(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_syn(t, T0, NO_OPTS);
    th_advance(t, T0 + 999);
    th_expect_nothing(t);
    sp_time_t at = T0 + 1000;
    for (int i = 0; i < SP_TCP_SYN_RETRIES; i++) {
        th_advance(t, at);
        th_expect(t, SYN | ACK, 0, 1, -1, 0);
        th_expect_nothing(t);
        at += backed_off(i + 1);
    }
    th_advance(t, at + 1000000);
    th_expect_nothing(t);
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), SP_TIME_NEVER);
    assert_int_equal(t->accepts, 0);
    /* The slot is free: the same peer can start again. */
    th_syn(t, at + 2000000, NO_OPTS);
    th_close(t);
}

/* SYN-RECEIVED: the peer's retransmitted SYN gets the SYN-ACK again. */
static void test_syn_received_dup_syn(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_syn(t, T0, NO_OPTS);
    th_send(t, T0 + 1, SYN, 0, 0, 64240, NULL, 0);
    th_expect(t, SYN | ACK, 0, 1, -1, 0);
    th_close(t);
}

/* SYN-RECEIVED: an unacceptable ACK earns <SEQ=SEG.ACK><CTL=RST>; the handshake goes on. */
static void test_syn_received_bad_ack(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_syn(t, T0, NO_OPTS);
    th_send(t, T0, ACK, 1, 5, 1000, NULL, 0);
    th_expect(t, RST, 5, 0, 0, 0);
    th_send(t, T0, ACK, 1, 1, 1000, NULL, 0);
    assert_int_equal(t->accepts, 1);
    th_close(t);
}

/* SYN-RECEIVED from a passive open: RST at RCV.NXT returns to LISTEN (the attempt vanishes). */
static void test_syn_received_rst(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_syn(t, T0, NO_OPTS);
    th_send(t, T0, RST, 1, 0, 0, NULL, 0);
    th_expect_nothing(t);
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), SP_TIME_NEVER);
    assert_int_equal(t->accepts, 0);
    th_send(t, T0, ACK, 1, 1, 1000, NULL, 0);   /* now to LISTEN again: a reset */
    th_expect(t, RST, 1, 0, 0, 0);
    th_close(t);
}

/* A bounded backlog: with SYN cookies off, SYNs beyond it are dropped and counted (the peer
 * retries). */
static void test_backlog_bounded(void **state)
{
    (void)state;
    struct sp_tcp_config tc = th_tcp_cfg();
    tc.no_syncookies = true;
    struct th *t = th_open_cfg(2, &tc);
    for (uint16_t p = 1; p <= 3; p++)
        th_send_ex(t, T0, SYN, 0, 0, 1000, NULL, 0, (struct seg_opts){.wscale = -1, .sport = p});
    assert_int_equal(t->nout, 2);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_backlog_full), 1);
    /* Completing one frees a place. */
    t->iss = t->out[0].tcp.seq;
    th_send_ex(t, T0, ACK, 1, 1, 1000, NULL, 0, (struct seg_opts){.wscale = -1, .sport = 1});
    assert_int_equal(t->accepts, 1);
    th_send_ex(t, T0, SYN, 0, 0, 1000, NULL, 0, (struct seg_opts){.wscale = -1, .sport = 3});
    assert_int_equal(t->nout, 3);
    th_close(t);
}

static struct sp_tcp *th_connect(struct th *t)
{
    struct sp_tcp *c = NULL;
    assert_int_equal(sp_tcp_connect(t->iface, PEER_IP, 5000, &th_cbs, t, &c), 0);
    t->conn = c;
    struct out_seg *s = th_take(t);
    assert_int_equal(s->tcp.flags, SYN);
    assert_int_equal(s->tcp.dst_port, 5000);
    assert_int_equal(s->tcp.src_port, SP_TCP_EPHEMERAL_FIRST);
    assert_int_equal(s->tcp.mss, OUR_MSS);
    assert_int_equal(s->tcp.wscale, 1);
    t->iss = s->tcp.seq;
    assert_int_equal(sp_tcp_get_state(c), SP_TCP_SYN_SENT);
    return c;
}
#define FROM_SERVER ((struct seg_opts){.wscale = 0, .mss = 1460, .sport = 5000, .dport = SP_TCP_EPHEMERAL_FIRST})
#define SRV ((struct seg_opts){.wscale = -1, .sport = 5000, .dport = SP_TCP_EPHEMERAL_FIRST})

/* Active open: SYN, SYN-ACK, ACK; on_connect(0). */
static void test_active_open(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    struct sp_tcp *c = th_connect(t);
    th_send_ex(t, T0 + 3, SYN | ACK, 0, 1, 29200, NULL, 0, FROM_SERVER);
    th_expect(t, ACK, 1, 1, 32768, 0);          /* both sent WS: 65536 >> 1 */
    assert_int_equal(t->connected, 1);
    assert_int_equal(t->connect_status, 0);
    assert_int_equal(sp_tcp_get_state(c), SP_TCP_ESTABLISHED);
    assert_int_equal(sp_tcp_send(c, "GET", 3), 3);
    th_expect(t, ACK | PSH, 1, 1, -1, 3);
    th_close(t);
}

/* SYN-SENT: RST with an acceptable ACK -> refused; a RST without ACK is ignored. */
static void test_active_open_refused(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    th_connect(t);
    th_send_ex(t, T0, RST, 0, 0, 0, NULL, 0, SRV);
    assert_int_equal(t->connected, 0);
    th_send_ex(t, T0, RST | ACK, 0, 1, 0, NULL, 0, SRV);
    assert_int_equal(t->connected, 1);
    assert_int_equal(t->connect_status, SP_ECONNREFUSED);
    assert_int_equal(t->closed, 1);
    assert_int_equal(t->close_status, SP_ECONNREFUSED);
    th_expect_nothing(t);
    th_close(t);
}

/* SYN-SENT: an ACK outside ISS < SEG.ACK <= SND.NXT earns <SEQ=SEG.ACK><CTL=RST>. */
static void test_syn_sent_bad_ack(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    th_connect(t);
    th_send_ex(t, T0, SYN | ACK, 0, 100, 1000, NULL, 0, SRV);
    th_expect(t, RST, 100, 0, 0, 0);
    assert_int_equal(t->connected, 0);
    th_close(t);
}

/* SYN-SENT: SYN at 0, 1, 3, 7 ... s (doubling, capped at the RTO maximum); after
 * SP_TCP_SYN_RETRIES, on_connect(SP_ETIMEDOUT). */
static void test_syn_retransmission_timeout(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    th_connect(t);
    sp_time_t at = T0 + SP_TCP_RTO_INITIAL_MS;
    for (int i = 0; i < SP_TCP_SYN_RETRIES; i++) {
        th_advance(t, at - 1);
        th_expect_nothing(t);
        th_advance(t, at);
        th_expect(t, SYN, 0, 0, -1, 0);
        at += backed_off(i + 1);
    }
    th_advance(t, at - 1);
    assert_int_equal(t->connected, 0);
    th_advance(t, at);
    assert_int_equal(t->connected, 1);
    assert_int_equal(t->connect_status, SP_ETIMEDOUT);
    assert_int_equal(t->closed, 1);
    th_expect_nothing(t);
    th_close(t);
}

/* Simultaneous open: SYN in SYN-SENT -> SYN-ACK, SYN-RECEIVED; its ACK -> ESTABLISHED. */
static void test_simultaneous_open(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    struct sp_tcp *c = th_connect(t);
    th_send_ex(t, T0, SYN, 0, 0, 1000, NULL, 0, FROM_SERVER);
    th_expect(t, SYN | ACK, 0, 1, -1, 0);
    assert_int_equal(sp_tcp_get_state(c), SP_TCP_SYN_RECEIVED);
    th_send_ex(t, T0, ACK, 1, 1, 1000, NULL, 0, SRV);
    assert_int_equal(sp_tcp_get_state(c), SP_TCP_ESTABLISHED);
    assert_int_equal(t->connect_status, 0);
    assert_int_equal(t->connected, 1);
    th_close(t);
}

/* RFC 6528: the ISN differs per connection identity and advances with a 4 us clock. */
static void test_isn_keyed_and_clocked(void **state)
{
    (void)state;
    uint64_t k = 42;
    uint32_t a = sp_tcp_isn(k, 0, US_IP, 80, PEER_IP, 40000);
    uint32_t b = sp_tcp_isn(k, 0, US_IP, 80, PEER_IP, 40001);
    uint32_t c = sp_tcp_isn(k + 1, 0, US_IP, 80, PEER_IP, 40000);
    assert_int_not_equal(a, b);
    assert_int_not_equal(a, c);
    assert_int_equal(sp_tcp_isn(k, 1000, US_IP, 80, PEER_IP, 40000) - a, 250000);
    /* SipHash-2-4 reference vector: key 00..0f, message 00..0e (15 bytes). */
    uint8_t msg[15];
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    assert_true(sp_siphash24(0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull, msg, 15) == 0xa129ca6149be45e5ull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_closed_syn_gets_rst_ack),
        cmocka_unit_test(test_closed_ack_gets_rst),
        cmocka_unit_test(test_rst_never_answered),
        cmocka_unit_test(test_bad_checksum_is_silent),
        cmocka_unit_test(test_every_flag_dropped),
        cmocka_unit_test(test_listen_ack_and_fin),
        cmocka_unit_test(test_listen_syn_gets_syn_ack),
        cmocka_unit_test(test_no_wscale_without_peer_option),
        cmocka_unit_test(test_default_mss_536),
        cmocka_unit_test(test_peer_mss_honoured),
        cmocka_unit_test(test_syn_ack_retransmission_backoff),
        cmocka_unit_test(test_syn_received_dup_syn),
        cmocka_unit_test(test_syn_received_bad_ack),
        cmocka_unit_test(test_syn_received_rst),
        cmocka_unit_test(test_backlog_bounded),
        cmocka_unit_test(test_active_open),
        cmocka_unit_test(test_active_open_refused),
        cmocka_unit_test(test_syn_sent_bad_ack),
        cmocka_unit_test(test_syn_retransmission_timeout),
        cmocka_unit_test(test_simultaneous_open),
        cmocka_unit_test(test_isn_keyed_and_clocked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
