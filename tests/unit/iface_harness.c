/* The iface harness (iface_harness.h). */
#include "iface_harness.h"

struct harness *h_open_ex(bool keep_announce)
{
    struct harness *h = test_calloc(1, sizeof *h);
    assert_non_null(h);
    h->dev = sp_mem_open(SP_MAX_MTU, H_DEPTH);
    assert_non_null(h->dev);
    struct sp_iface_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.mac = H_MAC_US;
    cfg.ip = H_IP_US;
    cfg.prefix_len = 24;
    h->iface = sp_iface_new(&cfg, h->dev, H_T0);
    assert_non_null(h->iface);
    if (!keep_announce) {
        uint8_t f[H_FRAME_CAP];
        assert_int_equal(sp_mem_take(h->dev, f, sizeof f), SP_ETH_MIN_FRAME);
        assert_int_equal(sp_mem_pending_tx(h->dev), 0);
    }
    return h;
}

struct harness *h_open(void)
{
    return h_open_ex(false);
}

void h_close(struct harness *h)
{
    sp_iface_free(h->iface);
    sp_device_close(h->dev);
    test_free(h);
}

int h_setup(void **state)
{
    *state = h_open();
    return 0;
}

int h_teardown(void **state)
{
    h_close(*state);
    return 0;
}

uint64_t h_stat(const struct harness *h, enum sp_stat s)
{
    return sp_iface_stats(h->iface)->v[s];
}

void h_rx(struct harness *h, sp_time_t now, const uint8_t *frame, size_t len)
{
    assert_int_equal(sp_mem_inject(h->dev, frame, len), 0);
    assert_int_equal(sp_iface_poll_device(h->iface, now, 16), 1);
}

size_t h_pending(const struct harness *h)
{
    return sp_mem_pending_tx(h->dev);
}

size_t h_take(struct harness *h, uint8_t *f)
{
    int n = sp_mem_take(h->dev, f, H_FRAME_CAP);
    assert_true(n > 0);
    return (size_t)n;
}

void h_drain(struct harness *h)
{
    uint8_t f[H_FRAME_CAP];
    while (sp_mem_take(h->dev, f, sizeof f) > 0)
        ;
}

void h_assert_silent(const struct harness *h)
{
    assert_int_equal(h_pending(h), 0);
}

size_t h_eth(uint8_t *f, struct sp_mac src, struct sp_mac dst, uint16_t type)
{
    struct sp_eth_repr e = {.src = src, .dst = dst, .ethertype = type};
    sp_eth_repr_emit(&e, f);
    return SP_ETH_HDR_LEN;
}

size_t h_pad(uint8_t *f, size_t len)
{
    if (len < SP_ETH_MIN_FRAME) {
        memset(f + len, 0, SP_ETH_MIN_FRAME - len);
        len = SP_ETH_MIN_FRAME;
    }
    return len;
}

size_t h_arp(uint8_t *f, struct sp_mac eth_dst, uint16_t op, struct sp_mac sha, uint32_t spa,
             struct sp_mac tha, uint32_t tpa)
{
    size_t n = h_eth(f, sha, eth_dst, SP_ETHERTYPE_ARP);
    struct sp_arp_repr a = {.op = op, .sha = sha, .spa = spa, .tha = tha, .tpa = tpa};
    sp_arp_repr_emit(&a, f + n);
    return h_pad(f, n + SP_ARP_LEN);
}

size_t h_arp_request(uint8_t *f, struct sp_mac sha, uint32_t spa, uint32_t tpa)
{
    return h_arp(f, sp_mac_broadcast, SP_ARP_OP_REQUEST, sha, spa, sp_mac_zero, tpa);
}

size_t h_arp_reply(uint8_t *f, struct sp_mac sha, uint32_t spa)
{
    return h_arp(f, H_MAC_US, SP_ARP_OP_REPLY, sha, spa, H_MAC_US, H_IP_US);
}

size_t h_ip_frame(uint8_t *f, const struct sp_ipv4_repr *ip, const uint8_t *payload, size_t len)
{
    size_t n = h_eth(f, H_MAC_PEER, H_MAC_US, SP_ETHERTYPE_IPV4);
    sp_ipv4_repr_emit(ip, f + n);
    if (len)
        memcpy(f + n + SP_IPV4_MIN_HDR_LEN, payload, len);
    return h_pad(f, n + SP_IPV4_MIN_HDR_LEN + len);
}

struct sp_ipv4_repr h_ip(uint32_t src, uint32_t dst, uint8_t proto, size_t payload_len)
{
    struct sp_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.src = src;
    ip.dst = dst;
    ip.protocol = proto;
    ip.ttl = 64;
    ip.ident = 0x1234;
    ip.payload_len = (uint16_t)payload_len;
    return ip;
}

size_t h_icmp_echo(uint8_t *buf, uint8_t type, uint16_t ident, uint16_t seq, const uint8_t *data,
                   size_t len)
{
    struct sp_icmp_repr r = {.type = type, .ident = ident, .seq = seq, .data = data, .data_len = len};
    sp_icmp_repr_emit(&r, buf);
    return SP_ICMP_HDR_LEN + len;
}

size_t h_ping(uint8_t *f, uint32_t src, uint32_t dst, uint16_t ident, uint16_t seq,
              const uint8_t *data, size_t len)
{
    uint8_t icmp[H_FRAME_CAP];
    size_t n = h_icmp_echo(icmp, SP_ICMP_ECHO_REQUEST, ident, seq, data, len);
    struct sp_ipv4_repr ip = h_ip(src, dst, SP_IP_PROTO_ICMP, n);
    return h_ip_frame(f, &ip, icmp, n);
}

size_t h_udp_dgram(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                   const uint8_t *data, size_t len)
{
    struct sp_udp_repr u = {.src_port = sport, .dst_port = dport, .payload = data, .payload_len = len};
    sp_udp_repr_emit(&u, src, dst, buf);
    return SP_UDP_HDR_LEN + len;
}

size_t h_udp(uint8_t *f, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
             const uint8_t *data, size_t len)
{
    uint8_t udp[H_FRAME_CAP];
    size_t n = h_udp_dgram(udp, src, dst, sport, dport, data, len);
    struct sp_ipv4_repr ip = h_ip(src, dst, SP_IP_PROTO_UDP, n);
    return h_ip_frame(f, &ip, udp, n);
}

void h_ip_refresh_checksum(uint8_t *f)
{
    uint8_t *ip = f + SP_ETH_HDR_LEN;
    size_t hl = (size_t)(ip[0] & 0xf) * 4;
    sp_put16(ip + 10, 0);
    sp_put16(ip + 10, sp_csum(ip, hl));
}

void h_parse_ip(uint8_t *f, size_t len, struct h_ip_out *o)
{
    struct sp_eth_view e;
    assert_int_equal(sp_eth_view_init(&e, f, len), 0);
    sp_eth_repr_parse(&e, &o->eth);
    assert_int_equal(o->eth.ethertype, SP_ETHERTYPE_IPV4);
    assert_true(sp_mac_eq(o->eth.src, H_MAC_US));
    assert_int_equal(sp_ipv4_view_init(&o->v, f + SP_ETH_HDR_LEN, len - SP_ETH_HDR_LEN), 0);
    assert_int_equal(sp_ipv4_hdr_len(&o->v), SP_IPV4_MIN_HDR_LEN);
    assert_int_equal(sp_ipv4_repr_parse(&o->v, &o->ip), 0);
    size_t want = SP_ETH_HDR_LEN + sp_ipv4_total_len(&o->v);
    assert_int_equal(len, want < SP_ETH_MIN_FRAME ? SP_ETH_MIN_FRAME : want);
    o->payload = sp_ipv4_payload(&o->v);
    o->payload_len = sp_ipv4_payload_len(&o->v);
}

void h_take_ip(struct harness *h, uint8_t *f, struct h_ip_out *o)
{
    size_t len = h_take(h, f);
    h_parse_ip(f, len, o);
}

void h_parse_arp(const uint8_t *frame, size_t len, struct sp_eth_repr *eth, struct sp_arp_repr *arp)
{
    assert_int_equal(len, SP_ETH_MIN_FRAME);
    struct sp_eth_view e;
    assert_int_equal(sp_eth_view_init(&e, frame, len), 0);
    sp_eth_repr_parse(&e, eth);
    assert_int_equal(eth->ethertype, SP_ETHERTYPE_ARP);
    struct sp_arp_view v;
    assert_int_equal(sp_arp_view_init(&v, sp_eth_payload(&e), sp_eth_payload_len(&e)), 0);
    assert_int_equal(sp_arp_repr_parse(&v, arp), 0);
    /* The padding after the 28 ARP bytes is zero. */
    for (size_t i = SP_ETH_HDR_LEN + SP_ARP_LEN; i < len; i++)
        assert_int_equal(frame[i], 0);
}

void h_expect_arp_request(struct harness *h, uint32_t tpa)
{
    uint8_t f[H_FRAME_CAP];
    size_t len = h_take(h, f);
    struct sp_eth_repr eth;
    struct sp_arp_repr arp;
    h_parse_arp(f, len, &eth, &arp);
    assert_true(sp_mac_is_broadcast(eth.dst));
    assert_true(sp_mac_eq(eth.src, H_MAC_US));
    assert_int_equal(arp.op, SP_ARP_OP_REQUEST);
    assert_true(sp_mac_eq(arp.sha, H_MAC_US));
    assert_int_equal(arp.spa, H_IP_US);
    assert_true(sp_mac_eq(arp.tha, sp_mac_zero));
    assert_int_equal(arp.tpa, tpa);
}

void h_learn_peer(struct harness *h, sp_time_t now)
{
    uint8_t f[H_FRAME_CAP];
    size_t n = h_arp_request(f, H_MAC_PEER, H_IP_PEER, H_IP_US);
    h_rx(h, now, f, n);
    h_drain(h);
}

void h_fill(uint8_t *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 7 + seed * 13 + (i >> 8));
}
