/* UDP (RFC 768). */
#ifndef SLOWPATH_WIRE_UDP_H
#define SLOWPATH_WIRE_UDP_H

#include <stddef.h>
#include <stdint.h>

#include "slowpath/wire/bytes.h"

#define SP_UDP_HDR_LEN 8

/* Read-only, like every view (ipv4.h says why). */
struct sp_udp_view {
    const uint8_t *buf;
    size_t len;
};

/* At least 8 bytes (SP_ETRUNCATED); the length field between 8 and the buffer (SP_EMALFORMED). */
int sp_udp_view_init(struct sp_udp_view *v, const uint8_t *buf, size_t len);

static inline uint16_t sp_udp_src_port(const struct sp_udp_view *v) { return sp_get16(v->buf); }
static inline uint16_t sp_udp_dst_port(const struct sp_udp_view *v) { return sp_get16(v->buf + 2); }
static inline uint16_t sp_udp_length(const struct sp_udp_view *v) { return sp_get16(v->buf + 4); }
static inline uint16_t sp_udp_checksum(const struct sp_udp_view *v) { return sp_get16(v->buf + 6); }
static inline const uint8_t *sp_udp_payload(const struct sp_udp_view *v) { return v->buf + SP_UDP_HDR_LEN; }
static inline size_t sp_udp_payload_len(const struct sp_udp_view *v) { return sp_udp_length(v) - SP_UDP_HDR_LEN; }

struct sp_udp_repr {
    uint16_t src_port;
    uint16_t dst_port;
    const uint8_t *payload;
    size_t payload_len;
};

/* Verifies the checksum against the pseudo-header unless it is zero (SP_ECHECKSUM); port 0 as
 * destination is SP_EMALFORMED. */
int sp_udp_repr_parse(const struct sp_udp_view *v, uint32_t src_ip, uint32_t dst_ip, struct sp_udp_repr *r);
static inline size_t sp_udp_repr_buffer_len(const struct sp_udp_repr *r) { return SP_UDP_HDR_LEN + r->payload_len; }
/* Writes header, payload (may alias buf + 8) and checksum (0 sent as 0xffff). */
/* sp_udp_repr_parse without the checksum (the device vouched for it, see wire/tcp.h). */
int sp_udp_repr_parse_unchecked(const struct sp_udp_view *v, struct sp_udp_repr *r);
void sp_udp_repr_emit(const struct sp_udp_repr *r, uint32_t src_ip, uint32_t dst_ip, uint8_t *buf);

#endif
