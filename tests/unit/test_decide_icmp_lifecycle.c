/* The ICMP echo reply as a decision point, its life cycle: timeout, decider errors, repeats, a full
 * table, a datagram too big to park, shadow grading, completion from inside decide, native mode
 * untouched, frame numbers and the names of modes and states. */
#include "decide_icmp_harness.h"
#include "iface_internal.h"

/* --- Timeouts, errors, repeats, limits -------------------------------------------------------- */

static void test_timeout_applies_policy_at_the_deadline(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    sp_time_t deadline = 2000 + SP_DECISION_TIMEOUT_MS;
    assert_int_equal(sp_iface_poll_at(h->iface), deadline);
    sp_iface_poll(h->iface, deadline - 1);
    h_assert_silent(h);
    assert_int_equal(f->nout, 0);
    sp_iface_poll(h->iface, deadline);
    expect_pong(h);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, SP_ETIMEDOUT, SP_ACTION_FALLBACK, true);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->timeouts, 1);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->fallback, 1);
    /* A late proposal finds nothing. */
    struct sp_decision_proposal p = good_structured();
    assert_int_equal(fake_complete(f, deadline + 5, f->reqs[0].req.id, 0, &p), SP_EINVAL);
    h_assert_silent(h);
    test_free(f);
}

static void test_timeout_with_drop_policy_and_short_timeout(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    sp_iface_set_invalid_policy(h->iface, SP_INVALID_DROP);
    sp_iface_set_decision_timeout(h->iface, 500);
    rx_ping(h, 2000);
    assert_int_equal(f->reqs[0].req.deadline, 2500);
    assert_int_equal(sp_iface_poll_at(h->iface), 2500);
    sp_iface_poll(h->iface, 2500);
    h_assert_silent(h);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, SP_ETIMEDOUT, SP_ACTION_DROP, false);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->dropped, 1);
    test_free(f);
}

static void test_decide_error_applies_policy_at_once(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    f->decide_rc = SP_EBUSY;
    rx_ping(h, 2000);
    expect_pong(h);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, SP_EBUSY, SP_ACTION_FALLBACK, true);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->errors, 1);

    sp_iface_set_invalid_policy(h->iface, SP_INVALID_DROP);
    rx_ping_seq(h, 2100, 8);
    h_assert_silent(h);
    outcome_is(f, f->reqs[1].req.id, SP_VERDICT_VALID, SP_EBUSY, SP_ACTION_DROP, false);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->errors, 2);
    assert_true(sp_iface_poll_at(h->iface) != 2100 + SP_DECISION_TIMEOUT_MS); /* nothing parked */
    test_free(f);
}

static void test_completion_with_an_error(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    assert_int_equal(fake_complete(f, 2300, f->reqs[0].req.id, SP_EIO, NULL), 0);
    expect_pong(h);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, SP_EIO, SP_ACTION_FALLBACK, true);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->errors, 1);
    test_free(f);
}

static void test_repeat_joins_new_sequence_is_separate(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    rx_ping(h, 2100); /* the same (ident, seq): joins */
    h_assert_silent(h);
    assert_int_equal(f->nreq, 1);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->joined, 1);
    rx_ping_seq(h, 2200, PING_SEQ + 1);
    assert_int_equal(f->nreq, 2);
    assert_int_not_equal(f->reqs[0].req.id, f->reqs[1].req.id);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->asked, 2);
    h_assert_silent(h);

    struct sp_decision_proposal p = good_structured();
    assert_int_equal(fake_complete(f, 2300, f->reqs[0].req.id, 0, &p), 0);
    expect_pong(h); /* one reply for the request and its repeat */
    h_assert_silent(h);
    p.icmp_seq = PING_SEQ + 1;
    assert_int_equal(fake_complete(f, 2300, f->reqs[1].req.id, 0, &p), 0);
    uint8_t fr[H_FRAME_CAP];
    struct h_ip_out o;
    h_take_ip(h, fr, &o);
    assert_int_equal(sp_get16(o.payload + 6), PING_SEQ + 1);
    h_assert_silent(h);
    /* Once completed, the same (ident, seq) is a new request again. */
    rx_ping(h, 2400);
    assert_int_equal(f->nreq, 3);
    test_free(f);
}

static void test_full_table_answers_natively(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    for (unsigned i = 0; i < SP_DECISION_PENDING; i++)
        rx_ping_seq(h, 2000, (uint16_t)(100 + i));
    h_assert_silent(h);
    assert_int_equal(f->nreq, SP_DECISION_PENDING);
    rx_ping(h, 2001);
    expect_pong(h);
    assert_int_equal(f->nreq, SP_DECISION_PENDING);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->pending_full, 1);
    /* A completion frees a slot for the next request. */
    struct sp_decision_proposal p = good_structured();
    p.icmp_seq = 100;
    assert_int_equal(fake_complete(f, 2002, f->reqs[0].req.id, 0, &p), 0);
    h_drain(h);
    rx_ping(h, 2003);
    h_assert_silent(h);
    assert_int_equal(f->nreq, SP_DECISION_PENDING + 1);
    test_free(f);
}

/* A 4000-byte ping arrives in three fragments; reassembled, it is too big to park. */
static void test_too_big_answers_natively(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    static uint8_t data[4000], icmp[4008];
    h_fill(data, sizeof data, 5);
    size_t len = h_icmp_echo(icmp, SP_ICMP_ECHO_REQUEST, 0x0101, 1, data, sizeof data);
    for (size_t off = 0; off < len; off += 1480) {
        size_t n = len - off < 1480 ? len - off : 1480;
        struct sp_ipv4_repr ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_ICMP, n);
        ip.frag_offset = (uint16_t)off;
        ip.more_frags = off + n < len;
        uint8_t fr[H_FRAME_CAP];
        h_rx(h, 2000, fr, h_ip_frame(fr, &ip, icmp + off, n));
    }
    assert_int_equal(f->nreq, 0);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->too_big, 1);
    assert_int_equal(h_pending(h), 3); /* the native reply, fragmented */
    assert_int_equal(h_stat(h, SP_STAT_icmp_echo_tx), 1);
    test_free(f);
}

/* --- Shadow ------------------------------------------------------------------------------------ */

static void test_shadow_answers_natively_and_grades(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_SHADOW);
    rx_ping(h, 2000);
    expect_pong(h); /* at once */
    assert_int_equal(f->nreq, 1);
    assert_int_equal(f->reqs[0].req.mode, SP_DECIDE_SHADOW);
    rx_ping(h, 2001); /* a repeat is still answered natively, and joins */
    h_drain(h);
    assert_int_equal(f->nreq, 1);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->joined, 1);

    struct sp_decision_proposal p = good_structured();
    assert_int_equal(fake_complete(f, 2100, f->reqs[0].req.id, 0, &p), 0);
    h_assert_silent(h);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, 0, SP_ACTION_SHADOW, false);
    assert_true(f->outs[0].matches_native);

    /* Valid but not what native says (another TTL): a mismatch, still never sent. */
    rx_ping_seq(h, 2200, 20);
    h_drain(h);
    p.icmp_seq = 20;
    p.icmp_ttl = 1;
    assert_int_equal(fake_complete(f, 2300, f->reqs[1].req.id, 0, &p), 0);
    h_assert_silent(h);
    assert_false(f->outs[1].matches_native);

    /* Raw: the native bytes with another identifier and DF still match. */
    rx_ping_seq(h, 2400, 21);
    h_drain(h);
    uint8_t raw[SP_DECISION_MAX_PACKET];
    p = raw_from_native(&f->reqs[2], raw);
    sp_put16(raw + 4, 0x4242);
    raw[6] = 0x40;
    fix_sums(raw, p.raw_len);
    assert_int_equal(fake_complete(f, 2500, f->reqs[2].req.id, 0, &p), 0);
    assert_true(f->outs[2].matches_native);

    /* Invalid: counted by reason, a mismatch, never sent (no fallback either). */
    rx_ping_seq(h, 2600, 22);
    h_drain(h);
    p = good_structured();
    p.icmp_seq = 22;
    p.icmp_dst = EVIL_IP;
    assert_int_equal(fake_complete(f, 2700, f->reqs[3].req.id, 0, &p), 0);
    h_assert_silent(h);
    outcome_is(f, f->reqs[3].req.id, SP_VERDICT_ADDRESS, 0, SP_ACTION_SHADOW, false);

    /* A timeout in shadow mode sends nothing more. */
    rx_ping_seq(h, 2800, 23);
    h_drain(h);
    sp_iface_poll(h->iface, 2800 + SP_DECISION_TIMEOUT_MS);
    h_assert_silent(h);
    outcome_is(f, f->reqs[4].req.id, SP_VERDICT_VALID, SP_ETIMEDOUT, SP_ACTION_SHADOW, false);

    const struct sp_decision_stats *s = dstats(h, SP_DECISION_ICMP);
    assert_int_equal(s->shadow_match, 2);
    assert_int_equal(s->shadow_mismatch, 3); /* the timeout matched nothing either */
    assert_int_equal(s->emitted_llm + s->fallback + s->dropped, 0);
    assert_int_equal(s->timeouts, 1);
    assert_int_equal(h_stat(h, SP_STAT_icmp_echo_tx), 6);
    test_free(f);
}

/* --- Re-entrancy and native mode ---------------------------------------------------------------- */

static void test_synchronous_completion_inside_decide(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    f->sync = true;
    f->sync_now = 2000;
    f->sync_prop = good_structured();
    rx_ping(h, 2000);
    expect_pong(h);
    h_assert_silent(h);
    assert_int_equal(f->nout, 1);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    assert_int_equal(fake_complete(f, 2001, f->reqs[0].req.id, 0, &f->sync_prop), SP_EINVAL);

    /* Completed inside, then decide reports an error anyway: the request is not ended twice. */
    f->decide_rc = SP_EIO;
    f->sync_prop.icmp_seq = 9;
    rx_ping_seq(h, 2100, 9);
    assert_int_equal(h_pending(h), 1);
    h_drain(h);
    assert_int_equal(f->nout, 2);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->errors, 0);

    /* An error completion inside decide: the policy, once. */
    f->decide_rc = 0;
    f->sync_error = SP_EIO;
    rx_ping_seq(h, 2200, 10);
    assert_int_equal(h_pending(h), 1);
    h_drain(h);
    assert_int_equal(f->nout, 3);
    outcome_is(f, f->reqs[2].req.id, SP_VERDICT_VALID, SP_EIO, SP_ACTION_FALLBACK, true);
    test_free(f);
}

static void test_native_mode_asks_nobody(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_NATIVE);
    rx_ping(h, 2000);
    expect_pong(h);
    assert_int_equal(f->nreq, 0);
    /* Delegate without a decider is native too. */
    sp_iface_set_decider(h->iface, SP_DECISION_ICMP, SP_DECIDE_DELEGATE, NULL);
    rx_ping(h, 2001);
    assert_int_equal(h_pending(h), 1);
    h_drain(h);
    const struct sp_decision_stats *s = dstats(h, SP_DECISION_ICMP);
    assert_int_equal(s->asked + s->joined + s->pending_full + s->too_big, 0);
    /* Back to delegate, then native again: a parked request still completes. */
    struct sp_decider d = {.decide = fake_decide, .outcome = fake_outcome, .ctx = f};
    sp_iface_set_decider(h->iface, SP_DECISION_ICMP, SP_DECIDE_DELEGATE, &d);
    rx_ping(h, 2002);
    h_assert_silent(h);
    sp_iface_set_decider(h->iface, SP_DECISION_ICMP, SP_DECIDE_NATIVE, NULL);
    rx_ping(h, 2003); /* native now: answered at once, not joined */
    assert_int_equal(h_pending(h), 1);
    h_drain(h);
    sp_iface_poll(h->iface, 2002 + SP_DECISION_TIMEOUT_MS);
    assert_int_equal(h_pending(h), 1); /* the parked one falls back at its deadline */
    h_drain(h);
    test_free(f);
}

/* An answer that must wait for its next hop's address has no frame number yet: what went out
 * meanwhile was the ARP request. Frames handed to the interface directly never passed the device
 * and are not numbered. */
static void test_frame_numbers(void **state)
{
    struct harness *h = *state;
    struct fake *f = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    rx_ping(h, 2000);
    struct sp_decision_proposal p = good_structured();
    sp_time_t later = 2000 + SP_ARP_ENTRY_TTL_MS + 1; /* the peer's entry has lapsed */
    assert_int_equal(fake_complete(f, later, f->reqs[0].req.id, 0, &p), 0);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    h_expect_arp_request(h, H_IP_PEER);
    assert_int_equal(f->outs[0].frame_sent, 0);
    assert_int_equal(f->outs[0].frame_any, 0);

    uint8_t fr[H_FRAME_CAP];
    size_t n = h_ping(fr, H_IP_PEER, H_IP_US, PING_IDENT, PING_SEQ + 1, (const uint8_t *)"x", 1);
    struct sp_frame_count before = sp_iface_frame_count(h->iface);
    sp_iface_ingress(h->iface, later + 1, fr, n);
    assert_int_equal(sp_iface_frame_count(h->iface).received, before.received);
    test_free(f);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(sp_decision_kind_name(SP_DECISION_ARP), "arp");
    assert_string_equal(sp_decision_mode_name(SP_DECIDE_DELEGATE), "llm");
    assert_string_equal(sp_verdict_name(SP_VERDICT_CHECKSUM), "invalid:checksum");
    assert_string_equal(sp_verdict_name(SP_VERDICT_DATA), "invalid:data");
    assert_string_equal(sp_decision_action_name(SP_ACTION_FALLBACK), "fallback");
    assert_string_equal(sp_hs_state_name(SP_HS_SYN_RECEIVED), "SYN-RECEIVED");
    assert_string_equal(sp_proposal_action_name(SP_PROPOSE_SYN_ACK), "syn_ack");
    assert_string_equal(sp_proposal_action_name(SP_PROPOSE_DROP), "drop");
    /* Every name reads back as its value; anything else is refused. */
    for (int k = 0; k < SP_DECISION_KINDS; k++) {
        enum sp_decision_kind got;
        assert_int_equal(sp_decision_kind_parse(sp_decision_kind_name((enum sp_decision_kind)k), &got), 0);
        assert_int_equal(got, k);
    }
    for (int s = SP_HS_LISTEN; s <= SP_HS_CLOSED; s++) {
        enum sp_hs_state got;
        assert_int_equal(sp_hs_state_parse(sp_hs_state_name((enum sp_hs_state)s), &got), 0);
        assert_int_equal(got, s);
    }
    enum sp_decision_kind k = SP_DECISION_TCP;
    assert_int_equal(sp_decision_kind_parse("ICMP", &k), SP_EINVAL);
    assert_int_equal(sp_decision_kind_parse(NULL, &k), SP_EINVAL);
    assert_int_equal(k, SP_DECISION_TCP);
    enum sp_hs_state st = SP_HS_LISTEN;
    assert_int_equal(sp_hs_state_parse("TIME-WAIT", &st), SP_EINVAL);
    assert_int_equal(sp_hs_state_parse("syn-sent", &st), SP_EINVAL);
    assert_int_equal(st, SP_HS_LISTEN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_frame_numbers, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_applies_policy_at_the_deadline, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_timeout_with_drop_policy_and_short_timeout, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_decide_error_applies_policy_at_once, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_completion_with_an_error, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_repeat_joins_new_sequence_is_separate, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_full_table_answers_natively, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_too_big_answers_natively, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_shadow_answers_natively_and_grades, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_synchronous_completion_inside_decide, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_native_mode_asks_nobody, h_setup, h_teardown),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
