/* TCP scenarios: ICMP errors about our segments (RFC 1122 4.2.3.9, RFC 5927) and path MTU
 * discovery (RFC 1191). The errors enter through sp_icmp_input as a router would send them. */
#include "tcp_harness.h"

#define SYN SP_TCP_SYN
#define ACK SP_TCP_ACK
#define RST SP_TCP_RST
#define PSH SP_TCP_PSH

#define ROUTER_IP 0xc00002feu   /* 192.0.2.254 */
#define UNREACH SP_ICMP_DEST_UNREACH

struct quote {
    uint16_t lport, rport;
    uint32_t seq;                /* relative to our ISS */
    uint16_t total_len;          /* of the quoted datagram; 0: 40 */
    uint32_t src;                /* 0: US_IP */
};
#define Q_PASSIVE(seq_) ((struct quote){.lport = US_PORT, .rport = PEER_PORT, .seq = (seq_)})
#define Q_ACTIVE(seq_) ((struct quote){.lport = SP_TCP_EPHEMERAL_FIRST, .rport = 5000, .seq = (seq_)})

/* An ICMP error from a router about the segment q describes: its IP header (DF set) and the first
 * 8 bytes of its TCP header. */
static void icmp_err(struct th *t, sp_time_t now, uint8_t type, uint8_t code, uint16_t mtu, struct quote q)
{
    uint8_t quoted[28], msg[64];
    uint16_t total = q.total_len ? q.total_len : 40;
    struct sp_ipv4_repr qip = {.src = q.src ? q.src : US_IP, .dst = PEER_IP, .protocol = SP_IP_PROTO_TCP,
                               .ttl = 63, .dont_frag = true, .payload_len = (uint16_t)(total - 20)};
    sp_ipv4_repr_emit(&qip, quoted);
    sp_put16(quoted + 20, q.lport);
    sp_put16(quoted + 22, q.rport);
    sp_put32(quoted + 24, t->iss + q.seq);
    struct sp_icmp_repr icmp = {.type = type, .code = code, .mtu = mtu, .data = quoted, .data_len = sizeof quoted};
    sp_icmp_repr_emit(&icmp, msg);
    struct sp_ipv4_repr ip = {.src = ROUTER_IP, .dst = US_IP, .protocol = SP_IP_PROTO_ICMP, .ttl = 64,
                              .payload_len = (uint16_t)sp_icmp_repr_buffer_len(&icmp)};
    t->now = now;
    sp_iface_set_now(t->iface, now);
    sp_icmp_input(t->iface, now, &ip, msg, ip.payload_len);
}

static struct sp_tcp *connect_out(struct th *t)
{
    struct sp_tcp *c = NULL;
    assert_int_equal(sp_tcp_connect(t->iface, PEER_IP, 5000, &th_cbs, t, &c), 0);
    t->conn = c;
    t->iss = th_take(t)->tcp.seq;
    return c;
}

/* ESTABLISHED with 1460 bytes in flight (1:1461). */
static struct sp_tcp *established_with_flight(struct th *t)
{
    th_establish(t);
    static uint8_t data[1460];
    th_fill(data, sizeof data, 1);
    assert_int_equal(sp_tcp_send(t->conn, data, sizeof data), (long)sizeof data);
    th_expect(t, ACK | PSH, 1, 1, -1, 1460);
    return t->conn;
}

/* --- which errors reach a connection (RFC 5927) --------------------------------------------------- */

static void test_error_must_quote_our_segment(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct sp_tcp *c = established_with_flight(t);
    /* from someone else's address, for no connection, outside what is in flight */
    icmp_err(t, T0 + 10, UNREACH, SP_ICMP_UNREACH_HOST, 0, (struct quote){US_PORT, PEER_PORT, 1, 0, 0xc0000209});
    icmp_err(t, T0 + 10, UNREACH, SP_ICMP_UNREACH_HOST, 0, (struct quote){US_PORT, PEER_PORT + 1, 1, 0, 0});
    icmp_err(t, T0 + 10, UNREACH, SP_ICMP_UNREACH_HOST, 0, Q_PASSIVE(0));      /* SND.UNA - 1 */
    icmp_err(t, T0 + 10, UNREACH, SP_ICMP_UNREACH_HOST, 0, Q_PASSIVE(1461));   /* SND.NXT */
    icmp_err(t, T0 + 10, UNREACH, SP_ICMP_UNREACH_FRAG_NEEDED, 1000, Q_PASSIVE(5000));
    assert_int_equal(th_stat(t, SP_STAT_drop_icmp_bad_quote), 1);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_icmp_no_conn), 1);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_icmp_bad_seq), 3);
    assert_int_equal(th_stat(t, SP_STAT_tcp_icmp_rx), 4);
    assert_int_equal(sp_tcp_get_soft_error(c), 0);
    assert_int_equal(sp_tcp_get_mss(c), 1460);
    /* the first and the last byte in flight are both fine */
    icmp_err(t, T0 + 10, UNREACH, SP_ICMP_UNREACH_HOST, 0, Q_PASSIVE(1));
    icmp_err(t, T0 + 10, UNREACH, SP_ICMP_UNREACH_NET, 0, Q_PASSIVE(1460));
    assert_int_equal(th_stat(t, SP_STAT_tcp_icmp_soft_error), 2);
    th_expect_nothing(t);
    th_close(t);
}

/* Source quench (RFC 6633), redirects and unknown codes do nothing; errors about UDP are only
 * counted. */
static void test_ignored_errors(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct sp_tcp *c = established_with_flight(t);
    icmp_err(t, T0 + 10, 4, 0, 0, Q_PASSIVE(1));
    icmp_err(t, T0 + 10, 5, 1, 0, Q_PASSIVE(1));
    icmp_err(t, T0 + 10, UNREACH, 16, 0, Q_PASSIVE(1));
    icmp_err(t, T0 + 10, SP_ICMP_TIME_EXCEEDED, 2, 0, Q_PASSIVE(1));
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_icmp_ignored), 4);
    assert_int_equal(sp_tcp_get_soft_error(c), 0);
    assert_int_equal(th_stat(t, SP_STAT_icmp_error_rx), 4);
    th_expect_nothing(t);
    th_close(t);
}

/* --- before the connection is synchronized ------------------------------------------------------- */

static void expect_connect_fails(uint8_t type, uint8_t code, int err)
{
    struct th *t = th_open_backlog(-1);
    connect_out(t);
    icmp_err(t, T0 + 30, type, code, 0, Q_ACTIVE(0));
    assert_int_equal(t->connected, 1);
    assert_int_equal(t->connect_status, err);
    assert_int_equal(t->closed, 1);
    assert_int_equal(t->close_status, err);
    assert_int_equal(th_stat(t, SP_STAT_tcp_icmp_aborted), 1);
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), SP_TIME_NEVER);
    th_expect_nothing(t);
    th_close(t);
}

/* SYN-SENT: hard errors and soft ones end the open (RFC 1122 4.2.3.9, RFC 5461). */
static void test_syn_sent_errors_end_the_open(void **state)
{
    (void)state;
    expect_connect_fails(UNREACH, SP_ICMP_UNREACH_PORT, SP_ECONNREFUSED);
    expect_connect_fails(UNREACH, SP_ICMP_UNREACH_PROTOCOL, SP_ECONNREFUSED);
    expect_connect_fails(UNREACH, SP_ICMP_UNREACH_NET, SP_ENOROUTE);
    expect_connect_fails(UNREACH, SP_ICMP_UNREACH_HOST, SP_ENOROUTE);
    expect_connect_fails(UNREACH, 13, SP_ENOROUTE);   /* administratively prohibited */
    expect_connect_fails(SP_ICMP_TIME_EXCEEDED, 0, SP_ENOROUTE);
    expect_connect_fails(SP_ICMP_PARAM_PROBLEM, 0, SP_EMALFORMED);
}

/* SYN-SENT: Fragmentation Needed about a SYN means nothing; the open goes on. */
static void test_syn_sent_frag_needed_ignored(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    struct sp_tcp *c = connect_out(t);
    icmp_err(t, T0 + 30, UNREACH, SP_ICMP_UNREACH_FRAG_NEEDED, 40, Q_ACTIVE(0));
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_icmp_pmtu), 1);
    assert_int_equal(sp_tcp_get_state(c), SP_TCP_SYN_SENT);
    assert_int_equal(sp_tcp_get_path_mtu(c), 1500);
    assert_int_equal(t->connected, 0);
    th_close(t);
}

/* A passive open ends quietly on an error about its SYN-ACK, soft or hard, and gives its backlog
 * slot back; the peer's ACK then finds no connection. */
static void test_syn_received(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(1);
    th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 0});
    icmp_err(t, T0 + 10, UNREACH, SP_ICMP_UNREACH_HOST, 0, Q_PASSIVE(0));
    assert_int_equal(th_stat(t, SP_STAT_tcp_icmp_aborted), 1);
    th_send(t, T0 + 20, ACK, 1, 1, 65535, NULL, 0);
    th_expect(t, RST, 1, 0, 0, 0);
    assert_int_equal(t->accepts, 0);

    /* the slot is free (backlog 1): the next SYN gets its SYN-ACK; a port unreachable ends it too */
    th_send_ex(t, T0 + 30, SYN, 0, 0, 65535, NULL, 0, (struct seg_opts){.mss = 1460, .wscale = 0, .sport = 40001});
    t->iss = th_take(t)->tcp.seq;
    icmp_err(t, T0 + 40, UNREACH, SP_ICMP_UNREACH_PORT, 0, (struct quote){US_PORT, 40001, 0, 0, 0});
    assert_int_equal(th_stat(t, SP_STAT_tcp_icmp_aborted), 2);
    th_send_ex(t, T0 + 50, SYN, 0, 0, 65535, NULL, 0, (struct seg_opts){.mss = 1460, .wscale = 0, .sport = 40002});
    assert_int_equal(th_take(t)->tcp.flags, SYN | ACK);
    assert_int_equal(t->accepts, 0);
    assert_int_equal(t->closed, 0);
    th_close(t);
}

/* --- synchronized: soft errors --------------------------------------------------------------------- */

/* Every error is soft once synchronized, hard codes included (RFC 5927); new data acknowledged
 * forgets it. */
static void test_established_errors_are_soft(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct sp_tcp *c = established_with_flight(t);
    icmp_err(t, T0 + 10, UNREACH, SP_ICMP_UNREACH_PORT, 0, Q_PASSIVE(1));
    assert_int_equal(sp_tcp_get_state(c), SP_TCP_ESTABLISHED);
    assert_int_equal(sp_tcp_get_soft_error(c), SP_ECONNREFUSED);
    icmp_err(t, T0 + 10, UNREACH, SP_ICMP_UNREACH_HOST, 0, Q_PASSIVE(1));
    assert_int_equal(sp_tcp_get_soft_error(c), SP_ENOROUTE);
    assert_int_equal(th_stat(t, SP_STAT_tcp_icmp_soft_error), 2);
    assert_int_equal(t->closed, 0);
    th_expect_nothing(t);
    /* a duplicate ACK does not forget it, new data acknowledged does */
    th_send(t, T0 + 20, ACK, 1, 1, 65535, NULL, 0);
    assert_int_equal(sp_tcp_get_soft_error(c), SP_ENOROUTE);
    th_send(t, T0 + 30, ACK, 1, 1461, 65535, NULL, 0);
    assert_int_equal(sp_tcp_get_soft_error(c), 0);
    th_close(t);
}

/* A connection that times out after a soft error reports the error, not SP_ETIMEDOUT. */
static void test_timeout_reports_the_soft_error(void **state)
{
    (void)state;
    struct th *t = th_open();
    established_with_flight(t);
    icmp_err(t, T0 + 10, SP_ICMP_TIME_EXCEEDED, 0, 0, Q_PASSIVE(1));
    th_advance(t, T0 + 10 * 60 * 1000);
    assert_int_equal(t->closed, 1);
    assert_int_equal(t->close_status, SP_ENOROUTE);
    th_close(t);

    t = th_open();
    established_with_flight(t);
    th_advance(t, T0 + 10 * 60 * 1000);
    assert_int_equal(t->close_status, SP_ETIMEDOUT);
    th_close(t);
}

/* --- path MTU (RFC 1191) --------------------------------------------------------------------------- */

/* Every segment leaves with DF: routers report a path too narrow instead of fragmenting. */
static void test_segments_carry_df(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct out_seg *s = th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 0});
    assert_true(s->ip.dont_frag);
    th_send(t, T0, ACK, 1, 1, 65535, NULL, 0);
    assert_int_equal(sp_tcp_send(t->conn, "x", 1), 1);
    assert_true(th_expect(t, ACK | PSH, 1, 1, -1, 1)->ip.dont_frag);
    th_close(t);
}

/* Fragmentation Needed, MTU 1000: MSS 960, the segment again at once in a 960-byte piece, the rest
 * when that is acknowledged (one segment first, RFC 1191 6.4), the window back as before. */
static void test_frag_needed_lowers_mss(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct sp_tcp *c = established_with_flight(t);
    uint32_t cwnd = c->cwnd;
    icmp_err(t, T0 + 10, UNREACH, SP_ICMP_UNREACH_FRAG_NEEDED, 1000, Q_PASSIVE(1));
    assert_int_equal(sp_tcp_get_path_mtu(c), 1000);
    assert_int_equal(sp_tcp_get_mss(c), 960);
    assert_int_equal(th_stat(t, SP_STAT_tcp_pmtu_lowered), 1);
    assert_true(th_expect(t, ACK, 1, 1, -1, 960)->ip.dont_frag);
    th_expect_nothing(t);
    assert_int_equal(th_stat(t, SP_STAT_tcp_retransmit), 1);
    assert_int_equal(sp_tcp_get_soft_error(c), 0);   /* not an error for the application */
    th_send(t, T0 + 20, ACK, 1, 961, 65535, NULL, 0);
    th_expect(t, ACK | PSH, 961, 1, -1, 500);
    th_send(t, T0 + 30, ACK, 1, 1461, 65535, NULL, 0);
    assert_true(c->ssthresh >= cwnd);   /* not congestion: slow start climbs back to it */
    th_close(t);
}

/* A second message about the same flight with the same MTU, or one with a larger MTU, changes
 * nothing: the path MTU only goes down (RFC 1191 3). */
static void test_path_mtu_never_raised(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct sp_tcp *c = established_with_flight(t);
    icmp_err(t, T0 + 10, UNREACH, SP_ICMP_UNREACH_FRAG_NEEDED, 1000, Q_PASSIVE(1));
    th_expect(t, ACK, 1, 1, -1, 960);
    icmp_err(t, T0 + 11, UNREACH, SP_ICMP_UNREACH_FRAG_NEEDED, 1000, Q_PASSIVE(1));
    icmp_err(t, T0 + 12, UNREACH, SP_ICMP_UNREACH_FRAG_NEEDED, 1400, Q_PASSIVE(1));
    th_expect_nothing(t);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_icmp_pmtu), 2);
    assert_int_equal(sp_tcp_get_path_mtu(c), 1000);
    assert_int_equal(sp_tcp_get_mss(c), 960);
    th_close(t);
}

/* An MTU below SP_TCP_PMTU_MIN: 576 (MSS 536) and no DF from then on, so routers fragment. */
static void test_path_mtu_floor(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct sp_tcp *c = established_with_flight(t);
    icmp_err(t, T0 + 10, UNREACH, SP_ICMP_UNREACH_FRAG_NEEDED, 296, Q_PASSIVE(1));
    assert_int_equal(sp_tcp_get_path_mtu(c), SP_TCP_PMTU_MIN);
    assert_int_equal(sp_tcp_get_mss(c), SP_TCP_PMTU_MIN - 40);
    assert_false(th_expect(t, ACK, 1, 1, -1, 536)->ip.dont_frag);
    /* already at the floor: a still smaller MTU changes nothing more */
    icmp_err(t, T0 + 11, UNREACH, SP_ICMP_UNREACH_FRAG_NEEDED, 100, Q_PASSIVE(1));
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_icmp_pmtu), 1);
    th_expect_nothing(t);
    th_close(t);
}

/* No next-hop MTU (a router older than RFC 1191): the plateau below the quoted length (RFC 1191 5),
 * 1492 below 1496; a length not below the path MTU may be a 4.2BSD router's, header length added:
 * 1500 is taken for 1480, and the plateau below that is 1006. */
static void test_plateau_without_mtu(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct sp_tcp *c = established_with_flight(t);
    icmp_err(t, T0 + 10, UNREACH, SP_ICMP_UNREACH_FRAG_NEEDED, 0, (struct quote){US_PORT, PEER_PORT, 1, 1496, 0});
    assert_int_equal(sp_tcp_get_path_mtu(c), 1492);
    assert_int_equal(sp_tcp_get_mss(c), 1452);
    th_expect(t, ACK, 1, 1, -1, 1452);
    th_close(t);

    t = th_open();
    c = established_with_flight(t);
    icmp_err(t, T0 + 10, UNREACH, SP_ICMP_UNREACH_FRAG_NEEDED, 0, (struct quote){US_PORT, PEER_PORT, 1, 1500, 0});
    assert_int_equal(sp_tcp_get_path_mtu(c), 1006);
    th_expect(t, ACK, 1, 1, -1, 966);
    th_close(t);
}

/* The peer's MSS was smaller than the new path allows: the path MTU is noted, segments keep
 * their size, and nothing is resent (what was in flight fitted). */
static void test_frag_needed_above_our_segments(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_syn(t, T0, (struct seg_opts){.mss = 500, .wscale = 0});
    th_send(t, T0, ACK, 1, 1, 65535, NULL, 0);
    assert_int_equal(sp_tcp_send(t->conn, "0123456789", 10), 10);
    th_expect(t, ACK | PSH, 1, 1, -1, 10);
    icmp_err(t, T0 + 10, UNREACH, SP_ICMP_UNREACH_FRAG_NEEDED, 1000, Q_PASSIVE(1));
    assert_int_equal(sp_tcp_get_path_mtu(t->conn), 1000);
    assert_int_equal(sp_tcp_get_mss(t->conn), 500);
    th_expect_nothing(t);
    th_close(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_must_quote_our_segment),
        cmocka_unit_test(test_ignored_errors),
        cmocka_unit_test(test_syn_sent_errors_end_the_open),
        cmocka_unit_test(test_syn_sent_frag_needed_ignored),
        cmocka_unit_test(test_syn_received),
        cmocka_unit_test(test_established_errors_are_soft),
        cmocka_unit_test(test_timeout_reports_the_soft_error),
        cmocka_unit_test(test_segments_carry_df),
        cmocka_unit_test(test_frag_needed_lowers_mss),
        cmocka_unit_test(test_path_mtu_never_raised),
        cmocka_unit_test(test_path_mtu_floor),
        cmocka_unit_test(test_plateau_without_mtu),
        cmocka_unit_test(test_frag_needed_above_our_segments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
