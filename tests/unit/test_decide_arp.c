/* The ARP reply as a decision point: only for our address, with our MAC, to the asker; repeats
 * join; shadow grading; raw frames parsed and checked field by field. */
#include "decide_harness.h"

#define EVIL_MAC ((struct sp_mac){{0x02, 0xee, 0, 0, 0, 0x09}})

static void rx_request(struct harness *h, sp_time_t now)
{
    uint8_t f[H_FRAME_CAP];
    h_rx(h, now, f, h_arp_request(f, H_MAC_PEER, H_IP_PEER, H_IP_US));
}

/* The native answer, as the stack has always sent it. */
static size_t native_reply(uint8_t *f)
{
    return h_arp(f, H_MAC_PEER, SP_ARP_OP_REPLY, H_MAC_US, H_IP_US, H_MAC_PEER, H_IP_PEER);
}

static void expect_native_reply(struct harness *h)
{
    uint8_t f[H_FRAME_CAP], want[H_FRAME_CAP];
    size_t n = native_reply(want);
    assert_int_equal(h_take(h, f), n);
    assert_memory_equal(f, want, n);
}

static struct sp_decision_proposal good_structured(void)
{
    return (struct sp_decision_proposal){
        .action = SP_PROPOSE_REPLY,
        .arp = {.op = SP_ARP_OP_REPLY, .sha = H_MAC_US, .spa = H_IP_US, .tha = H_MAC_PEER, .tpa = H_IP_PEER},
    };
}

/* A raw reply as a model writes it: the 42 bytes, no padding. */
static struct sp_decision_proposal good_raw(uint8_t *buf)
{
    native_reply(buf);
    return (struct sp_decision_proposal){.action = SP_PROPOSE_REPLY, .raw = true, .raw_bytes = buf,
                                         .raw_len = SP_ETH_HDR_LEN + SP_ARP_LEN};
}

static void test_delegate_structured(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ARP, SP_DECIDE_DELEGATE);
    rx_request(h, 2000);
    h_assert_silent(h);
    assert_int_equal(f->nreq, 1);
    const struct sp_decision_request *r = &f->reqs[0].req;
    assert_int_equal(r->kind, SP_DECISION_ARP);
    assert_int_equal(r->flow.protocol, 0);
    assert_int_equal(r->flow.remote_ip, H_IP_PEER);
    assert_int_equal(r->arp.op, SP_ARP_OP_REQUEST);
    assert_true(sp_mac_eq(r->arp.sha, H_MAC_PEER));
    uint8_t want[H_FRAME_CAP];
    size_t n = h_arp_request(want, H_MAC_PEER, H_IP_PEER, H_IP_US);
    assert_int_equal(r->packet_len, n);
    assert_memory_equal(r->packet, want, n);
    n = native_reply(want);
    assert_int_equal(r->native_len, n);
    assert_memory_equal(r->native, want, n);
    /* The sender was learned meanwhile, as always. */
    struct sp_mac mac;
    assert_true(sp_iface_neighbour(h->iface, H_IP_PEER, &mac));

    struct sp_decision_proposal p = good_structured();
    assert_int_equal(fake_complete(f, 2100, r->id, 0, &p), 0);
    expect_native_reply(h);
    h_assert_silent(h);
    outcome_is(f, r->id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    assert_int_equal(dstats(h, SP_DECISION_ARP)->emitted_llm, 1);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_reply), 1);
    test_free(f);
}

static void test_delegate_raw(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ARP, SP_DECIDE_DELEGATE);
    rx_request(h, 2000);
    uint8_t raw[SP_ETH_MIN_FRAME];
    struct sp_decision_proposal p = good_raw(raw);
    assert_int_equal(fake_complete(f, 2100, f->reqs[0].req.id, 0, &p), 0);
    expect_native_reply(h); /* re-emitted by the stack, padded */
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    test_free(f);
}

enum mutation {
    M_DROP, M_MAC, M_ADDRESS, M_TARGET_MAC, M_TARGET_IP, M_RAW_SHORT, M_RAW_LONG, M_RAW_ETHERTYPE, M_RAW_OP,
    M_RAW_ETH_SRC, M_RAW_ETH_DST, M_RAW_SHA, M_RAW_HTYPE, M_COUNT
};

static const enum sp_verdict expected[M_COUNT] = {
    [M_DROP] = SP_VERDICT_ACTION, [M_MAC] = SP_VERDICT_MAC, [M_ADDRESS] = SP_VERDICT_ADDRESS,
    [M_TARGET_MAC] = SP_VERDICT_TARGET, [M_TARGET_IP] = SP_VERDICT_TARGET, [M_RAW_SHORT] = SP_VERDICT_MALFORMED,
    [M_RAW_LONG] = SP_VERDICT_MALFORMED, [M_RAW_ETHERTYPE] = SP_VERDICT_HEADER, [M_RAW_OP] = SP_VERDICT_HEADER,
    [M_RAW_ETH_SRC] = SP_VERDICT_MAC, [M_RAW_ETH_DST] = SP_VERDICT_TARGET, [M_RAW_SHA] = SP_VERDICT_MAC,
    [M_RAW_HTYPE] = SP_VERDICT_MALFORMED,
};

static struct sp_decision_proposal mutate(enum mutation m, uint8_t *raw)
{
    struct sp_decision_proposal p = good_structured();
    switch (m) {
    case M_DROP: p.action = SP_PROPOSE_DROP; return p;
    case M_MAC: p.arp.sha = EVIL_MAC; return p;
    case M_ADDRESS: p.arp.spa = 0xc0000209u; return p;
    case M_TARGET_MAC: p.arp.tha = EVIL_MAC; return p;
    case M_TARGET_IP: p.arp.tpa = 0xcb007109u; return p;
    default: break;
    }
    p = good_raw(raw);
    switch (m) {
    case M_RAW_SHORT: p.raw_len = 41; break;
    case M_RAW_LONG: p.raw_len = 61; break;
    case M_RAW_ETHERTYPE: sp_put16(raw + 12, SP_ETHERTYPE_IPV4); break;
    case M_RAW_OP: sp_put16(raw + 20, SP_ARP_OP_REQUEST); break;
    case M_RAW_ETH_SRC: memcpy(raw + 6, EVIL_MAC.b, 6); break;
    case M_RAW_ETH_DST: memcpy(raw, sp_mac_broadcast.b, 6); break;
    case M_RAW_SHA: memcpy(raw + 22, EVIL_MAC.b, 6); break;
    case M_RAW_HTYPE: sp_put16(raw + 14, 6); break;
    default: break;
    }
    return p;
}

static void run_invalid(enum mutation m, enum sp_invalid_policy policy)
{
    struct harness *h = h_open();
    struct fake *f = fake_install(h, SP_DECISION_ARP, SP_DECIDE_DELEGATE);
    sp_iface_set_invalid_policy(h->iface, policy);
    rx_request(h, 2000);
    uint8_t raw[SP_ETH_MIN_FRAME + 8];
    memset(raw, 0, sizeof raw);
    struct sp_decision_proposal p = mutate(m, raw);
    assert_int_equal(sp_validate_proposal(&f->reqs[0].req, &p), expected[m]);
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &p), 0);
    const struct sp_decision_stats *s = dstats(h, SP_DECISION_ARP);
    assert_int_equal(s->invalid, 1);
    assert_int_equal(s->verdicts[expected[m]], 1);
    if (policy == SP_INVALID_FALLBACK) {
        expect_native_reply(h);
        outcome_is(f, f->reqs[0].req.id, expected[m], 0, SP_ACTION_FALLBACK, true);
    } else {
        outcome_is(f, f->reqs[0].req.id, expected[m], 0, SP_ACTION_DROP, false);
    }
    h_assert_silent(h);
    test_free(f);
    h_close(h);
}

static void test_invalid_falls_back(void **state)
{
    (void)state;
    for (int m = 0; m < M_COUNT; m++)
        run_invalid((enum mutation)m, SP_INVALID_FALLBACK);
}

static void test_invalid_dropped(void **state)
{
    (void)state;
    for (int m = 0; m < M_COUNT; m++)
        run_invalid((enum mutation)m, SP_INVALID_DROP);
}

static void test_repeated_request_joins(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ARP, SP_DECIDE_DELEGATE);
    rx_request(h, 2000);
    rx_request(h, 2500);
    rx_request(h, 3000);
    h_assert_silent(h);
    assert_int_equal(f->nreq, 1);
    assert_int_equal(dstats(h, SP_DECISION_ARP)->joined, 2);
    /* Another asker (another MAC) is another request. */
    uint8_t fr[H_FRAME_CAP];
    const struct sp_mac other = {{0x02, 0, 0, 0, 0, 0x03}};
    h_rx(h, 3000, fr, h_arp_request(fr, other, 0xc0000203u, H_IP_US));
    assert_int_equal(f->nreq, 2);
    struct sp_decision_proposal p = good_structured();
    assert_int_equal(fake_complete(f, 3100, f->reqs[0].req.id, 0, &p), 0);
    expect_native_reply(h);
    h_assert_silent(h);
    test_free(f);
}

static void test_shadow(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ARP, SP_DECIDE_SHADOW);
    rx_request(h, 2000);
    expect_native_reply(h);
    uint8_t raw[SP_ETH_MIN_FRAME];
    struct sp_decision_proposal p = good_raw(raw);
    assert_int_equal(fake_complete(f, 2100, f->reqs[0].req.id, 0, &p), 0);
    h_assert_silent(h);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, 0, SP_ACTION_SHADOW, false);
    assert_true(f->outs[0].matches_native);
    rx_request(h, 2200);
    expect_native_reply(h);
    p = good_structured();
    p.arp.tha = EVIL_MAC;
    assert_int_equal(fake_complete(f, 2300, f->reqs[1].req.id, 0, &p), 0);
    h_assert_silent(h);
    outcome_is(f, f->reqs[1].req.id, SP_VERDICT_TARGET, 0, SP_ACTION_SHADOW, false);
    assert_int_equal(dstats(h, SP_DECISION_ARP)->shadow_match, 1);
    assert_int_equal(dstats(h, SP_DECISION_ARP)->shadow_mismatch, 1);
    test_free(f);
}

/* Delegating ARP leaves ICMP native, and the other way round. */
static void test_kinds_are_independent(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ARP, SP_DECIDE_DELEGATE);
    uint8_t fr[H_FRAME_CAP];
    h_rx(h, 2000, fr, h_ping(fr, H_IP_PEER, H_IP_US, 1, 1, (const uint8_t *)"x", 1));
    assert_int_equal(h_pending(h), 1);
    h_drain(h);
    assert_int_equal(f->nreq, 0);
    test_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_delegate_structured, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_delegate_raw, h_setup, h_teardown),
        cmocka_unit_test(test_invalid_falls_back),
        cmocka_unit_test(test_invalid_dropped),
        cmocka_unit_test_setup_teardown(test_repeated_request_joins, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_shadow, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_kinds_are_independent, h_setup, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
