/* The counts the operator's gauges read: neighbours in the cache, TCP connections by state. */
#include "iface_harness.h"
#include "slowpath/tcp.h"

static void test_neighbour_count_follows_the_cache(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    assert_int_equal(sp_iface_neighbour_count(h->iface), 0);
    /* A request for our address teaches the asker's mapping (RFC 826). */
    size_t n = h_arp_request(f, H_MAC_PEER, H_IP_PEER, H_IP_US);
    h_rx(h, 2000, f, n);
    h_drain(h);
    assert_int_equal(sp_iface_neighbour_count(h->iface), 1);
    /* Once the entry lapses it is no longer counted, polled or not. */
    sp_iface_set_now(h->iface, 2000 + SP_ARP_ENTRY_TTL_MS + 1);
    assert_int_equal(sp_iface_neighbour_count(h->iface), 0);
}

static void on_accept(struct sp_tcp *l, struct sp_tcp *c)
{
    (void)l;
    (void)c;
}

static void test_tcp_count_by_state(void **state)
{
    struct harness *h = *state;
    unsigned counts[SP_TCP_STATE_COUNT];
    sp_tcp_count_by_state(h->iface, counts);
    for (int s = 0; s < SP_TCP_STATE_COUNT; s++)
        assert_int_equal(counts[s], 0);
    struct sp_tcp *l80, *l7, *c;
    assert_int_equal(sp_tcp_listen(h->iface, 80, 0, on_accept, NULL, &l80), 0);
    assert_int_equal(sp_tcp_listen(h->iface, 7, 0, on_accept, NULL, &l7), 0);
    /* An active open sends its SYN at once (after resolving the peer: queued, still SYN-SENT). */
    assert_int_equal(sp_tcp_connect(h->iface, H_IP_PEER, 9, NULL, NULL, &c), 0);
    sp_tcp_count_by_state(h->iface, counts);
    assert_int_equal(counts[SP_TCP_LISTEN], 2);
    assert_int_equal(counts[SP_TCP_SYN_SENT], 1);
    assert_int_equal(counts[SP_TCP_ESTABLISHED], 0);
    sp_tcp_abort(c);
    sp_tcp_close(l7);
    sp_tcp_count_by_state(h->iface, counts);
    assert_int_equal(counts[SP_TCP_LISTEN], 1);
    assert_int_equal(counts[SP_TCP_SYN_SENT], 0);
    sp_tcp_close(l80);
    h_drain(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_neighbour_count_follows_the_cache, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_tcp_count_by_state, h_setup, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
