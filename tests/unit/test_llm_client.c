/* The client with the in-process sim (async through a uv timer, deadline, in-flight bound,
 * close) and the configuration flags shared with the daemon. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <uv.h>

#include "slowpath/llm/client.h"
#include "slowpath/llm/config.h"
#include "slowpath/llm/error.h"

static const char user_arp[] =
    "{\"kind\":\"arp\",\"format\":\"structured\",\"host\":{\"mac\":\"02:00:00:00:00:01\",\"ip\":"
    "\"192.0.2.1\"},\"state\":{},\"packet\":{\"op\":1,\"sender_mac\":\"02:00:00:00:00:02\","
    "\"sender_ip\":\"192.0.2.2\",\"target_mac\":\"00:00:00:00:00:00\",\"target_ip\":\"192.0.2.1\"}}";

struct out {
    int done, err;
    double latency_ms;
    char text[512];
    struct sp_llm_usage usage;
};

static void on_done(sp_llm_client *c, const struct sp_llm_result *r, void *data)
{
    struct out *o = data;
    (void)c;
    o->done = 1;
    o->err = r->err;
    o->latency_ms = r->latency_ms;
    o->usage = r->usage;
    snprintf(o->text, sizeof o->text, "%s", r->text ? r->text : "");
}

static int closed;
static void on_closed(sp_llm_client *c)
{
    (void)c;
    closed = 1;
}

static void run_until(uv_loop_t *loop, const int *flag)
{
    while (!*flag) uv_run(loop, UV_RUN_ONCE);
}

static void shut(uv_loop_t *loop, sp_llm_client *c)
{
    closed = 0;
    sp_llm_client_close(c, on_closed);
    run_until(loop, &closed);
    uv_run(loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(loop), 0);
}

/* Lets real time pass without the loop noticing: its cached clock (uv_now) is then that much
 * behind, as it is after a long loop iteration on a busy machine. */
static void age_loop_clock(unsigned ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

static void test_sim_async_and_correct(void **state)
{
    uv_loop_t loop;
    sp_llm_client c;
    struct sp_llm_config cfg;
    struct sp_llm_prompt p;
    struct out o[2];
    (void)state;
    memset(o, 0, sizeof o);
    uv_loop_init(&loop);
    sp_llm_config_init(&cfg);
    cfg.sim.latency_ms = 30;
    assert_int_equal(sp_llm_config_finish(&cfg, NULL, 0), 0);
    assert_int_equal(sp_llm_client_init(&loop, &c, &cfg), 0);
    sp_llm_prompt_for(&p, SP_DECISION_ARP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT, user_arp);
    /* The sim's 30 ms count from the ask, however stale the loop's clock is by then. */
    uv_update_time(&loop);
    age_loop_clock(40);
    assert_int_equal(sp_llm_ask(&c, &p, on_done, &o[0]), 0);
    assert_int_equal(sp_llm_ask(&c, &p, on_done, &o[1]), 0);
    assert_false(o[0].done); /* never synchronous */
    run_until(&loop, &o[1].done);
    assert_true(o[0].done);
    assert_int_equal(o[0].err, 0);
    /* the loop's clock counts whole milliseconds of a possibly coarse clock: a timer may fire a
     * millisecond or two before 30 ms of uv_hrtime have passed, never 40 ms early */
    assert_true(o[0].latency_ms >= 25);
    assert_true(o[1].latency_ms >= 25);
    assert_string_equal(o[0].text, "{\"action\":\"reply\",\"sender_mac\":\"02:00:00:00:00:01\",\"sender_ip\":"
                                   "\"192.0.2.1\",\"target_mac\":\"02:00:00:00:00:02\",\"target_ip\":\"192.0.2.2\"}");
    assert_true(o[0].usage.cache_write_tokens > 0);
    assert_int_equal(o[1].usage.cache_read_tokens, o[0].usage.cache_write_tokens);
    assert_int_equal(sp_llm_client_stats(&c)->ok, 2);
    shut(&loop, &c);
}

static void test_sim_deadline_busy_close(void **state)
{
    uv_loop_t loop;
    sp_llm_client c;
    struct sp_llm_config cfg;
    struct sp_llm_prompt p;
    struct out o[3];
    (void)state;
    memset(o, 0, sizeof o);
    uv_loop_init(&loop);
    sp_llm_config_init(&cfg);
    cfg.sim.latency_ms = 60000; /* far beyond the deadline: a loaded machine cannot blur the two */
    cfg.timeout_ms = 50;
    cfg.max_inflight = 2;
    assert_int_equal(sp_llm_client_init(&loop, &c, &cfg), 0);
    sp_llm_prompt_for(&p, SP_DECISION_ARP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT, user_arp);
    assert_int_equal(sp_llm_client_admit(&c), 0);
    assert_int_equal(sp_llm_client_stats(&c)->asks, 0); /* an admission is counted by the ask */
    assert_int_equal(sp_llm_ask(&c, &p, on_done, &o[0]), 0);
    assert_int_equal(sp_llm_ask(&c, &p, on_done, &o[1]), 0);
    assert_int_equal(sp_llm_ask(&c, &p, on_done, &o[2]), SP_LLM_EBUSY);
    /* asked before any prompt is built, the refusal is the same and counted the same */
    assert_int_equal(sp_llm_client_admit(&c), SP_LLM_EBUSY);
    assert_int_equal(sp_llm_client_stats(&c)->busy, 2);
    assert_int_equal(sp_llm_client_stats(&c)->asks, 4);
    run_until(&loop, &o[1].done);
    assert_int_equal(o[0].err, SP_LLM_ETIMEOUT);
    assert_true(o[0].latency_ms >= 45 && o[0].latency_ms < 30000); /* the deadline's, not the model's */
    assert_int_equal(sp_llm_client_stats(&c)->busy, 2);
    assert_int_equal(sp_llm_client_admit(&c), 0);
    /* room again; then close cancels what is in flight */
    assert_int_equal(sp_llm_ask(&c, &p, on_done, &o[2]), 0);
    shut(&loop, &c);
    assert_int_equal(o[2].err, SP_LLM_ECANCELED);
    /* bad arguments */
    assert_int_equal(sp_llm_client_init(NULL, &c, &cfg), SP_LLM_EINVAL);
}

static void test_sim_truncated_is_typed(void **state)
{
    uv_loop_t loop;
    sp_llm_client c;
    struct sp_llm_config cfg;
    struct sp_llm_prompt p;
    struct out o;
    (void)state;
    memset(&o, 0, sizeof o);
    uv_loop_init(&loop);
    sp_llm_config_init(&cfg);
    cfg.sim.p[SP_LLM_SIM_TRUNCATED] = 1.0;
    assert_int_equal(sp_llm_client_init(&loop, &c, &cfg), 0);
    sp_llm_prompt_for(&p, SP_DECISION_ARP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT, user_arp);
    assert_int_equal(sp_llm_ask(&c, &p, on_done, &o), 0);
    run_until(&loop, &o.done);
    assert_int_equal(o.err, SP_LLM_ETRUNCATED);
    assert_true(strlen(o.text) > 0);
    shut(&loop, &c);
}

static void test_config_flags(void **state)
{
    struct sp_llm_config cfg;
    char err[256];
    (void)state;
    sp_llm_config_init(&cfg);
    assert_int_equal(cfg.provider, SP_LLM_PROVIDER_SIM);
    assert_true(sp_llm_config_is_flag("--llm"));
    assert_true(sp_llm_config_is_flag("model"));
    assert_false(sp_llm_config_is_flag("--iface"));
    assert_int_equal(sp_llm_config_set(&cfg, "--llm", "openai", err, sizeof err), 0);
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-timeout", "2500", err, sizeof err), 0);
    assert_int_equal(cfg.timeout_ms, 2500);
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-max-inflight", "8", err, sizeof err), 0);
    assert_int_equal(cfg.max_inflight, 8);
    assert_int_equal(sp_llm_config_set(&cfg, "--model", "qwen2.5-7b", err, sizeof err), 0);
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-error-rate", "0.25", err, sizeof err), 0);
    /* the sim's legal choices: native by default, rates low by default */
    assert_int_equal(cfg.sim.choices, SP_LLM_SIM_CHOOSE_NATIVE);
    assert_true(cfg.sim.refuse_rate > 0 && cfg.sim.refuse_rate <= 0.05);
    assert_true(cfg.sim.ignore_rate > 0 && cfg.sim.ignore_rate <= 0.05);
    assert_true(sp_llm_config_is_flag("--llm-sim-choices"));
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-sim-choices", "random", err, sizeof err), 0);
    assert_int_equal(cfg.sim.choices, SP_LLM_SIM_CHOOSE_RANDOM);
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-sim-refuse-rate", "0", err, sizeof err), 0);
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-sim-ignore-rate", "0.5", err, sizeof err), 0);
    assert_true(cfg.sim.refuse_rate == 0 && cfg.sim.ignore_rate == 0.5 && cfg.sim.error_rate == 0.25);
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-sim-choices", "legal", err, sizeof err), SP_LLM_ECONFIG);
    assert_non_null(strstr(err, "bad --llm-sim-choices 'legal'"));
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-sim-ignore-rate", "-0.1", err, sizeof err), SP_LLM_ECONFIG);
    assert_non_null(strstr(err, "bad --llm-sim-ignore-rate '-0.1'"));
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-stream", "1", err, sizeof err), 0);
    assert_true(cfg.stream);
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-stream", "yes", err, sizeof err), SP_LLM_ECONFIG);
    assert_int_equal(sp_llm_config_set(&cfg, "--llm", "gemini", err, sizeof err), SP_LLM_ECONFIG);
    assert_non_null(strstr(err, "unknown --llm provider 'gemini'"));
    assert_null(strchr(err, '\n'));
    static const char *const bad_urls[] = {"ftp://x", "http://", "http:///x", "http://h:0", "http://h:70000",
                                           "http://h x", "http://h/?q=1", "localhost:8080", "http://h:80a"};
    for (size_t i = 0; i < sizeof bad_urls / sizeof bad_urls[0]; i++) {
        assert_int_equal(sp_llm_config_set(&cfg, "--llm-url", bad_urls[i], err, sizeof err), SP_LLM_ECONFIG);
        assert_non_null(strstr(err, "bad --llm-url"));
    }
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-url", "http://127.0.0.1:11434/v1", err, sizeof err), 0);
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-url", "https://[::1]:8443/", err, sizeof err), 0);
    static const char *const bad_num[][2] = {{"--llm-timeout", "0"}, {"--llm-timeout", "-5"},
                                             {"--llm-timeout", "10ms"}, {"--llm-timeout", ""},
                                             {"--llm-max-inflight", "99999999999999999999"},
                                             {"--llm-error-rate", "1.5"}, {"--llm-error-rate", "nan"},
                                             {"--model", ""}, {"--model", "a b"}};
    for (size_t i = 0; i < sizeof bad_num / sizeof bad_num[0]; i++)
        assert_int_equal(sp_llm_config_set(&cfg, bad_num[i][0], bad_num[i][1], err, sizeof err), SP_LLM_ECONFIG);
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-timeout", NULL, err, sizeof err), SP_LLM_ECONFIG);
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-bogus", "1", err, sizeof err), SP_LLM_ECONFIG);
    assert_non_null(sp_llm_config_usage);
}

static void test_config_finish_env(void **state)
{
    struct sp_llm_config cfg;
    char err[256];
    (void)state;
    unsetenv("OPENAI_BASE_URL");
    unsetenv("OPENAI_API_KEY");
    unsetenv("ANTHROPIC_BASE_URL");
    unsetenv("ANTHROPIC_API_KEY");
    /* openai against a local server named with --llm-url: no key needed */
    sp_llm_config_init(&cfg);
    sp_llm_config_set(&cfg, "--llm", "openai", err, sizeof err);
    sp_llm_config_set(&cfg, "--llm-url", "http://127.0.0.1:8080/v1", err, sizeof err);
    assert_int_equal(sp_llm_config_finish(&cfg, err, sizeof err), 0);
    assert_string_equal(cfg.url, "http://127.0.0.1:8080/v1");
    assert_string_equal(cfg.api_key, "");
    /* OpenAI's cloud without a key: one clear line */
    sp_llm_config_init(&cfg);
    sp_llm_config_set(&cfg, "--llm", "openai", err, sizeof err);
    sp_llm_config_set(&cfg, "--llm-url", "https://api.openai.com/v1", err, sizeof err);
    assert_int_equal(sp_llm_config_finish(&cfg, err, sizeof err), SP_LLM_ENOKEY);
    assert_string_equal(err, "slowpath: --llm openai needs OPENAI_API_KEY in the environment");
    /* anthropic always needs its key */
    sp_llm_config_init(&cfg);
    sp_llm_config_set(&cfg, "--llm", "anthropic", err, sizeof err);
    assert_int_equal(sp_llm_config_finish(&cfg, err, sizeof err), SP_LLM_ENOKEY);
    assert_string_equal(err, "slowpath: --llm anthropic needs ANTHROPIC_API_KEY in the environment");
    setenv("ANTHROPIC_API_KEY", "sk-ant-xyz", 1);
    setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9999", 1);
    assert_int_equal(sp_llm_config_finish(&cfg, err, sizeof err), 0);
    assert_string_equal(cfg.url, "http://127.0.0.1:9999");
    assert_string_equal(cfg.api_key, "sk-ant-xyz");
    assert_string_equal(cfg.model, "claude-3-5-haiku-latest");
    /* a bad URL in the environment is reported too; the flag beats the environment */
    sp_llm_config_init(&cfg);
    sp_llm_config_set(&cfg, "--llm", "anthropic", err, sizeof err);
    setenv("ANTHROPIC_BASE_URL", "not a url", 1);
    assert_int_equal(sp_llm_config_finish(&cfg, err, sizeof err), SP_LLM_ECONFIG);
    assert_non_null(strstr(err, "ANTHROPIC_BASE_URL"));
    sp_llm_config_set(&cfg, "--llm-url", "http://127.0.0.1:1", err, sizeof err);
    assert_int_equal(sp_llm_config_finish(&cfg, err, sizeof err), 0);
    unsetenv("ANTHROPIC_BASE_URL");
    unsetenv("ANTHROPIC_API_KEY");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_async_and_correct),
        cmocka_unit_test(test_sim_deadline_busy_close),
        cmocka_unit_test(test_sim_truncated_is_typed),
        cmocka_unit_test(test_config_flags),
        cmocka_unit_test(test_config_finish_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
