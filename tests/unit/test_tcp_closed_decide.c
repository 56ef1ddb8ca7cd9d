/* A SYN to a port nobody listens on as a decision point (kind tcp, hs_state CLOSED): when the tcp
 * kind is delegated the SYN is parked without any connection state, repeats join it, the pending
 * table bounds how many wait, and the answer is the native RST (<SEQ=0><ACK=SEG.SEQ+1>
 * <CTL=RST,ACK>, RFC 9293 3.10.7.1) in exact authority, or the RST or silence in legal. Every other
 * segment to a closed port keeps its native reset. */
#include "decide_harness.h"
#include "test_tcp_harness.h"

#define SYN SP_TCP_SYN
#define ACK SP_TCP_ACK
#define RST SP_TCP_RST
#define FIN SP_TCP_FIN
#define CLOSED_PORT 81
#define TO_CLOSED ((struct seg_opts){.mss = 1460, .wscale = 7, .dport = CLOSED_PORT})
#define DEV(name) (1u << SP_DEVIATION_##name)

static struct sp_decision_proposal rst_for(uint32_t peer_seq)
{
    return (struct sp_decision_proposal){.action = SP_PROPOSE_RST, .tcp_seq = 0, .tcp_ack = peer_seq + 1,
                                         .next_state = SP_HS_CLOSED};
}

/* The next segment is the reset for a SYN at PEER_ISN + rel to the closed port. */
static void expect_rst(struct th *t, uint32_t rel)
{
    struct out_seg *s = th_take(t);
    assert_int_equal(s->ip.src, US_IP);
    assert_int_equal(s->ip.dst, PEER_IP);
    assert_int_equal(s->tcp.flags, RST | ACK);
    assert_int_equal(s->tcp.seq, 0);
    assert_int_equal(s->tcp.ack, PEER_ISN + rel + 1);
    assert_int_equal(s->tcp.window, 0);
    assert_int_equal(s->tcp.mss, 0);
    assert_int_equal(s->tcp.wscale, -1);
    assert_int_equal(s->tcp.src_port, CLOSED_PORT);
    assert_int_equal(s->tcp.dst_port, PEER_PORT);
    assert_int_equal(s->tcp.payload_len, 0);
}

static struct fake *tcp_fake(struct th *t, enum sp_decision_mode mode, enum sp_authority a)
{
    struct fake *f = test_calloc(1, sizeof *f);
    assert_non_null(f);
    f->iface = t->iface;
    sp_iface_set_authority(t->iface, a);
    struct sp_decider d = {.decide = fake_decide, .outcome = fake_outcome, .ctx = f};
    sp_iface_set_decider(t->iface, SP_DECISION_TCP, mode, &d);
    return f;
}

static const struct sp_decision_stats *tstats(struct th *t)
{
    return sp_iface_decision_stats(t->iface, SP_DECISION_TCP);
}

/* Exact: parked with nothing created, asked with the native RST; repeats join; only the RST is
 * valid, silence gets the policy (here the native RST). */
static void test_exact_only_the_rst(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    struct fake *f = tcp_fake(t, SP_DECIDE_DELEGATE, SP_AUTHORITY_EXACT);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, TO_CLOSED);
    th_expect_nothing(t);
    assert_int_equal(f->nreq, 1);
    const struct sp_decision_request *q = &f->reqs[0].req;
    assert_int_equal(q->kind, SP_DECISION_TCP);
    assert_int_equal(q->hs_state, SP_HS_CLOSED);
    assert_int_equal(q->authority, SP_AUTHORITY_EXACT);
    assert_int_equal(q->flow.protocol, SP_IP_PROTO_TCP);
    assert_int_equal(q->flow.local_ip, US_IP);
    assert_int_equal(q->flow.remote_ip, PEER_IP);
    assert_int_equal(q->flow.local_port, CLOSED_PORT);
    assert_int_equal(q->flow.remote_port, PEER_PORT);
    assert_int_equal(q->tcp.flags, SYN);
    assert_int_equal(q->tcp.seq, PEER_ISN);
    assert_int_equal(q->iss, 0);
    assert_int_equal(q->ip.src, PEER_IP);
    /* The native answer in the request is the reset, as a datagram. */
    struct sp_ipv4_view v;
    struct sp_ipv4_repr ip;
    assert_int_equal(sp_ipv4_view_init(&v, q->native, q->native_len), 0);
    assert_int_equal(sp_ipv4_repr_parse(&v, &ip), 0);
    assert_int_equal(ip.src, US_IP);
    assert_int_equal(ip.dst, PEER_IP);
    struct sp_tcp_view tv;
    struct sp_tcp_repr nat;
    assert_int_equal(sp_tcp_view_init(&tv, sp_ipv4_payload(&v), sp_ipv4_payload_len(&v)), 0);
    assert_int_equal(sp_tcp_repr_parse(&tv, US_IP, PEER_IP, &nat), 0);
    assert_int_equal(nat.flags, RST | ACK);
    assert_int_equal(nat.seq, 0);
    assert_int_equal(nat.ack, PEER_ISN + 1);
    /* No connection state at all. */
    assert_int_equal(t->iface->tcp->nconns, 0);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_no_port), 1);

    /* Retransmissions join; a new attempt (another ISN) is another request. */
    th_send_ex(t, T0 + 1000, SYN, 0, 0, 64240, NULL, 0, TO_CLOSED);
    th_send_ex(t, T0 + 3000, SYN, 0, 0, 64240, NULL, 0, TO_CLOSED);
    th_expect_nothing(t);
    assert_int_equal(f->nreq, 1);
    assert_int_equal(tstats(t)->joined, 2);
    th_send_ex(t, T0 + 3001, SYN, 500, 0, 64240, NULL, 0, TO_CLOSED);
    assert_int_equal(f->nreq, 2);

    struct sp_decision_proposal p = rst_for(PEER_ISN);
    assert_int_equal(fake_complete(f, T0 + 3100, f->reqs[0].req.id, 0, &p), 0);
    expect_rst(t, 0);
    th_expect_nothing(t);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    assert_int_equal(f->outs[0].deviations, 0);

    /* Silence is not an exact answer: the policy's native RST instead. */
    p = (struct sp_decision_proposal){.action = SP_PROPOSE_DROP};
    assert_int_equal(fake_complete(f, T0 + 3200, f->reqs[1].req.id, 0, &p), 0);
    outcome_is(f, f->reqs[1].req.id, SP_VERDICT_ACTION, 0, SP_ACTION_FALLBACK, true);
    expect_rst(t, 500);
    th_expect_nothing(t);

    /* Nor an accept, nor a reset with other numbers. */
    th_send_ex(t, T0 + 4000, SYN, 900, 0, 64240, NULL, 0, TO_CLOSED);
    const struct sp_decision_request *r = &f->reqs[2].req;
    p = (struct sp_decision_proposal){.action = SP_PROPOSE_SYN_ACK, .tcp_ack = PEER_ISN + 901, .tcp_window = 1000,
                                      .tcp_wscale = -1, .next_state = SP_HS_SYN_RECEIVED};
    assert_int_equal(sp_validate_proposal(r, &p), SP_VERDICT_ACTION);
    p = rst_for(PEER_ISN + 900);
    p.tcp_ack++;
    assert_int_equal(sp_validate_proposal(r, &p), SP_VERDICT_ACK);
    p = rst_for(PEER_ISN + 900);
    p.tcp_seq = 1;
    assert_int_equal(sp_validate_proposal(r, &p), SP_VERDICT_SEQUENCE);
    p = rst_for(PEER_ISN + 900);
    p.next_state = SP_HS_LISTEN;
    assert_int_equal(sp_validate_proposal(r, &p), SP_VERDICT_TRANSITION);
    assert_int_equal(t->iface->tcp->nconns, 0);
    th_close(t);
    test_free(f);
}

/* Legal: the RST (as native: no deviation) or silence, as a firewalled host; raw proposals too. */
static void test_legal_rst_or_silence(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    struct fake *f = tcp_fake(t, SP_DECIDE_DELEGATE, SP_AUTHORITY_LEGAL);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, TO_CLOSED);
    th_send_ex(t, T0, SYN, 100, 0, 64240, NULL, 0, TO_CLOSED);
    th_send_ex(t, T0, SYN, 200, 0, 64240, NULL, 0, TO_CLOSED);
    assert_int_equal(f->nreq, 3);
    th_expect_nothing(t);

    struct sp_decision_proposal p = (struct sp_decision_proposal){.action = SP_PROPOSE_DROP,
                                                                  .next_state = SP_HS_CLOSED};
    assert_int_equal(fake_complete(f, T0 + 1, f->reqs[0].req.id, 0, &p), 0);
    th_expect_nothing(t);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, false);
    assert_int_equal(f->outs[0].deviations, DEV(SILENCE));

    p = rst_for(PEER_ISN + 100);
    assert_int_equal(fake_complete(f, T0 + 2, f->reqs[1].req.id, 0, &p), 0);
    expect_rst(t, 100);
    outcome_is(f, f->reqs[1].req.id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    assert_int_equal(f->outs[1].deviations, 0);
    assert_int_equal(f->outs[1].chosen.action, SP_PROPOSE_RST);

    /* Raw: the reset as bytes (its identification and DF are not TCP's to choose). */
    struct sp_tcp_repr rst = {.src_port = CLOSED_PORT, .dst_port = PEER_PORT, .seq = 0, .ack = PEER_ISN + 201,
                              .flags = RST | ACK, .wscale = -1};
    uint8_t raw[40];
    struct sp_ipv4_repr ip = {.src = US_IP, .dst = PEER_IP, .protocol = SP_IP_PROTO_TCP, .ttl = 64,
                              .ident = 0x4444, .dont_frag = true, .payload_len = 20};
    sp_tcp_repr_emit(&rst, US_IP, PEER_IP, raw + 20);
    sp_ipv4_repr_emit(&ip, raw);
    p = (struct sp_decision_proposal){.action = SP_PROPOSE_REPLY, .raw = true, .raw_bytes = raw, .raw_len = 40,
                                      .next_state = SP_HS_CLOSED};
    assert_int_equal(fake_complete(f, T0 + 3, f->reqs[2].req.id, 0, &p), 0);
    expect_rst(t, 200);
    outcome_is(f, f->reqs[2].req.id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    th_expect_nothing(t);
    const struct sp_decision_stats *s = tstats(t);
    assert_int_equal(s->valid, 3);
    assert_int_equal(s->emitted_llm, 3);
    assert_int_equal(s->deviations[SP_DEVIATION_SILENCE], 1);
    assert_int_equal(s->deviations[SP_DEVIATION_ACTION], 0);
    assert_int_equal(t->iface->tcp->nconns, 0);
    th_close(t);
    test_free(f);
}

/* Only a SYN is a decision: an ACK, a FIN or a SYN with FIN to a closed port is reset at once,
 * and nobody is asked. */
static void test_other_segments_stay_native(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    struct fake *f = tcp_fake(t, SP_DECIDE_DELEGATE, SP_AUTHORITY_LEGAL);
    t->iss = 5000;
    th_send_ex(t, T0, ACK, 0, 1, 64240, NULL, 0, TO_CLOSED);
    struct out_seg *s = th_take(t);
    assert_int_equal(s->tcp.flags, RST);
    assert_int_equal(s->tcp.seq, 5001);
    th_send_ex(t, T0, FIN, 0, 0, 64240, NULL, 0, TO_CLOSED);
    s = th_take(t);
    assert_int_equal(s->tcp.flags, RST | ACK);
    assert_int_equal(s->tcp.ack, PEER_ISN + 1);
    th_send_ex(t, T0, SYN | FIN, 0, 0, 64240, NULL, 0, TO_CLOSED);
    s = th_take(t);
    assert_int_equal(s->tcp.flags, RST | ACK);
    assert_int_equal(s->tcp.ack, PEER_ISN + 2);
    th_send_ex(t, T0, RST, 0, 0, 0, NULL, 0, TO_CLOSED);
    th_expect_nothing(t);
    assert_int_equal(f->nreq, 0);
    assert_int_equal(tstats(t)->asked, 0);
    th_close(t);
    test_free(f);
}

/* The deadline applies the policy: fallback sends the native RST, drop sends nothing. */
static void test_timeout_applies_the_policy(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    struct fake *f = tcp_fake(t, SP_DECIDE_DELEGATE, SP_AUTHORITY_EXACT);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, TO_CLOSED);
    sp_time_t deadline = T0 + SP_DECISION_TIMEOUT_MS;
    assert_int_equal(sp_iface_poll_at(t->iface), deadline);
    sp_iface_poll(t->iface, deadline);
    expect_rst(t, 0);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, SP_ETIMEDOUT, SP_ACTION_FALLBACK, true);

    sp_iface_set_invalid_policy(t->iface, SP_INVALID_DROP);
    th_send_ex(t, deadline + 1, SYN, 7, 0, 64240, NULL, 0, TO_CLOSED);
    sp_iface_poll(t->iface, deadline + 1 + SP_DECISION_TIMEOUT_MS);
    th_expect_nothing(t);
    outcome_is(f, f->reqs[1].req.id, SP_VERDICT_VALID, SP_ETIMEDOUT, SP_ACTION_DROP, false);
    assert_int_equal(tstats(t)->timeouts, 2);
    th_close(t);
    test_free(f);
}

/* A flood of SYNs to closed ports parks no more than the pending table holds; the rest get the
 * native RST at once. */
static void test_pending_table_bounds_it(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    struct fake *f = tcp_fake(t, SP_DECIDE_DELEGATE, SP_AUTHORITY_LEGAL);
    for (unsigned i = 0; i < SP_DECISION_PENDING; i++)
        th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0,
                   (struct seg_opts){.wscale = -1, .sport = (uint16_t)(20000 + i), .dport = CLOSED_PORT});
    th_expect_nothing(t);
    assert_int_equal(f->nreq, SP_DECISION_PENDING);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, TO_CLOSED);
    expect_rst(t, 0);
    assert_int_equal(tstats(t)->pending_full, 1);
    assert_int_equal(f->nreq, SP_DECISION_PENDING);
    assert_int_equal(t->iface->tcp->nconns, 0);
    th_close(t);
    test_free(f);
}

/* Shadow: the native RST at once (repeats too), the proposal graded. */
static void test_shadow(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    struct fake *f = tcp_fake(t, SP_DECIDE_SHADOW, SP_AUTHORITY_LEGAL);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, TO_CLOSED);
    expect_rst(t, 0);
    th_send_ex(t, T0 + 1000, SYN, 0, 0, 64240, NULL, 0, TO_CLOSED);
    expect_rst(t, 0);
    assert_int_equal(f->nreq, 1);
    struct sp_decision_proposal p = {.action = SP_PROPOSE_DROP};
    assert_int_equal(fake_complete(f, T0 + 1001, f->reqs[0].req.id, 0, &p), 0);
    th_expect_nothing(t);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, 0, SP_ACTION_SHADOW, false);
    assert_false(f->outs[0].matches_native);
    th_send_ex(t, T0 + 2000, SYN, 10, 0, 64240, NULL, 0, TO_CLOSED);
    expect_rst(t, 10);
    p = rst_for(PEER_ISN + 10);
    assert_int_equal(fake_complete(f, T0 + 2001, f->reqs[1].req.id, 0, &p), 0);
    assert_true(f->outs[1].matches_native);
    assert_int_equal(tstats(t)->shadow_match, 1);
    assert_int_equal(tstats(t)->shadow_mismatch, 1);

    /* Exact shadow: the RST matches too. */
    sp_iface_set_authority(t->iface, SP_AUTHORITY_EXACT);
    th_send_ex(t, T0 + 3000, SYN, 20, 0, 64240, NULL, 0, TO_CLOSED);
    expect_rst(t, 20);
    p = rst_for(PEER_ISN + 20);
    assert_int_equal(fake_complete(f, T0 + 3001, f->reqs[2].req.id, 0, &p), 0);
    assert_true(f->outs[2].matches_native);
    th_close(t);
    test_free(f);
}

/* Native mode is untouched: the RST at once, nothing asked. */
static void test_native_mode(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, TO_CLOSED);
    expect_rst(t, 0);
    assert_int_equal(tstats(t)->asked, 0);
    th_close(t);
}

/* The frame on the wire, byte for byte: a SYN from 192.0.2.1:40000 (seq 0x01020304) to port 81,
 * then the decided RST: <SEQ=0><ACK=0x01020305><CTL=RST,ACK>, window 0, IP ident 0, TTL 64. */
static const char CLOSED_RST[] = "020000000001 020000000002 0800 45000028000000004006f6ccc0000202c0000201"
                                 "00519c400000000001020305501400008b340000 000000000000";

/* The same refusal from a listener on that port (legal), in the next datagram (IP ident 1). */
static const char LISTEN_RST[] = "020000000001 020000000002 0800 45000028000100004006f6cbc0000202c0000201"
                                 "00519c400000000001020305501400008b340000 000000000000";

static void no_accept(struct sp_tcp *l, struct sp_tcp *c)
{
    (void)l;
    (void)c;
    fail_msg("a refused connection was accepted");
}

static void rx_syn_frame(struct harness *h, sp_time_t now, uint32_t seq)
{
    struct sp_tcp_repr syn = {.src_port = 40000, .dst_port = CLOSED_PORT, .seq = seq, .flags = SYN,
                              .window = 64240, .mss = 1460, .wscale = -1};
    uint8_t seg[64], fr[H_FRAME_CAP];
    size_t n = sp_tcp_repr_buffer_len(&syn);
    sp_tcp_repr_emit(&syn, H_IP_PEER, H_IP_US, seg);
    struct sp_ipv4_repr ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_TCP, n);
    h_rx(h, now, fr, h_ip_frame(fr, &ip, seg, n));
}

static void test_exact_bytes_on_the_wire(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_TCP, SP_DECIDE_DELEGATE);
    rx_syn_frame(h, 2000, 0x01020304u);
    h_assert_silent(h);
    struct sp_decision_proposal p = rst_for(0x01020304u);
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
    uint8_t fr[H_FRAME_CAP], want[H_FRAME_CAP];
    assert_int_equal(sp_test_hex(CLOSED_RST, want, sizeof want), 60);
    assert_int_equal(h_take(h, fr), 60);
    assert_memory_equal(fr, want, 60);
    assert_int_equal(f->outs[0].frame_sent, 2);

    /* Legal silence: no frame at all. */
    sp_iface_set_authority(h->iface, SP_AUTHORITY_LEGAL);
    rx_syn_frame(h, 3000, 0x0a0b0c0du);
    p = (struct sp_decision_proposal){.action = SP_PROPOSE_DROP};
    assert_int_equal(fake_complete(f, 3001, f->reqs[1].req.id, 0, &p), 0);
    h_assert_silent(h);
    assert_int_equal(f->outs[1].frame_sent, 0);

    /* A listener's legal refusal of the same SYN is the same reset, byte for byte. */
    struct sp_tcp *l = NULL;
    assert_int_equal(sp_tcp_listen(h->iface, CLOSED_PORT, 4, no_accept, NULL, &l), 0);
    rx_syn_frame(h, 4000, 0x01020304u);
    h_assert_silent(h);
    assert_int_equal(f->reqs[2].req.hs_state, SP_HS_LISTEN);
    p = rst_for(0x01020304u);
    p.next_state = SP_HS_LISTEN;
    assert_int_equal(fake_complete(f, 4001, f->reqs[2].req.id, 0, &p), 0);
    assert_int_equal(sp_test_hex(LISTEN_RST, want, sizeof want), 60);
    assert_int_equal(h_take(h, fr), 60);
    assert_memory_equal(fr, want, 60);
    assert_int_equal(l->pending, 0);
    test_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_only_the_rst),
        cmocka_unit_test(test_legal_rst_or_silence),
        cmocka_unit_test(test_other_segments_stay_native),
        cmocka_unit_test(test_timeout_applies_the_policy),
        cmocka_unit_test(test_pending_table_bounds_it),
        cmocka_unit_test(test_shadow),
        cmocka_unit_test(test_native_mode),
        cmocka_unit_test_setup_teardown(test_exact_bytes_on_the_wire, h_setup, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
