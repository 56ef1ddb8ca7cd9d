/* The LLM decider end to end (the fixture: llm_decider_harness.h): delegated ICMP and ARP in
 * both formats, an always-wrong model under both policies, a busy client, the stack's timeout,
 * shadow grading, the printed statistics, frame numbers, and the flow's state carried into the
 * next prompt. */
#include "llm_decider_harness.h"
#include "slowpath/llm/prompt.h"

static void delegated_ping(enum sp_llm_format fmt, const char *fmt_name)
{
    struct fx_opts o = {.format = fmt};
    struct fx *f = fx_open(&o);
    sp_llm_decider_install(f->dec, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    fx_ping(f, PING_IDENT, 1, PING_DATA);
    assert_int_equal(fx_pending(f), 0); /* parked until the model answered on the loop */
    fx_settle(f);
    expect_echo_reply(f, PING_IDENT, 1, PING_DATA);
    assert_int_equal(fx_pending(f), 0);

    struct lines l;
    read_trace(f, &l);
    assert_int_equal(l.n, 1);
    check_shape(l.v[0], "icmp", "llm", fmt_name);
    assert_string_equal(str_of(l.v[0], "flow"), "icmp 192.0.2.1>192.0.2.2 id=48879");
    assert_string_equal(str_of(l.v[0], "verdict"), "valid");
    assert_string_equal(str_of(l.v[0], "action"), "llm");
    assert_int_equal((int)num_of(l.v[0], "frame"), 2); /* after the gratuitous ARP */
    assert_true(num_of(l.v[0], "tokens_in") > 0 && num_of(l.v[0], "tokens_out") > 0);
    assert_null(cJSON_GetObjectItemCaseSensitive(l.v[0], "shadow_match"));
    free_lines(&l);

    struct sp_llm_decider_counts c;
    sp_llm_decider_counts(f->dec, SP_DECISION_ICMP, &c);
    assert_int_equal(c.asked, 1);
    assert_int_equal(c.valid, 1);
    assert_int_equal(c.llm, 1);
    const struct sp_llm_decider_stats *st = sp_llm_decider_stats(f->dec, SP_DECISION_ICMP);
    assert_int_equal(st->latency_seen, 1);
    uint64_t in_buckets = 0; /* the histogram holds the one answer, and its time */
    for (int i = 0; i <= SP_LLM_LATENCY_BUCKETS; i++)
        in_buckets += st->latency_buckets[i];
    assert_int_equal(in_buckets, 1);
    assert_true(st->latency_sum_ms == st->latency_ms[0]);
    assert_true(sp_llm_decider_accuracy(f->dec, SP_DECISION_ICMP) == 1.0);
    assert_int_equal(sp_iface_decision_stats(f->iface, SP_DECISION_ICMP)->emitted_llm, 1);
    fx_close(f);
}

static void test_structured_ping_answered_by_model(void **state)
{
    (void)state;
    delegated_ping(SP_LLM_FMT_STRUCTURED, "structured");
}

static void test_raw_ping_answered_by_model(void **state)
{
    (void)state;
    delegated_ping(SP_LLM_FMT_RAW, "raw");
}

static void test_arp_answered_by_model(void **state)
{
    (void)state;
    struct fx_opts o = {.format = SP_LLM_FMT_RAW};
    struct fx *f = fx_open(&o);
    sp_llm_decider_install(f->dec, SP_DECISION_ARP, SP_DECIDE_DELEGATE);
    uint8_t fr[H_FRAME_CAP];
    size_t n = h_arp_request(fr, H_MAC_PEER, H_IP_PEER, H_IP_US);
    fx_rx(f, fr, n);
    assert_int_equal(fx_pending(f), 0);
    fx_settle(f);
    int len = sp_mem_take(f->mem, fr, sizeof fr);
    assert_true(len > 0);
    struct sp_eth_repr eth;
    struct sp_arp_repr arp;
    h_parse_arp(fr, (size_t)len, &eth, &arp);
    assert_int_equal(arp.op, SP_ARP_OP_REPLY);
    assert_true(sp_mac_eq(arp.sha, H_MAC_US));
    assert_int_equal(arp.spa, H_IP_US);
    assert_true(sp_mac_eq(arp.tha, H_MAC_PEER));
    assert_int_equal(arp.tpa, H_IP_PEER);
    struct lines l;
    read_trace(f, &l);
    assert_int_equal(l.n, 1);
    check_shape(l.v[0], "arp", "llm", "raw");
    assert_string_equal(str_of(l.v[0], "flow"), "arp 192.0.2.1>192.0.2.2");
    assert_string_equal(str_of(l.v[0], "verdict"), "valid");
    free_lines(&l);
    fx_close(f);
}

/* A model that is always wrong (every answer faulty) never reaches the wire: each ping still gets
 * the native reply through the fallback, and the trace says why each answer was refused. */
static void test_always_wrong_model_falls_back(void **state)
{
    (void)state;
    struct fx_opts o = {.format = SP_LLM_FMT_RAW, .error_rate = 1.0};
    struct fx *f = fx_open(&o);
    sp_llm_decider_install(f->dec, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    for (uint16_t seq = 1; seq <= 12; seq++) {
        fx_ping(f, PING_IDENT, seq, PING_DATA);
        fx_settle(f);
        expect_echo_reply(f, PING_IDENT, seq, PING_DATA);
    }
    struct lines l;
    read_trace(f, &l);
    assert_int_equal(l.n, 12);
    for (int i = 0; i < l.n; i++) {
        check_shape(l.v[i], "icmp", "llm", "raw");
        assert_true(strncmp(str_of(l.v[i], "verdict"), "invalid:", 8) == 0);
        assert_string_equal(str_of(l.v[i], "action"), "fallback");
        assert_int_equal((int)num_of(l.v[i], "frame"), 2 + i);
    }
    free_lines(&l);
    struct sp_llm_decider_counts c;
    sp_llm_decider_counts(f->dec, SP_DECISION_ICMP, &c);
    assert_int_equal(c.invalid, 12);
    assert_int_equal(c.fallback, 12);
    assert_int_equal(c.errors, 0);
    /* The stack saw the answers that were not valid answers as errors; the decider knows why. */
    const struct sp_decision_stats *ds = sp_iface_decision_stats(f->iface, SP_DECISION_ICMP);
    const struct sp_llm_decider_stats *s = sp_llm_decider_stats(f->dec, SP_DECISION_ICMP);
    uint64_t model = 0;
    for (int i = 0; i < SP_LLM_DECIDER_NERR; i++)
        model += s->invalid_model[i];
    assert_int_equal(ds->invalid + model, 12);
    assert_int_equal(ds->errors, model);
    assert_true(sp_llm_decider_accuracy(f->dec, SP_DECISION_ICMP) == 0.0);
    fx_close(f);
}

static void test_always_wrong_model_with_drop_policy_sends_nothing(void **state)
{
    (void)state;
    struct fx_opts o = {.format = SP_LLM_FMT_STRUCTURED, .error_rate = 1.0, .policy = SP_INVALID_DROP};
    struct fx *f = fx_open(&o);
    sp_llm_decider_install(f->dec, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    for (uint16_t seq = 1; seq <= 8; seq++) {
        fx_ping(f, PING_IDENT, seq, PING_DATA);
        fx_settle(f);
        assert_int_equal(fx_pending(f), 0);
    }
    struct lines l;
    read_trace(f, &l);
    assert_int_equal(l.n, 8);
    for (int i = 0; i < l.n; i++) {
        assert_true(strncmp(str_of(l.v[i], "verdict"), "invalid:", 8) == 0);
        assert_string_equal(str_of(l.v[i], "action"), "drop");
        assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(l.v[i], "frame")));
    }
    free_lines(&l);
    struct sp_llm_decider_counts c;
    sp_llm_decider_counts(f->dec, SP_DECISION_ICMP, &c);
    assert_int_equal(c.dropped, 8);
    assert_int_equal(c.invalid, 8);
    fx_close(f);
}

/* A second ask while the one allowed is in flight is refused at once: native answer, error verdict. */
static void test_busy_client_is_an_error_with_fallback(void **state)
{
    (void)state;
    struct fx_opts o = {.format = SP_LLM_FMT_STRUCTURED, .max_inflight = 1};
    struct fx *f = fx_open(&o);
    sp_llm_decider_install(f->dec, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    fx_ping(f, 1, 1, PING_DATA);
    fx_ping(f, 2, 1, PING_DATA);
    expect_echo_reply(f, 2, 1, PING_DATA); /* at once, natively */
    fx_settle(f);
    expect_echo_reply(f, 1, 1, PING_DATA);
    struct lines l;
    read_trace(f, &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(str_of(l.v[0], "verdict"), "error:busy");
    assert_string_equal(str_of(l.v[0], "action"), "fallback");
    assert_string_equal(str_of(l.v[0], "flow"), "icmp 192.0.2.1>192.0.2.2 id=2");
    assert_string_equal(str_of(l.v[1], "verdict"), "valid");
    free_lines(&l);
    struct sp_llm_decider_counts c;
    sp_llm_decider_counts(f->dec, SP_DECISION_ICMP, &c);
    assert_int_equal(c.errors, 1);
    assert_int_equal(c.valid, 1);
    assert_int_equal(c.fallback, 1);
    assert_int_equal(sp_llm_decider_stats(f->dec, SP_DECISION_ICMP)->errors_by[-SP_LLM_EBUSY - 200], 1);
    /* The refused request's prompt was never built; the client counted the refusal as an ask. */
    assert_int_equal(sp_llm_decider_stats(f->dec, SP_DECISION_ICMP)->prompts, 1);
    assert_int_equal(sp_llm_client_stats(&f->client)->asks, 2);
    assert_int_equal(sp_llm_client_stats(&f->client)->busy, 1);
    fx_close(f);
}

/* A stalled model and a flood of pings: only the asks the client takes have a prompt rendered;
 * every other is refused before rendering, and still reported (error:busy, the native answer). */
static void test_busy_client_renders_no_prompt(void **state)
{
    (void)state;
    struct fx_opts o = {.format = SP_LLM_FMT_RAW, .max_inflight = 2, .latency_ms = 60000,
                        .stack_timeout = 120000};
    struct fx *f = fx_open(&o);
    sp_llm_decider_install(f->dec, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    for (uint16_t seq = 1; seq <= 50; seq++) {
        fx_ping(f, (uint16_t)(100 + seq), seq, PING_DATA);
        if (seq > 2)
            expect_echo_reply(f, (uint16_t)(100 + seq), seq, PING_DATA); /* at once, natively */
    }
    const struct sp_llm_decider_stats *st = sp_llm_decider_stats(f->dec, SP_DECISION_ICMP);
    assert_int_equal(st->prompts, 2);
    assert_int_equal(st->errors_by[-SP_LLM_EBUSY - 200], 48);
    assert_int_equal(sp_llm_client_stats(&f->client)->busy, 48);
    assert_int_equal(sp_llm_client_inflight(&f->client), 2);
    struct sp_llm_decider_counts c;
    sp_llm_decider_counts(f->dec, SP_DECISION_ICMP, &c);
    assert_int_equal(c.errors, 48);
    assert_int_equal(c.fallback, 48);
    fx_close(f);
}

/* The stack's deadline passes before the model answers: timeout verdict, fallback, and the late
 * answer is ignored (no second line, counted as late). */
static void test_stack_timeout_before_answer(void **state)
{
    (void)state;
    struct fx_opts o = {.format = SP_LLM_FMT_STRUCTURED, .latency_ms = 30, .stack_timeout = 5};
    struct fx *f = fx_open(&o);
    sp_llm_decider_install(f->dec, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    fx_ping(f, PING_IDENT, 3, PING_DATA);
    sp_time_t now = fx_now(f);
    sp_iface_poll(f->iface, now + 6); /* the stack's clock, ahead of the model */
    expect_echo_reply(f, PING_IDENT, 3, PING_DATA);
    fx_settle(f);
    assert_int_equal(fx_pending(f), 0);
    struct lines l;
    read_trace(f, &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(str_of(l.v[0], "verdict"), "timeout");
    assert_string_equal(str_of(l.v[0], "action"), "fallback");
    free_lines(&l);
    struct sp_llm_decider_counts c;
    sp_llm_decider_counts(f->dec, SP_DECISION_ICMP, &c);
    assert_int_equal(c.timeouts, 1);
    assert_int_equal(c.errors, 0);
    assert_int_equal(sp_llm_decider_stats(f->dec, SP_DECISION_ICMP)->late, 1);
    fx_close(f);
}

static void test_shadow_grades_without_sending(void **state)
{
    (void)state;
    struct fx_opts o = {.format = SP_LLM_FMT_STRUCTURED};
    struct fx *f = fx_open(&o);
    sp_llm_decider_install(f->dec, SP_DECISION_ICMP, SP_DECIDE_SHADOW);
    fx_ping(f, PING_IDENT, 4, PING_DATA);
    expect_echo_reply(f, PING_IDENT, 4, PING_DATA); /* native, at once */
    fx_settle(f);
    assert_int_equal(fx_pending(f), 0);
    struct lines l;
    read_trace(f, &l);
    assert_int_equal(l.n, 1);
    check_shape(l.v[0], "icmp", "shadow", "structured");
    assert_string_equal(str_of(l.v[0], "verdict"), "valid");
    assert_string_equal(str_of(l.v[0], "action"), "shadow");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l.v[0], "shadow_match")));
    assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(l.v[0], "frame")));
    free_lines(&l);
    struct sp_llm_decider_counts c;
    sp_llm_decider_counts(f->dec, SP_DECISION_ICMP, &c);
    assert_int_equal(c.shadow, 1);
    assert_int_equal(c.shadow_match, 1);
    fx_close(f);
}

/* The printed statistics: the stack's counters as the decider reports them, the validator's and
 * the model's reasons, accuracy from the same counts. */
static void test_printed_stats(void **state)
{
    (void)state;
    struct fx_opts o = {.format = SP_LLM_FMT_RAW, .error_rate = 1.0};
    struct fx *f = fx_open(&o);
    sp_llm_decider_install(f->dec, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    for (uint16_t seq = 1; seq <= 12; seq++) {
        fx_ping(f, PING_IDENT, seq, PING_DATA);
        fx_settle(f);
        expect_echo_reply(f, PING_IDENT, seq, PING_DATA);
    }
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    assert_non_null(out);
    sp_llm_decider_print_stats(f->dec, out);
    fclose(out);
    static const char head[] = "slowpath decisions (sim, model sim, raw prompts):\n"
                               "  icmp asked 12, valid 0, invalid 12, timeouts 0, errors 0; llm 0, fallback 12, "
                               "dropped 0\n       accuracy 0.0% (0/12 answered), latency p50 ";
    assert_int_equal(strncmp(text, head, strlen(head)), 0);
    /* Each reason line counts what the trace says, and they add up to the invalid answers. */
    struct lines l;
    read_trace(f, &l);
    assert_int_equal(l.n, 12);
    int sum = 0;
    for (const char *line = strstr(text, "\n       invalid:"); line; line = strstr(line + 1, "\n       invalid:")) {
        char reason[40];
        int n = 0;
        assert_int_equal(sscanf(line + 8, "%39s %d", reason, &n), 2);
        int traced = 0;
        for (int i = 0; i < l.n; i++)
            traced += strcmp(str_of(l.v[i], "verdict"), reason) == 0;
        assert_int_equal(n, traced);
        sum += n;
    }
    assert_int_equal(sum, 12);
    free_lines(&l);
    free(text);
    fx_close(f);
}

/* The trace's frame is the reply's number in the capture, whichever way the capture numbers its
 * frames: received and sent (a TAP), sent only (a replay), or no capture at all. */
static void test_frame_numbers_follow_the_capture(void **state)
{
    (void)state;
    static const struct {
        int dirs;
        bool unnumbered;
        int want; /* -1: null */
    } cases[] = {
        {SP_PCAP_RX | SP_PCAP_TX, false, 3}, /* gratuitous ARP, the ping, the reply */
        {SP_PCAP_TX, false, 2},
        {SP_PCAP_TX, true, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fx_opts o = {.format = SP_LLM_FMT_STRUCTURED, .pcap_dirs = cases[i].dirs,
                            .unnumbered = cases[i].unnumbered};
        struct fx *f = fx_open(&o);
        sp_llm_decider_install(f->dec, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
        fx_ping(f, PING_IDENT, 1, PING_DATA);
        fx_settle(f);
        expect_echo_reply(f, PING_IDENT, 1, PING_DATA);
        struct lines l;
        read_trace(f, &l);
        assert_int_equal(l.n, 1);
        const cJSON *fr = cJSON_GetObjectItemCaseSensitive(l.v[0], "frame");
        if (cases[i].want < 0) {
            assert_true(cJSON_IsNull(fr));
        } else {
            assert_int_equal((int)num_of(l.v[0], "frame"), cases[i].want);
            assert_int_equal(sp_pcap_writer_count(f->dev), cases[i].want); /* the reply was the last */
        }
        free_lines(&l);
        struct sp_frame_count n = sp_iface_frame_count(f->iface);
        assert_int_equal(n.received, 1);
        assert_int_equal(n.sent, 2);
        fx_close(f);
    }
}

/* The second request of a flow carries the first exchange (question and how its answer fared). */
static void test_flow_state_carried_to_next_prompt(void **state)
{
    (void)state;
    struct fx_opts o = {.format = SP_LLM_FMT_STRUCTURED};
    struct fx *f = fx_open(&o);
    sp_llm_decider_install(f->dec, SP_DECISION_ICMP, SP_DECIDE_DELEGATE);
    fx_ping(f, PING_IDENT, 1, PING_DATA);
    fx_settle(f);
    expect_echo_reply(f, PING_IDENT, 1, PING_DATA);

    uint8_t remote[4] = {192, 0, 2, 1}, local[4] = {192, 0, 2, 2};
    struct sp_llm_flow_key key = sp_llm_flow_key_icmp(remote, local, PING_IDENT);
    const struct sp_llm_flow *flow = sp_llm_cache_get(sp_llm_decider_cache(f->dec), &key, fx_now(f));
    assert_non_null(flow);
    assert_string_equal(sp_llm_flow_summary(flow), "last_seq=1");
    assert_int_equal(sp_llm_flow_exchanges(flow), 1);
    const char *q, *a;
    assert_int_equal(sp_llm_flow_exchange(flow, 0, &q, &a), 0);
    assert_string_equal(q, "echo id=48879 seq=1 len=18");
    assert_string_equal(a, "reply dst=192.0.2.1 ident=48879 seq=1 ttl=64 (valid)");

    /* What the next request of this flow is told. */
    struct sp_decision_request req;
    memset(&req, 0, sizeof req);
    req.kind = SP_DECISION_ICMP;
    req.flow = (struct sp_flow){.protocol = SP_IP_PROTO_ICMP, .local_ip = H_IP_US, .remote_ip = H_IP_PEER,
                                .remote_port = PING_IDENT};
    char st[SP_LLM_PROMPT_MAX];
    assert_true(sp_llm_prompt_state(&req, flow, st, sizeof st) > 0);
    assert_string_equal(st, "{\"summary\":\"last_seq=1\",\"recent\":[{\"q\":\"echo id=48879 seq=1 len=18\","
                            "\"a\":\"reply dst=192.0.2.1 ident=48879 seq=1 ttl=64 (valid)\"}]}");
    /* and the decider really uses it: a second ping of the flow is answered and recorded */
    fx_ping(f, PING_IDENT, 2, PING_DATA);
    fx_settle(f);
    expect_echo_reply(f, PING_IDENT, 2, PING_DATA);
    flow = sp_llm_cache_get(sp_llm_decider_cache(f->dec), &key, fx_now(f));
    assert_int_equal(sp_llm_flow_exchanges(flow), 2);
    assert_string_equal(sp_llm_flow_summary(flow), "last_seq=2");
    fx_close(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_structured_ping_answered_by_model),
        cmocka_unit_test(test_raw_ping_answered_by_model),
        cmocka_unit_test(test_arp_answered_by_model),
        cmocka_unit_test(test_always_wrong_model_falls_back),
        cmocka_unit_test(test_always_wrong_model_with_drop_policy_sends_nothing),
        cmocka_unit_test(test_busy_client_is_an_error_with_fallback),
        cmocka_unit_test(test_busy_client_renders_no_prompt),
        cmocka_unit_test(test_stack_timeout_before_answer),
        cmocka_unit_test(test_shadow_grades_without_sending),
        cmocka_unit_test(test_flow_state_carried_to_next_prompt),
        cmocka_unit_test(test_printed_stats),
        cmocka_unit_test(test_frame_numbers_follow_the_capture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
