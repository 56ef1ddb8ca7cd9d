/* The validator's shared parts: raw IPv4 parsing, the shadow grading of a valid proposal against
 * the native answer, and where a legal one departs from it. The per-kind rules are in validate_icmp.c, validate_arp.c and
 * validate_tcp.c. */
#include <string.h>

#include "validate_internal.h"

enum sp_verdict sp_validate_raw_ipv4(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                     uint8_t proto, struct sp_ipv4_repr *ip, const uint8_t **l4, size_t *l4_len)
{
    /* No answer is longer than the largest packet a decision is asked about. */
    if (!p->raw_bytes || p->raw_len > SP_DECISION_MAX_PACKET)
        return SP_VERDICT_MALFORMED;
    struct sp_ipv4_view v;
    if (sp_ipv4_view_init(&v, p->raw_bytes, p->raw_len) < 0)
        return SP_VERDICT_MALFORMED;
    /* Trailing bytes after the datagram would be a second meaning nobody checked. */
    if (sp_ipv4_total_len(&v) != p->raw_len)
        return SP_VERDICT_MALFORMED;
    if (sp_ipv4_repr_parse(&v, ip) < 0)
        return SP_VERDICT_CHECKSUM;
    if (ip->src != req->our_ip || ip->dst != req->ip.src)
        return SP_VERDICT_ADDRESS;
    if (sp_ipv4_hdr_len(&v) != SP_IPV4_MIN_HDR_LEN || ip->protocol != proto || ip->ttl == 0 || ip->more_frags ||
        ip->frag_offset != 0)
        return SP_VERDICT_HEADER;
    *l4 = sp_ipv4_payload(&v);
    *l4_len = sp_ipv4_payload_len(&v);
    return SP_VERDICT_VALID;
}

/* Raw datagrams mean the same when they are equal but for the IP identifier (each datagram gets a
 * fresh one), the DF bit (meaningless on a datagram that is never fragmented on this link) and the
 * header checksum that covers both. */
static bool same_datagram(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    if (alen != blen || alen < SP_IPV4_MIN_HDR_LEN || alen > SP_DECISION_MAX_PACKET)
        return false;
    uint8_t x[SP_IPV4_MIN_HDR_LEN], y[SP_IPV4_MIN_HDR_LEN];
    memcpy(x, a, sizeof x);
    memcpy(y, b, sizeof y);
    for (int i = 0; i < 2; i++) {
        uint8_t *h = i ? y : x;
        h[4] = h[5] = 0;
        h[6] &= (uint8_t)~(SP_IPV4_FLAG_DF >> 8);
        h[10] = h[11] = 0;
    }
    return memcmp(x, y, sizeof x) == 0 &&
           memcmp(a + SP_IPV4_MIN_HDR_LEN, b + SP_IPV4_MIN_HDR_LEN, alen - SP_IPV4_MIN_HDR_LEN) == 0;
}

/* The TTL of the native answer (a datagram), or -1 when there is none to read. */
static int native_ttl(const struct sp_decision_request *req)
{
    struct sp_ipv4_view v;
    return sp_ipv4_view_init(&v, req->native, req->native_len) < 0 ? -1 : sp_ipv4_ttl(&v);
}

bool sp_decision_matches_native(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                const struct sp_decision_built *built)
{
    switch (req->kind) {
    case SP_DECISION_ICMP:
        if (p->raw)
            return same_datagram(p->raw_bytes, p->raw_len, req->native, req->native_len);
        /* ident, seq, destination and payload were validated equal; what is left is the TTL. */
        return built->ip.ip.ttl == native_ttl(req);
    case SP_DECISION_ARP: {
        if (req->native_len < SP_ETH_HDR_LEN + SP_ARP_LEN)
            return false;
        uint8_t arp[SP_ARP_LEN];
        sp_arp_repr_emit(&built->arp, arp);
        return memcmp(arp, req->native + SP_ETH_HDR_LEN, SP_ARP_LEN) == 0;
    }
    case SP_DECISION_TCP:
        if (p->raw)
            return same_datagram(p->raw_bytes, p->raw_len, req->native, req->native_len);
        {
            const struct sp_tcp_repr *t = &built->ip.l4.tcp;
            if (t->flags & SP_TCP_RST)
                return true; /* a RST is valid only where native resets too, with the same fields */
            if (t->window != req->native_window)
                return false;
            /* seq and ack were validated; the ACK ending an active open carries no options. */
            return !(t->flags & SP_TCP_SYN) || (t->mss == req->native_mss && t->wscale == req->native_wscale);
        }
    default:
        return false;
    }
}

uint32_t sp_decision_deviations(const struct sp_decision_request *req, const struct sp_decision_built *built,
                                uint16_t next_ident, struct sp_decision_chosen *chosen)
{
    memset(chosen, 0, sizeof *chosen);
    chosen->wscale = -1;
    if (req->authority != SP_AUTHORITY_LEGAL)
        return 0; /* exact: a valid answer is the native one */
    switch (req->kind) {
    case SP_DECISION_ICMP:
        return sp_deviations_icmp(req, built, next_ident, chosen);
    case SP_DECISION_ARP:
        return sp_deviations_arp(req, built, chosen);
    case SP_DECISION_TCP:
        return sp_deviations_tcp(req, built, chosen);
    default:
        return 0;
    }
}
