/* Provider request building and response parsing on the providers' own documented example
 * bodies, plus everything else rejected with a typed error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "json.h" /* llm/'s private helpers: the one place JSON numbers become integers */
#include "slowpath/llm/decision.h"
#include "slowpath/llm/error.h"
#include "slowpath/llm/provider.h"

static int parse(const struct sp_llm_provider *p, long status, const char *ctype, const char *body,
                 struct sp_llm_answer *a)
{
    return p->parse(status, ctype, body, strlen(body), a);
}

#define JSON "application/json"

/* Messages API docs: a plain text answer */
static const char anth_text[] =
    "{\"content\":[{\"text\":\"Hi! My name is Claude.\",\"type\":\"text\"}],"
    "\"id\":\"msg_013Zva2CMHLNnXjNJJKqJ2EF\",\"model\":\"claude-3-7-sonnet-20250219\","
    "\"role\":\"assistant\",\"stop_reason\":\"end_turn\",\"stop_sequence\":null,\"type\":\"message\","
    "\"usage\":{\"input_tokens\":2095,\"output_tokens\":503}}";

/* tool use docs: text beside a tool_use block */
static const char anth_tool[] =
    "{\"id\":\"msg_01Aq9w938a90dw8q\",\"model\":\"claude-3-5-sonnet-20241022\",\"stop_reason\":"
    "\"tool_use\",\"role\":\"assistant\",\"type\":\"message\",\"content\":[{\"type\":\"text\","
    "\"text\":\"I need to use get_weather.\"},{\"type\":\"tool_use\",\"id\":"
    "\"toolu_01A09q90qw90lq917835lq9\",\"name\":\"get_weather\",\"input\":{\"location\":"
    "\"San Francisco, CA\",\"unit\":\"celsius\"}}],\"usage\":{\"input_tokens\":472,"
    "\"output_tokens\":91}}";

/* prompt caching docs: usage with cache fields */
static const char anth_cache[] =
    "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-3-5-haiku\","
    "\"content\":[{\"type\":\"text\",\"text\":\"ok\"}],\"stop_reason\":\"end_turn\","
    "\"stop_sequence\":null,\"usage\":{\"input_tokens\":21,\"cache_creation_input_tokens\":188086,"
    "\"cache_read_input_tokens\":0,\"output_tokens\":393}}";

static void test_anthropic_documented_bodies(void **state)
{
    struct sp_llm_answer a;
    const struct sp_llm_provider *p = &sp_llm_provider_anthropic;
    (void)state;
    assert_int_equal(parse(p, 200, JSON, anth_text, &a), 0);
    assert_string_equal(a.text, "Hi! My name is Claude.");
    assert_string_equal(a.stop_reason, "end_turn");
    assert_int_equal(a.usage.input_tokens, 2095);
    assert_int_equal(a.usage.output_tokens, 503);
    assert_int_equal(a.usage.cache_read_tokens, 0);
    sp_llm_answer_free(&a);
    assert_int_equal(parse(p, 200, JSON, anth_tool, &a), 0);
    assert_string_equal(a.text, "{\"location\":\"San Francisco, CA\",\"unit\":\"celsius\"}");
    assert_string_equal(a.stop_reason, "tool_use");
    sp_llm_answer_free(&a);
    assert_int_equal(parse(p, 200, JSON, anth_cache, &a), 0);
    assert_int_equal(a.usage.cache_write_tokens, 188086);
    assert_int_equal(a.usage.cache_read_tokens, 0);
    assert_int_equal(a.usage.input_tokens, 21 + 188086); /* normalised: the whole prompt */
    assert_int_equal(a.usage.output_tokens, 393);
    sp_llm_answer_free(&a);
}

static void test_anthropic_errors(void **state)
{
    struct sp_llm_answer a;
    const struct sp_llm_provider *p = &sp_llm_provider_anthropic;
    static const struct {
        long status;
        const char *type, *msg;
        int err;
    } cases[] = {
        {400, "invalid_request_error", "messages: field required", SP_LLM_EREJECTED},
        {400, "invalid_request_error", "Your credit balance is too low to access the Anthropic API.", SP_LLM_EQUOTA},
        {401, "authentication_error", "invalid x-api-key", SP_LLM_EAUTH},
        {403, "permission_error", "Your API key does not have permission", SP_LLM_EAUTH},
        {404, "not_found_error", "The requested resource could not be found.", SP_LLM_EREJECTED},
        {413, "request_too_large", "Request exceeds the maximum allowed number of bytes.", SP_LLM_EREJECTED},
        {429, "rate_limit_error", "Number of request tokens has exceeded your rate limit", SP_LLM_ERATELIMIT},
        {500, "api_error", "An unexpected error has occurred", SP_LLM_ESERVER},
        {529, "overloaded_error", "Overloaded", SP_LLM_EOVERLOADED},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char body[512];
        snprintf(body, sizeof body, "{\"type\":\"error\",\"error\":{\"type\":\"%s\",\"message\":\"%s\"}}",
                 cases[i].type, cases[i].msg);
        assert_int_equal(parse(p, cases[i].status, JSON, body, &a), cases[i].err);
        assert_non_null(strstr(a.message, cases[i].type));
        assert_null(a.text);
    }
    /* an error status with a non-JSON body (a proxy) is still classified by status */
    assert_int_equal(parse(p, 502, "text/html", "<html>bad gateway</html>", &a), SP_LLM_ESERVER);
}

static void test_anthropic_rejects_malformed(void **state)
{
    struct sp_llm_answer a;
    const struct sp_llm_provider *p = &sp_llm_provider_anthropic;
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "{\"type\":\"message\",\"content\":[]}",                                  /* no usage */
        "{\"type\":\"message\",\"content\":{},\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}",
        "{\"type\":\"message\",\"content\":[],\"usage\":{\"input_tokens\":\"1\",\"output_tokens\":1}}",
        "{\"type\":\"message\",\"content\":[],\"usage\":{\"input_tokens\":-1,\"output_tokens\":1}}",
        "{\"type\":\"message\",\"content\":[{\"type\":\"text\"}],\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}",
        "{\"type\":\"message\",\"content\":[{\"type\":\"tool_use\",\"input\":\"x\"}],\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}",
        "{\"type\":\"chat.completion\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":1}}",
        "{\"type\":\"message\",\"content\":[],\"usage\":{\"input_tokens\":1,\"output_tokens\":1}} trailing",
    };
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(p, 200, JSON, bad[i], &a), SP_LLM_EBAD_RESPONSE);
        sp_llm_answer_free(&a);
    }
    assert_int_equal(parse(p, 200, "text/html", anth_text, &a), SP_LLM_ECONTENT_TYPE);
    assert_int_equal(parse(p, 200, JSON,
                           "{\"type\":\"message\",\"content\":[],\"stop_reason\":\"end_turn\","
                           "\"usage\":{\"input_tokens\":1,\"output_tokens\":0}}", &a), SP_LLM_ENO_CONTENT);
    assert_int_equal(parse(p, 200, JSON,
                           "{\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"{\\\"a\\\"\"}],"
                           "\"stop_reason\":\"max_tokens\",\"usage\":{\"input_tokens\":1,\"output_tokens\":9}}",
                           &a), SP_LLM_ETRUNCATED);
    assert_string_equal(a.text, "{\"a\"");
    sp_llm_answer_free(&a);
}

/* Chat Completions docs example */
static const char oai_doc[] =
    "{\"id\":\"chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG\",\"object\":\"chat.completion\","
    "\"created\":1741570283,\"model\":\"gpt-4o-2024-08-06\",\"choices\":[{\"index\":0,\"message\":"
    "{\"role\":\"assistant\",\"content\":\"The image shows a wooden boardwalk.\",\"refusal\":null,"
    "\"annotations\":[]},\"logprobs\":null,\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":"
    "2006,\"completion_tokens\":300,\"total_tokens\":2306,\"prompt_tokens_details\":{\"cached_tokens\":"
    "1920,\"audio_tokens\":0},\"completion_tokens_details\":{\"reasoning_tokens\":0,\"audio_tokens\":0,"
    "\"accepted_prediction_tokens\":0,\"rejected_prediction_tokens\":0}},\"service_tier\":\"default\","
    "\"system_fingerprint\":\"fp_fc9f1d7035\"}";

/* llama.cpp server: no prompt_tokens_details, a timings object */
static const char llama_doc[] =
    "{\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"message\":{\"content\":\"{\\\"ok\\\":1}\","
    "\"role\":\"assistant\"}}],\"created\":1727000000,\"model\":\"gpt-3.5-turbo\",\"object\":"
    "\"chat.completion\",\"usage\":{\"completion_tokens\":7,\"prompt_tokens\":180,\"total_tokens\":187},"
    "\"id\":\"chatcmpl-abc\",\"timings\":{\"cache_n\":160,\"prompt_n\":20,\"prompt_ms\":35.5,"
    "\"prompt_per_token_ms\":1.7,\"prompt_per_second\":563.3,\"predicted_n\":7,\"predicted_ms\":90.25,"
    "\"predicted_per_token_ms\":12.9,\"predicted_per_second\":77.5}}";

static void test_openai_documented_bodies(void **state)
{
    struct sp_llm_answer a;
    const struct sp_llm_provider *p = &sp_llm_provider_openai;
    (void)state;
    assert_int_equal(parse(p, 200, JSON, oai_doc, &a), 0);
    assert_string_equal(a.text, "The image shows a wooden boardwalk.");
    assert_string_equal(a.stop_reason, "stop");
    assert_int_equal(a.usage.input_tokens, 2006);
    assert_int_equal(a.usage.output_tokens, 300);
    assert_int_equal(a.usage.cache_read_tokens, 1920);
    assert_false(a.timings.present);
    sp_llm_answer_free(&a);
    assert_int_equal(parse(p, 200, JSON, llama_doc, &a), 0);
    assert_string_equal(a.text, "{\"ok\":1}");
    assert_true(a.timings.present);
    assert_int_equal(a.timings.prompt_n, 20);
    assert_int_equal(a.timings.predicted_n, 7);
    assert_true(a.timings.predicted_ms > 90 && a.timings.predicted_ms < 91);
    assert_int_equal(a.usage.cache_read_tokens, 160); /* from timings.cache_n */
    sp_llm_answer_free(&a);
    /* usage may be absent on some compatible servers */
    assert_int_equal(parse(p, 200, "application/json",
                           "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"x\"},"
                           "\"finish_reason\":\"stop\"}]}", &a), 0);
    sp_llm_answer_free(&a);
}

static void test_openai_errors_and_rejects(void **state)
{
    struct sp_llm_answer a;
    const struct sp_llm_provider *p = &sp_llm_provider_openai;
    (void)state;
    assert_int_equal(parse(p, 401, JSON,
                           "{\"error\":{\"message\":\"Incorrect API key provided: sk-abc***xyz.\",\"type\":"
                           "\"invalid_request_error\",\"param\":null,\"code\":\"invalid_api_key\"}}", &a), SP_LLM_EAUTH);
    assert_int_equal(parse(p, 429, JSON,
                           "{\"error\":{\"message\":\"You exceeded your current quota, please check your plan "
                           "and billing details.\",\"type\":\"insufficient_quota\",\"param\":null,\"code\":"
                           "\"insufficient_quota\"}}", &a), SP_LLM_EQUOTA);
    assert_int_equal(parse(p, 429, JSON,
                           "{\"error\":{\"message\":\"Rate limit reached\",\"type\":\"requests\",\"param\":null,"
                           "\"code\":\"rate_limit_exceeded\"}}", &a), SP_LLM_ERATELIMIT);
    assert_int_equal(parse(p, 503, JSON,
                           "{\"error\":{\"message\":\"The engine is currently overloaded\",\"type\":\"server_error\"}}",
                           &a), SP_LLM_EOVERLOADED);
    assert_int_equal(parse(p, 400, JSON, /* llama.cpp puts the status in code */
                           "{\"error\":{\"code\":400,\"message\":\"bad schema\",\"type\":\"invalid_request_error\"}}",
                           &a), SP_LLM_EREJECTED);
    assert_non_null(strstr(a.message, "bad schema"));
    assert_int_equal(parse(p, 404, JSON, "{\"error\":\"model not found\"}", &a), SP_LLM_EREJECTED); /* Ollama native */
    assert_int_equal(parse(p, 200, JSON,
                           "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":null,"
                           "\"refusal\":\"I can't help with that.\"},\"finish_reason\":\"stop\"}]}", &a), SP_LLM_EREFUSAL);
    sp_llm_answer_free(&a);
    assert_int_equal(parse(p, 200, JSON,
                           "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"{\\\"a\"},"
                           "\"finish_reason\":\"length\"}]}", &a), SP_LLM_ETRUNCATED);
    sp_llm_answer_free(&a);
    static const char *const bad[] = {
        "", "null", "{}", "{\"choices\":[]}", "{\"choices\":{}}",
        "{\"choices\":[{\"message\":\"hi\"}]}",
        "{\"choices\":[{\"message\":{\"content\":5}}]}",
        "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":{\"prompt_tokens\":1.5,\"completion_tokens\":1}}",
        "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":{\"completion_tokens\":1}}",
        "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,"
        "\"prompt_tokens_details\":{\"cached_tokens\":\"all\"}}}",
        /* token counts that do not fit a uint32 */
        "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":{\"prompt_tokens\":-1,\"completion_tokens\":1}}",
        "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":{\"prompt_tokens\":4294967296,\"completion_tokens\":1}}",
        "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1e300}}",
        "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1e999}}",
        "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1,"
        "\"prompt_tokens_details\":{\"cached_tokens\":-1e300}}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(parse(p, 200, JSON, bad[i], &a), SP_LLM_EBAD_RESPONSE);
        sp_llm_answer_free(&a);
    }
    assert_int_equal(parse(p, 200, "text/plain", oai_doc, &a), SP_LLM_ECONTENT_TYPE);
    assert_int_equal(parse(p, 302, "text/html", "", &a), SP_LLM_EBAD_RESPONSE);
}

/* sp_llm_json_uint decides in doubles before it casts: 2^64 is out of range even for a max of
 * UINT64_MAX (which rounds up to 2^64 as a double), and so are 1e300 and infinity. */
static void test_json_uint_checks_range_before_casting(void **state)
{
    static const struct {
        const char *json;
        uint64_t max;
        int rc;
        uint64_t want;
    } cases[] = {
        {"{\"n\":18446744073709551616}", UINT64_MAX, SP_LLM_EFIELD_RANGE, 0},
        {"{\"n\":18446744073709549568}", UINT64_MAX, 0, 18446744073709549568u}, /* below 2^64 */
        {"{\"n\":1e300}", UINT64_MAX, SP_LLM_EFIELD_RANGE, 0},
        {"{\"n\":1e999}", UINT64_MAX, SP_LLM_EFIELD_RANGE, 0},
        {"{\"n\":-1e999}", UINT64_MAX, SP_LLM_EFIELD_RANGE, 0},
        {"{\"n\":-1}", UINT64_MAX, SP_LLM_EFIELD_RANGE, 0},
        {"{\"n\":-0}", 5, 0, 0},
        {"{\"n\":0.5}", UINT64_MAX, SP_LLM_EFIELD_TYPE, 0},
        {"{\"n\":4294967296}", UINT32_MAX, SP_LLM_EFIELD_RANGE, 0},
        {"{\"n\":4294967295}", UINT32_MAX, 0, 4294967295u},
        {"{\"n\":256}", 255, SP_LLM_EFIELD_RANGE, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *j = cJSON_Parse(cases[i].json);
        uint64_t v = 0;
        assert_non_null(j);
        if (sp_llm_json_uint(j, "n", cases[i].max, &v) != cases[i].rc) fail_msg("%s: wrong result", cases[i].json);
        assert_true(v == cases[i].want);
        cJSON_Delete(j);
    }
}

/* llama.cpp's timings are diagnostics: a count that is not a uint32 (negative, fractional, huge,
 * infinite, not a number) or a duration that is negative or infinite makes the whole object be
 * ignored, never cast out of range; the answer itself is still good. */
static void test_openai_bad_timings_are_ignored(void **state)
{
    static const char *const counts[] = {"-1", "-0.5", "1.5", "1e300", "-1e300", "4294967296", "1e999", "\"7\"", "true"};
    static const char *const fields[] = {"cache_n", "prompt_n", "predicted_n"};
    const struct sp_llm_provider *p = &sp_llm_provider_openai;
    struct sp_llm_answer a;
    char body[512];
    (void)state;
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++) {
        for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
            snprintf(body, sizeof body,
                     "{\"choices\":[{\"finish_reason\":\"stop\",\"index\":0,\"message\":{\"content\":\"x\","
                     "\"role\":\"assistant\"}}],\"usage\":{\"completion_tokens\":7,\"prompt_tokens\":180},"
                     "\"timings\":{\"cache_n\":%s,\"prompt_n\":%s,\"predicted_n\":%s,\"prompt_ms\":1.5,"
                     "\"predicted_ms\":2}}",
                     f == 0 ? counts[i] : "160", f == 1 ? counts[i] : "20", f == 2 ? counts[i] : "7");
            if (parse(p, 200, JSON, body, &a) != 0) fail_msg("%s = %s: rejected", fields[f], counts[i]);
            if (a.timings.present) fail_msg("%s = %s: timings kept", fields[f], counts[i]);
            assert_int_equal(a.timings.cache_n, 0);
            assert_int_equal(a.usage.cache_read_tokens, 0); /* not taken from bad timings */
            assert_int_equal(a.usage.input_tokens, 180);
            assert_string_equal(a.text, "x");
            sp_llm_answer_free(&a);
        }
    }
    static const char *const durations[] = {"-1", "1e999", "-1e999", "\"fast\""};
    for (size_t i = 0; i < sizeof durations / sizeof durations[0]; i++) {
        snprintf(body, sizeof body,
                 "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"timings\":{\"cache_n\":1,"
                 "\"prompt_n\":1,\"predicted_n\":1,\"prompt_ms\":%s,\"predicted_ms\":2}}", durations[i]);
        assert_int_equal(parse(p, 200, JSON, body, &a), 0);
        if (a.timings.present) fail_msg("prompt_ms = %s: timings kept", durations[i]);
        sp_llm_answer_free(&a);
    }
    /* the largest count is fine, and so is a streamed chunk's */
    assert_int_equal(parse(p, 200, JSON,
                           "{\"choices\":[{\"message\":{\"content\":\"x\"}}],\"timings\":{\"cache_n\":4294967295,"
                           "\"prompt_n\":0,\"predicted_n\":0,\"prompt_ms\":0,\"predicted_ms\":0}}", &a), 0);
    assert_true(a.timings.present);
    assert_int_equal(a.timings.cache_n, 4294967295u);
    assert_int_equal(a.usage.cache_read_tokens, 4294967295u);
    sp_llm_answer_free(&a);
    assert_int_equal(parse(p, 200, "text/event-stream",
                           "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"},\"finish_reason\":"
                           "\"stop\"}]}\n\ndata: {\"choices\":[],\"timings\":{\"cache_n\":-1e300,\"prompt_n\":1,"
                           "\"predicted_n\":1}}\n\ndata: [DONE]\n\n", &a), 0);
    assert_false(a.timings.present);
    assert_int_equal(a.usage.cache_read_tokens, 0);
    sp_llm_answer_free(&a);
}

static const char *header(const struct sp_llm_wire *w, const char *prefix)
{
    for (int i = 0; w->headers[i]; i++)
        if (strncasecmp(w->headers[i], prefix, strlen(prefix)) == 0) return w->headers[i];
    return NULL;
}

static void test_build_anthropic(void **state)
{
    struct sp_llm_wire w;
    struct sp_llm_prompt p = {"static system", "{\"q\":1}", "icmp_structured",
                              sp_llm_decision_schema(SP_DECISION_ICMP, SP_LLM_FMT_STRUCTURED), 0, 0};
    cJSON *j, *sys;
    (void)state;
    assert_int_equal(sp_llm_provider_anthropic.build("http://127.0.0.1:8080/", "m", "", &p, &w), SP_LLM_ENOKEY);
    assert_int_equal(sp_llm_provider_anthropic.build("http://127.0.0.1:8080/", "m", "KEY", &p, &w), 0);
    assert_string_equal(w.url, "http://127.0.0.1:8080/v1/messages");
    assert_string_equal(header(&w, "x-api-key"), "x-api-key: KEY");
    assert_string_equal(header(&w, "anthropic-version"), "anthropic-version: 2023-06-01");
    j = cJSON_Parse(w.body);
    sys = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "system"), 0);
    assert_string_equal(cJSON_GetObjectItem(sys, "text")->valuestring, "static system");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(sys, "cache_control"), "type")->valuestring, "ephemeral");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "tool_choice"), "type")->valuestring, "tool");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "tool_choice"), "name")->valuestring, "icmp_structured");
    assert_true(cJSON_IsObject(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "tools"), 0), "input_schema")));
    assert_int_equal(cJSON_GetObjectItem(j, "max_tokens")->valueint, 512);
    assert_null(strstr(w.body, "KEY")); /* the key is only a header */
    cJSON_Delete(j);
    sp_llm_wire_free(&w);
    p.schema = "not json";
    assert_int_equal(sp_llm_provider_anthropic.build("http://h", "m", "KEY", &p, &w), SP_LLM_EINVAL);
}

static void test_build_openai(void **state)
{
    struct sp_llm_wire w, w2;
    struct sp_llm_prompt p = {"static system", "{\"q\":1}", "tcp_raw",
                              sp_llm_decision_schema(SP_DECISION_TCP, SP_LLM_FMT_RAW), 100, 0};
    cJSON *j, *rf;
    (void)state;
    assert_int_equal(sp_llm_provider_openai.build("http://127.0.0.1:8080/v1", "llama", NULL, &p, &w), 0);
    assert_string_equal(w.url, "http://127.0.0.1:8080/v1/chat/completions");
    assert_null(header(&w, "Authorization"));
    j = cJSON_Parse(w.body);
    rf = cJSON_GetObjectItem(j, "response_format");
    assert_string_equal(cJSON_GetObjectItem(rf, "type")->valuestring, "json_schema");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(rf, "json_schema"), "name")->valuestring, "tcp_raw");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(rf, "json_schema"), "strict")));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "messages"), 0), "role")->valuestring, "system");
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "cache_prompt")));
    assert_int_equal(cJSON_GetObjectItem(j, "max_tokens")->valueint, 100);
    cJSON_Delete(j);
    /* the same prompt twice: byte-identical bodies, so prefixes can hit provider caches */
    assert_int_equal(sp_llm_provider_openai.build("http://127.0.0.1:8080/v1", "llama", NULL, &p, &w2), 0);
    assert_string_equal(w.body, w2.body);
    sp_llm_wire_free(&w);
    sp_llm_wire_free(&w2);
    assert_int_equal(sp_llm_provider_openai.build("https://api.openai.com/v1", "gpt", "sk-1", &p, &w), 0);
    assert_string_equal(header(&w, "Authorization"), "Authorization: Bearer sk-1");
    assert_null(strstr(w.body, "cache_prompt")); /* OpenAI rejects unknown fields */
    assert_non_null(strstr(w.body, "\"max_completion_tokens\":100"));
    assert_null(strstr(w.body, "\"max_tokens\""));
    sp_llm_wire_free(&w);
}

/* Two decisions differ only after the static prefix (system prompt, schema), so provider
 * prefix caches (OpenAI automatic caching, llama.cpp cache_prompt) can reuse it. */
static void test_static_prefix_byte_identical(void **state)
{
    struct sp_llm_wire a, b;
    struct sp_llm_prompt p1, p2;
    size_t n = 0;
    (void)state;
    memset(&p1, 0, sizeof p1);
    memset(&p2, 0, sizeof p2);
    p1.system = p2.system = sp_llm_decision_system_prompt(SP_DECISION_TCP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT);
    p1.schema = p2.schema = sp_llm_decision_schema(SP_DECISION_TCP, SP_LLM_FMT_STRUCTURED);
    p1.schema_name = p2.schema_name = sp_llm_decision_schema_name(SP_DECISION_TCP, SP_LLM_FMT_STRUCTURED);
    p1.max_tokens = p2.max_tokens = 0;
    p1.user = "{\"kind\":\"tcp\",\"packet\":{\"seq\":1}}";
    p2.user = "{\"kind\":\"tcp\",\"packet\":{\"seq\":2}}";
    assert_int_equal(sp_llm_provider_openai.build("http://127.0.0.1:8080/v1", "m", NULL, &p1, &a), 0);
    assert_int_equal(sp_llm_provider_openai.build("http://127.0.0.1:8080/v1", "m", NULL, &p2, &b), 0);
    while (a.body[n] == b.body[n]) n++;
    /* everything up to the differing digit of the user message is shared, system prompt included */
    assert_true(n > strlen(p1.system));
    a.body[n] = '\0'; /* the shared prefix holds the whole system message */
    assert_non_null(strstr(a.body, "\"role\":\"system\""));
    assert_non_null(strstr(a.body, "\"role\":\"user\""));
    a.body[n] = '1';
    assert_int_equal(a.body[n], '1'); /* the first difference is the seq digit itself */
    assert_int_equal(b.body[n], '2');
    sp_llm_wire_free(&a);
    sp_llm_wire_free(&b);
}

static void test_schemas_are_json_objects(void **state)
{
    (void)state;
    for (int k = 0; k < SP_DECISION_KINDS; k++) {
        for (int f = 0; f < SP_LLM_FMT_COUNT; f++) {
            cJSON *j = cJSON_Parse(sp_llm_decision_schema((enum sp_decision_kind)k, (enum sp_llm_format)f));
            assert_true(cJSON_IsObject(j));
            assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "additionalProperties")));
            /* strict mode: every property is required */
            assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "required")),
                             cJSON_GetArraySize(cJSON_GetObjectItem(j, "properties")));
            cJSON_Delete(j);
            assert_non_null(sp_llm_decision_system_prompt((enum sp_decision_kind)k, (enum sp_llm_format)f,
                                                          SP_AUTHORITY_EXACT));
            assert_non_null(sp_llm_decision_system_prompt((enum sp_decision_kind)k, (enum sp_llm_format)f,
                                                          SP_AUTHORITY_LEGAL));
        }
    }
    assert_null(sp_llm_decision_schema(SP_DECISION_KINDS, SP_LLM_FMT_RAW));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anthropic_documented_bodies),
        cmocka_unit_test(test_anthropic_errors),
        cmocka_unit_test(test_anthropic_rejects_malformed),
        cmocka_unit_test(test_openai_documented_bodies),
        cmocka_unit_test(test_openai_errors_and_rejects),
        cmocka_unit_test(test_json_uint_checks_range_before_casting),
        cmocka_unit_test(test_openai_bad_timings_are_ignored),
        cmocka_unit_test(test_build_anthropic),
        cmocka_unit_test(test_build_openai),
        cmocka_unit_test(test_static_prefix_byte_identical),
        cmocka_unit_test(test_schemas_are_json_objects),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
