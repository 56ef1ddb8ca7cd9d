/* Offload helpers (slowpath/offload.h): completing a partial checksum and cutting a TCPv4
 * super-segment into the segments the kernel would put on the wire. */
#include "slowpath/wire/offload.h"

#include <string.h>

#include "slowpath/error.h"
#include "slowpath/wire/checksum.h"
#include "slowpath/wire/ethernet.h"
#include "slowpath/wire/tcp.h"

/* The end of the IPv4 datagram in the frame, so that Ethernet padding is never summed. */
static size_t datagram_end(const uint8_t *frame, size_t len)
{
    struct sp_eth_view eth;
    struct sp_ipv4_view ip;
    if (sp_eth_view_init(&eth, frame, len) < 0 || sp_eth_type(&eth) != SP_ETHERTYPE_IPV4 ||
        sp_ipv4_view_init(&ip, sp_eth_payload(&eth), sp_eth_payload_len(&eth)) < 0)
        return len;
    return SP_ETH_HDR_LEN + sp_ipv4_total_len(&ip);
}

int sp_offload_csum_complete(uint8_t *frame, size_t len, struct sp_frame_meta *m)
{
    if (!(m->flags & SP_FRAME_NEEDS_CSUM))
        return 0;
    size_t end = datagram_end(frame, len);
    size_t start = m->csum_start, field = (size_t)m->csum_start + m->csum_offset;
    if (start >= end || field + 2 > end)
        return SP_EMALFORMED;
    /* The field holds the pseudo-header sum; the rest is the sum of the bytes from csum_start
     * with the field counted as it stands. */
    uint16_t partial = sp_get16(frame + field);
    sp_put16(frame + field, 0);
    uint32_t sum = sp_csum_add(partial, frame + start, end - start);
    sp_put16(frame + field, sp_csum_finish(sum));
    m->flags &= (uint8_t)~SP_FRAME_NEEDS_CSUM;
    return 0;
}

int sp_offload_cut_init(struct sp_offload_cut *c, const uint8_t *frame, size_t len, const struct sp_frame_meta *m)
{
    memset(c, 0, sizeof *c);
    struct sp_eth_view eth;
    struct sp_ipv4_view ipv;
    struct sp_tcp_view tcp;
    if (m->gso_type != SP_GSO_TCPV4 || m->gso_size == 0 || sp_eth_view_init(&eth, frame, len) < 0 ||
        sp_eth_type(&eth) != SP_ETHERTYPE_IPV4 ||
        sp_ipv4_view_init(&ipv, sp_eth_payload(&eth), sp_eth_payload_len(&eth)) < 0 ||
        sp_ipv4_hdr_len(&ipv) != SP_IPV4_MIN_HDR_LEN || sp_ipv4_protocol(&ipv) != SP_IP_PROTO_TCP ||
        sp_ipv4_repr_parse(&ipv, &c->ip) < 0 ||
        sp_tcp_view_init(&tcp, sp_ipv4_payload(&ipv), sp_ipv4_payload_len(&ipv)) < 0)
        return SP_EINVAL;
    c->frame = frame;
    c->ip_off = SP_ETH_HDR_LEN;
    c->hdr_len = SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN + sp_tcp_hdr_len(&tcp);
    c->payload_len = sp_tcp_payload_len(&tcp);
    c->mss = m->gso_size;
    c->flags = sp_tcp_flags(&tcp);
    c->seq = sp_tcp_seq(&tcp);
    return 0;
}

int sp_offload_cut_next(struct sp_offload_cut *c, uint8_t *out, size_t cap)
{
    if (c->off >= c->payload_len && (c->i > 0 || c->payload_len > 0))
        return 0;
    size_t n = c->payload_len - c->off < c->mss ? c->payload_len - c->off : c->mss;
    size_t total = c->hdr_len + n;
    if (cap < total)
        return SP_EMSGSIZE;
    bool last = c->off + n >= c->payload_len;
    memcpy(out, c->frame, c->hdr_len);
    memcpy(out + c->hdr_len, c->frame + c->hdr_len + c->off, n);
    size_t tcp_len = total - c->ip_off - SP_IPV4_MIN_HDR_LEN;
    struct sp_ipv4_repr ip = c->ip;
    ip.payload_len = (uint16_t)tcp_len;
    ip.ident = (uint16_t)(c->ip.ident + c->i);
    sp_ipv4_repr_emit(&ip, out + c->ip_off);
    uint8_t *seg = out + c->ip_off + SP_IPV4_MIN_HDR_LEN;
    uint8_t flags = c->flags;
    if (!last)
        flags &= (uint8_t)~(SP_TCP_FIN | SP_TCP_PSH);
    if (c->i > 0)
        flags &= (uint8_t)~SP_TCP_CWR;
    sp_tcp_put_seq(seg, c->seq + (uint32_t)c->off);
    sp_tcp_put_flags(seg, flags);
    sp_tcp_put_checksum(seg, 0);
    uint32_t sum = sp_csum_pseudo_ipv4(ip.src, ip.dst, SP_IP_PROTO_TCP, (uint16_t)tcp_len);
    sp_tcp_put_checksum(seg, sp_csum_finish(sp_csum_add(sum, seg, tcp_len)));
    c->off += n;
    c->i++;
    return (int)total;
}

unsigned sp_offload_frames(const uint8_t *frame, size_t len, const struct sp_frame_meta *m)
{
    struct sp_offload_cut c;
    if (!m || m->gso_type == SP_GSO_NONE || sp_offload_cut_init(&c, frame, len, m) < 0 || c.payload_len == 0)
        return 1;
    return (unsigned)((c.payload_len + c.mss - 1) / c.mss);
}
