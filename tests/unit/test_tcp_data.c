/* TCP scenarios for data transfer: delayed ACK, out-of-order assembly, duplicates, the receive
 * window (zero window, updates), Nagle, the peer's window and scaling, RTO with backoff (RFC 6298),
 * go-back-N after a timeout, fast retransmit (RFC 5681), persist probes, giving up. */
#include "tcp_harness.h"

#define SYN SP_TCP_SYN
#define ACK SP_TCP_ACK
#define RST SP_TCP_RST
#define FIN SP_TCP_FIN
#define PSH SP_TCP_PSH

static uint8_t big[70000];

/* One segment, less than two full ones: the ACK waits SP_TCP_DELACK_MS. */
static void test_delayed_ack(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    t->auto_read = true;
    th_send(t, T0 + 10, ACK | PSH, 1, 1, 65535, "hello", 5);
    assert_int_equal(t->readable, 1);
    assert_int_equal(t->rx_len, 5);
    assert_memory_equal(t->rx, "hello", 5);
    th_advance(t, T0 + 10 + SP_TCP_DELACK_MS - 1);
    th_expect_nothing(t);
    th_advance(t, T0 + 10 + SP_TCP_DELACK_MS);
    th_expect(t, ACK, 1, 6, 32768, 0);
    th_close(t);
}

/* Every second full-sized segment is acknowledged at once (RFC 5681 4.2). */
static void test_ack_every_second_segment(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    t->auto_read = true;
    th_send(t, T0, ACK, 1, 1, 65535, big, 1460);
    th_expect_nothing(t);
    th_send(t, T0, ACK, 1461, 1, 65535, big, 1460);
    th_expect(t, ACK, 1, 2921, 32768, 0);
    th_close(t);
}

/* Smaller segments: acknowledged at once as soon as more than a full segment's worth is waiting
 * for its ACK; a single segment larger than our MSS too. */
static void test_ack_after_more_than_a_segment(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    t->auto_read = true;
    th_send(t, T0, ACK, 1, 1, 65535, big, 700);
    th_send(t, T0, ACK, 701, 1, 65535, big, 700);
    th_expect_nothing(t);
    th_send(t, T0, ACK, 1401, 1, 65535, big, 700);
    th_expect(t, ACK, 1, 2101, 32768, 0);
    th_send(t, T0 + 1, ACK, 2101, 1, 65535, big, 2000);
    th_expect(t, ACK, 1, 4101, 32768, 0);
    th_close(t);
}

/* Out of order: each early segment is kept and answered with a duplicate ACK at once; the one
 * that fills the gap is acknowledged at once up to the end of everything kept. */
static void test_out_of_order_assembly(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    t->auto_read = true;
    uint8_t data[4380];
    th_fill(data, sizeof data, 3);
    th_send(t, T0, ACK, 2921, 1, 65535, data + 2920, 1460);
    th_expect(t, ACK, 1, 1, -1, 0);
    th_send(t, T0, ACK, 1461, 1, 65535, data + 1460, 1460);
    th_expect(t, ACK, 1, 1, -1, 0);
    assert_int_equal(t->rx_len, 0);
    th_send(t, T0, ACK, 1, 1, 65535, data, 1460);
    th_expect(t, ACK, 1, 4381, 32768, 0);
    assert_int_equal(t->rx_len, sizeof data);
    assert_memory_equal(t->rx, data, sizeof data);
    th_close(t);
}

/* Overlapping and repeated pieces assemble to the same bytes. */
static void test_overlapping_segments(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    t->auto_read = true;
    uint8_t data[3000];
    th_fill(data, sizeof data, 9);
    th_send(t, T0, ACK, 1001, 1, 65535, data + 1000, 1000);   /* [1000,2000) */
    th_send(t, T0, ACK, 1501, 1, 65535, data + 1500, 1500);   /* [1500,3000) overlaps */
    th_send(t, T0, ACK, 501, 1, 65535, data + 500, 700);      /* [500,1200) */
    th_send(t, T0, ACK, 1, 1, 65535, data, 600);              /* [0,600) fills the gap */
    assert_int_equal(t->rx_len, sizeof data);
    assert_memory_equal(t->rx, data, sizeof data);
    th_send(t, T0, ACK, 1, 1, 65535, data, 3000);             /* all old: a duplicate */
    assert_int_equal(t->rx_len, sizeof data);
    struct out_seg *last = &t->out[t->nout - 1];
    assert_int_equal(last->tcp.ack - PEER_ISN, 3001);
    th_close(t);
}

/* A segment entirely before RCV.NXT is acknowledged at once (the peer missed our ACK). */
static void test_old_duplicate_acked(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    t->auto_read = true;
    th_send(t, T0, ACK, 1, 1, 65535, "abc", 3);
    th_send(t, T0 + 1, ACK, 1, 1, 65535, "abc", 3);
    th_expect(t, ACK, 1, 4, -1, 0);
    assert_int_equal(t->rx_len, 3);
    th_close(t);
}

/* The window shrinks as unread data piles up, reaches zero; text at a zero window is dropped but
 * its ACK processed; reading reopens it with an update once it grew by a full segment. */
static void test_zero_window_and_update(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    for (uint32_t off = 0; off < TH_BUF; off += 1024)
        th_send(t, T0, ACK, 1 + off, 1, 65535, big, 1024);
    struct out_seg *last = &t->out[t->nout - 1];
    assert_int_equal(last->tcp.ack - PEER_ISN, 1 + TH_BUF);
    assert_int_equal(last->tcp.window, 0);
    t->taken = t->nout;
    th_send(t, T0 + 1, ACK, 1 + TH_BUF, 1, 65535, "x", 1);
    th_expect(t, ACK, 1, 1 + TH_BUF, 0, 0);
    assert_int_equal(sp_tcp_recv_pending(t->conn), TH_BUF);
    uint8_t buf[1000];
    assert_int_equal(sp_tcp_recv(t->conn, buf, sizeof buf), 1000);
    th_expect_nothing(t);                 /* 1000 bytes: too small to announce (SWS avoidance) */
    assert_int_equal(sp_tcp_recv(t->conn, buf, sizeof buf), 1000);
    th_expect(t, ACK, 1, 1 + TH_BUF, 1000, 0);
    th_close(t);
}

/* Nagle: full segments go at once; the small tail waits while data is unacknowledged. */
static void test_nagle(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    assert_int_equal(sp_tcp_send(t->conn, big, 3000), 3000);
    th_expect(t, ACK, 1, 1, -1, 1460);
    th_expect(t, ACK, 1461, 1, -1, 1460);
    th_expect_nothing(t);
    th_send(t, T0 + 5, ACK, 1, 1461, 65535, NULL, 0);
    th_expect_nothing(t);                 /* still one segment in flight */
    th_send(t, T0 + 6, ACK, 1, 2921, 65535, NULL, 0);
    th_expect(t, ACK | PSH, 2921, 1, -1, 80);
    assert_true(t->writable >= 1);
    th_close(t);
}

static void test_nodelay(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_set_nodelay(t->conn, true);
    sp_tcp_send(t->conn, "a", 1);
    sp_tcp_send(t->conn, "b", 1);
    th_expect(t, ACK | PSH, 1, 1, -1, 1);
    struct out_seg *o = th_expect(t, ACK | PSH, 2, 1, -1, 1);
    assert_int_equal(o->data[0], 'b');
    th_close(t);
}

/* The peer's window bounds what is in flight; its updates release more. */
static void test_peer_window_limits(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish_win(t, 1000);
    assert_int_equal(sp_tcp_send(t->conn, big, 2500), 2500);
    th_expect(t, ACK, 1, 1, -1, 1000);
    th_expect_nothing(t);
    th_send(t, T0 + 5, ACK, 1, 1001, 1000, NULL, 0);
    th_expect(t, ACK, 1001, 1, -1, 1000);
    th_send(t, T0 + 6, ACK, 1, 2001, 4000, NULL, 0);
    th_expect(t, ACK | PSH, 2001, 1, -1, 500);
    th_close(t);
}

/* RFC 7323: the peer's window field is shifted by its announced scale. */
static void test_peer_window_scaled(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 2});
    th_send(t, T0, ACK, 1, 1, 100, NULL, 0);   /* 400 bytes */
    sp_tcp_set_nodelay(t->conn, true);
    assert_int_equal(sp_tcp_send(t->conn, big, 1000), 1000);
    th_expect(t, ACK, 1, 1, -1, 400);
    th_expect_nothing(t);
    th_close(t);
}

/* RTO: 200 ms after a handshake sampled at 0 ms (the floor), doubling on each expiry. */
static void test_rto_backoff(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_send(t->conn, "data", 4);
    th_expect(t, ACK | PSH, 1, 1, -1, 4);
    th_advance(t, T0 + 199);
    th_expect_nothing(t);
    th_advance(t, T0 + 200);
    th_expect(t, ACK | PSH, 1, 1, -1, 4);
    th_advance(t, T0 + 599);
    th_expect_nothing(t);
    th_advance(t, T0 + 600);
    th_expect(t, ACK | PSH, 1, 1, -1, 4);
    th_advance(t, T0 + 1400);
    th_expect(t, ACK | PSH, 1, 1, -1, 4);
    assert_int_equal(th_stat(t, SP_STAT_tcp_retransmit), 3);
    th_send(t, T0 + 1500, ACK, 1, 5, 65535, NULL, 0);
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), SP_TIME_NEVER);
    th_close(t);
}

/* After a timeout the congestion window is one segment: resend from SND.UNA one at a time
 * (go-back-N), growing with each ACK; an ACK past what was resent moves SND.NXT forward. */
static void test_rto_go_back_n(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_send(t->conn, big, 4380);
    th_expect(t, ACK, 1, 1, -1, 1460);
    th_expect(t, ACK, 1461, 1, -1, 1460);
    th_expect(t, ACK | PSH, 2921, 1, -1, 1460);
    th_advance(t, T0 + 200);
    th_expect(t, ACK, 1, 1, -1, 1460);
    th_expect_nothing(t);
    th_send(t, T0 + 210, ACK, 1, 2921, 65535, NULL, 0);   /* the peer had the second one */
    th_expect(t, ACK | PSH, 2921, 1, -1, 1460);
    th_close(t);
}

/* Unread data has shrunk the room in our buffer below the window we advertised; the peer, which
 * filled that window, sends its ACK from the right edge. That segment is acceptable and its ACK
 * counts (as in Linux): refusing it left both sides waiting on each other forever once a segment
 * before the edge was lost (seen under --corrupt-chance). */
static void test_ack_from_window_edge_accepted(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_send(t->conn, big, 1000);
    th_expect(t, ACK | PSH, 1, 1, -1, 1000);
    for (uint32_t off = 0; off < 60000; off += 1000)
        th_send(t, T0 + 1, ACK, 1 + off, 1, 65535, big, 1000);   /* not read by the application */
    th_advance(t, T0 + 100);                                       /* every ACK owed is out */
    t->taken = t->nout;
    uint64_t refused = th_stat(t, SP_STAT_drop_tcp_out_of_window);
    th_send(t, T0 + 110, ACK, 1 + TH_BUF, 1001, 65535, NULL, 0);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_out_of_window), refused);
    assert_int_equal(sp_tcp_send_pending(t->conn), 0);             /* our 1000 bytes are acked */
    th_advance(t, T0 + 5000);
    th_expect_nothing(t);                                          /* so nothing is resent */
    th_close(t);
}

/* After a timeout rewinds SND.NXT (go-back-N), a segment without text still carries SND.MAX: one
 * below what the peer already holds would be ignored by it, ACK field and all. */
static void test_pure_ack_after_go_back_n_carries_snd_max(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_send(t->conn, big, 4380);
    th_expect(t, ACK, 1, 1, -1, 1460);
    th_expect(t, ACK, 1461, 1, -1, 1460);
    th_expect(t, ACK | PSH, 2921, 1, -1, 1460);
    th_advance(t, T0 + 200);
    th_expect(t, ACK, 1, 1, -1, 1460);                              /* the resend; SND.NXT = 1461 */
    th_send(t, T0 + 201, ACK, 100, 1, 65535, big, 10);             /* out of order: ACK at once */
    th_expect(t, ACK, 4381, 1, -1, 0);
    th_close(t);
}

/* Three duplicate ACKs: the first unacknowledged segment goes again at once. */
static void test_fast_retransmit(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_send(t->conn, big, 5 * 1460);
    for (int i = 0; i < 5; i++)
        th_take(t);
    th_send(t, T0 + 5, ACK, 1, 1461, 65535, NULL, 0);
    th_send(t, T0 + 6, ACK, 1, 1461, 65535, NULL, 0);
    th_send(t, T0 + 6, ACK, 1, 1461, 65535, NULL, 0);
    th_expect_nothing(t);
    th_send(t, T0 + 6, ACK, 1, 1461, 65535, NULL, 0);
    th_expect(t, ACK, 1461, 1, -1, 1460);
    assert_int_equal(th_stat(t, SP_STAT_tcp_fast_retransmit), 1);
    /* A partial ACK in recovery: the next hole goes at once too (RFC 6582). */
    th_send(t, T0 + 8, ACK, 1, 2921, 65535, NULL, 0);
    th_expect(t, ACK, 2921, 1, -1, 1460);
    th_close(t);
}

/* A zero window: the persist timer probes with one byte, backing off; an open window resumes. */
static void test_zero_window_probe(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish_win(t, 0);
    sp_tcp_send(t->conn, "0123456789", 10);
    th_expect_nothing(t);
    th_advance(t, T0 + 200);
    struct out_seg *o = th_expect(t, ACK, 1, 1, -1, 1);
    assert_int_equal(o->data[0], '0');
    th_send(t, T0 + 210, ACK, 1, 1, 0, NULL, 0);          /* dropped by the peer, still shut */
    th_advance(t, T0 + 599);
    th_expect_nothing(t);
    th_advance(t, T0 + 600);
    th_expect(t, ACK, 1, 1, -1, 1);
    th_send(t, T0 + 610, ACK, 1, 2, 1000, NULL, 0);      /* took it, and opened */
    th_expect(t, ACK | PSH, 2, 1, -1, 9);
    th_close(t);
}

/* After SP_TCP_MAX_RETRIES timeouts the connection is reset and on_close(SP_ETIMEDOUT). */
static void test_retransmission_gives_up(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_send(t->conn, "x", 1);
    th_advance(t, T0 + 3600000);
    assert_int_equal(t->nout - t->taken, 1 + SP_TCP_MAX_RETRIES + 1);
    assert_int_equal(t->out[t->nout - 1].tcp.flags, RST | ACK);
    assert_int_equal(t->closed, 1);
    assert_int_equal(t->close_status, SP_ETIMEDOUT);
    th_close(t);
}

/* A retransmitted segment is not timed (Karn); the next fresh one is, and RTO follows SRTT. */
static void test_rtt_estimate(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_set_nodelay(t->conn, true);
    sp_time_t now = T0;
    for (int i = 0; i < 8; i++) {
        sp_tcp_send(t->conn, "y", 1);
        th_take(t);
        now += 300;
        th_send(t, now, ACK, 1, 2 + (uint32_t)i, 65535, NULL, 0);
    }
    /* SRTT converges towards 300 ms from a first sample of 0: the RTO is above 300 ms now. */
    assert_true(t->conn->rto > 300 && t->conn->rto < 1500);
    th_close(t);
}

/* At most SP_TCP_OOO_RANGES separate holes are kept; a segment needing another is dropped
 * (counted) and still answered with a duplicate ACK; the rest assembles once the holes fill. */
static void test_out_of_order_ranges_bounded(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    t->auto_read = true;
    /* Segments of 100 bytes at 200, 400, ... each leaving a hole before it. */
    for (uint32_t i = 1; i <= SP_TCP_OOO_RANGES + 1; i++)
        th_send(t, T0, ACK, 1 + 200 * i, 1, 65535, big + 200 * i, 100);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_ooo_full), 1);
    assert_int_equal(t->nout - t->taken, SP_TCP_OOO_RANGES + 1);   /* one duplicate ACK each */
    t->taken = t->nout;
    /* Fill every hole and the dropped range in one sweep: everything arrives in order. */
    uint32_t end = 200 * (SP_TCP_OOO_RANGES + 1) + 100;
    th_send(t, T0 + 1, ACK, 1, 1, 65535, big, end);
    assert_int_equal(t->rx_len, end);
    assert_memory_equal(t->rx, big, end);
    th_close(t);
}

/* RFC 6298 5.7: after the SYN(-ACK) was retransmitted, data starts with a 3 s RTO. */
static void test_rto_three_seconds_after_syn_loss(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 0});
    th_advance(t, T0 + SP_TCP_RTO_INITIAL_MS);
    th_expect(t, SYN | ACK, 0, 1, -1, 0);
    th_send(t, T0 + 1100, ACK, 1, 1, 65535, NULL, 0);
    sp_tcp_send(t->conn, "late", 4);
    th_expect(t, ACK | PSH, 1, 1, -1, 4);
    th_advance(t, T0 + 1100 + SP_TCP_RTO_AFTER_SYN_LOSS_MS - 1);
    th_expect_nothing(t);
    th_advance(t, T0 + 1100 + SP_TCP_RTO_AFTER_SYN_LOSS_MS);
    th_expect(t, ACK | PSH, 1, 1, -1, 4);
    th_close(t);
}

/* Many times around the send ring: every byte arrives intact, in MSS-sized segments. */
static void test_send_ring_wraps(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    static uint8_t src[3 * TH_BUF + 777];
    th_fill(src, sizeof src, 11);
    size_t queued = 0, checked = 0;
    sp_time_t now = T0;
    while (checked < sizeof src) {
        long n = sp_tcp_send(t->conn, src + queued, sizeof src - queued);
        if (n > 0)
            queued += (size_t)n;
        if (queued == sizeof src)
            sp_tcp_set_nodelay(t->conn, true);   /* let the tail go */
        while (t->taken < t->nout) {
            struct out_seg *o = th_take(t);
            uint32_t off = o->tcp.seq - t->iss - 1;
            assert_int_equal(off, checked);
            assert_memory_equal(o->data, src + off, o->tcp.payload_len);
            checked += o->tcp.payload_len;
        }
        now += 1;
        th_send(t, now, ACK, 1, 1 + (uint32_t)checked, 65535, NULL, 0);
    }
    assert_int_equal(sp_tcp_send_pending(t->conn), 0);
    th_close(t);
}

/* A peer that keeps its window shut but answers every probe is never given up on. */
static void test_zero_window_answered_forever(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish_win(t, 0);
    sp_tcp_send(t->conn, "abc", 3);
    sp_time_t now = T0;
    for (int i = 0; i < 3 * SP_TCP_MAX_RETRIES; i++) {
        sp_time_t at = sp_tcp_poll_at(t->iface->tcp);
        assert_true(at != SP_TIME_NEVER);
        th_advance(t, at);
        th_expect(t, ACK, 1, 1, -1, 1);
        now = at + 1;
        th_send(t, now, ACK, 1, 1, 0, NULL, 0);
    }
    assert_int_equal(t->closed, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    th_send(t, now + 1, ACK, 1, 1, 100, NULL, 0);
    th_expect(t, ACK | PSH, 1, 1, -1, 3);
    th_close(t);
}

int main(void)
{
    th_fill(big, sizeof big, 5);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delayed_ack),
        cmocka_unit_test(test_ack_every_second_segment),
        cmocka_unit_test(test_ack_after_more_than_a_segment),
        cmocka_unit_test(test_out_of_order_assembly),
        cmocka_unit_test(test_overlapping_segments),
        cmocka_unit_test(test_old_duplicate_acked),
        cmocka_unit_test(test_zero_window_and_update),
        cmocka_unit_test(test_ack_from_window_edge_accepted),
        cmocka_unit_test(test_pure_ack_after_go_back_n_carries_snd_max),
        cmocka_unit_test(test_nagle),
        cmocka_unit_test(test_nodelay),
        cmocka_unit_test(test_peer_window_limits),
        cmocka_unit_test(test_peer_window_scaled),
        cmocka_unit_test(test_rto_backoff),
        cmocka_unit_test(test_rto_go_back_n),
        cmocka_unit_test(test_fast_retransmit),
        cmocka_unit_test(test_zero_window_probe),
        cmocka_unit_test(test_retransmission_gives_up),
        cmocka_unit_test(test_rtt_estimate),
        cmocka_unit_test(test_out_of_order_ranges_bounded),
        cmocka_unit_test(test_rto_three_seconds_after_syn_loss),
        cmocka_unit_test(test_send_ring_wraps),
        cmocka_unit_test(test_zero_window_answered_forever),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
