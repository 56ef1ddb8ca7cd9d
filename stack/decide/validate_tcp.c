/* The validator for the TCP handshake (RFC 9293 3.10.7.1 CLOSED, 3.10.7.2 LISTEN, 3.10.7.3
 * SYN-SENT): which answers the situation allows, the transition each leads to, and the fields it
 * must carry.
 *   exact  the native answer only; the ISN is the stack's (RFC 6528), never the proposal's;
 *   legal  also: a SYN-ACK with any ISS, a window up to max_window and an MSS up to max_mss;
 *          refusing a SYN (RST) or ignoring it (LISTEN, closed port); refusing a SYN-ACK (RST).
 * The emitted segment is always built here from the request and the checked fields. */
#include <string.h>

#include "validate_internal.h"

/* One answer the rules allow to the request's segment. */
struct tcp_expect {
    enum sp_proposal_action action;  /* DROP: silence */
    uint8_t flags;
    enum sp_hs_state next;
    uint32_t seq, ack;
    bool any_seq;                    /* a legal SYN-ACK: the ISS is the proposal's */
};

#define TCP_ANSWERS 3
struct tcp_answers {
    int n;
    struct tcp_expect x[TCP_ANSWERS];
};

static uint32_t seg_len(const struct sp_tcp_repr *seg)
{
    return (uint32_t)seg->payload_len + !!(seg->flags & SP_TCP_SYN) + !!(seg->flags & SP_TCP_FIN);
}

/* The reset for a segment nobody will take (RFC 9293 3.10.7.1): <SEQ=SEG.ACK><CTL=RST> when it
 * carries an ACK, else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>. */
static struct tcp_expect reset_for(const struct sp_tcp_repr *seg, enum sp_hs_state next)
{
    if (seg->flags & SP_TCP_ACK)
        return (struct tcp_expect){SP_PROPOSE_RST, SP_TCP_RST, next, seg->ack, 0, false};
    return (struct tcp_expect){SP_PROPOSE_RST, SP_TCP_RST | SP_TCP_ACK, next, 0, seg->seq + seg_len(seg), false};
}

/* What the native stack answers; action DROP when it answers nothing (the stack does not ask). */
static struct tcp_expect native(const struct sp_decision_request *req)
{
    const struct sp_tcp_repr *seg = &req->tcp;
    struct tcp_expect x = {.action = SP_PROPOSE_DROP};
    if (seg->flags & SP_TCP_RST)
        return x; /* a RST is never answered */
    switch (req->hs_state) {
    case SP_HS_LISTEN:
        if (seg->flags & SP_TCP_ACK) {
            /* Any ACK to a listener: <SEQ=SEG.ACK><CTL=RST>, the listener stays. */
            x = reset_for(seg, SP_HS_LISTEN);
        } else if (seg->flags & SP_TCP_SYN) {
            x = (struct tcp_expect){SP_PROPOSE_SYN_ACK, SP_TCP_SYN | SP_TCP_ACK, SP_HS_SYN_RECEIVED, req->iss,
                                    seg->seq + 1, false};
        }
        return x;
    case SP_HS_SYN_SENT:
        if ((seg->flags & SP_TCP_ACK) && seg->ack != req->iss + 1) {
            /* An unacceptable ACK: reset it, the connection attempt goes on. */
            x = reset_for(seg, SP_HS_SYN_SENT);
        } else if ((seg->flags & (SP_TCP_SYN | SP_TCP_ACK)) == (SP_TCP_SYN | SP_TCP_ACK)) {
            x = (struct tcp_expect){SP_PROPOSE_ACK, SP_TCP_ACK, SP_HS_ESTABLISHED, req->iss + 1, seg->seq + 1, false};
        }
        return x;
    case SP_HS_CLOSED:
        return reset_for(seg, SP_HS_CLOSED);
    default:
        return x;
    }
}

static void add(struct tcp_answers *a, struct tcp_expect x)
{
    if (a->n < TCP_ANSWERS)
        a->x[a->n++] = x;
}

/* Every answer the authority allows: native's, and in legal the other choices the RFCs leave. */
static void allowed(const struct sp_decision_request *req, struct tcp_answers *a)
{
    const struct sp_tcp_repr *seg = &req->tcp;
    struct tcp_expect n = native(req);
    a->n = 0;
    if (n.action == SP_PROPOSE_DROP)
        return;
    add(a, n);
    if (req->authority != SP_AUTHORITY_LEGAL)
        return;
    const struct tcp_expect silence = {.action = SP_PROPOSE_DROP, .next = req->hs_state};
    if (req->hs_state == SP_HS_LISTEN && n.action == SP_PROPOSE_SYN_ACK) {
        /* A listener may refuse a connection as a closed port would, or not answer at all. */
        a->x[0].any_seq = true;
        add(a, reset_for(seg, SP_HS_LISTEN));
        add(a, silence);
    } else if (req->hs_state == SP_HS_SYN_SENT && n.action == SP_PROPOSE_ACK) {
        /* We may still abandon our own attempt: reset the peer's half-open connection. */
        add(a, reset_for(seg, SP_HS_CLOSED));
    } else if (req->hs_state == SP_HS_CLOSED && !(seg->flags & SP_TCP_ACK)) {
        add(a, silence); /* as a firewalled host does */
    }
}

static uint16_t window_max(const struct sp_decision_request *req)
{
    return req->max_window ? req->max_window : req->native_window;
}

static uint16_t mss_max(const struct sp_decision_request *req)
{
    if (req->authority == SP_AUTHORITY_LEGAL && req->max_mss)
        return req->max_mss;
    return req->native_mss ? req->native_mss : SP_MAX_MTU - SP_IPV4_MIN_HDR_LEN - SP_TCP_MIN_HDR_LEN;
}

/* The fields every form of proposal must get right, once its answer (x) is known. */
static enum sp_verdict check_fields(const struct sp_decision_request *req, const struct tcp_expect *x,
                                    const struct sp_tcp_repr *t)
{
    bool legal = req->authority == SP_AUTHORITY_LEGAL;
    if (!x->any_seq && t->seq != x->seq)
        return SP_VERDICT_SEQUENCE;
    if (x->action == SP_PROPOSE_RST) /* a RST carries nothing else that matters, but its ACK */
        return (x->flags & SP_TCP_ACK) && t->ack != x->ack ? SP_VERDICT_ACK : SP_VERDICT_VALID;
    if (t->ack != x->ack)
        return SP_VERDICT_ACK;
    /* A window we could not honour would let the peer send what we must drop. */
    if (t->window == 0 || (legal && t->window > window_max(req)))
        return SP_VERDICT_WINDOW;
    if (x->action != SP_PROPOSE_SYN_ACK)
        return SP_VERDICT_VALID;
    /* RFC 9293 3.7.1: an MSS option of at least the 536 every host takes; none means 536. */
    if (t->mss != 0 && (t->mss < 536 || t->mss > mss_max(req)))
        return SP_VERDICT_MSS;
    /* RFC 7323 2.2: a scale only when the peer offered one; shifts above 14 do not exist. */
    if (t->wscale < -1 || t->wscale > 14 || (t->wscale >= 0 && req->tcp.wscale < 0))
        return SP_VERDICT_HEADER;
    return SP_VERDICT_VALID;
}

static void build(const struct sp_decision_request *req, const struct tcp_expect *x, const struct sp_tcp_repr *t,
                  struct sp_decision_built *built)
{
    if (!built)
        return;
    memset(&built->ip, 0, sizeof built->ip);
    built->action = x->action;
    built->ip.ip.src = req->our_ip;
    built->ip.ip.dst = req->ip.src;
    built->ip.ip.protocol = SP_IP_PROTO_TCP;
    built->ip.ip.ttl = req->ttl;
    built->ip.kind = SP_L4_TCP;
    struct sp_tcp_repr *b = &built->ip.l4.tcp;
    *b = *t;
    b->src_port = req->tcp.dst_port;
    b->dst_port = req->tcp.src_port;
    b->payload = NULL;
    b->payload_len = 0;
    if (x->action == SP_PROPOSE_RST) {
        /* Only what the checks covered: the reset's sequence, flags and acknowledgment. */
        b->ack = x->flags & SP_TCP_ACK ? t->ack : 0;
        b->window = 0;
        b->mss = 0;
        b->wscale = -1;
    }
}

/* The answer among `c` that a raw segment with these flags gives, or NULL. */
static const struct tcp_expect *by_flags(const struct tcp_answers *c, uint8_t flags)
{
    for (int i = 0; i < c->n; i++)
        if (c->x[i].flags == flags)
            return &c->x[i];
    return NULL;
}

static enum sp_verdict validate_raw(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                    const struct tcp_answers *c, struct sp_decision_built *built)
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
    const struct tcp_expect *x = by_flags(c, t.flags);
    if (!x || ip.ttl != req->ttl) /* the TTL is the host's, as for native segments */
        return SP_VERDICT_HEADER;
    if (x->next != p->next_state)
        return SP_VERDICT_TRANSITION;
    /* Options belong on a SYN only (MSS: RFC 9293 3.7.1; window scale: RFC 7323 2.2). */
    if (!(x->flags & SP_TCP_SYN) && (t.mss || t.wscale >= 0))
        return SP_VERDICT_HEADER;
    if (t.payload_len)
        return SP_VERDICT_DATA;
    v = check_fields(req, x, &t);
    if (v == SP_VERDICT_VALID)
        build(req, x, &t, built);
    return v;
}

/* The answers the proposal may mean: the one its action names; a raw proposal saying "reply"
 * (what the raw schema says) names its answer by its flags, so any that sends something. */
static void candidates(const struct tcp_answers *a, const struct sp_decision_proposal *p, struct tcp_answers *c)
{
    c->n = 0;
    for (int i = 0; i < a->n; i++) {
        bool named = a->x[i].action == p->action;
        bool by_reply = p->raw && p->action == SP_PROPOSE_REPLY && a->x[i].action != SP_PROPOSE_DROP;
        if (named || by_reply)
            add(c, a->x[i]);
    }
}

static bool leads_to(const struct tcp_answers *c, enum sp_hs_state next)
{
    for (int i = 0; i < c->n; i++)
        if (c->x[i].next == next)
            return true;
    return false;
}

enum sp_verdict sp_validate_tcp(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                struct sp_decision_built *built)
{
    struct tcp_answers a, c;
    allowed(req, &a);
    candidates(&a, p, &c);
    if (c.n == 0)
        return SP_VERDICT_ACTION;
    if (c.x[0].action == SP_PROPOSE_DROP) {
        if (built)
            built->action = SP_PROPOSE_DROP; /* silence changes no state: next_state is moot */
        return SP_VERDICT_VALID;
    }
    if (!leads_to(&c, p->next_state))
        return SP_VERDICT_TRANSITION;
    if (p->raw)
        return validate_raw(req, p, &c, built);
    const struct tcp_expect *x = &c.x[0]; /* one answer per action */
    struct sp_tcp_repr t = {
        .seq = p->tcp_seq, .flags = x->flags, .window = p->tcp_window, .mss = 0, .wscale = -1,
    };
    if (x->flags & SP_TCP_ACK)
        t.ack = p->tcp_ack;
    if (x->action == SP_PROPOSE_SYN_ACK) {
        t.mss = p->tcp_mss;
        t.wscale = p->tcp_wscale;
    }
    if (x->action == SP_PROPOSE_RST)
        t.window = 0;
    enum sp_verdict v = check_fields(req, x, &t);
    if (v == SP_VERDICT_VALID)
        build(req, x, &t, built);
    return v;
}

uint32_t sp_deviations_tcp(const struct sp_decision_request *req, const struct sp_decision_built *built,
                           struct sp_decision_chosen *chosen)
{
    struct tcp_expect n = native(req);
    const struct sp_tcp_repr *t = &built->ip.l4.tcp;
    chosen->action = built->action;
    chosen->wscale = -1;
    if (built->action != n.action)
        return built->action == SP_PROPOSE_DROP ? SP_DEV(SILENCE) : SP_DEV(ACTION);
    uint32_t d = 0;
    if (built->action == SP_PROPOSE_SYN_ACK) {
        chosen->iss = t->seq;
        chosen->mss = t->mss;
        chosen->wscale = t->wscale;
        d |= t->seq != req->iss ? SP_DEV(ISS) : 0;
        d |= t->mss != req->native_mss ? SP_DEV(MSS) : 0;
        d |= t->wscale != req->native_wscale ? SP_DEV(WSCALE) : 0;
    }
    if (built->action == SP_PROPOSE_SYN_ACK || built->action == SP_PROPOSE_ACK) {
        chosen->window = t->window;
        d |= t->window != req->native_window ? SP_DEV(WINDOW) : 0;
    }
    return d;
}
