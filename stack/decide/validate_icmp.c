/* The validator for echo replies: the same identifier, sequence and data as the request, back to
 * the requester from our address, with our TTL, checksums right. The reply the stack emits is
 * built from the request and the host's own settings, so a valid proposal yields exactly the
 * native packet: nothing the model writes (a TTL, a DF bit, a payload) reaches the wire. */
#include <string.h>

#include "validate_internal.h"

static void build_reply(const struct sp_decision_request *req, struct sp_decision_built *built)
{
    if (!built)
        return;
    memset(&built->ip, 0, sizeof built->ip);
    built->ip.ip.src = req->our_ip;
    built->ip.ip.dst = req->ip.src;
    built->ip.ip.protocol = SP_IP_PROTO_ICMP;
    built->ip.ip.ttl = req->ttl;
    built->ip.ip.tos = req->ip.tos;
    built->ip.kind = SP_L4_ICMP;
    built->ip.l4.icmp = (struct sp_icmp_repr){
        .type = SP_ICMP_ECHO_REPLY, .code = 0, .ident = req->icmp.ident, .seq = req->icmp.seq,
        .data = req->icmp.data, .data_len = req->icmp.data_len,
    };
}

static enum sp_verdict validate_raw(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                    struct sp_decision_built *built)
{
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
    /* DF and the IP identification are the sender's to choose and are not carried over. */
    if (icmp.type != SP_ICMP_ECHO_REPLY || icmp.code != 0 || ip.ttl != req->ttl || ip.tos != req->ip.tos)
        return SP_VERDICT_HEADER;
    if (icmp.ident != req->icmp.ident)
        return SP_VERDICT_IDENT;
    if (icmp.seq != req->icmp.seq)
        return SP_VERDICT_SEQUENCE;
    if (icmp.data_len != req->icmp.data_len ||
        (icmp.data_len && memcmp(icmp.data, req->icmp.data, icmp.data_len) != 0))
        return SP_VERDICT_PAYLOAD;
    build_reply(req, built);
    return SP_VERDICT_VALID;
}

enum sp_verdict sp_validate_icmp(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                 struct sp_decision_built *built)
{
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
    if (p->icmp_ttl != req->ttl)
        return SP_VERDICT_HEADER;
    build_reply(req, built);
    return SP_VERDICT_VALID;
}
