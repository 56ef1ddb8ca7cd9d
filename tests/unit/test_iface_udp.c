/* UDP sockets on the interface (RFC 768, RFC 1122 4.1): binding, delivery, sending, and the
 * datagrams that are dropped without an ICMP error. */
#include "iface_harness.h"

/* scapy: Ether(dst="02:00:00:00:00:01", src="02:00:00:00:00:02")/IP(src="192.0.2.2",
 * dst="192.0.2.1", id=0, ttl=64)/UDP(sport=7000, dport=9000)/b"hello", padded to 60 bytes. */
static const char HELLO_OUT[] =
    "020000000001 020000000002 0800 450000210000000040 11f6c8c0000202c0000201"
    "1b582328000df97d 68656c6c6f 00000000000000000000000000";

/* What a socket's callback saw. */
struct recorder {
    int calls;
    uint32_t src_ip;
    uint16_t src_port;
    uint8_t data[2048];
    size_t len;
    bool echo; /* send every datagram back to where it came from */
    int echo_rc;
};

static void record_cb(struct sp_udp_socket *sock, uint32_t src_ip, uint16_t src_port, const uint8_t *data, size_t len)
{
    struct recorder *r = sock->data;
    r->calls++;
    r->src_ip = src_ip;
    r->src_port = src_port;
    assert_true(len <= sizeof r->data);
    memcpy(r->data, data, len);
    r->len = len;
    if (r->echo)
        r->echo_rc = sp_udp_send(sock, src_ip, src_port, data, len);
}

static void bind_recorder(struct harness *h, struct sp_udp_socket *s, struct recorder *r, uint16_t port)
{
    memset(r, 0, sizeof *r);
    memset(s, 0, sizeof *s);
    s->data = r;
    assert_int_equal(sp_udp_bind(h->iface, s, port, record_cb), 0);
}

static void test_receive(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    struct recorder r;
    bind_recorder(h, &s, &r, 7000);
    uint8_t f[H_FRAME_CAP];
    size_t n = h_udp(f, H_IP_PEER, H_IP_US, 40000, 7000, (const uint8_t *)"payload", 7);
    h_rx(h, 2000, f, n);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.src_ip, H_IP_PEER);
    assert_int_equal(r.src_port, 40000);
    assert_int_equal(r.len, 7);
    assert_memory_equal(r.data, "payload", 7);
    assert_int_equal(h_stat(h, SP_STAT_udp_rx), 1);
    h_assert_silent(h);

    /* An empty datagram is a datagram too. */
    n = h_udp(f, H_IP_PEER, H_IP_US, 40001, 7000, NULL, 0);
    h_rx(h, 2000, f, n);
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.len, 0);
    assert_int_equal(r.src_port, 40001);
    sp_udp_close(&s);
}

static void test_receive_broadcast(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    struct recorder r;
    bind_recorder(h, &s, &r, 67);
    uint8_t f[H_FRAME_CAP];
    size_t n = h_udp(f, H_IP_PEER, SP_IPV4_BROADCAST, 68, 67, (const uint8_t *)"b", 1);
    memcpy(f, sp_mac_broadcast.b, 6);
    h_rx(h, 2000, f, n);
    n = h_udp(f, H_IP_PEER, H_IP_BCAST, 68, 67, (const uint8_t *)"c", 1);
    memcpy(f, sp_mac_broadcast.b, 6);
    h_rx(h, 2000, f, n);
    assert_int_equal(r.calls, 2);
    assert_int_equal(r.data[0], 'c');
    sp_udp_close(&s);
}

static void test_send_exact_bytes(void **state)
{
    struct harness *h = *state;
    h_learn_peer(h, 2000);
    struct sp_udp_socket s = {0};
    struct recorder r;
    bind_recorder(h, &s, &r, 7000);
    sp_iface_set_now(h->iface, 2000);
    assert_int_equal(sp_udp_send(&s, H_IP_PEER, 9000, "hello", 5), 0);
    uint8_t f[H_FRAME_CAP], want[H_FRAME_CAP];
    size_t len = h_take(h, f);
    h_assert_silent(h);
    assert_int_equal(sp_test_hex(HELLO_OUT, want, sizeof want), 60);
    assert_int_equal(len, 60);
    assert_memory_equal(f, want, 60);
    assert_int_equal(h_stat(h, SP_STAT_udp_tx), 1);
    assert_int_equal(h_stat(h, SP_STAT_ip_tx), 1);
    sp_udp_close(&s);
}

static void test_send_to_broadcast_needs_no_arp(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    struct recorder r;
    bind_recorder(h, &s, &r, 7000);
    const uint32_t dsts[] = {H_IP_BCAST, SP_IPV4_BROADCAST};
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(sp_udp_send(&s, dsts[i], 9000, "x", 1), 0);
        uint8_t f[H_FRAME_CAP];
        struct h_ip_out o;
        h_take_ip(h, f, &o);
        assert_true(sp_mac_is_broadcast(o.eth.dst));
        assert_int_equal(o.ip.dst, dsts[i]);
    }
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_request), 0);
    sp_udp_close(&s);
}

static void test_port_in_use(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket a = {0}, b = {0};
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    assert_int_equal(sp_udp_bind(h->iface, &a, 7000, NULL), 0);
    assert_int_equal(sp_udp_bind(h->iface, &b, 7000, NULL), SP_EADDRINUSE);
    sp_udp_close(&a);
    assert_int_equal(sp_udp_bind(h->iface, &b, 7000, NULL), 0);
    sp_udp_close(&b);
    sp_udp_close(&b); /* closing twice is harmless */
}

/* The source port of a one-byte datagram sent from s to the peer. */
static uint16_t sent_from(struct harness *h, struct sp_udp_socket *s)
{
    assert_int_equal(sp_udp_send(s, H_IP_PEER, 9, "p", 1), 0);
    uint8_t f[H_FRAME_CAP];
    struct h_ip_out o;
    h_take_ip(h, f, &o);
    return sp_get16(o.payload);
}

static void test_ephemeral_ports(void **state)
{
    struct harness *h = *state;
    h_learn_peer(h, 2000);
    struct sp_udp_socket a = {0}, b = {0}, c = {0}, d = {0};
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    memset(&d, 0, sizeof d);
    assert_int_equal(sp_udp_bind(h->iface, &a, 0, NULL), 0);
    assert_int_equal(sp_udp_bind(h->iface, &b, 0, NULL), 0);
    assert_int_equal(sent_from(h, &a), SP_UDP_EPHEMERAL_FIRST);
    assert_int_equal(sent_from(h, &b), SP_UDP_EPHEMERAL_FIRST + 1);
    /* A port taken explicitly is skipped. */
    assert_int_equal(sp_udp_bind(h->iface, &c, SP_UDP_EPHEMERAL_FIRST + 2, NULL), 0);
    assert_int_equal(sp_udp_bind(h->iface, &d, 0, NULL), 0);
    assert_int_equal(sent_from(h, &d), SP_UDP_EPHEMERAL_FIRST + 3);
    sp_udp_close(&a);
    sp_udp_close(&b);
    sp_udp_close(&c);
    sp_udp_close(&d);
}

static void test_bad_checksum_dropped_without_icmp(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    struct recorder r;
    bind_recorder(h, &s, &r, 7000);
    const uint16_t ports[] = {7000, 9 /* closed: still no port unreachable */};
    for (size_t i = 0; i < 2; i++) {
        uint8_t f[H_FRAME_CAP];
        size_t n = h_udp(f, H_IP_PEER, H_IP_US, 40000, ports[i], (const uint8_t *)"data", 4);
        f[SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN + SP_UDP_HDR_LEN] ^= 0x20;
        h_rx(h, 2000, f, n);
    }
    h_assert_silent(h);
    assert_int_equal(r.calls, 0);
    assert_int_equal(h_stat(h, SP_STAT_drop_udp_bad_checksum), 2);
    assert_int_equal(h_stat(h, SP_STAT_udp_rx), 0);
    assert_int_equal(h_stat(h, SP_STAT_icmp_unreach_tx), 0);
    sp_udp_close(&s);
}

static void test_zero_checksum_accepted(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    struct recorder r;
    bind_recorder(h, &s, &r, 7000);
    uint8_t f[H_FRAME_CAP];
    size_t n = h_udp(f, H_IP_PEER, H_IP_US, 40000, 7000, (const uint8_t *)"nocsum", 6);
    sp_put16(f + SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN + 6, 0);
    h_rx(h, 2000, f, n);
    assert_int_equal(r.calls, 1);
    assert_memory_equal(r.data, "nocsum", 6);
    sp_udp_close(&s);
}

/* A UDP length shorter than the IP payload bounds the datagram; the rest is not data. */
static void test_udp_length_bounds_the_payload(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    struct recorder r;
    bind_recorder(h, &s, &r, 7000);
    uint8_t udp[32], f[H_FRAME_CAP];
    size_t ulen = h_udp_dgram(udp, H_IP_PEER, H_IP_US, 40000, 7000, (const uint8_t *)"ab", 2);
    memset(udp + ulen, 0xee, 6); /* six bytes inside the IP datagram but after the UDP one */
    struct sp_ipv4_repr ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_UDP, ulen + 6);
    size_t n = h_ip_frame(f, &ip, udp, ulen + 6);
    h_rx(h, 2000, f, n);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.len, 2);
    assert_memory_equal(r.data, "ab", 2);
    sp_udp_close(&s);
}

static void test_malformed_and_truncated(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    struct recorder r;
    bind_recorder(h, &s, &r, 7000);
    uint8_t udp[32], f[H_FRAME_CAP];
    struct sp_ipv4_repr ip;
    size_t n;

    /* Length field beyond the IP payload (checksum left zero so only the length is wrong). */
    h_udp_dgram(udp, H_IP_PEER, H_IP_US, 40000, 7000, (const uint8_t *)"abcd", 4);
    sp_put16(udp + 4, 100);
    sp_put16(udp + 6, 0);
    ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_UDP, 12);
    n = h_ip_frame(f, &ip, udp, 12);
    h_rx(h, 2000, f, n);
    assert_int_equal(h_stat(h, SP_STAT_drop_udp_malformed), 1);

    /* Length field below the header. */
    h_udp_dgram(udp, H_IP_PEER, H_IP_US, 40000, 7000, (const uint8_t *)"abcd", 4);
    sp_put16(udp + 4, 7);
    sp_put16(udp + 6, 0);
    n = h_ip_frame(f, &ip, udp, 12);
    h_rx(h, 2000, f, n);
    assert_int_equal(h_stat(h, SP_STAT_drop_udp_malformed), 2);

    /* Destination port 0. */
    h_udp_dgram(udp, H_IP_PEER, H_IP_US, 40000, 0, (const uint8_t *)"abcd", 4);
    n = h_ip_frame(f, &ip, udp, 12);
    h_rx(h, 2000, f, n);
    assert_int_equal(h_stat(h, SP_STAT_drop_udp_malformed), 3);

    /* Shorter than the UDP header. */
    ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_UDP, 7);
    n = h_ip_frame(f, &ip, udp, 7);
    h_rx(h, 2000, f, n);
    assert_int_equal(h_stat(h, SP_STAT_drop_udp_truncated), 1);

    h_assert_silent(h);
    assert_int_equal(r.calls, 0);
    assert_int_equal(h_stat(h, SP_STAT_udp_rx), 0);
    sp_udp_close(&s);
}

static void test_socket_without_callback_counts_drop(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    memset(&s, 0, sizeof s);
    assert_int_equal(sp_udp_bind(h->iface, &s, 7000, NULL), 0);
    uint8_t f[H_FRAME_CAP];
    size_t n = h_udp(f, H_IP_PEER, H_IP_US, 40000, 7000, (const uint8_t *)"x", 1);
    h_rx(h, 2000, f, n);
    assert_int_equal(h_stat(h, SP_STAT_drop_udp_rx_dropped), 1);
    h_assert_silent(h);
    sp_udp_close(&s);
}

static void test_closed_socket_no_longer_receives(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    struct recorder r;
    bind_recorder(h, &s, &r, 7000);
    sp_udp_close(&s);
    uint8_t f[H_FRAME_CAP];
    size_t n = h_udp(f, H_IP_PEER, H_IP_US, 40000, 7000, (const uint8_t *)"x", 1);
    h_rx(h, 2000, f, n);
    assert_int_equal(r.calls, 0);
    assert_int_equal(h_stat(h, SP_STAT_drop_udp_no_port), 1);
    assert_int_equal(h_pending(h), 1); /* the port unreachable */
}

static void test_echo_from_callback(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    struct recorder r;
    bind_recorder(h, &s, &r, 7);
    r.echo = true;
    uint8_t data[1000], f[H_FRAME_CAP];
    h_fill(data, sizeof data, 2);
    size_t n = h_udp(f, H_IP_PEER, H_IP_US, 40000, 7, data, sizeof data);
    h_rx(h, 2000, f, n);
    assert_int_equal(r.calls, 1);
    assert_int_equal(r.echo_rc, 0);

    struct h_ip_out o;
    h_take_ip(h, f, &o);
    h_assert_silent(h);
    assert_true(sp_mac_eq(o.eth.dst, H_MAC_PEER)); /* learned from the datagram's frame */
    assert_int_equal(o.ip.dst, H_IP_PEER);
    assert_int_equal(o.ip.protocol, SP_IP_PROTO_UDP);
    assert_int_equal(sp_get16(o.payload), 7);
    assert_int_equal(sp_get16(o.payload + 2), 40000);
    assert_int_equal(sp_get16(o.payload + 4), SP_UDP_HDR_LEN + sizeof data);
    uint32_t sum = sp_csum_pseudo_ipv4(H_IP_US, H_IP_PEER, SP_IP_PROTO_UDP, (uint16_t)o.payload_len);
    assert_int_equal(sp_csum_finish(sp_csum_add(sum, o.payload, o.payload_len)), 0);
    assert_memory_equal(o.payload + SP_UDP_HDR_LEN, data, sizeof data);
    assert_int_equal(h_stat(h, SP_STAT_udp_rx), 1);
    assert_int_equal(h_stat(h, SP_STAT_udp_tx), 1);
    sp_udp_close(&s);
}

static void test_send_errors(void **state)
{
    struct harness *h = *state;
    static uint8_t big[65508];
    struct sp_udp_socket s = {0};
    memset(&s, 0, sizeof s);
    assert_int_equal(sp_udp_bind(h->iface, &s, 7000, NULL), 0);
    assert_int_equal(sp_udp_send(&s, H_IP_PEER, 9, big, sizeof big), SP_EMSGSIZE);
    assert_int_equal(sp_udp_send(&s, H_IP_PEER, 0, "x", 1), SP_EINVAL);
    assert_int_equal(sp_udp_send(&s, 0xcb007101u, 9, "x", 1), SP_ENOROUTE); /* off-link, no gateway */
    assert_int_equal(h_stat(h, SP_STAT_drop_ip_no_route), 1);
    sp_udp_close(&s);
    assert_int_equal(sp_udp_send(&s, H_IP_PEER, 9, "x", 1), SP_EINVAL);
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_udp_tx), 0);
}

/* The largest datagram, 65507 bytes, goes out in 45 fragments that add up to it. */
static void test_largest_datagram(void **state)
{
    struct harness *h = *state;
    static uint8_t data[65507], back[65515];
    h_fill(data, sizeof data, 9);
    h_learn_peer(h, 2000);
    struct sp_udp_socket s = {0};
    memset(&s, 0, sizeof s);
    assert_int_equal(sp_udp_bind(h->iface, &s, 7000, NULL), 0);
    sp_iface_set_now(h->iface, 2000);
    assert_int_equal(sp_udp_send(&s, H_IP_PEER, 9, data, sizeof data), 0);
    size_t off = 0;
    int frags = 0;
    while (h_pending(h) > 0) {
        uint8_t f[H_FRAME_CAP];
        struct h_ip_out o;
        h_take_ip(h, f, &o);
        assert_int_equal(o.ip.frag_offset, off);
        assert_true(off + o.payload_len <= sizeof back);
        memcpy(back + off, o.payload, o.payload_len);
        off += o.payload_len;
        frags++;
        assert_int_equal(o.ip.more_frags, off < sizeof back);
    }
    assert_int_equal(frags, 45);
    assert_int_equal(off, sizeof back);
    uint32_t sum = sp_csum_pseudo_ipv4(H_IP_US, H_IP_PEER, SP_IP_PROTO_UDP, sizeof back);
    assert_int_equal(sp_csum_finish(sp_csum_add(sum, back, sizeof back)), 0);
    assert_memory_equal(back + SP_UDP_HDR_LEN, data, sizeof data);
    sp_udp_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_receive, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_receive_broadcast, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_send_exact_bytes, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_send_to_broadcast_needs_no_arp, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_port_in_use, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_ephemeral_ports, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_bad_checksum_dropped_without_icmp, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_zero_checksum_accepted, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_udp_length_bounds_the_payload, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_malformed_and_truncated, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_socket_without_callback_counts_drop, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_closed_socket_no_longer_receives, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_echo_from_callback, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_send_errors, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_largest_datagram, h_setup, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
