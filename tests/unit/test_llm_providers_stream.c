/* Streamed provider answers (server-sent events) on the providers' documented example streams,
 * and streams with out-of-range numbers rejected with a typed error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include <cmocka.h>

#include "slowpath/llm/decision.h"
#include "slowpath/llm/error.h"
#include "slowpath/llm/provider.h"

static int parse(const struct sp_llm_provider *p, long status, const char *ctype, const char *body,
                 struct sp_llm_answer *a)
{
    return p->parse(status, ctype, body, strlen(body), a);
}

#define SSE "text/event-stream"

/* streaming docs: a text answer, with a ping */
static const char anth_sse_text[] =
    "event: message_start\n"
    "data: {\"type\": \"message_start\", \"message\": {\"id\": \"msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY\", "
    "\"type\": \"message\", \"role\": \"assistant\", \"content\": [], \"model\": \"claude-3-5-sonnet-20241022\", "
    "\"stop_reason\": null, \"stop_sequence\": null, \"usage\": {\"input_tokens\": 25, \"output_tokens\": 1}}}\n\n"
    "event: content_block_start\n"
    "data: {\"type\": \"content_block_start\", \"index\": 0, \"content_block\": {\"type\": \"text\", \"text\": \"\"}}\n\n"
    "event: ping\n"
    "data: {\"type\": \"ping\"}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {\"type\": \"text_delta\", \"text\": \"Hello\"}}\n\n"
    "event: content_block_delta\n"
    "data: {\"type\": \"content_block_delta\", \"index\": 0, \"delta\": {\"type\": \"text_delta\", \"text\": \"!\"}}\n\n"
    "event: content_block_stop\n"
    "data: {\"type\": \"content_block_stop\", \"index\": 0}\n\n"
    "event: message_delta\n"
    "data: {\"type\": \"message_delta\", \"delta\": {\"stop_reason\": \"end_turn\", \"stop_sequence\":null}, "
    "\"usage\": {\"output_tokens\": 15}}\n\n"
    "event: message_stop\n"
    "data: {\"type\": \"message_stop\"}\n\n";

/* streaming docs: a tool_use block built from input_json_delta pieces (CRLF line ends here) */
static const char anth_sse_tool[] =
    "event: message_start\r\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_014p7gG3wDgGV9EUtLvnow3U\","
    "\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-3-haiku-20240307\",\"stop_sequence\":null,"
    "\"usage\":{\"input_tokens\":472,\"cache_creation_input_tokens\":0,\"cache_read_input_tokens\":400,"
    "\"output_tokens\":2},\"content\":[],\"stop_reason\":null}}\r\n\r\n"
    "event: content_block_start\r\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
    "{\"type\":\"tool_use\",\"id\":\"toolu_01T1x1fJ34qAmk2tNTrN7Up6\",\"name\":\"get_weather\",\"input\":{}}}\r\n\r\n"
    "event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
    "{\"type\":\"input_json_delta\",\"partial_json\":\"\"}}\r\n\r\n"
    "event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
    "{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"location\\\": \\\"San Fra\"}}\r\n\r\n"
    "event: content_block_delta\r\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":"
    "{\"type\":\"input_json_delta\",\"partial_json\":\"ncisco, CA\\\"}\"}}\r\n\r\n"
    "event: content_block_stop\r\ndata: {\"type\":\"content_block_stop\",\"index\":0}\r\n\r\n"
    "event: message_delta\r\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\","
    "\"stop_sequence\":null},\"usage\":{\"output_tokens\":89}}\r\n\r\n"
    "event: message_stop\r\ndata: {\"type\":\"message_stop\"}\r\n\r\n";

static void test_anthropic_stream(void **state)
{
    struct sp_llm_answer a;
    const struct sp_llm_provider *p = &sp_llm_provider_anthropic;
    char *cut;
    (void)state;
    assert_int_equal(parse(p, 200, SSE, anth_sse_text, &a), 0);
    assert_string_equal(a.text, "Hello!");
    assert_string_equal(a.stop_reason, "end_turn");
    assert_int_equal(a.usage.input_tokens, 25);
    assert_int_equal(a.usage.output_tokens, 15);
    sp_llm_answer_free(&a);
    assert_int_equal(parse(p, 200, SSE, anth_sse_tool, &a), 0);
    assert_string_equal(a.text, "{\"location\":\"San Francisco, CA\"}");
    assert_string_equal(a.stop_reason, "tool_use");
    assert_int_equal(a.usage.cache_read_tokens, 400);
    assert_int_equal(a.usage.input_tokens, 872);
    sp_llm_answer_free(&a);
    /* cut before message_stop: incomplete */
    cut = strdup(anth_sse_text);
    *strstr(cut, "event: message_stop") = '\0';
    assert_int_equal(parse(p, 200, SSE, cut, &a), SP_LLM_EBAD_RESPONSE);
    free(cut);
    /* an error event mid-stream (the docs' overloaded example) */
    assert_int_equal(parse(p, 200, SSE,
                           "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":"
                           "{\"input_tokens\":1}}}\n\nevent: error\ndata: {\"type\": \"error\", \"error\": "
                           "{\"type\": \"overloaded_error\", \"message\": \"Overloaded\"}}\n\n", &a),
                     SP_LLM_EOVERLOADED);
    assert_int_equal(parse(p, 200, SSE, "data: not json\n\n", &a), SP_LLM_EBAD_RESPONSE);
    assert_int_equal(parse(p, 200, SSE, "", &a), SP_LLM_EBAD_RESPONSE);
    sp_llm_answer_free(&a);
}

/* A streamed block index is a small non-negative integer: 1e300, -1, 1.5 or 2^32 is a bad stream,
 * never a cast out of range; so are usage counts that do not fit a uint32. */
static void test_anthropic_stream_rejects_out_of_range_numbers(void **state)
{
    static const char *const idx[] = {"1e300", "-1e300", "1e999", "-1", "1.5", "4294967296", "\"0\""};
    const struct sp_llm_provider *p = &sp_llm_provider_anthropic;
    struct sp_llm_answer a;
    char body[1024];
    (void)state;
    for (size_t i = 0; i < sizeof idx / sizeof idx[0]; i++) {
        for (int where = 0; where < 2; where++) { /* the block's start, or a delta of it */
            snprintf(body, sizeof body,
                     "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":1}}}\n\n"
                     "data: {\"type\":\"content_block_start\",\"index\":%s,\"content_block\":"
                     "{\"type\":\"tool_use\",\"input\":{}}}\n\n"
                     "data: {\"type\":\"content_block_delta\",\"index\":%s,\"delta\":"
                     "{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n"
                     "data: {\"type\":\"message_stop\"}\n\n",
                     where == 0 ? idx[i] : "0", where == 1 ? idx[i] : "0");
            if (parse(p, 200, SSE, body, &a) != SP_LLM_EBAD_RESPONSE)
                fail_msg("index %s in the %s: accepted", idx[i], where ? "delta" : "start");
            sp_llm_answer_free(&a);
        }
    }
    static const char *const usage[] = {
        "\"message\":{\"usage\":{\"input_tokens\":1e300}}",
        "\"message\":{\"usage\":{\"input_tokens\":1,\"cache_read_input_tokens\":4294967296}}",
    };
    for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++) {
        snprintf(body, sizeof body, "data: {\"type\":\"message_start\",%s}\n\ndata: {\"type\":\"message_stop\"}\n\n",
                 usage[i]);
        assert_int_equal(parse(p, 200, SSE, body, &a), SP_LLM_EBAD_RESPONSE);
        sp_llm_answer_free(&a);
    }
    /* counts that fit each on their own but not summed: the whole prompt saturates, not wraps */
    assert_int_equal(parse(p, 200, SSE,
                           "data: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":4294967295,"
                           "\"cache_read_input_tokens\":4294967295,\"cache_creation_input_tokens\":2}}}\n\n"
                           "data: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
                           "{\"type\":\"text\",\"text\":\"hi\"}}\n\n"
                           "data: {\"type\":\"message_stop\"}\n\n", &a), 0);
    assert_int_equal(a.usage.input_tokens, UINT32_MAX);
    sp_llm_answer_free(&a);
}

/* streaming docs: chunks, then a usage chunk (stream_options.include_usage), then [DONE] */
static const char oai_sse[] =
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":"
    "\"gpt-4o-mini\",\"system_fingerprint\":\"fp_44709d6fcb\",\"choices\":[{\"index\":0,\"delta\":{\"role\":"
    "\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":"
    "\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"logprobs\":null,"
    "\"finish_reason\":null}]}\n\n"
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":"
    "\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"id\":\"chatcmpl-123\",\"object\":\"chat.completion.chunk\",\"created\":1694268190,\"model\":"
    "\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":2006,\"completion_tokens\":2,\"total_tokens\":"
    "2008,\"prompt_tokens_details\":{\"cached_tokens\":1920}}}\n\n"
    "data: [DONE]\n\n";

static void test_openai_stream(void **state)
{
    struct sp_llm_answer a;
    const struct sp_llm_provider *p = &sp_llm_provider_openai;
    char *cut;
    (void)state;
    assert_int_equal(parse(p, 200, SSE, oai_sse, &a), 0);
    assert_string_equal(a.text, "Hello");
    assert_string_equal(a.stop_reason, "stop");
    assert_int_equal(a.usage.input_tokens, 2006);
    assert_int_equal(a.usage.cache_read_tokens, 1920);
    sp_llm_answer_free(&a);
    cut = strdup(oai_sse);
    *strstr(cut, "data: [DONE]") = '\0';
    assert_int_equal(parse(p, 200, SSE, cut, &a), SP_LLM_EBAD_RESPONSE);
    free(cut);
    assert_int_equal(parse(p, 200, SSE,
                           "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"{\\\"a\"},\"finish_reason\":"
                           "\"length\"}]}\n\ndata: [DONE]\n\n", &a), SP_LLM_ETRUNCATED);
    sp_llm_answer_free(&a);
    assert_int_equal(parse(p, 200, SSE,
                           "data: {\"error\":{\"message\":\"boom\",\"type\":\"server_error\"}}\n\n", &a),
                     SP_LLM_ESERVER);
    assert_int_equal(parse(p, 200, SSE,
                           "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":7}}]}\n\ndata: [DONE]\n\n", &a),
                     SP_LLM_EBAD_RESPONSE);
    assert_int_equal(parse(p, 200, SSE, ": keep-alive comment\n\ndata: [DONE]\n\n", &a), SP_LLM_ENO_CONTENT);
    sp_llm_answer_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anthropic_stream),
        cmocka_unit_test(test_anthropic_stream_rejects_out_of_range_numbers),
        cmocka_unit_test(test_openai_stream),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
