/* ICMPv4: echo replies and destination-unreachable errors under RFC 1122's rules, and the errors
 * that arrive about what we sent, handed to the protocol that sent it. */
#include <string.h>

#include "iface_internal.h"

/* The native answer to an echo request: identifier, sequence and data echoed, addresses swapped.
 * Fills *reply, whose data points into the request. */
static void icmp_echo_reply(const struct sp_iface *iface, const struct sp_ipv4_repr *ip,
                            const struct sp_icmp_repr *req, struct sp_ip_packet *reply)
{
    memset(reply, 0, sizeof *reply);
    reply->ip.src = iface->cfg.ip;
    reply->ip.dst = ip->src;
    reply->ip.protocol = SP_IP_PROTO_ICMP;
    reply->ip.tos = ip->tos;
    reply->kind = SP_L4_ICMP;
    reply->l4.icmp = (struct sp_icmp_repr){
        .type = SP_ICMP_ECHO_REPLY, .code = 0, .ident = req->ident, .seq = req->seq,
        .data = req->data, .data_len = req->data_len,
    };
}

static int icmp_answer(struct sp_iface *iface, sp_time_t now, const struct sp_ipv4_repr *ip,
                       const struct sp_icmp_repr *req)
{
    struct sp_ip_packet reply;
    icmp_echo_reply(iface, ip, req, &reply);
    int rc = sp_ip_output(iface, now, &reply);
    if (rc == 0)
        sp_count(iface, SP_STAT_icmp_echo_tx);
    return rc;
}

/* --- The echo reply as a decision point ------------------------------------------------------ */

static int icmp_send_native(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e)
{
    return icmp_answer(iface, now, &e->req.ip, &e->req.icmp);
}

static int icmp_send_proposal(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e,
                              const struct sp_decision_proposal *p, const struct sp_decision_built *built)
{
    (void)e;
    (void)p;
    /* Emitted from what the validator built (the request's payload, our checksums), so the device
     * only ever sees frames the stack made. */
    struct sp_ip_packet reply = built->ip;
    int rc = sp_ip_output(iface, now, &reply);
    if (rc == 0)
        sp_count(iface, SP_STAT_icmp_echo_tx);
    return rc;
}

const struct sp_decision_ops sp_icmp_decision_ops = {
    .send_native = icmp_send_native,
    .send_proposal = icmp_send_proposal,
};

/* Parks the request (a copy: the receive buffer is reused) and asks; repeats of a parked
 * (ident, seq) wait with it, a new sequence number is a new request. */
static void icmp_decide(struct sp_iface *iface, sp_time_t now, const struct sp_ipv4_repr *ip,
                        const struct sp_icmp_repr *icmp, const uint8_t *buf, size_t len)
{
    struct sp_flow flow = {.protocol = SP_IP_PROTO_ICMP, .local_ip = iface->cfg.ip, .remote_ip = ip->src,
                           .remote_port = icmp->ident};
    struct sp_decision_entry *e;
    switch (sp_decision_open(iface, now, SP_DECISION_ICMP, &flow, icmp->seq, SP_IPV4_MIN_HDR_LEN + len, &e)) {
    case SP_DECISION_ANSWER:
        icmp_answer(iface, now, ip, icmp);
        return;
    case SP_DECISION_WAIT:
        return;
    case SP_DECISION_PARK:
        break;
    }
    struct sp_decision_request *r = &e->req;
    /* The request as one datagram (options, if any, are not kept: nothing answers them). */
    r->ip = *ip;
    r->ip.payload_len = (uint16_t)len;
    r->ip.more_frags = false;
    r->ip.frag_offset = 0;
    sp_ipv4_repr_emit(&r->ip, e->packet);
    memcpy(e->packet + SP_IPV4_MIN_HDR_LEN, buf, len);
    r->packet_len = SP_IPV4_MIN_HDR_LEN + len;
    r->icmp = *icmp;
    r->icmp.data = e->packet + SP_IPV4_MIN_HDR_LEN + SP_ICMP_HDR_LEN;

    /* The native reply's bytes, for shadow grading (its IP identifier is chosen on output). */
    struct sp_ip_packet reply;
    icmp_echo_reply(iface, &r->ip, &r->icmp, &reply);
    reply.ip.ttl = SP_DEFAULT_TTL;
    reply.ip.payload_len = (uint16_t)sp_icmp_repr_buffer_len(&reply.l4.icmp);
    sp_icmp_repr_emit(&reply.l4.icmp, e->native + SP_IPV4_MIN_HDR_LEN);
    sp_ipv4_repr_emit(&reply.ip, e->native);
    r->native_len = SP_IPV4_MIN_HDR_LEN + reply.ip.payload_len;
    sp_decision_ask(iface, now, e);
}

/* An error goes to the protocol of the datagram it quotes (RFC 1122 3.2.2), which must be one of
 * ours: sent from our address, to us alone (an error never answers a broadcast, RFC 1122
 * 3.2.2). TCP checks the rest (RFC 5927). Errors about UDP or ICMP are only counted: no socket
 * here keeps an error queue. */
static void icmp_error_input(struct sp_iface *iface, sp_time_t now, const struct sp_ipv4_repr *ip,
                             const struct sp_icmp_repr *icmp)
{
    struct sp_icmp_quote q;
    if (ip->dst != iface->cfg.ip || sp_icmp_quote_parse(icmp->data, icmp->data_len, &q) < 0 ||
        q.src != iface->cfg.ip) {
        sp_drop(iface, SP_STAT_drop_icmp_bad_quote, NULL);
        return;
    }
    if (q.protocol == SP_IP_PROTO_TCP)
        sp_tcp_icmp_input(iface->tcp, now, icmp, &q);
}

void sp_icmp_input(struct sp_iface *iface, sp_time_t now, const struct sp_ipv4_repr *ip, const uint8_t *buf, size_t len)
{
    sp_count(iface, SP_STAT_icmp_rx);
    struct sp_icmp_view v;
    if (sp_icmp_view_init(&v, buf, len) < 0) {
        sp_drop(iface, SP_STAT_drop_icmp_truncated, NULL);
        return;
    }
    struct sp_icmp_repr icmp;
    if (sp_icmp_repr_parse(&v, &icmp) < 0) {
        sp_drop(iface, SP_STAT_drop_icmp_bad_checksum, NULL);
        return;
    }
    if (sp_icmp_is_error(icmp.type)) {
        sp_count(iface, SP_STAT_icmp_error_rx);
        icmp_error_input(iface, now, ip, &icmp);
        return;
    }
    if (icmp.type != SP_ICMP_ECHO_REQUEST || icmp.code != 0) {
        sp_drop(iface, SP_STAT_drop_icmp_unhandled, NULL);
        return;
    }
    sp_count(iface, SP_STAT_icmp_echo_rx);
    if (ip->dst != iface->cfg.ip) {
        /* Broadcast pings are ignored, as Linux does by default (smurf amplification). */
        sp_drop(iface, SP_STAT_drop_icmp_broadcast_echo, NULL);
        return;
    }
    if (!sp_decision_is_native(iface, SP_DECISION_ICMP)) {
        icmp_decide(iface, now, ip, &icmp, buf, len);
        return;
    }
    icmp_answer(iface, now, ip, &icmp);
}

/* Token bucket shared by all ICMP errors (RFC 1812 4.3.2.8, RFC 1122 3.2.2). */
static bool icmp_error_allowed(struct sp_iface *iface, sp_time_t now)
{
    if (now > iface->icmp_err_refill) {
        iface->icmp_err_tokens += (double)(now - iface->icmp_err_refill) * SP_ICMP_ERROR_RATE_PER_S / 1000.0;
        if (iface->icmp_err_tokens > SP_ICMP_ERROR_BURST)
            iface->icmp_err_tokens = SP_ICMP_ERROR_BURST;
        iface->icmp_err_refill = now;
    }
    if (iface->icmp_err_tokens < 1.0)
        return false;
    iface->icmp_err_tokens -= 1.0;
    return true;
}

void sp_icmp_send_unreachable(struct sp_iface *iface, sp_time_t now, uint8_t code,
                              const struct sp_ipv4_repr *orig_ip, const uint8_t *orig_hdr,
                              size_t orig_hdr_len, const uint8_t *orig_payload, size_t orig_payload_len)
{
    /* RFC 1122 3.2.2: never about an ICMP error, a broadcast or multicast, a non-initial
     * fragment, or a source that is not one host (the last is checked on input). */
    if (orig_ip->protocol == SP_IP_PROTO_ICMP && (orig_payload_len < 1 || sp_icmp_is_error(orig_payload[0])))
        return;
    if (sp_iface_is_broadcast(iface, orig_ip->dst) || sp_ipv4_is_multicast(orig_ip->dst) || orig_ip->frag_offset)
        return;
    if (!icmp_error_allowed(iface, now)) {
        sp_count(iface, SP_STAT_icmp_error_ratelimited);
        return;
    }
    uint8_t quote[SP_IPV4_MAX_HDR_LEN + SP_ICMP_ERROR_QUOTE];
    size_t qlen = orig_payload_len < SP_ICMP_ERROR_QUOTE ? orig_payload_len : SP_ICMP_ERROR_QUOTE;
    if (orig_hdr_len > SP_IPV4_MAX_HDR_LEN)
        orig_hdr_len = SP_IPV4_MAX_HDR_LEN;
    memcpy(quote, orig_hdr, orig_hdr_len);
    memcpy(quote + orig_hdr_len, orig_payload, qlen);

    struct sp_ip_packet pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.ip.src = iface->cfg.ip;
    pkt.ip.dst = orig_ip->src;
    pkt.ip.protocol = SP_IP_PROTO_ICMP;
    pkt.ip.tos = 0xc0; /* internetwork control, as Linux marks its ICMP errors */
    pkt.kind = SP_L4_ICMP;
    pkt.l4.icmp = (struct sp_icmp_repr){
        .type = SP_ICMP_DEST_UNREACH, .code = code, .data = quote, .data_len = orig_hdr_len + qlen,
    };
    if (sp_ip_output(iface, now, &pkt) == 0)
        sp_count(iface, SP_STAT_icmp_unreach_tx);
}
