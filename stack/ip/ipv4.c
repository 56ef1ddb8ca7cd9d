/* IPv4 input (checks, reassembly, demultiplexing) and output (building, fragmentation, next hop). */
#include <string.h>

#include "iface_internal.h"
#include "slowpath/wire/offload.h"

static bool ipv4_bad_source(const struct sp_iface *iface, uint32_t src)
{
    /* Replies to these would go to a broadcast, a group, nobody, or ourselves (RFC 1122 3.2.1.3). */
    return src == 0 || src == iface->cfg.ip || sp_iface_is_broadcast(iface, src) ||
           sp_ipv4_is_multicast(src) || (src >> 24) == 127;
}

void sp_ipv4_input(struct sp_iface *iface, sp_time_t now, const struct sp_eth_repr *eth, const uint8_t *buf, size_t len)
{
    struct sp_ipv4_view v;
    int err = sp_ipv4_view_init(&v, buf, len);
    if (err < 0) {
        enum sp_stat why = err == SP_EUNSUPPORTED ? SP_STAT_drop_ip_bad_version
                         : err == SP_ETRUNCATED   ? SP_STAT_drop_ip_truncated
                                                  : SP_STAT_drop_ip_bad_header;
        sp_drop(iface, why, sp_strerror(err));
        return;
    }
    struct sp_ipv4_repr ip;
    if (sp_ipv4_repr_parse(&v, &ip) < 0) {
        sp_drop(iface, SP_STAT_drop_ip_bad_checksum, NULL);
        return;
    }
    bool broadcast = sp_iface_is_broadcast(iface, ip.dst);
    if (ip.dst != iface->cfg.ip && !broadcast) {
        sp_drop(iface, SP_STAT_drop_ip_not_for_us, NULL);
        return;
    }
    if (ipv4_bad_source(iface, ip.src)) {
        sp_drop(iface, SP_STAT_drop_ip_bad_src, NULL);
        return;
    }
    sp_count(iface, SP_STAT_ip_rx);
    uint32_t mask = sp_ipv4_netmask(iface->cfg.prefix_len);
    /* eth->src is a station's (iface.c); a raw-IP link has none and nothing to learn. */
    if (sp_iface_has_arp(iface) && (ip.src & mask) == (iface->cfg.ip & mask))
        sp_neigh_update(iface, now, ip.src, eth->src, true);

    const uint8_t *hdr = v.buf;
    size_t hdr_len = sp_ipv4_hdr_len(&v);
    const uint8_t *payload = sp_ipv4_payload(&v);
    if (ip.more_frags || ip.frag_offset) {
        iface->rx_csum_ok = false;   /* a device vouches for one frame, not for a datagram */
        struct sp_reasm_done done;
        if (!sp_reasm_input(iface, now, &v, &ip, &done))
            return;
        /* Errors about a reassembled datagram quote the first fragment's header. */
        payload = done.payload;
        hdr = done.hdr;
        hdr_len = done.hdr_len;
    }

    switch (ip.protocol) {
    case SP_IP_PROTO_ICMP:
        sp_icmp_input(iface, now, &ip, payload, ip.payload_len);
        break;
    case SP_IP_PROTO_UDP:
        sp_udp_input(iface, now, &ip, hdr, hdr_len, payload, ip.payload_len);
        break;
    case SP_IP_PROTO_TCP:
        if (broadcast) {
            sp_drop(iface, SP_STAT_drop_tcp_malformed, "TCP to a broadcast address");
            break;
        }
        sp_tcp_input(iface->tcp, now, &ip, payload, ip.payload_len);
        break;
    default:
        sp_drop(iface, SP_STAT_drop_ip_unknown_proto, NULL);
        if (!broadcast)
            sp_icmp_send_unreachable(iface, now, SP_ICMP_UNREACH_PROTOCOL, &ip, hdr, hdr_len, payload,
                                     ip.payload_len);
        break;
    }
}

static size_t l4_len(const struct sp_ip_packet *pkt)
{
    switch (pkt->kind) {
    case SP_L4_ICMP:
        return sp_icmp_repr_buffer_len(&pkt->l4.icmp);
    case SP_L4_UDP:
        return sp_udp_repr_buffer_len(&pkt->l4.udp);
    case SP_L4_TCP:
        return sp_tcp_repr_buffer_len(&pkt->l4.tcp);
    }
    return 0;
}

static void l4_emit(const struct sp_ip_packet *pkt, uint8_t *buf)
{
    switch (pkt->kind) {
    case SP_L4_ICMP:
        sp_icmp_repr_emit(&pkt->l4.icmp, buf);
        break;
    case SP_L4_UDP:
        sp_udp_repr_emit(&pkt->l4.udp, pkt->ip.src, pkt->ip.dst, buf);
        break;
    case SP_L4_TCP:
        sp_tcp_repr_emit(&pkt->l4.tcp, pkt->ip.src, pkt->ip.dst, buf);
        break;
    }
}

/* The first hop toward dst: itself when on-link (or a broadcast), else the gateway, else 0. On a
 * point-to-point raw-IP link every destination is reached through the one peer: itself. */
static uint32_t next_hop(const struct sp_iface *iface, uint32_t dst)
{
    if (!sp_iface_has_arp(iface))
        return dst;
    uint32_t mask = sp_ipv4_netmask(iface->cfg.prefix_len);
    if (dst == SP_IPV4_BROADCAST || (dst & mask) == (iface->cfg.ip & mask))
        return dst;
    return iface->cfg.gateway;
}

/* Writes the Ethernet header (destination filled in on resolution) and returns the IP start. */
static uint8_t *frame_start(struct sp_iface *iface)
{
    struct sp_eth_repr eth = {.src = iface->cfg.mac, .dst = sp_mac_zero, .ethertype = SP_ETHERTYPE_IPV4};
    sp_eth_repr_emit(&eth, iface->tx_buf);
    return iface->tx_buf + SP_ETH_HDR_LEN;
}

static int frame_send(struct sp_iface *iface, sp_time_t now, uint32_t hop, size_t ip_len)
{
    size_t len = SP_ETH_HDR_LEN + ip_len;
    if (len < SP_ETH_MIN_FRAME) {
        memset(iface->tx_buf + len, 0, SP_ETH_MIN_FRAME - len);
        len = SP_ETH_MIN_FRAME;
    }
    return sp_neigh_output(iface, now, hop, iface->tx_buf, len);
}

/* A TCP segment larger than one frame, sent as a super-segment (pkt->gso_size payload bytes per
 * wire segment): to the device as it is when it takes TSO and the next hop is resolved, else cut
 * here into the segments it stands for. Either way the IP identification advances once per wire
 * segment, as Linux's GSO numbers them. */
static int ip_output_gso(struct sp_iface *iface, sp_time_t now, uint32_t hop, struct sp_ip_packet *pkt,
                         size_t payload_len)
{
    bool tso = sp_iface_tso(iface);
    uint8_t *buf = tso ? iface->tso_buf : iface->dgram_buf;
    struct sp_ipv4_repr *ip = &pkt->ip;
    struct sp_eth_repr eth = {.src = iface->cfg.mac, .dst = sp_mac_zero, .ethertype = SP_ETHERTYPE_IPV4};
    sp_eth_repr_emit(&eth, buf);
    uint8_t *l4 = buf + SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN;
    size_t tcp_hdr = sp_tcp_repr_header_len(&pkt->l4.tcp);
    size_t len = SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN + payload_len;
    struct sp_frame_meta meta = {
        .flags = SP_FRAME_NEEDS_CSUM,
        .gso_type = SP_GSO_TCPV4,
        .gso_size = pkt->gso_size,
        .hdr_len = (uint16_t)(SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN + tcp_hdr),
        .csum_start = SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN,
        .csum_offset = SP_TCP_CSUM_OFFSET,
    };
    unsigned frames = (unsigned)((pkt->l4.tcp.payload_len + pkt->gso_size - 1) / pkt->gso_size);
    if (!pkt->keep_ident)
        ip->ident = iface->next_ip_ident;
    iface->next_ip_ident = (uint16_t)(ip->ident + frames);
    if (tso)
        sp_tcp_repr_emit_partial(&pkt->l4.tcp, ip->src, ip->dst, l4);
    else
        l4_emit(pkt, l4);
    sp_ipv4_repr_emit(ip, buf + SP_ETH_HDR_LEN);
    if (tso) {
        int rc = sp_neigh_output_meta(iface, now, hop, buf, len, &meta, frames);
        if (rc != SP_ENOROUTE) {
            if (rc == 0)
                sp_count(iface, SP_STAT_ip_tx);
            return rc;
        }
    }
    /* No TSO, or a next hop to resolve first (the ARP queue holds wire frames). */
    struct sp_offload_cut cut;
    if (sp_offload_cut_init(&cut, buf, len, &meta) < 0) {
        sp_drop(iface, SP_STAT_drop_ip_too_big, "cannot cut a super-segment");
        return SP_EMSGSIZE;
    }
    int n, rc = 0;
    while ((n = sp_offload_cut_next(&cut, iface->tx_buf, sizeof iface->tx_buf)) > 0) {
        int r = sp_neigh_output(iface, now, hop, iface->tx_buf, (size_t)n);
        if (r < 0)
            rc = r;
        else
            sp_count(iface, SP_STAT_ip_tx);
    }
    return n < 0 ? n : rc;
}

int sp_ip_output(struct sp_iface *iface, sp_time_t now, struct sp_ip_packet *pkt)
{
    size_t payload_len = l4_len(pkt);
    if (payload_len > 65535 - SP_IPV4_MIN_HDR_LEN) {
        sp_drop(iface, SP_STAT_drop_ip_too_big, NULL);
        return SP_EMSGSIZE;
    }
    uint32_t hop = next_hop(iface, pkt->ip.dst);
    if (hop == 0) {
        sp_drop(iface, SP_STAT_drop_ip_no_route, NULL);
        return SP_ENOROUTE;
    }
    struct sp_ipv4_repr *ip = &pkt->ip;
    bool fits = SP_IPV4_MIN_HDR_LEN + payload_len <= iface->mtu;
    /* A segment with text for several of the peer's MSS goes as a super-segment even when it
     * would fit in one frame (a small MSS, a window of a few segments): sent whole, it would
     * carry more than the peer said it takes. */
    if (pkt->kind == SP_L4_TCP && pkt->gso_size && pkt->l4.tcp.payload_len > pkt->gso_size &&
        SP_IPV4_MIN_HDR_LEN + sp_tcp_repr_header_len(&pkt->l4.tcp) + pkt->gso_size <= iface->mtu) {
        ip->payload_len = (uint16_t)payload_len;
        ip->more_frags = false;
        ip->frag_offset = 0;
        if (ip->ttl == 0)
            ip->ttl = SP_DEFAULT_TTL;
        return ip_output_gso(iface, now, hop, pkt, payload_len);
    }
    if (!fits && ip->dont_frag) {
        sp_drop(iface, SP_STAT_drop_ip_too_big, "DF set");
        return SP_EMSGSIZE;
    }
    ip->payload_len = (uint16_t)payload_len;
    if (!pkt->keep_ident)
        ip->ident = iface->next_ip_ident++;
    ip->more_frags = false;
    ip->frag_offset = 0;
    if (ip->ttl == 0)
        ip->ttl = SP_DEFAULT_TTL;

    if (fits) {
        uint8_t *p = frame_start(iface);
        l4_emit(pkt, p + SP_IPV4_MIN_HDR_LEN);
        sp_ipv4_repr_emit(ip, p);
        int rc = frame_send(iface, now, hop, SP_IPV4_MIN_HDR_LEN + payload_len);
        if (rc == 0)
            sp_count(iface, SP_STAT_ip_tx);
        return rc;
    }

    /* Too big for one frame: build the whole payload once (checksums cover all of it), then cut
     * it into fragments whose payloads are multiples of 8 bytes (RFC 791). */
    l4_emit(pkt, iface->dgram_buf);
    size_t chunk = (size_t)(iface->mtu - SP_IPV4_MIN_HDR_LEN) & ~(size_t)7;
    int rc = 0;
    for (size_t off = 0; off < payload_len; off += chunk) {
        size_t n = payload_len - off < chunk ? payload_len - off : chunk;
        struct sp_ipv4_repr frag = *ip;
        frag.frag_offset = (uint16_t)off;
        frag.more_frags = off + n < payload_len;
        frag.payload_len = (uint16_t)n;
        uint8_t *p = frame_start(iface);
        sp_ipv4_repr_emit(&frag, p);
        memcpy(p + SP_IPV4_MIN_HDR_LEN, iface->dgram_buf + off, n);
        sp_count(iface, SP_STAT_ip_frag_tx);
        int r = frame_send(iface, now, hop, SP_IPV4_MIN_HDR_LEN + n);
        if (r < 0)
            rc = r;
    }
    if (rc == 0)
        sp_count(iface, SP_STAT_ip_tx);
    return rc;
}
