/* ICMPv4 (RFC 792): echo and the destination-unreachable errors slowpath sends. */
#ifndef SLOWPATH_WIRE_ICMP_H
#define SLOWPATH_WIRE_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slowpath/wire/bytes.h"
#include "slowpath/wire/ipv4.h"
#include "slowpath/wire/tcp.h"

#define SP_ICMP_HDR_LEN 8
#define SP_ICMP_ECHO_REPLY 0
#define SP_ICMP_DEST_UNREACH 3
#define SP_ICMP_ECHO_REQUEST 8
#define SP_ICMP_TIME_EXCEEDED 11
#define SP_ICMP_PARAM_PROBLEM 12

#define SP_ICMP_UNREACH_NET 0
#define SP_ICMP_UNREACH_HOST 1
#define SP_ICMP_UNREACH_PROTOCOL 2
#define SP_ICMP_UNREACH_PORT 3
#define SP_ICMP_UNREACH_FRAG_NEEDED 4

/* Error messages quote the offending IP header plus this many bytes of its payload (RFC 792);
 * RFC 1812 allows more, but 8 is what every host understands. */
#define SP_ICMP_ERROR_QUOTE 8

/* Read-only, like every view (ipv4.h says why). */
struct sp_icmp_view {
    const uint8_t *buf;
    size_t len;
};

int sp_icmp_view_init(struct sp_icmp_view *v, const uint8_t *buf, size_t len);

static inline uint8_t sp_icmp_type(const struct sp_icmp_view *v) { return v->buf[0]; }
static inline uint8_t sp_icmp_code(const struct sp_icmp_view *v) { return v->buf[1]; }
static inline uint16_t sp_icmp_checksum(const struct sp_icmp_view *v) { return sp_get16(v->buf + 2); }
static inline uint16_t sp_icmp_echo_ident(const struct sp_icmp_view *v) { return sp_get16(v->buf + 4); }
static inline uint16_t sp_icmp_echo_seq(const struct sp_icmp_view *v) { return sp_get16(v->buf + 6); }
static inline const uint8_t *sp_icmp_data(const struct sp_icmp_view *v) { return v->buf + SP_ICMP_HDR_LEN; }
static inline size_t sp_icmp_data_len(const struct sp_icmp_view *v) { return v->len - SP_ICMP_HDR_LEN; }
static inline bool sp_icmp_is_error(uint8_t type)
{
    return type == SP_ICMP_DEST_UNREACH || type == SP_ICMP_TIME_EXCEEDED ||
           type == SP_ICMP_PARAM_PROBLEM || type == 4 /* source quench */ || type == 5 /* redirect */;
}
bool sp_icmp_checksum_ok(const struct sp_icmp_view *v);

struct sp_icmp_repr {
    uint8_t type;
    uint8_t code;
    uint16_t ident;          /* echo */
    uint16_t seq;            /* echo */
    uint16_t mtu;            /* dest unreachable / fragmentation needed (RFC 1191) */
    const uint8_t *data;     /* echo data, or the quoted datagram of an error */
    size_t data_len;
};

/* The datagram an ICMP error quotes: its IP header and the first 8 bytes of its payload at least
 * (RFC 792; RFC 1812 routers may quote more). Only what names the flow is read: for TCP and UDP
 * the ports (payload bytes 0-3), for TCP the sequence number (bytes 4-7). */
struct sp_icmp_quote {
    uint32_t src, dst;
    uint8_t protocol;
    bool dont_frag;
    uint16_t total_len;      /* the original datagram's, which the quote usually cuts short */
    uint8_t hdr_len;         /* its IP header's length in bytes */
    uint16_t src_port, dst_port;
    uint32_t seq;            /* TCP only */
};

/* SP_ETRUNCATED when data holds less than a whole IP header and 8 bytes of payload,
 * SP_EUNSUPPORTED when the quoted header is not IPv4, SP_EMALFORMED for a header length below 20
 * or a fragment other than the first (its payload does not start with a transport header). */
int sp_icmp_quote_parse(const uint8_t *data, size_t len, struct sp_icmp_quote *q);

/* Verifies the checksum (SP_ECHECKSUM). Echo types fill ident/seq; every type points data at the
 * bytes after the 8-byte header. */
int sp_icmp_repr_parse(const struct sp_icmp_view *v, struct sp_icmp_repr *r);
static inline size_t sp_icmp_repr_buffer_len(const struct sp_icmp_repr *r) { return SP_ICMP_HDR_LEN + r->data_len; }
/* Writes header, data and checksum at buf. data may overlap buf: it is moved before the header is
 * written. */
void sp_icmp_repr_emit(const struct sp_icmp_repr *r, uint8_t *buf);

#endif
