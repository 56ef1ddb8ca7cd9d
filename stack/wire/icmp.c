/* ICMPv4 (RFC 792) messages: echo and errors. */
#include "slowpath/wire/icmp.h"

#include <string.h>

#include "slowpath/error.h"
#include "slowpath/wire/checksum.h"

static bool is_echo(uint8_t type) { return type == SP_ICMP_ECHO_REQUEST || type == SP_ICMP_ECHO_REPLY; }

static bool is_frag_needed(uint8_t type, uint8_t code)
{
    return type == SP_ICMP_DEST_UNREACH && code == SP_ICMP_UNREACH_FRAG_NEEDED;
}

int sp_icmp_view_init(struct sp_icmp_view *v, const uint8_t *buf, size_t len)
{
    if (len < SP_ICMP_HDR_LEN) return SP_ETRUNCATED;
    v->buf = buf;
    v->len = len;
    return 0;
}

bool sp_icmp_checksum_ok(const struct sp_icmp_view *v)
{
    return sp_csum(v->buf, v->len) == 0;
}

int sp_icmp_repr_parse(const struct sp_icmp_view *v, struct sp_icmp_repr *r)
{
    if (!sp_icmp_checksum_ok(v)) return SP_ECHECKSUM;
    memset(r, 0, sizeof *r);
    r->type = sp_icmp_type(v);
    r->code = sp_icmp_code(v);
    if (is_echo(r->type)) {
        r->ident = sp_icmp_echo_ident(v);
        r->seq = sp_icmp_echo_seq(v);
    } else if (is_frag_needed(r->type, r->code)) {
        r->mtu = sp_get16(v->buf + 6);  /* RFC 1191: next-hop MTU in the low half of "unused" */
    }
    r->data = sp_icmp_data(v);
    r->data_len = sp_icmp_data_len(v);
    return 0;
}

void sp_icmp_repr_emit(const struct sp_icmp_repr *r, uint8_t *buf)
{
    /* Data first: it may sit anywhere in buf, including where the header is about to go. */
    if (r->data_len && r->data != buf + SP_ICMP_HDR_LEN)
        memmove(buf + SP_ICMP_HDR_LEN, r->data, r->data_len);
    buf[0] = r->type;
    buf[1] = r->code;
    sp_put16(buf + 2, 0);
    if (is_echo(r->type)) {
        sp_put16(buf + 4, r->ident);
        sp_put16(buf + 6, r->seq);
    } else if (is_frag_needed(r->type, r->code)) {
        sp_put16(buf + 4, 0);
        sp_put16(buf + 6, r->mtu);
    } else {
        sp_put32(buf + 4, 0);
    }
    sp_put16(buf + 2, sp_csum(buf, SP_ICMP_HDR_LEN + r->data_len));
}

int sp_icmp_quote_parse(const uint8_t *data, size_t len, struct sp_icmp_quote *q)
{
    if (len < SP_IPV4_MIN_HDR_LEN) return SP_ETRUNCATED;
    /* Not sp_ipv4_view_init: the quote's total length is the original datagram's, longer than
     * the quote. The header's own length is checked here instead, then the reads are plain. */
    const struct sp_ipv4_view ip = {data, len};
    if (sp_ipv4_version(&ip) != 4) return SP_EUNSUPPORTED;
    size_t hl = sp_ipv4_hdr_len(&ip);
    if (hl < SP_IPV4_MIN_HDR_LEN) return SP_EMALFORMED;
    if (len < hl + SP_ICMP_ERROR_QUOTE) return SP_ETRUNCATED;
    if (sp_ipv4_frag_offset(&ip) != 0) return SP_EMALFORMED;
    memset(q, 0, sizeof *q);
    q->src = sp_ipv4_src(&ip);
    q->dst = sp_ipv4_dst(&ip);
    q->protocol = sp_ipv4_protocol(&ip);
    q->dont_frag = sp_ipv4_df(&ip);
    q->total_len = sp_ipv4_total_len(&ip);
    q->hdr_len = (uint8_t)hl;
    /* The first 8 bytes of a TCP header: ports and sequence number are all the accessors below
     * read (UDP's ports sit at the same offsets). */
    const struct sp_tcp_view l4 = {data + hl, SP_ICMP_ERROR_QUOTE};
    q->src_port = sp_tcp_src_port(&l4);
    q->dst_port = sp_tcp_dst_port(&l4);
    if (q->protocol == SP_IP_PROTO_TCP)
        q->seq = sp_tcp_seq(&l4);
    return 0;
}
