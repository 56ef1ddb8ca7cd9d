/* The daemon's metrics page (apps/slowpath/metrics_text.c) on an interface of its own: every
 * family typed before its samples, one sample per drop reason and per stack counter, the values
 * the stack holds, and the LLM series at 0 without a model. */
#include "iface_harness.h"
#include "metrics_text.h"

static unsigned count_lines(const char *text, const char *prefix)
{
    unsigned n = 0;
    size_t pl = strlen(prefix);
    for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (strncmp(l, prefix, pl) == 0)
            n++;
    return n;
}

static char *render(struct harness *h)
{
    struct app_buf b = {0};
    struct app_metrics_src src = {.iface = h->iface, .version = "1.2.3"};
    app_metrics_render(&src, &b);
    assert_false(b.failed);
    assert_true(b.len > 0 && b.p[b.len - 1] == '\n');
    return b.p;
}

static void test_page_follows_the_counters(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    size_t n = h_ping(f, H_IP_PEER, H_IP_US, 7, 1, (const uint8_t *)"abcd", 4);
    h_rx(h, 2000, f, n);
    h_drain(h);
    const struct sp_stats *st = sp_iface_stats(h->iface);
    char *page = render(h);
    char want[128];
    snprintf(want, sizeof want, "\nslowpath_frames_received_total %llu\n", (unsigned long long)st->v[SP_STAT_rx_frames]);
    assert_non_null(strstr(page, want));
    snprintf(want, sizeof want, "\nslowpath_sent_bytes_total %llu\n", (unsigned long long)st->v[SP_STAT_tx_bytes]);
    assert_non_null(strstr(page, want));
    assert_non_null(strstr(page, "\nslowpath_stack_events_total{event=\"icmp_echo_tx\"} 1\n"));
    assert_non_null(strstr(page, "\nslowpath_build_info{version=\"1.2.3\"} 1\n"));
    assert_non_null(strstr(page, "\nslowpath_neighbour_cache_entries 1\n"));

    unsigned drops = 0, others = 0;
    for (int i = 0; i < SP_STAT_COUNT; i++)
        if (strncmp(sp_stat_name((enum sp_stat)i), "drop_", 5) == 0)
            drops++;
        else
            others++;
    assert_int_equal(count_lines(page, "slowpath_drops_total{reason=\""), drops);
    assert_int_equal(count_lines(page, "slowpath_stack_events_total{event=\""), others - 4); /* frames, bytes */
    /* No model: the histogram is there, empty, per kind. */
    assert_int_equal(count_lines(page, "slowpath_decision_latency_seconds_bucket{kind=\"icmp\""),
                     SP_LLM_LATENCY_BUCKETS + 1);
    assert_non_null(strstr(page, "\nslowpath_decision_latency_seconds_count{kind=\"tcp\"} 0\n"));
    assert_non_null(strstr(page, "\nslowpath_llm_asks_total 0\n"));
    /* Each family: HELP, TYPE, then its samples, and a counter ends in _total. */
    unsigned helps = count_lines(page, "# HELP "), types = count_lines(page, "# TYPE ");
    assert_int_equal(helps, types);
    for (const char *l = strstr(page, "# TYPE "); l; l = strstr(l + 1, "# TYPE ")) {
        char name[96], type[16];
        assert_int_equal(sscanf(l, "# TYPE %95s %15s", name, type), 2);
        if (strcmp(type, "counter") == 0)
            assert_non_null(strstr(name, "_total"));
        const char *next = strchr(l, '\n') + 1;
        assert_int_equal(strncmp(next, name, strlen(name)), 0);
    }
    free(page);
}

static void test_tcp_states_in_snake_case(void **state)
{
    struct harness *h = *state;
    char *page = render(h);
    assert_non_null(strstr(page, "\nslowpath_tcp_connections{state=\"listen\"} 0\n"));
    assert_non_null(strstr(page, "\nslowpath_tcp_connections{state=\"syn_received\"} 0\n"));
    assert_non_null(strstr(page, "\nslowpath_tcp_connections{state=\"time_wait\"} 0\n"));
    assert_null(strstr(page, "state=\"closed\""));
    free(page);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_page_follows_the_counters, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_states_in_snake_case, h_setup, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
