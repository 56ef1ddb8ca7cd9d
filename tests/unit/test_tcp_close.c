/* TCP scenarios for closing and resets: passive close (CLOSE-WAIT, LAST-ACK), active close
 * (FIN-WAIT-1/2, TIME-WAIT and its expiry), simultaneous close (CLOSING), FIN retransmission,
 * out-of-order FIN, close with unread data, data after close, abort, and the RFC 5961 checks:
 * RST only at RCV.NXT (challenge ACK elsewhere in the window), SYN in a synchronized state, ACKs
 * of unsent data. */
#include "tcp_harness.h"

#define SYN SP_TCP_SYN
#define ACK SP_TCP_ACK
#define RST SP_TCP_RST
#define FIN SP_TCP_FIN
#define PSH SP_TCP_PSH

static const uint8_t big_data_for_close[100];

/* ESTABLISHED -> CLOSE-WAIT on FIN (ACKed at once, EOF readable) -> LAST-ACK on close -> CLOSED. */
static void test_passive_close(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    th_send(t, T0 + 10, FIN | ACK, 1, 1, 65535, NULL, 0);
    th_expect(t, ACK, 1, 2, -1, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_CLOSE_WAIT);
    assert_int_equal(t->readable, 1);
    uint8_t b[4];
    assert_int_equal(sp_tcp_recv(t->conn, b, sizeof b), 0);
    sp_tcp_close(t->conn);
    th_expect(t, FIN | ACK, 1, 2, -1, 0);
    th_send(t, T0 + 20, ACK, 2, 2, 65535, NULL, 0);
    th_expect_nothing(t);
    assert_int_equal(th_stat(t, SP_STAT_tcp_conn_closed), 1);
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), SP_TIME_NEVER);
    /* Gone: the next segment of the old connection meets LISTEN and is reset. */
    th_send(t, T0 + 30, ACK, 2, 2, 65535, NULL, 0);
    th_expect(t, RST, 2, 0, 0, 0);
    th_close(t);
}

/* LAST-ACK: the FIN is retransmitted on RTO like data. */
static void test_last_ack_fin_retransmitted(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    th_send(t, T0, FIN | ACK, 1, 1, 65535, NULL, 0);
    th_expect(t, ACK, 1, 2, -1, 0);
    sp_tcp_shutdown(t->conn);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_LAST_ACK);
    th_expect(t, FIN | ACK, 1, 2, -1, 0);
    th_advance(t, T0 + 200);
    th_expect(t, FIN | ACK, 1, 2, -1, 0);
    th_send(t, T0 + 250, ACK, 2, 2, 65535, NULL, 0);
    assert_int_equal(t->closed, 1);
    assert_int_equal(t->close_status, 0);
    th_close(t);
}

/* ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT, which lasts 2 MSL, then CLOSED. */
static void test_active_close_time_wait(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_shutdown(t->conn);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_FIN_WAIT_1);
    th_expect(t, FIN | ACK, 1, 1, -1, 0);
    th_send(t, T0 + 10, ACK, 1, 2, 65535, NULL, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_FIN_WAIT_2);
    th_expect_nothing(t);
    th_send(t, T0 + 20, ACK | PSH, 1, 2, 65535, "late", 4);   /* FIN-WAIT-2 still receives */
    th_send(t, T0 + 20, FIN | ACK, 5, 2, 65535, NULL, 0);
    th_expect(t, ACK, 2, 6, -1, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_TIME_WAIT);
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), T0 + 20 + SP_TCP_TIME_WAIT_MS);
    th_advance(t, T0 + 20 + SP_TCP_TIME_WAIT_MS - 1);
    assert_int_equal(t->closed, 0);
    th_advance(t, T0 + 20 + SP_TCP_TIME_WAIT_MS);
    assert_int_equal(t->closed, 1);
    assert_int_equal(t->close_status, 0);
    th_expect_nothing(t);
    th_close(t);
}

/* TIME-WAIT: a retransmitted FIN (our ACK was lost) is ACKed again and restarts the 2 MSL wait;
 * after a close() the handle is gone but the quiet time is kept. */
static void test_time_wait_refin(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_close(t->conn);
    th_expect(t, FIN | ACK, 1, 1, -1, 0);
    th_send(t, T0 + 10, ACK, 1, 2, 65535, NULL, 0);
    th_send(t, T0 + 10, FIN | ACK, 1, 2, 65535, NULL, 0);
    th_expect(t, ACK, 2, 2, -1, 0);
    th_send(t, T0 + 1000, FIN | ACK, 1, 2, 65535, NULL, 0);
    th_expect(t, ACK, 2, 2, -1, 0);
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), T0 + 1000 + SP_TCP_TIME_WAIT_MS);
    th_advance(t, T0 + 1000 + SP_TCP_TIME_WAIT_MS);
    assert_int_equal(t->closed, 0);      /* the application had released it: no callback */
    th_send(t, T0 + 1000 + SP_TCP_TIME_WAIT_MS + 1, ACK, 2, 2, 65535, NULL, 0);
    th_expect(t, RST, 2, 0, 0, 0);
    th_close(t);
}

/* FIN-WAIT-1 with FIN+ACK of our FIN together: straight to TIME-WAIT. */
static void test_fin_ack_together(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_shutdown(t->conn);
    th_expect(t, FIN | ACK, 1, 1, -1, 0);
    th_send(t, T0 + 10, FIN | ACK, 1, 2, 65535, NULL, 0);
    th_expect(t, ACK, 2, 2, -1, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_TIME_WAIT);
    th_close(t);
}

/* Simultaneous close: FINs cross; FIN-WAIT-1 -> CLOSING -> TIME-WAIT. */
static void test_simultaneous_close(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_shutdown(t->conn);
    th_expect(t, FIN | ACK, 1, 1, -1, 0);
    th_send(t, T0 + 10, FIN | ACK, 1, 1, 65535, NULL, 0);
    th_expect(t, ACK, 2, 2, -1, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_CLOSING);
    th_send(t, T0 + 10, ACK, 2, 2, 65535, NULL, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_TIME_WAIT);
    th_expect_nothing(t);
    th_close(t);
}

/* Data queued before shutdown goes first; the FIN rides on the last segment. */
static void test_fin_after_data(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_send(t->conn, "bye", 3);
    th_expect(t, ACK | PSH, 1, 1, -1, 3);
    sp_tcp_send(t->conn, "!!", 2);       /* held by Nagle */
    th_expect_nothing(t);
    sp_tcp_shutdown(t->conn);
    th_expect(t, ACK | PSH | FIN, 4, 1, -1, 2);
    assert_int_equal(sp_tcp_send(t->conn, "x", 1), SP_ESTATE);
    th_close(t);
}

/* A FIN ahead of missing data waits for it. */
static void test_out_of_order_fin(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    t->auto_read = true;
    th_send(t, T0, FIN | ACK, 4, 1, 65535, "def", 3);
    th_expect(t, ACK, 1, 1, -1, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    th_send(t, T0, ACK, 1, 1, 65535, "abc", 3);
    th_expect(t, ACK, 1, 8, -1, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_CLOSE_WAIT);
    assert_int_equal(t->rx_len, 6);
    assert_memory_equal(t->rx, "abcdef", 6);
    th_close(t);
}

/* close() with unread data resets the connection (RFC 2525 2.17). */
static void test_close_unread_data_resets(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    th_send(t, T0, ACK | PSH, 1, 1, 65535, big_data_for_close, 100);
    th_advance(t, T0 + SP_TCP_DELACK_MS);
    th_expect(t, ACK, 1, 101, -1, 0);
    sp_tcp_close(t->conn);
    th_expect(t, RST | ACK, 1, 101, 0, 0);
    assert_int_equal(t->closed, 0);
    th_close(t);
}

static void test_abort_sends_rst(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_send(t->conn, "abc", 3);
    th_take(t);
    sp_tcp_abort(t->conn);
    th_expect(t, RST | ACK, 4, 1, 0, 0);
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), SP_TIME_NEVER);
    th_close(t);
}

/* Data arriving after close() in FIN-WAIT-1 can never be read: <SEQ=SEG.ACK><CTL=RST> and the
 * connection is gone (RFC 1122 4.2.2.13); the next segment meets the listener and is reset. */
static void test_data_after_close_resets(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_close(t->conn);
    th_expect(t, FIN | ACK, 1, 1, -1, 0);
    th_send(t, T0 + 10, ACK | PSH, 1, 1, 65535, "late", 4);   /* does not ack our FIN */
    th_expect(t, RST, 1, 0, 0, 0);
    th_expect_nothing(t);
    assert_int_equal(th_stat(t, SP_STAT_tcp_conn_reset), 1);
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), SP_TIME_NEVER);
    th_send(t, T0 + 20, ACK, 5, 2, 65535, NULL, 0);
    th_expect(t, RST, 2, 0, 0, 0);
    th_close(t);
}

/* The same in FIN-WAIT-2, with the segment that acknowledges our FIN: the reset carries SEG.ACK. */
static void test_data_after_close_fin_wait_2(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_close(t->conn);
    th_expect(t, FIN | ACK, 1, 1, -1, 0);
    th_send(t, T0 + 10, ACK, 1, 2, 65535, NULL, 0);
    th_send(t, T0 + 20, ACK | PSH, 1, 2, 65535, "late", 4);
    th_expect(t, RST, 2, 0, 0, 0);
    th_expect_nothing(t);
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), SP_TIME_NEVER);
    th_close(t);
}

/* After shutdown() (not close) the application may still read: data in FIN-WAIT is taken. */
static void test_data_after_shutdown_taken(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_shutdown(t->conn);
    th_expect(t, FIN | ACK, 1, 1, -1, 0);
    th_send(t, T0 + 10, ACK | PSH, 1, 2, 65535, "late", 4);
    uint8_t b[8];
    assert_int_equal(sp_tcp_recv(t->conn, b, sizeof b), 4);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_FIN_WAIT_2);
    th_close(t);
}

/* RST at exactly RCV.NXT resets: on_close(SP_ECONNRESET), nothing sent. */
static void test_rst_exact_resets(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    th_send(t, T0 + 20, RST | ACK, 1, 1, 65535, NULL, 0);
    th_expect_nothing(t);
    assert_int_equal(t->closed, 1);
    assert_int_equal(t->close_status, SP_ECONNRESET);
    assert_int_equal(th_stat(t, SP_STAT_tcp_conn_reset), 1);
    th_close(t);
}

/* RST elsewhere in the window: a challenge ACK, the connection stays (RFC 5961 3.2). */
static void test_rst_in_window_challenged(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    th_send(t, T0, RST, 100, 0, 0, NULL, 0);
    th_expect(t, ACK, 1, 1, -1, 0);
    assert_int_equal(th_stat(t, SP_STAT_tcp_challenge_ack), 1);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    assert_int_equal(t->closed, 0);
    th_close(t);
}

/* RST outside the window: dropped in silence. */
static void test_rst_out_of_window_ignored(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    th_send(t, T0, RST, 1 + 200000, 0, 0, NULL, 0);
    th_send(t, T0, RST, (uint32_t)-10, 0, 0, NULL, 0);
    th_expect_nothing(t);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    th_close(t);
}

/* A SYN on an ESTABLISHED connection: a challenge ACK, whatever its sequence number (RFC 5961 4). */
static void test_syn_in_established_challenged(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    th_send(t, T0, SYN, 500, 0, 1000, NULL, 0);
    th_expect(t, ACK, 1, 1, -1, 0);
    th_send(t, T0, SYN, 0, 0, 1000, NULL, 0);   /* before the window: the plain unacceptable ACK */
    th_expect(t, ACK, 1, 1, -1, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    th_close(t);
}

/* An ACK for data never sent: ACK back and drop (the data in it is not taken). */
static void test_ack_of_unsent_data(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    t->auto_read = true;
    th_send(t, T0, ACK | PSH, 1, 50, 65535, "zz", 2);
    th_expect(t, ACK, 1, 1, -1, 0);
    assert_int_equal(t->rx_len, 0);
    th_close(t);
}

/* A segment outside the receive window: ACK (<SEQ=SND.NXT><ACK=RCV.NXT>) and drop. */
static void test_unacceptable_segment_acked(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    t->auto_read = true;
    th_send(t, T0, ACK, 1 + 100000, 1, 65535, "far", 3);
    th_expect(t, ACK, 1, 1, -1, 0);
    assert_int_equal(t->rx_len, 0);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_out_of_window), 1);
    th_close(t);
}

/* An ACK too far below SND.UNA (older than the largest window): challenge ACK (RFC 5961 5.2). */
static void test_ancient_ack_challenged(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    th_send(t, T0, ACK, 1, (uint32_t)-200000, 65535, NULL, 0);
    th_expect(t, ACK, 1, 1, -1, 0);
    assert_int_equal(th_stat(t, SP_STAT_tcp_challenge_ack), 1);
    th_close(t);
}

/* The peer's RST in CLOSE-WAIT at RCV.NXT also resets. */
static void test_rst_in_close_wait(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    th_send(t, T0, FIN | ACK, 1, 1, 65535, NULL, 0);
    th_take(t);
    th_send(t, T0 + 1, RST, 2, 0, 0, NULL, 0);
    assert_int_equal(t->closed, 1);
    assert_int_equal(t->close_status, SP_ECONNRESET);
    th_close(t);
}

/* TIME-WAIT: a new SYN with a higher sequence number starts a new connection at once. */
static void test_time_wait_reuse(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_close(t->conn);
    t->conn = NULL;
    th_expect(t, FIN | ACK, 1, 1, -1, 0);
    th_send(t, T0 + 10, FIN | ACK, 1, 2, 65535, NULL, 0);
    th_expect(t, ACK, 2, 2, -1, 0);
    /* An old-numbered SYN only gets the TIME-WAIT's ACK (a challenge). */
    th_send(t, T0 + 20, SYN, 0, 0, 1000, NULL, 0);
    th_expect(t, ACK, 2, 2, -1, 0);
    th_send(t, T0 + 30, SYN, 100000, 0, 1000, NULL, 0);
    struct out_seg *o = th_take(t);
    assert_int_equal(o->tcp.flags, SYN | ACK);
    assert_int_equal(o->tcp.ack, PEER_ISN + 100001);
    assert_int_equal(th_stat(t, SP_STAT_tcp_time_wait_reused), 1);
    th_close(t);
}

/* Challenge ACKs are limited per second, all connections together (RFC 5961 7). */
static void test_challenge_ack_rate_limited(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    for (int i = 0; i < SP_TCP_CHALLENGE_ACKS_PER_S + 5; i++)
        th_send(t, T0 + 100, RST, 100, 0, 0, NULL, 0);
    assert_int_equal(t->nout - t->taken, SP_TCP_CHALLENGE_ACKS_PER_S);
    assert_int_equal(th_stat(t, SP_STAT_tcp_challenge_ack_limited), 5);
    t->taken = t->nout;
    th_send(t, T0 + 1100, RST, 100, 0, 0, NULL, 0);   /* the next second */
    th_expect(t, ACK, 1, 1, -1, 0);
    th_close(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passive_close),
        cmocka_unit_test(test_last_ack_fin_retransmitted),
        cmocka_unit_test(test_active_close_time_wait),
        cmocka_unit_test(test_time_wait_refin),
        cmocka_unit_test(test_fin_ack_together),
        cmocka_unit_test(test_simultaneous_close),
        cmocka_unit_test(test_fin_after_data),
        cmocka_unit_test(test_out_of_order_fin),
        cmocka_unit_test(test_close_unread_data_resets),
        cmocka_unit_test(test_abort_sends_rst),
        cmocka_unit_test(test_rst_exact_resets),
        cmocka_unit_test(test_rst_in_window_challenged),
        cmocka_unit_test(test_rst_out_of_window_ignored),
        cmocka_unit_test(test_syn_in_established_challenged),
        cmocka_unit_test(test_ack_of_unsent_data),
        cmocka_unit_test(test_unacceptable_segment_acked),
        cmocka_unit_test(test_ancient_ack_challenged),
        cmocka_unit_test(test_rst_in_close_wait),
        cmocka_unit_test(test_time_wait_reuse),
        cmocka_unit_test(test_challenge_ack_rate_limited),
        cmocka_unit_test(test_data_after_close_resets),
        cmocka_unit_test(test_data_after_close_fin_wait_2),
        cmocka_unit_test(test_data_after_shutdown_taken),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
