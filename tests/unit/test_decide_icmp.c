/* The ICMP echo reply as a decision point, its proposals: delegate (structured and raw proposals,
 * every invalid reason under both policies, an injected destination). (Timeouts, errors, repeats,
 * limits, shadow, re-entrancy and native mode: test_decide_icmp_lifecycle.c.) */
#include "decide_icmp_harness.h"
#include "iface_internal.h"

static void test_delegate_structured_reply_after_completion(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    h_assert_silent(h); /* parked: nothing until the proposal */
    assert_int_equal(f->nreq, 1);
    const struct sp_decision_request *r = &f->reqs[0].req;
    assert_int_equal(r->kind, SP_DECISION_ICMP);
    assert_int_equal(r->mode, SP_DECIDE_DELEGATE);
    assert_int_equal(r->flow.protocol, SP_IP_PROTO_ICMP);
    assert_int_equal(r->flow.local_ip, H_IP_US);
    assert_int_equal(r->flow.remote_ip, H_IP_PEER);
    assert_int_equal(r->flow.remote_port, PING_IDENT);
    assert_int_equal(r->deadline, 2000 + SP_DECISION_TIMEOUT_MS);
    assert_true(sp_mac_eq(r->our_mac, H_MAC_US));
    assert_int_equal(r->our_ip, H_IP_US);
    assert_int_equal(r->ttl, SP_DEFAULT_TTL);
    assert_int_equal(r->asked_at, 2000);
    assert_int_equal(r->deadline, 2000 + SP_DECISION_TIMEOUT_MS);
    uint8_t want[H_FRAME_CAP];
    sp_test_hex(h_icmp_ping_hex, want, sizeof want);
    assert_int_equal(r->packet_len, 46);
    assert_memory_equal(r->packet, want + SP_ETH_HDR_LEN, 46);
    assert_int_equal(r->ip.src, H_IP_PEER);
    assert_int_equal(r->icmp.ident, PING_IDENT);
    assert_int_equal(r->icmp.seq, PING_SEQ);
    assert_int_equal(r->icmp.data_len, PING_DATA_LEN);
    assert_memory_equal(r->icmp.data, "slowpath-ping-data", PING_DATA_LEN);
    sp_test_hex(h_icmp_pong_hex, want, sizeof want);
    assert_int_equal(r->native_len, 46);
    assert_memory_equal(r->native + 20, want + SP_ETH_HDR_LEN + 20, 26); /* ICMP part; IP ident set on output */
    assert_int_equal(sp_iface_poll_at(h->iface), 2000 + SP_DECISION_TIMEOUT_MS);

    struct sp_decision_proposal p = good_structured();
    assert_int_equal(fake_complete(f, 2500, r->id, 0, &p), 0);
    expect_pong(h);
    h_assert_silent(h);
    outcome_is(f, r->id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    /* The pong: second frame sent (after the gratuitous ARP), third exchanged (after the ping). */
    assert_int_equal(f->outs[0].frame_sent, 2);
    assert_int_equal(f->outs[0].frame_any, 3);
    assert_int_equal(sp_iface_frame_count(h->iface).sent, 2);
    assert_int_equal(sp_iface_frame_count(h->iface).received, 1);
    const struct sp_decision_stats *s = dstats(h, SP_DECISION_ICMP);
    assert_int_equal(s->asked, 1);
    assert_int_equal(s->valid, 1);
    assert_int_equal(s->verdicts[SP_VERDICT_VALID], 1);
    assert_int_equal(s->emitted_llm, 1);
    assert_int_equal(s->invalid + s->fallback + s->dropped + s->timeouts + s->errors, 0);
    assert_int_equal(h_stat(h, SP_STAT_icmp_echo_tx), 1);
    /* Done: the id is unknown now, and no deadline is left. */
    assert_int_equal(fake_complete(f, 2600, r->id, 0, &p), SP_EINVAL);
    assert_true(sp_iface_poll_at(h->iface) > 2000 + SP_DECISION_TIMEOUT_MS);
    test_free(f);
}

/* The TTL is the host's (the prompt tells the model): another one, e.g. obeying an instruction in
 * the payload, is refused and the native reply (TTL 64) goes out instead. */
static void test_delegate_structured_other_ttl_is_refused(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    struct sp_decision_proposal p = good_structured();
    p.icmp_ttl = 255;
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
    uint8_t fr[H_FRAME_CAP];
    struct h_ip_out o;
    h_take_ip(h, fr, &o);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_HEADER, 0, SP_ACTION_FALLBACK, true);
    assert_int_equal(f->outs[0].frame_sent, 2); /* the fallback's frame is numbered the same way */
    assert_int_equal(f->outs[0].frame_any, 3);
    assert_int_equal(o.ip.ttl, SP_DEFAULT_TTL);
    assert_int_equal(o.ip.dst, H_IP_PEER);
    assert_int_equal(sp_csum(o.payload, o.payload_len), 0);
    assert_memory_equal(o.payload + 8, "slowpath-ping-data", PING_DATA_LEN);
    test_free(f);
}

/* The validator reads a raw proposal where the decider keeps it: the bytes stay as they were, and
 * what the stack would emit takes its data from the request's copy, never from the proposal. */
static void test_raw_proposal_is_only_read(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    uint8_t raw[SP_DECISION_MAX_PACKET], before[SP_DECISION_MAX_PACKET];
    struct sp_decision_proposal p = raw_from_native(&f->reqs[0], raw);
    memcpy(before, raw, p.raw_len);
    struct sp_decision_built b;
    assert_int_equal(sp_validate_icmp(&f->reqs[0].req, &p, &b), SP_VERDICT_VALID);
    assert_memory_equal(raw, before, p.raw_len);
    assert_ptr_equal(b.ip.l4.icmp.data, f->reqs[0].req.icmp.data);
    assert_int_equal(b.ip.l4.icmp.data_len, PING_DATA_LEN);
    test_free(f);
}

static void test_delegate_raw_valid(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    uint8_t raw[SP_DECISION_MAX_PACKET];
    struct sp_decision_proposal p = raw_from_native(&f->reqs[0], raw);
    sp_put16(raw + 4, 0x7777);       /* its own identifier: the stack picks its own */
    raw[6] = 0x40;                   /* DF, as Linux sets it: accepted, not carried over */
    fix_sums(raw, p.raw_len);
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
    uint8_t fr[H_FRAME_CAP];
    struct h_ip_out o;
    h_take_ip(h, fr, &o);
    h_assert_silent(h);
    assert_int_equal(o.ip.ttl, SP_DEFAULT_TTL);
    assert_false(o.ip.dont_frag);
    assert_int_equal(o.ip.ident, 0); /* the stack's first identifier, not the proposal's */
    assert_int_equal(o.ip.src, H_IP_US);
    assert_int_equal(o.ip.dst, H_IP_PEER);
    assert_int_equal(o.payload_len, 26);
    assert_memory_equal(o.payload, raw + 20, 26);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    test_free(f);
}

/* --- Every invalid reason, under both policies ---------------------------------------------- */

enum mutation {
    M_DROP_ACTION, M_IDENT, M_SEQ, M_DST, M_TTL0, M_RAW_IP_CHECKSUM, M_RAW_ICMP_CHECKSUM, M_RAW_PAYLOAD,
    M_RAW_SHORT_PAYLOAD, M_RAW_MALFORMED, M_RAW_TRAILING, M_RAW_SRC, M_RAW_DST, M_RAW_TYPE, M_RAW_PROTO,
    M_RAW_MF, M_RAW_TTL0, M_RAW_IDENT, M_RAW_SEQ, M_RAW_DROP, M_COUNT
};

static const enum sp_verdict expected[M_COUNT] = {
    [M_DROP_ACTION] = SP_VERDICT_ACTION, [M_IDENT] = SP_VERDICT_IDENT, [M_SEQ] = SP_VERDICT_SEQUENCE,
    [M_DST] = SP_VERDICT_ADDRESS, [M_TTL0] = SP_VERDICT_HEADER, [M_RAW_IP_CHECKSUM] = SP_VERDICT_CHECKSUM,
    [M_RAW_ICMP_CHECKSUM] = SP_VERDICT_CHECKSUM, [M_RAW_PAYLOAD] = SP_VERDICT_PAYLOAD,
    [M_RAW_SHORT_PAYLOAD] = SP_VERDICT_PAYLOAD, [M_RAW_MALFORMED] = SP_VERDICT_MALFORMED,
    [M_RAW_TRAILING] = SP_VERDICT_MALFORMED, [M_RAW_SRC] = SP_VERDICT_ADDRESS, [M_RAW_DST] = SP_VERDICT_ADDRESS,
    [M_RAW_TYPE] = SP_VERDICT_HEADER, [M_RAW_PROTO] = SP_VERDICT_HEADER, [M_RAW_MF] = SP_VERDICT_HEADER,
    [M_RAW_TTL0] = SP_VERDICT_HEADER, [M_RAW_IDENT] = SP_VERDICT_IDENT, [M_RAW_SEQ] = SP_VERDICT_SEQUENCE,
    [M_RAW_DROP] = SP_VERDICT_ACTION,
};

static struct sp_decision_proposal mutate(const struct fake_req *r, enum mutation m, uint8_t *raw)
{
    struct sp_decision_proposal p = good_structured();
    if (m < M_RAW_IP_CHECKSUM) {
        switch (m) {
        case M_DROP_ACTION: p.action = SP_PROPOSE_DROP; break;
        case M_IDENT: p.icmp_ident ^= 1; break;
        case M_SEQ: p.icmp_seq++; break;
        case M_DST: p.icmp_dst = EVIL_IP; break;
        case M_TTL0: p.icmp_ttl = 0; break;
        default: break;
        }
        return p;
    }
    p = raw_from_native(r, raw);
    switch (m) {
    case M_RAW_IP_CHECKSUM: raw[10] ^= 0xff; return p;
    case M_RAW_ICMP_CHECKSUM: raw[22] ^= 0xff; return p;
    case M_RAW_PAYLOAD: raw[30] ^= 0x20; break; /* "Slowpath": checksums fixed below */
    case M_RAW_SHORT_PAYLOAD: p.raw_len--; sp_put16(raw + 2, (uint16_t)p.raw_len); break;
    case M_RAW_MALFORMED: p.raw_len = 10; return p;
    case M_RAW_TRAILING: raw[p.raw_len++] = 0; return p;
    case M_RAW_SRC: sp_put32(raw + 12, 0xc0000203u); break;
    case M_RAW_DST: sp_put32(raw + 16, EVIL_IP); break;
    case M_RAW_TYPE: raw[20] = SP_ICMP_ECHO_REQUEST; break;
    case M_RAW_PROTO: raw[9] = SP_IP_PROTO_UDP; break;
    case M_RAW_MF: raw[6] = 0x20; break;
    case M_RAW_TTL0: raw[8] = 0; break;
    case M_RAW_IDENT: sp_put16(raw + 24, 0xbeee); break;
    case M_RAW_SEQ: sp_put16(raw + 26, 8); break;
    case M_RAW_DROP: p.action = SP_PROPOSE_DROP; return p;
    default: break;
    }
    fix_sums(raw, p.raw_len);
    return p;
}

static void run_invalid(enum mutation m, enum sp_invalid_policy policy)
{
    struct harness *h = h_open();
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    sp_iface_set_invalid_policy(h->iface, policy);
    rx_ping(h, 2000);
    assert_int_equal(f->nreq, 1);
    uint8_t raw[SP_DECISION_MAX_PACKET + 1];
    struct sp_decision_proposal p = mutate(&f->reqs[0], m, raw);
    assert_int_equal(sp_validate_proposal(&f->reqs[0].req, &p), expected[m]);
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
    const struct sp_decision_stats *s = dstats(h, SP_DECISION_ICMP);
    assert_int_equal(s->invalid, 1);
    assert_int_equal(s->valid, 0);
    assert_int_equal(s->verdicts[expected[m]], 1);
    assert_int_equal(s->emitted_llm, 0);
    if (policy == SP_INVALID_FALLBACK) {
        expect_pong(h); /* exactly the native reply: nothing of the proposal */
        assert_int_equal(s->fallback, 1);
        outcome_is(f, f->reqs[0].req.id, expected[m], 0, SP_ACTION_FALLBACK, true);
    } else {
        assert_int_equal(s->dropped, 1);
        outcome_is(f, f->reqs[0].req.id, expected[m], 0, SP_ACTION_DROP, false);
    }
    h_assert_silent(h);
    test_free(f);
    h_close(h);
}

static void test_invalid_falls_back_to_native(void **state)
{
    (void)state;
    for (int m = 0; m < M_COUNT; m++)
        run_invalid((enum mutation)m, SP_INVALID_FALLBACK);
}

static void test_invalid_dropped_sends_nothing(void **state)
{
    (void)state;
    for (int m = 0; m < M_COUNT; m++)
        run_invalid((enum mutation)m, SP_INVALID_DROP);
}

/* An injected destination never gets a frame, not even an ARP request. */
static void test_injected_destination_is_refused(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    sp_iface_set_invalid_policy(h->iface, SP_INVALID_DROP);
    rx_ping_seq(h, 2000, 1);
    rx_ping_seq(h, 2000, 2);
    struct sp_decision_proposal p = good_structured();
    p.icmp_seq = 1;
    p.icmp_dst = EVIL_IP;
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
    uint8_t raw[SP_DECISION_MAX_PACKET];
    p = raw_from_native(&f->reqs[1], raw);
    sp_put32(raw + 16, EVIL_IP);
    fix_sums(raw, p.raw_len);
    assert_int_equal(fake_complete(f, 2001, f->reqs[1].req.id, 0, &p), 0);
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_request), 0);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->verdicts[SP_VERDICT_ADDRESS], 2);

    /* Under fallback the native reply goes to the requester, never to the injected address. */
    sp_iface_set_invalid_policy(h->iface, SP_INVALID_FALLBACK);
    rx_ping_seq(h, 3000, 3);
    p = good_structured();
    p.icmp_seq = 3;
    p.icmp_dst = EVIL_IP;
    assert_int_equal(fake_complete(f, 3001, f->reqs[2].req.id, 0, &p), 0);
    uint8_t fr[H_FRAME_CAP];
    struct h_ip_out o;
    h_take_ip(h, fr, &o);
    assert_int_equal(o.ip.dst, H_IP_PEER);
    h_assert_silent(h);
    test_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_delegate_structured_reply_after_completion, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_delegate_structured_other_ttl_is_refused, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_delegate_raw_valid, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_raw_proposal_is_only_read, h_setup, h_teardown),
        cmocka_unit_test(test_invalid_falls_back_to_native),
        cmocka_unit_test(test_invalid_dropped_sends_nothing),
        cmocka_unit_test_setup_teardown(test_injected_destination_is_refused, h_setup, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
