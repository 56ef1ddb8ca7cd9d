/* The per-flow context cache: budget bound, LRU order, TTL expiry, byte accounting, the K ring,
 * and 100k flows (whose memory use this test prints). */
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slowpath/llm/cache.h"
#include "slowpath/llm/error.h"

static struct sp_llm_flow_key key_n(uint32_t n)
{
    uint8_t a[4] = {10, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n}, b[4] = {10, 0, 0, 1};
    return sp_llm_flow_key_tcp(a, (uint16_t)(1024 + n % 50000), b, 80);
}

static uint64_t accounted(sp_llm_cache *c, uint32_t upto)
{
    uint64_t sum = 0;
    for (uint32_t i = 0; i < upto; i++) {
        struct sp_llm_flow_key k = key_n(i);
        const struct sp_llm_flow *f = sp_llm_cache_get(c, &k, 0);
        if (f) sum += sp_llm_flow_bytes(f);
    }
    return sum;
}

static void test_keys_distinct(void **state)
{
    uint8_t a[4] = {10, 0, 0, 2}, b[4] = {10, 0, 0, 1};
    struct sp_llm_flow_key t = sp_llm_flow_key_tcp(a, 1000, b, 80), i = sp_llm_flow_key_icmp(a, b, 1000),
                           r = sp_llm_flow_key_arp(a);
    sp_llm_cache c;
    (void)state;
    assert_int_equal(sizeof t, 16);
    assert_int_equal(sp_llm_cache_init(&c, NULL), 0);
    assert_int_equal(sp_llm_cache_set_summary(&c, &t, "tcp", 1), 0);
    assert_int_equal(sp_llm_cache_set_summary(&c, &i, "icmp", 1), 0);
    assert_int_equal(sp_llm_cache_set_summary(&c, &r, "arp", 1), 0);
    assert_string_equal(sp_llm_flow_summary(sp_llm_cache_get(&c, &t, 2)), "tcp");
    assert_string_equal(sp_llm_flow_summary(sp_llm_cache_get(&c, &i, 2)), "icmp");
    assert_string_equal(sp_llm_flow_summary(sp_llm_cache_get(&c, &r, 2)), "arp");
    assert_memory_equal(sp_llm_flow_key_of(sp_llm_cache_get(&c, &t, 2)), &t, sizeof t);
    sp_llm_cache_free(&c);
}

static void test_ring_of_k_and_state_json(void **state)
{
    sp_llm_cache c;
    struct sp_llm_cache_opts o = {0, 0, 3};
    struct sp_llm_flow_key k = key_n(1);
    const struct sp_llm_flow *f;
    const char *q, *a;
    char qs[16], as[16], *json;
    (void)state;
    assert_int_equal(sp_llm_cache_init(&c, &o), 0);
    for (int i = 0; i < 5; i++) {
        snprintf(qs, sizeof qs, "q%d", i);
        snprintf(as, sizeof as, "a%d", i);
        assert_int_equal(sp_llm_cache_add_exchange(&c, &k, qs, as, 10), 0);
    }
    sp_llm_cache_set_summary(&c, &k, "state \"LISTEN\"", 10);
    f = sp_llm_cache_get(&c, &k, 11);
    assert_int_equal(sp_llm_flow_exchanges(f), 3);
    assert_int_equal(sp_llm_flow_exchange(f, 0, &q, &a), 0);
    assert_string_equal(q, "q2");
    assert_string_equal(a, "a2");
    sp_llm_flow_exchange(f, 2, &q, &a);
    assert_string_equal(q, "q4");
    assert_int_equal(sp_llm_flow_exchange(f, 3, &q, &a), SP_LLM_EINVAL);
    json = sp_llm_flow_state_json(f);
    assert_string_equal(json, "{\"summary\":\"state \\\"LISTEN\\\"\",\"recent\":[{\"q\":\"q2\",\"a\":\"a2\"},"
                              "{\"q\":\"q3\",\"a\":\"a3\"},{\"q\":\"q4\",\"a\":\"a4\"}]}");
    free(json);
    sp_llm_cache_free(&c);
}

static void test_byte_accounting(void **state)
{
    sp_llm_cache c;
    struct sp_llm_cache_stats s;
    struct sp_llm_flow_key k = key_n(7);
    size_t base;
    (void)state;
    assert_int_equal(sp_llm_cache_init(&c, NULL), 0);
    assert_int_equal(sp_llm_cache_set_summary(&c, &k, "", 0), 0);
    sp_llm_cache_stats(&c, &s);
    base = s.bytes - 1; /* entry + ring, plus the empty summary's NUL */
    assert_int_equal(sp_llm_cache_set_summary(&c, &k, "12345", 0), 0);
    sp_llm_cache_stats(&c, &s);
    assert_int_equal(s.bytes, base + 6);
    assert_int_equal(sp_llm_cache_add_exchange(&c, &k, "abc", "de", 0), 0);
    sp_llm_cache_stats(&c, &s);
    assert_int_equal(s.bytes, base + 6 + 4 + 3);
    assert_int_equal(sp_llm_flow_bytes(sp_llm_cache_get(&c, &k, 0)), s.bytes);
    assert_int_equal(sp_llm_cache_set_summary(&c, &k, "1", 0), 0);
    sp_llm_cache_stats(&c, &s);
    assert_int_equal(s.bytes, base + 2 + 7);
    for (uint32_t i = 100; i < 200; i++) {
        struct sp_llm_flow_key kk = key_n(i);
        sp_llm_cache_add_exchange(&c, &kk, "question", "answer", 0);
    }
    sp_llm_cache_stats(&c, &s);
    assert_int_equal(s.flows, 101);
    assert_int_equal(s.bytes, base + 9 + 100 * (base + 16));
    assert_int_equal(sp_llm_cache_remove(&c, &k), 0);
    assert_int_equal(sp_llm_cache_remove(&c, &k), SP_LLM_EINVAL);
    for (uint32_t i = 100; i < 200; i++) {
        struct sp_llm_flow_key kk = key_n(i);
        assert_int_equal(sp_llm_cache_remove(&c, &kk), 0);
    }
    sp_llm_cache_stats(&c, &s);
    assert_int_equal(s.bytes, 0);
    assert_int_equal(s.flows, 0);
    sp_llm_cache_free(&c);
}

static void test_budget_and_lru_order(void **state)
{
    sp_llm_cache c;
    struct sp_llm_cache_stats s;
    struct sp_llm_cache_opts o = {0, 0, 2};
    struct sp_llm_flow_key k[5];
    size_t per;
    (void)state;
    for (int i = 0; i < 5; i++) k[i] = key_n((uint32_t)i);
    /* measure one flow, then allow exactly three */
    assert_int_equal(sp_llm_cache_init(&c, &o), 0);
    sp_llm_cache_set_summary(&c, &k[0], "0123456789", 0);
    sp_llm_cache_stats(&c, &s);
    per = s.bytes;
    sp_llm_cache_free(&c);
    o.budget_bytes = 3 * per;
    assert_int_equal(sp_llm_cache_init(&c, &o), 0);
    for (int i = 0; i < 3; i++) assert_int_equal(sp_llm_cache_set_summary(&c, &k[i], "0123456789", 1), 0);
    assert_non_null(sp_llm_cache_get(&c, &k[0], 2)); /* 0 becomes most recent: 1 is now oldest */
    assert_int_equal(sp_llm_cache_set_summary(&c, &k[3], "0123456789", 3), 0);
    sp_llm_cache_stats(&c, &s);
    assert_int_equal(s.evictions, 1);
    assert_int_equal(s.flows, 3);
    assert_true(s.bytes <= o.budget_bytes);
    assert_null(sp_llm_cache_get(&c, &k[1], 4));
    assert_non_null(sp_llm_cache_get(&c, &k[2], 4));
    assert_non_null(sp_llm_cache_get(&c, &k[0], 4));
    assert_non_null(sp_llm_cache_get(&c, &k[3], 4));
    /* growing one flow evicts the least recent other (2 was touched first above) */
    assert_int_equal(sp_llm_cache_add_exchange(&c, &k[0], "some question", "some answer", 5), 0);
    assert_null(sp_llm_cache_get(&c, &k[2], 6));
    sp_llm_cache_stats(&c, &s);
    assert_true(s.bytes <= o.budget_bytes);
    assert_int_equal(s.hits, 4);
    assert_int_equal(s.misses, 2);
    /* a flow that cannot fit even alone is refused */
    char *huge = malloc(4 * per);
    memset(huge, 'x', 4 * per - 1);
    huge[4 * per - 1] = '\0';
    assert_int_equal(sp_llm_cache_add_exchange(&c, &k[4], huge, "a", 7), SP_LLM_ETOOBIG);
    free(huge);
    /* bad arguments */
    assert_int_equal(sp_llm_cache_set_summary(&c, &k[4], NULL, 7), SP_LLM_EINVAL);
    char big[SP_LLM_CACHE_MAX_SUMMARY + 2];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_int_equal(sp_llm_cache_set_summary(&c, &k[4], big, 7), SP_LLM_EINVAL);
    assert_int_equal(sp_llm_cache_add_exchange(&c, &k[4], "q", NULL, 7), SP_LLM_EINVAL);
    assert_null(sp_llm_cache_get(&c, NULL, 7));
    sp_llm_cache_free(&c);
    o.k = SP_LLM_CACHE_MAX_K + 1;
    assert_int_equal(sp_llm_cache_init(&c, &o), SP_LLM_EINVAL);
}

static void test_ttl(void **state)
{
    sp_llm_cache c;
    struct sp_llm_cache_stats s;
    struct sp_llm_cache_opts o = {0, 1000, 0};
    struct sp_llm_flow_key a = key_n(1), b = key_n(2), d = key_n(3);
    (void)state;
    assert_int_equal(sp_llm_cache_init(&c, &o), 0);
    sp_llm_cache_set_summary(&c, &a, "a", 0);
    sp_llm_cache_set_summary(&c, &b, "b", 500);
    assert_non_null(sp_llm_cache_get(&c, &a, 1000)); /* idle exactly the TTL: still alive */
    assert_int_equal(sp_llm_cache_expire(&c, 1600), 1); /* b idle 1100 */
    assert_null(sp_llm_cache_get(&c, &b, 1600));
    assert_null(sp_llm_cache_get(&c, &a, 2001)); /* idle 1001: expired on lookup */
    sp_llm_cache_stats(&c, &s);
    assert_int_equal(s.expirations, 2);
    assert_int_equal(s.flows, 0);
    assert_int_equal(s.bytes, 0);
    /* inserting expires the idle tail as it goes */
    sp_llm_cache_set_summary(&c, &a, "a", 3000);
    sp_llm_cache_set_summary(&c, &d, "d", 5000);
    sp_llm_cache_stats(&c, &s);
    assert_int_equal(s.flows, 1);
    sp_llm_cache_free(&c);
}

static void test_100k_flows(void **state)
{
    sp_llm_cache c;
    struct sp_llm_cache_stats s;
    struct mallinfo2 m0, m1;
    char summary[96], q[160], a[96];
    (void)state;
    m0 = mallinfo2();
    assert_int_equal(sp_llm_cache_init(&c, NULL), 0);
    for (uint32_t i = 0; i < 100000; i++) {
        struct sp_llm_flow_key k = key_n(i);
        /* realistic sizes: a TCP state summary and two decisions */
        snprintf(summary, sizeof summary, "{\"tcp_state\":\"SYN-RECEIVED\",\"iss\":%u,\"irs\":%u,\"mss\":1460}", i * 7919u, i);
        snprintf(q, sizeof q, "{\"kind\":\"tcp\",\"seq\":%u,\"ack\":0,\"flags\":\"S\",\"window\":64240,\"mss\":1460,\"wscale\":7}", i);
        snprintf(a, sizeof a, "{\"action\":\"syn_ack\",\"seq\":%u,\"ack\":%u,\"window\":65535}", i * 7919u, i + 1);
        assert_int_equal(sp_llm_cache_set_summary(&c, &k, summary, i), 0);
        assert_int_equal(sp_llm_cache_add_exchange(&c, &k, q, a, i), 0);
        assert_int_equal(sp_llm_cache_add_exchange(&c, &k, q, a, i), 0);
    }
    m1 = mallinfo2();
    sp_llm_cache_stats(&c, &s);
    assert_int_equal(s.flows, 100000);
    assert_int_equal(s.evictions, 0);
    assert_true(s.bytes <= SP_LLM_CACHE_DEFAULT_BUDGET);
    for (uint32_t i = 0; i < 100000; i += 7) {
        struct sp_llm_flow_key k = key_n(i);
        assert_non_null(sp_llm_cache_get(&c, &k, 100000));
    }
    assert_int_equal(accounted(&c, 1000) > 0, 1);
    print_message("context cache at 100k flows (K=%d, summary ~60 B, 2 exchanges ~170 B): accounted %llu B "
                  "(%llu B/flow), hash table %llu B, heap in use %llu B (%llu B/flow)\n",
                  SP_LLM_CACHE_DEFAULT_K, (unsigned long long)s.bytes, (unsigned long long)(s.bytes / 100000),
                  (unsigned long long)s.table_bytes, (unsigned long long)(m1.uordblks - m0.uordblks),
                  (unsigned long long)((m1.uordblks - m0.uordblks) / 100000));
    /* a budget below the working set evicts down to it */
    sp_llm_cache_free(&c);
    struct sp_llm_cache_opts o = {s.bytes / 10, 0, 0};
    assert_int_equal(sp_llm_cache_init(&c, &o), 0);
    for (uint32_t i = 0; i < 100000; i++) {
        struct sp_llm_flow_key k = key_n(i);
        snprintf(summary, sizeof summary, "{\"tcp_state\":\"SYN-RECEIVED\",\"iss\":%u,\"irs\":%u,\"mss\":1460}", i * 7919u, i);
        assert_int_equal(sp_llm_cache_set_summary(&c, &k, summary, i), 0);
    }
    sp_llm_cache_stats(&c, &s);
    assert_true(s.bytes <= o.budget_bytes);
    assert_true(s.evictions > 0);
    struct sp_llm_flow_key newest = key_n(99999), oldest = key_n(0);
    assert_non_null(sp_llm_cache_get(&c, &newest, 100000));
    assert_null(sp_llm_cache_get(&c, &oldest, 100000));
    sp_llm_cache_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keys_distinct),
        cmocka_unit_test(test_ring_of_k_and_state_json),
        cmocka_unit_test(test_byte_accounting),
        cmocka_unit_test(test_budget_and_lru_order),
        cmocka_unit_test(test_ttl),
        cmocka_unit_test(test_100k_flows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
