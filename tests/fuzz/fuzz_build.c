/* Frame builders for the fuzz seeds (fuzz_build.h). */
#include <string.h>

#include "fuzz_build.h"
#include "fuzz_host.h"
#include "slowpath/opts.h"
#include "slowpath/wire/arp.h"
#include "slowpath/wire/icmp.h"
#include "slowpath/wire/ipv4.h"
#include "slowpath/wire/tcp.h"
#include "slowpath/wire/udp.h"

static size_t pad(uint8_t *f, size_t len)
{
    if (len < SP_ETH_MIN_FRAME) {
        memset(f + len, 0, SP_ETH_MIN_FRAME - len);
        len = SP_ETH_MIN_FRAME;
    }
    return len;
}

size_t fz_build_arp(uint8_t *f, uint16_t op, struct sp_mac eth_dst, struct sp_mac sha, uint32_t spa,
                    struct sp_mac tha, uint32_t tpa)
{
    struct sp_eth_repr e = {.src = sha, .dst = eth_dst, .ethertype = SP_ETHERTYPE_ARP};
    sp_eth_repr_emit(&e, f);
    struct sp_arp_repr a = {.op = op, .sha = sha, .spa = spa, .tha = tha, .tpa = tpa};
    sp_arp_repr_emit(&a, f + SP_ETH_HDR_LEN);
    return pad(f, SP_ETH_HDR_LEN + SP_ARP_LEN);
}

size_t fz_build_ipv4(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto, uint16_t ident, uint16_t off,
                     bool more, const uint8_t *payload, size_t len)
{
    bool on_link = (src & 0xffffff00u) == (FZ_IP_US & 0xffffff00u);
    struct sp_eth_repr e = {.src = on_link ? FZ_MAC_PEER : FZ_MAC_GW, .dst = FZ_MAC_US,
                            .ethertype = SP_ETHERTYPE_IPV4};
    if (dst == SP_IPV4_BROADCAST || (dst & 0xff) == 0xff)
        e.dst = sp_mac_broadcast;
    sp_eth_repr_emit(&e, f);
    struct sp_ipv4_repr ip = {.src = src, .dst = dst, .protocol = proto, .ttl = 64, .ident = ident,
                              .frag_offset = off, .more_frags = more, .payload_len = (uint16_t)len};
    sp_ipv4_repr_emit(&ip, f + SP_ETH_HDR_LEN);
    memcpy(f + SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN, payload, len);
    return pad(f, SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN + len);
}

size_t fz_build_icmp_echo(uint8_t *buf, uint16_t ident, uint16_t seq, const uint8_t *data, size_t len)
{
    struct sp_icmp_repr r = {.type = SP_ICMP_ECHO_REQUEST, .ident = ident, .seq = seq, .data = data,
                             .data_len = len};
    sp_icmp_repr_emit(&r, buf);
    return SP_ICMP_HDR_LEN + len;
}

size_t fz_build_ping(uint8_t *f, uint32_t src, uint16_t ident, uint16_t seq, size_t data_len)
{
    uint8_t data[SP_MAX_MTU], icmp[SP_MAX_MTU];
    for (size_t i = 0; i < data_len; i++)
        data[i] = (uint8_t)(0x10 + i);
    size_t n = fz_build_icmp_echo(icmp, ident, seq, data, data_len);
    return fz_build_ipv4(f, src, FZ_IP_US, SP_IP_PROTO_ICMP, (uint16_t)(0x100 + seq), 0, false, icmp, n);
}

size_t fz_build_udp(uint8_t *f, uint32_t src, uint16_t sport, uint16_t dport, const void *data, size_t len)
{
    uint8_t udp[SP_MAX_MTU];
    struct sp_udp_repr u = {.src_port = sport, .dst_port = dport, .payload = data, .payload_len = len};
    sp_udp_repr_emit(&u, src, FZ_IP_US, udp);
    return fz_build_ipv4(f, src, FZ_IP_US, SP_IP_PROTO_UDP, 0x200, 0, false, udp, SP_UDP_HDR_LEN + len);
}

size_t fz_build_tcp(uint8_t *f, uint32_t src, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                    uint8_t flags, uint16_t win, uint16_t mss, int8_t wscale, const void *data, size_t len)
{
    uint8_t seg[SP_MAX_MTU];
    struct sp_tcp_repr t = {.src_port = sport, .dst_port = dport, .seq = seq, .ack = ack, .flags = flags,
                            .window = win, .mss = mss, .wscale = wscale, .payload = data, .payload_len = len};
    size_t n = sp_tcp_repr_buffer_len(&t);
    sp_tcp_repr_emit(&t, src, FZ_IP_US, seg);
    return fz_build_ipv4(f, src, FZ_IP_US, SP_IP_PROTO_TCP, 0x300, 0, false, seg, n);
}
