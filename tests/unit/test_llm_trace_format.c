/* One decision trace line (trace.c) written and read back: every field, escaped. */
#include "llm_decider_harness.h"
#include <unistd.h>

#include "slowpath/llm/trace.h"

static void test_trace_line_format(void **state)
{
    (void)state;
    char path[] = "/tmp/sp-trace-fmt-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w+");
    struct sp_llm_trace_rec r = {
        .time = {.tv_sec = 1700000000, .tv_nsec = 123456789}, .id = 5, .kind = "icmp", .flow = "icmp a>b id=1",
        .mode = "llm", .format = "raw", .provider = "openai", .model = "m\"x", .latency_ms = 1.5, .tokens_in = 10,
        .tokens_out = 20, .tokens_cached = 3, .verdict = "invalid:not_json", .action = "fallback", .frame = -1,
        .shadow_match = -1, .bad_field = "k\n",
    };
    assert_int_equal(sp_llm_trace_write(f, &r), 0);
    rewind(f);
    char line[1024];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "{\"time\":\"2023-11-14T22:13:20.123Z\",\"id\":5,\"kind\":\"icmp\",\"flow\":\"icmp a>b id=1\","
                              "\"mode\":\"llm\",\"format\":\"raw\",\"provider\":\"openai\",\"model\":\"m\\\"x\","
                              "\"latency_ms\":1.500,\"tokens_in\":10,\"tokens_out\":20,\"tokens_cached\":3,"
                              "\"verdict\":\"invalid:not_json\",\"action\":\"fallback\",\"frame\":null,"
                              "\"bad_field\":\"k\\u000a\"}\n");
    /* legal: the authority, and the fields that departed with the values adopted, in the map's
     * order; a valid answer that departed in nothing has {} */
    struct sp_llm_trace_rec l = {
        .time = {.tv_sec = 1700000000}, .id = 6, .kind = "tcp", .flow = "tcp a:1>b:2", .mode = "llm",
        .format = "structured", .authority = "legal", .provider = "sim", .model = "sim", .verdict = "valid",
        .action = "llm", .frame = 4, .shadow_match = -1, .has_deviation = true,
        .deviations = 1u << SP_DEVIATION_WSCALE | 1u << SP_DEVIATION_ISS | 1u << SP_DEVIATION_MSS,
        .chosen = {.action = SP_PROPOSE_SYN_ACK, .iss = 4294967295u, .window = 9, .mss = 0, .wscale = -1},
    };
    long at = ftell(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0); /* a write after a read needs a seek */
    assert_int_equal(sp_llm_trace_write(f, &l), 0);
    l.deviations = 1u << SP_DEVIATION_ACTION;
    l.chosen.action = SP_PROPOSE_RST;
    assert_int_equal(sp_llm_trace_write(f, &l), 0);
    l.deviations = 1u << SP_DEVIATION_TTL | 1u << SP_DEVIATION_IP_IDENT | 1u << SP_DEVIATION_DF;
    l.chosen = (struct sp_decision_chosen){.action = SP_PROPOSE_REPLY, .ttl = 200, .ip_ident = 65535, .df = 0};
    assert_int_equal(sp_llm_trace_write(f, &l), 0);
    l.deviations = 1u << SP_DEVIATION_SILENCE;
    l.frame = -1;
    assert_int_equal(sp_llm_trace_write(f, &l), 0);
    l.deviations = 0;
    assert_int_equal(sp_llm_trace_write(f, &l), 0);
    assert_int_equal(fseek(f, at, SEEK_SET), 0);
    static const char *const tails[] = {
        "\"deviation\":{\"iss\":4294967295,\"mss\":null,\"wscale\":null}}\n",
        "\"deviation\":{\"action\":\"rst\"}}\n",
        "\"deviation\":{\"ttl\":200,\"ip_ident\":65535,\"df\":false}}\n",
        "\"frame\":null,\"deviation\":{\"silence\":true}}\n",
        "\"deviation\":{}}\n",
    };
    for (int i = 0; i < 5; i++) {
        assert_non_null(fgets(line, sizeof line, f));
        assert_non_null(strstr(line, ",\"format\":\"structured\",\"authority\":\"legal\",\"provider\":"));
        size_t n = strlen(line), t = strlen(tails[i]);
        assert_true(n > t);
        assert_string_equal(line + n - t, tails[i]);
        cJSON *j = cJSON_Parse(line); /* still one JSON object */
        assert_true(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(j, "deviation")));
        cJSON_Delete(j);
    }
    fclose(f);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_line_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
