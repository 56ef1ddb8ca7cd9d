/* The validator for echo replies: the same identifier, sequence and data as the request (RFC 792),
 * back to the requester from our address, checksums right. The reply the stack emits is built from
 * the request, so nothing the model writes beyond the fields it may choose reaches the wire:
 *   exact  the host's TTL, the stack's IP identification, no DF: exactly the native packet;
 *   legal  the model's TTL (1-255), IP identification and DF bit, or no reply at all. */
#include <string.h>

#include "validate_internal.h"

/* The IP header fields of the reply that are the sender's choice. */
struct ip_choice {
    uint8_t ttl;
    bool df;
    bool keep_ident;    /* ident is the model's; else the stack numbers the datagram */
    uint16_t ident;
};

static struct ip_choice native_choice(const struct sp_decision_request *req)
{
    return (struct ip_choice){.ttl = req->ttl};
}

static void build_reply(const struct sp_decision_request *req, const struct ip_choice *c,
                        struct sp_decision_built *built)
{
    if (!built)
        return;
    memset(&built->ip, 0, sizeof built->ip);
    built->action = SP_PROPOSE_REPLY;
    built->ip.ip.src = req->our_ip;
    built->ip.ip.dst = req->ip.src;
    built->ip.ip.protocol = SP_IP_PROTO_ICMP;
    built->ip.ip.ttl = c->ttl;
    built->ip.ip.tos = req->ip.tos;
    built->ip.ip.dont_frag = c->df;
    built->ip.ip.ident = c->ident;
    built->ip.keep_ident = c->keep_ident;
    built->ip.kind = SP_L4_ICMP;
    built->ip.l4.icmp = (struct sp_icmp_repr){
        .type = SP_ICMP_ECHO_REPLY, .code = 0, .ident = req->icmp.ident, .seq = req->icmp.seq,
        .data = req->icmp.data, .data_len = req->icmp.data_len,
    };
}

/* A reply the same size as the request: with DF it must fit our link unfragmented (RFC 791), or
 * it could never be sent. */
static bool df_fits(const struct sp_decision_request *req, const struct ip_choice *c)
{
    size_t len = SP_IPV4_MIN_HDR_LEN + SP_ICMP_HDR_LEN + req->icmp.data_len;
    return !c->df || !req->mtu || len <= req->mtu;
}

static enum sp_verdict validate_raw(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                    struct sp_decision_built *built)
{
    bool legal = req->authority == SP_AUTHORITY_LEGAL;
    struct sp_ipv4_repr ip;
    const uint8_t *l4;
    size_t l4_len;
    enum sp_verdict v = sp_validate_raw_ipv4(req, p, SP_IP_PROTO_ICMP, &ip, &l4, &l4_len);
    if (v != SP_VERDICT_VALID)
        return v;
    struct sp_icmp_view iv;
    if (sp_icmp_view_init(&iv, l4, l4_len) < 0)
        return SP_VERDICT_MALFORMED;
    struct sp_icmp_repr icmp;
    if (sp_icmp_repr_parse(&iv, &icmp) < 0)
        return SP_VERDICT_CHECKSUM;
    /* exact: DF and the IP identification are the sender's to choose and are not carried over;
     * legal: they are adopted with the TTL, and the reserved flag must be zero (RFC 791). */
    bool ttl_ok = legal || ip.ttl == req->ttl;
    bool flags_ok = !legal || !(p->raw_bytes[6] & 0x80);
    if (icmp.type != SP_ICMP_ECHO_REPLY || icmp.code != 0 || !ttl_ok || !flags_ok || ip.tos != req->ip.tos)
        return SP_VERDICT_HEADER;
    if (icmp.ident != req->icmp.ident)
        return SP_VERDICT_IDENT;
    if (icmp.seq != req->icmp.seq)
        return SP_VERDICT_SEQUENCE;
    if (icmp.data_len != req->icmp.data_len ||
        (icmp.data_len && memcmp(icmp.data, req->icmp.data, icmp.data_len) != 0))
        return SP_VERDICT_PAYLOAD;
    struct ip_choice c = native_choice(req);
    if (legal)
        c = (struct ip_choice){.ttl = ip.ttl, .df = ip.dont_frag, .keep_ident = true, .ident = ip.ident};
    if (!df_fits(req, &c))
        return SP_VERDICT_HEADER;
    build_reply(req, &c, built);
    return SP_VERDICT_VALID;
}

/* The structured proposal's IP choices: exact takes none of them (the TTL must be the host's). */
static enum sp_verdict structured_choice(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                         struct ip_choice *c)
{
    *c = native_choice(req);
    if (req->authority != SP_AUTHORITY_LEGAL)
        return p->icmp_ttl == req->ttl ? SP_VERDICT_VALID : SP_VERDICT_HEADER;
    if (p->icmp_ttl == 0 || p->icmp_ip_ident < -1 || p->icmp_ip_ident > 0xffff || p->icmp_df < -1 ||
        p->icmp_df > 1)
        return SP_VERDICT_HEADER;
    c->ttl = p->icmp_ttl;
    c->df = p->icmp_df == 1;
    c->keep_ident = p->icmp_ip_ident >= 0;
    c->ident = c->keep_ident ? (uint16_t)p->icmp_ip_ident : 0;
    return df_fits(req, c) ? SP_VERDICT_VALID : SP_VERDICT_HEADER;
}

enum sp_verdict sp_validate_icmp(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                 struct sp_decision_built *built)
{
    if (p->action == SP_PROPOSE_DROP && req->authority == SP_AUTHORITY_LEGAL) {
        /* Not answering a ping is every host's right (a firewall does it). */
        if (built)
            built->action = SP_PROPOSE_DROP;
        return SP_VERDICT_VALID;
    }
    if (p->action != SP_PROPOSE_REPLY)
        return SP_VERDICT_ACTION;
    if (p->raw)
        return validate_raw(req, p, built);
    if (p->icmp_dst != req->ip.src)
        return SP_VERDICT_ADDRESS;
    if (p->icmp_ident != req->icmp.ident)
        return SP_VERDICT_IDENT;
    if (p->icmp_seq != req->icmp.seq)
        return SP_VERDICT_SEQUENCE;
    struct ip_choice c;
    enum sp_verdict v = structured_choice(req, p, &c);
    if (v == SP_VERDICT_VALID)
        build_reply(req, &c, built);
    return v;
}

uint32_t sp_deviations_icmp(const struct sp_decision_request *req, const struct sp_decision_built *built,
                            uint16_t next_ident, struct sp_decision_chosen *chosen)
{
    chosen->action = built->action;
    if (built->action == SP_PROPOSE_DROP)
        return SP_DEV(SILENCE);
    const struct sp_ip_packet *ip = &built->ip;
    chosen->ttl = ip->ip.ttl;
    chosen->df = ip->ip.dont_frag;
    chosen->ip_ident = ip->keep_ident ? ip->ip.ident : next_ident;
    uint32_t d = 0;
    if (chosen->ttl != req->ttl)
        d |= SP_DEV(TTL);
    if (chosen->df) /* the native reply never sets DF */
        d |= SP_DEV(DF);
    if (chosen->ip_ident != next_ident)
        d |= SP_DEV(IP_IDENT);
    return d;
}
