/* The validator for the TCP handshake (RFC 9293 3.10.7.2 LISTEN, 3.10.7.3 SYN-SENT): which answer
 * the situation allows, the transition it leads to, and the fields that answer must carry. The
 * ISN is the stack's (RFC 6528), never the proposal's choice. */
#include <string.h>

#include "validate_internal.h"

/* What the rules allow in reply to the request's segment. */
struct tcp_expect {
    enum sp_proposal_action action;  /* DROP: nothing may be proposed (the stack should not ask) */
    uint8_t flags;
    enum sp_hs_state next;
    uint32_t seq, ack;
};

static struct tcp_expect expect(const struct sp_decision_request *req)
{
    const struct sp_tcp_repr *seg = &req->tcp;
    struct tcp_expect x = {.action = SP_PROPOSE_DROP};
    if (seg->flags & SP_TCP_RST)
        return x; /* a RST is never answered */
    switch (req->hs_state) {
    case SP_HS_LISTEN:
        if (seg->flags & SP_TCP_ACK) {
            /* Any ACK to a listener: <SEQ=SEG.ACK><CTL=RST>, the listener stays. */
            x = (struct tcp_expect){SP_PROPOSE_RST, SP_TCP_RST, SP_HS_LISTEN, seg->ack, 0};
        } else if (seg->flags & SP_TCP_SYN) {
            x = (struct tcp_expect){SP_PROPOSE_SYN_ACK, SP_TCP_SYN | SP_TCP_ACK, SP_HS_SYN_RECEIVED, req->iss,
                                    seg->seq + 1};
        }
        return x;
    case SP_HS_SYN_SENT:
        if ((seg->flags & SP_TCP_ACK) && seg->ack != req->iss + 1) {
            /* An unacceptable ACK: reset it, the connection attempt goes on. */
            x = (struct tcp_expect){SP_PROPOSE_RST, SP_TCP_RST, SP_HS_SYN_SENT, seg->ack, 0};
        } else if ((seg->flags & (SP_TCP_SYN | SP_TCP_ACK)) == (SP_TCP_SYN | SP_TCP_ACK)) {
            x = (struct tcp_expect){SP_PROPOSE_ACK, SP_TCP_ACK, SP_HS_ESTABLISHED, req->iss + 1, seg->seq + 1};
        }
        return x;
    default:
        return x;
    }
}

/* The fields every form of proposal must get right, once its flags and transition are known. */
static enum sp_verdict check_fields(const struct sp_decision_request *req, const struct tcp_expect *x,
                                    const struct sp_tcp_repr *t)
{
    if (t->seq != x->seq)
        return SP_VERDICT_SEQUENCE;
    if (x->action == SP_PROPOSE_RST)
        return SP_VERDICT_VALID; /* a RST carries nothing else that matters */
    if (t->ack != x->ack)
        return SP_VERDICT_ACK;
    if (t->window == 0)
        return SP_VERDICT_WINDOW;
    if (x->action != SP_PROPOSE_SYN_ACK)
        return SP_VERDICT_VALID;
    uint16_t mss_max = req->native_mss ? req->native_mss : SP_MAX_MTU - SP_IPV4_MIN_HDR_LEN - SP_TCP_MIN_HDR_LEN;
    if (t->mss != 0 && (t->mss < 536 || t->mss > mss_max))
        return SP_VERDICT_MSS;
    /* RFC 7323 2.2: a scale only when the peer offered one; shifts above 14 do not exist. */
    if (t->wscale < -1 || t->wscale > 14 || (t->wscale >= 0 && req->tcp.wscale < 0))
        return SP_VERDICT_HEADER;
    return SP_VERDICT_VALID;
}

static void build(const struct sp_decision_request *req, const struct sp_tcp_repr *t, uint8_t ttl,
                  struct sp_decision_built *built)
{
    if (!built)
        return;
    memset(&built->ip, 0, sizeof built->ip);
    built->ip.ip.src = req->our_ip;
    built->ip.ip.dst = req->ip.src;
    built->ip.ip.protocol = SP_IP_PROTO_TCP;
    built->ip.ip.ttl = ttl;
    built->ip.kind = SP_L4_TCP;
    built->ip.l4.tcp = *t;
    built->ip.l4.tcp.src_port = req->tcp.dst_port;
    built->ip.l4.tcp.dst_port = req->tcp.src_port;
    built->ip.l4.tcp.payload = NULL;
    built->ip.l4.tcp.payload_len = 0;
}

static enum sp_verdict validate_raw(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                    const struct tcp_expect *x, struct sp_decision_built *built)
{
    struct sp_ipv4_repr ip;
    const uint8_t *l4;
    size_t l4_len;
    enum sp_verdict v = sp_validate_raw_ipv4(req, p, SP_IP_PROTO_TCP, &ip, &l4, &l4_len);
    if (v != SP_VERDICT_VALID)
        return v;
    struct sp_tcp_view tv;
    if (sp_tcp_view_init(&tv, l4, l4_len) < 0)
        return SP_VERDICT_MALFORMED;
    struct sp_tcp_repr t;
    int err = sp_tcp_repr_parse(&tv, ip.src, ip.dst, &t);
    if (err == SP_ECHECKSUM)
        return SP_VERDICT_CHECKSUM;
    if (err < 0)
        return SP_VERDICT_MALFORMED;
    if (t.src_port != req->tcp.dst_port || t.dst_port != req->tcp.src_port)
        return SP_VERDICT_ADDRESS;
    if (t.flags != x->flags || ip.ttl != req->ttl) /* the TTL is the host's, as for echo replies */
        return SP_VERDICT_HEADER;
    /* Options belong on a SYN only (MSS: RFC 9293 3.7.1; window scale: RFC 7323 2.2). */
    if (!(x->flags & SP_TCP_SYN) && (t.mss || t.wscale >= 0))
        return SP_VERDICT_HEADER;
    if (t.payload_len)
        return SP_VERDICT_DATA;
    v = check_fields(req, x, &t);
    if (v == SP_VERDICT_VALID)
        build(req, &t, req->ttl, built);
    return v;
}

enum sp_verdict sp_validate_tcp(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                struct sp_decision_built *built)
{
    struct tcp_expect x = expect(req);
    if (x.action == SP_PROPOSE_DROP || p->action == SP_PROPOSE_DROP)
        return SP_VERDICT_ACTION;
    /* A raw proposal names its action by its flags; "reply" is what the raw schema says. */
    bool action_ok = p->action == x.action || (p->raw && p->action == SP_PROPOSE_REPLY);
    if (!action_ok)
        return SP_VERDICT_ACTION;
    if (p->next_state != x.next)
        return SP_VERDICT_TRANSITION;
    if (p->raw)
        return validate_raw(req, p, &x, built);
    struct sp_tcp_repr t = {
        .seq = p->tcp_seq, .flags = x.flags, .window = p->tcp_window, .mss = 0, .wscale = -1,
    };
    if (x.action != SP_PROPOSE_RST)
        t.ack = p->tcp_ack;
    if (x.action == SP_PROPOSE_SYN_ACK) {
        t.mss = p->tcp_mss;
        t.wscale = p->tcp_wscale;
    }
    if (x.action == SP_PROPOSE_RST)
        t.window = 0;
    enum sp_verdict v = check_fields(req, &x, &t);
    if (v == SP_VERDICT_VALID)
        build(req, &t, req->ttl, built);
    return v;
}
