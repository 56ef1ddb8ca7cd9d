/* TCP segments (RFC 9293) and the options slowpath speaks (RFC 7323, RFC 2018). */
#include "slowpath/wire/tcp.h"

#include <string.h>

#include "slowpath/error.h"
#include "slowpath/wire/checksum.h"
#include "slowpath/wire/ipv4.h"

#define OPT_MSS_LEN 4
#define OPT_WSCALE_LEN 3
#define OPT_SACK_PERM_LEN 2
#define OPT_TIMESTAMP_LEN 10
#define OPT_SACK_BASE_LEN 2
#define OPT_SACK_BLOCK_LEN 8
#define MAX_WSCALE 14  /* RFC 7323 2.3 */
#define MAX_OPT_LEN (SP_TCP_MAX_HDR_LEN - SP_TCP_MIN_HDR_LEN)

int sp_tcp_view_init(struct sp_tcp_view *v, const uint8_t *buf, size_t len)
{
    if (len < SP_TCP_MIN_HDR_LEN) return SP_ETRUNCATED;
    size_t hdr_len = (size_t)(buf[12] >> 4) * 4;
    if (hdr_len < SP_TCP_MIN_HDR_LEN || hdr_len > len) return SP_EMALFORMED;
    v->buf = buf;
    v->len = len;
    return 0;
}

/* Checks the length of a known option; unknown kinds only need to fit. */
static bool known_len_ok(uint8_t kind, uint8_t len)
{
    switch (kind) {
    case SP_TCP_OPT_MSS: return len == OPT_MSS_LEN;
    case SP_TCP_OPT_WSCALE: return len == OPT_WSCALE_LEN;
    case SP_TCP_OPT_SACK_PERM: return len == OPT_SACK_PERM_LEN;
    case SP_TCP_OPT_TIMESTAMP: return len == OPT_TIMESTAMP_LEN;
    case SP_TCP_OPT_SACK:
        /* Whole blocks only, at least one (RFC 2018 3); 40 bytes of options cap them at 4. */
        return len > OPT_SACK_BASE_LEN && (len - OPT_SACK_BASE_LEN) % OPT_SACK_BLOCK_LEN == 0;
    default: return true;
    }
}

/* A second SACK option in one header replaces the first: one is all a sender may send. */
static void parse_sack(const uint8_t *body, uint8_t len, struct sp_tcp_repr *r)
{
    r->sack_n = (uint8_t)((len - OPT_SACK_BASE_LEN) / OPT_SACK_BLOCK_LEN);
    for (unsigned i = 0; i < r->sack_n; i++) {
        r->sack[i].left = sp_get32(body + i * OPT_SACK_BLOCK_LEN);
        r->sack[i].right = sp_get32(body + i * OPT_SACK_BLOCK_LEN + 4);
    }
}

static int parse_options(const uint8_t *opt, size_t n, struct sp_tcp_repr *r)
{
    size_t i = 0;
    while (i < n) {
        uint8_t kind = opt[i];
        if (kind == SP_TCP_OPT_END) break;
        if (kind == SP_TCP_OPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= n) return SP_EMALFORMED;  /* no room for the length byte */
        uint8_t len = opt[i + 1];
        if (len < 2 || len > n - i || !known_len_ok(kind, len)) return SP_EMALFORMED;
        const uint8_t *body = opt + i + 2;
        switch (kind) {
        case SP_TCP_OPT_MSS:
            r->mss = sp_get16(body);
            break;
        case SP_TCP_OPT_WSCALE:
            r->wscale = (int8_t)(body[0] > MAX_WSCALE ? MAX_WSCALE : body[0]);
            break;
        case SP_TCP_OPT_SACK_PERM:
            r->sack_perm = true;
            break;
        case SP_TCP_OPT_TIMESTAMP:
            r->has_timestamp = true;
            r->ts_val = sp_get32(body);
            r->ts_ecr = sp_get32(body + 4);
            break;
        case SP_TCP_OPT_SACK:
            parse_sack(body, len, r);
            break;
        default:
            break;  /* unknown: skipped by its length */
        }
        i += len;
    }
    return 0;
}

int sp_tcp_repr_parse(const struct sp_tcp_view *v, uint32_t src_ip, uint32_t dst_ip, struct sp_tcp_repr *r)
{
    if (v->len > 0xffff) return SP_EMALFORMED;  /* cannot come from one IPv4 datagram */
    uint32_t sum = sp_csum_pseudo_ipv4(src_ip, dst_ip, SP_IP_PROTO_TCP, (uint16_t)v->len);
    if (sp_csum_finish(sp_csum_add(sum, v->buf, v->len)) != 0) return SP_ECHECKSUM;
    return sp_tcp_repr_parse_unchecked(v, r);
}

int sp_tcp_repr_parse_unchecked(const struct sp_tcp_view *v, struct sp_tcp_repr *r)
{
    if (v->len > 0xffff) return SP_EMALFORMED;
    memset(r, 0, sizeof *r);
    r->wscale = -1;
    size_t hdr_len = sp_tcp_hdr_len(v);
    int err = parse_options(v->buf + SP_TCP_MIN_HDR_LEN, hdr_len - SP_TCP_MIN_HDR_LEN, r);
    if (err < 0) return err;
    r->src_port = sp_tcp_src_port(v);
    r->dst_port = sp_tcp_dst_port(v);
    r->seq = sp_tcp_seq(v);
    r->ack = sp_tcp_ack(v);
    r->flags = sp_tcp_flags(v);
    r->window = sp_tcp_window(v);
    r->payload = sp_tcp_payload(v);
    r->payload_len = sp_tcp_payload_len(v);
    return 0;
}

/* Every option is emitted as a 4-byte-aligned block (NOPs in front), so no END padding is
 * needed: MSS 4, NOP+WS 4, NOP NOP SACK_PERM 4, NOP NOP TS 12, NOP NOP SACK 4 + 8n. */
static size_t fixed_opts_len(const struct sp_tcp_repr *r)
{
    size_t len = 0;
    if (r->mss) len += 4;
    if (r->wscale >= 0) len += 4;
    if (r->sack_perm) len += 4;
    if (r->has_timestamp) len += 12;
    return len;
}

/* The SACK blocks that fit after the other options. */
static unsigned sack_blocks_fitting(const struct sp_tcp_repr *r)
{
    size_t used = fixed_opts_len(r);
    if (r->sack_n == 0 || used + 4 + OPT_SACK_BLOCK_LEN > MAX_OPT_LEN)
        return 0;
    size_t fit = (MAX_OPT_LEN - used - 4) / OPT_SACK_BLOCK_LEN;
    unsigned n = r->sack_n < SP_TCP_SACK_MAX_BLOCKS ? r->sack_n : SP_TCP_SACK_MAX_BLOCKS;
    return n < fit ? n : (unsigned)fit;
}

size_t sp_tcp_repr_header_len(const struct sp_tcp_repr *r)
{
    unsigned nsack = sack_blocks_fitting(r);
    return SP_TCP_MIN_HDR_LEN + fixed_opts_len(r) + (nsack ? 4 + nsack * OPT_SACK_BLOCK_LEN : 0);
}

static uint8_t *put_nops(uint8_t *p, int n)
{
    while (n--) *p++ = SP_TCP_OPT_NOP;
    return p;
}

static size_t emit_nocsum(const struct sp_tcp_repr *r, uint8_t *buf)
{
    size_t hdr_len = sp_tcp_repr_header_len(r);
    size_t total = hdr_len + r->payload_len;
    /* Payload first: its source may overlap where the header is about to be written. */
    if (r->payload_len && r->payload != buf + hdr_len)
        memmove(buf + hdr_len, r->payload, r->payload_len);
    sp_put16(buf, r->src_port);
    sp_put16(buf + 2, r->dst_port);
    sp_put32(buf + 4, r->seq);
    sp_put32(buf + 8, r->ack);
    buf[12] = (uint8_t)(hdr_len / 4 << 4);
    buf[13] = r->flags;
    sp_put16(buf + 14, r->window);
    sp_put16(buf + 16, 0);
    sp_put16(buf + 18, 0);  /* urgent pointer: slowpath never sends urgent data */
    uint8_t *p = buf + SP_TCP_MIN_HDR_LEN;
    if (r->mss) {
        p[0] = SP_TCP_OPT_MSS;
        p[1] = OPT_MSS_LEN;
        sp_put16(p + 2, r->mss);
        p += 4;
    }
    if (r->wscale >= 0) {
        p = put_nops(p, 1);
        p[0] = SP_TCP_OPT_WSCALE;
        p[1] = OPT_WSCALE_LEN;
        p[2] = (uint8_t)(r->wscale > MAX_WSCALE ? MAX_WSCALE : r->wscale);
        p += 3;
    }
    if (r->sack_perm) {
        p = put_nops(p, 2);
        p[0] = SP_TCP_OPT_SACK_PERM;
        p[1] = OPT_SACK_PERM_LEN;
        p += 2;
    }
    if (r->has_timestamp) {
        p = put_nops(p, 2);
        p[0] = SP_TCP_OPT_TIMESTAMP;
        p[1] = OPT_TIMESTAMP_LEN;
        sp_put32(p + 2, r->ts_val);
        sp_put32(p + 6, r->ts_ecr);
        p += 10;
    }
    unsigned nsack = sack_blocks_fitting(r);
    if (nsack) {
        p = put_nops(p, 2);
        p[0] = SP_TCP_OPT_SACK;
        p[1] = (uint8_t)(OPT_SACK_BASE_LEN + nsack * OPT_SACK_BLOCK_LEN);
        for (unsigned i = 0; i < nsack; i++) {
            sp_put32(p + 2 + i * OPT_SACK_BLOCK_LEN, r->sack[i].left);
            sp_put32(p + 6 + i * OPT_SACK_BLOCK_LEN, r->sack[i].right);
        }
    }
    return total;
}

void sp_tcp_repr_emit(const struct sp_tcp_repr *r, uint32_t src_ip, uint32_t dst_ip, uint8_t *buf)
{
    size_t total = emit_nocsum(r, buf);
    uint32_t sum = sp_csum_pseudo_ipv4(src_ip, dst_ip, SP_IP_PROTO_TCP, (uint16_t)total);
    sp_put16(buf + SP_TCP_CSUM_OFFSET, sp_csum_finish(sp_csum_add(sum, buf, total)));
}

void sp_tcp_repr_emit_partial(const struct sp_tcp_repr *r, uint32_t src_ip, uint32_t dst_ip, uint8_t *buf)
{
    size_t total = emit_nocsum(r, buf);
    /* Folded but not complemented: the device adds the segment's own sum and complements. */
    uint32_t sum = sp_csum_pseudo_ipv4(src_ip, dst_ip, SP_IP_PROTO_TCP, (uint16_t)total);
    sp_put16(buf + SP_TCP_CSUM_OFFSET, sp_csum_fold(sum));
}
