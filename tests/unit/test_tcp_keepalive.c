/* TCP scenarios: keepalive (RFC 1122 4.2.3.6). Off by default; probes <SEQ=SND.NXT-1> without
 * text after the idle time, every interval after that; count unanswered probes end the connection
 * with SP_ETIMEDOUT. */
#include "tcp_harness.h"

#define SYN SP_TCP_SYN
#define ACK SP_TCP_ACK
#define RST SP_TCP_RST
#define FIN SP_TCP_FIN
#define PSH SP_TCP_PSH

#define IDLE_MS 10000
#define INTVL_MS 2000

/* A probe: one below what we sent, no text, acknowledging everything received. */
static void expect_probe(struct th *t, uint32_t next_seq, uint32_t ack)
{
    th_expect(t, ACK, next_seq - 1, ack, -1, 0);
}

static void test_off_by_default(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    uint32_t idle = 1;
    sp_tcp_get_keepalive(t->conn, &idle, NULL, NULL);
    assert_int_equal(idle, 0);
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), SP_TIME_NEVER);
    th_advance(t, T0 + 24u * 3600 * 1000);
    th_expect_nothing(t);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    th_close(t);
}

/* Probes at idle, idle + interval, ...; after `count` unanswered ones a reset and SP_ETIMEDOUT. */
static void test_unanswered_probes_end_the_connection(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    assert_int_equal(sp_tcp_set_keepalive(t->conn, IDLE_MS / 1000, INTVL_MS / 1000, 3), 0);
    th_advance(t, T0 + IDLE_MS - 1);
    th_expect_nothing(t);
    for (int i = 0; i < 3; i++) {
        th_advance(t, T0 + IDLE_MS + (sp_time_t)i * INTVL_MS);
        expect_probe(t, 1, 1);
        th_advance(t, T0 + IDLE_MS + (sp_time_t)(i + 1) * INTVL_MS - 1);
        th_expect_nothing(t);
    }
    th_advance(t, T0 + IDLE_MS + 3 * INTVL_MS);
    th_expect(t, RST | ACK, 1, 1, 0, 0);
    assert_int_equal(t->closed, 1);
    assert_int_equal(t->close_status, SP_ETIMEDOUT);
    assert_int_equal(th_stat(t, SP_STAT_tcp_keepalive_probe), 3);
    assert_int_equal(th_stat(t, SP_STAT_tcp_keepalive_timeout), 1);
    th_close(t);
}

/* The peer's answer to a probe (an ACK at RCV.NXT) starts the idle time again. */
static void test_answered_probe_restarts_idle(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_set_keepalive(t->conn, IDLE_MS / 1000, INTVL_MS / 1000, 2);
    th_advance(t, T0 + IDLE_MS);
    expect_probe(t, 1, 1);
    th_send(t, T0 + IDLE_MS + 5, ACK, 1, 1, 65535, NULL, 0);
    th_expect_nothing(t);
    th_advance(t, T0 + IDLE_MS + 5 + IDLE_MS - 1);
    th_expect_nothing(t);
    th_advance(t, T0 + IDLE_MS + 5 + IDLE_MS);
    expect_probe(t, 1, 1);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    th_close(t);
}

/* Data from the peer is life too; and while our data waits for its ACK no probe goes (the
 * retransmission timer watches the peer), the sequence number following what we sent. */
static void test_traffic_defers_probes(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_set_keepalive(t->conn, IDLE_MS / 1000, INTVL_MS / 1000, 2);
    th_send(t, T0 + 5000, ACK | PSH, 1, 1, 65535, "hello", 5);
    th_advance(t, T0 + 5000 + SP_TCP_DELACK_MS);
    th_expect(t, ACK, 1, 6, -1, 0);   /* the delayed ACK */
    th_advance(t, T0 + 5000 + IDLE_MS - 1);
    th_expect_nothing(t);
    assert_int_equal(sp_tcp_send(t->conn, "abc", 3), 3);
    th_expect(t, ACK | PSH, 1, 6, -1, 3);
    /* unacknowledged: the RTO resends, no probe */
    th_advance(t, T0 + 5000 + IDLE_MS + 150);
    th_expect_nothing(t);
    th_send(t, T0 + 5000 + IDLE_MS + 200, ACK, 6, 4, 65535, NULL, 0);
    th_advance(t, T0 + 5000 + IDLE_MS + 200 + IDLE_MS);
    expect_probe(t, 4, 6);
    th_close(t);
}

/* Connections a listener makes take its setting; turning it off stops the probes. */
static void test_inherited_from_listener_and_off(void **state)
{
    (void)state;
    struct th *t = th_open();
    assert_int_equal(sp_tcp_set_keepalive(t->listener, IDLE_MS / 1000, INTVL_MS / 1000, 4), 0);
    th_establish(t);
    uint32_t idle, intvl, count;
    sp_tcp_get_keepalive(t->conn, &idle, &intvl, &count);
    assert_int_equal(idle, IDLE_MS / 1000);
    assert_int_equal(intvl, INTVL_MS / 1000);
    assert_int_equal(count, 4);
    th_advance(t, T0 + IDLE_MS);
    expect_probe(t, 1, 1);
    assert_int_equal(sp_tcp_set_keepalive(t->conn, 0, 0, 0), 0);
    th_advance(t, T0 + 10 * IDLE_MS);
    th_expect_nothing(t);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    th_close(t);
}

/* An active open probes too, counted from the SYN-ACK; in FIN-WAIT-2 as well (a peer that
 * vanished without its FIN). */
static void test_active_open_and_fin_wait_2(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    struct sp_tcp *c = NULL;
    assert_int_equal(sp_tcp_connect(t->iface, PEER_IP, 5000, &th_cbs, t, &c), 0);
    t->conn = c;
    t->iss = th_take(t)->tcp.seq;
    assert_int_equal(sp_tcp_set_keepalive(c, IDLE_MS / 1000, INTVL_MS / 1000, 1), 0);
    struct seg_opts srv = {.wscale = 0, .mss = 1460, .sport = 5000, .dport = SP_TCP_EPHEMERAL_FIRST};
    th_send_ex(t, T0 + 3000, SYN | ACK, 0, 1, 65535, NULL, 0, srv);
    th_expect(t, ACK, 1, 1, -1, 0);
    assert_int_equal(sp_tcp_shutdown(c), 0);
    th_expect(t, FIN | ACK, 1, 1, -1, 0);
    srv.wscale = -1;
    srv.mss = 0;
    th_send_ex(t, T0 + 3010, ACK, 1, 2, 65535, NULL, 0, srv);
    assert_int_equal(sp_tcp_get_state(c), SP_TCP_FIN_WAIT_2);
    th_advance(t, T0 + 3010 + IDLE_MS);
    expect_probe(t, 2, 1);
    th_advance(t, T0 + 3010 + IDLE_MS + INTVL_MS);
    th_expect(t, RST | ACK, 2, 1, 0, 0);
    assert_int_equal(t->close_status, SP_ETIMEDOUT);
    th_close(t);
}

/* Turned on after a long silence: the idle time counts from then, not from the peer's last
 * segment (no probe at once); changed while on, it counts from the peer's last segment. */
static void test_turned_on_late(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    th_advance(t, T0 + 50000);
    assert_int_equal(sp_tcp_set_keepalive(t->conn, IDLE_MS / 1000, INTVL_MS / 1000, 2), 0);
    th_advance(t, T0 + 50000 + IDLE_MS - 1);
    th_expect_nothing(t);
    th_advance(t, T0 + 50000 + IDLE_MS);
    expect_probe(t, 1, 1);
    th_send(t, T0 + 61000, ACK, 1, 1, 65535, NULL, 0);
    th_advance(t, T0 + 65000);
    assert_int_equal(sp_tcp_set_keepalive(t->conn, 4, INTVL_MS / 1000, 2), 0);   /* due at once */
    th_advance(t, T0 + 65000);
    expect_probe(t, 1, 1);
    th_close(t);
}

static void test_bad_settings(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    assert_int_equal(sp_tcp_set_keepalive(t->conn, 10, 0, 3), SP_EINVAL);
    assert_int_equal(sp_tcp_set_keepalive(t->conn, 10, 1, 0), SP_EINVAL);
    assert_int_equal(sp_tcp_set_keepalive(t->conn, 10, 1, 256), SP_EINVAL);
    assert_int_equal(sp_tcp_set_keepalive(t->conn, SP_TCP_KEEPALIVE_MAX_S + 1, 1, 1), SP_EINVAL);
    assert_int_equal(sp_tcp_set_keepalive(t->conn, 10, SP_TCP_KEEPALIVE_MAX_S + 1, 1), SP_EINVAL);
    assert_int_equal(sp_tcp_set_keepalive(t->conn, SP_TCP_KEEPALIVE_MAX_S, SP_TCP_KEEPALIVE_MAX_S, 255), 0);
    th_close(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_off_by_default),
        cmocka_unit_test(test_unanswered_probes_end_the_connection),
        cmocka_unit_test(test_answered_probe_restarts_idle),
        cmocka_unit_test(test_traffic_defers_probes),
        cmocka_unit_test(test_inherited_from_listener_and_off),
        cmocka_unit_test(test_active_open_and_fin_wait_2),
        cmocka_unit_test(test_turned_on_late),
        cmocka_unit_test(test_bad_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
