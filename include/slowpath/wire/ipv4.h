/* IPv4 (RFC 791). Addresses are uint32_t in host byte order everywhere in slowpath. */
#ifndef SLOWPATH_WIRE_IPV4_H
#define SLOWPATH_WIRE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slowpath/wire/bytes.h"

#define SP_IPV4_MIN_HDR_LEN 20
#define SP_IPV4_MAX_HDR_LEN 60
#define SP_IP_PROTO_ICMP 1
#define SP_IP_PROTO_TCP 6
#define SP_IP_PROTO_UDP 17
#define SP_IPV4_BROADCAST 0xffffffffu

#define SP_IPV4_FLAG_DF 0x4000
#define SP_IPV4_FLAG_MF 0x2000
#define SP_IPV4_FRAG_MASK 0x1fff

/* Parses dotted-quad "192.0.2.2"; 0 or SP_EINVAL. */
int sp_ipv4_addr_parse(const char *text, uint32_t *out);
/* Parses "192.0.2.2/24" (prefix 1..32 required); 0 or SP_EINVAL. */
int sp_ipv4_cidr_parse(const char *text, uint32_t *addr, uint8_t *prefix_len);
/* Writes dotted-quad text (16 bytes with the NUL). */
void sp_ipv4_addr_format(uint32_t addr, char out[16]);
static inline uint32_t sp_ipv4_netmask(uint8_t prefix_len)
{
    return prefix_len == 0 ? 0 : 0xffffffffu << (32 - prefix_len);
}
static inline bool sp_ipv4_is_multicast(uint32_t a) { return (a >> 28) == 0xe; }

/* A view reads a packet where it lies and never writes it, so it can check bytes the caller may
 * not change (a frame being received, a decider's proposal) without a copy. Every view in wire/
 * works this way; writing is the repr's emit, into a buffer of its buffer_len bytes. */
struct sp_ipv4_view {
    const uint8_t *buf;
    size_t len;    /* bytes available; may exceed total length (Ethernet padding) */
};

/* The one length check: at least 20 bytes, version 4 (SP_EUNSUPPORTED), IHL >= 5 and within the
 * buffer (SP_EMALFORMED), total length >= header length (SP_EMALFORMED) and <= the buffer
 * (SP_ETRUNCATED). After success every accessor below is a plain read. */
int sp_ipv4_view_init(struct sp_ipv4_view *v, const uint8_t *buf, size_t len);

static inline uint8_t sp_ipv4_version(const struct sp_ipv4_view *v) { return v->buf[0] >> 4; }
static inline size_t sp_ipv4_hdr_len(const struct sp_ipv4_view *v) { return (size_t)(v->buf[0] & 0xf) * 4; }
static inline uint8_t sp_ipv4_tos(const struct sp_ipv4_view *v) { return v->buf[1]; }
static inline uint16_t sp_ipv4_total_len(const struct sp_ipv4_view *v) { return sp_get16(v->buf + 2); }
static inline uint16_t sp_ipv4_ident(const struct sp_ipv4_view *v) { return sp_get16(v->buf + 4); }
static inline bool sp_ipv4_df(const struct sp_ipv4_view *v) { return sp_get16(v->buf + 6) & SP_IPV4_FLAG_DF; }
static inline bool sp_ipv4_mf(const struct sp_ipv4_view *v) { return sp_get16(v->buf + 6) & SP_IPV4_FLAG_MF; }
/* Fragment offset in bytes. */
static inline uint16_t sp_ipv4_frag_offset(const struct sp_ipv4_view *v)
{
    return (uint16_t)((sp_get16(v->buf + 6) & SP_IPV4_FRAG_MASK) * 8);
}
static inline uint8_t sp_ipv4_ttl(const struct sp_ipv4_view *v) { return v->buf[8]; }
static inline uint8_t sp_ipv4_protocol(const struct sp_ipv4_view *v) { return v->buf[9]; }
static inline uint16_t sp_ipv4_checksum(const struct sp_ipv4_view *v) { return sp_get16(v->buf + 10); }
static inline uint32_t sp_ipv4_src(const struct sp_ipv4_view *v) { return sp_get32(v->buf + 12); }
static inline uint32_t sp_ipv4_dst(const struct sp_ipv4_view *v) { return sp_get32(v->buf + 16); }
static inline const uint8_t *sp_ipv4_payload(const struct sp_ipv4_view *v) { return v->buf + sp_ipv4_hdr_len(v); }
static inline size_t sp_ipv4_payload_len(const struct sp_ipv4_view *v)
{
    return sp_ipv4_total_len(v) - sp_ipv4_hdr_len(v);
}
/* True when the header checksum (options included) verifies. */
bool sp_ipv4_checksum_ok(const struct sp_ipv4_view *v);

struct sp_ipv4_repr {
    uint32_t src;
    uint32_t dst;
    uint8_t protocol;
    uint8_t ttl;
    uint8_t tos;
    uint16_t ident;
    bool dont_frag;
    bool more_frags;
    uint16_t frag_offset;   /* bytes, a multiple of 8 */
    uint16_t payload_len;   /* bytes after the header */
};

/* Checks the header checksum (SP_ECHECKSUM) then fills r. Options are skipped, never emitted. */
int sp_ipv4_repr_parse(const struct sp_ipv4_view *v, struct sp_ipv4_repr *r);
static inline size_t sp_ipv4_repr_buffer_len(const struct sp_ipv4_repr *r)
{
    return SP_IPV4_MIN_HDR_LEN + r->payload_len;
}
/* Writes the 20-byte header (no options) with its checksum at buf. */
void sp_ipv4_repr_emit(const struct sp_ipv4_repr *r, uint8_t *buf);

#endif
