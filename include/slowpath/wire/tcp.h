/* TCP segments (RFC 9293) with the options slowpath speaks: MSS, window scale and timestamps
 * (RFC 7323), SACK-permitted and SACK blocks (RFC 2018); unknown options are skipped by their
 * length. */
#ifndef SLOWPATH_WIRE_TCP_H
#define SLOWPATH_WIRE_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slowpath/wire/bytes.h"

#define SP_TCP_MIN_HDR_LEN 20
#define SP_TCP_MAX_HDR_LEN 60

#define SP_TCP_FIN 0x01
#define SP_TCP_SYN 0x02
#define SP_TCP_RST 0x04
#define SP_TCP_PSH 0x08
#define SP_TCP_ACK 0x10
#define SP_TCP_URG 0x20
#define SP_TCP_ECE 0x40
#define SP_TCP_CWR 0x80

#define SP_TCP_OPT_END 0
#define SP_TCP_OPT_NOP 1
#define SP_TCP_OPT_MSS 2
#define SP_TCP_OPT_WSCALE 3
#define SP_TCP_OPT_SACK_PERM 4
#define SP_TCP_OPT_SACK 5
#define SP_TCP_OPT_TIMESTAMP 8

/* A SACK option holds 1 to 4 blocks (RFC 2018 3): 2 + 8n bytes of the 40 options may take. */
#define SP_TCP_SACK_MAX_BLOCKS 4

/* One SACK block: the octets [left, right) of the sender's sequence space (RFC 2018 3). */
struct sp_tcp_sack_block {
    uint32_t left, right;
};

/* Read-only, like every view (ipv4.h says why). */
struct sp_tcp_view {
    const uint8_t *buf;
    size_t len;    /* the whole segment: header, options and payload */
};

/* At least 20 bytes (SP_ETRUNCATED); data offset >= 5 and within the buffer (SP_EMALFORMED). */
int sp_tcp_view_init(struct sp_tcp_view *v, const uint8_t *buf, size_t len);

/* Where the checksum field sits in the header (what an offload's csum_offset names). */
#define SP_TCP_CSUM_OFFSET 16

static inline uint16_t sp_tcp_src_port(const struct sp_tcp_view *v) { return sp_get16(v->buf); }
static inline uint16_t sp_tcp_dst_port(const struct sp_tcp_view *v) { return sp_get16(v->buf + 2); }
static inline uint32_t sp_tcp_seq(const struct sp_tcp_view *v) { return sp_get32(v->buf + 4); }
static inline uint32_t sp_tcp_ack(const struct sp_tcp_view *v) { return sp_get32(v->buf + 8); }
static inline size_t sp_tcp_hdr_len(const struct sp_tcp_view *v) { return (size_t)(v->buf[12] >> 4) * 4; }
static inline uint8_t sp_tcp_flags(const struct sp_tcp_view *v) { return v->buf[13]; }
static inline uint16_t sp_tcp_window(const struct sp_tcp_view *v) { return sp_get16(v->buf + 14); }
static inline uint16_t sp_tcp_checksum(const struct sp_tcp_view *v) { return sp_get16(v->buf + 16); }
static inline const uint8_t *sp_tcp_payload(const struct sp_tcp_view *v) { return v->buf + sp_tcp_hdr_len(v); }
static inline size_t sp_tcp_payload_len(const struct sp_tcp_view *v) { return v->len - sp_tcp_hdr_len(v); }

struct sp_tcp_repr {
    uint16_t src_port;
    uint16_t dst_port;
    uint32_t seq;
    uint32_t ack;
    uint8_t flags;
    uint16_t window;         /* the raw field, unscaled */
    uint16_t mss;            /* 0: option absent */
    int8_t wscale;           /* -1: option absent; else the shift, 0..14 */
    bool sack_perm;
    bool has_timestamp;
    uint32_t ts_val;
    uint32_t ts_ecr;
    uint8_t sack_n;          /* SACK blocks (0: option absent) */
    struct sp_tcp_sack_block sack[SP_TCP_SACK_MAX_BLOCKS];
    const uint8_t *payload;
    size_t payload_len;
};

/* Verifies the checksum against the pseudo-header (SP_ECHECKSUM), then parses the options:
 * a known option with a wrong length or one that overruns the header is SP_EMALFORMED (a SACK
 * option must hold 1 to 4 whole blocks); unknown options are skipped by their length. Window-scale
 * shifts above 14 are clamped to 14 (RFC 7323 2.3). The blocks are taken as they are: whether they
 * make sense is the connection's business (RFC 2018 4, RFC 2883). */
int sp_tcp_repr_parse(const struct sp_tcp_view *v, uint32_t src_ip, uint32_t dst_ip, struct sp_tcp_repr *r);
/* Header (with the options the repr asks for, padded to 4 bytes) plus payload. SACK blocks come
 * last and only as many as fit in the 40 bytes of options. */
size_t sp_tcp_repr_header_len(const struct sp_tcp_repr *r);
static inline size_t sp_tcp_repr_buffer_len(const struct sp_tcp_repr *r)
{
    return sp_tcp_repr_header_len(r) + r->payload_len;
}
/* sp_tcp_repr_emit with only the pseudo-header's sum in the checksum field, for a device that
 * completes it (a partial checksum, SP_FRAME_NEEDS_CSUM): the payload is never summed here. */
void sp_tcp_repr_emit_partial(const struct sp_tcp_repr *r, uint32_t src_ip, uint32_t dst_ip, uint8_t *buf);

/* sp_tcp_repr_parse without the checksum: for a segment whose checksum the device vouched for
 * (SP_FRAME_NEEDS_CSUM, SP_FRAME_DATA_VALID), as a NIC driver's CHECKSUM_UNNECESSARY. */
int sp_tcp_repr_parse_unchecked(const struct sp_tcp_view *v, struct sp_tcp_repr *r);

/* In-place edits of a segment's header, for cutting a super-segment into the segments it stands
 * for (stack/dev/offload.c); the checksum is then the caller's to redo. */
static inline void sp_tcp_put_seq(uint8_t *seg, uint32_t seq) { sp_put32(seg + 4, seq); }
static inline void sp_tcp_put_flags(uint8_t *seg, uint8_t flags) { seg[13] = flags; }
static inline void sp_tcp_put_checksum(uint8_t *seg, uint16_t c) { sp_put16(seg + SP_TCP_CSUM_OFFSET, c); }

/* Writes header, options, payload (may alias its place in buf) and checksum. */
void sp_tcp_repr_emit(const struct sp_tcp_repr *r, uint32_t src_ip, uint32_t dst_ip, uint8_t *buf);

/* Sequence-space comparisons (RFC 9293 3.4), modulo 2^32. */
static inline bool sp_seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool sp_seq_le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool sp_seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool sp_seq_ge(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }

#endif
