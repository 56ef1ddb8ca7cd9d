/* The TCP handshake as a decision point (include/slowpath/decide.h, kind tcp): a SYN in LISTEN,
 * answered by a SYN-ACK (to SYN-RECEIVED), an acceptable SYN-ACK in SYN-SENT, answered by an ACK
 * (to ESTABLISHED), and a SYN to a port nobody listens on, answered by a RST. The peer's ACK that
 * completes a passive open stays native: the state the decider proposed (SYN-RECEIVED) is the one
 * the connection is in. Under legal authority a proposal may also refuse (RST) or ignore a SYN,
 * refuse a SYN-ACK, and choose the ISS, window, MSS and window scale of a SYN-ACK, which the
 * connection then keeps.
 *
 * A passive open creates its embryonic SYN-RECEIVED connection when the SYN is parked, not when
 * the decision completes, and the connection owns the request (`deciding` set, e->owner = it):
 *   - the ISS is chosen once, at the SYN's arrival, exactly as the native stack would (RFC 6528's
 *     clock runs on while the decider thinks); the decider is told the ISS the reply must carry
 *     (exact), or may choose another, which the connection then adopts (legal);
 *   - the request holds its backlog and connection-table slots, so a completion always finds
 *     them, and parked SYNs are bounded by the backlog as native half-open connections are;
 *   - what the peer sends meanwhile finds the connection: a retransmitted SYN joins the request,
 *     a RST ends the connection and sp_tcp_conn_finish ends its request (dropped, SP_ECLOSED),
 *     and so does closing the listener.
 * A deciding connection sends nothing and runs no timer; the decision's deadline bounds its life.
 * An active open parks its SYN-ACK on the existing SYN-SENT connection the same way; its SYN
 * retransmission timer keeps running, as if the SYN-ACK had not arrived yet.
 * In shadow mode the connection answers natively at once and lives its own life: the request
 * lets go of it (owner NULL) and only waits for the grade.
 * A SYN to a closed port creates nothing: the parked entry (no owner) holds the SYN, repeats join
 * it, and the pending table bounds how many wait. */
#include <string.h>

#include "tcp_internal.h"

/* --- Building the request --------------------------------------------------------------------- */

static size_t seg_bytes_len(const struct sp_tcp_stack *tcp, const struct sp_tcp_repr *seg)
{
    return tcp->rx_seg ? tcp->rx_seg_len : sp_tcp_repr_buffer_len(seg);
}

/* An IPv4 datagram from src to dst carrying r, as the stack would send it (its IP identifier is
 * chosen on output). Returns its length. */
static size_t datagram(uint8_t *out, uint32_t src, uint32_t dst, const struct sp_tcp_repr *r)
{
    struct sp_ipv4_repr ip = {.src = src, .dst = dst, .protocol = SP_IP_PROTO_TCP, .ttl = SP_DEFAULT_TTL};
    ip.payload_len = (uint16_t)sp_tcp_repr_buffer_len(r);
    sp_tcp_repr_emit(r, src, dst, out + SP_IPV4_MIN_HDR_LEN);
    sp_ipv4_repr_emit(&ip, out);
    return SP_IPV4_MIN_HDR_LEN + ip.payload_len;
}

/* The triggering segment, copied (the receive buffer is reused) as one datagram: the segment's
 * own bytes when sp_tcp_input is handling them, the repr emitted again otherwise. */
static void fill_packet(struct sp_tcp_stack *tcp, struct sp_decision_entry *e, uint32_t src, uint32_t dst,
                        const struct sp_tcp_repr *seg)
{
    struct sp_decision_request *r = &e->req;
    size_t len = seg_bytes_len(tcp, seg);
    r->ip = (struct sp_ipv4_repr){.src = src, .dst = dst, .protocol = SP_IP_PROTO_TCP, .ttl = SP_DEFAULT_TTL};
    if (tcp->rx_ip) {
        r->ip = *tcp->rx_ip;
        r->ip.more_frags = false;   /* reassembled, if it ever was fragmented */
        r->ip.frag_offset = 0;
    }
    r->ip.payload_len = (uint16_t)len;
    sp_ipv4_repr_emit(&r->ip, e->packet);
    uint8_t *l4 = e->packet + SP_IPV4_MIN_HDR_LEN;
    bool own_bytes = tcp->rx_seg && (!seg->payload_len || (seg->payload >= tcp->rx_seg &&
                                                           seg->payload + seg->payload_len <= tcp->rx_seg + len));
    r->tcp = *seg;
    if (own_bytes) {
        memcpy(l4, tcp->rx_seg, len);
        r->tcp.payload = seg->payload_len ? l4 + (seg->payload - tcp->rx_seg) : NULL;
    } else {
        sp_tcp_repr_emit(seg, src, dst, l4);
        r->tcp.payload = seg->payload_len ? l4 + sp_tcp_repr_header_len(seg) : NULL;
    }
    r->packet_len = SP_IPV4_MIN_HDR_LEN + len;
}

static uint16_t mss_of_mtu(const struct sp_iface *iface)
{
    return (uint16_t)(iface->mtu - SP_IPV4_MIN_HDR_LEN - SP_TCP_MIN_HDR_LEN);
}

static struct sp_flow flow_of(uint32_t lip, uint32_t rip, uint16_t lport, uint16_t rport)
{
    return (struct sp_flow){.protocol = SP_IP_PROTO_TCP, .local_ip = lip, .remote_ip = rip,
                            .local_port = lport, .remote_port = rport};
}

/* A repeat of the parked request: joins it (counted), sends nothing. */
static void join(struct sp_tcp *c, sp_time_t now, const struct sp_tcp_repr *seg)
{
    struct sp_iface *iface = sp_tcp_iface(c);
    struct sp_flow flow = flow_of(c->local_ip, c->remote_ip, c->local_port, c->remote_port);
    struct sp_decision_entry *e;
    /* The parked request is found (WAIT). ANSWER: the mode went native meanwhile, and the parked
     * request still answers for this connection. */
    if (sp_decision_open(iface, now, SP_DECISION_TCP, &flow, seg->seq, seg_bytes_len(c->stack, seg), &e) ==
        SP_DECISION_PARK)
        sp_decision_release(iface, e);
}

/* Hands the entry to the decider; the connection owns it in delegate mode. */
static void park(struct sp_tcp *c, sp_time_t now, struct sp_decision_entry *e)
{
    e->owner = c;
    c->deciding = e->req.mode == SP_DECIDE_DELEGATE;
    sp_decision_ask(sp_tcp_iface(c), now, e);
}

void sp_tcp_decide_syn(struct sp_tcp *l, sp_time_t now, const struct sp_ipv4_repr *ip, const struct sp_tcp_repr *seg)
{
    struct sp_tcp_stack *tcp = l->stack;
    struct sp_iface *iface = tcp->iface;
    struct sp_flow flow = flow_of(iface->cfg.ip, ip->src, l->local_port, seg->src_port);
    struct sp_decision_entry *e;
    struct sp_tcp *c;
    switch (sp_decision_open(iface, now, SP_DECISION_TCP, &flow, seg->seq,
                             SP_IPV4_MIN_HDR_LEN + seg_bytes_len(tcp, seg), &e)) {
    case SP_DECISION_ANSWER:
        c = sp_tcp_embryo_new(l, ip, seg);
        if (c)
            sp_tcp_send_syn(c, now);
        return;
    case SP_DECISION_WAIT:
        return;
    case SP_DECISION_PARK:
        break;
    }
    c = sp_tcp_embryo_new(l, ip, seg);
    if (!c) {
        sp_decision_release(iface, e);
        return;
    }
    struct sp_decision_request *r = &e->req;
    fill_packet(tcp, e, ip->src, ip->dst, seg);
    r->hs_state = SP_HS_LISTEN;
    r->iss = c->iss;
    struct sp_tcp_repr native;
    sp_tcp_syn_repr(c, &native);
    r->native_window = native.window;
    r->native_mss = native.mss;
    r->native_wscale = native.wscale;
    /* Legal bounds: native offers all the room the buffer has, and the MSS the MTU allows. */
    r->max_window = native.window;
    r->max_mss = mss_of_mtu(iface);
    r->native_len = datagram(e->native, c->local_ip, c->remote_ip, &native);
    park(c, now, e);
}

void sp_tcp_decide_syn_ack(struct sp_tcp *c, sp_time_t now, const struct sp_tcp_repr *seg)
{
    struct sp_iface *iface = sp_tcp_iface(c);
    bool syn_ack = (seg->flags & (SP_TCP_SYN | SP_TCP_ACK)) == (SP_TCP_SYN | SP_TCP_ACK);
    if (c->deciding) {
        if (syn_ack && seg->seq == c->deciding_isn)
            join(c, now, seg);
        else
            sp_drop(iface, SP_STAT_drop_tcp_out_of_window, "SYN-SENT: a handshake decision is pending");
        return;
    }
    if (!syn_ack)
        return; /* not called for these: the caller handles everything but an acceptable SYN-ACK */
    struct sp_flow flow = flow_of(c->local_ip, c->remote_ip, c->local_port, c->remote_port);
    struct sp_decision_entry *e;
    switch (sp_decision_open(iface, now, SP_DECISION_TCP, &flow, seg->seq,
                             SP_IPV4_MIN_HDR_LEN + seg_bytes_len(c->stack, seg), &e)) {
    case SP_DECISION_ANSWER:
        sp_tcp_syn_sent_accept(c, now, now, seg, -1);
        return;
    case SP_DECISION_WAIT:
        return;
    case SP_DECISION_PARK:
        break;
    }
    struct sp_decision_request *r = &e->req;
    fill_packet(c->stack, e, c->remote_ip, c->local_ip, seg);
    r->hs_state = SP_HS_SYN_SENT;
    r->iss = c->iss;
    /* What we offered in our SYN describes us (the ACK itself carries no options)... */
    struct sp_tcp_repr syn;
    sp_tcp_syn_repr(c, &syn);
    r->native_mss = syn.mss;
    r->native_wscale = syn.wscale;
    /* ... and the native ACK is what the connection would send once it has taken the SYN-ACK:
     * worked out on a copy, the connection itself stays as if nothing had arrived. */
    struct sp_tcp after = *c;
    sp_tcp_take_syn_options(&after, seg);
    struct sp_tcp_repr ack;
    sp_tcp_init_repr(&after, &ack, c->iss + 1, SP_TCP_ACK);
    r->native_window = ack.window;
    r->max_window = ack.window; /* all the room there is, scaled as the ACK is */
    r->max_mss = mss_of_mtu(iface);
    r->native_len = datagram(e->native, c->local_ip, c->remote_ip, &ack);
    c->deciding_isn = seg->seq;
    c->deciding_at = now;
    park(c, now, e);
}

void sp_tcp_decide_parked_input(struct sp_tcp *c, sp_time_t now, const struct sp_tcp_repr *seg)
{
    /* The peer has heard nothing from us: it can only repeat its SYN or give up with a RST. */
    if (seg->flags & SP_TCP_RST) {
        if (seg->seq == c->rcv_nxt) {
            sp_tcp_conn_finish(c, SP_ECONNRESET);
            return;
        }
    } else if ((seg->flags & (SP_TCP_SYN | SP_TCP_ACK)) == SP_TCP_SYN && seg->seq == c->irs) {
        join(c, now, seg);
        return;
    }
    sp_drop(sp_tcp_iface(c), SP_STAT_drop_tcp_out_of_window, "SYN-RECEIVED: a handshake decision is pending");
}

/* --- A SYN to a closed port ---------------------------------------------------------------------- */

bool sp_tcp_decide_closed(struct sp_tcp_stack *tcp, sp_time_t now, const struct sp_ipv4_repr *ip,
                          const struct sp_tcp_repr *seg)
{
    struct sp_iface *iface = tcp->iface;
    /* Only a connection request is a decision; anything else keeps its native reset. */
    if ((seg->flags & (SP_TCP_SYN | SP_TCP_ACK | SP_TCP_FIN | SP_TCP_RST)) != SP_TCP_SYN ||
        sp_decision_is_native(iface, SP_DECISION_TCP))
        return false;
    struct sp_flow flow = flow_of(ip->dst, ip->src, seg->dst_port, seg->src_port);
    struct sp_decision_entry *e;
    switch (sp_decision_open(iface, now, SP_DECISION_TCP, &flow, seg->seq,
                             SP_IPV4_MIN_HDR_LEN + seg_bytes_len(tcp, seg), &e)) {
    case SP_DECISION_ANSWER:
        return false;
    case SP_DECISION_WAIT:
        return true;
    case SP_DECISION_PARK:
        break;
    }
    /* No connection state: the entry alone remembers the SYN, and the pending table bounds it. */
    fill_packet(tcp, e, ip->src, ip->dst, seg);
    e->req.hs_state = SP_HS_CLOSED;
    struct sp_tcp_repr rst;
    sp_tcp_reset_repr(seg, &rst);
    e->req.native_len = datagram(e->native, ip->dst, ip->src, &rst);
    sp_decision_ask(iface, now, e);
    return true;
}

/* The reset to a parked SYN for a closed port: native (t NULL) or the validated one. */
static int reset_closed(struct sp_iface *iface, sp_time_t now, const struct sp_decision_request *r,
                        const struct sp_tcp_repr *t)
{
    struct sp_tcp_repr rst;
    if (t)
        rst = *t;
    else
        sp_tcp_reset_repr(&r->tcp, &rst);
    return sp_tcp_emit(iface->tcp, now, r->ip.dst, r->ip.src, &rst);
}

/* --- Answering ---------------------------------------------------------------------------------- */

/* The ISS a proposal chose (in exact, the one the stack gave it): the send sequence space starts
 * there (RFC 9293 3.3.1). Nothing was sent on the connection yet. */
static void adopt_iss(struct sp_tcp *c, uint32_t iss)
{
    c->iss = iss;
    c->snd_una = c->snd_nxt = c->snd_max = iss;
    c->snd_buf_seq = iss + 1;
    c->recover = iss;
    c->snd_wl2 = iss;
}

/* A validated SYN-ACK's ISS, window, MSS and window scale become the connection's: every
 * retransmission of the SYN-ACK carries them, and our receive window is scaled as it says. */
static void take_proposal(struct sp_tcp *c, const struct sp_tcp_repr *t)
{
    adopt_iss(c, t->seq);
    c->syn_custom = true;
    c->syn_window = t->window;
    c->syn_mss = t->mss;
    if (t->wscale >= 0 && c->wscale_ok) {
        c->rcv_wscale = (uint8_t)t->wscale;
    } else {
        /* Scaling needs the option both ways (RFC 7323 2.2). */
        c->wscale_ok = false;
        c->snd_wscale = 0;
        c->rcv_wscale = 0;
    }
}

/* A validated RST refuses: a passive open's embryo goes (the listener stays as it was), an active
 * open fails, and its application hears SP_ECONNREFUSED as if the peer had refused. */
static int refuse(struct sp_tcp *c, sp_time_t now, const struct sp_tcp_repr *t)
{
    struct sp_tcp_repr rst = *t;
    int rc = sp_tcp_emit(c->stack, now, c->local_ip, c->remote_ip, &rst);
    if (c->state == SP_TCP_SYN_SENT && c->cb.on_connect && !c->app_closed)
        c->cb.on_connect(c, SP_ECONNREFUSED);
    sp_tcp_conn_finish(c, SP_ECONNREFUSED);
    return rc;
}

/* The answer, native (t NULL) or the validated proposal's segment t, through the normal output
 * path. The connection may go away inside (an application callback): the entry then forgets it. */
static int answer(struct sp_tcp *c, sp_time_t now, struct sp_decision_entry *e, const struct sp_tcp_repr *t)
{
    struct sp_tcp_stack *tcp = c->stack;
    int rc = 0;
    sp_tcp_enter(tcp);
    c->deciding = false;
    if (t && (t->flags & SP_TCP_RST)) {
        rc = refuse(c, now, t);
        e->owner = NULL;
    } else if (e->req.hs_state == SP_HS_LISTEN) {
        if (t)
            take_proposal(c, t);
        sp_tcp_send_syn(c, now);
    } else {
        /* The RTT sample counts from the SYN-ACK's arrival, not the decider's thinking. */
        sp_tcp_syn_sent_accept(c, now, c->deciding_at, &e->req.tcp, t ? (long)t->window : -1);
    }
    if (e->owner && c->dead) {
        rc = SP_ECLOSED;
        e->owner = NULL;
    }
    sp_tcp_leave(tcp);
    return rc;
}

static int tcp_send_native(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e)
{
    if (e->req.hs_state == SP_HS_CLOSED)
        return reset_closed(iface, now, &e->req, NULL);
    struct sp_tcp *c = e->owner;
    if (!c || c->dead)
        return SP_ECLOSED;
    if (e->req.mode == SP_DECIDE_SHADOW)
        e->owner = NULL; /* the connection goes its own way; the request only waits for its grade */
    return answer(c, now, e, NULL);
}

static int tcp_send_proposal(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e,
                             const struct sp_decision_proposal *p, const struct sp_decision_built *built)
{
    (void)p;
    if (e->req.hs_state == SP_HS_CLOSED)
        return reset_closed(iface, now, &e->req, &built->ip.l4.tcp);
    struct sp_tcp *c = e->owner;
    if (!c || c->dead)
        return SP_ECLOSED;
    return answer(c, now, e, &built->ip.l4.tcp);
}

/* No SYN-ACK went out for a passive open (the policy dropped it, or a legal proposal chose
 * silence): it leaves nothing behind, its backlog slot included. An active open dropped by the
 * policy stays in SYN-SENT as if the SYN-ACK had been lost. */
static void tcp_finished(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e,
                         enum sp_decision_action action, bool emitted)
{
    (void)iface;
    (void)now;
    struct sp_tcp *c = e->owner;
    if (!c || c->dead)
        return;
    c->deciding = false;
    bool silent = !emitted && (action == SP_ACTION_DROP || action == SP_ACTION_LLM);
    if (silent && e->req.hs_state == SP_HS_LISTEN) {
        sp_tcp_enter(c->stack);
        sp_tcp_conn_finish(c, SP_ECLOSED);
        sp_tcp_leave(c->stack);
    }
}

static const struct sp_decision_ops tcp_decision_ops = {
    .send_native = tcp_send_native,
    .send_proposal = tcp_send_proposal,
    .finished = tcp_finished,
};

void sp_tcp_decide_init(struct sp_iface *iface)
{
    sp_decision_set_ops(iface, SP_DECISION_TCP, &tcp_decision_ops);
}
