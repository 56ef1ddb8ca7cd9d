/* The pending table through the internal entry a protocol module uses (how TCP plugs in): a fake
 * module registers sp_decision_ops for the tcp kind, parks SYNs keyed by the peer's ISN, and is
 * called back with the validated proposal, the fallback, and the end of each request. */
#include "decide_harness.h"
#include "iface_internal.h"

struct fake_module {
    int natives, proposals, finished;
    enum sp_decision_action last_action;
    bool last_emitted;
    struct sp_tcp_repr last_built;
    void *last_owner;
};
static struct fake_module mod;

static int mod_send_native(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e)
{
    (void)iface;
    (void)now;
    (void)e;
    mod.natives++;
    return 0;
}

static int mod_send_proposal(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e,
                             const struct sp_decision_proposal *p, const struct sp_decision_built *built)
{
    (void)iface;
    (void)now;
    (void)e;
    (void)p;
    mod.proposals++;
    mod.last_built = built->ip.l4.tcp;
    return 0;
}

static void mod_finished(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e,
                         enum sp_decision_action action, bool emitted)
{
    (void)iface;
    (void)now;
    mod.finished++;
    mod.last_action = action;
    mod.last_emitted = emitted;
    mod.last_owner = e->owner;
}

static const struct sp_decision_ops mod_ops = {mod_send_native, mod_send_proposal, mod_finished};

static const struct sp_flow FLOW = {SP_IP_PROTO_TCP, H_IP_US, H_IP_PEER, 80, 40000};

/* What the TCP module does on a SYN in LISTEN: returns the open result; parks and asks on PARK. */
static enum sp_decision_open_result park_syn(struct harness *h, sp_time_t now, uint32_t peer_isn, void *owner)
{
    struct sp_decision_entry *e;
    enum sp_decision_open_result r = sp_decision_open(h->iface, now, SP_DECISION_TCP, &FLOW, peer_isn, 60, &e);
    if (r != SP_DECISION_PARK)
        return r;
    e->owner = owner;
    struct sp_decision_request *q = &e->req;
    q->ip = (struct sp_ipv4_repr){.src = H_IP_PEER, .dst = H_IP_US, .protocol = SP_IP_PROTO_TCP, .ttl = 64};
    q->tcp = (struct sp_tcp_repr){.src_port = 40000, .dst_port = 80, .seq = peer_isn, .flags = SP_TCP_SYN,
                                  .window = 64240, .mss = 1460, .wscale = 7};
    q->hs_state = SP_HS_LISTEN;
    q->iss = 1000;
    q->native_window = 65535;
    q->native_mss = 1460;
    q->native_wscale = 7;
    memset(e->packet, 0, 60);
    q->packet_len = 60;
    sp_decision_ask(h->iface, now, e);
    return r;
}

static struct fake *install(struct harness *h, enum sp_decision_mode mode)
{
    memset(&mod, 0, sizeof mod);
    sp_decision_set_ops(h->iface, SP_DECISION_TCP, &mod_ops);
    return fake_install(h, SP_DECISION_TCP, mode);
}

static void test_tcp_needs_registered_ops(void **state)
{
    struct harness *h = *state;
    /* Before the module registers, asking for tcp delegation leaves it native. */
    sp_decision_set_ops(h->iface, SP_DECISION_TCP, NULL);
    struct fake *f = fake_install(h, SP_DECISION_TCP, SP_DECIDE_DELEGATE);
    assert_true(sp_decision_is_native(h->iface, SP_DECISION_TCP));
    test_free(f);
    f = install(h, SP_DECIDE_DELEGATE);
    assert_false(sp_decision_is_native(h->iface, SP_DECISION_TCP));
    test_free(f);
}

static void test_retransmitted_syn_joins_new_isn_is_new(void **state)
{
    struct harness *h = *state;
    struct fake *f = install(h, SP_DECIDE_DELEGATE);
    int conn_a, conn_b;
    assert_int_equal(park_syn(h, 2000, 5000, &conn_a), SP_DECISION_PARK);
    assert_int_equal(park_syn(h, 3000, 5000, &conn_a), SP_DECISION_WAIT);
    assert_int_equal(park_syn(h, 3000, 9000, &conn_b), SP_DECISION_PARK);
    assert_int_equal(f->nreq, 2);
    assert_int_equal(dstats(h, SP_DECISION_TCP)->joined, 1);

    struct sp_decision_proposal p = {.action = SP_PROPOSE_SYN_ACK, .tcp_seq = 1000, .tcp_ack = 5001,
                                     .tcp_window = 29200, .tcp_mss = 1400, .tcp_wscale = 7,
                                     .next_state = SP_HS_SYN_RECEIVED};
    assert_int_equal(fake_complete(f, 3100, f->reqs[0].req.id, 0, &p), 0);
    assert_int_equal(mod.proposals, 1);
    assert_int_equal(mod.last_built.flags, SP_TCP_SYN | SP_TCP_ACK);
    assert_int_equal(mod.last_built.window, 29200);
    assert_int_equal(mod.last_built.mss, 1400);
    assert_int_equal(mod.last_built.src_port, 80);
    assert_int_equal(mod.last_built.dst_port, 40000);
    assert_int_equal(mod.finished, 1);
    assert_int_equal(mod.last_action, SP_ACTION_LLM);
    assert_true(mod.last_emitted);
    assert_ptr_equal(mod.last_owner, &conn_a);

    /* Invalid (ack not ISN + 1): the module's native answer, then finished(FALLBACK). */
    p.tcp_ack = 5001;
    assert_int_equal(fake_complete(f, 3200, f->reqs[1].req.id, 0, &p), 0);
    assert_int_equal(mod.natives, 1);
    assert_int_equal(mod.last_action, SP_ACTION_FALLBACK);
    outcome_is(f, f->reqs[1].req.id, SP_VERDICT_ACK, 0, SP_ACTION_FALLBACK, true);
    test_free(f);
}

/* The module's object went away first (the listener closed): its entries end as dropped. */
static void test_cancel_owner(void **state)
{
    struct harness *h = *state;
    struct fake *f = install(h, SP_DECIDE_DELEGATE);
    int conn_a, conn_b;
    park_syn(h, 2000, 5000, &conn_a);
    park_syn(h, 2000, 6000, &conn_b);
    sp_decision_cancel_owner(h->iface, 2100, &conn_a);
    outcome_is(f, f->reqs[0].req.id, SP_VERDICT_VALID, SP_ECLOSED, SP_ACTION_DROP, false);
    assert_int_equal(mod.natives, 0);
    assert_int_equal(dstats(h, SP_DECISION_TCP)->dropped, 1);
    assert_int_equal(dstats(h, SP_DECISION_TCP)->cancelled, 1);
    assert_int_equal(dstats(h, SP_DECISION_TCP)->errors, 0);
    struct sp_decision_proposal p = {.action = SP_PROPOSE_SYN_ACK};
    assert_int_equal(fake_complete(f, 2200, f->reqs[0].req.id, 0, &p), SP_EINVAL);
    /* The other one is still there until its deadline. */
    assert_int_equal(sp_iface_poll_at(h->iface), 2000 + SP_DECISION_TIMEOUT_MS);
    sp_iface_poll(h->iface, 2000 + SP_DECISION_TIMEOUT_MS);
    assert_int_equal(mod.natives, 1);
    assert_ptr_equal(mod.last_owner, &conn_b);
    outcome_is(f, f->reqs[1].req.id, SP_VERDICT_VALID, SP_ETIMEDOUT, SP_ACTION_FALLBACK, true);
    assert_int_equal(f->nout, 2); /* both endings were the stack's: told through the callback */
    test_free(f);
}

/* A completion's outcome is returned, never told as well; a caller may not want it (out NULL). */
static void test_completion_returns_outcome(void **state)
{
    struct harness *h = *state;
    struct fake *f = install(h, SP_DECIDE_DELEGATE);
    int conn_a, conn_b;
    park_syn(h, 2000, 5000, &conn_a);
    park_syn(h, 2000, 6000, &conn_b);
    struct sp_decision_proposal p = {.action = SP_PROPOSE_SYN_ACK, .tcp_seq = 1000, .tcp_ack = 5001,
                                     .tcp_window = 29200, .tcp_mss = 1400, .tcp_wscale = 7,
                                     .next_state = SP_HS_SYN_RECEIVED};
    struct sp_decision_outcome out;
    assert_int_equal(sp_decision_complete(h->iface, 2100, f->reqs[0].req.id, 0, &p, &out), 0);
    assert_int_equal(out.id, f->reqs[0].req.id);
    assert_int_equal(out.kind, SP_DECISION_TCP);
    assert_int_equal(out.verdict, SP_VERDICT_VALID);
    assert_int_equal(out.action, SP_ACTION_LLM);
    assert_true(out.emitted);
    assert_int_equal(sp_decision_complete(h->iface, 2100, f->reqs[1].req.id, SP_EIO, NULL, NULL), 0);
    assert_int_equal(mod.natives, 1);
    assert_int_equal(f->nout, 0);
    /* Completed already: refused, and *out is left as it was. */
    struct sp_decision_outcome before = out;
    assert_int_equal(sp_decision_complete(h->iface, 2200, f->reqs[1].req.id, 0, &p, &out), SP_EINVAL);
    assert_memory_equal(&out, &before, sizeof out);
    test_free(f);
}

/* An entry opened but given back before asking leaves no trace. */
static void test_release_unasked(void **state)
{
    struct harness *h = *state;
    struct fake *f = install(h, SP_DECIDE_DELEGATE);
    struct sp_decision_entry *e;
    assert_int_equal(sp_decision_open(h->iface, 2000, SP_DECISION_TCP, &FLOW, 1, 60, &e), SP_DECISION_PARK);
    sp_decision_release(h->iface, e);
    assert_true(sp_iface_poll_at(h->iface) > 2000 + SP_DECISION_TIMEOUT_MS); /* no deadline left */
    assert_int_equal(park_syn(h, 2000, 1, NULL), SP_DECISION_PARK);
    assert_int_equal(f->nreq, 1);
    test_free(f);
}

/* In shadow mode the module answers natively first (send_native from ask), and a retransmitted
 * SYN is answered natively again (ANSWER) while the question stays single. */
static void test_shadow_join_answers(void **state)
{
    struct harness *h = *state;
    struct fake *f = install(h, SP_DECIDE_SHADOW);
    assert_int_equal(park_syn(h, 2000, 5000, NULL), SP_DECISION_PARK);
    assert_int_equal(mod.natives, 1);
    assert_int_equal(park_syn(h, 2500, 5000, NULL), SP_DECISION_ANSWER);
    assert_int_equal(f->nreq, 1);
    struct sp_decision_proposal p = {.action = SP_PROPOSE_SYN_ACK, .tcp_seq = 1000, .tcp_ack = 5001,
                                     .tcp_window = 65535, .tcp_mss = 1460, .tcp_wscale = 7,
                                     .next_state = SP_HS_SYN_RECEIVED};
    assert_int_equal(fake_complete(f, 2600, f->reqs[0].req.id, 0, &p), 0);
    assert_int_equal(mod.proposals, 0);
    assert_int_equal(mod.last_action, SP_ACTION_SHADOW);
    assert_false(mod.last_emitted);
    assert_true(f->outs[0].matches_native);
    test_free(f);
}

/* The table is shared by all kinds and bounded. */
static void test_table_shared_and_bounded(void **state)
{
    struct harness *h = *state;
    struct fake *f = install(h, SP_DECIDE_DELEGATE);
    for (uint32_t i = 0; i < SP_DECISION_PENDING; i++)
        assert_int_equal(park_syn(h, 2000, 100 + i, NULL), SP_DECISION_PARK);
    assert_int_equal(park_syn(h, 2000, 99, NULL), SP_DECISION_ANSWER);
    assert_int_equal(dstats(h, SP_DECISION_TCP)->pending_full, 1);
    /* ICMP delegated meanwhile finds no room either: answered natively. */
    struct fake *g = fake_install(h, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    uint8_t fr[H_FRAME_CAP];
    h_rx(h, 2000, fr, h_ping(fr, H_IP_PEER, H_IP_US, 1, 1, (const uint8_t *)"x", 1));
    assert_int_equal(h_pending(h), 1);
    assert_int_equal(g->nreq, 0);
    assert_int_equal(dstats(h, SP_DECISION_ICMP)->pending_full, 1);
    /* A packet larger than an entry holds is never parked. */
    struct sp_decision_entry *e;
    sp_iface_poll(h->iface, 2000 + SP_DECISION_TIMEOUT_MS);
    assert_int_equal(sp_decision_open(h->iface, 99999, SP_DECISION_TCP, &FLOW, 1, SP_DECISION_MAX_PACKET + 1, &e),
                     SP_DECISION_ANSWER);
    assert_int_equal(dstats(h, SP_DECISION_TCP)->too_big, 1);
    test_free(g);
    test_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tcp_needs_registered_ops, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_retransmitted_syn_joins_new_isn_is_new, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_cancel_owner, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_completion_returns_outcome, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_release_unasked, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_shadow_join_answers, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_table_shared_and_bounded, h_setup, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
