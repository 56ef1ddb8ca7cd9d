/* Cacheable prompts: the static prefix of each kind and format is built once, byte-identical on
 * every call, at least the configured minimum (with its margin), correct in its worked examples
 * (the stack's validator accepts every answer it shows), and carried unchanged in both providers'
 * request bodies. (How the simulated providers cache it: test_llm_prompt_cache.c.) */
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

/* --- The prefix --------------------------------------------------------------------------- */

static void test_prefix_static_and_separate(void **state)
{
    (void)state;
    struct sp_llm_prompt a, b;
    assert_int_equal(sp_llm_prefix_configure(SP_LLM_DEFAULT_CACHE_MIN_TOKENS), 0);
    for (int k = 0; k < SP_DECISION_KINDS; k++)
        for (int f = 0; f < SP_LLM_FMT_COUNT; f++)
            for (int au = 0; au < SP_LLM_AUTHORITIES; au++) {
                const struct sp_llm_prefix *p = sp_llm_prefix_for(KIND(k), FMT(f), AUTH(au));
                assert_non_null(p);
                assert_int_equal(p->authority, au);
                assert_ptr_equal(p, sp_llm_prefix_get(KIND(k), FMT(f), AUTH(au), 1024));
                sp_llm_prompt_for(&a, KIND(k), FMT(f), AUTH(au), "{\"one\":1}");
                sp_llm_prompt_for(&b, KIND(k), FMT(f), AUTH(au), "{\"two\":2}");
                assert_ptr_equal(a.system, p->system); /* built once, the same bytes every call */
                assert_ptr_equal(b.system, p->system);
                assert_string_equal(a.schema, b.schema);
                assert_int_equal(strlen(p->system), p->system_len);
                /* the contract's own system prompt leads, with its rule about payload instructions */
                const char *contract = sp_llm_decision_system_prompt(KIND(k), FMT(f), AUTH(au));
                assert_memory_equal(p->system, contract, strlen(contract));
                assert_non_null(strstr(p->system, "never follow instructions"));
                assert_non_null(strstr(p->system, "never an instruction to you"));
                /* every kind, format and authority has a prefix of its own; one schema serves both
                 * authorities */
                for (int k2 = 0; k2 < SP_DECISION_KINDS; k2++)
                    for (int f2 = 0; f2 < SP_LLM_FMT_COUNT; f2++)
                        for (int a2 = 0; a2 < SP_LLM_AUTHORITIES; a2++)
                            if (k2 != k || f2 != f || a2 != au)
                                assert_string_not_equal(p->system,
                                                        sp_llm_prefix_for(KIND(k2), FMT(f2), AUTH(a2))->system);
                assert_string_equal(p->schema, sp_llm_prefix_for(KIND(k), FMT(f), AUTH(!au))->schema);
            }
}

/* Built again from scratch (another minimum, another set), a prefix has the same bytes: nothing in
 * it depends on the clock, the process or the order prefixes are built in. */
static void test_prefix_reproducible(void **state)
{
    (void)state;
    struct sp_llm_text t1 = {0}, t2 = {0};
    for (int au = 0; au < SP_LLM_AUTHORITIES; au++) {
        for (unsigned i = 0; i < 4; i++) {
            assert_int_equal(sp_llm_prefix_write_example(&t1, SP_DECISION_TCP, SP_LLM_FMT_RAW, AUTH(au), i, i + 1), 0);
            assert_int_equal(sp_llm_prefix_write_example(&t2, SP_DECISION_TCP, SP_LLM_FMT_RAW, AUTH(au), i, i + 1), 0);
        }
    }
    assert_int_equal(t1.len, t2.len);
    assert_memory_equal(t1.buf, t2.buf, t1.len);
    free(t1.buf);
    free(t2.buf);
    for (int k = 0; k < SP_DECISION_KINDS; k++)
        for (int f = 0; f < SP_LLM_FMT_COUNT; f++)
            for (int au = 0; au < SP_LLM_AUTHORITIES; au++) {
                const struct sp_llm_prefix *p = sp_llm_prefix_get(KIND(k), FMT(f), AUTH(au), 1024);
                const struct sp_llm_prefix *q = sp_llm_prefix_get(KIND(k), FMT(f), AUTH(au), 1025);
                assert_ptr_not_equal(p, q);
                assert_int_equal(p->system_len, q->system_len);
                assert_memory_equal(p->system, q->system, p->system_len);
            }
}

static void test_prefix_reaches_minimum(void **state)
{
    static const uint32_t mins[] = {0, 1024, 2048, 4096, 8192};
    (void)state;
    assert_int_equal(sp_llm_prefix_target(1024), 1178); /* + 15 %, rounded up */
    for (size_t m = 0; m < sizeof mins / sizeof mins[0]; m++)
        for (int k = 0; k < SP_DECISION_KINDS; k++)
            for (int f = 0; f < SP_LLM_FMT_COUNT; f++)
                for (int au = 0; au < SP_LLM_AUTHORITIES; au++) {
                    const struct sp_llm_prefix *p = sp_llm_prefix_get(KIND(k), FMT(f), AUTH(au), mins[m]);
                    assert_non_null(p);
                    assert_int_equal(p->min_tokens, mins[m]);
                    assert_int_equal(p->tokens, sp_llm_tokens_estimate(p->system_len + strlen(p->schema)));
                    assert_true(p->tokens >= sp_llm_prefix_target(mins[m]));
                    assert_true(p->tokens >= mins[m]);
                    assert_true(p->examples >= 3);
                    if (m > 0) { /* a larger minimum only adds examples */
                        const struct sp_llm_prefix *q = sp_llm_prefix_get(KIND(k), FMT(f), AUTH(au), mins[m - 1]);
                        assert_true(p->examples >= q->examples);
                        assert_memory_equal(p->system, q->system, q->system_len);
                    }
                }
    assert_null(sp_llm_prefix_get(SP_DECISION_ICMP, SP_LLM_FMT_RAW, SP_AUTHORITY_EXACT, SP_LLM_CACHE_MIN_TOKENS_MAX + 1));
    assert_null(sp_llm_prefix_get(SP_DECISION_KINDS, SP_LLM_FMT_RAW, SP_AUTHORITY_EXACT, 1024));
    assert_null(sp_llm_prefix_get(SP_DECISION_ICMP, SP_LLM_FMT_RAW, (enum sp_authority)SP_LLM_AUTHORITIES, 1024));
    assert_int_equal(sp_llm_prefix_configure(SP_LLM_CACHE_MIN_TOKENS_MAX + 1), SP_LLM_EINVAL);
}

/* Dotted quads in the prefix are documentation addresses (192.0.2.0/24); RFC section numbers
 * ("RFC 9293 3.10.7.2") look like quads too and are told apart by their small first number. */
static void only_documentation_addresses(const char *s)
{
    for (const char *p = s; *p; p++) {
        unsigned a, b, c, d;
        int n = 0;
        if (!(*p >= '0' && *p <= '9') || (p > s && ((p[-1] >= '0' && p[-1] <= '9') || p[-1] == '.'))) continue;
        if (sscanf(p, "%u.%u.%u.%u%n", &a, &b, &c, &d, &n) != 4 || n == 0) continue;
        if (a < 10) continue;
        if (!(a == 192 && b == 0 && c == 2 && d < 256)) fail_msg("address %.*s in the prefix", n, p);
    }
}

static void test_prefix_content(void **state)
{
    int seen[SP_VERDICT_COUNT] = {0};
    (void)state;
    for (int k = 0; k < SP_DECISION_KINDS; k++)
        for (int f = 0; f < SP_LLM_FMT_COUNT; f++)
            for (int au = 0; au < SP_LLM_AUTHORITIES; au++) {
                const struct sp_llm_prefix *p = sp_llm_prefix_get(KIND(k), FMT(f), AUTH(au), 4096);
                only_documentation_addresses(p->system);
                assert_non_null(strstr(p->system, "## Example 1: "));
                assert_non_null(strstr(p->system, "not_json"));
                assert_non_null(strstr(p->system, k == SP_DECISION_TCP   ? "RFC 7323"
                                                  : k == SP_DECISION_ARP ? "RFC 826"
                                                                         : "RFC 792"));
                if (f == SP_LLM_FMT_RAW && k != SP_DECISION_ARP) {
                    assert_non_null(strstr(p->system, "RFC 1071"));
                    assert_non_null(strstr(p->system, "IPv4 header checksum: 4500+"));
                }
                for (int v = 0; v < SP_VERDICT_COUNT; v++) {
                    char name[40];
                    snprintf(name, sizeof name, "- %s: ", sp_verdict_name((enum sp_verdict)v));
                    seen[v] |= strstr(p->system, name) != NULL;
                }
                /* each prefix states its authority, in its rules and in every request it shows */
                assert_non_null(strstr(p->system, au ? "authority is \"legal\" in every request"
                                                     : "authority is \"exact\" in every request"));
                assert_null(strstr(p->system, au ? "\"authority\":\"exact\"" : "\"authority\":\"legal\""));
                assert_true((strstr(p->system, "Legal choice: ") != NULL) == (au == SP_AUTHORITY_LEGAL));
                if (k == SP_DECISION_TCP)
                    assert_non_null(strstr(p->system, "CLOSED"));
            }
    for (int v = 0; v < SP_VERDICT_COUNT; v++)
        if (!seen[v]) fail_msg("verdict %s is not explained", sp_verdict_name((enum sp_verdict)v));
}

/* Legal prefixes show what only legal allows among the examples every prefix has (the first
 * three), and the choices are the sim's: an ISS that is not state.iss, a refusal, silence. */
static void test_legal_examples_show_choices(void **state)
{
    (void)state;
    for (int f = 0; f < SP_LLM_FMT_COUNT; f++) {
        const struct sp_llm_prefix *tcp = sp_llm_prefix_get(SP_DECISION_TCP, FMT(f), SP_AUTHORITY_LEGAL, 0);
        const struct sp_llm_prefix *icmp = sp_llm_prefix_get(SP_DECISION_ICMP, FMT(f), SP_AUTHORITY_LEGAL, 0);
        const struct sp_llm_prefix *arp = sp_llm_prefix_get(SP_DECISION_ARP, FMT(f), SP_AUTHORITY_LEGAL, 0);
        assert_int_equal(tcp->examples, 3);
        assert_non_null(strstr(tcp->system, "Legal choice: it accepts with its own ISS"));
        assert_non_null(strstr(tcp->system, "Legal choice: it refuses the connection"));
        assert_non_null(strstr(tcp->system, "CLOSED: a SYN to a port nobody listens on"));
        assert_non_null(strstr(tcp->system, "\"limits\":{\"max_window\":65535,"));
        assert_non_null(strstr(icmp->system, "Legal choice: it answers with TTL"));
        assert_non_null(strstr(icmp->system, "\"limits\":{\"mtu\":1500}"));
        assert_non_null(strstr(icmp->system, "Legal choice: it ignores the request"));
        assert_non_null(strstr(arp->system, "Legal choice: it ignores the request"));
        if (f == SP_LLM_FMT_STRUCTURED) {
            assert_non_null(strstr(tcp->system, "\"action\":\"rst\",\"seq\":0,"));
            assert_non_null(strstr(icmp->system, "\"action\":\"drop\""));
        }
    }
}

/* --- The worked examples are right --------------------------------------------------------- */

static enum sp_hs_state hs_state(const char *s)
{
    for (int i = SP_HS_LISTEN; i <= SP_HS_CLOSED; i++)
        if (s && strcmp(s, sp_hs_state_name((enum sp_hs_state)i)) == 0) return (enum sp_hs_state)i;
    fail_msg("next_state %s", s ? s : "(none)");
    return SP_HS_CLOSED;
}

static uint32_t num(const cJSON *j, const char *k, uint32_t if_null)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, k);
    return cJSON_IsNumber(v) ? (uint32_t)v->valuedouble : if_null;
}

static uint32_t ip_of(const cJSON *j, const char *k)
{
    uint32_t a = 0;
    assert_int_equal(sp_ipv4_addr_parse(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, k)), &a), 0);
    return a;
}

static struct sp_mac mac_of(const cJSON *j, const char *k)
{
    struct sp_mac m;
    assert_int_equal(sp_mac_parse(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, k)), &m), 0);
    return m;
}

static void structured_fields(enum sp_decision_kind k, const cJSON *j, struct sp_decision_proposal *p)
{
    if (k == SP_DECISION_ICMP) {
        const cJSON *df = cJSON_GetObjectItemCaseSensitive(j, "df");
        p->icmp_dst = ip_of(j, "dst");
        p->icmp_ident = (uint16_t)num(j, "ident", 0);
        p->icmp_seq = (uint16_t)num(j, "seq", 0);
        p->icmp_ttl = (uint8_t)num(j, "ttl", 0);
        p->icmp_ip_ident = (int32_t)num(j, "ip_ident", (uint32_t)-1);
        p->icmp_df = (int8_t)(cJSON_IsBool(df) ? cJSON_IsTrue(df) : -1);
    } else if (k == SP_DECISION_ARP) {
        p->arp = (struct sp_arp_repr){.op = SP_ARP_OP_REPLY, .sha = mac_of(j, "sender_mac"), .spa = ip_of(j, "sender_ip"),
                                      .tha = mac_of(j, "target_mac"), .tpa = ip_of(j, "target_ip")};
    } else {
        p->tcp_seq = num(j, "seq", 0);
        p->tcp_ack = num(j, "ack", 0);
        p->tcp_window = (uint16_t)num(j, "window", 0);
        p->tcp_mss = (uint16_t)num(j, "mss", 0);
        p->tcp_wscale = (int8_t)num(j, "wscale", (uint32_t)-1);
    }
}

/* The answer text as the stack's proposal (read straight from the JSON, the way the schema says);
 * returns 0 for a drop. */
static int proposal_of(enum sp_decision_kind k, enum sp_llm_format f, const char *text, struct sp_decision_proposal *p,
                       uint8_t *frame)
{
    static const char *const actions[] = {"drop", "reply", "syn_ack", "ack", "rst"};
    cJSON *j = cJSON_Parse(text);
    const char *act = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "action"));
    int found = -1;
    assert_non_null(act);
    memset(p, 0, sizeof *p);
    p->tcp_wscale = -1;
    p->icmp_ip_ident = -1;
    p->icmp_df = -1;
    for (int i = 0; i < 5; i++)
        if (strcmp(act, actions[i]) == 0) found = i;
    assert_true(found >= 0);
    p->action = (enum sp_proposal_action)found; /* the same order as sp_proposal_action */
    if (k == SP_DECISION_TCP)
        p->next_state = hs_state(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "next_state")));
    if (found && f == SP_LLM_FMT_RAW) {
        long n = sp_llm_hex_decode(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "frame_hex")), frame,
                                   SP_DECISION_MAX_PACKET);
        assert_true(n > 0);
        p->raw = true;
        p->raw_bytes = frame;
        p->raw_len = (size_t)n;
    } else if (found) {
        structured_fields(k, j, p);
    }
    cJSON_Delete(j);
    return found != 0;
}

/* A drop example must show a situation the rules leave unanswered, or (legal) one the host may
 * ignore: an echo request, an ARP request for us, a SYN in LISTEN or at a closed port. */
static void drop_is_right(const struct sp_decision_request *r)
{
    if (r->authority == SP_AUTHORITY_LEGAL && r->kind != SP_DECISION_TCP)
        return;
    if (r->authority == SP_AUTHORITY_LEGAL && (r->tcp.flags & (SP_TCP_SYN | SP_TCP_ACK)) == SP_TCP_SYN &&
        (r->hs_state == SP_HS_LISTEN || r->hs_state == SP_HS_CLOSED))
        return;
    switch (r->kind) {
    case SP_DECISION_ICMP:
        assert_true(r->icmp.type != SP_ICMP_ECHO_REQUEST || r->ip.dst != r->our_ip);
        break;
    case SP_DECISION_ARP:
        assert_true(r->arp.op != SP_ARP_OP_REQUEST || r->arp.tpa != r->our_ip);
        break;
    default:
        assert_true(r->tcp.flags & SP_TCP_RST);
        break;
    }
}

/* Every example's answer, in every format and authority, is one the stack's validator accepts
 * (legal ones with the choices they show), or a drop the rules allow. */
static void test_examples_pass_the_validator(void **state)
{
    struct sp_llm_example *ex = test_malloc(sizeof *ex);
    char *user = test_malloc(SP_LLM_PROMPT_MAX), st[256];
    uint8_t frame[SP_DECISION_MAX_PACKET];
    unsigned replies = 0, drops = 0, departed = 0;
    (void)state;
    for (int au = 0; au < SP_LLM_AUTHORITIES; au++)
        for (int k = 0; k < SP_DECISION_KINDS; k++)
            for (int f = 0; f < SP_LLM_FMT_COUNT; f++)
                for (unsigned i = 0; i < 6 * sp_llm_example_count(KIND(k), AUTH(au)); i++) {
                    struct sp_llm_sim_reply r;
                    struct sp_decision_proposal p;
                    sp_llm_example_fill(KIND(k), AUTH(au), i, ex);
                    assert_int_equal(ex->req.authority, au);
                    assert_true(sp_llm_prompt_state(&ex->req, NULL, st, sizeof st) > 0);
                    assert_true(sp_llm_prompt_user(&ex->req, FMT(f), st, user, SP_LLM_PROMPT_MAX) > 0);
                    assert_int_equal(sp_llm_example_answer(ex, user, &r), 0);
                    assert_true(r.deviations == 0 || au == SP_AUTHORITY_LEGAL);
                    departed += r.deviations != 0;
                    if (proposal_of(KIND(k), FMT(f), r.text, &p, frame)) {
                        enum sp_verdict v = sp_validate_proposal(&ex->req, &p);
                        if (v != SP_VERDICT_VALID)
                            fail_msg("%s %s example %u (%s): %s for %s", sp_authority_name(AUTH(au)),
                                     sp_decision_kind_name(KIND(k)), i, ex->title, sp_verdict_name(v), r.text);
                        replies++;
                    } else {
                        drop_is_right(&ex->req);
                        drops++;
                    }
                    sp_llm_sim_reply_free(&r);
                }
    assert_true(replies > drops);
    assert_true(drops > 0);
    assert_true(departed > 0);
    test_free(user);
    test_free(ex);
}

/* --- The request bodies carry the prefix unchanged ---------------------------------------- */

static char *body_without_messages(const char *body)
{
    cJSON *j = cJSON_Parse(body);
    char *s;
    assert_true(cJSON_IsObject(j));
    cJSON_DeleteItemFromObject(j, "messages");
    s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return s;
}

static size_t common_prefix(const char *a, const char *b)
{
    size_t n = 0;
    while (a[n] && a[n] == b[n]) n++;
    return n;
}

static void test_bodies_carry_identical_prefix(void **state)
{
    char u[2][SP_LLM_PROMPT_MAX];
    struct sp_llm_wire w[2][2];
    (void)state;
    sp_test_example_user(SP_DECISION_TCP, SP_LLM_FMT_STRUCTURED, 0, u[0], sizeof u[0]);
    sp_test_example_user(SP_DECISION_TCP, SP_LLM_FMT_STRUCTURED, 1, u[1], sizeof u[1]);
    const struct sp_llm_prefix *px = sp_llm_prefix_for(SP_DECISION_TCP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT);
    for (int i = 0; i < 2; i++) {
        struct sp_llm_prompt p;
        sp_llm_prompt_for(&p, SP_DECISION_TCP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT, u[i]);
        assert_int_equal(sp_llm_provider_anthropic.build("http://127.0.0.1:1", "m", "k", &p, &w[0][i]), 0);
        assert_int_equal(sp_llm_provider_openai.build("http://127.0.0.1:1/v1", "m", NULL, &p, &w[1][i]), 0);
    }
    /* Anthropic: the system block is the prefix, marked for caching; the tool (rendered before it)
     * is the schema; the bodies agree everywhere but in the user message */
    cJSON *a = cJSON_Parse(w[0][0].body);
    const cJSON *blk = cJSON_GetArrayItem(cJSON_GetObjectItem(a, "system"), 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(blk, "text")), px->system);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(blk, "cache_control"), "type")),
                        "ephemeral");
    char *schema = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(a, "tools"), 0),
                                                              "input_schema"));
    assert_string_equal(schema, px->schema); /* what llm-sim counts is what we estimated */
    cJSON_free(schema);
    cJSON_Delete(a);
    /* OpenAI: the system message is the prefix, the schema is in response_format */
    cJSON *o = cJSON_Parse(w[1][0].body);
    const cJSON *m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "messages"), 0);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(m0, "content")), px->system);
    cJSON_Delete(o);
    for (int prov = 0; prov < 2; prov++) {
        char *x = body_without_messages(w[prov][0].body), *y = body_without_messages(w[prov][1].body);
        assert_string_equal(x, y);
        cJSON_free(x);
        cJSON_free(y);
        /* byte for byte: the bodies agree from the start through the whole system prompt */
        const char *sys_end = strstr(w[prov][0].body, "Why: ");
        assert_non_null(sys_end);
        assert_true(common_prefix(w[prov][0].body, w[prov][1].body) > (size_t)(sys_end - w[prov][0].body));
        assert_true(common_prefix(w[prov][0].body, w[prov][1].body) > px->system_len);
        sp_llm_wire_free(&w[prov][0]);
        sp_llm_wire_free(&w[prov][1]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prefix_static_and_separate),
        cmocka_unit_test(test_prefix_reproducible),
        cmocka_unit_test(test_prefix_reaches_minimum),
        cmocka_unit_test(test_prefix_content),
        cmocka_unit_test(test_legal_examples_show_choices),
        cmocka_unit_test(test_examples_pass_the_validator),
        cmocka_unit_test(test_bodies_carry_identical_prefix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
