/* IPv4 fragmentation and reassembly (RFC 791 3.2, RFC 815) through the interface: complete
 * datagrams in any order, duplicates, overlaps, timeouts, the slot and size bounds, and the
 * fragmentation of what we send. */
#include "iface_harness.h"

#include "iface_internal.h" /* sp_ip_output, to send with DF set */

/* A fragment from the peer: bytes [off, off + len) of a datagram's payload. */
static size_t frag(uint8_t *f, uint16_t ident, uint8_t proto, uint16_t off, bool mf, const uint8_t *data, size_t len)
{
    struct sp_ipv4_repr ip = h_ip(H_IP_PEER, H_IP_US, proto, len);
    ip.ident = ident;
    ip.frag_offset = off;
    ip.more_frags = mf;
    return h_ip_frame(f, &ip, data, len);
}

static void rx_frag(struct harness *h, sp_time_t now, uint16_t ident, const uint8_t *msg, uint16_t off,
                    size_t len, bool mf)
{
    uint8_t f[H_FRAME_CAP];
    size_t n = frag(f, ident, SP_IP_PROTO_ICMP, off, mf, msg + off, len);
    h_rx(h, now, f, n);
}

/* A 48-byte echo request (ident 0x0a0a, seq 1, 40 bytes of data) in msg. */
static size_t small_ping(uint8_t *msg, uint8_t *data)
{
    h_fill(data, 40, 11);
    return h_icmp_echo(msg, SP_ICMP_ECHO_REQUEST, 0x0a0a, 1, data, 40);
}

/* Asserts the one frame sent is the unfragmented reply to small_ping. */
static void expect_pong(struct harness *h, const uint8_t *data)
{
    uint8_t f[H_FRAME_CAP];
    struct h_ip_out o;
    h_take_ip(h, f, &o);
    h_assert_silent(h);
    assert_false(o.ip.more_frags);
    assert_int_equal(o.ip.frag_offset, 0);
    assert_int_equal(o.payload_len, 48);
    assert_int_equal(o.payload[0], SP_ICMP_ECHO_REPLY);
    assert_int_equal(sp_get16(o.payload + 4), 0x0a0a);
    assert_int_equal(sp_csum(o.payload, o.payload_len), 0);
    assert_memory_equal(o.payload + SP_ICMP_HDR_LEN, data, 40);
}

/* The same, as the first datagram reassembled. */
static void expect_small_pong(struct harness *h, const uint8_t *data)
{
    expect_pong(h, data);
    assert_int_equal(h_stat(h, SP_STAT_ip_reasm_ok), 1);
}

static void test_in_order(void **state)
{
    struct harness *h = *state;
    uint8_t msg[64], data[40];
    assert_int_equal(small_ping(msg, data), 48);
    rx_frag(h, 2000, 7, msg, 0, 16, true);
    rx_frag(h, 2001, 7, msg, 16, 16, true);
    h_assert_silent(h);
    assert_int_equal(sp_iface_poll_at(h->iface), 2000 + SP_REASM_TIMEOUT_MS);
    rx_frag(h, 2002, 7, msg, 32, 16, false);
    expect_small_pong(h, data);
    /* The slot is free again: no timer left for it. */
    assert_true(sp_iface_poll_at(h->iface) > 2000 + SP_REASM_TIMEOUT_MS);
}

static void test_out_of_order(void **state)
{
    struct harness *h = *state;
    uint8_t msg[64], data[40];
    small_ping(msg, data);
    rx_frag(h, 2000, 7, msg, 32, 16, false);
    rx_frag(h, 2000, 7, msg, 0, 16, true);
    h_assert_silent(h);
    rx_frag(h, 2000, 7, msg, 16, 16, true);
    expect_small_pong(h, data);
}

static void test_exact_duplicate_is_ignored(void **state)
{
    struct harness *h = *state;
    uint8_t msg[64], data[40];
    small_ping(msg, data);
    rx_frag(h, 2000, 7, msg, 0, 16, true);
    rx_frag(h, 2000, 7, msg, 0, 16, true);
    rx_frag(h, 2000, 7, msg, 32, 16, false);
    rx_frag(h, 2000, 7, msg, 32, 16, false);
    h_assert_silent(h);
    rx_frag(h, 2000, 7, msg, 16, 16, true);
    expect_small_pong(h, data);
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_overlap), 0);
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_bad), 0);
}

static void test_overlap_discards_the_datagram(void **state)
{
    struct harness *h = *state;
    uint8_t msg[64], data[40];
    small_ping(msg, data);
    rx_frag(h, 2000, 7, msg, 0, 16, true);
    rx_frag(h, 2000, 7, msg, 8, 16, true); /* [8, 24) straddles the end of [0, 16) */
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_overlap), 1);
    /* What follows cannot complete it: the first part is gone with the slot. */
    rx_frag(h, 2000, 7, msg, 16, 16, true);
    rx_frag(h, 2000, 7, msg, 32, 16, false);
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_ip_reasm_ok), 0);
}

static void test_timeout(void **state)
{
    struct harness *h = *state;
    uint8_t msg[64], data[40];
    small_ping(msg, data);
    rx_frag(h, 5000, 7, msg, 0, 16, true);
    rx_frag(h, 6000, 7, msg, 16, 16, true);
    /* The deadline runs from the first fragment. */
    assert_int_equal(sp_iface_poll_at(h->iface), 5000 + SP_REASM_TIMEOUT_MS);
    sp_iface_poll(h->iface, 5000 + SP_REASM_TIMEOUT_MS - 1);
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_timeout), 0);
    sp_iface_poll(h->iface, 5000 + SP_REASM_TIMEOUT_MS);
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_timeout), 1);
    h_assert_silent(h); /* no time-exceeded: RFC 1122 3.2.1.4 leaves it optional */

    /* The last fragment now starts a new datagram that never completes. */
    rx_frag(h, 5000 + SP_REASM_TIMEOUT_MS + 1, 7, msg, 32, 16, false);
    h_assert_silent(h);
    assert_int_equal(sp_iface_poll_at(h->iface), 5000 + 2 * SP_REASM_TIMEOUT_MS + 1);
}

/* Every slot held by a datagram that never completes (a flood of first fragments): a new datagram
 * discards the oldest of them and is still reassembled; the other holders keep their slots. */
static void test_full_slots_evict_the_oldest(void **state)
{
    struct harness *h = *state;
    uint8_t msg[64], data[40];
    small_ping(msg, data);
    for (uint16_t id = 1; id <= SP_REASM_SLOTS; id++)
        rx_frag(h, 2000 + id, id, msg, 0, 16, true);
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_evicted), 0);
    /* A legitimate datagram, its fragments out of order: the first takes datagram 1's slot. */
    rx_frag(h, 2100, 100, msg, 32, 16, false);
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_evicted), 1);
    rx_frag(h, 2101, 100, msg, 16, 16, true);
    rx_frag(h, 2102, 100, msg, 0, 16, true);
    expect_small_pong(h, data);
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_evicted), 1);
    assert_int_equal(h_stat(h, SP_STAT_ip_reasm_ok), 1);

    /* Datagram 1 is gone: its later fragments start a datagram of their own (in the slot the
     * completed one freed), which cannot complete without its first part. */
    rx_frag(h, 2200, 1, msg, 16, 16, true);
    rx_frag(h, 2201, 1, msg, 32, 16, false);
    h_assert_silent(h);
    /* Datagrams 2 to 4 kept their slots and complete. */
    for (uint16_t id = 2; id <= SP_REASM_SLOTS; id++) {
        rx_frag(h, 2300, id, msg, 16, 16, true);
        rx_frag(h, 2300, id, msg, 32, 16, false);
        expect_pong(h, data);
    }
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_evicted), 1);
    assert_int_equal(h_stat(h, SP_STAT_ip_reasm_ok), SP_REASM_SLOTS);
}

/* A flood of first fragments, many times the slots, then a whole fragmented datagram: it is
 * reassembled, and every flood datagram past the slots was counted once as evicted. */
static void test_flood_of_incomplete_datagrams(void **state)
{
    struct harness *h = *state;
    uint8_t msg[64], data[40];
    small_ping(msg, data);
    const uint16_t flood = 1000;
    for (uint16_t id = 1; id <= flood; id++)
        rx_frag(h, 2000, id, msg, 0, 16, true);
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_evicted), flood - SP_REASM_SLOTS);
    rx_frag(h, 2000, 5000, msg, 0, 16, true);
    rx_frag(h, 2000, 5000, msg, 16, 16, true);
    rx_frag(h, 2000, 5000, msg, 32, 16, false);
    expect_small_pong(h, data);
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_evicted), flood - SP_REASM_SLOTS + 1);
    /* The rest still time out as before. */
    sp_iface_poll(h->iface, 2000 + SP_REASM_TIMEOUT_MS);
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_timeout), SP_REASM_SLOTS - 1);
}

static void test_oversize(void **state)
{
    struct harness *h = *state;
    uint8_t zeros[16] = {0}, f[H_FRAME_CAP];
    /* The last possible offset, 8191 * 8: the datagram would exceed 65535 bytes. */
    size_t n = frag(f, 9, SP_IP_PROTO_ICMP, 65528, false, zeros, 8);
    h_rx(h, 2000, f, n);
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_too_big), 1);
    /* 65512 + 8 bytes of payload + a 20-byte header = 65540. */
    n = frag(f, 9, SP_IP_PROTO_ICMP, 65512, true, zeros, 8);
    h_rx(h, 2000, f, n);
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_too_big), 2);
    /* 65488 + 16 + 20 = 65524 still fits. */
    n = frag(f, 9, SP_IP_PROTO_ICMP, 65488, true, zeros, 16);
    h_rx(h, 2000, f, n);
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_too_big), 2);
    h_assert_silent(h);
}

static void test_middle_fragment_not_multiple_of_8(void **state)
{
    struct harness *h = *state;
    uint8_t msg[64], data[40];
    small_ping(msg, data);
    rx_frag(h, 2000, 7, msg, 0, 12, true);
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_bad), 1);
    h_assert_silent(h);
}

static void test_conflicting_last_fragments(void **state)
{
    struct harness *h = *state;
    uint8_t msg[64], data[40];
    small_ping(msg, data);
    rx_frag(h, 2000, 7, msg, 32, 16, false);
    rx_frag(h, 2000, 7, msg, 32, 8, false); /* a second, different end of the datagram */
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_bad), 1);
    h_assert_silent(h);
}

/* A last fragment that ends before bytes already received contradicts them: the datagram is
 * discarded at once (as Linux's ip_frag_queue does), not left to hold a slot until it times out. */
static void test_last_fragment_ending_before_received_data(void **state)
{
    struct harness *h = *state;
    uint8_t msg[64], data[40];
    small_ping(msg, data);
    rx_frag(h, 2000, 7, msg, 0, 16, true);
    rx_frag(h, 2000, 7, msg, 16, 16, true);
    rx_frag(h, 2000, 7, msg, 8, 8, false); /* "the datagram ends at 16" */
    assert_int_equal(h_stat(h, SP_STAT_drop_reasm_bad), 1);
    assert_int_equal(sp_iface_poll_at(h->iface), 2000 + SP_ARP_ENTRY_TTL_MS); /* no slot left */
    h_assert_silent(h);
}

/* Reassembles what the stack sent as `count` fragments of one datagram into out; asserts the
 * fragment layout for MTU 1500 and returns the payload length. */
static size_t take_fragments(struct harness *h, int count, size_t total, uint8_t *out, struct sp_ipv4_repr *first)
{
    size_t off = 0;
    for (int i = 0; i < count; i++) {
        uint8_t f[H_FRAME_CAP];
        struct h_ip_out o;
        h_take_ip(h, f, &o);
        assert_true(sp_mac_eq(o.eth.dst, H_MAC_PEER));
        size_t want = i < count - 1 ? 1480 : total - off;
        assert_int_equal(o.payload_len, want);
        assert_int_equal(o.ip.frag_offset, off);
        assert_int_equal(o.ip.more_frags, i < count - 1);
        assert_false(o.ip.dont_frag);
        if (i == 0)
            *first = o.ip;
        else
            assert_int_equal(o.ip.ident, first->ident);
        assert_int_equal(o.ip.src, H_IP_US);
        assert_int_equal(o.ip.dst, H_IP_PEER);
        memcpy(out + off, o.payload, o.payload_len);
        off += o.payload_len;
    }
    h_assert_silent(h);
    assert_int_equal(off, total);
    return off;
}

static void test_big_ping_in_fragments_gets_a_fragmented_reply(void **state)
{
    struct harness *h = *state;
    static uint8_t data[4000], msg[4008], back[4008];
    h_fill(data, sizeof data, 21);
    assert_int_equal(h_icmp_echo(msg, SP_ICMP_ECHO_REQUEST, 0x4242, 17, data, sizeof data), 4008);
    rx_frag(h, 2000, 0x3333, msg, 0, 1480, true);
    rx_frag(h, 2000, 0x3333, msg, 1480, 1480, true);
    h_assert_silent(h);
    rx_frag(h, 2000, 0x3333, msg, 2960, 1048, false);

    struct sp_ipv4_repr first;
    take_fragments(h, 3, sizeof msg, back, &first);
    assert_int_equal(first.protocol, SP_IP_PROTO_ICMP);
    assert_int_equal(back[0], SP_ICMP_ECHO_REPLY);
    assert_int_equal(back[1], 0);
    assert_int_equal(sp_get16(back + 4), 0x4242);
    assert_int_equal(sp_get16(back + 6), 17);
    assert_memory_equal(back + SP_ICMP_HDR_LEN, data, sizeof data);
    assert_int_equal(sp_csum(back, sizeof back), 0);
    assert_int_equal(h_stat(h, SP_STAT_ip_reasm_ok), 1);
    assert_int_equal(h_stat(h, SP_STAT_icmp_echo_tx), 1);
    assert_int_equal(h_stat(h, SP_STAT_ip_frag_tx), 3);
}

static void test_big_udp_send_is_fragmented(void **state)
{
    struct harness *h = *state;
    static uint8_t data[3000], back[3008];
    h_fill(data, sizeof data, 4);
    h_learn_peer(h, 2000);
    struct sp_udp_socket s = {0};
    assert_int_equal(sp_udp_bind(h->iface, &s, 5353, NULL), 0);
    sp_iface_set_now(h->iface, 2000);
    assert_int_equal(sp_udp_send(&s, H_IP_PEER, 9999, data, sizeof data), 0);

    struct sp_ipv4_repr first;
    take_fragments(h, 3, sizeof back, back, &first);
    assert_int_equal(first.protocol, SP_IP_PROTO_UDP);
    assert_int_equal(sp_get16(back), 5353);
    assert_int_equal(sp_get16(back + 2), 9999);
    assert_int_equal(sp_get16(back + 4), sizeof back);
    uint32_t sum = sp_csum_pseudo_ipv4(H_IP_US, H_IP_PEER, SP_IP_PROTO_UDP, sizeof back);
    assert_int_equal(sp_csum_finish(sp_csum_add(sum, back, sizeof back)), 0);
    assert_memory_equal(back + SP_UDP_HDR_LEN, data, sizeof data);
    assert_int_equal(h_stat(h, SP_STAT_udp_tx), 1);
    assert_int_equal(h_stat(h, SP_STAT_ip_frag_tx), 3);
    sp_udp_close(&s);
}

/* A fragmented datagram to a host still being resolved waits whole in the queue. */
static void test_fragments_wait_for_resolution(void **state)
{
    struct harness *h = *state;
    static uint8_t data[2000], back[2008];
    h_fill(data, sizeof data, 8);
    struct sp_udp_socket s = {0};
    assert_int_equal(sp_udp_bind(h->iface, &s, 5353, NULL), 0);
    sp_iface_set_now(h->iface, 2000);
    assert_int_equal(sp_udp_send(&s, H_IP_PEER, 9999, data, sizeof data), 0);
    h_expect_arp_request(h, H_IP_PEER);
    h_assert_silent(h);
    uint8_t f[H_FRAME_CAP];
    h_rx(h, 2100, f, h_arp_reply(f, H_MAC_PEER, H_IP_PEER));
    struct sp_ipv4_repr first;
    take_fragments(h, 2, sizeof back, back, &first);
    assert_memory_equal(back + SP_UDP_HDR_LEN, data, sizeof data);
    sp_udp_close(&s);
}

static void test_dont_fragment_oversize_is_refused(void **state)
{
    struct harness *h = *state;
    static uint8_t data[2000];
    h_learn_peer(h, 2000);
    struct sp_ip_packet pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.ip.src = H_IP_US;
    pkt.ip.dst = H_IP_PEER;
    pkt.ip.protocol = SP_IP_PROTO_UDP;
    pkt.ip.dont_frag = true;
    pkt.kind = SP_L4_UDP;
    pkt.l4.udp = (struct sp_udp_repr){.src_port = 1, .dst_port = 2, .payload = data, .payload_len = sizeof data};
    assert_int_equal(sp_ip_output(h->iface, 2000, &pkt), SP_EMSGSIZE);
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_drop_ip_too_big), 1);
    assert_int_equal(h_stat(h, SP_STAT_ip_frag_tx), 0);

    /* DF on a datagram that fits is simply sent with DF. */
    pkt.l4.udp.payload_len = 100;
    assert_int_equal(sp_ip_output(h->iface, 2000, &pkt), 0);
    uint8_t f[H_FRAME_CAP];
    struct h_ip_out o;
    h_take_ip(h, f, &o);
    assert_true(o.ip.dont_frag);
    assert_int_equal(o.payload_len, SP_UDP_HDR_LEN + 100);
}

/* A refused datagram was never transmitted: ip_tx counts only what went out. */
static void test_refused_datagram_is_not_counted_as_sent(void **state)
{
    struct harness *h = *state;
    static uint8_t data[2000];
    h_learn_peer(h, 2000);
    struct sp_ip_packet pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.ip.src = H_IP_US;
    pkt.ip.dst = H_IP_PEER;
    pkt.ip.protocol = SP_IP_PROTO_UDP;
    pkt.ip.dont_frag = true;
    pkt.kind = SP_L4_UDP;
    pkt.l4.udp = (struct sp_udp_repr){.src_port = 1, .dst_port = 2, .payload = data, .payload_len = sizeof data};
    assert_int_equal(sp_ip_output(h->iface, 2000, &pkt), SP_EMSGSIZE);
    assert_int_equal(h_stat(h, SP_STAT_ip_tx), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_in_order, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_out_of_order, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_exact_duplicate_is_ignored, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_overlap_discards_the_datagram, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_timeout, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_full_slots_evict_the_oldest, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_flood_of_incomplete_datagrams, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_oversize, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_middle_fragment_not_multiple_of_8, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_conflicting_last_fragments, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_last_fragment_ending_before_received_data, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_big_ping_in_fragments_gets_a_fragmented_reply, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_big_udp_send_is_fragmented, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_fragments_wait_for_resolution, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_dont_fragment_oversize_is_refused, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_refused_datagram_is_not_counted_as_sent, h_setup, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
