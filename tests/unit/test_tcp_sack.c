/* TCP scenarios for selective acknowledgments: SACK-permitted on the SYNs (RFC 2018 2), the blocks
 * our ACKs carry (RFC 2018 4) and D-SACK (RFC 2883 4), the sender's scoreboard and SACK-based loss
 * recovery (RFC 6675): duplicate ACKs, IsLost, limited transmit, NextSeg's order, the rescue
 * retransmission, the end of recovery, an RTO, and blocks that are D-SACKs or wrong. */
#include "tcp_opts_harness.h"

#define SYN SP_TCP_SYN
#define ACK SP_TCP_ACK
#define RST SP_TCP_RST
#define FIN SP_TCP_FIN
#define PSH SP_TCP_PSH
#define S(k) (1 + ((k) - 1) * 1460u)   /* first octet of the k-th full segment */

static uint8_t big[70000];

/* --- negotiation ------------------------------------------------------------------------------------ */

/* SACK-permitted is answered only when the SYN offered it (RFC 2018 2), and never when turned
 * off; our own SYN offers it unless turned off. */
static void test_sack_permitted_only_when_offered(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct out_seg *s = th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 0});
    assert_false(s->tcp.sack_perm);
    th_close(t);

    t = th_open();
    s = th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 0, .sack_perm = true});
    assert_true(s->tcp.sack_perm);
    th_close(t);

    t = th_open();
    sp_tcp_set_sack(t->iface, false);
    s = th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 0, .sack_perm = true});
    assert_false(s->tcp.sack_perm);
    struct sp_tcp *c;
    assert_int_equal(sp_tcp_connect(t->iface, PEER_IP, 7, &th_cbs, t, &c), 0);
    assert_false(th_take(t)->tcp.sack_perm);
    sp_tcp_set_sack(t->iface, true);
    assert_int_equal(sp_tcp_connect(t->iface, PEER_IP, 9, &th_cbs, t, &c), 0);
    assert_true(th_take(t)->tcp.sack_perm);
    th_close(t);
}

/* An active open uses SACK only when the SYN-ACK says so. */
static void test_active_open_takes_sack_from_syn_ack(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    assert_int_equal(sp_tcp_connect(t->iface, PEER_IP, PEER_PORT, &th_cbs, t, &t->conn), 0);
    struct out_seg *s = th_take(t);
    assert_true(s->tcp.sack_perm);
    t->iss = s->tcp.seq;
    uint16_t lport = s->tcp.src_port;
    th_send_ex(t, T0 + 5, SYN | ACK, 0, 1, 65535, NULL, 0,
               (struct seg_opts){.mss = 1460, .wscale = 0, .sport = PEER_PORT, .dport = lport});
    assert_false(t->conn->sack.ok);
    th_close(t);
}

/* --- receiving: the blocks of our ACKs ------------------------------------------------------------ */

/* Each out-of-order segment is answered at once with its block first, then the blocks reported
 * before (RFC 2018 4); ranges that merge are one block; what RCV.NXT reaches is not reported. */
static void test_blocks_most_recent_first(void **state)
{
    (void)state;
    struct th *t = th_open();
    pk_establish_sack(t);
    t->auto_read = true;
    th_send(t, T0, ACK, S(2), 1, 65535, big, 1460);
    pk_expect_blocks(th_expect(t, ACK, 1, 1, -1, 0), 1, S(2), S(3));
    th_send(t, T0, ACK, S(4), 1, 65535, big, 1460);
    pk_expect_blocks(th_expect(t, ACK, 1, 1, -1, 0), 2, S(4), S(5), S(2), S(3));
    th_send(t, T0, ACK, S(6), 1, 65535, big, 1460);
    pk_expect_blocks(th_expect(t, ACK, 1, 1, -1, 0), 3, S(6), S(7), S(4), S(5), S(2), S(3));
    /* The blocks the newest arrival joined move to the front, as one. */
    th_send(t, T0, ACK, S(3), 1, 65535, big, 1460);
    pk_expect_blocks(th_expect(t, ACK, 1, 1, -1, 0), 2, S(2), S(5), S(6), S(7));
    th_close(t);
}

/* At most four blocks, three beside a timestamp: the oldest arrivals fall off. */
static void test_four_blocks_three_with_timestamps(void **state)
{
    (void)state;
    struct th *t = th_open();
    pk_establish_sack(t);
    for (unsigned k = 2; k <= 10; k += 2) {
        th_send(t, T0, ACK, S(k), 1, 65535, big, 1460);
        th_take(t);
    }
    th_send(t, T0, ACK, S(12), 1, 65535, big, 1460);
    pk_expect_blocks(th_expect(t, ACK, 1, 1, -1, 0), 4, S(12), S(13), S(10), S(11), S(8), S(9), S(6), S(7));
    th_close(t);

    t = th_open();
    pk_establish_ts(t, true, 20000);
    for (unsigned k = 2; k <= 8; k += 2)
        pk_send(t, T0, ACK, S(k), 1, 65535, big, 1460, (struct pk_opts){.ts = true, .tsval = 20000});
    t->taken = t->nout - 1;
    struct out_seg *o = th_expect(t, ACK, 1, 1, -1, 0);
    assert_true(o->tcp.has_timestamp);
    pk_expect_blocks(o, 3, S(8), S(9), S(6), S(7), S(4), S(5));
    th_close(t);
}

/* Filling the first gap acknowledges up to the next one; the remaining block goes on being
 * reported, and none once everything is in order. */
static void test_blocks_follow_rcv_nxt(void **state)
{
    (void)state;
    struct th *t = th_open();
    pk_establish_sack(t);
    t->auto_read = true;
    th_send(t, T0, ACK, S(2), 1, 65535, big, 1460);
    th_take(t);
    th_send(t, T0, ACK, S(4), 1, 65535, big, 1460);
    th_take(t);
    th_send(t, T0, ACK, S(1), 1, 65535, big, 1460);
    pk_expect_blocks(th_expect(t, ACK, 1, S(3), -1, 0), 1, S(4), S(5));
    th_send(t, T0, ACK, S(3), 1, 65535, big, 1460);
    pk_expect_blocks(th_expect(t, ACK, 1, S(5), -1, 0), 0);
    assert_int_equal(t->rx_len, 4 * 1460);
    th_close(t);
}

/* Without SACK the duplicate ACK carries no blocks. */
static void test_no_blocks_without_sack(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    th_send(t, T0, ACK, S(2), 1, 65535, big, 1460);
    pk_expect_blocks(th_expect(t, ACK, 1, 1, -1, 0), 0);
    th_close(t);
}

/* D-SACK (RFC 2883 4.1): a segment entirely below RCV.NXT is reported in the next ACK as the
 * first block, once; a segment repeating held out-of-order data is reported with the range that
 * holds it second; a segment partly old reports its old part. */
static void test_dsack_reported_once(void **state)
{
    (void)state;
    struct th *t = th_open();
    pk_establish_sack(t);
    t->auto_read = true;
    th_send(t, T0, ACK, S(1), 1, 65535, big, 1460);
    th_send(t, T0, ACK, S(1), 1, 65535, big, 1460);
    pk_expect_blocks(th_expect(t, ACK, 1, S(2), -1, 0), 1, S(1), S(2));
    assert_int_equal(th_stat(t, SP_STAT_tcp_dsack_tx), 1);
    th_send(t, T0 + 1, ACK, S(3), 1, 65535, big, 1460);
    pk_expect_blocks(th_expect(t, ACK, 1, S(2), -1, 0), 1, S(3), S(4));
    th_send(t, T0 + 2, ACK, S(3), 1, 65535, big, 1460);
    pk_expect_blocks(th_expect(t, ACK, 1, S(2), -1, 0), 2, S(3), S(4), S(3), S(4));
    /* Old and new text together: the old part is the D-SACK, the ACK covers the rest. */
    th_send(t, T0 + 3, ACK, S(1), 1, 65535, big, 2 * 1460);
    pk_expect_blocks(th_expect(t, ACK, 1, S(4), -1, 0), 1, S(1), S(2));
    assert_int_equal(th_stat(t, SP_STAT_tcp_dsack_tx), 3);
    th_close(t);
}

/* --- sending: the scoreboard and RFC 6675 ---------------------------------------------------------- */

/* n full segments sent from a passive SACK connection (cwnd ten segments, the peer's window
 * 65535); returns after checking that the first min(n, 10) left. */
static struct th *sending(unsigned n)
{
    struct th *t = th_open();
    pk_establish_sack(t);
    assert_int_equal(sp_tcp_send(t->conn, big, n * 1460), (long)(n * 1460));
    for (unsigned k = 1; k <= n && k <= 10; k++)
        th_expect(t, ACK | (k == n ? PSH : 0), S(k), 1, -1, 1460);
    th_expect_nothing(t);
    return t;
}

/* Three ACKs that each SACK new octets are the duplicate ACKs of RFC 6675: the third starts loss
 * recovery with the first segment retransmitted (as Google's fr-4pkt-sack.pkt expects of
 * Linux); the ACK of everything ends it with cwnd at ssthresh, half the flight. */
static void test_third_sack_dupack_retransmits(void **state)
{
    (void)state;
    struct th *t = sending(4);
    pk_sack(t, T0 + 100, 1, 1, S(2), S(3));
    pk_sack(t, T0 + 100, 1, 1, S(2), S(4));
    th_expect_nothing(t);
    pk_sack(t, T0 + 100, 1, 1, S(2), S(5));
    th_expect(t, ACK, 1, 1, -1, 1460);
    th_expect_nothing(t);
    assert_true(t->conn->sack.recovery);
    assert_int_equal(th_stat(t, SP_STAT_tcp_fast_retransmit), 1);
    assert_int_equal(th_stat(t, SP_STAT_tcp_sack_recovery), 1);
    assert_int_equal(t->conn->cwnd, 2 * 1460);
    pk_sack(t, T0 + 200, S(5), 0);
    assert_false(t->conn->sack.recovery);
    assert_int_equal(t->conn->cwnd, t->conn->ssthresh);
    th_expect_nothing(t);
    th_close(t);
}

/* IsLost (RFC 6675 4): more than two segments SACKed above SND.UNA start recovery on the first
 * such ACK, without waiting for three of them. */
static void test_is_lost_starts_recovery_early(void **state)
{
    (void)state;
    struct th *t = sending(5);
    pk_sack(t, T0 + 100, 1, 1, S(2), S(5));
    th_expect(t, ACK, 1, 1, -1, 1460);
    assert_true(t->conn->sack.recovery);
    assert_int_equal(t->conn->dupacks, 1);
    th_close(t);
}

/* Limited transmit (RFC 6675 5 step 3, RFC 3042): each of the first two duplicate ACKs lets one
 * new segment go, the SACKed one having left the network; the third starts recovery and sends
 * no new data, cwnd being half the flight (limited-transmit-sack.pkt's exchange). */
static void test_limited_transmit(void **state)
{
    (void)state;
    struct th *t = sending(20);
    pk_sack(t, T0 + 100, 1, 1, S(2), S(3));
    th_expect(t, ACK, S(11), 1, -1, 1460);
    th_expect_nothing(t);
    pk_sack(t, T0 + 110, 1, 1, S(2), S(4));
    th_expect(t, ACK, S(12), 1, -1, 1460);
    th_expect_nothing(t);
    /* It was reordering: the ACK covers three segments, slow start adds one: two go. */
    pk_sack(t, T0 + 120, S(4), 0);
    th_expect(t, ACK, S(13), 1, -1, 1460);
    th_expect(t, ACK, S(14), 1, -1, 1460);
    th_expect_nothing(t);
    assert_false(t->conn->sack.recovery);
    th_close(t);
}

/* NextSeg (RFC 6675 4): in recovery, lost holes are retransmitted first, lowest first, one
 * segment each time cwnd - pipe leaves room; new data comes before a hole that is not lost yet. */
static void test_recovery_fills_lost_holes_in_order(void **state)
{
    (void)state;
    struct th *t = sending(20);
    /* Segments 1, 3 and 5 of the ten lost; 2, 4 and 6 to 10 SACKed. */
    pk_sack(t, T0 + 100, 1, 1, S(2), S(3));
    th_expect(t, ACK, S(11), 1, -1, 1460);   /* limited transmit */
    pk_sack(t, T0 + 100, 1, 2, S(4), S(5), S(2), S(3));
    th_expect(t, ACK, S(12), 1, -1, 1460);
    pk_sack(t, T0 + 100, 1, 3, S(6), S(8), S(4), S(5), S(2), S(3));
    /* Recovery: ssthresh = cwnd = 12 segments / 2; segment 1 again. pipe: hole 1 lost but
     * retransmitted (1), hole 3 lost (0), hole 5 not lost (1 segment SACKed above it... two
     * ranges and 2 segments: not lost), 8 to 12 outstanding (5): 7 > 6, nothing more. */
    th_expect(t, ACK, S(1), 1, -1, 1460);
    th_expect_nothing(t);
    assert_int_equal(t->conn->cwnd, 6 * 1460);
    /* 8 and 9 SACKed: hole 5 is lost now, pipe 1 + 3 = 4: holes 3 and 5 go, in that order. */
    pk_sack(t, T0 + 110, 1, 3, S(6), S(10), S(4), S(5), S(2), S(3));
    th_expect(t, ACK, S(3), 1, -1, 1460);
    th_expect(t, ACK, S(5), 1, -1, 1460);
    th_expect_nothing(t);
    /* A partial ACK: 1 to 4 arrived. pipe: 5 retransmitted (1) and 10 to 12 (3): no hole left
     * to retransmit, two segments of new data go (NextSeg (2)). */
    pk_sack(t, T0 + 120, S(5), 1, S(6), S(10));
    th_expect(t, ACK, S(13), 1, -1, 1460);
    th_expect(t, ACK, S(14), 1, -1, 1460);
    th_expect_nothing(t);
    /* The RecoveryPoint (12, the highest sent when recovery began) is acknowledged: it ends. */
    pk_sack(t, T0 + 130, S(13), 0);
    assert_false(t->conn->sack.recovery);
    assert_int_equal(t->conn->cwnd, 6 * 1460);
    th_close(t);
}

/* The rescue retransmission (RFC 6675 4, NextSeg (4)): once per recovery, when nothing else may
 * go and the ACK has passed the first retransmission, the highest unSACKed segment is sent
 * again, so a lost tail does not wait for the RTO. */
static void test_rescue_retransmission(void **state)
{
    (void)state;
    struct th *t = sending(5);
    pk_sack(t, T0 + 100, 1, 1, S(2), S(5));
    th_expect(t, ACK, S(1), 1, -1, 1460);
    /* Segment 1 arrives; 5 (never SACKed) is the highest outstanding: rescued. */
    pk_sack(t, T0 + 110, S(5), 0);
    th_expect(t, ACK | PSH, S(5), 1, -1, 1460);
    th_expect_nothing(t);
    assert_int_equal(th_stat(t, SP_STAT_tcp_sack_rescue), 1);
    /* Only once. */
    pk_send(t, T0 + 111, ACK, 1, S(5), 65534, NULL, 0, (struct pk_opts){0});
    th_expect_nothing(t);
    pk_sack(t, T0 + 120, S(6), 0);
    assert_false(t->conn->sack.recovery);
    th_close(t);
}

/* The rescue (NextSeg (4)) has nothing to add when the highest unSACKed octet was retransmitted
 * already: segments 1 and 3 lost, both retransmitted at the start of recovery (3 is lost by
 * IsLost), and the partial ACK for 1 sends nothing again. */
static void test_no_rescue_of_retransmitted_octets(void **state)
{
    (void)state;
    struct th *t = sending(10);
    pk_sack(t, T0 + 100, 1, 1, S(2), S(3));
    pk_sack(t, T0 + 100, 1, 2, S(4), S(5), S(2), S(3));
    pk_sack(t, T0 + 100, 1, 2, S(4), S(11), S(2), S(3));
    th_expect(t, ACK, S(1), 1, -1, 1460);
    th_expect(t, ACK, S(3), 1, -1, 1460);
    th_expect_nothing(t);
    pk_sack(t, T0 + 110, S(3), 1, S(4), S(11));
    th_expect_nothing(t);
    assert_int_equal(th_stat(t, SP_STAT_tcp_sack_rescue), 0);
    pk_sack(t, T0 + 120, S(11), 0);
    assert_false(t->conn->sack.recovery);
    th_close(t);
}

/* Blocks that cannot be right are ignored and counted; a block at or below the cumulative ACK
 * is a D-SACK (RFC 2883): counted, and it moves nothing. */
static void test_dsack_and_bad_blocks_are_harmless(void **state)
{
    (void)state;
    struct th *t = sending(4);
    pk_sack(t, T0 + 100, S(2), 1, S(1), S(2));           /* covered by the ACK: D-SACK */
    pk_sack(t, T0 + 100, S(2), 1, S(1), S(2));
    pk_sack(t, T0 + 100, S(2), 1, S(1), S(2));
    assert_int_equal(th_stat(t, SP_STAT_tcp_dsack_rx), 3);
    pk_sack(t, T0 + 100, S(2), 1, S(3), S(9));           /* beyond anything sent */
    pk_sack(t, T0 + 100, S(2), 1, S(4), S(3));           /* inverted */
    pk_sack(t, T0 + 100, S(2), 1, S(3), S(3));           /* empty */
    assert_int_equal(th_stat(t, SP_STAT_tcp_sack_bad_block), 3);
    /* A D-SACK in front of a real block: the real one counts. */
    pk_sack(t, T0 + 100, S(2), 2, S(3), S(4), S(3), S(4));
    assert_int_equal(th_stat(t, SP_STAT_tcp_dsack_rx), 4);
    assert_int_equal(t->conn->sack.n, 1);
    assert_false(t->conn->sack.recovery);
    /* Classic duplicate ACKs (no new SACKed octets) do not count on a SACK connection. */
    th_expect_nothing(t);
    assert_int_equal(t->conn->dupacks, 1);
    pk_sack(t, T0 + 200, S(5), 0);
    assert_int_equal(t->conn->sack.n, 0);
    th_close(t);
}

/* A peer that negotiated SACK but sends no blocks still gets a fast retransmit from three RFC 5681
 * duplicate ACKs. */
static void test_dupacks_without_blocks(void **state)
{
    (void)state;
    struct th *t = sending(5);
    for (int i = 0; i < 2; i++)
        pk_sack(t, T0 + 100, 1, 0);
    th_expect_nothing(t);
    pk_sack(t, T0 + 100, 1, 0);
    th_expect(t, ACK, S(1), 1, -1, 1460);
    assert_true(t->conn->sack.recovery);
    th_close(t);
}

/* An RTO forgets the scoreboard and ends recovery (RFC 2018 8, RFC 6675 5.1); the go-back-N that
 * follows steps over what the peer SACKs again. */
static void test_rto_forgets_scoreboard_then_skips_sacked(void **state)
{
    (void)state;
    struct th *t = sending(5);
    pk_sack(t, T0 + 100, 1, 1, S(3), S(4));
    assert_int_equal(t->conn->sack.n, 1);
    th_advance(t, T0 + SP_TCP_RTO_MIN_MS);
    th_expect(t, ACK, S(1), 1, -1, 1460);
    th_expect_nothing(t);
    assert_int_equal(t->conn->sack.n, 0);
    /* 1 and 2 arrive; 3 is SACKed again: 2 goes, 3 is stepped over, 4 goes. */
    pk_sack(t, T0 + 300, S(2), 1, S(3), S(4));
    th_expect(t, ACK, S(2), 1, -1, 1460);
    th_expect(t, ACK, S(4), 1, -1, 1460);
    th_expect_nothing(t);
    th_close(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sack_permitted_only_when_offered),
        cmocka_unit_test(test_active_open_takes_sack_from_syn_ack),
        cmocka_unit_test(test_blocks_most_recent_first),
        cmocka_unit_test(test_four_blocks_three_with_timestamps),
        cmocka_unit_test(test_blocks_follow_rcv_nxt),
        cmocka_unit_test(test_no_blocks_without_sack),
        cmocka_unit_test(test_dsack_reported_once),
        cmocka_unit_test(test_third_sack_dupack_retransmits),
        cmocka_unit_test(test_is_lost_starts_recovery_early),
        cmocka_unit_test(test_limited_transmit),
        cmocka_unit_test(test_recovery_fills_lost_holes_in_order),
        cmocka_unit_test(test_rescue_retransmission),
        cmocka_unit_test(test_no_rescue_of_retransmitted_octets),
        cmocka_unit_test(test_dsack_and_bad_blocks_are_harmless),
        cmocka_unit_test(test_dupacks_without_blocks),
        cmocka_unit_test(test_rto_forgets_scoreboard_then_skips_sacked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
