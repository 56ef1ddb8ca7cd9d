/* The client against llm-sim over real HTTP on loopback: every fault leads to its documented
 * behaviour (retry, give up, breaker), usage/cache fields arrive intact, and the loop keeps
 * turning while requests stall. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "slowpath/llm/client.h"
#include "slowpath/llm/decision.h"
#include "slowpath/llm/error.h"
#include "slowpath/llm/http.h"
#include "slowpath/llm/opts.h"
#include "slowpath/llm/simproc.h"

static const char user_icmp[] =
    "{\"kind\":\"icmp\",\"format\":\"structured\",\"host\":{\"mac\":\"02:00:00:00:00:01\","
    "\"ip\":\"192.0.2.1\",\"ttl\":64},\"state\":{},\"packet\":{\"src\":\"192.0.2.2\",\"dst\":"
    "\"192.0.2.1\",\"ttl\":64,\"type\":8,\"code\":0,\"ident\":77,\"seq\":3,\"payload_hex\":\"6869\"}}";

struct outcome {
    int done, err;
    unsigned attempts;
    long status;
    double latency_ms;
    struct sp_llm_usage usage;
    struct sp_llm_timings timings;
    char text[1024], msg[256];
};

struct env {
    uv_loop_t loop;
    struct sp_llm_simproc sim;
    sp_llm_client client;
    int closed;
    int log_lines;
    char last_log[1300];
};

static void on_log(void *d, const char *line)
{
    struct env *e = d;
    e->log_lines++;
    snprintf(e->last_log, sizeof e->last_log, "%s", line);
}

/* Starts llm-sim with args and a client of provider kind pointed at it. */
static void env_up(struct env *e, enum sp_llm_provider_kind kind, const char *const *sim_args,
                   void (*tweak)(struct sp_llm_config *))
{
    char path[4096], err[256];
    struct sp_llm_config cfg;
    memset(e, 0, sizeof *e);
    sp_llm_simproc_path(path, sizeof path);
    assert_int_equal(sp_llm_simproc_start(&e->sim, path, sim_args), 0);
    uv_loop_init(&e->loop);
    sp_llm_config_init(&cfg);
    cfg.provider = kind;
    snprintf(cfg.url, sizeof cfg.url, "%s%s", e->sim.url, kind == SP_LLM_PROVIDER_OPENAI ? "/v1" : "");
    setenv("ANTHROPIC_API_KEY", "sk-ant-test-secret-key-0123456789", 1);
    setenv("OPENAI_API_KEY", "sk-test-secret-key-0123456789", 1);
    assert_int_equal(sp_llm_config_finish(&cfg, err, sizeof err), 0);
    cfg.timeout_ms = 5000;
    cfg.backoff_base_ms = 5;
    cfg.backoff_max_ms = 20;
    if (tweak) tweak(&cfg);
    assert_int_equal(sp_llm_client_init(&e->loop, &e->client, &cfg), 0);
    sp_llm_client_set_log(&e->client, on_log, e);
}

static void on_closed(sp_llm_client *c)
{
    struct env *e = c->data;
    e->closed = 1;
}

static void env_down(struct env *e)
{
    e->client.data = e;
    sp_llm_client_close(&e->client, on_closed);
    while (!e->closed) uv_run(&e->loop, UV_RUN_ONCE);
    uv_run(&e->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&e->loop), 0);
    sp_llm_simproc_stop(&e->sim);
}

static void on_done(sp_llm_client *c, const struct sp_llm_result *r, void *data)
{
    struct outcome *o = data;
    (void)c;
    o->done = 1;
    o->err = r->err;
    o->attempts = r->attempts;
    o->status = r->http_status;
    o->latency_ms = r->latency_ms;
    o->usage = r->usage;
    o->timings = r->timings;
    snprintf(o->text, sizeof o->text, "%s", r->text ? r->text : "");
    snprintf(o->msg, sizeof o->msg, "%s", r->message ? r->message : "");
}

static struct outcome ask(struct env *e)
{
    struct sp_llm_prompt p;
    struct outcome o;
    memset(&o, 0, sizeof o);
    sp_llm_prompt_for(&p, SP_DECISION_ICMP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT, user_icmp);
    assert_int_equal(sp_llm_ask(&e->client, &p, on_done, &o), 0);
    while (!o.done) uv_run(&e->loop, UV_RUN_ONCE);
    return o;
}

static void expect(const struct outcome *o, int err)
{
    if (o->err != err)
        fail_msg("got %s (%s), want %s", sp_llm_errname(o->err), o->msg, sp_llm_errname(err));
}

static const char expected_icmp[] =
    "{\"action\":\"reply\",\"dst\":\"192.0.2.2\",\"ident\":77,\"seq\":3,\"ttl\":64,\"ip_ident\":null,\"df\":null}";

static void test_anthropic_ok_and_cache_usage(void **state)
{
    struct env e;
    struct outcome a, b;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_ANTHROPIC, NULL, NULL);
    a = ask(&e);
    b = ask(&e);
    expect(&a, 0);
    expect(&b, 0);
    assert_string_equal(a.text, expected_icmp); /* the tool_use input, re-serialised */
    assert_int_equal(a.status, 200);
    assert_int_equal(a.attempts, 1);
    assert_true(a.usage.cache_write_tokens > 0); /* first call writes the system prefix */
    assert_int_equal(a.usage.cache_read_tokens, 0);
    assert_int_equal(b.usage.cache_read_tokens, a.usage.cache_write_tokens); /* then reads it */
    assert_int_equal(b.usage.cache_write_tokens, 0);
    assert_true(b.usage.input_tokens > b.usage.cache_read_tokens);
    assert_true(a.usage.output_tokens > 0);
    env_down(&e);
}

static void test_openai_ok_cached_tokens_and_timings(void **state)
{
    struct env e;
    struct outcome a, b;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_OPENAI, NULL, NULL);
    a = ask(&e);
    b = ask(&e);
    expect(&a, 0);
    expect(&b, 0);
    assert_string_equal(a.text, expected_icmp);
    assert_int_equal(a.usage.cache_read_tokens, 0);
    assert_true(b.usage.cache_read_tokens > 0);
    assert_true(a.timings.present); /* cache_prompt was sent to a non-OpenAI server */
    assert_int_equal(b.timings.cache_n, b.usage.cache_read_tokens);
    env_down(&e);
}

static void streaming(struct sp_llm_config *c)
{
    c->stream = 1;
}

static void test_streaming_both_providers(void **state)
{
    static const char *const trunc[] = {"--error", "truncated:1", NULL};
    struct env e;
    struct outcome a, b;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_ANTHROPIC, NULL, streaming);
    a = ask(&e);
    b = ask(&e);
    expect(&a, 0);
    expect(&b, 0);
    assert_string_equal(a.text, expected_icmp); /* rebuilt from input_json_delta pieces */
    assert_true(a.usage.cache_write_tokens > 0);
    assert_int_equal(b.usage.cache_read_tokens, a.usage.cache_write_tokens);
    assert_true(a.usage.output_tokens > 0);
    env_down(&e);
    env_up(&e, SP_LLM_PROVIDER_OPENAI, NULL, streaming);
    a = ask(&e);
    b = ask(&e);
    expect(&a, 0);
    assert_string_equal(a.text, expected_icmp);
    assert_true(b.usage.cache_read_tokens > 0);
    assert_true(b.timings.present);
    env_down(&e);
    env_up(&e, SP_LLM_PROVIDER_OPENAI, trunc, streaming);
    a = ask(&e);
    expect(&a, SP_LLM_ETRUNCATED);
    assert_true(strlen(a.text) > 0);
    env_down(&e);
}

/* --error-rate 1: every answer is faulty in one of the sim's ways, and each arrives intact
 * through either wire format as something the strict parser or a field check rejects. */
static void test_error_rate_travels_over_http(void **state)
{
    static const char *const args[] = {"--error-rate", "1", "--seed", "5", NULL};
    enum sp_llm_provider_kind kinds[2] = {SP_LLM_PROVIDER_ANTHROPIC, SP_LLM_PROVIDER_OPENAI};
    (void)state;
    for (int k = 0; k < 2; k++) {
        struct env e;
        int bad = 0;
        env_up(&e, kinds[k], args, NULL);
        for (int i = 0; i < 20; i++) {
            struct outcome o = ask(&e);
            struct sp_llm_decision p;
            if (o.err == SP_LLM_ETRUNCATED) {
                bad++;
                continue;
            }
            expect(&o, 0);
            if (sp_llm_proposal_parse(SP_DECISION_ICMP, SP_LLM_FMT_STRUCTURED, o.text, strlen(o.text), &p) < 0 ||
                p.proposal.icmp_ident != 77)
                bad++;
        }
        assert_int_equal(bad, 20);
        env_down(&e);
    }
}

static void test_429_retries_then_gives_up_honouring_retry_after(void **state)
{
    static const char *const args[] = {"--fault", "429:1", "--retry-after-ms", "60", NULL};
    struct env e;
    struct outcome o;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_ANTHROPIC, args, NULL);
    o = ask(&e);
    expect(&o, SP_LLM_ERATELIMIT);
    assert_int_equal(o.attempts, 1 + SP_LLM_DEFAULT_MAX_RETRIES);
    assert_int_equal(o.status, 429);
    /* three waits of retry-after, 60..66 ms each (backoff alone would be <= 20 ms each); a
     * lower bound well between the two, as a timer may fire a millisecond or two early */
    assert_true(o.latency_ms >= 3 * 50);
    assert_false(sp_llm_client_breaker_open(&e.client));
    env_down(&e);
}

static void test_429_sometimes_recovers(void **state)
{
    static const char *const args[] = {"--fault", "429:0.5", "--retry-after-ms", "5", "--seed", "7", NULL};
    struct env e;
    int ok = 0;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_OPENAI, args, NULL);
    for (int i = 0; i < 10; i++) ok += ask(&e).err == 0;
    assert_true(ok >= 8); /* 0.5^4 per ask to fail all four attempts */
    assert_true(sp_llm_client_stats(&e.client)->retries > 0);
    env_down(&e);
}

static void test_500_and_529_retried(void **state)
{
    static const char *const a500[] = {"--fault", "500:1", NULL};
    static const char *const a529[] = {"--fault", "529:1", NULL};
    struct env e;
    struct outcome o;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_ANTHROPIC, a500, NULL);
    o = ask(&e);
    expect(&o, SP_LLM_ESERVER);
    assert_int_equal(o.attempts, 4);
    env_down(&e);
    env_up(&e, SP_LLM_PROVIDER_ANTHROPIC, a529, NULL);
    o = ask(&e);
    expect(&o, SP_LLM_EOVERLOADED);
    assert_int_equal(o.status, 529);
    assert_int_equal(o.attempts, 4);
    env_down(&e);
    env_up(&e, SP_LLM_PROVIDER_OPENAI, a529, NULL); /* OpenAI's overload is a 503 */
    o = ask(&e);
    expect(&o, SP_LLM_EOVERLOADED);
    assert_int_equal(o.status, 503);
    env_down(&e);
}

static void no_retries(struct sp_llm_config *c)
{
    c->max_retries = 0;
}

static void test_reset_is_typed_and_retried(void **state)
{
    static const char *const args[] = {"--fault", "reset:1", NULL};
    struct env e;
    struct outcome o;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_OPENAI, args, NULL);
    o = ask(&e);
    expect(&o, SP_LLM_ERESET);
    assert_int_equal(o.attempts, 4);
    env_down(&e);
}

static void test_oversize_and_content_type_not_retried(void **state)
{
    static const char *const big[] = {"--fault", "oversize:1", NULL};
    static const char *const html[] = {"--fault", "content-type:1", NULL};
    struct env e;
    struct outcome o;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_ANTHROPIC, big, NULL);
    o = ask(&e);
    expect(&o, SP_LLM_ETOOBIG);
    assert_int_equal(o.attempts, 1);
    env_down(&e);
    env_up(&e, SP_LLM_PROVIDER_OPENAI, html, NULL);
    o = ask(&e);
    expect(&o, SP_LLM_ECONTENT_TYPE);
    assert_int_equal(o.attempts, 1);
    env_down(&e);
}

static void unknown_model(struct sp_llm_config *c)
{
    snprintf(c->model, sizeof c->model, "no-such-model");
}

static void test_4xx_not_retried_no_breaker(void **state)
{
    struct env e;
    struct outcome o;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_OPENAI, NULL, unknown_model);
    o = ask(&e);
    expect(&o, SP_LLM_EREJECTED);
    assert_int_equal(o.status, 404);
    assert_int_equal(o.attempts, 1);
    assert_false(sp_llm_client_breaker_open(&e.client));
    env_down(&e);
    env_up(&e, SP_LLM_PROVIDER_ANTHROPIC, NULL, unknown_model);
    o = ask(&e);
    expect(&o, SP_LLM_EREJECTED);
    assert_int_equal(o.attempts, 1);
    assert_non_null(strstr(o.msg, "not_found_error"));
    env_down(&e);
}

struct ticker {
    uv_timer_t t;
    unsigned ticks;
};

static void on_tick(uv_timer_t *t)
{
    ((struct ticker *)t)->ticks++;
}

static void short_deadline(struct sp_llm_config *c)
{
    c->timeout_ms = 1000;
}

static void test_stall_times_out_without_blocking_loop(void **state)
{
    static const char *const args[] = {"--fault", "stall:1", NULL};
    struct env e;
    struct outcome o[8];
    struct ticker tk;
    struct sp_llm_prompt p;
    int done;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_ANTHROPIC, args, short_deadline);
    memset(o, 0, sizeof o);
    memset(&tk, 0, sizeof tk);
    uv_timer_init(&e.loop, &tk.t);
    uv_timer_start(&tk.t, on_tick, 10, 10);
    sp_llm_prompt_for(&p, SP_DECISION_ICMP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT, user_icmp);
    for (int i = 0; i < 8; i++) assert_int_equal(sp_llm_ask(&e.client, &p, on_done, &o[i]), 0);
    do {
        uv_run(&e.loop, UV_RUN_ONCE);
        done = 0;
        for (int i = 0; i < 8; i++) done += o[i].done;
    } while (done < 8);
    for (int i = 0; i < 8; i++) {
        expect(&o[i], SP_LLM_ETIMEOUT);
        /* the deadline ended them (the stall never does); the upper bound only guards a hang */
        assert_true(o[i].latency_ms >= 900 && o[i].latency_ms < 30000);
    }
    /* ~100 expected in 1 s of stall; a loop blocked by each stalled request in turn would tick
     * about once per request (8), and a busy machine slows the ticks far less than that */
    assert_true(tk.ticks >= 10);
    uv_close((uv_handle_t *)&tk.t, NULL);
    env_down(&e);
}

static void test_slow_within_and_beyond_deadline(void **state)
{
    static const char *const args[] = {"--fault", "slow:1", "--slow-ms", "300", NULL};
    struct env e;
    struct outcome o;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_OPENAI, args, NULL); /* 5 s deadline */
    o = ask(&e);
    expect(&o, 0);
    assert_true(o.latency_ms >= 290);
    env_down(&e);
    env_up(&e, SP_LLM_PROVIDER_OPENAI, args, short_deadline);
    e.client.cfg_.timeout_ms = 100;
    o = ask(&e);
    expect(&o, SP_LLM_ETIMEOUT);
    env_down(&e);
}

static void test_auth_opens_breaker_once(void **state)
{
    static const char *const args[] = {"--require-key", "the-right-key", NULL};
    struct env e;
    struct outcome o;
    struct sp_llm_prompt p;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_ANTHROPIC, args, NULL);
    o = ask(&e);
    expect(&o, SP_LLM_EAUTH);
    assert_int_equal(o.attempts, 1);
    assert_int_equal(o.status, 401);
    assert_true(sp_llm_client_breaker_open(&e.client));
    assert_int_equal(e.log_lines, 1);
    assert_non_null(strstr(e.last_log, "circuit breaker OPEN"));
    assert_null(strstr(e.last_log, "sk-ant-test-secret")); /* never log the key */
    sp_llm_prompt_for(&p, SP_DECISION_ICMP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT, user_icmp);
    assert_int_equal(sp_llm_ask(&e.client, &p, on_done, &o), SP_LLM_EBREAKER);
    assert_int_equal(e.log_lines, 1);
    sp_llm_client_breaker_reset(&e.client);
    o = ask(&e);
    expect(&o, SP_LLM_EAUTH);
    env_down(&e);
}

static void test_quota_opens_breaker_both_providers(void **state)
{
    static const char *const args[] = {"--fault", "quota:1", NULL};
    struct env e;
    struct outcome o;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_ANTHROPIC, args, NULL); /* 400 "credit balance is too low" */
    o = ask(&e);
    expect(&o, SP_LLM_EQUOTA);
    assert_int_equal(o.status, 400);
    assert_true(sp_llm_client_breaker_open(&e.client));
    env_down(&e);
    env_up(&e, SP_LLM_PROVIDER_OPENAI, args, NULL); /* 429 insufficient_quota: not retried */
    o = ask(&e);
    expect(&o, SP_LLM_EQUOTA);
    assert_int_equal(o.status, 429);
    assert_int_equal(o.attempts, 1);
    assert_true(sp_llm_client_breaker_open(&e.client));
    assert_int_equal(e.log_lines, 1);
    env_down(&e);
}

static void two_inflight(struct sp_llm_config *c)
{
    c->max_inflight = 2;
}

static void test_inflight_bound_and_close_cancels(void **state)
{
    static const char *const args[] = {"--latency-ms", "2000", NULL};
    struct env e;
    struct outcome o[3];
    struct sp_llm_prompt p;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_OPENAI, args, two_inflight);
    memset(o, 0, sizeof o);
    sp_llm_prompt_for(&p, SP_DECISION_ICMP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT, user_icmp);
    assert_int_equal(sp_llm_ask(&e.client, &p, on_done, &o[0]), 0);
    assert_int_equal(sp_llm_ask(&e.client, &p, on_done, &o[1]), 0);
    assert_int_equal(sp_llm_ask(&e.client, &p, on_done, &o[2]), SP_LLM_EBUSY);
    assert_int_equal(sp_llm_client_inflight(&e.client), 2);
    uv_run(&e.loop, UV_RUN_NOWAIT);
    env_down(&e); /* closes with both in flight */
    assert_true(o[0].done && o[1].done);
    expect(&o[0], SP_LLM_ECANCELED);
    expect(&o[1], SP_LLM_ECANCELED);
    assert_false(o[2].done);
}

static void test_connect_refused(void **state)
{
    struct env e;
    struct outcome o;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_OPENAI, NULL, no_retries);
    sp_llm_simproc_stop(&e.sim); /* nobody listens there any more */
    o = ask(&e);
    expect(&o, SP_LLM_ECONNECT);
    env_down(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anthropic_ok_and_cache_usage),
        cmocka_unit_test(test_openai_ok_cached_tokens_and_timings),
        cmocka_unit_test(test_streaming_both_providers),
        cmocka_unit_test(test_error_rate_travels_over_http),
        cmocka_unit_test(test_429_retries_then_gives_up_honouring_retry_after),
        cmocka_unit_test(test_429_sometimes_recovers),
        cmocka_unit_test(test_500_and_529_retried),
        cmocka_unit_test(test_reset_is_typed_and_retried),
        cmocka_unit_test(test_oversize_and_content_type_not_retried),
        cmocka_unit_test(test_4xx_not_retried_no_breaker),
        cmocka_unit_test(test_stall_times_out_without_blocking_loop),
        cmocka_unit_test(test_slow_within_and_beyond_deadline),
        cmocka_unit_test(test_auth_opens_breaker_once),
        cmocka_unit_test(test_quota_opens_breaker_both_providers),
        cmocka_unit_test(test_inflight_bound_and_close_cancels),
        cmocka_unit_test(test_connect_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
