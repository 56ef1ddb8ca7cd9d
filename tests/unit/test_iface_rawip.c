/* The interface on a raw-IP link (a TUN): no ARP at all (no announcement, no resolution, a frame
 * the stack builds that is no IPv4 datagram is refused and counted), bare datagrams in and out
 * with no link header and no padding, every destination reached through the one peer, nothing
 * learned into the neighbour cache, and byte counters that count the datagrams. */
#include "iface_harness.h"
#include "iface_internal.h"

#define OFF_LINK 0xc6336407u /* 198.51.100.7: beyond our /24, and there is no gateway */

static struct harness *raw_open(void)
{
    struct harness *h = test_calloc(1, sizeof *h);
    assert_non_null(h);
    h->dev = sp_mem_open(SP_MAX_MTU, H_DEPTH);
    assert_non_null(h->dev);
    h->dev->link = SP_LINK_RAW_IP;
    struct sp_iface_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.mac = H_MAC_US;
    cfg.ip = H_IP_US;
    cfg.prefix_len = 24;
    h->iface = sp_iface_new(&cfg, h->dev, H_T0);
    assert_non_null(h->iface);
    return h;
}

static int raw_setup(void **state)
{
    *state = raw_open();
    return 0;
}

/* Feeds the datagram inside an Ethernet frame the harness built, without its header and padding:
 * as a TUN hands it over. */
static void raw_rx(struct harness *h, sp_time_t now, const uint8_t *frame, size_t len)
{
    struct sp_ipv4_view v;
    assert_int_equal(sp_ipv4_view_init(&v, frame + SP_ETH_HDR_LEN, len - SP_ETH_HDR_LEN), 0);
    h_rx(h, now, frame + SP_ETH_HDR_LEN, sp_ipv4_total_len(&v));
}

/* Takes the next datagram, checks its header (valid checksum, exactly total-length long: no link
 * header, no padding) and returns its repr; payload at d + SP_IPV4_MIN_HDR_LEN. */
static size_t raw_take(struct harness *h, uint8_t *d, struct sp_ipv4_repr *ip)
{
    size_t n = h_take(h, d);
    struct sp_ipv4_view v;
    assert_int_equal(sp_ipv4_view_init(&v, d, n), 0);
    assert_int_equal(sp_ipv4_repr_parse(&v, ip), 0);
    assert_int_equal(sp_ipv4_total_len(&v), n);
    return n;
}

static void test_no_announcement(void **state)
{
    struct harness *h = *state;
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_gratuitous), 0);
    assert_int_equal(sp_iface_frame_count(h->iface).sent, 0);
}

static void test_ping_answered_bare(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP], d[H_FRAME_CAP];
    size_t n = h_ping(f, H_IP_PEER, H_IP_US, 0x1234, 1, NULL, 0); /* 28 bytes: padded on Ethernet */
    raw_rx(h, H_T0 + 1, f, n);
    struct sp_ipv4_repr ip;
    size_t m = raw_take(h, d, &ip);
    assert_int_equal(m, 28);
    assert_int_equal(ip.src, H_IP_US);
    assert_int_equal(ip.dst, H_IP_PEER);
    assert_int_equal(ip.protocol, SP_IP_PROTO_ICMP);
    assert_int_equal(d[SP_IPV4_MIN_HDR_LEN], SP_ICMP_ECHO_REPLY);
    assert_int_equal(sp_csum(d + SP_IPV4_MIN_HDR_LEN, m - SP_IPV4_MIN_HDR_LEN), 0);
    h_assert_silent(h);
    /* Honest counters: the bytes that crossed the device, no neighbour learned from nothing. */
    assert_int_equal(h_stat(h, SP_STAT_rx_bytes), 28);
    assert_int_equal(h_stat(h, SP_STAT_tx_bytes), 28);
    assert_int_equal(h_stat(h, SP_STAT_tx_frames), 1);
    assert_int_equal(sp_iface_neighbour_count(h->iface), 0);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_request), 0);
}

/* A point-to-point link reaches everything through its peer: no gateway, no resolution. */
static void test_off_link_source_answered(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP], d[H_FRAME_CAP];
    uint8_t data[1472];
    h_fill(data, sizeof data, 3);
    size_t n = h_ping(f, OFF_LINK, H_IP_US, 7, 9, data, sizeof data);
    raw_rx(h, H_T0 + 1, f, n);
    struct sp_ipv4_repr ip;
    assert_int_equal(raw_take(h, d, &ip), 1500);
    assert_int_equal(ip.dst, OFF_LINK);
    assert_memory_equal(d + SP_IPV4_MIN_HDR_LEN + SP_ICMP_HDR_LEN, data, sizeof data);
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_drop_ip_no_route), 0);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_request), 0);
}

/* Too big for one datagram: the reply leaves in fragments, each bare and within the MTU. */
static void test_fragmented_reply(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP], d[H_FRAME_CAP];
    static uint8_t data[2000], rest[2100];
    h_fill(data, sizeof data, 5);
    /* The request comes in two fragments, cut by hand from the whole datagram. */
    uint8_t icmp[2100];
    size_t ilen = h_icmp_echo(icmp, SP_ICMP_ECHO_REQUEST, 1, 2, data, sizeof data);
    size_t first = 1480;
    struct sp_ipv4_repr ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_ICMP, first);
    ip.more_frags = true;
    ip.ident = 77;
    size_t n = h_ip_frame(f, &ip, icmp, first);
    raw_rx(h, H_T0 + 1, f, n);
    ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_ICMP, ilen - first);
    ip.frag_offset = (uint16_t)first;
    ip.ident = 77;
    n = h_ip_frame(f, &ip, icmp + first, ilen - first);
    raw_rx(h, H_T0 + 2, f, n);

    size_t got = 0;
    struct sp_ipv4_repr r;
    do {
        size_t m = raw_take(h, d, &r);
        assert_true(m <= SP_MAX_MTU);
        assert_int_equal(r.frag_offset, got);
        memcpy(rest + got, d + SP_IPV4_MIN_HDR_LEN, m - SP_IPV4_MIN_HDR_LEN);
        got += m - SP_IPV4_MIN_HDR_LEN;
    } while (r.more_frags);
    assert_int_equal(got, ilen);
    assert_memory_equal(rest + SP_ICMP_HDR_LEN, data, sizeof data);
    h_assert_silent(h);
}

static void test_closed_udp_port_unreachable(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP], d[H_FRAME_CAP];
    size_t n = h_udp(f, H_IP_PEER, H_IP_US, 40000, 4444, (const uint8_t *)"anyone?", 7);
    raw_rx(h, H_T0 + 1, f, n);
    struct sp_ipv4_repr ip;
    raw_take(h, d, &ip);
    assert_int_equal(ip.protocol, SP_IP_PROTO_ICMP);
    assert_int_equal(d[SP_IPV4_MIN_HDR_LEN], SP_ICMP_DEST_UNREACH);
    assert_int_equal(d[SP_IPV4_MIN_HDR_LEN + 1], SP_ICMP_UNREACH_PORT);
    h_assert_silent(h);
}

/* What is no IPv4 datagram is dropped by IPv4 input's own checks, counted, unanswered. */
static void test_junk_counted(void **state)
{
    struct harness *h = *state;
    uint8_t v6[40] = {0x60};
    h_rx(h, H_T0 + 1, v6, sizeof v6);
    uint8_t shorty[3] = {0x45, 0, 0};
    h_rx(h, H_T0 + 2, shorty, sizeof shorty);
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_drop_ip_bad_version), 1);
    assert_int_equal(h_stat(h, SP_STAT_drop_ip_truncated), 1);
    assert_int_equal(h_stat(h, SP_STAT_rx_frames), 2);
}

/* Should anything ever try to put ARP on the link, it is refused and counted, never sent. */
static void test_arp_never_leaves(void **state)
{
    struct harness *h = *state;
    assert_true(sp_arp_send_request(h->iface, H_IP_PEER) < 0);
    assert_true(sp_arp_send_gratuitous(h->iface) < 0);
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_drop_raw_not_ipv4), 2);
    assert_int_equal(h_stat(h, SP_STAT_tx_frames), 0);
    assert_int_equal(sp_iface_frame_count(h->iface).sent, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_no_announcement, raw_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_ping_answered_bare, raw_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_off_link_source_answered, raw_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_fragmented_reply, raw_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_closed_udp_port_unreachable, raw_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_junk_counted, raw_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_arp_never_leaves, raw_setup, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
