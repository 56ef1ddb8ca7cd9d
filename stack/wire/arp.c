/* ARP for IPv4 over Ethernet (RFC 826). */
#include "slowpath/wire/arp.h"

#include "slowpath/error.h"

#define ARP_FIXED_LEN 8
#define ARP_HTYPE_ETHERNET 1

int sp_arp_view_init(struct sp_arp_view *v, const uint8_t *buf, size_t len)
{
    if (len < ARP_FIXED_LEN) return SP_ETRUNCATED;
    /* The fixed part says how long the addresses are; all four must be inside the buffer. */
    size_t need = ARP_FIXED_LEN + 2 * (size_t)buf[4] + 2 * (size_t)buf[5];
    if (len < need) return SP_ETRUNCATED;
    v->buf = buf;
    v->len = len;
    return 0;
}

int sp_arp_repr_parse(const struct sp_arp_view *v, struct sp_arp_repr *r)
{
    if (sp_arp_htype(v) != ARP_HTYPE_ETHERNET || sp_arp_ptype(v) != SP_ETHERTYPE_IPV4 ||
        sp_arp_hlen(v) != 6 || sp_arp_plen(v) != 4)
        return SP_EUNSUPPORTED;
    uint16_t op = sp_arp_op(v);
    if (op != SP_ARP_OP_REQUEST && op != SP_ARP_OP_REPLY) return SP_EMALFORMED;
    const uint8_t *p = v->buf + ARP_FIXED_LEN;
    r->op = op;
    memcpy(r->sha.b, p, 6);
    r->spa = sp_get32(p + 6);
    memcpy(r->tha.b, p + 10, 6);
    r->tpa = sp_get32(p + 16);
    return 0;
}

void sp_arp_repr_emit(const struct sp_arp_repr *r, uint8_t *buf)
{
    sp_put16(buf, ARP_HTYPE_ETHERNET);
    sp_put16(buf + 2, SP_ETHERTYPE_IPV4);
    buf[4] = 6;
    buf[5] = 4;
    sp_put16(buf + 6, r->op);
    memcpy(buf + 8, r->sha.b, 6);
    sp_put32(buf + 14, r->spa);
    memcpy(buf + 18, r->tha.b, 6);
    sp_put32(buf + 24, r->tpa);
}
