/* Bad input always gets a typed error, never a crash, hang or leak: deterministic mutations
 * (byte flips, truncations, splices) of valid bodies through every parser. Run it under the
 * sanitizer build to make "never a crash" mean something. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slowpath/llm/decision.h"
#include "slowpath/llm/error.h"
#include "slowpath/llm/provider.h"
#include "slowpath/llm/sim.h"

static const char *const seeds[] = {
    "{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"m\",\"content\":[{\"type\":"
    "\"tool_use\",\"id\":\"t\",\"name\":\"icmp_structured\",\"input\":{\"action\":\"reply\",\"dst\":"
    "\"192.0.2.2\",\"ident\":1,\"seq\":2,\"ttl\":64}}],\"stop_reason\":\"tool_use\",\"usage\":{"
    "\"input_tokens\":10,\"cache_creation_input_tokens\":5,\"cache_read_input_tokens\":0,\"output_tokens\":3}}",
    "{\"id\":\"c\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":"
    "\"assistant\",\"content\":\"{\\\"action\\\":\\\"drop\\\"}\",\"refusal\":null},\"finish_reason\":\"stop\"}],"
    "\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":2,\"prompt_tokens_details\":{\"cached_tokens\":4}},"
    "\"timings\":{\"prompt_n\":5,\"prompt_ms\":1.5,\"predicted_n\":2,\"predicted_ms\":3}}",
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":3}}}\n\n"
    "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":"
    "{\"type\":\"tool_use\",\"name\":\"x\",\"input\":{}}}\n\nevent: content_block_delta\ndata: {\"type\":"
    "\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":"
    "\"{\\\"a\\\":1}\"}}\n\nevent: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":"
    "\"tool_use\"},\"usage\":{\"output_tokens\":2}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":1,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n",
    "{\"type\":\"error\",\"error\":{\"type\":\"rate_limit_error\",\"message\":\"slow down\"}}",
    "{\"action\":\"syn_ack\",\"seq\":1000,\"ack\":556,\"window\":65535,\"mss\":1460,\"wscale\":7,"
    "\"next_state\":\"SYN-RECEIVED\"}",
    "{\"action\":\"reply\",\"frame_hex\":\"4500001c0000400040010000c0000201c00002020000ffff00010001\"}",
    "{\"kind\":\"tcp\",\"format\":\"raw\",\"host\":{\"mac\":\"02:00:00:00:00:01\",\"ip\":\"192.0.2.1\"},"
    "\"state\":{\"tcp_state\":\"LISTEN\",\"iss\":7},\"packet_hex\":\"450000280000400040060000c0000202c0000201"
    "9c400050000000010000000050020000000000000\"}",
};

static uint64_t rng = 0x1234567;
static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static size_t mutate(const char *in, char *out, size_t cap)
{
    size_t n = strlen(in);
    memcpy(out, in, n + 1);
    switch (rnd() % 4) {
    case 0: /* flip bytes */
        for (int k = 0, m = 1 + (int)(rnd() % 4); k < m && n; k++) out[rnd() % n] = (char)(rnd() & 0xff);
        break;
    case 1: /* truncate */
        n = n ? rnd() % n : 0;
        break;
    case 2: { /* splice a piece of another seed in */
        const char *o = seeds[rnd() % (sizeof seeds / sizeof seeds[0])];
        size_t at = n ? rnd() % n : 0, ol = strlen(o), from = rnd() % ol, len = rnd() % (ol - from + 1);
        if (at + len >= cap) break;
        memcpy(out + at, o + from, len);
        if (at + len > n) n = at + len;
        break;
    }
    default: { /* interesting tokens */
        static const char *const toks[] = {"null", "-1", "1e999", "\"\"", "[]", "{}", "\\u0000", "4294967296", ":", ","};
        const char *t = toks[rnd() % 10];
        size_t at = n ? rnd() % n : 0, tl = strlen(t);
        if (at + tl >= cap) break;
        memcpy(out + at, t, tl);
        if (at + tl > n) n = at + tl;
    }
    }
    out[n] = '\0';
    return n;
}

static void test_parsers_survive_mutations(void **state)
{
    static const char *const ctypes[] = {"application/json", "text/event-stream"};
    static const long statuses[] = {200, 400, 429, 529};
    char buf[4096];
    struct sp_llm_answer a;
    struct sp_llm_decision p;
    struct sp_llm_sim sim;
    struct sp_llm_sim_reply r;
    unsigned ok = 0, typed = 0;
    (void)state;
    sp_llm_sim_init(&sim, NULL);
    for (int i = 0; i < 30000; i++) {
        const char *seed = seeds[rnd() % (sizeof seeds / sizeof seeds[0])];
        size_t n = mutate(seed, buf, sizeof buf);
        const struct sp_llm_provider *prov = rnd() & 1 ? &sp_llm_provider_anthropic : &sp_llm_provider_openai;
        int rc = prov->parse(statuses[rnd() % 4], ctypes[rnd() % 2], buf, n, &a);
        assert_true(rc <= 0);
        if (rc == 0) assert_non_null(a.text);
        else assert_non_null(sp_llm_errname(rc));
        sp_llm_answer_free(&a);
        rc = sp_llm_proposal_parse((enum sp_decision_kind)(rnd() % 3), (enum sp_llm_format)(rnd() % 2), buf, n, &p);
        if (rc == 0) ok++;
        else if (strcmp(sp_llm_errname(rc), "SP_LLM_E?") != 0) typed++;
        assert_int_equal(sp_llm_sim_answer(&sim, NULL, buf, &r), 0); /* the sim answers anything */
        assert_non_null(r.text);
        sp_llm_sim_reply_free(&r);
    }
    assert_int_equal(ok + typed, 30000); /* every rejection is a known typed error */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parsers_survive_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
