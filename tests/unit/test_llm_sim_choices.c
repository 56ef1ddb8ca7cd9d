/* The sim's choices in legal authority: every value it picks at random is within what the request
 * allows (the RFCs and the limits it carries), refusals and silences come at their rates and only
 * where decide.h makes them answers, the knobs refuse and ignore do what they say, nothing departs
 * in exact authority, the same seed gives the same choices without shifting the faults, and raw
 * answers carry the chosen values in bytes whose checksums are right. */
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
#include "slowpath/llm/sim.h"
#include "slowpath/wire/bytes.h"
#include "slowpath/wire/tcp.h"
#include "support.h"

#define HOST                                                                                      \
    "\"host\":{\"mac\":\"02:00:00:00:00:01\",\"ip\":\"192.0.2.1\",\"ttl\":64,\"mss\":1460,\"window\":65535," \
    "\"wscale\":7}"
#define BIT(d) (1u << SP_DEVIATION_##d)

/* A SYN from 192.0.2.2:40000 (seq 555) to port 80 of ours, window scale offered or not (%s: the
 * packet's wscale, %s: limits.wscale_offered), in an authority and a tcp_state. */
static const char syn_fmt[] =
    "{\"kind\":\"tcp\",\"format\":\"structured\",\"authority\":\"%s\"," HOST ","
    "\"limits\":{\"max_window\":30000,\"max_mss\":1400,\"wscale_offered\":%s},"
    "\"state\":{\"tcp_state\":\"%s\",\"iss\":%s},\"packet\":{\"src\":\"192.0.2.2\",\"dst\":\"192.0.2.1\","
    "\"sport\":40000,\"dport\":80,\"seq\":555,\"ack\":0,\"flags\":\"S\",\"window\":64240,\"mss\":1460,"
    "\"wscale\":%s,\"payload_hex\":\"\"}}";

static const char icmp_fmt[] =
    "{\"kind\":\"icmp\",\"format\":\"structured\",\"authority\":\"%s\"," HOST ",\"limits\":{\"mtu\":1500},\"state\":{},"
    "\"packet\":{\"src\":\"192.0.2.2\",\"dst\":\"192.0.2.1\",\"ttl\":64,\"type\":8,\"code\":0,\"ident\":4660,"
    "\"seq\":9,\"payload_hex\":\"6162\"}}";

static const char arp_legal[] =
    "{\"kind\":\"arp\",\"format\":\"structured\",\"authority\":\"legal\"," HOST ",\"state\":{},"
    "\"packet\":{\"op\":1,\"sender_mac\":\"02:00:00:00:00:02\",\"sender_ip\":\"192.0.2.2\","
    "\"target_mac\":\"00:00:00:00:00:00\",\"target_ip\":\"192.0.2.1\"}}";

/* Our SYN (seq = iss 1000) answered by a SYN-ACK acknowledging 1001: SYN-SENT. */
static const char syn_ack_fmt[] =
    "{\"kind\":\"tcp\",\"format\":\"structured\",\"authority\":\"%s\"," HOST ","
    "\"limits\":{\"max_window\":4000,\"max_mss\":1460,\"wscale_offered\":false},"
    "\"state\":{\"tcp_state\":\"SYN-SENT\",\"iss\":1000},\"packet\":{\"src\":\"192.0.2.2\",\"dst\":\"192.0.2.1\","
    "\"sport\":80,\"dport\":40000,\"seq\":7000,\"ack\":1001,\"flags\":\"SA\",\"window\":64240,\"mss\":1460,"
    "\"wscale\":null,\"payload_hex\":\"\"}}";

static struct sp_llm_sim *sim_new(enum sp_llm_sim_choices c, uint64_t seed, double refuse, double ignore)
{
    struct sp_llm_sim_opts o;
    struct sp_llm_sim *sim = test_malloc(sizeof *sim);
    sp_llm_sim_opts_default(&o);
    o.choices = c;
    o.seed = seed;
    o.refuse_rate = refuse;
    o.ignore_rate = ignore;
    sp_llm_sim_init(sim, &o);
    return sim;
}

/* One answer, parsed; the reply is kept for its account of what was chosen. */
static void ask(struct sp_llm_sim *sim, enum sp_decision_kind k, enum sp_llm_format f, const char *user,
                struct sp_llm_sim_reply *r, struct sp_llm_decision *d)
{
    assert_int_equal(sp_llm_sim_answer(sim, NULL, user, r), 0);
    if (sp_llm_proposal_parse(k, f, r->text, r->len, d) != 0)
        fail_msg("unparsable answer: %s", r->text);
}

static void syn_user(char *u, size_t cap, const char *authority, const char *state, int offered)
{
    snprintf(u, cap, syn_fmt, authority, offered ? "true" : "false", state,
             strcmp(state, "CLOSED") == 0 ? "null" : "1000", offered ? "7" : "null");
}

/* What a legal SYN-ACK to the SYN may be, and what the sim says it chose. */
static void check_syn_ack(const struct sp_decision_proposal *p, const struct sp_llm_sim_reply *r, int offered)
{
    assert_int_equal(p->tcp_ack, 556);
    assert_in_range(p->tcp_window, 1, 30000);
    assert_true(p->tcp_mss == 0 || (p->tcp_mss >= 536 && p->tcp_mss <= 1400));
    assert_true(p->tcp_wscale >= -1 && p->tcp_wscale <= (offered ? 14 : -1));
    assert_int_equal(p->next_state, SP_HS_SYN_RECEIVED);
    assert_int_equal(!!(r->deviations & BIT(ISS)), p->tcp_seq != 1000);
    assert_int_equal(!!(r->deviations & BIT(WINDOW)), p->tcp_window != 65535);
    assert_int_equal(!!(r->deviations & BIT(MSS)), p->tcp_mss != 1460);
    assert_int_equal(r->chosen.iss, p->tcp_seq);
    assert_int_equal(r->chosen.window, p->tcp_window);
    assert_int_equal(r->chosen.mss, p->tcp_mss);
    assert_int_equal(r->chosen.wscale, p->tcp_wscale);
}

static void test_random_syn_answers_are_legal(void **state)
{
    (void)state;
    char user[2048];
    for (int offered = 0; offered < 2; offered++) {
        struct sp_llm_sim *sim = sim_new(SP_LLM_SIM_CHOOSE_RANDOM, 11, 0.1, 0.1);
        unsigned refused = 0, ignored = 0, iss_moved = 0, no_mss = 0, scaled = 0, unscaled = 0, n = 3000;
        uint8_t windows[30001] = {0};
        unsigned distinct = 0;
        syn_user(user, sizeof user, "legal", "LISTEN", offered);
        for (unsigned i = 0; i < n; i++) {
            struct sp_llm_sim_reply r;
            struct sp_llm_decision d;
            const struct sp_decision_proposal *p = &d.proposal;
            ask(sim, SP_DECISION_TCP, SP_LLM_FMT_STRUCTURED, user, &r, &d);
            if (p->action == SP_PROPOSE_SYN_ACK) {
                check_syn_ack(p, &r, offered);
                iss_moved += p->tcp_seq != 1000;
                no_mss += p->tcp_mss == 0;
                scaled += p->tcp_wscale >= 0;
                unscaled += p->tcp_wscale < 0;
                distinct += !windows[p->tcp_window]++;
            } else if (p->action == SP_PROPOSE_RST) { /* a refusal: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK> */
                assert_int_equal(p->tcp_seq, 0);
                assert_int_equal(p->tcp_ack, 556);
                assert_int_equal(p->next_state, SP_HS_LISTEN);
                assert_int_equal(r.deviations, BIT(ACTION));
                refused++;
            } else {
                assert_int_equal(p->action, SP_PROPOSE_DROP);
                assert_int_equal(p->next_state, SP_HS_LISTEN);
                assert_int_equal(r.deviations, BIT(SILENCE));
                ignored++;
            }
            sp_llm_sim_reply_free(&r);
        }
        assert_in_range(refused, 200, 400); /* 10 % of 3000 each */
        assert_in_range(ignored, 200, 400);
        assert_true(iss_moved > n / 2);
        assert_true(distinct > 1000);      /* windows spread over 1..30000 */
        assert_true(no_mss > 0);
        assert_true(unscaled > 0);
        assert_true(offered ? scaled > n / 2 : scaled == 0); /* no scale unless the SYN offered it */
        test_free(sim);
    }
}

static void test_random_icmp_and_arp_answers_are_legal(void **state)
{
    (void)state;
    char user[1024];
    struct sp_llm_sim *sim = sim_new(SP_LLM_SIM_CHOOSE_RANDOM, 5, 0.5, 0.2);
    unsigned drops = 0, ttls = 0, idents = 0, dfs = 0, n = 2000;
    snprintf(user, sizeof user, icmp_fmt, "legal");
    for (unsigned i = 0; i < n; i++) {
        struct sp_llm_sim_reply r;
        struct sp_llm_decision d;
        const struct sp_decision_proposal *p = &d.proposal;
        ask(sim, SP_DECISION_ICMP, SP_LLM_FMT_STRUCTURED, user, &r, &d);
        if (p->action == SP_PROPOSE_DROP) {
            assert_int_equal(r.deviations, BIT(SILENCE));
            drops++;
        } else {
            /* what echoes the request never moves; the refuse rate has nothing to refuse here */
            assert_int_equal(p->icmp_dst, 0xc0000202);
            assert_int_equal(p->icmp_ident, 4660);
            assert_int_equal(p->icmp_seq, 9);
            assert_in_range(p->icmp_ttl, 1, 255);
            assert_true(p->icmp_ip_ident >= -1 && p->icmp_ip_ident <= 65535); /* -1: null */
            assert_true(p->icmp_df >= -1 && p->icmp_df <= 1);
            assert_int_equal(!!(r.deviations & BIT(TTL)), p->icmp_ttl != 64);
            assert_int_equal(!!(r.deviations & BIT(IP_IDENT)), p->icmp_ip_ident >= 0);
            assert_int_equal(!!(r.deviations & BIT(DF)), p->icmp_df >= 0);
            assert_int_equal(r.chosen.ttl, p->icmp_ttl);
            ttls += p->icmp_ttl != 64;
            idents += p->icmp_ip_ident >= 0;
            dfs += p->icmp_df == 0;
        }
        sp_llm_sim_reply_free(&r);
    }
    assert_in_range(drops, 300, 500);
    assert_true(ttls > n / 2 && idents > n / 2 && dfs > n / 5);
    drops = 0;
    for (unsigned i = 0; i < n; i++) {
        struct sp_llm_sim_reply r;
        struct sp_llm_decision d;
        const struct sp_decision_proposal *p = &d.proposal;
        ask(sim, SP_DECISION_ARP, SP_LLM_FMT_STRUCTURED, arp_legal, &r, &d);
        if (p->action == SP_PROPOSE_DROP) {
            drops++;
        } else { /* nothing of an ARP reply is the model's to choose */
            assert_int_equal(r.deviations, 0);
            assert_int_equal(p->arp.spa, 0xc0000201);
            assert_int_equal(p->arp.tpa, 0xc0000202);
            assert_memory_equal(p->arp.sha.b, "\x02\x00\x00\x00\x00\x01", 6);
            assert_memory_equal(p->arp.tha.b, "\x02\x00\x00\x00\x00\x02", 6);
        }
        sp_llm_sim_reply_free(&r);
    }
    assert_in_range(drops, 300, 500);
    test_free(sim);
}

/* Exact authority never departs, whatever the sim is told to choose; legal with native choices
 * gives the same answers as exact. */
/* The ACK ending our own open: only its window is ours (1..max_window), or a refusal. */
static void test_random_ack_answers_are_legal(void **state)
{
    (void)state;
    char user[2048];
    struct sp_llm_sim *sim = sim_new(SP_LLM_SIM_CHOOSE_RANDOM, 8, 0.1, 0.5);
    unsigned refused = 0, moved = 0;
    snprintf(user, sizeof user, syn_ack_fmt, "legal");
    for (int i = 0; i < 1000; i++) {
        struct sp_llm_sim_reply r;
        struct sp_llm_decision d;
        const struct sp_decision_proposal *p = &d.proposal;
        ask(sim, SP_DECISION_TCP, SP_LLM_FMT_STRUCTURED, user, &r, &d);
        assert_true(p->action != SP_PROPOSE_DROP); /* never ignored, whatever the rate */
        if (p->action == SP_PROPOSE_RST) {
            assert_int_equal(p->tcp_seq, 1001);
            assert_int_equal(p->next_state, SP_HS_CLOSED);
            refused++;
        } else {
            assert_int_equal(p->action, SP_PROPOSE_ACK);
            assert_int_equal(p->tcp_seq, 1001);
            assert_int_equal(p->tcp_ack, 7001);
            assert_in_range(p->tcp_window, 1, 4000);
            assert_int_equal(!!(r.deviations & BIT(WINDOW)), p->tcp_window != 65535);
            moved += p->tcp_window != 65535;
        }
        sp_llm_sim_reply_free(&r);
    }
    assert_in_range(refused, 50, 150);
    assert_true(moved > 800);
    test_free(sim);
}

/* DF only on a reply that fits the link: a 2000-byte echo (reassembled) never gets it. */
static void test_df_only_when_it_fits(void **state)
{
    (void)state;
    size_t n = 2000;
    char *user = test_malloc(2 * n + 1024), *hex = test_malloc(2 * n + 1);
    struct sp_llm_sim *sim = sim_new(SP_LLM_SIM_CHOOSE_RANDOM, 4, 0, 0);
    unsigned cleared = 0;
    for (size_t i = 0; i < n; i++) sprintf(hex + 2 * i, "%02x", (unsigned)(i & 0xff));
    snprintf(user, 2 * n + 1024,
             "{\"kind\":\"icmp\",\"format\":\"structured\",\"authority\":\"legal\"," HOST ",\"limits\":{\"mtu\":1500},"
             "\"state\":{},\"packet\":{\"src\":\"192.0.2.2\",\"dst\":\"192.0.2.1\",\"ttl\":64,\"type\":8,\"code\":0,"
             "\"ident\":1,\"seq\":2,\"payload_hex\":\"%s\"}}", hex);
    for (int i = 0; i < 200; i++) {
        struct sp_llm_sim_reply r;
        struct sp_llm_decision d;
        ask(sim, SP_DECISION_ICMP, SP_LLM_FMT_STRUCTURED, user, &r, &d);
        assert_true(d.proposal.icmp_df != 1);
        cleared += d.proposal.icmp_df == 0;
        sp_llm_sim_reply_free(&r);
    }
    assert_true(cleared > 50);
    test_free(sim);
    test_free(user);
    test_free(hex);
}

static void test_exact_never_departs(void **state)
{
    (void)state;
    char syn_e[2048], syn_l[2048], icmp_e[1024], icmp_l[1024];
    syn_user(syn_e, sizeof syn_e, "exact", "LISTEN", 1);
    syn_user(syn_l, sizeof syn_l, "legal", "LISTEN", 1);
    snprintf(icmp_e, sizeof icmp_e, icmp_fmt, "exact");
    snprintf(icmp_l, sizeof icmp_l, icmp_fmt, "legal");
    for (int c = 0; c < SP_LLM_SIM_CHOICES_COUNT; c++) {
        struct sp_llm_sim *sim = sim_new((enum sp_llm_sim_choices)c, 3, 1.0, 1.0);
        struct sp_llm_sim *native = sim_new(SP_LLM_SIM_CHOOSE_NATIVE, 3, 0, 0);
        for (int i = 0; i < 50; i++) {
            struct sp_llm_sim_reply r, n;
            assert_int_equal(sp_llm_sim_answer(sim, NULL, i % 2 ? syn_e : icmp_e, &r), 0);
            assert_int_equal(sp_llm_sim_answer(native, NULL, i % 2 ? syn_l : icmp_l, &n), 0);
            assert_string_equal(r.text, n.text);
            assert_int_equal(r.deviations, 0);
            assert_int_equal(n.deviations, 0);
            sp_llm_sim_reply_free(&r);
            sp_llm_sim_reply_free(&n);
        }
        test_free(sim);
        test_free(native);
    }
}

/* The same seed chooses the same; another seed chooses otherwise; choosing never changes which
 * answers get a fault. */
static void test_choices_seeded(void **state)
{
    (void)state;
    char user[2048];
    struct sp_llm_sim *a = sim_new(SP_LLM_SIM_CHOOSE_RANDOM, 42, 0, 0);
    struct sp_llm_sim *b = sim_new(SP_LLM_SIM_CHOOSE_RANDOM, 42, 0, 0);
    struct sp_llm_sim *c = sim_new(SP_LLM_SIM_CHOOSE_RANDOM, 43, 0, 0);
    struct sp_llm_sim *n = sim_new(SP_LLM_SIM_CHOOSE_NATIVE, 42, 0, 0);
    unsigned differ = 0;
    a->opts.error_rate = b->opts.error_rate = c->opts.error_rate = n->opts.error_rate = 0.3;
    syn_user(user, sizeof user, "legal", "LISTEN", 1);
    for (int i = 0; i < 500; i++) {
        struct sp_llm_sim_reply ra, rb, rc, rn;
        assert_int_equal(sp_llm_sim_answer(a, NULL, user, &ra), 0);
        assert_int_equal(sp_llm_sim_answer(b, NULL, user, &rb), 0);
        assert_int_equal(sp_llm_sim_answer(c, NULL, user, &rc), 0);
        assert_int_equal(sp_llm_sim_answer(n, NULL, user, &rn), 0);
        assert_string_equal(ra.text, rb.text);
        assert_int_equal(ra.chosen.iss, rb.chosen.iss);
        differ += ra.chosen.iss != rc.chosen.iss;
        assert_int_equal(ra.fault, rn.fault);
        sp_llm_sim_reply_free(&ra);
        sp_llm_sim_reply_free(&rb);
        sp_llm_sim_reply_free(&rc);
        sp_llm_sim_reply_free(&rn);
    }
    assert_true(differ > 490);
    test_free(a);
    test_free(b);
    test_free(c);
    test_free(n);
}

static void expect(struct sp_llm_sim *sim, enum sp_decision_kind k, const char *user, enum sp_proposal_action action,
                   enum sp_hs_state next, uint32_t seq, uint32_t ack)
{
    struct sp_llm_sim_reply r;
    struct sp_llm_decision d;
    ask(sim, k, SP_LLM_FMT_STRUCTURED, user, &r, &d);
    if (d.proposal.action != action)
        fail_msg("want %s, got %s", sp_proposal_action_name(action), r.text);
    if (k == SP_DECISION_TCP) {
        assert_int_equal(d.proposal.next_state, next);
        if (action != SP_PROPOSE_DROP) {
            assert_int_equal(d.proposal.tcp_seq, seq);
            assert_int_equal(d.proposal.tcp_ack, ack);
        }
    }
    sp_llm_sim_reply_free(&r);
}

/* The deterministic knobs, and the closed port's native reset (RFC 9293 3.10.7.1). */
static void test_refuse_and_ignore_knobs(void **state)
{
    (void)state;
    char syn[2048], closed[2048], closed_e[2048], sa[1024], icmp[1024];
    struct sp_llm_sim *refuse = sim_new(SP_LLM_SIM_CHOOSE_REFUSE, 1, 0, 0);
    struct sp_llm_sim *ignore = sim_new(SP_LLM_SIM_CHOOSE_IGNORE, 1, 0, 0);
    syn_user(syn, sizeof syn, "legal", "LISTEN", 1);
    syn_user(closed, sizeof closed, "legal", "CLOSED", 1);
    syn_user(closed_e, sizeof closed_e, "exact", "CLOSED", 1);
    snprintf(sa, sizeof sa, syn_ack_fmt, "legal");
    snprintf(icmp, sizeof icmp, icmp_fmt, "legal");
    expect(refuse, SP_DECISION_TCP, syn, SP_PROPOSE_RST, SP_HS_LISTEN, 0, 556);
    expect(refuse, SP_DECISION_TCP, sa, SP_PROPOSE_RST, SP_HS_CLOSED, 1001, 0);
    expect(refuse, SP_DECISION_TCP, closed, SP_PROPOSE_RST, SP_HS_CLOSED, 0, 556);
    expect(refuse, SP_DECISION_ICMP, icmp, SP_PROPOSE_REPLY, SP_HS_CLOSED, 0, 0); /* nothing to refuse */
    expect(ignore, SP_DECISION_TCP, syn, SP_PROPOSE_DROP, SP_HS_LISTEN, 0, 0);
    expect(ignore, SP_DECISION_TCP, closed, SP_PROPOSE_DROP, SP_HS_CLOSED, 0, 0);
    expect(ignore, SP_DECISION_TCP, sa, SP_PROPOSE_ACK, SP_HS_ESTABLISHED, 1001, 7001); /* may not be ignored */
    expect(ignore, SP_DECISION_ICMP, icmp, SP_PROPOSE_DROP, SP_HS_CLOSED, 0, 0);
    expect(ignore, SP_DECISION_ARP, arp_legal, SP_PROPOSE_DROP, SP_HS_CLOSED, 0, 0);
    expect(ignore, SP_DECISION_TCP, closed_e, SP_PROPOSE_RST, SP_HS_CLOSED, 0, 556); /* exact: the reset */
    test_free(refuse);
    test_free(ignore);
}

static uint16_t csum(const uint8_t *b, size_t n, uint32_t sum)
{
    for (size_t i = 0; i + 1 < n; i += 2) sum += (uint32_t)(b[i] << 8 | b[i + 1]);
    if (n & 1) sum += (uint32_t)b[n - 1] << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint32_t pseudo(const uint8_t *ip, uint16_t len)
{
    uint32_t s = 0;
    for (int i = 12; i < 20; i += 2) s += (uint32_t)(ip[i] << 8 | ip[i + 1]);
    return s + SP_IP_PROTO_TCP + len;
}

static void hex_of(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", b[i]);
}

/* The raw SYN of syn_fmt, checksums filled in. */
static size_t raw_syn(uint8_t *syn)
{
    static const char syn_hex[] = "450000300000400040060000c0000202c0000201"
                                  "9c400050" "0000022b" "00000000" "7002faf0" "0000" "0000"
                                  "020405b4" "01030307";
    assert_int_equal(sp_test_hex(syn_hex, syn, 64), 48);
    sp_put16(syn + 10, csum(syn, 20, 0));
    sp_put16(syn + 36, csum(syn + 20, 28, pseudo(syn, 28)));
    return 48;
}

/* Raw answers carry the chosen values at their offsets, with checksums that verify. */
static void test_raw_bytes_carry_the_choices(void **state)
{
    (void)state;
    uint8_t syn[64], f[SP_DECISION_MAX_PACKET];
    char hex[200], user[2048];
    static const char echo_hex[] = "45000020abcd000040014b0cc0000202c0000201" "0800210412340001" "61626364";
    struct sp_llm_sim *sim = sim_new(SP_LLM_SIM_CHOOSE_RANDOM, 9, 0.1, 0.1);
    unsigned refused = 0, accepted = 0;
    hex_of(syn, raw_syn(syn), hex);
    snprintf(user, sizeof user,
             "{\"kind\":\"tcp\",\"format\":\"raw\",\"authority\":\"legal\"," HOST ",\"limits\":{\"max_window\":"
             "30000,\"max_mss\":1400,\"wscale_offered\":true},\"state\":{\"tcp_state\":\"LISTEN\",\"iss\":1000},"
             "\"packet_hex\":\"%s\"}", hex);
    for (int i = 0; i < 300; i++) {
        struct sp_llm_sim_reply r;
        struct sp_llm_decision d;
        ask(sim, SP_DECISION_TCP, SP_LLM_FMT_RAW, user, &r, &d);
        if (d.proposal.action == SP_PROPOSE_DROP) {
            sp_llm_sim_reply_free(&r);
            continue;
        }
        size_t n = d.proposal.raw_len, tl = n - 20;
        memcpy(f, d.proposal.raw_bytes, n);
        assert_int_equal(csum(f, 20, 0), 0);
        assert_int_equal(csum(f + 20, tl, pseudo(f, (uint16_t)tl)), 0);
        assert_int_equal(sp_get32(f + 24), r.chosen.iss);
        if (f[33] == (SP_TCP_RST | SP_TCP_ACK)) {
            assert_int_equal(sp_get32(f + 24), 0);
            assert_int_equal(sp_get32(f + 28), 556);
            assert_int_equal(tl, 20);
            refused++;
        } else {
            assert_int_equal(f[33], SP_TCP_SYN | SP_TCP_ACK);
            assert_int_equal(sp_get32(f + 28), 556);
            assert_int_equal(sp_get16(f + 34), r.chosen.window);
            assert_int_equal(tl, 20 + (r.chosen.mss ? 4 : 0) + (r.chosen.wscale >= 0 ? 4 : 0));
            if (r.chosen.mss) assert_int_equal(sp_get16(f + 42), r.chosen.mss);
            if (r.chosen.wscale >= 0) assert_int_equal(f[n - 1], r.chosen.wscale);
            accepted++;
        }
        sp_llm_sim_reply_free(&r);
    }
    assert_true(refused > 10 && accepted > 200);
    snprintf(user, sizeof user, "{\"kind\":\"icmp\",\"format\":\"raw\",\"authority\":\"legal\"," HOST ",\"state\":{},"
                                "\"packet_hex\":\"%s\"}", echo_hex);
    for (int i = 0; i < 300; i++) {
        struct sp_llm_sim_reply r;
        struct sp_llm_decision d;
        ask(sim, SP_DECISION_ICMP, SP_LLM_FMT_RAW, user, &r, &d);
        if (d.proposal.action == SP_PROPOSE_REPLY) {
            memcpy(f, d.proposal.raw_bytes, d.proposal.raw_len);
            assert_int_equal(csum(f, 20, 0), 0);
            assert_int_equal(csum(f + 20, d.proposal.raw_len - 20, 0), 0);
            assert_int_equal(f[8], r.chosen.ttl);
            if (r.deviations & BIT(IP_IDENT)) assert_int_equal(sp_get16(f + 4), r.chosen.ip_ident);
            if (r.deviations & BIT(DF)) assert_int_equal(!!(f[6] & 0x40), r.chosen.df);
            assert_memory_equal(f + 24, "\x12\x34\x00\x01" "abcd", 8); /* ident, seq, data echoed */
        }
        sp_llm_sim_reply_free(&r);
    }
    test_free(sim);
}

static void test_names(void **state)
{
    (void)state;
    enum sp_llm_sim_choices c;
    for (int i = 0; i < SP_LLM_SIM_CHOICES_COUNT; i++) {
        assert_int_equal(sp_llm_sim_choices_parse(sp_llm_sim_choices_name((enum sp_llm_sim_choices)i), &c), 0);
        assert_int_equal(c, i);
    }
    assert_int_equal(sp_llm_sim_choices_parse("Random", &c), SP_LLM_EINVAL);
    assert_int_equal(sp_llm_sim_choices_parse(NULL, &c), SP_LLM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random_syn_answers_are_legal),
        cmocka_unit_test(test_random_icmp_and_arp_answers_are_legal),
        cmocka_unit_test(test_random_ack_answers_are_legal),
        cmocka_unit_test(test_df_only_when_it_fits),
        cmocka_unit_test(test_exact_never_departs),
        cmocka_unit_test(test_choices_seeded),
        cmocka_unit_test(test_refuse_and_ignore_knobs),
        cmocka_unit_test(test_raw_bytes_carry_the_choices),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
