/* The interface's Ethernet and IPv4 input checks: every malformed or unwanted frame goes through
 * the one drop path (exactly one drop counter moves, nothing is sent, nothing is learned), and
 * the odd-but-valid cases (Ethernet padding, TTL 0, IP options) are answered. */
#include "iface_harness.h"

/* Feeds frame and asserts that exactly one drop counter moved, by one: `reason`. */
static void expect_drop(struct harness *h, uint8_t *f, size_t len, enum sp_stat reason)
{
    struct sp_stats before = *sp_iface_stats(h->iface);
    h_rx(h, 2000, f, len);
    const struct sp_stats *after = sp_iface_stats(h->iface);
    for (int s = 0; s < SP_STAT_COUNT; s++) {
        if (strncmp(sp_stat_name((enum sp_stat)s), "drop_", 5) != 0)
            continue;
        uint64_t want = before.v[s] + (s == (int)reason ? 1 : 0);
        if (after->v[s] != want)
            fail_msg("counter %s: %llu, expected %llu", sp_stat_name((enum sp_stat)s),
                     (unsigned long long)after->v[s], (unsigned long long)want);
    }
    assert_int_equal(after->v[SP_STAT_rx_frames], before.v[SP_STAT_rx_frames] + 1);
    assert_int_equal(after->v[SP_STAT_ip_rx], before.v[SP_STAT_ip_rx]);
    h_assert_silent(h);
    struct sp_mac mac;
    assert_false(sp_iface_neighbour(h->iface, H_IP_PEER, &mac));
}

/* A valid 60-byte ping from the peer with 18 bytes of data (no Ethernet padding). */
static size_t good_ping(uint8_t *f)
{
    size_t n = h_ping(f, H_IP_PEER, H_IP_US, 0x77, 1, (const uint8_t *)"abcdefghijklmnopqr", 18);
    assert_int_equal(n, 60);
    return n;
}

#define IP(f) ((f) + SP_ETH_HDR_LEN)

static void test_good_ping_is_answered(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    h_rx(h, 2000, f, good_ping(f));
    assert_int_equal(h_pending(h), 1);
    assert_int_equal(h_stat(h, SP_STAT_rx_frames), 1);
    assert_int_equal(h_stat(h, SP_STAT_rx_bytes), 60);
    assert_int_equal(h_stat(h, SP_STAT_ip_rx), 1);
}

static void test_ethernet_drops(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];

    good_ping(f);
    expect_drop(h, f, SP_ETH_HDR_LEN - 1, SP_STAT_drop_eth_truncated);
    expect_drop(h, f, 0, SP_STAT_drop_eth_truncated);

    good_ping(f);
    f[5] = 0x03; /* another host's MAC */
    expect_drop(h, f, 60, SP_STAT_drop_eth_not_for_us);

    good_ping(f);
    memcpy(f, (const uint8_t[]){0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}, 6); /* a multicast group we never joined */
    expect_drop(h, f, 60, SP_STAT_drop_eth_not_for_us);

    good_ping(f);
    sp_put16(f + 12, 0x86dd); /* IPv6 */
    expect_drop(h, f, 60, SP_STAT_drop_eth_unknown_type);
    assert_int_equal(h_stat(h, SP_STAT_rx_frames), 5);
}

static void test_ip_header_drops(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];

    good_ping(f);
    expect_drop(h, f, SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN - 1, SP_STAT_drop_ip_truncated);

    good_ping(f);
    IP(f)[0] = 0x65; /* version 6 in an IPv4 ethertype */
    h_ip_refresh_checksum(f);
    expect_drop(h, f, 60, SP_STAT_drop_ip_bad_version);

    good_ping(f);
    IP(f)[0] = 0x44; /* IHL 4: shorter than the fixed header */
    expect_drop(h, f, 60, SP_STAT_drop_ip_bad_header);

    good_ping(f);
    IP(f)[0] = 0x4f; /* IHL 15: 60 header bytes in a 46-byte payload */
    expect_drop(h, f, 60, SP_STAT_drop_ip_bad_header);

    good_ping(f);
    sp_put16(IP(f) + 2, 19); /* total length below the header */
    h_ip_refresh_checksum(f);
    expect_drop(h, f, 60, SP_STAT_drop_ip_bad_header);

    good_ping(f);
    sp_put16(IP(f) + 2, 47); /* one byte more than the frame carries */
    h_ip_refresh_checksum(f);
    expect_drop(h, f, 60, SP_STAT_drop_ip_truncated);

    good_ping(f);
    expect_drop(h, f, 59, SP_STAT_drop_ip_truncated); /* the frame lost its last byte */

    good_ping(f);
    IP(f)[10] ^= 0x40; /* header checksum */
    expect_drop(h, f, 60, SP_STAT_drop_ip_bad_checksum);

    good_ping(f);
    IP(f)[8] = 63; /* TTL changed without the checksum following */
    expect_drop(h, f, 60, SP_STAT_drop_ip_bad_checksum);
}

static void test_not_for_us(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    const uint32_t dsts[] = {0xc0000203u, 0xc6336401u /* 198.51.100.1 */, 0xe0000001u /* 224.0.0.1 */,
                             0xc0000200u /* the network address */};
    for (size_t i = 0; i < sizeof dsts / sizeof dsts[0]; i++) {
        size_t n = h_ping(f, H_IP_PEER, dsts[i], 1, 1, NULL, 0);
        expect_drop(h, f, n, SP_STAT_drop_ip_not_for_us);
    }
}

static void test_bad_sources(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    const uint32_t srcs[] = {SP_IPV4_BROADCAST, H_IP_BCAST, 0xe0000001u, 0, H_IP_US, 0x7f000001u, 0x7f0a0b0cu};
    for (size_t i = 0; i < sizeof srcs / sizeof srcs[0]; i++) {
        size_t n = h_ping(f, srcs[i], H_IP_US, 1, 1, NULL, 0);
        expect_drop(h, f, n, SP_STAT_drop_ip_bad_src);
    }
}

/* A frame from no station (Ethernet source all zero, broadcast, or a group address) is dropped
 * whole: its sender is not learned (replies would go to 00:00:00:00:00:00 or a group) and it is
 * not answered, whatever it carries or is addressed to. */
static void test_bad_source_macs_are_dropped(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    const struct sp_mac bad[] = {
        {{0, 0, 0, 0, 0, 0}},
        {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
        {{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}},
        {{0x33, 0x33, 0x00, 0x00, 0x00, 0x01}},
        {{0x03, 0, 0, 0, 0, 0x01}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        good_ping(f);
        h_eth(f, bad[i], H_MAC_US, SP_ETHERTYPE_IPV4);
        expect_drop(h, f, 60, SP_STAT_drop_eth_bad_src_mac);
        /* to the broadcast MAC, to a closed UDP port (a capture of exactly this got answered) */
        size_t n = h_udp(f, H_IP_PEER, H_IP_US, 1, 9, NULL, 0);
        h_eth(f, bad[i], sp_mac_broadcast, SP_ETHERTYPE_IPV4);
        expect_drop(h, f, n, SP_STAT_drop_eth_bad_src_mac);
    }
    assert_int_equal(h_stat(h, SP_STAT_arp_learned), 0);
    assert_int_equal(h_stat(h, SP_STAT_icmp_rx), 0);
}

/* Nor does such a frame replace what we know of a neighbour. */
static void test_zero_source_mac_does_not_replace_a_neighbour(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    h_learn_peer(h, 2000);
    good_ping(f);
    h_eth(f, sp_mac_zero, H_MAC_US, SP_ETHERTYPE_IPV4);
    h_rx(h, 2100, f, 60);
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_drop_eth_bad_src_mac), 1);
    struct sp_mac mac;
    assert_true(sp_iface_neighbour(h->iface, H_IP_PEER, &mac));
    assert_true(sp_mac_eq(mac, H_MAC_PEER));
}

/* A 60-byte frame carrying a 28-byte datagram: the 18 bytes of padding are not ICMP data. */
static void test_ethernet_padding_is_ignored(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    size_t n = h_ping(f, H_IP_PEER, H_IP_US, 0x99, 3, NULL, 0);
    assert_int_equal(n, 60);
    memset(f + SP_ETH_HDR_LEN + 28, 0xa5, n - SP_ETH_HDR_LEN - 28); /* a NIC's garbage, not zeros */
    h_rx(h, 2000, f, n);

    struct h_ip_out o;
    h_take_ip(h, f, &o);
    assert_int_equal(sp_ipv4_total_len(&o.v), 28);
    assert_int_equal(o.payload_len, SP_ICMP_HDR_LEN);
    assert_int_equal(o.payload[0], SP_ICMP_ECHO_REPLY);
    assert_int_equal(sp_get16(o.payload + 4), 0x99);
    assert_int_equal(sp_csum(o.payload, o.payload_len), 0);
    /* Our own padding is zeros. */
    for (size_t i = SP_ETH_HDR_LEN + 28; i < 60; i++)
        assert_int_equal(f[i], 0);
}

/* RFC 1122 3.2.1.7: a host must not discard a datagram it receives because of a low TTL. */
static void test_ttl_zero_is_accepted(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    good_ping(f);
    IP(f)[8] = 0;
    h_ip_refresh_checksum(f);
    h_rx(h, 2000, f, 60);
    struct h_ip_out o;
    h_take_ip(h, f, &o);
    assert_int_equal(o.payload[0], SP_ICMP_ECHO_REPLY);
    assert_int_equal(o.ip.ttl, SP_DEFAULT_TTL);
}

/* A header with options (IHL 6: one 4-byte option of NOPs) is accepted; the reply has none. */
static void test_ip_options_are_skipped(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP], icmp[32];
    size_t ilen = h_icmp_echo(icmp, SP_ICMP_ECHO_REQUEST, 0x55, 9, (const uint8_t *)"opts", 4);
    size_t n = h_eth(f, H_MAC_PEER, H_MAC_US, SP_ETHERTYPE_IPV4);
    struct sp_ipv4_repr ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_ICMP, ilen);
    sp_ipv4_repr_emit(&ip, IP(f));
    IP(f)[0] = 0x46;
    sp_put16(IP(f) + 2, (uint16_t)(24 + ilen));
    memset(IP(f) + 20, 1, 4);
    memcpy(IP(f) + 24, icmp, ilen);
    h_ip_refresh_checksum(f);
    n = h_pad(f, n + 24 + ilen);
    h_rx(h, 2000, f, n);

    struct h_ip_out o;
    h_take_ip(h, f, &o);
    assert_int_equal(o.payload_len, ilen);
    assert_int_equal(sp_get16(o.payload + 4), 0x55);
    assert_memory_equal(o.payload + SP_ICMP_HDR_LEN, "opts", 4);
}

/* Valid datagrams from an on-link sender teach us its MAC; off-link ones do not. */
static void test_sender_learned_from_ip_only_when_on_link(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    size_t n = h_udp(f, 0xcb007101u /* 203.0.113.1 */, H_IP_US, 1, 9, NULL, 0);
    h_rx(h, 2000, f, n);
    struct sp_mac mac;
    assert_false(sp_iface_neighbour(h->iface, 0xcb007101u, &mac));
    assert_int_equal(h_stat(h, SP_STAT_arp_learned), 0);
    assert_int_equal(h_stat(h, SP_STAT_drop_ip_no_route), 1); /* its port unreachable: no gateway */

    n = h_udp(f, H_IP_PEER, H_IP_US, 1, 9, NULL, 0);
    h_rx(h, 2000, f, n);
    assert_true(sp_iface_neighbour(h->iface, H_IP_PEER, &mac));
    assert_true(sp_mac_eq(mac, H_MAC_PEER));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_good_ping_is_answered, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_ethernet_drops, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_ip_header_drops, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_not_for_us, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_bad_sources, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_bad_source_macs_are_dropped, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_zero_source_mac_does_not_replace_a_neighbour, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_ethernet_padding_is_ignored, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_ttl_zero_is_accepted, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_ip_options_are_skipped, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_sender_learned_from_ip_only_when_on_link, h_setup, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
