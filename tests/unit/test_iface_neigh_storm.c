/* The neighbour cache under an ARP storm (RFC 826's merge rule; replacement in neigh.c): requests
 * for other targets create nothing; requests for us from thousands of senders are all answered
 * and churn only the entries nobody uses, never the peer we are sending to; a cache full of
 * entries in use caches no newcomer learned from a packet, yet our own traffic still finds room. */
#include "iface_harness.h"

#define STORM 5000
#define UDP_PORT 5000

/* Storm sender n: an address of the three documentation nets (never .0, .255, us or the peer),
 * each with a MAC of its own, as tools/flood.py's ARP storm cycles them. */
static uint32_t storm_ip(int n)
{
    static const uint32_t nets[3] = {0xc0000200u, 0xc6336400u, 0xcb007100u};
    int host = 3 + n % 250; /* 3 .. 252 */
    return nets[(n / 250) % 3] | (uint32_t)host;
}

static struct sp_mac storm_mac(int n)
{
    return (struct sp_mac){{0x02, 0x5e, 0, (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n}};
}

/* Host n of our subnet, 192.0.2.(10 + n), MAC 02:00:00:00:01:n (n < 200). */
static uint32_t host_ip(int n) { return 0xc0000200u + 10u + (uint32_t)n; }
static struct sp_mac host_mac(int n) { return (struct sp_mac){{0x02, 0, 0, 0, 1, (uint8_t)n}}; }

static void send_tag(struct harness *h, struct sp_udp_socket *s, sp_time_t now, uint32_t dst, uint8_t tag)
{
    sp_iface_set_now(h->iface, now);
    assert_int_equal(sp_udp_send(s, dst, 7, &tag, 1), 0);
}

/* Asserts the next frame is the tagged datagram to dst, sent at once to mac (no ARP first). */
static void expect_tag(struct harness *h, uint32_t dst, struct sp_mac mac, uint8_t tag)
{
    uint8_t f[H_FRAME_CAP];
    struct h_ip_out o;
    h_take_ip(h, f, &o);
    assert_true(sp_mac_eq(o.eth.dst, mac));
    assert_int_equal(o.ip.dst, dst);
    assert_int_equal(o.payload[SP_UDP_HDR_LEN], tag);
}

/* The peer is learned from its request for us, then we send to it: an entry in use. */
static void peer_in_use(struct harness *h, struct sp_udp_socket *s, sp_time_t now)
{
    h_learn_peer(h, now);
    assert_int_equal(sp_udp_bind(h->iface, s, UDP_PORT, NULL), 0);
    send_tag(h, s, now, H_IP_PEER, 1);
    expect_tag(h, H_IP_PEER, H_MAC_PEER, 1);
}

/* Gratuitous and unsolicited ARP for other addresses, from 5,000 senders: nothing is learned,
 * nothing answered, the peer's entry untouched. */
static void test_storm_for_other_targets_learns_nothing(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    peer_in_use(h, &s, 2000);
    uint64_t learned = h_stat(h, SP_STAT_arp_learned);
    uint8_t f[H_FRAME_CAP];
    for (int i = 0; i < STORM; i++) {
        /* every other one gratuitous (target = sender), the rest for a neighbour of ours */
        uint32_t tpa = i % 2 ? storm_ip(i) : H_IP_PEER;
        size_t n = h_arp_request(f, storm_mac(i), storm_ip(i), tpa);
        h_rx(h, 2001 + (sp_time_t)i / 10, f, n);
    }
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_arp_learned), learned);
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_not_for_us), STORM);
    assert_int_equal(h_stat(h, SP_STAT_arp_evicted), 0);
    assert_int_equal(sp_iface_neighbour_count(h->iface), 1);
    send_tag(h, &s, 2600, H_IP_PEER, 2);
    expect_tag(h, H_IP_PEER, H_MAC_PEER, 2);
    sp_udp_close(&s);
}

/* Requests for us from 5,000 senders, ten a millisecond, while we send to the peer every 50 ms:
 * every request is answered, the newcomers replace one another, and every frame to the peer
 * leaves at once for its MAC (its entry is never evicted, so never re-resolved). */
static void test_storm_for_us_spares_the_peer_in_use(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    peer_in_use(h, &s, 2000);
    uint8_t f[H_FRAME_CAP];
    uint8_t tag = 2;
    for (int i = 0; i < STORM; i++) {
        sp_time_t now = 2001 + (sp_time_t)i / 10;
        size_t n = h_arp_request(f, storm_mac(i), storm_ip(i), H_IP_US);
        h_rx(h, now, f, n);
        struct sp_eth_repr eth;
        struct sp_arp_repr arp;
        n = h_take(h, f);
        h_parse_arp(f, n, &eth, &arp);
        assert_int_equal(arp.op, SP_ARP_OP_REPLY);
        assert_int_equal(arp.tpa, storm_ip(i));
        assert_true(sp_mac_eq(eth.dst, storm_mac(i)));
        if (i % 500 == 499) {
            send_tag(h, &s, now, H_IP_PEER, tag);
            expect_tag(h, H_IP_PEER, H_MAC_PEER, tag++);
        }
    }
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_reply), STORM + 1);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_request), 0);
    /* The storm filled the 63 free slots, then each newcomer replaced the least recently
     * confirmed of its own kind. */
    assert_int_equal(h_stat(h, SP_STAT_arp_evicted), STORM - (SP_ARP_CACHE_SIZE - 1));
    assert_int_equal(h_stat(h, SP_STAT_arp_learn_skipped), 0);
    assert_int_equal(h_stat(h, SP_STAT_arp_evicted_in_use), 0);
    struct sp_mac mac;
    assert_true(sp_iface_neighbour(h->iface, H_IP_PEER, &mac));
    assert_true(sp_mac_eq(mac, H_MAC_PEER));
    assert_true(sp_iface_neighbour(h->iface, storm_ip(STORM - 1), &mac));
    assert_int_equal(sp_iface_neighbour_count(h->iface), SP_ARP_CACHE_SIZE);
    sp_udp_close(&s);
}

/* Fills the cache with neighbours learned at 2000 + i that we then send to: all in use. */
static void fill_in_use(struct harness *h, struct sp_udp_socket *s)
{
    uint8_t f[H_FRAME_CAP];
    assert_int_equal(sp_udp_bind(h->iface, s, UDP_PORT, NULL), 0);
    for (int i = 0; i < SP_ARP_CACHE_SIZE; i++) {
        sp_time_t now = 2000 + (sp_time_t)i;
        size_t n = h_arp_request(f, host_mac(i), host_ip(i), H_IP_US);
        h_rx(h, now, f, n);
        h_drain(h);
        send_tag(h, s, now, host_ip(i), (uint8_t)i);
        expect_tag(h, host_ip(i), host_mac(i), (uint8_t)i);
    }
    assert_int_equal(h_stat(h, SP_STAT_arp_evicted), 0);
}

/* Every entry in use: a newcomer's request is answered but not cached; once nothing has gone to
 * the entries for SP_ARP_IN_USE_MS, a newcomer replaces the least recently confirmed. */
static void test_newcomer_not_cached_while_every_entry_is_in_use(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    fill_in_use(h, &s);
    uint8_t f[H_FRAME_CAP];
    int newcomer = SP_ARP_CACHE_SIZE;
    size_t n = h_arp_request(f, host_mac(newcomer), host_ip(newcomer), H_IP_US);
    h_rx(h, 2100, f, n);
    struct sp_eth_repr eth;
    struct sp_arp_repr arp;
    n = h_take(h, f);
    h_parse_arp(f, n, &eth, &arp);
    assert_int_equal(arp.op, SP_ARP_OP_REPLY);
    assert_true(sp_mac_eq(eth.dst, host_mac(newcomer)));
    assert_int_equal(h_stat(h, SP_STAT_arp_learn_skipped), 1);
    assert_int_equal(h_stat(h, SP_STAT_arp_evicted), 0);
    struct sp_mac mac;
    assert_false(sp_iface_neighbour(h->iface, host_ip(newcomer), &mac));
    /* An IP datagram from it (learned from its Ethernet source) is not cached either. */
    n = h_udp(f, host_ip(newcomer), H_IP_US, 9, UDP_PORT, (const uint8_t *)"x", 1);
    memcpy(f + 6, host_mac(newcomer).b, 6);
    h_rx(h, 2101, f, n);
    h_drain(h);
    assert_int_equal(h_stat(h, SP_STAT_arp_learn_skipped), 2);

    /* Host 0 is confirmed again by a request for us at 2200 (still not in use for it). */
    n = h_arp_request(f, host_mac(0), host_ip(0), H_IP_US);
    h_rx(h, 2200, f, n);
    h_drain(h);
    /* Past the in-use time of every entry: host 1, the least recently confirmed, makes room. */
    sp_time_t later = 2000 + SP_ARP_CACHE_SIZE + SP_ARP_IN_USE_MS;
    n = h_arp_request(f, host_mac(newcomer), host_ip(newcomer), H_IP_US);
    h_rx(h, later, f, n);
    h_drain(h);
    assert_int_equal(h_stat(h, SP_STAT_arp_evicted), 1);
    assert_true(sp_iface_neighbour(h->iface, host_ip(newcomer), &mac));
    assert_int_equal(h_stat(h, SP_STAT_arp_evicted_in_use), 0);
    assert_true(sp_iface_neighbour(h->iface, host_ip(0), &mac));
    assert_false(sp_iface_neighbour(h->iface, host_ip(1), &mac));
    sp_udp_close(&s);
}

/* Our own traffic to an address not cached takes the least recently used entry even when every
 * entry is in use: what we send must be able to resolve. */
static void test_our_traffic_replaces_the_least_recently_used(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    fill_in_use(h, &s);
    /* Host 0 is used again: host 1 is now the least recently used. */
    send_tag(h, &s, 2100, host_ip(0), 0xa0);
    expect_tag(h, host_ip(0), host_mac(0), 0xa0);
    send_tag(h, &s, 2101, host_ip(100), 0xa1);
    h_expect_arp_request(h, host_ip(100));
    assert_int_equal(h_stat(h, SP_STAT_arp_evicted), 1);
    assert_int_equal(h_stat(h, SP_STAT_arp_evicted_in_use), 1);
    struct sp_mac mac;
    assert_true(sp_iface_neighbour(h->iface, host_ip(0), &mac));
    assert_false(sp_iface_neighbour(h->iface, host_ip(1), &mac));
    assert_true(sp_iface_neighbour(h->iface, host_ip(2), &mac));
    uint8_t f[H_FRAME_CAP];
    size_t n = h_arp_reply(f, host_mac(100), host_ip(100));
    h_rx(h, 2102, f, n);
    expect_tag(h, host_ip(100), host_mac(100), 0xa1);
    sp_udp_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_storm_for_other_targets_learns_nothing, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_storm_for_us_spares_the_peer_in_use, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_newcomer_not_cached_while_every_entry_is_in_use, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_our_traffic_replaces_the_least_recently_used, h_setup, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
