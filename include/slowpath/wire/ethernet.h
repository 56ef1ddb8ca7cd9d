/* Ethernet II frames: a view checked once for length, and a repr. */
#ifndef SLOWPATH_WIRE_ETHERNET_H
#define SLOWPATH_WIRE_ETHERNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "slowpath/wire/bytes.h"

#define SP_ETH_HDR_LEN 14
#define SP_ETH_MIN_FRAME 60        /* without FCS; shorter frames are padded on emit */
#define SP_ETHERTYPE_IPV4 0x0800
#define SP_ETHERTYPE_ARP 0x0806

struct sp_mac {
    uint8_t b[6];
};

extern const struct sp_mac sp_mac_broadcast;
extern const struct sp_mac sp_mac_zero;

static inline bool sp_mac_eq(struct sp_mac a, struct sp_mac b) { return memcmp(a.b, b.b, 6) == 0; }
static inline bool sp_mac_is_broadcast(struct sp_mac m) { return sp_mac_eq(m, sp_mac_broadcast); }
static inline bool sp_mac_is_multicast(struct sp_mac m) { return m.b[0] & 1; }
/* An address a station can have: not a group (multicast, broadcast) and not all zero. */
static inline bool sp_mac_is_host(struct sp_mac m) { return !sp_mac_is_multicast(m) && !sp_mac_eq(m, sp_mac_zero); }
/* Parses "02:00:00:00:00:01"; returns 0 or SP_EINVAL. A multicast MAC is refused for a host. */
int sp_mac_parse(const char *text, struct sp_mac *out);
/* The same syntax (exactly six two-digit hex groups joined by ':', either case, nothing before or
 * after) for any address a packet may carry, broadcast, multicast and all-zero included. 0 or
 * SP_EINVAL; *out is untouched on failure. */
int sp_mac_parse_any(const char *text, struct sp_mac *out);
/* Writes "xx:xx:xx:xx:xx:xx" (18 bytes with the NUL). */
void sp_mac_format(struct sp_mac m, char out[18]);

/* Read-only, like every view (ipv4.h says why). */
struct sp_eth_view {
    const uint8_t *buf;
    size_t len;
};

/* Wraps buf; fails with SP_ETRUNCATED when it cannot hold the header. */
int sp_eth_view_init(struct sp_eth_view *v, const uint8_t *buf, size_t len);

static inline struct sp_mac sp_eth_dst(const struct sp_eth_view *v)
{
    struct sp_mac m;
    memcpy(m.b, v->buf, 6);
    return m;
}
static inline struct sp_mac sp_eth_src(const struct sp_eth_view *v)
{
    struct sp_mac m;
    memcpy(m.b, v->buf + 6, 6);
    return m;
}
static inline uint16_t sp_eth_type(const struct sp_eth_view *v) { return sp_get16(v->buf + 12); }
static inline const uint8_t *sp_eth_payload(const struct sp_eth_view *v) { return v->buf + SP_ETH_HDR_LEN; }
static inline size_t sp_eth_payload_len(const struct sp_eth_view *v) { return v->len - SP_ETH_HDR_LEN; }

struct sp_eth_repr {
    struct sp_mac src;
    struct sp_mac dst;
    uint16_t ethertype;
};

void sp_eth_repr_parse(const struct sp_eth_view *v, struct sp_eth_repr *r);
static inline size_t sp_eth_repr_buffer_len(const struct sp_eth_repr *r) { (void)r; return SP_ETH_HDR_LEN; }
/* Writes the 14-byte header at buf. */
void sp_eth_repr_emit(const struct sp_eth_repr *r, uint8_t *buf);

#endif
