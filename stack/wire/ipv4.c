/* IPv4 (RFC 791): address text, the header view and its repr. */
#include "slowpath/wire/ipv4.h"

#include <stdio.h>

#include "slowpath/error.h"
#include "slowpath/wire/checksum.h"

/* Reads a decimal number of 1..3 digits with no leading zero (so "010" is never read as octal by
 * one tool and decimal by another) and no sign; advances *p past it. */
static int parse_decimal(const char **p, unsigned max, unsigned *out)
{
    const char *s = *p;
    unsigned v = 0;
    int n = 0;
    while (s[n] >= '0' && s[n] <= '9') {
        if (n == 3) return SP_EINVAL;
        v = v * 10 + (unsigned)(s[n] - '0');
        n++;
    }
    if (n == 0 || (n > 1 && s[0] == '0') || v > max) return SP_EINVAL;
    *p = s + n;
    *out = v;
    return 0;
}

/* Parses the dotted quad at *p, leaving *p just after it. */
static int parse_quad(const char **p, uint32_t *out)
{
    uint32_t addr = 0;
    for (int i = 0; i < 4; i++) {
        unsigned part;
        if (i > 0) {
            if (**p != '.') return SP_EINVAL;
            (*p)++;
        }
        if (parse_decimal(p, 255, &part) < 0) return SP_EINVAL;
        addr = addr << 8 | part;
    }
    *out = addr;
    return 0;
}

int sp_ipv4_addr_parse(const char *text, uint32_t *out)
{
    uint32_t addr;
    if (!text || !out) return SP_EINVAL;
    if (parse_quad(&text, &addr) < 0 || *text != '\0') return SP_EINVAL;
    *out = addr;
    return 0;
}

int sp_ipv4_cidr_parse(const char *text, uint32_t *addr, uint8_t *prefix_len)
{
    uint32_t a;
    unsigned plen;
    if (!text || !addr || !prefix_len) return SP_EINVAL;
    if (parse_quad(&text, &a) < 0 || *text != '/') return SP_EINVAL;
    text++;
    if (parse_decimal(&text, 32, &plen) < 0 || plen < 1 || *text != '\0') return SP_EINVAL;
    *addr = a;
    *prefix_len = (uint8_t)plen;
    return 0;
}

void sp_ipv4_addr_format(uint32_t addr, char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", (unsigned)(addr >> 24), (unsigned)(addr >> 16 & 0xff),
             (unsigned)(addr >> 8 & 0xff), (unsigned)(addr & 0xff));
}

int sp_ipv4_view_init(struct sp_ipv4_view *v, const uint8_t *buf, size_t len)
{
    if (len < SP_IPV4_MIN_HDR_LEN) return SP_ETRUNCATED;
    if (buf[0] >> 4 != 4) return SP_EUNSUPPORTED;
    size_t hdr_len = (size_t)(buf[0] & 0xf) * 4;
    if (hdr_len < SP_IPV4_MIN_HDR_LEN || hdr_len > len) return SP_EMALFORMED;
    size_t total = sp_get16(buf + 2);
    if (total < hdr_len) return SP_EMALFORMED;
    if (total > len) return SP_ETRUNCATED;
    v->buf = buf;
    v->len = len;
    return 0;
}

bool sp_ipv4_checksum_ok(const struct sp_ipv4_view *v)
{
    return sp_csum(v->buf, sp_ipv4_hdr_len(v)) == 0;
}

int sp_ipv4_repr_parse(const struct sp_ipv4_view *v, struct sp_ipv4_repr *r)
{
    if (!sp_ipv4_checksum_ok(v)) return SP_ECHECKSUM;
    r->src = sp_ipv4_src(v);
    r->dst = sp_ipv4_dst(v);
    r->protocol = sp_ipv4_protocol(v);
    r->ttl = sp_ipv4_ttl(v);
    r->tos = sp_ipv4_tos(v);
    r->ident = sp_ipv4_ident(v);
    r->dont_frag = sp_ipv4_df(v);
    r->more_frags = sp_ipv4_mf(v);
    r->frag_offset = sp_ipv4_frag_offset(v);
    r->payload_len = (uint16_t)sp_ipv4_payload_len(v);
    return 0;
}

void sp_ipv4_repr_emit(const struct sp_ipv4_repr *r, uint8_t *buf)
{
    uint16_t flags_frag = (uint16_t)((r->frag_offset / 8) & SP_IPV4_FRAG_MASK);
    if (r->dont_frag) flags_frag |= SP_IPV4_FLAG_DF;
    if (r->more_frags) flags_frag |= SP_IPV4_FLAG_MF;
    buf[0] = 0x45;  /* version 4, IHL 5: slowpath never sends options */
    buf[1] = r->tos;
    sp_put16(buf + 2, (uint16_t)(SP_IPV4_MIN_HDR_LEN + r->payload_len));
    sp_put16(buf + 4, r->ident);
    sp_put16(buf + 6, flags_frag);
    buf[8] = r->ttl;
    buf[9] = r->protocol;
    sp_put16(buf + 10, 0);
    sp_put32(buf + 12, r->src);
    sp_put32(buf + 16, r->dst);
    sp_put16(buf + 10, sp_csum(buf, SP_IPV4_MIN_HDR_LEN));
}
