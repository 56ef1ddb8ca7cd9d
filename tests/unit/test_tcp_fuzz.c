/* Robustness: random segments (valid checksums, any flags, sequence and acknowledgment numbers
 * near and far from the connection's) and random application calls and time steps, against a
 * listener and its connections. Nothing may crash, leak or break the sequence-space invariants;
 * deterministic for a seed so that a failure replays. */
#include "tcp_harness.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

static void check_invariants(const struct sp_tcp *c)
{
    if (!c || c->dead)
        return;
    assert_true(sp_seq_le(c->snd_una, c->snd_nxt));
    assert_true(sp_seq_le(c->snd_nxt, c->snd_max));
    assert_true(c->rcv.len <= c->rcv.cap);
    assert_true(c->snd.len <= c->snd.cap);
    for (unsigned i = 0; i < c->ooo.n; i++) {
        assert_true(sp_seq_lt(c->ooo.r[i].start, c->ooo.r[i].end));
        assert_true(sp_seq_gt(c->ooo.r[i].start, c->rcv_nxt));
        if (i)
            assert_true(sp_seq_gt(c->ooo.r[i].start, c->ooo.r[i - 1].end));
    }
}

static void test_random_segments(void **state)
{
    (void)state;
    static const uint8_t flag_sets[] = {
        SP_TCP_SYN, SP_TCP_ACK, SP_TCP_ACK | SP_TCP_PSH, SP_TCP_FIN | SP_TCP_ACK, SP_TCP_RST,
        SP_TCP_RST | SP_TCP_ACK, SP_TCP_SYN | SP_TCP_ACK, SP_TCP_FIN, 0, 0xff, SP_TCP_SYN | SP_TCP_FIN,
        SP_TCP_ACK | SP_TCP_URG,
    };
    static uint8_t payload[3000];
    th_fill(payload, sizeof payload, 1);
    unsigned established_steps = 0;
    for (int round = 0; round < 100; round++) {
        struct th *t = th_open_backlog(4);
        t->auto_read = round % 2;
        sp_time_t now = T0;
        uint32_t peer_seq = 1, our_ack = 1;
        for (int i = 0; i < 2500; i++) {
            uint8_t flags = flag_sets[rnd() % sizeof flag_sets];
            /* Half exact, a quarter near, a quarter anywhere. */
            uint32_t r1 = rnd() % 4, r2 = rnd() % 4;
            uint32_t seq = r1 < 2 ? peer_seq : r1 == 2 ? peer_seq + rnd() % 3000 - 1000 : rnd();
            uint32_t ack = r2 < 2 ? our_ack : r2 == 2 ? our_ack + rnd() % 3000 - 1000 : rnd();
            size_t len = rnd() % 3 ? 0 : rnd() % sizeof payload;
            uint16_t sport = (uint16_t)(PEER_PORT + (rnd() % 8 == 0));
            if (t->conn && !t->conn->dead && rnd() % 2) {
                t->iss = t->conn->iss;
                peer_seq = t->conn->rcv_nxt - PEER_ISN;
                our_ack = t->conn->snd_nxt - t->iss;
            }
            th_send_ex(t, now, flags, seq, ack, (uint16_t)rnd(), payload, len,
                       (struct seg_opts){.wscale = (int8_t)(rnd() % 16) - 1, .mss = (uint16_t)(rnd() % 2000),
                                         .sport = sport});
            now += rnd() % 50;
            if (rnd() % 8 == 0)
                now += rnd() % 5000;
            th_advance(t, now);
            struct sp_tcp *c = t->conn;
            if (c && !c->dead) {
                switch (rnd() % 12) {
                case 0: sp_tcp_send(c, payload, rnd() % sizeof payload); break;
                case 1: sp_tcp_shutdown(c); break;
                case 2: {
                    uint8_t b[500];
                    sp_tcp_recv(c, b, sizeof b);
                    break;
                }
                case 3:
                    if (rnd() % 10 == 0) {
                        t->conn = NULL;
                        sp_tcp_close(c);
                    }
                    break;
                case 4:
                    if (rnd() % 20 == 0) {
                        t->conn = NULL;
                        sp_tcp_abort(c);
                    }
                    break;
                default: break;
                }
            }
            check_invariants(t->conn);
            if (t->conn && !t->conn->dead)
                established_steps++;
            /* What was sent is not judged here; a SYN-ACK teaches the ISS to aim ACKs at. */
            for (unsigned k = 0; k < t->nout; k++)
                if (t->out[k].tcp.flags == (SP_TCP_SYN | SP_TCP_ACK)) {
                    t->iss = t->out[k].tcp.seq;
                    our_ack = 1;
                    peer_seq = t->out[k].tcp.ack - PEER_ISN;
                }
            t->taken = t->nout = 0;
        }
        th_close(t);
    }
    /* The walk must spend real time in synchronized states to mean anything. */
    print_message("steps with a connection: %u\n", established_steps);
    assert_true(established_steps > 10000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_segments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
