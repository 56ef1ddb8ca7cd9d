/* Provider defaults as the official SDKs have them: with neither --llm-url nor *_BASE_URL,
 * requests go to the provider's own endpoint; the environment overrides that, the flag overrides
 * both; --print-config shows the result and never the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slowpath/llm/config.h"
#include "slowpath/llm/error.h"

static void clear_env(void)
{
    unsetenv("OPENAI_BASE_URL");
    unsetenv("OPENAI_API_KEY");
    unsetenv("ANTHROPIC_BASE_URL");
    unsetenv("ANTHROPIC_API_KEY");
}

static void configure(struct sp_llm_config *cfg, const char *provider, const char *url)
{
    char err[256];
    sp_llm_config_init(cfg);
    assert_int_equal(sp_llm_config_set(cfg, "--llm", provider, err, sizeof err), 0);
    if (url)
        assert_int_equal(sp_llm_config_set(cfg, "--llm-url", url, err, sizeof err), 0);
}

static void test_official_endpoints_by_default(void **state)
{
    struct sp_llm_config cfg;
    const char *from = NULL;
    char err[256];
    (void)state;
    clear_env();
    configure(&cfg, "anthropic", NULL);
    assert_int_equal(sp_llm_config_resolve(&cfg, &from, err, sizeof err), 0);
    assert_string_equal(cfg.url, "https://api.anthropic.com");
    assert_string_equal(from, "default");
    configure(&cfg, "openai", NULL);
    assert_int_equal(sp_llm_config_resolve(&cfg, &from, err, sizeof err), 0);
    assert_string_equal(cfg.url, "https://api.openai.com/v1");
    /* OpenAI's own endpoint wants a key, as the SDK does */
    assert_int_equal(sp_llm_config_finish(&cfg, err, sizeof err), SP_LLM_ENOKEY);
    setenv("OPENAI_API_KEY", "sk-test", 1);
    assert_int_equal(sp_llm_config_finish(&cfg, err, sizeof err), 0);
    assert_string_equal(cfg.url, "https://api.openai.com/v1");
    clear_env();
}

static void test_environment_then_flag(void **state)
{
    struct sp_llm_config cfg;
    const char *from = NULL;
    char err[256];
    (void)state;
    clear_env();
    setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:8181", 1);
    setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1", 1);
    configure(&cfg, "anthropic", NULL);
    assert_int_equal(sp_llm_config_resolve(&cfg, &from, err, sizeof err), 0);
    assert_string_equal(cfg.url, "http://127.0.0.1:8181");
    assert_string_equal(from, "ANTHROPIC_BASE_URL");
    configure(&cfg, "openai", NULL);
    assert_int_equal(sp_llm_config_resolve(&cfg, &from, err, sizeof err), 0);
    assert_string_equal(cfg.url, "http://127.0.0.1:8080/v1");
    assert_string_equal(from, "OPENAI_BASE_URL");
    /* a local server needs no key */
    assert_int_equal(sp_llm_config_finish(&cfg, err, sizeof err), 0);
    configure(&cfg, "openai", "http://127.0.0.1:11434/v1");
    assert_int_equal(sp_llm_config_resolve(&cfg, &from, err, sizeof err), 0);
    assert_string_equal(cfg.url, "http://127.0.0.1:11434/v1");
    assert_string_equal(from, "--llm-url");
    /* the sim has no URL at all */
    configure(&cfg, "sim", NULL);
    assert_int_equal(sp_llm_config_resolve(&cfg, &from, err, sizeof err), 0);
    assert_string_equal(cfg.url, "");
    assert_string_equal(from, "");
    clear_env();
}

static char *print(const struct sp_llm_config *cfg, const char *from)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    sp_llm_config_print(cfg, from, f);
    fclose(f);
    return text;
}

static void test_print_shows_whether_a_key_is_set_never_the_key(void **state)
{
    struct sp_llm_config cfg;
    const char *from = NULL;
    char err[256];
    (void)state;
    clear_env();
    configure(&cfg, "anthropic", NULL);
    assert_int_equal(sp_llm_config_resolve(&cfg, &from, err, sizeof err), 0);
    char *text = print(&cfg, from);
    assert_non_null(strstr(text, "llm: anthropic\n"));
    assert_non_null(strstr(text, "llm_url: https://api.anthropic.com\n"));
    assert_non_null(strstr(text, "llm_endpoint: https://api.anthropic.com/v1/messages\n"));
    assert_non_null(strstr(text, "llm_api_key: not set (ANTHROPIC_API_KEY)\n"));
    assert_non_null(strstr(text, "llm_timeout_ms: 10000\n"));
    free(text);
    setenv("ANTHROPIC_API_KEY", "sk-ant-very-secret", 1);
    assert_int_equal(sp_llm_config_finish(&cfg, err, sizeof err), 0);
    text = print(&cfg, from);
    assert_non_null(strstr(text, "llm_api_key: set (ANTHROPIC_API_KEY)\n"));
    assert_null(strstr(text, "very-secret"));
    free(text);
    configure(&cfg, "openai", "http://127.0.0.1:8080/v1/");
    assert_int_equal(sp_llm_config_resolve(&cfg, &from, err, sizeof err), 0);
    text = print(&cfg, from);
    assert_non_null(strstr(text, "llm_endpoint: http://127.0.0.1:8080/v1/chat/completions\n"));
    assert_non_null(strstr(text, "llm_url_from: --llm-url\n"));
    free(text);
    clear_env();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_official_endpoints_by_default),
        cmocka_unit_test(test_environment_then_flag),
        cmocka_unit_test(test_print_shows_whether_a_key_is_set_never_the_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
