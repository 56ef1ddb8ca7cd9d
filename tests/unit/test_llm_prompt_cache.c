/* The prompt cache the simulated provider plays, like the real ones (minimum, breakpoints, 128-token
 * steps, lifetime), in-process and in llm-sim over HTTP in both wire formats, and the flag that
 * sets the minimum. (The prefixes themselves: test_llm_prompt_prefix.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <uv.h>

#include "hex.h"
#include "prefix_internal.h"
#include "slowpath/decide.h"
#include "slowpath/llm/client.h"
#include "slowpath/llm/config.h"
#include "slowpath/llm/error.h"
#include "slowpath/llm/prefix.h"
#include "slowpath/llm/prompt.h"
#include "slowpath/llm/sim.h"
#include "slowpath/llm/sim_cache.h"
#include "slowpath/llm/simproc.h"
#include "slowpath/llm/tokens.h"


#include "prompt_harness.h"

/* --- The cache model ---------------------------------------------------------------------- */

static struct sp_llm_usage account(struct sp_llm_sim_cache *c, enum sp_llm_cache_style style, const char *model,
                                   const char *prefix, const char *user, uint64_t now)
{
    struct sp_llm_cache_part parts[2] = {{prefix, strlen(prefix), 1}, {user, strlen(user), 0}};
    struct sp_llm_usage u;
    memset(&u, 0, sizeof u);
    sp_llm_sim_cache_account(c, style, model, parts, 2, now, &u);
    return u;
}

static char *text_of(size_t n, char fill)
{
    char *s = test_malloc(n + 1);
    memset(s, fill, n);
    s[n] = '\0';
    return s;
}

static void test_cache_model_explicit(void **state)
{
    struct sp_llm_sim_cache *c = test_malloc(sizeof *c);
    char *big = text_of(4 * 1100, 'a'), *small = text_of(4 * 1000, 'b');
    struct sp_llm_usage u;
    (void)state;
    sp_llm_sim_cache_init(c, 1024, 1000);
    /* below the minimum: never cached */
    u = account(c, SP_LLM_CACHE_EXPLICIT, "m", small, "q1", 0);
    assert_int_equal(u.cache_write_tokens + u.cache_read_tokens, 0);
    u = account(c, SP_LLM_CACHE_EXPLICIT, "m", small, "q2", 1);
    assert_int_equal(u.cache_write_tokens + u.cache_read_tokens, 0);
    /* above: the first request writes the prefix, the next reads it and renews its lifetime */
    u = account(c, SP_LLM_CACHE_EXPLICIT, "m", big, "question one", 10);
    assert_int_equal(u.cache_write_tokens, 1100);
    assert_int_equal(u.cache_read_tokens, 0);
    assert_int_equal(u.input_tokens, 1100 + 3);
    u = account(c, SP_LLM_CACHE_EXPLICIT, "m", big, "question two", 900);
    assert_int_equal(u.cache_read_tokens, 1100);
    assert_int_equal(u.cache_write_tokens, 0);
    u = account(c, SP_LLM_CACHE_EXPLICIT, "m", big, "q3", 1800); /* 900 ms after its last use */
    assert_int_equal(u.cache_read_tokens, 1100);
    /* another model has a cache of its own */
    u = account(c, SP_LLM_CACHE_EXPLICIT, "other", big, "q", 1801);
    assert_int_equal(u.cache_write_tokens, 1100);
    /* expired: written again */
    u = account(c, SP_LLM_CACHE_EXPLICIT, "m", big, "q4", 2801);
    assert_int_equal(u.cache_write_tokens, 1100);
    assert_int_equal(u.cache_read_tokens, 0);
    /* no breakpoint, no caching */
    struct sp_llm_cache_part unmarked[2] = {{big, strlen(big), 0}, {"q", 1, 0}};
    memset(&u, 0, sizeof u);
    sp_llm_sim_cache_account(c, SP_LLM_CACHE_EXPLICIT, "m", unmarked, 2, 2802, &u);
    assert_int_equal(u.cache_write_tokens + u.cache_read_tokens, 0);
    /* a second breakpoint: the first is read, the part after it written */
    struct sp_llm_cache_part two[3] = {{big, strlen(big), 1}, {small, strlen(small), 1}, {"q", 1, 0}};
    memset(&u, 0, sizeof u);
    sp_llm_sim_cache_account(c, SP_LLM_CACHE_EXPLICIT, "m", two, 3, 2803, &u);
    assert_int_equal(u.cache_read_tokens, 1100);
    assert_int_equal(u.cache_write_tokens, 1000);
    test_free(big);
    test_free(small);
    test_free(c);
}

static void test_cache_model_auto(void **state)
{
    struct sp_llm_sim_cache *c = test_malloc(sizeof *c);
    char *a = text_of(4 * 1500, 'a'), *b = text_of(4 * 1500, 'a');
    struct sp_llm_usage u;
    (void)state;
    sp_llm_sim_cache_init(c, 1024, 1000);
    u = account(c, SP_LLM_CACHE_AUTO, "m", a, "x", 0);
    assert_int_equal(u.cache_read_tokens, 0); /* first sight: nothing to read, writes unreported */
    assert_int_equal(u.cache_write_tokens, 0);
    assert_int_equal(u.input_tokens, 1501);
    u = account(c, SP_LLM_CACHE_AUTO, "m", a, "y", 10);
    assert_int_equal(u.cache_read_tokens, 1024 + 3 * 128); /* 1500 shared tokens, in 128-token steps */
    /* a prompt that agrees for its first 1300 tokens only reads that far (in steps) */
    b[4 * 1300] = 'b';
    u = account(c, SP_LLM_CACHE_AUTO, "m", b, "x", 20);
    assert_int_equal(u.cache_read_tokens, 1024 + 2 * 128);
    /* a prompt under the minimum is never cached */
    a[4 * 1000] = '\0';
    u = account(c, SP_LLM_CACHE_AUTO, "m", a, "x", 30);
    u = account(c, SP_LLM_CACHE_AUTO, "m", a, "y", 31);
    assert_int_equal(u.cache_read_tokens, 0);
    /* expired */
    a[4 * 1000] = 'a';
    u = account(c, SP_LLM_CACHE_AUTO, "m", a, "z", 2000);
    assert_int_equal(u.cache_read_tokens, 0);
    test_free(a);
    test_free(b);
    test_free(c);
}

/* --- The client: in-process sim and llm-sim over HTTP -------------------------------------- */

struct outcome {
    int done, err;
    struct sp_llm_usage usage;
};

static void on_done(sp_llm_client *c, const struct sp_llm_result *r, void *data)
{
    struct outcome *o = data;
    (void)c;
    o->done = 1;
    o->err = r->err;
    o->usage = r->usage;
}

struct env {
    uv_loop_t loop;
    struct sp_llm_simproc sim;
    int sim_up;
    sp_llm_client client;
    int closed;
};

static void env_up(struct env *e, enum sp_llm_provider_kind kind, const char *const *sim_args, uint32_t sim_min)
{
    char path[4096], err[256];
    struct sp_llm_config cfg;
    memset(e, 0, sizeof *e);
    uv_loop_init(&e->loop);
    sp_llm_config_init(&cfg);
    cfg.provider = kind;
    cfg.sim.cache_min_tokens = sim_min;
    if (kind != SP_LLM_PROVIDER_SIM) {
        sp_llm_simproc_path(path, sizeof path);
        assert_int_equal(sp_llm_simproc_start(&e->sim, path, sim_args), 0);
        e->sim_up = 1;
        snprintf(cfg.url, sizeof cfg.url, "%s%s", e->sim.url, kind == SP_LLM_PROVIDER_OPENAI ? "/v1" : "");
        setenv("ANTHROPIC_API_KEY", "sk-ant-test-key", 1);
        setenv("OPENAI_API_KEY", "sk-test-key", 1);
    }
    assert_int_equal(sp_llm_config_finish(&cfg, err, sizeof err), 0);
    cfg.timeout_ms = 5000;
    assert_int_equal(sp_llm_client_init(&e->loop, &e->client, &cfg), 0);
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
    if (e->sim_up) sp_llm_simproc_stop(&e->sim);
}

static struct sp_llm_usage ask_prompt(struct env *e, const struct sp_llm_prompt *p)
{
    struct outcome o;
    memset(&o, 0, sizeof o);
    assert_int_equal(sp_llm_ask(&e->client, p, on_done, &o), 0);
    while (!o.done) uv_run(&e->loop, UV_RUN_ONCE);
    assert_int_equal(o.err, 0);
    return o.usage;
}

/* Decision i of kind icmp, structured, with the prefix for min_tokens. */
static struct sp_llm_usage ask_decision(struct env *e, unsigned i, uint32_t min_tokens)
{
    char user[SP_LLM_PROMPT_MAX];
    struct sp_llm_prompt p;
    sp_test_example_user(SP_DECISION_ICMP, SP_LLM_FMT_STRUCTURED, i, user, sizeof user);
    sp_llm_prompt_for(&p, SP_DECISION_ICMP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT, user);
    p.system = sp_llm_prefix_get(SP_DECISION_ICMP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT, min_tokens)->system;
    return ask_prompt(e, &p);
}

static uint32_t prefix_tokens(uint32_t min_tokens)
{
    return sp_llm_prefix_get(SP_DECISION_ICMP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT, min_tokens)->tokens;
}

/* Anthropic's form: the first decision writes exactly the prefix slowpath estimated, the next
 * (another decision) reads it. */
static void expect_write_then_read(struct env *e, uint32_t min_tokens)
{
    struct sp_llm_usage a = ask_decision(e, 0, min_tokens), b = ask_decision(e, 1, min_tokens);
    assert_int_equal(a.cache_write_tokens, prefix_tokens(min_tokens));
    assert_int_equal(a.cache_read_tokens, 0);
    assert_int_equal(b.cache_read_tokens, prefix_tokens(min_tokens));
    assert_int_equal(b.cache_write_tokens, 0);
    assert_true(b.input_tokens > b.cache_read_tokens);
}

/* OpenAI's form: nothing read the first time, then the shared prefix in 128-token steps. */
static void expect_openai_read(struct env *e, uint32_t min_tokens, uint32_t provider_min)
{
    struct sp_llm_usage a = ask_decision(e, 0, min_tokens), b = ask_decision(e, 1, min_tokens);
    assert_int_equal(a.cache_read_tokens, 0);
    assert_int_equal(a.cache_write_tokens, 0);
    assert_true(b.cache_read_tokens >= provider_min);
    assert_int_equal((b.cache_read_tokens - provider_min) % 128, 0);
    assert_true(b.cache_read_tokens + 128 > prefix_tokens(min_tokens)); /* the whole prefix, to a step */
    assert_true(b.cache_read_tokens <= b.input_tokens);
}

static void expect_nothing_cached(struct env *e, uint32_t min_tokens)
{
    for (unsigned i = 0; i < 3; i++) {
        struct sp_llm_usage u = ask_decision(e, i, min_tokens);
        assert_int_equal(u.cache_write_tokens, 0);
        assert_int_equal(u.cache_read_tokens, 0);
    }
}

static void test_inprocess_sim_caches(void **state)
{
    struct env e;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_SIM, NULL, 1024);
    expect_write_then_read(&e, 1024);
    env_down(&e);
    env_up(&e, SP_LLM_PROVIDER_SIM, NULL, 4096); /* a Haiku-sized minimum: the 1024 prefix is too short */
    expect_nothing_cached(&e, 1024);
    expect_write_then_read(&e, 4096);
    env_down(&e);
}

static void test_llm_sim_anthropic_caches(void **state)
{
    static const char *const haiku[] = {"--cache-min-tokens", "4096", NULL};
    struct env e;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_ANTHROPIC, NULL, 1024);
    expect_write_then_read(&e, 1024);
    env_down(&e);
    env_up(&e, SP_LLM_PROVIDER_ANTHROPIC, haiku, 1024);
    expect_nothing_cached(&e, 1024); /* below the minimum: silently not cached */
    expect_write_then_read(&e, 4096);
    env_down(&e);
}

static void test_llm_sim_openai_caches(void **state)
{
    static const char *const haiku[] = {"--cache-min-tokens", "4096", NULL};
    struct env e;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_OPENAI, NULL, 1024);
    expect_openai_read(&e, 1024, 1024);
    env_down(&e);
    env_up(&e, SP_LLM_PROVIDER_OPENAI, haiku, 1024);
    expect_nothing_cached(&e, 1024);
    expect_openai_read(&e, 4096, 4096);
    env_down(&e);
}

static void test_llm_sim_short_prompt_not_cached(void **state)
{
    struct env e;
    char user[SP_LLM_PROMPT_MAX];
    struct sp_llm_prompt p;
    (void)state;
    sp_test_example_user(SP_DECISION_ICMP, SP_LLM_FMT_STRUCTURED, 0, user, sizeof user);
    for (int prov = 0; prov < 2; prov++) {
        env_up(&e, prov ? SP_LLM_PROVIDER_OPENAI : SP_LLM_PROVIDER_ANTHROPIC, NULL, 1024);
        sp_llm_prompt_for(&p, SP_DECISION_ICMP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT, user);
        p.system = sp_llm_decision_system_prompt(SP_DECISION_ICMP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT); /* the bare ~200 tokens */
        for (int i = 0; i < 2; i++) {
            struct sp_llm_usage u = ask_prompt(&e, &p);
            assert_int_equal(u.cache_write_tokens + u.cache_read_tokens, 0);
            assert_true(u.input_tokens > 0);
        }
        env_down(&e);
    }
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void test_llm_sim_ttl_expires(void **state)
{
    static const char *const short_ttl[] = {"--cache-ttl-s", "1", NULL};
    struct env e;
    struct sp_llm_usage u;
    (void)state;
    env_up(&e, SP_LLM_PROVIDER_ANTHROPIC, short_ttl, 1024);
    expect_write_then_read(&e, 1024);
    pause_ms(1500);
    u = ask_decision(&e, 2, 1024);
    assert_int_equal(u.cache_write_tokens, prefix_tokens(1024)); /* expired: written again */
    assert_int_equal(u.cache_read_tokens, 0);
    env_down(&e);
    env_up(&e, SP_LLM_PROVIDER_OPENAI, short_ttl, 1024);
    expect_openai_read(&e, 1024, 1024);
    pause_ms(1500);
    u = ask_decision(&e, 2, 1024);
    assert_int_equal(u.cache_read_tokens, 0);
    env_down(&e);
}

/* --- The flag ----------------------------------------------------------------------------- */

static int client_closed;
static void on_client_closed(sp_llm_client *c)
{
    (void)c;
    client_closed = 1;
}

static void test_flag_and_client_minimum(void **state)
{
    struct sp_llm_config cfg;
    char err[256];
    uv_loop_t loop;
    sp_llm_client client;
    struct sp_llm_prompt p;
    (void)state;
    sp_llm_config_init(&cfg);
    assert_int_equal(cfg.cache_min_tokens, SP_LLM_DEFAULT_CACHE_MIN_TOKENS);
    assert_true(sp_llm_config_is_flag("--llm-cache-min-tokens"));
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-cache-min-tokens", "4096", err, sizeof err), 0);
    assert_int_equal(cfg.cache_min_tokens, 4096);
    assert_int_equal(cfg.sim.cache_min_tokens, 4096); /* the in-process sim plays the same provider */
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-cache-min-tokens", "many", err, sizeof err), SP_LLM_ECONFIG);
    assert_non_null(strstr(err, "bad --llm-cache-min-tokens"));
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-cache-min-tokens", "40000", err, sizeof err), SP_LLM_ECONFIG);
    assert_int_equal(sp_llm_config_set(&cfg, "--llm-cache-min-tokens", "-1", err, sizeof err), SP_LLM_ECONFIG);
    assert_non_null(strstr(sp_llm_config_usage, "--llm-cache-min-tokens"));
    /* a client built with 4096 sends the 4096 prefixes, built at its start */
    assert_int_equal(sp_llm_config_finish(&cfg, err, sizeof err), 0);
    uv_loop_init(&loop);
    assert_int_equal(sp_llm_client_init(&loop, &client, &cfg), 0);
    assert_int_equal(sp_llm_prefix_min_tokens(), 4096);
    sp_llm_prompt_for(&p, SP_DECISION_ARP, SP_LLM_FMT_RAW, SP_AUTHORITY_EXACT, "{}");
    assert_ptr_equal(p.system, sp_llm_prefix_get(SP_DECISION_ARP, SP_LLM_FMT_RAW, SP_AUTHORITY_EXACT, 4096)->system);
    assert_true(sp_llm_tokens_estimate(strlen(p.system) + strlen(p.schema)) >= 4096);
    client_closed = 0;
    sp_llm_client_close(&client, on_client_closed);
    while (!client_closed) uv_run(&loop, UV_RUN_ONCE);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&loop), 0);
    assert_int_equal(sp_llm_prefix_configure(SP_LLM_DEFAULT_CACHE_MIN_TOKENS), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_model_explicit),
        cmocka_unit_test(test_cache_model_auto),
        cmocka_unit_test(test_inprocess_sim_caches),
        cmocka_unit_test(test_llm_sim_anthropic_caches),
        cmocka_unit_test(test_llm_sim_openai_caches),
        cmocka_unit_test(test_llm_sim_short_prompt_not_cached),
        cmocka_unit_test(test_llm_sim_ttl_expires),
        cmocka_unit_test(test_flag_and_client_minimum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
