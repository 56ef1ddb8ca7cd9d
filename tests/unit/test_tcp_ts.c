/* TCP scenarios for timestamps (RFC 7323): negotiation on the SYNs (3.2), the option on every
 * segment and the MSS it takes (RFC 6691), the echo of TS.Recent (4.3) with delayed and
 * out-of-order ACKs, RTT samples from the echo (4.1-4.2), PAWS (5.3) and its 24-day rule (5.5),
 * segments without the option (3.2), the per-connection clock (5.4). */
#include "tcp_opts_harness.h"

#define SYN SP_TCP_SYN
#define ACK SP_TCP_ACK
#define RST SP_TCP_RST
#define FIN SP_TCP_FIN
#define PSH SP_TCP_PSH

static uint8_t big[70000];

static struct pk_opts ts(uint32_t val, uint32_t ecr) { return (struct pk_opts){.ts = true, .tsval = val, .tsecr = ecr}; }

/* A SYN with TSopt is answered with one echoing its TSval; a SYN without gets none; turned off,
 * none either (RFC 7323 3.2). */
static void test_negotiated_only_when_offered(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct out_seg *s = th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 0, .ts = true});
    assert_true(s->tcp.has_timestamp);
    assert_int_equal(s->tcp.ts_ecr, 12345);
    th_close(t);

    t = th_open();
    s = th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 0});
    assert_false(s->tcp.has_timestamp);
    /* Not negotiated: the ACK and data carry none, and need none. */
    th_send(t, T0, ACK, 1, 1, 65535, NULL, 0);
    assert_false(t->conn->ts.ok);
    assert_int_equal(sp_tcp_send(t->conn, "x", 1), 1);
    assert_false(th_expect(t, ACK | PSH, 1, 1, -1, 1)->tcp.has_timestamp);
    th_close(t);

    t = th_open();
    sp_tcp_set_timestamps(t->iface, false);
    s = th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 0, .ts = true});
    assert_false(s->tcp.has_timestamp);
    th_close(t);
}

/* An active open offers TSopt with a zero echo; the SYN-ACK's decides, and our ACK echoes it. */
static void test_active_open(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    assert_int_equal(sp_tcp_connect(t->iface, PEER_IP, PEER_PORT, &th_cbs, t, &t->conn), 0);
    struct out_seg *s = th_take(t);
    assert_true(s->tcp.has_timestamp);
    assert_int_equal(s->tcp.ts_ecr, 0);
    t->iss = s->tcp.seq;
    uint32_t our_val = s->tcp.ts_val;
    uint16_t lport = s->tcp.src_port;
    struct sp_tcp_repr r = {.src_port = PEER_PORT, .dst_port = lport, .seq = PEER_ISN, .ack = t->iss + 1,
                            .flags = SYN | ACK, .window = 65535, .mss = 1460, .wscale = -1,
                            .has_timestamp = true, .ts_val = 777, .ts_ecr = our_val};
    uint8_t buf[80];
    size_t n = sp_tcp_repr_buffer_len(&r);
    sp_tcp_repr_emit(&r, PEER_IP, US_IP, buf);
    struct sp_ipv4_repr ip = {.src = PEER_IP, .dst = US_IP, .protocol = SP_IP_PROTO_TCP, .ttl = 64,
                              .payload_len = (uint16_t)n};
    sp_tcp_input(t->iface->tcp, T0 + 10, &ip, buf, n);
    assert_int_equal(t->connect_status, 0);
    struct out_seg *a = th_expect(t, ACK, 1, 1, -1, 0);
    assert_true(a->tcp.has_timestamp);
    assert_int_equal(a->tcp.ts_ecr, 777);
    assert_int_equal(a->tcp.ts_val, our_val + 10);   /* a 1 ms clock */
    th_close(t);
}

/* Every segment carries TSopt once negotiated, and text shrinks by its 12 bytes (RFC 6691):
 * full segments of 1448. */
static void test_every_segment_and_mss(void **state)
{
    (void)state;
    struct th *t = th_open();
    pk_establish_ts(t, false, 20000);
    assert_int_equal(t->conn->mss, 1448);
    assert_int_equal(sp_tcp_send(t->conn, big, 3000), 3000);
    struct out_seg *o = th_expect(t, ACK, 1, 1, -1, 1448);
    assert_true(o->tcp.has_timestamp);
    assert_int_equal(o->tcp.ts_ecr, 20000);
    o = th_expect(t, ACK, 1449, 1, -1, 1448);
    assert_true(o->tcp.has_timestamp);
    th_expect_nothing(t);   /* Nagle holds the 104-byte tail */
    sp_tcp_abort(t->conn);
    o = th_expect(t, RST | ACK, 2897, 1, 0, 0);
    assert_true(o->tcp.has_timestamp);   /* SHOULD on a reset too (RFC 7323 3.2) */
    th_close(t);
}

/* RFC 7323 4.3 (A): a delayed ACK echoes the earliest segment it acknowledges. */
static void test_delayed_ack_echoes_earliest(void **state)
{
    (void)state;
    struct th *t = th_open();
    pk_establish_ts(t, false, 20000);
    t->auto_read = true;
    pk_send(t, T0 + 1, ACK | PSH, 1, 1, 65535, "abc", 3, ts(20100, 0));
    pk_send(t, T0 + 2, ACK | PSH, 4, 1, 65535, "def", 3, ts(20200, 0));
    th_expect_nothing(t);
    th_advance(t, T0 + 1 + SP_TCP_DELACK_MS);
    assert_int_equal(th_expect(t, ACK, 1, 7, -1, 0)->tcp.ts_ecr, 20100);
    /* The next one starts where that ACK pointed: it is echoed. */
    pk_send(t, T0 + 50, ACK | PSH, 7, 1, 65535, "ghi", 3, ts(20300, 0));
    th_advance(t, T0 + 50 + SP_TCP_DELACK_MS);
    assert_int_equal(th_expect(t, ACK, 1, 10, -1, 0)->tcp.ts_ecr, 20300);
    th_close(t);
}

/* RFC 7323 4.3 (B): the ACK of an out-of-order segment echoes the last segment that advanced
 * RCV.NXT; the segment filling the gap is echoed. */
static void test_out_of_order_echo(void **state)
{
    (void)state;
    struct th *t = th_open();
    pk_establish_ts(t, false, 20000);
    t->auto_read = true;
    pk_send(t, T0 + 1, ACK, 1461, 1, 65535, big, 1448, ts(20300, 0));
    assert_int_equal(th_expect(t, ACK, 1, 1, -1, 0)->tcp.ts_ecr, 20000);
    pk_send(t, T0 + 2, ACK, 1, 1, 65535, big, 1460, ts(20400, 0));
    assert_int_equal(th_expect(t, ACK, 1, 2909, -1, 0)->tcp.ts_ecr, 20400);
    th_close(t);
}

/* PAWS (RFC 7323 5.3 R1): a segment older than TS.Recent is dropped, counted and answered with
 * an ACK; its text is not taken. A reset is spared. */
static void test_paws(void **state)
{
    (void)state;
    struct th *t = th_open();
    pk_establish_ts(t, false, 20000);
    t->auto_read = true;
    pk_send(t, T0 + 1, ACK | PSH, 1, 1, 65535, "abc", 3, ts(19999, 0));
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_paws), 1);
    assert_int_equal(t->rx_len, 0);
    struct out_seg *o = th_expect(t, ACK, 1, 1, -1, 0);
    assert_int_equal(o->tcp.ts_ecr, 20000);
    th_expect_nothing(t);
    /* The same TSval is not older: taken. */
    pk_send(t, T0 + 2, ACK | PSH, 1, 1, 65535, "abc", 3, ts(20000, 0));
    assert_int_equal(t->rx_len, 3);
    /* An old reset at RCV.NXT still resets. */
    pk_send(t, T0 + 3, RST, 4, 0, 0, NULL, 0, ts(1, 0));
    assert_int_equal(t->closed, 1);
    assert_int_equal(t->close_status, SP_ECONNRESET);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_paws), 1);
    th_close(t);
}

/* PAWS across the sign wrap of the peer's clock: a TSval just past 2^31 ahead is older. */
static void test_paws_wraps(void **state)
{
    (void)state;
    struct th *t = th_open();
    pk_establish_ts(t, false, 20000);
    t->auto_read = true;
    uint32_t a = 20000 + 0x7fffff00u, b = a + 0x7fffff00u;   /* each less than 2^31 ahead: newer */
    /* Each acknowledged before the next, so each becomes TS.Recent (4.3). */
    pk_send(t, T0 + 1, ACK | PSH, 1, 1, 65535, "a", 1, ts(a, 0));
    th_advance(t, T0 + 100);
    pk_send(t, T0 + 100, ACK | PSH, 2, 1, 65535, "b", 1, ts(b, 0));   /* past 2^32 */
    th_advance(t, T0 + 200);
    assert_true(b < a);
    assert_int_equal(t->rx_len, 2);
    assert_int_equal(t->conn->ts.recent, b);
    pk_send(t, T0 + 200, ACK | PSH, 3, 1, 65535, "c", 1, ts(a, 0));
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_paws), 1);
    assert_int_equal(t->rx_len, 2);
    th_close(t);
}

/* RFC 7323 5.5: after more than 24 days without a segment, TS.Recent is not trusted: an older
 * TSval is taken and becomes TS.Recent. */
static void test_paws_24_days_idle(void **state)
{
    (void)state;
    struct th *t = th_open();
    pk_establish_ts(t, false, 20000);
    t->auto_read = true;
    sp_time_t later = T0 + SP_TCP_PAWS_IDLE_MS + 1000;
    th_advance(t, later);
    pk_send(t, later, ACK | PSH, 1, 1, 65535, "abc", 3, ts(5, 0));
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_paws), 0);
    assert_int_equal(t->rx_len, 3);
    assert_int_equal(t->conn->ts.recent, 5);
    th_close(t);
}

/* A segment without TSopt on a connection that negotiated it is dropped silently, counted
 * (RFC 7323 3.2); a reset without one is taken. */
static void test_segment_without_timestamp(void **state)
{
    (void)state;
    struct th *t = th_open();
    pk_establish_ts(t, false, 20000);
    t->auto_read = true;
    th_send(t, T0 + 1, ACK | PSH, 1, 1, 65535, "abc", 3);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_no_timestamp), 1);
    assert_int_equal(t->rx_len, 0);
    th_expect_nothing(t);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    th_send(t, T0 + 2, RST, 1, 0, 0, NULL, 0);
    assert_int_equal(t->closed, 1);
    th_close(t);
}

/* RTT samples from the echo (RFC 7323 4.1): an ACK of new data gives now - TSecr, also for a
 * retransmitted segment, where Karn's rule leaves the classic timer without one; an echo that
 * is not one of ours gives nothing. */
static void test_rtt_from_echo(void **state)
{
    (void)state;
    struct th *t = th_open();
    uint32_t syn_val = pk_establish_ts(t, false, 20000);
    uint32_t srtt_before = t->conn->srtt8;
    assert_int_equal(sp_tcp_send(t->conn, "abc", 3), 3);
    th_expect(t, ACK | PSH, 1, 1, -1, 3);
    /* The RTO: the retransmission carries a new TSval. */
    th_advance(t, T0 + SP_TCP_RTO_MIN_MS);
    struct out_seg *o = th_expect(t, ACK | PSH, 1, 1, -1, 3);
    uint32_t rtx_val = o->tcp.ts_val;
    assert_int_equal(rtx_val, syn_val + SP_TCP_RTO_MIN_MS);
    /* Acknowledged 80 ms after the retransmission, echoing it: an 80 ms sample. */
    pk_send(t, T0 + SP_TCP_RTO_MIN_MS + 80, ACK, 1, 4, 65535, NULL, 0, ts(20100, rtx_val));
    assert_int_not_equal(t->conn->srtt8, srtt_before);
    assert_int_equal(t->conn->srtt8, srtt_before + (80 * 8 - srtt_before) / 8);
    /* An echo from the future gives nothing (and the retransmission none by Karn's rule). */
    uint32_t srtt = t->conn->srtt8;
    assert_int_equal(sp_tcp_send(t->conn, "d", 1), 1);
    th_take(t);
    th_advance(t, T0 + SP_TCP_RTO_MIN_MS + 80 + SP_TCP_RTO_MIN_MS);
    th_expect(t, ACK | PSH, 4, 1, -1, 1);
    pk_send(t, T0 + 600, ACK, 1, 5, 65535, NULL, 0, ts(20200, rtx_val + 100000));
    assert_int_equal(t->conn->snd_una, t->iss + 5);
    assert_int_equal(t->conn->srtt8, srtt);
    th_close(t);
}

/* The clock: 1 ms per tick, and an offset per connection (RFC 7323 5.4), so two connections at
 * the same moment send different TSvals. */
static void test_clock_offset_per_connection(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct out_seg *a = th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 0, .ts = true});
    th_send_ex(t, T0, SYN, 0, 0, 65535, NULL, 0, (struct seg_opts){.wscale = -1, .ts = true, .sport = PEER_PORT + 1});
    struct out_seg *b = th_take(t);
    assert_true(b->tcp.has_timestamp);
    assert_int_not_equal(a->tcp.ts_val, b->tcp.ts_val);
    th_close(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiated_only_when_offered),
        cmocka_unit_test(test_active_open),
        cmocka_unit_test(test_every_segment_and_mss),
        cmocka_unit_test(test_delayed_ack_echoes_earliest),
        cmocka_unit_test(test_out_of_order_echo),
        cmocka_unit_test(test_paws),
        cmocka_unit_test(test_paws_wraps),
        cmocka_unit_test(test_paws_24_days_idle),
        cmocka_unit_test(test_segment_without_timestamp),
        cmocka_unit_test(test_rtt_from_echo),
        cmocka_unit_test(test_clock_offset_per_connection),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
