/* The interface's ARP and neighbour cache (RFC 826, RFC 1122 2.3.2) on the memory device:
 * answers, learning, expiry, resolution with its queue and retries, and the cache bound. */
#include "iface_harness.h"

#define IP_OTHER 0xc0000263u /* 192.0.2.99: on-link, unknown */
#define MAC_OTHER ((struct sp_mac){{0x02, 0, 0, 0, 0, 0x63}})

/* "Who has 192.0.2.2? Tell 192.0.2.1" and our answer, from scapy:
 * Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:00:00:00:01")/ARP(op=1, hwsrc="02:00:00:00:00:01",
 *   psrc="192.0.2.1", pdst="192.0.2.2") padded to 60, and
 * Ether(dst="02:00:00:00:00:01", src="02:00:00:00:00:02")/ARP(op=2, hwsrc="02:00:00:00:00:02",
 *   psrc="192.0.2.2", hwdst="02:00:00:00:00:01", pdst="192.0.2.1") padded to 60. */
static const char PEER_REQUEST[] =
    "ffffffffffff 020000000001 0806 0001 0800 06 04 0001 020000000001 c0000201 000000000000 c0000202"
    "000000000000000000000000000000000000";
static const char OUR_REPLY[] =
    "020000000001 020000000002 0806 0001 0800 06 04 0002 020000000002 c0000202 020000000001 c0000201"
    "000000000000000000000000000000000000";
/* Ether(dst="ff:ff:ff:ff:ff:ff", src="02:00:00:00:00:02")/ARP(op=1, hwsrc="02:00:00:00:00:02",
 *   psrc="192.0.2.2", pdst="192.0.2.2") padded: the announcement of RFC 5227 2.3. */
static const char OUR_ANNOUNCE[] =
    "ffffffffffff 020000000002 0806 0001 0800 06 04 0001 020000000002 c0000202 000000000000 c0000202"
    "000000000000000000000000000000000000";

static void test_gratuitous_arp_at_creation(void **state)
{
    (void)state;
    struct harness *h = h_open_ex(true);
    uint8_t f[H_FRAME_CAP], want[64];
    assert_int_equal(h_pending(h), 1);
    size_t len = h_take(h, f);
    assert_int_equal(sp_test_hex(OUR_ANNOUNCE, want, sizeof want), 60);
    assert_int_equal(len, 60);
    assert_memory_equal(f, want, 60);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_gratuitous), 1);
    assert_int_equal(h_stat(h, SP_STAT_tx_frames), 1);
    assert_int_equal(h_stat(h, SP_STAT_tx_bytes), 60);
    h_close(h);
}

static void test_request_for_us_is_answered(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP], want[64];
    int n = sp_test_hex(PEER_REQUEST, f, sizeof f);
    assert_int_equal(n, 60);
    h_rx(h, 2000, f, (size_t)n);
    assert_int_equal(h_pending(h), 1);
    size_t len = h_take(h, f);
    assert_int_equal(sp_test_hex(OUR_REPLY, want, sizeof want), 60);
    assert_int_equal(len, 60);
    assert_memory_equal(f, want, 60);
    assert_int_equal(h_stat(h, SP_STAT_arp_rx), 1);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_reply), 1);
    assert_int_equal(h_stat(h, SP_STAT_arp_learned), 1);

    /* The asker is learned (RFC 826: the target merges the sender before answering). */
    struct sp_mac mac;
    assert_true(sp_iface_neighbour(h->iface, H_IP_PEER, &mac));
    assert_true(sp_mac_eq(mac, H_MAC_PEER));
}

static void test_request_unicast_to_our_mac_is_answered(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    size_t n = h_arp(f, H_MAC_US, SP_ARP_OP_REQUEST, MAC_OTHER, IP_OTHER, H_MAC_US, H_IP_US);
    h_rx(h, 2000, f, n);
    struct sp_eth_repr eth;
    struct sp_arp_repr arp;
    size_t len = h_take(h, f);
    h_parse_arp(f, len, &eth, &arp);
    assert_true(sp_mac_eq(eth.dst, MAC_OTHER));
    assert_int_equal(arp.op, SP_ARP_OP_REPLY);
    assert_true(sp_mac_eq(arp.sha, H_MAC_US));
    assert_int_equal(arp.spa, H_IP_US);
    assert_true(sp_mac_eq(arp.tha, MAC_OTHER));
    assert_int_equal(arp.tpa, IP_OTHER);
}

static void test_request_for_another_ip_is_ignored(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    size_t n = h_arp_request(f, H_MAC_PEER, H_IP_PEER, IP_OTHER);
    h_rx(h, 2000, f, n);
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_not_for_us), 1);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_reply), 0);
    /* Not for us and not known before: not added (RFC 826's merge flag). */
    struct sp_mac mac;
    assert_false(sp_iface_neighbour(h->iface, H_IP_PEER, &mac));
    assert_int_equal(h_stat(h, SP_STAT_arp_learned), 0);
}

static void test_request_for_another_ip_refreshes_known_sender(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    h_learn_peer(h, 2000);
    /* The peer moved to another MAC: a known sender is updated even by a request not for us. */
    struct sp_mac moved = {{0x02, 0, 0, 0, 0, 0x11}};
    size_t n = h_arp_request(f, moved, H_IP_PEER, IP_OTHER);
    h_rx(h, 3000, f, n);
    h_assert_silent(h);
    struct sp_mac mac;
    assert_true(sp_iface_neighbour(h->iface, H_IP_PEER, &mac));
    assert_true(sp_mac_eq(mac, moved));
    assert_int_equal(h_stat(h, SP_STAT_arp_learned), 2);
}

static void test_unsupported_and_malformed_are_dropped(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];

    size_t n = h_arp_request(f, H_MAC_PEER, H_IP_PEER, H_IP_US);
    sp_put16(f + 14, 6); /* hardware type IEEE 802 */
    h_rx(h, 2000, f, n);
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_unsupported), 1);

    n = h_arp_request(f, H_MAC_PEER, H_IP_PEER, H_IP_US);
    sp_put16(f + 16, 0x86dd); /* protocol type IPv6 */
    h_rx(h, 2000, f, n);
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_unsupported), 2);

    n = h_arp_request(f, H_MAC_PEER, H_IP_PEER, H_IP_US);
    f[18] = 8; /* hardware address length 8: still inside the 46-byte payload */
    h_rx(h, 2000, f, n);
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_unsupported), 3);

    n = h_arp_request(f, H_MAC_PEER, H_IP_PEER, H_IP_US);
    f[19] = 16; /* protocol address length 16: addresses would end past the buffer */
    h_rx(h, 2000, f, n);
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_truncated), 1);

    n = h_arp_request(f, H_MAC_PEER, H_IP_PEER, H_IP_US);
    h_rx(h, 2000, f, SP_ETH_HDR_LEN + 7); /* not even the fixed part */
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_truncated), 2);

    n = h_arp_request(f, H_MAC_PEER, H_IP_PEER, H_IP_US);
    h_rx(h, 2000, f, SP_ETH_HDR_LEN + 27); /* one byte short of the target address */
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_truncated), 3);

    n = h_arp_request(f, H_MAC_PEER, H_IP_PEER, H_IP_US);
    sp_put16(f + 20, 3); /* operation 3 (RARP request) */
    h_rx(h, 2000, f, n);
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_malformed), 1);

    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_arp_rx), 7);
    assert_int_equal(h_stat(h, SP_STAT_arp_learned), 0);
    struct sp_mac mac;
    assert_false(sp_iface_neighbour(h->iface, H_IP_PEER, &mac));
}

/* A request for us whose ARP sender is (sha, spa), in a frame from the peer's (good) MAC. */
static size_t arp_request_claiming(uint8_t *f, struct sp_mac sha, uint32_t spa, uint32_t tpa)
{
    size_t n = h_arp_request(f, sha, spa, tpa);
    h_eth(f, H_MAC_PEER, sp_mac_broadcast, SP_ETHERTYPE_ARP);
    return n;
}

static void test_bad_senders_are_not_learned(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    const struct {
        struct sp_mac sha;
        uint32_t spa;
    } bad[] = {
        {{{0x03, 0, 0, 0, 0, 0x01}}, H_IP_PEER}, /* multicast MAC */
        {{{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}, H_IP_PEER},
        {{{0, 0, 0, 0, 0, 0}}, H_IP_PEER},       /* no MAC at all */
        {{{0x02, 0, 0, 0, 0, 0x02}}, H_IP_PEER}, /* our MAC */
        {{{0x02, 0, 0, 0, 0, 0x01}}, H_IP_US},   /* our address: a conflict, not a neighbour */
        {{{0x02, 0, 0, 0, 0, 0x01}}, H_IP_BCAST},
        {{{0x02, 0, 0, 0, 0, 0x01}}, 0xe0000001u},
        /* loopback (tests/fuzz/corpus/frames/arp_request_from_loopback.bin): once answered */
        {{{0x02, 0, 0, 0, 0, 0x01}}, 0x7ffe3682u},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = arp_request_claiming(f, bad[i].sha, bad[i].spa, H_IP_US);
        h_rx(h, 2000, f, n);
    }
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_bad_sender), sizeof bad / sizeof bad[0]);
    assert_int_equal(h_stat(h, SP_STAT_arp_learned), 0);
    struct sp_mac mac;
    assert_false(sp_iface_neighbour(h->iface, H_IP_PEER, &mac));
}

/* A known neighbour is not overwritten by a sender claiming no MAC, even by a packet that only
 * refreshes (not for us). */
static void test_zero_sender_mac_does_not_replace_a_neighbour(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    h_learn_peer(h, 2000);
    h_rx(h, 2100, f, arp_request_claiming(f, sp_mac_zero, H_IP_PEER, 0xc0000263u));
    h_rx(h, 2200, f, arp_request_claiming(f, sp_mac_zero, H_IP_PEER, H_IP_US));
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_bad_sender), 2);
    struct sp_mac mac;
    assert_true(sp_iface_neighbour(h->iface, H_IP_PEER, &mac));
    assert_true(sp_mac_eq(mac, H_MAC_PEER));
    assert_int_equal(h_stat(h, SP_STAT_arp_learned), 1);
}

/* A frame whose Ethernet source is no station (all zero, broadcast, a group address) is dropped
 * before ARP sees it: nothing learned, nothing answered. The sender hardware address says the
 * same in these frames, as a real (or forged) request would. */
static void test_frames_from_bad_source_macs_are_dropped(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    const struct sp_mac bad[] = {
        {{0, 0, 0, 0, 0, 0}},
        {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
        {{0x01, 0x00, 0x5e, 0x00, 0x00, 0x01}},
        {{0x03, 0, 0, 0, 0, 0x01}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        h_rx(h, 2000, f, h_arp_request(f, bad[i], H_IP_PEER, H_IP_US));
        h_rx(h, 2000, f, h_arp_reply(f, bad[i], H_IP_PEER));
    }
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_drop_eth_bad_src_mac), 2 * (sizeof bad / sizeof bad[0]));
    assert_int_equal(h_stat(h, SP_STAT_arp_rx), 0);
    assert_int_equal(h_stat(h, SP_STAT_arp_learned), 0);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_reply), 0);
    struct sp_mac mac;
    assert_false(sp_iface_neighbour(h->iface, H_IP_PEER, &mac));
}

static void test_reply_is_learned_and_expires(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    assert_int_equal(sp_iface_poll_at(h->iface), SP_TIME_NEVER);
    size_t n = h_arp_reply(f, H_MAC_PEER, H_IP_PEER);
    h_rx(h, 5000, f, n);
    h_assert_silent(h); /* a reply is not answered */
    struct sp_mac mac;
    assert_true(sp_iface_neighbour(h->iface, H_IP_PEER, &mac));
    assert_true(sp_mac_eq(mac, H_MAC_PEER));
    assert_int_equal(h_stat(h, SP_STAT_arp_learned), 1);

    assert_int_equal(sp_iface_poll_at(h->iface), 5000 + SP_ARP_ENTRY_TTL_MS);
    sp_iface_poll(h->iface, 5000 + SP_ARP_ENTRY_TTL_MS - 1);
    assert_true(sp_iface_neighbour(h->iface, H_IP_PEER, &mac));
    assert_int_equal(h_stat(h, SP_STAT_arp_expired), 0);
    sp_iface_poll(h->iface, 5000 + SP_ARP_ENTRY_TTL_MS);
    assert_false(sp_iface_neighbour(h->iface, H_IP_PEER, &mac));
    assert_int_equal(h_stat(h, SP_STAT_arp_expired), 1);
    assert_int_equal(sp_iface_poll_at(h->iface), SP_TIME_NEVER);
    h_assert_silent(h);
}

static void test_unsolicited_reply_not_for_us_is_not_learned(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    size_t n = h_arp(f, sp_mac_broadcast, SP_ARP_OP_REPLY, H_MAC_PEER, H_IP_PEER, sp_mac_zero, H_IP_PEER);
    h_rx(h, 2000, f, n);
    struct sp_mac mac;
    assert_false(sp_iface_neighbour(h->iface, H_IP_PEER, &mac));
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_not_for_us), 1);
}

/* Sends one UDP datagram from port 5000 to (dst, 7) with a one-byte payload tag. */
static int send_tagged(struct harness *h, struct sp_udp_socket *s, sp_time_t now, uint32_t dst, uint8_t tag)
{
    sp_iface_set_now(h->iface, now);
    return sp_udp_send(s, dst, 7, &tag, 1);
}

/* Asserts the next frame is the tagged datagram to dst via mac. */
static void expect_tagged(struct harness *h, uint32_t dst, struct sp_mac mac, uint8_t tag)
{
    uint8_t f[H_FRAME_CAP];
    struct h_ip_out o;
    h_take_ip(h, f, &o);
    assert_true(sp_mac_eq(o.eth.dst, mac));
    assert_int_equal(o.ip.dst, dst);
    assert_int_equal(o.ip.protocol, SP_IP_PROTO_UDP);
    assert_int_equal(o.payload_len, SP_UDP_HDR_LEN + 1);
    assert_int_equal(o.payload[SP_UDP_HDR_LEN], tag);
}

static void test_resolution_queues_then_sends_in_order(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    assert_int_equal(sp_udp_bind(h->iface, &s, 5000, NULL), 0);

    assert_int_equal(send_tagged(h, &s, 10000, H_IP_PEER, 1), 0);
    assert_int_equal(h_pending(h), 1);
    h_expect_arp_request(h, H_IP_PEER);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_request), 1);
    assert_int_equal(sp_iface_poll_at(h->iface), 10000 + SP_ARP_REQUEST_INTERVAL_MS);

    /* Within the interval: queued, no second request (RFC 1122 2.3.2.1). */
    assert_int_equal(send_tagged(h, &s, 10500, H_IP_PEER, 2), 0);
    assert_int_equal(send_tagged(h, &s, 10999, H_IP_PEER, 3), 0);
    sp_iface_poll(h->iface, 10999);
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_request), 1);

    uint8_t f[H_FRAME_CAP];
    size_t n = h_arp_reply(f, H_MAC_PEER, H_IP_PEER);
    h_rx(h, 10999, f, n);
    assert_int_equal(h_pending(h), 3);
    expect_tagged(h, H_IP_PEER, H_MAC_PEER, 1);
    expect_tagged(h, H_IP_PEER, H_MAC_PEER, 2);
    expect_tagged(h, H_IP_PEER, H_MAC_PEER, 3);
    assert_int_equal(h_stat(h, SP_STAT_udp_tx), 3);
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_unresolved), 0);
    /* Resolved: no more retries are scheduled, only the entry's expiry. */
    assert_int_equal(sp_iface_poll_at(h->iface), 10999 + SP_ARP_ENTRY_TTL_MS);

    /* And later datagrams go straight out. */
    assert_int_equal(send_tagged(h, &s, 11000, H_IP_PEER, 4), 0);
    expect_tagged(h, H_IP_PEER, H_MAC_PEER, 4);
    h_assert_silent(h);
    sp_udp_close(&s);
}

static void test_retries_then_queued_frames_dropped(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    assert_int_equal(sp_udp_bind(h->iface, &s, 5000, NULL), 0);
    sp_time_t t = 10000;
    assert_int_equal(send_tagged(h, &s, t, IP_OTHER, 1), 0);
    assert_int_equal(send_tagged(h, &s, t, IP_OTHER, 2), 0);
    h_expect_arp_request(h, IP_OTHER);
    h_assert_silent(h);

    for (int i = 1; i < SP_ARP_MAX_TRIES; i++) {
        sp_time_t due = t + (sp_time_t)i * SP_ARP_REQUEST_INTERVAL_MS;
        assert_int_equal(sp_iface_poll_at(h->iface), due);
        sp_iface_poll(h->iface, due - 1);
        h_assert_silent(h);
        sp_iface_poll(h->iface, due);
        h_expect_arp_request(h, IP_OTHER);
        h_assert_silent(h);
    }
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_request), SP_ARP_MAX_TRIES);
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_unresolved), 0);

    /* One interval after the last request, the address is given up with what waited for it. */
    sp_time_t end = t + (sp_time_t)SP_ARP_MAX_TRIES * SP_ARP_REQUEST_INTERVAL_MS;
    assert_int_equal(sp_iface_poll_at(h->iface), end);
    sp_iface_poll(h->iface, end);
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_unresolved), 2);
    assert_int_equal(h_stat(h, SP_STAT_arp_tx_request), SP_ARP_MAX_TRIES);
    assert_int_equal(sp_iface_poll_at(h->iface), SP_TIME_NEVER);

    /* A late reply finds nothing queued. */
    uint8_t f[H_FRAME_CAP];
    size_t n = h_arp_reply(f, MAC_OTHER, IP_OTHER);
    h_rx(h, end + 10, f, n);
    h_assert_silent(h);
    sp_udp_close(&s);
}

/* A learned entry that lapsed is asked for again before the next datagram leaves. */
static void test_expired_entry_is_resolved_again(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    assert_int_equal(sp_udp_bind(h->iface, &s, 5000, NULL), 0);
    h_learn_peer(h, 2000);
    sp_time_t later = 2000 + SP_ARP_ENTRY_TTL_MS; /* no poll in between: the send finds it stale */
    assert_int_equal(send_tagged(h, &s, later, H_IP_PEER, 5), 0);
    h_expect_arp_request(h, H_IP_PEER);
    h_assert_silent(h);
    uint8_t f[H_FRAME_CAP];
    h_rx(h, later + 5, f, h_arp_reply(f, H_MAC_PEER, H_IP_PEER));
    expect_tagged(h, H_IP_PEER, H_MAC_PEER, 5);
    h_assert_silent(h);
    sp_udp_close(&s);
}

/* While we ask for the peer, its own request for our address answers the question too. */
static void test_request_from_pending_host_resolves_it(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    assert_int_equal(sp_udp_bind(h->iface, &s, 5000, NULL), 0);
    assert_int_equal(send_tagged(h, &s, 10000, H_IP_PEER, 6), 0);
    h_expect_arp_request(h, H_IP_PEER);
    uint8_t f[H_FRAME_CAP];
    h_rx(h, 10001, f, h_arp_request(f, H_MAC_PEER, H_IP_PEER, H_IP_US));
    expect_tagged(h, H_IP_PEER, H_MAC_PEER, 6); /* the queued datagram first, then our answer */
    size_t len = h_take(h, f);
    struct sp_eth_repr eth;
    struct sp_arp_repr arp;
    h_parse_arp(f, len, &eth, &arp);
    assert_int_equal(arp.op, SP_ARP_OP_REPLY);
    h_assert_silent(h);
    /* No retry is left pending. */
    sp_iface_poll(h->iface, 10000 + 5 * SP_ARP_REQUEST_INTERVAL_MS);
    h_assert_silent(h);
    sp_udp_close(&s);
}

static void test_queue_bound(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    assert_int_equal(sp_udp_bind(h->iface, &s, 5000, NULL), 0);
    for (int i = 0; i < SP_ARP_QUEUE_LEN; i++)
        assert_int_equal(send_tagged(h, &s, 10000, IP_OTHER, (uint8_t)i), 0);
    assert_int_equal(send_tagged(h, &s, 10000, IP_OTHER, 0xee), SP_ENOBUFS);
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_queue_full), 1);
    h_expect_arp_request(h, IP_OTHER);
    h_assert_silent(h);

    uint8_t f[H_FRAME_CAP];
    size_t n = h_arp_reply(f, MAC_OTHER, IP_OTHER);
    h_rx(h, 10100, f, n);
    for (int i = 0; i < SP_ARP_QUEUE_LEN; i++)
        expect_tagged(h, IP_OTHER, MAC_OTHER, (uint8_t)i);
    h_assert_silent(h);
    sp_udp_close(&s);
}

/* Frames for one address keep their order even when the queue's slots were freed and reused by
 * another address in between. */
static void test_queue_order_survives_slot_reuse(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    assert_int_equal(sp_udp_bind(h->iface, &s, 5000, NULL), 0);
    assert_int_equal(send_tagged(h, &s, 10000, IP_OTHER, 1), 0);
    assert_int_equal(send_tagged(h, &s, 10000, H_IP_PEER, 0xa1), 0);
    assert_int_equal(send_tagged(h, &s, 10000, IP_OTHER, 2), 0);
    h_drain(h);

    uint8_t f[H_FRAME_CAP];
    size_t n = h_arp_reply(f, H_MAC_PEER, H_IP_PEER);
    h_rx(h, 10100, f, n);
    expect_tagged(h, H_IP_PEER, H_MAC_PEER, 0xa1);

    assert_int_equal(send_tagged(h, &s, 10200, IP_OTHER, 3), 0);
    n = h_arp_reply(f, MAC_OTHER, IP_OTHER);
    h_rx(h, 10300, f, n);
    expect_tagged(h, IP_OTHER, MAC_OTHER, 1);
    expect_tagged(h, IP_OTHER, MAC_OTHER, 2);
    expect_tagged(h, IP_OTHER, MAC_OTHER, 3);
    h_assert_silent(h);
    sp_udp_close(&s);
}

/* Host n of the subnet, 192.0.2.(10 + n), with MAC 02:00:00:00:01:n. */
static uint32_t host_ip(int n) { return 0xc0000200u + 10u + (uint32_t)n; }
static struct sp_mac host_mac(int n) { return (struct sp_mac){{0x02, 0, 0, 0, 1, (uint8_t)n}}; }

static void test_cache_bound_evicts_least_recently_used(void **state)
{
    struct harness *h = *state;
    uint8_t f[H_FRAME_CAP];
    for (int i = 0; i < SP_ARP_CACHE_SIZE; i++) {
        size_t n = h_arp_request(f, host_mac(i), host_ip(i), H_IP_US);
        h_rx(h, 2000 + (sp_time_t)i, f, n);
    }
    h_drain(h);
    assert_int_equal(h_stat(h, SP_STAT_arp_learned), SP_ARP_CACHE_SIZE);
    assert_int_equal(h_stat(h, SP_STAT_arp_evicted), 0);

    /* Host 0 is the oldest, but sending to it makes host 1 the least recently used. */
    struct sp_udp_socket s = {0};
    assert_int_equal(sp_udp_bind(h->iface, &s, 5000, NULL), 0);
    assert_int_equal(send_tagged(h, &s, 3000, host_ip(0), 9), 0);
    expect_tagged(h, host_ip(0), host_mac(0), 9);

    int newcomer = SP_ARP_CACHE_SIZE;
    size_t n = h_arp_request(f, host_mac(newcomer), host_ip(newcomer), H_IP_US);
    h_rx(h, 3001, f, n);
    h_drain(h);
    assert_int_equal(h_stat(h, SP_STAT_arp_evicted), 1);
    struct sp_mac mac;
    assert_true(sp_iface_neighbour(h->iface, host_ip(0), &mac));
    assert_false(sp_iface_neighbour(h->iface, host_ip(1), &mac));
    assert_true(sp_iface_neighbour(h->iface, host_ip(2), &mac));
    assert_true(sp_iface_neighbour(h->iface, host_ip(newcomer), &mac));
    assert_true(sp_mac_eq(mac, host_mac(newcomer)));
    sp_udp_close(&s);
}

/* An address still being resolved that is evicted from a full cache must not strand its queued
 * frames: they are dropped and counted, and their queue slots come back. Only our own traffic
 * evicts an entry that frames wait for (a neighbour learned from a packet may not: neigh.c). */
static void test_evicting_unresolved_entry_releases_its_queue(void **state)
{
    struct harness *h = *state;
    struct sp_udp_socket s = {0};
    assert_int_equal(sp_udp_bind(h->iface, &s, 5000, NULL), 0);
    for (int i = 0; i < SP_ARP_QUEUE_LEN - 1; i++)
        assert_int_equal(send_tagged(h, &s, 1500, IP_OTHER, (uint8_t)i), 0);
    h_drain(h);

    /* The other 63 entries: learned, and sent to after IP_OTHER's frames were queued. */
    uint8_t f[H_FRAME_CAP];
    for (int i = 0; i < SP_ARP_CACHE_SIZE - 1; i++) {
        size_t n = h_arp_request(f, host_mac(i), host_ip(i), H_IP_US);
        h_rx(h, 2000 + (sp_time_t)i, f, n);
        assert_int_equal(send_tagged(h, &s, 2000 + (sp_time_t)i, host_ip(i), 0xee), 0);
    }
    h_drain(h);
    assert_int_equal(h_stat(h, SP_STAT_arp_evicted), 0);

    /* A frame to a new address takes the last queue slot and the least recently used entry. */
    assert_int_equal(send_tagged(h, &s, 2100, 0xc00002f0u, 0x77), 0);
    h_expect_arp_request(h, 0xc00002f0u);
    assert_int_equal(h_stat(h, SP_STAT_arp_evicted), 1);
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_unresolved), SP_ARP_QUEUE_LEN - 1);

    /* The queue is usable again. */
    for (int i = 0; i < SP_ARP_QUEUE_LEN - 1; i++)
        assert_int_equal(send_tagged(h, &s, 2101, 0xc00002f0u, (uint8_t)i), 0);
    h_assert_silent(h);
    assert_int_equal(h_stat(h, SP_STAT_drop_arp_queue_full), 0);
    sp_udp_close(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gratuitous_arp_at_creation),
        cmocka_unit_test_setup_teardown(test_request_for_us_is_answered, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_request_unicast_to_our_mac_is_answered, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_request_for_another_ip_is_ignored, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_request_for_another_ip_refreshes_known_sender, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_unsupported_and_malformed_are_dropped, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_bad_senders_are_not_learned, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_zero_sender_mac_does_not_replace_a_neighbour, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_frames_from_bad_source_macs_are_dropped, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_reply_is_learned_and_expires, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_unsolicited_reply_not_for_us_is_not_learned, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_resolution_queues_then_sends_in_order, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_retries_then_queued_frames_dropped, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_expired_entry_is_resolved_again, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_request_from_pending_host_resolves_it, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_queue_bound, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_queue_order_survives_slot_reuse, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_cache_bound_evicts_least_recently_used, h_setup, h_teardown),
        cmocka_unit_test_setup_teardown(test_evicting_unresolved_entry_releases_its_queue, h_setup, h_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
