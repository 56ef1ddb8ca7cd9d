/* Ethernet II: MAC address text, the header view and its repr. */
#include "slowpath/wire/ethernet.h"

#include <stdio.h>

#include "slowpath/error.h"

const struct sp_mac sp_mac_broadcast = {{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}};
const struct sp_mac sp_mac_zero = {{0, 0, 0, 0, 0, 0}};

static int hexdigit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int sp_mac_parse_any(const char *text, struct sp_mac *out)
{
    struct sp_mac m;
    if (!text || !out) return SP_EINVAL;
    /* Exactly six two-digit groups separated by ':' — 17 characters, nothing before or after. */
    for (int i = 0; i < 6; i++) {
        const char *g = text + i * 3;
        int hi = hexdigit(g[0]);
        int lo = hi < 0 ? -1 : hexdigit(g[1]);
        if (hi < 0 || lo < 0) return SP_EINVAL;
        char sep = g[2];
        if (i < 5 ? sep != ':' : sep != '\0') return SP_EINVAL;
        m.b[i] = (uint8_t)(hi << 4 | lo);
    }
    *out = m;
    return 0;
}

int sp_mac_parse(const char *text, struct sp_mac *out)
{
    struct sp_mac m;
    if (sp_mac_parse_any(text, &m) < 0) return SP_EINVAL;
    /* A host address is unicast (broadcast is multicast too) and not all zero. */
    if (!sp_mac_is_host(m)) return SP_EINVAL;
    *out = m;
    return 0;
}

void sp_mac_format(struct sp_mac m, char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m.b[0], m.b[1], m.b[2], m.b[3], m.b[4], m.b[5]);
}

int sp_eth_view_init(struct sp_eth_view *v, const uint8_t *buf, size_t len)
{
    if (len < SP_ETH_HDR_LEN) return SP_ETRUNCATED;
    v->buf = buf;
    v->len = len;
    return 0;
}

void sp_eth_repr_parse(const struct sp_eth_view *v, struct sp_eth_repr *r)
{
    r->dst = sp_eth_dst(v);
    r->src = sp_eth_src(v);
    r->ethertype = sp_eth_type(v);
}

void sp_eth_repr_emit(const struct sp_eth_repr *r, uint8_t *buf)
{
    memcpy(buf, r->dst.b, 6);
    memcpy(buf + 6, r->src.b, 6);
    sp_put16(buf + 12, r->ethertype);
}
