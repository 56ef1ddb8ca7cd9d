/* The interface's ICMP (RFC 792, RFC 1122 3.2.2): echo replies, destination-unreachable errors,
 * the cases that must get no error, and the error rate limit. */
#include "iface_harness.h"

/* scapy: Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")/IP(src="192.0.2.1",
 * dst="192.0.2.2", id=0x1234, ttl=64)/ICMP(type=8, id=0xbeef, seq=7)/b"slowpath-ping-data", and the
 * reply we expect: addresses swapped, our first IP identifier (0 with a zero secret), TTL 64. */
static const char PING[] =
    "020000000002 020000000001 0800 4500002e123400004001e497c0000201c0000202"
    "08009a8cbeef0007 736c6f77706174682d70696e672d64617461";
static const char PONG[] =
    "020000000001 020000000002 0800 4500002e000000004001f6cbc0000202c0000201"
    "0000a28cbeef0007 736c6f77706174682d70696e672d64617461";
/* scapy: ...IP(src="192.0.2.1", dst="192.0.2.2", id=0x1234, ttl=64)/UDP(sport=40000, dport=9)/b"hello"
 * (47 bytes, padded by the NIC to 60), and the port unreachable that quotes its IP header and the
 * first 8 bytes after it: IP(..., tos=0xc0, id=0)/ICMP(type=3, code=3)/quote. */
static const char UDP_TO_CLOSED[] =
    "020000000002 020000000001 0800 450000211234000040 11e494c0000201c0000202"
    "9c400009000d9bb4 68656c6c6f 00000000000000000000000000";
static const char PORT_UNREACH[] =
    "020000000001 020000000002 0800 45c00038000000004001f601c0000202c0000201"
    "0303c4f100000000 45000021123400004011e494c0000201c0000202 9c400009000d9bb4";

static void test_echo_reply_exact_bytes(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP], want[H_FRAME_CAP];
    int n = sp_test_hex(PING, f, sizeof f);
    assert_int_equal(n, 60);
    h_rx(h, 2000, f, (size_t)n);
    assert_int_equal(h_pending(h), 1); /* no ARP: the peer's MAC came with the request */
    size_t len = h_take(h, f);
    assert_int_equal(sp_test_hex(PONG, want, sizeof want), 60);
    assert_int_equal(len, 60);
    assert_memory_equal(f, want, 60);

    assert_int_equal(h_stat(h, SP_STAT_ip_rx), 1);
    assert_int_equal(h_stat(h, SP_STAT_icmp_rx), 1);
    assert_int_equal(h_stat(h, SP_STAT_icmp_echo_rx), 1);
    assert_int_equal(h_stat(h, SP_STAT_icmp_echo_tx), 1);
    assert_int_equal(h_stat(h, SP_STAT_ip_tx), 1);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_request), 0);
    struct sp_mac mac;
    assert_true(sp_iface_neighbour(h->iface, H_IP_PEER, &mac));
}

static void test_echo_reply_goes_to_the_requests_mac(void **state)
{
    struct harness *h = *state;
    const struct sp_mac sender = {{0x02, 0, 0, 0, 0, 0x77}};
    uint8_t data[1000], f[H_FRAME_CAP];
    h_fill(data, sizeof data, 3);
    size_t n = h_ping(f, H_IP_PEER, H_IP_US, 0x0102, 0xfffe, data, sizeof data);
    memcpy(f + 6, sender.b, 6);
    f[SP_ETH_HDR_LEN + 1] = 0x28; /* a TOS the reply keeps */
    h_ip_refresh_checksum(f);
    h_rx(h, 2000, f, n);

    struct h_ip_out o;
    h_take_ip(h, f, &o);
    h_assert_silent(h);
    assert_true(sp_mac_eq(o.eth.dst, sender));
    assert_int_equal(o.ip.src, H_IP_US);
    assert_int_equal(o.ip.dst, H_IP_PEER);
    assert_int_equal(o.ip.protocol, SP_IP_PROTO_ICMP);
    assert_int_equal(o.ip.ttl, SP_DEFAULT_TTL);
    assert_int_equal(o.ip.tos, 0x28);
    assert_false(o.ip.more_frags);
    assert_int_equal(o.ip.frag_offset, 0);
    assert_int_equal(o.payload_len, SP_ICMP_HDR_LEN + sizeof data);
    assert_int_equal(sp_csum(o.payload, o.payload_len), 0);
    assert_int_equal(o.payload[0], SP_ICMP_ECHO_REPLY);
    assert_int_equal(o.payload[1], 0);
    assert_int_equal(sp_get16(o.payload + 4), 0x0102);
    assert_int_equal(sp_get16(o.payload + 6), 0xfffe);
    assert_memory_equal(o.payload + SP_ICMP_HDR_LEN, data, sizeof data);
}

static void test_echo_with_bad_checksum_is_dropped(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    int n = sp_test_hex(PING, f, sizeof f);
    f[SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN + 8] ^= 0x01; /* one data bit */
    h_rx(h, 2000, f, (size_t)n);
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_drop_icmp_bad_checksum), 1);
    assert_int_equal(h_stat(h, SP_STAT_icmp_echo_tx), 0);
}

static void test_truncated_icmp_is_dropped(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    const uint8_t four[4] = {8, 0, 0xf7, 0xff};
    struct sp_ipv4_repr ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_ICMP, sizeof four);
    size_t n = h_ip_frame(f, &ip, four, sizeof four);
    h_rx(h, 2000, f, n);
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_drop_icmp_truncated), 1);
}

static void test_broadcast_echo_is_ignored(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    const uint32_t dsts[] = {H_IP_BCAST, SP_IPV4_BROADCAST};
    for (size_t i = 0; i < 2; i++) {
        size_t n = h_ping(f, H_IP_PEER, dsts[i], 1, (uint16_t)i, (const uint8_t *)"x", 1);
        memcpy(f, sp_mac_broadcast.b, 6);
        h_rx(h, 2000, f, n);
    }
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_icmp_echo_rx), 2);
    assert_int_equal(h_stat(h, SP_STAT_drop_icmp_broadcast_echo), 2);
    assert_int_equal(h_stat(h, SP_STAT_icmp_echo_tx), 0);
}

static void test_port_unreachable_exact_bytes(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP], want[H_FRAME_CAP];
    int n = sp_test_hex(UDP_TO_CLOSED, f, sizeof f);
    assert_int_equal(n, 60);
    h_rx(h, 2000, f, (size_t)n);
    size_t len = h_take(h, f);
    h_assert_silent(h);
    assert_int_equal(sp_test_hex(PORT_UNREACH, want, sizeof want), 70);
    assert_int_equal(len, 70);
    assert_memory_equal(f, want, 70);
    assert_int_equal(h_stat(h, SP_STAT_udp_rx), 1);
    assert_int_equal(h_stat(h, SP_STAT_drop_udp_no_port), 1);
    assert_int_equal(h_stat(h, SP_STAT_icmp_unreach_tx), 1);
}

static void test_protocol_unreachable_quotes_header_and_8_bytes(void **state)
{
    struct harness *h = *state;
    uint8_t payload[40], f[H_FRAME_CAP], sent[H_FRAME_CAP];
    h_fill(payload, sizeof payload, 5);
    struct sp_ipv4_repr ip = h_ip(H_IP_PEER, H_IP_US, 253 /* experimental */, sizeof payload);
    size_t n = h_ip_frame(f, &ip, payload, sizeof payload);
    memcpy(sent, f, n);
    h_rx(h, 2000, f, n);
    assert_int_equal(h_stat(h, SP_STAT_drop_ip_unknown_proto), 1);

    struct h_ip_out o;
    h_take_ip(h, f, &o);
    h_assert_silent(h);
    assert_true(sp_mac_eq(o.eth.dst, H_MAC_PEER));
    assert_int_equal(o.ip.src, H_IP_US);
    assert_int_equal(o.ip.dst, H_IP_PEER);
    assert_int_equal(o.ip.protocol, SP_IP_PROTO_ICMP);
    assert_int_equal(o.ip.tos, 0xc0);
    assert_int_equal(o.payload_len, SP_ICMP_HDR_LEN + SP_IPV4_MIN_HDR_LEN + 8);
    assert_int_equal(sp_csum(o.payload, o.payload_len), 0);
    assert_int_equal(o.payload[0], SP_ICMP_DEST_UNREACH);
    assert_int_equal(o.payload[1], SP_ICMP_UNREACH_PROTOCOL);
    assert_int_equal(sp_get32(o.payload + 4), 0); /* unused */
    assert_memory_equal(o.payload + SP_ICMP_HDR_LEN, sent + SP_ETH_HDR_LEN, SP_IPV4_MIN_HDR_LEN + 8);
    assert_int_equal(h_stat(h, SP_STAT_icmp_unreach_tx), 1);
}

static void test_short_payload_is_quoted_whole(void **state)
{
    struct harness *h = *state;
    uint8_t payload[3] = {1, 2, 3}, f[H_FRAME_CAP], sent[H_FRAME_CAP];
    struct sp_ipv4_repr ip = h_ip(H_IP_PEER, H_IP_US, 253, sizeof payload);
    size_t n = h_ip_frame(f, &ip, payload, sizeof payload);
    memcpy(sent, f, n);
    h_rx(h, 2000, f, n);
    struct h_ip_out o;
    h_take_ip(h, f, &o);
    /* Only the datagram's 3 bytes, not the Ethernet padding after them. */
    assert_int_equal(o.payload_len, SP_ICMP_HDR_LEN + SP_IPV4_MIN_HDR_LEN + 3);
    assert_memory_equal(o.payload + SP_ICMP_HDR_LEN, sent + SP_ETH_HDR_LEN, SP_IPV4_MIN_HDR_LEN + 3);
}

static void test_no_unreachable_about_broadcasts(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    const uint32_t dsts[] = {H_IP_BCAST, SP_IPV4_BROADCAST};
    for (size_t i = 0; i < 2; i++) {
        size_t n = h_udp(f, H_IP_PEER, dsts[i], 40000, 9, (const uint8_t *)"hi", 2);
        memcpy(f, sp_mac_broadcast.b, 6);
        h_rx(h, 2000, f, n);
        uint8_t p[8] = {0};
        struct sp_ipv4_repr ip = h_ip(H_IP_PEER, dsts[i], 253, sizeof p);
        n = h_ip_frame(f, &ip, p, sizeof p);
        memcpy(f, sp_mac_broadcast.b, 6);
        h_rx(h, 2000, f, n);
    }
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_drop_udp_no_port), 2);
    assert_int_equal(h_stat(h, SP_STAT_drop_ip_unknown_proto), 2);
    assert_int_equal(h_stat(h, SP_STAT_icmp_unreach_tx), 0);
}

static void test_icmp_errors_and_unknown_types_get_no_answer(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP], icmp[64];
    /* A port unreachable about something we sent, quoting a UDP header. */
    uint8_t quote[28];
    h_fill(quote, sizeof quote, 1);
    struct sp_icmp_repr err = {.type = SP_ICMP_DEST_UNREACH, .code = SP_ICMP_UNREACH_PORT, .data = quote,
                               .data_len = sizeof quote};
    sp_icmp_repr_emit(&err, icmp);
    struct sp_ipv4_repr ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_ICMP, SP_ICMP_HDR_LEN + sizeof quote);
    size_t n = h_ip_frame(f, &ip, icmp, ip.payload_len);
    h_rx(h, 2000, f, n);
    assert_int_equal(h_stat(h, SP_STAT_icmp_error_rx), 1);

    /* A timestamp request (type 13), which slowpath does not serve. */
    struct sp_icmp_repr ts = {.type = 13, .data = quote, .data_len = 12};
    sp_icmp_repr_emit(&ts, icmp);
    ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_ICMP, SP_ICMP_HDR_LEN + 12);
    n = h_ip_frame(f, &ip, icmp, ip.payload_len);
    h_rx(h, 2000, f, n);
    assert_int_equal(h_stat(h, SP_STAT_drop_icmp_unhandled), 1);

    /* An echo request with a nonzero code is not an echo request we answer. */
    size_t len = h_icmp_echo(icmp, SP_ICMP_ECHO_REQUEST, 1, 1, NULL, 0);
    icmp[1] = 1;
    sp_put16(icmp + 2, 0);
    sp_put16(icmp + 2, sp_csum(icmp, len));
    ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_ICMP, len);
    n = h_ip_frame(f, &ip, icmp, len);
    h_rx(h, 2000, f, n);
    assert_int_equal(h_stat(h, SP_STAT_drop_icmp_unhandled), 2);

    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_icmp_unreach_tx), 0);
}

/* A lone non-first fragment of a datagram to a closed port gets no error, neither when it arrives
 * nor when its reassembly times out; the whole datagram, once reassembled, gets one error. */
static void test_no_unreachable_about_non_first_fragment(void **state)
{
    struct harness *h = *state;
    uint8_t udp[64], f[H_FRAME_CAP], first[H_FRAME_CAP];
    size_t ulen = h_udp_dgram(udp, H_IP_PEER, H_IP_US, 40000, 9, (const uint8_t *)"0123456789abcdef", 16);
    assert_int_equal(ulen, 24);

    struct sp_ipv4_repr ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_UDP, 8);
    ip.frag_offset = 16;
    size_t n = h_ip_frame(f, &ip, udp + 16, 8);
    h_rx(h, 2000, f, n);
    h_assert_silent(h);
    sp_iface_poll(h->iface, 2000 + SP_REASM_TIMEOUT_MS);
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_timeout), 1);
    assert_int_equal(h_stat(h, SP_STAT_icmp_unreach_tx), 0);

    /* Now all of it: the error quotes the first fragment's header and the UDP header. */
    ip.ident = 0x4321;
    ip.frag_offset = 0;
    ip.more_frags = true;
    ip.payload_len = 16;
    n = h_ip_frame(first, &ip, udp, 16);
    memcpy(f, first, n);
    h_rx(h, 40000, f, n);
    ip.frag_offset = 16;
    ip.more_frags = false;
    ip.payload_len = 8;
    n = h_ip_frame(f, &ip, udp + 16, 8);
    h_rx(h, 40001, f, n);
    struct h_ip_out o;
    h_take_ip(h, f, &o);
    h_assert_silent(h);
    assert_int_equal(o.payload[0], SP_ICMP_DEST_UNREACH);
    assert_int_equal(o.payload[1], SP_ICMP_UNREACH_PORT);
    assert_int_equal(o.payload_len, SP_ICMP_HDR_LEN + SP_IPV4_MIN_HDR_LEN + 8);
    assert_memory_equal(o.payload + SP_ICMP_HDR_LEN, first + SP_ETH_HDR_LEN, SP_IPV4_MIN_HDR_LEN);
    assert_memory_equal(o.payload + SP_ICMP_HDR_LEN + SP_IPV4_MIN_HDR_LEN, udp, 8);
    assert_int_equal(sp_csum(o.payload, o.payload_len), 0);
}

/* One UDP datagram to closed port 9 at `now`; returns whether an error went out. */
static bool provoke_unreachable(struct harness *h, sp_time_t now)
{
    uint8_t f[H_FRAME_CAP];
    size_t n = h_udp(f, H_IP_PEER, H_IP_US, 40000, 9, (const uint8_t *)"x", 1);
    h_rx(h, now, f, n);
    size_t sent = h_pending(h);
    h_drain(h);
    return sent == 1;
}

static void test_errors_are_rate_limited(void **state)
{
    struct harness *h = *state;
    const sp_time_t t = 5000;
    for (int i = 0; i < SP_ICMP_ERROR_BURST; i++)
        assert_true(provoke_unreachable(h, t));
    assert_false(provoke_unreachable(h, t));
    assert_int_equal(h_stat(h, SP_STAT_icmp_error_ratelimited), 1);
    assert_int_equal(h_stat(h, SP_STAT_icmp_unreach_tx), SP_ICMP_ERROR_BURST);

    /* One token comes back every 1000 / rate ms. */
    const sp_time_t step = 1000 / SP_ICMP_ERROR_RATE_PER_S;
    assert_false(provoke_unreachable(h, t + step - 1));
    assert_true(provoke_unreachable(h, t + step));
    assert_false(provoke_unreachable(h, t + step));
    assert_int_equal(h_stat(h, SP_STAT_icmp_error_ratelimited), 3);

    /* A long quiet spell refills the bucket only up to the burst. */
    sp_time_t later = t + 100000;
    for (int i = 0; i < SP_ICMP_ERROR_BURST; i++)
        assert_true(provoke_unreachable(h, later));
    assert_false(provoke_unreachable(h, later));
    assert_int_equal(h_stat(h, SP_STAT_icmp_unreach_tx), 2 * SP_ICMP_ERROR_BURST + 1);
    assert_int_equal(h_stat(h, SP_STAT_icmp_error_ratelimited), 4);
    /* Echo replies are not errors and are not limited. */
    uint8_t f[H_FRAME_CAP];
    size_t n = h_ping(f, H_IP_PEER, H_IP_US, 1, 1, NULL, 0);
    h_rx(h, later, f, n);
    assert_int_equal(h_pending(h), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_echo_reply_exact_bytes, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_echo_reply_goes_to_the_requests_mac, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_echo_with_bad_checksum_is_dropped, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_truncated_icmp_is_dropped, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_broadcast_echo_is_ignored, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_port_unreachable_exact_bytes, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_protocol_unreachable_quotes_header_and_8_bytes, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_short_payload_is_quoted_whole, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_no_unreachable_about_broadcasts, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_icmp_errors_and_unknown_types_get_no_answer, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_no_unreachable_about_non_first_fragment, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_errors_are_rate_limited, h_setup, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
