/* UDP datagrams (RFC 768). */
#include "slowpath/wire/udp.h"

#include <string.h>

#include "slowpath/error.h"
#include "slowpath/wire/checksum.h"
#include "slowpath/wire/ipv4.h"

int sp_udp_view_init(struct sp_udp_view *v, const uint8_t *buf, size_t len)
{
    if (len < SP_UDP_HDR_LEN) return SP_ETRUNCATED;
    uint16_t ulen = sp_get16(buf + 4);
    if (ulen < SP_UDP_HDR_LEN || ulen > len) return SP_EMALFORMED;
    v->buf = buf;
    v->len = len;
    return 0;
}

int sp_udp_repr_parse(const struct sp_udp_view *v, uint32_t src_ip, uint32_t dst_ip, struct sp_udp_repr *r)
{
    uint16_t ulen = sp_udp_length(v);
    /* A zero checksum means the sender did not compute one (RFC 768); the length field, not the
     * buffer, bounds what the checksum covers. */
    if (sp_udp_checksum(v) != 0) {
        uint32_t sum = sp_csum_pseudo_ipv4(src_ip, dst_ip, SP_IP_PROTO_UDP, ulen);
        if (sp_csum_finish(sp_csum_add(sum, v->buf, ulen)) != 0) return SP_ECHECKSUM;
    }
    return sp_udp_repr_parse_unchecked(v, r);
}

int sp_udp_repr_parse_unchecked(const struct sp_udp_view *v, struct sp_udp_repr *r)
{
    if (sp_udp_dst_port(v) == 0) return SP_EMALFORMED;
    r->src_port = sp_udp_src_port(v);
    r->dst_port = sp_udp_dst_port(v);
    r->payload = sp_udp_payload(v);
    r->payload_len = sp_udp_payload_len(v);
    return 0;
}

void sp_udp_repr_emit(const struct sp_udp_repr *r, uint32_t src_ip, uint32_t dst_ip, uint8_t *buf)
{
    uint16_t ulen = (uint16_t)(SP_UDP_HDR_LEN + r->payload_len);
    if (r->payload_len && r->payload != buf + SP_UDP_HDR_LEN)
        memmove(buf + SP_UDP_HDR_LEN, r->payload, r->payload_len);
    sp_put16(buf, r->src_port);
    sp_put16(buf + 2, r->dst_port);
    sp_put16(buf + 4, ulen);
    sp_put16(buf + 6, 0);
    uint32_t sum = sp_csum_pseudo_ipv4(src_ip, dst_ip, SP_IP_PROTO_UDP, ulen);
    uint16_t csum = sp_csum_finish(sp_csum_add(sum, buf, ulen));
    /* Zero on the wire means "no checksum", so a computed zero is sent as its other form. */
    sp_put16(buf + 6, csum == 0 ? 0xffff : csum);
}
