/* The TCP handshake as a decision point, through the TCP scenario harness with a fake decider: a
 * SYN in LISTEN and a SYN-ACK in SYN-SENT are parked (nothing sent) until the proposal, the
 * fallback, a drop, a timeout, a RST or a closed listener ends them; shadow mode answers at once. */
#include "tcp_harness.h"

#include "slowpath/decide.h"

#define SYN SP_TCP_SYN
#define ACK SP_TCP_ACK
#define RST SP_TCP_RST
#define PSH SP_TCP_PSH
#define FK_MAX 8
#define SRV_PORT 5000
#define WS7 ((struct seg_opts){.mss = 1460, .wscale = 7})
#define FROM_SERVER ((struct seg_opts){.mss = 1460, .wscale = 7, .sport = SRV_PORT, .dport = SP_TCP_EPHEMERAL_FIRST})

/* The fake decider: keeps each request with copies of its packet and native answer (only lent
 * during the call) and every outcome, returned or told; answers later, or from inside decide
 * when sync. */
struct fk {
    struct sp_iface *iface;
    int nreq, nout;
    struct sp_decision_request reqs[FK_MAX];
    uint8_t packet[FK_MAX][SP_DECISION_MAX_PACKET];
    uint8_t native[FK_MAX][SP_DECISION_MAX_PACKET];
    struct sp_decision_outcome outs[FK_MAX];
    bool sync;
    struct sp_decision_proposal sync_prop;
    int rc;                          /* what decide returns */
};

/* Completes a request as a decider does, keeping the outcome it returns with the others. */
static int fk_complete(struct fk *f, sp_time_t now, uint64_t id, const struct sp_decision_proposal *p)
{
    struct sp_decision_outcome out;
    int told = f->nout;
    int rc = sp_decision_complete(f->iface, now, id, 0, p, &out);
    assert_int_equal(f->nout, told); /* the callback is only for endings the stack starts */
    if (rc == 0) {
        assert_true(f->nout < FK_MAX);
        f->outs[f->nout++] = out;
    }
    return rc;
}

static int fk_decide(void *ctx, const struct sp_decision_request *req)
{
    struct fk *f = ctx;
    assert_true(f->nreq < FK_MAX);
    int i = f->nreq++;
    f->reqs[i] = *req;
    memcpy(f->packet[i], req->packet, req->packet_len);
    memcpy(f->native[i], req->native, req->native_len);
    if (f->sync) {
        struct sp_decision_proposal p = f->sync_prop;
        p.tcp_seq = req->iss;
        assert_int_equal(fk_complete(f, req->asked_at, req->id, &p), 0);
    }
    return f->rc;
}

static void fk_outcome(void *ctx, const struct sp_decision_outcome *out)
{
    struct fk *f = ctx;
    assert_true(f->nout < FK_MAX);
    f->outs[f->nout++] = *out;
}

static struct fk *fk_install(struct th *t, enum sp_decision_mode mode)
{
    struct fk *f = test_calloc(1, sizeof *f);
    assert_non_null(f);
    f->iface = t->iface;
    struct sp_decider d = {.decide = fk_decide, .outcome = fk_outcome, .ctx = f};
    sp_iface_set_decider(t->iface, SP_DECISION_TCP, mode, &d);
    assert_false(sp_decision_is_native(t->iface, SP_DECISION_TCP));
    return f;
}

static void fk_outcome_is(const struct fk *f, int i, enum sp_verdict v, int error, enum sp_decision_action a,
                          bool emitted)
{
    assert_true(i < f->nout);
    assert_int_equal(f->outs[i].id, f->reqs[i].id);
    assert_int_equal(f->outs[i].verdict, v);
    assert_int_equal(f->outs[i].error, error);
    assert_int_equal(f->outs[i].action, a);
    assert_int_equal(f->outs[i].emitted, emitted);
}

/* Parses an IPv4 datagram carrying TCP from src to dst (a request's packet or native answer). */
static struct sp_tcp_repr parse_tcp(const uint8_t *buf, size_t len, uint32_t src, uint32_t dst)
{
    struct sp_ipv4_view v;
    struct sp_ipv4_repr ip;
    assert_int_equal(sp_ipv4_view_init(&v, buf, len), 0);
    assert_int_equal(sp_ipv4_repr_parse(&v, &ip), 0);
    assert_int_equal(ip.src, src);
    assert_int_equal(ip.dst, dst);
    assert_int_equal(ip.protocol, SP_IP_PROTO_TCP);
    struct sp_tcp_view tv;
    assert_int_equal(sp_tcp_view_init(&tv, sp_ipv4_payload(&v), sp_ipv4_payload_len(&v)), 0);
    struct sp_tcp_repr r;
    assert_int_equal(sp_tcp_repr_parse(&tv, src, dst, &r), 0);
    return r;
}

static struct sp_decision_proposal syn_ack_prop(const struct sp_decision_request *req, uint16_t window, uint16_t mss,
                                                int8_t wscale)
{
    return (struct sp_decision_proposal){.action = SP_PROPOSE_SYN_ACK, .tcp_seq = req->iss,
                                         .tcp_ack = req->tcp.seq + 1, .tcp_window = window, .tcp_mss = mss,
                                         .tcp_wscale = wscale, .next_state = SP_HS_SYN_RECEIVED};
}

static struct sp_decision_proposal ack_prop(const struct sp_decision_request *req, uint16_t window)
{
    return (struct sp_decision_proposal){.action = SP_PROPOSE_ACK, .tcp_seq = req->iss + 1,
                                         .tcp_ack = req->tcp.seq + 1, .tcp_window = window, .tcp_wscale = -1,
                                         .next_state = SP_HS_ESTABLISHED};
}

static struct sp_tcp *embryo(struct th *t)
{
    return sp_tcp_lookup(t->iface->tcp, PEER_IP, PEER_PORT, US_PORT);
}

/* --- LISTEN --------------------------------------------------------------------------------------- */

/* SYN -> nothing -> a valid proposal -> exactly its SYN-ACK (seq = the ISS we gave) -> the peer's
 * ACK -> ESTABLISHED and accepted. Its window scale is ours from then on, and a retransmitted
 * SYN-ACK says the same. */
static void test_listen_delegate_valid(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct fk *f = fk_install(t, SP_DECIDE_DELEGATE);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, WS7);
    th_expect_nothing(t);
    assert_int_equal(f->nreq, 1);
    const struct sp_decision_request *q = &f->reqs[0];
    assert_int_equal(q->kind, SP_DECISION_TCP);
    assert_int_equal(q->mode, SP_DECIDE_DELEGATE);
    assert_int_equal(q->hs_state, SP_HS_LISTEN);
    assert_int_equal(q->flow.protocol, SP_IP_PROTO_TCP);
    assert_int_equal(q->flow.local_ip, US_IP);
    assert_int_equal(q->flow.remote_ip, PEER_IP);
    assert_int_equal(q->flow.local_port, US_PORT);
    assert_int_equal(q->flow.remote_port, PEER_PORT);
    assert_int_equal(q->tcp.seq, PEER_ISN);
    assert_int_equal(q->tcp.flags, SYN);
    assert_int_equal(q->tcp.mss, 1460);
    assert_int_equal(q->tcp.wscale, 7);
    assert_int_equal(q->deadline, T0 + SP_DECISION_TIMEOUT_MS);
    /* The packet is the SYN as it arrived; the native answer is the SYN-ACK native would send. */
    struct sp_tcp_repr in = parse_tcp(f->packet[0], q->packet_len, PEER_IP, US_IP);
    assert_int_equal(in.seq, PEER_ISN);
    assert_int_equal(in.window, 64240);
    assert_int_equal(q->native_window, 65535);
    assert_int_equal(q->native_mss, OUR_MSS);
    assert_int_equal(q->native_wscale, 1);
    struct sp_tcp_repr nat = parse_tcp(f->native[0], q->native_len, US_IP, PEER_IP);
    assert_int_equal(nat.flags, SYN | ACK);
    assert_int_equal(nat.seq, q->iss);
    assert_int_equal(nat.ack, PEER_ISN + 1);
    assert_int_equal(nat.window, 65535);
    assert_int_equal(nat.mss, OUR_MSS);
    assert_int_equal(nat.wscale, 1);
    /* The embryo exists (it holds the backlog slot) but is not handed out. */
    assert_non_null(embryo(t));
    assert_int_equal(t->listener->pending, 1);
    assert_null(t->conn);

    t->iss = q->iss;
    struct sp_decision_proposal p = syn_ack_prop(q, 29200, 1400, 3);
    t->now = T0 + 500;
    assert_int_equal(fk_complete(f, T0 + 500, q->id, &p), 0);
    struct out_seg *s = th_expect(t, SYN | ACK, 0, 1, 29200, 0);
    assert_int_equal(s->tcp.mss, 1400);
    assert_int_equal(s->tcp.wscale, 3);
    assert_int_equal(s->tcp.src_port, US_PORT);
    assert_int_equal(s->tcp.dst_port, PEER_PORT);
    th_expect_nothing(t);
    fk_outcome_is(f, 0, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    assert_int_equal(sp_iface_decision_stats(t->iface, SP_DECISION_TCP)->emitted_llm, 1);

    /* The usual SYN-ACK retransmission timer, from the moment it was sent. */
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), T0 + 500 + SP_TCP_RTO_INITIAL_MS);
    th_advance(t, T0 + 500 + SP_TCP_RTO_INITIAL_MS);
    s = th_expect(t, SYN | ACK, 0, 1, 29200, 0);
    assert_int_equal(s->tcp.mss, 1400);
    assert_int_equal(s->tcp.wscale, 3);

    th_send(t, T0 + 1600, ACK, 1, 1, 1000, NULL, 0);
    th_expect_nothing(t);
    assert_int_equal(t->accepts, 1);
    assert_non_null(t->conn);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    assert_int_equal(t->listener->pending, 0);
    /* Our receive window is scaled by the proposal's 3: 65536 - 2 bytes free, >> 3. */
    th_send(t, T0 + 1601, ACK | PSH, 1, 1, 1000, "hi", 2);
    th_advance(t, T0 + 1601 + SP_TCP_DELACK_MS);
    th_expect(t, ACK, 1, 3, 65534 >> 3, 0);
    th_close(t);
    test_free(f);
}

/* A decider that completes from inside decide: the SYN-ACK goes out before the SYN is handled. */
static void test_listen_delegate_sync(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct fk *f = fk_install(t, SP_DECIDE_DELEGATE);
    f->sync = true;
    f->sync_prop = (struct sp_decision_proposal){.action = SP_PROPOSE_SYN_ACK, .tcp_ack = PEER_ISN + 1,
                                                 .tcp_window = 8000, .tcp_mss = 0, .tcp_wscale = -1,
                                                 .next_state = SP_HS_SYN_RECEIVED};
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, WS7);
    t->iss = f->reqs[0].iss;
    struct out_seg *s = th_expect(t, SYN | ACK, 0, 1, 8000, 0);
    assert_int_equal(s->tcp.mss, 0);      /* the proposal sent no MSS option ... */
    assert_int_equal(s->tcp.wscale, -1);  /* ... and no window scale: none on either side */
    th_send(t, T0 + 5, ACK, 1, 1, 1000, NULL, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    assert_false(t->conn->wscale_ok);
    fk_outcome_is(f, 0, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    th_close(t);
    test_free(f);
}

/* A decider that fails at once: the policy answers at once (fallback: the native SYN-ACK). */
static void test_listen_decider_error(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct fk *f = fk_install(t, SP_DECIDE_DELEGATE);
    f->rc = SP_EIO;
    th_syn(t, T0, WS7);
    fk_outcome_is(f, 0, SP_VERDICT_VALID, SP_EIO, SP_ACTION_FALLBACK, true);
    assert_int_equal(sp_iface_decision_stats(t->iface, SP_DECISION_TCP)->errors, 1);
    th_send(t, T0 + 5, ACK, 1, 1, 1000, NULL, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    th_close(t);
    test_free(f);
}

/* An invalid proposal (ack not ISN + 1): the native SYN-ACK instead, and the handshake goes on. */
static void test_listen_invalid_falls_back(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct fk *f = fk_install(t, SP_DECIDE_DELEGATE);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, WS7);
    th_expect_nothing(t);
    t->iss = f->reqs[0].iss;
    struct sp_decision_proposal p = syn_ack_prop(&f->reqs[0], 29200, 1400, 3);
    p.tcp_ack = PEER_ISN;
    assert_int_equal(fk_complete(f, T0 + 10, f->reqs[0].id, &p), 0);
    struct out_seg *s = th_expect(t, SYN | ACK, 0, 1, 65535, 0);
    assert_int_equal(s->tcp.mss, OUR_MSS);
    assert_int_equal(s->tcp.wscale, 1);
    fk_outcome_is(f, 0, SP_VERDICT_ACK, 0, SP_ACTION_FALLBACK, true);
    th_send(t, T0 + 20, ACK, 1, 1, 1000, NULL, 0);
    assert_int_equal(t->accepts, 1);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    th_close(t);
    test_free(f);
}

/* Drop policy: nothing is sent, no connection is left and the backlog slot is free again. */
static void test_listen_drop_frees_backlog(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(1);
    struct fk *f = fk_install(t, SP_DECIDE_DELEGATE);
    sp_iface_set_invalid_policy(t->iface, SP_INVALID_DROP);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, WS7);
    /* The parked SYN holds the only slot. */
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, (struct seg_opts){.wscale = -1, .sport = PEER_PORT + 1});
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_backlog_full), 1);
    assert_int_equal(f->nreq, 1);
    struct sp_decision_proposal p = syn_ack_prop(&f->reqs[0], 29200, 1400, 3);
    p.tcp_seq++;
    assert_int_equal(fk_complete(f, T0 + 10, f->reqs[0].id, &p), 0);
    th_expect_nothing(t);
    fk_outcome_is(f, 0, SP_VERDICT_SEQUENCE, 0, SP_ACTION_DROP, false);
    assert_null(embryo(t));
    assert_int_equal(t->listener->pending, 0);
    assert_int_equal(t->iface->tcp->nconns, 0);
    /* Free again: the next SYN is parked and asked. */
    th_send_ex(t, T0 + 20, SYN, 0, 0, 64240, NULL, 0, (struct seg_opts){.wscale = -1, .sport = PEER_PORT + 1});
    assert_int_equal(f->nreq, 2);
    assert_int_equal(t->listener->pending, 1);
    th_expect_nothing(t);
    th_close(t);
    test_free(f);
}

/* No proposal by the deadline: poll_at names it, and the policy answers (fallback: native SYN-ACK;
 * drop: the embryo goes). */
static void test_listen_timeout(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct fk *f = fk_install(t, SP_DECIDE_DELEGATE);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, WS7);
    sp_time_t deadline = T0 + SP_DECISION_TIMEOUT_MS;
    assert_int_equal(sp_iface_poll_at(t->iface), deadline);
    sp_iface_poll(t->iface, deadline - 1);
    th_expect_nothing(t);
    t->now = deadline;
    sp_iface_poll(t->iface, deadline);
    t->iss = f->reqs[0].iss;
    th_expect(t, SYN | ACK, 0, 1, 65535, 0);
    fk_outcome_is(f, 0, SP_VERDICT_VALID, SP_ETIMEDOUT, SP_ACTION_FALLBACK, true);
    assert_int_equal(sp_iface_poll_at(t->iface), deadline + SP_TCP_RTO_INITIAL_MS);

    sp_iface_set_invalid_policy(t->iface, SP_INVALID_DROP);
    th_send_ex(t, deadline + 1, SYN, 0, 0, 64240, NULL, 0, (struct seg_opts){.wscale = -1, .sport = PEER_PORT + 1});
    assert_int_equal(sp_decision_poll_at(t->iface), deadline + 1 + SP_DECISION_TIMEOUT_MS);
    sp_iface_poll(t->iface, deadline + 1 + SP_DECISION_TIMEOUT_MS);
    fk_outcome_is(f, 1, SP_VERDICT_VALID, SP_ETIMEDOUT, SP_ACTION_DROP, false);
    assert_null(sp_tcp_lookup(t->iface->tcp, PEER_IP, PEER_PORT + 1, US_PORT));
    assert_int_equal(t->listener->pending, 1); /* the first handshake's */
    assert_int_equal(sp_iface_decision_stats(t->iface, SP_DECISION_TCP)->timeouts, 2);
    th_close(t);
    test_free(f);
}

/* A retransmitted SYN while parked joins: no second question, nothing sent; a SYN with another
 * ISN or an ACK for the 4-tuple is dropped meanwhile. */
static void test_listen_retransmitted_syn_joins(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct fk *f = fk_install(t, SP_DECIDE_DELEGATE);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, WS7);
    th_send_ex(t, T0 + 1000, SYN, 0, 0, 64240, NULL, 0, WS7);
    th_send_ex(t, T0 + 3000, SYN, 0, 0, 64240, NULL, 0, WS7);
    th_expect_nothing(t);
    assert_int_equal(f->nreq, 1);
    assert_int_equal(sp_iface_decision_stats(t->iface, SP_DECISION_TCP)->joined, 2);
    th_send_ex(t, T0 + 3001, SYN, 77, 0, 64240, NULL, 0, WS7);
    t->iss = f->reqs[0].iss;
    th_send(t, T0 + 3002, ACK, 1, 1, 1000, NULL, 0);
    th_expect_nothing(t);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_out_of_window), 2);
    assert_int_equal(f->nreq, 1);
    struct sp_decision_proposal p = syn_ack_prop(&f->reqs[0], 65535, 1460, 1);
    assert_int_equal(fk_complete(f, T0 + 3100, f->reqs[0].id, &p), 0);
    th_expect(t, SYN | ACK, 0, 1, 65535, 0);
    th_expect_nothing(t);
    /* Answered: a retransmitted SYN now gets the SYN-ACK again, by the normal rules. */
    th_send_ex(t, T0 + 3200, SYN, 0, 0, 64240, NULL, 0, WS7);
    th_expect(t, SYN | ACK, 0, 1, 65535, 0);
    assert_int_equal(f->nreq, 1);
    th_close(t);
    test_free(f);
}

/* The peer gives up while parked: its RST (at RCV.NXT) ends the embryo and the request; a RST
 * elsewhere is dropped. Closing the listener ends a parked handshake too. */
static void test_listen_rst_and_close_while_parked(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct fk *f = fk_install(t, SP_DECIDE_DELEGATE);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, WS7);
    th_send(t, T0 + 1, RST, 5, 0, 0, NULL, 0);
    assert_non_null(embryo(t));
    assert_int_equal(f->nout, 0);
    th_send(t, T0 + 2, RST, 1, 0, 0, NULL, 0);
    th_expect_nothing(t);
    assert_null(embryo(t));
    assert_int_equal(t->listener->pending, 0);
    fk_outcome_is(f, 0, SP_VERDICT_VALID, SP_ECLOSED, SP_ACTION_DROP, false);
    struct sp_decision_proposal p = syn_ack_prop(&f->reqs[0], 65535, 1460, 1);
    assert_int_equal(fk_complete(f, T0 + 3, f->reqs[0].id, &p), SP_EINVAL);
    th_expect_nothing(t);
    assert_int_equal(sp_decision_poll_at(t->iface), SP_TIME_NEVER);

    th_send_ex(t, T0 + 10, SYN, 100, 0, 64240, NULL, 0, WS7);
    assert_int_equal(f->nreq, 2);
    sp_tcp_close(t->listener);
    t->listener = NULL;
    assert_null(embryo(t));
    fk_outcome_is(f, 1, SP_VERDICT_VALID, SP_ECLOSED, SP_ACTION_DROP, false);
    assert_int_equal(t->iface->tcp->nconns, 0);
    th_expect_nothing(t);
    th_close(t);
    test_free(f);
}

/* Shadow: the native SYN-ACK at once, a retransmitted SYN answered natively, the proposal graded
 * and never emitted. */
static void test_listen_shadow(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct fk *f = fk_install(t, SP_DECIDE_SHADOW);
    th_syn(t, T0, WS7);
    assert_int_equal(f->nreq, 1);
    assert_int_equal(f->reqs[0].mode, SP_DECIDE_SHADOW);
    assert_int_equal(f->reqs[0].iss, t->iss);
    th_send_ex(t, T0 + 1000, SYN, 0, 0, 64240, NULL, 0, WS7);
    th_expect(t, SYN | ACK, 0, 1, 65535, 0);
    assert_int_equal(f->nreq, 1);
    struct sp_decision_proposal p = syn_ack_prop(&f->reqs[0], 65535, OUR_MSS, 1);
    assert_int_equal(fk_complete(f, T0 + 1100, f->reqs[0].id, &p), 0);
    th_expect_nothing(t);
    fk_outcome_is(f, 0, SP_VERDICT_VALID, 0, SP_ACTION_SHADOW, false);
    assert_true(f->outs[0].matches_native);
    th_send(t, T0 + 1200, ACK, 1, 1, 1000, NULL, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);

    /* A second handshake: a different window is graded a mismatch; the connection is unaffected. */
    th_send_ex(t, T0 + 2000, SYN, 0, 0, 64240, NULL, 0, (struct seg_opts){.wscale = -1, .sport = PEER_PORT + 1});
    assert_int_equal(th_take(t)->tcp.flags, SYN | ACK);
    p = syn_ack_prop(&f->reqs[1], 1000, OUR_MSS, -1);
    assert_int_equal(fk_complete(f, T0 + 2100, f->reqs[1].id, &p), 0);
    fk_outcome_is(f, 1, SP_VERDICT_VALID, 0, SP_ACTION_SHADOW, false);
    assert_false(f->outs[1].matches_native);
    th_expect_nothing(t);
    assert_int_equal(sp_iface_decision_stats(t->iface, SP_DECISION_TCP)->shadow_match, 1);
    assert_int_equal(sp_iface_decision_stats(t->iface, SP_DECISION_TCP)->shadow_mismatch, 1);
    th_close(t);
    test_free(f);
}

/* --- SYN-SENT ------------------------------------------------------------------------------------ */

static struct sp_tcp *connect_out(struct th *t)
{
    struct sp_tcp *c = NULL;
    assert_int_equal(sp_tcp_connect(t->iface, PEER_IP, SRV_PORT, &th_cbs, t, &c), 0);
    t->conn = c;
    struct out_seg *s = th_take(t);
    assert_int_equal(s->tcp.flags, SYN);
    t->iss = s->tcp.seq;
    return c;
}

/* A SYN-ACK is parked; the valid ACK proposal establishes the connection and is sent. */
static void test_syn_sent_delegate_valid(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    struct fk *f = fk_install(t, SP_DECIDE_DELEGATE);
    struct sp_tcp *c = connect_out(t);
    th_send_ex(t, T0 + 3, SYN | ACK, 0, 1, 29200, NULL, 0, FROM_SERVER);
    th_expect_nothing(t);
    assert_int_equal(sp_tcp_get_state(c), SP_TCP_SYN_SENT);
    assert_int_equal(t->connected, 0);
    assert_int_equal(f->nreq, 1);
    const struct sp_decision_request *q = &f->reqs[0];
    assert_int_equal(q->hs_state, SP_HS_SYN_SENT);
    assert_int_equal(q->iss, t->iss);
    assert_int_equal(q->tcp.flags, SYN | ACK);
    assert_int_equal(q->tcp.ack, t->iss + 1);
    assert_int_equal(q->flow.local_port, SP_TCP_EPHEMERAL_FIRST);
    assert_int_equal(q->flow.remote_port, SRV_PORT);
    assert_int_equal(q->native_window, 32768);  /* 65536 >> 1: both sides scale */
    struct sp_tcp_repr nat = parse_tcp(f->native[0], q->native_len, US_IP, PEER_IP);
    assert_int_equal(nat.flags, ACK);
    assert_int_equal(nat.seq, t->iss + 1);
    assert_int_equal(nat.ack, PEER_ISN + 1);
    assert_int_equal(nat.window, 32768);
    assert_int_equal(nat.mss, 0);

    struct sp_decision_proposal p = ack_prop(q, 1000);
    assert_int_equal(fk_complete(f, T0 + 200, q->id, &p), 0);
    th_expect(t, ACK, 1, 1, 1000, 0);
    th_expect_nothing(t);
    assert_int_equal(sp_tcp_get_state(c), SP_TCP_ESTABLISHED);
    assert_int_equal(t->connected, 1);
    assert_int_equal(t->connect_status, 0);
    fk_outcome_is(f, 0, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    /* The RTT sample is the SYN-ACK's arrival (3 ms), not the decider's time; no timer is left. */
    assert_int_equal(c->srtt8, 3 * 8);
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), SP_TIME_NEVER);
    assert_int_equal(sp_tcp_send(c, "GET", 3), 3);
    th_expect(t, ACK | PSH, 1, 1, -1, 3);
    th_close(t);
    test_free(f);
}

/* An invalid proposal: the native ACK; a window above what we can take is never advertised. */
static void test_syn_sent_invalid_falls_back(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    struct fk *f = fk_install(t, SP_DECIDE_DELEGATE);
    struct sp_tcp *c = connect_out(t);
    th_send_ex(t, T0 + 3, SYN | ACK, 0, 1, 29200, NULL, 0, FROM_SERVER);
    struct sp_decision_proposal p = ack_prop(&f->reqs[0], 1000);
    p.next_state = SP_HS_SYN_RECEIVED;
    assert_int_equal(fk_complete(f, T0 + 5, f->reqs[0].id, &p), 0);
    th_expect(t, ACK, 1, 1, 32768, 0);
    fk_outcome_is(f, 0, SP_VERDICT_TRANSITION, 0, SP_ACTION_FALLBACK, true);
    assert_int_equal(sp_tcp_get_state(c), SP_TCP_ESTABLISHED);
    assert_int_equal(t->connected, 1);
    th_close(t);

    t = th_open_backlog(-1);
    test_free(f);
    f = fk_install(t, SP_DECIDE_DELEGATE);
    connect_out(t);
    th_send_ex(t, T0 + 3, SYN | ACK, 0, 1, 29200, NULL, 0, FROM_SERVER);
    p = ack_prop(&f->reqs[0], 65535);
    assert_int_equal(fk_complete(f, T0 + 5, f->reqs[0].id, &p), 0);
    th_expect(t, ACK, 1, 1, 32768, 0);         /* 65535 << 1 would promise more than 64 KiB */
    fk_outcome_is(f, 0, SP_VERDICT_VALID, 0, SP_ACTION_LLM, true);
    th_close(t);
    test_free(f);
}

/* Drop: as if the SYN-ACK was lost. A repeat while parked joins; our SYN retransmission goes on,
 * and the SYN-ACK it brings back is asked again. */
static void test_syn_sent_drop_asks_again(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    struct fk *f = fk_install(t, SP_DECIDE_DELEGATE);
    sp_iface_set_invalid_policy(t->iface, SP_INVALID_DROP);
    struct sp_tcp *c = connect_out(t);
    th_send_ex(t, T0 + 3, SYN | ACK, 0, 1, 29200, NULL, 0, FROM_SERVER);
    th_send_ex(t, T0 + 4, SYN | ACK, 0, 1, 29200, NULL, 0, FROM_SERVER);
    th_send_ex(t, T0 + 5, SYN | ACK, 9, 1, 29200, NULL, 0, FROM_SERVER); /* another ISN: dropped */
    th_expect_nothing(t);
    assert_int_equal(f->nreq, 1);
    assert_int_equal(sp_iface_decision_stats(t->iface, SP_DECISION_TCP)->joined, 1);
    struct sp_decision_proposal p = ack_prop(&f->reqs[0], 1000);
    p.tcp_ack++;
    assert_int_equal(fk_complete(f, T0 + 10, f->reqs[0].id, &p), 0);
    fk_outcome_is(f, 0, SP_VERDICT_ACK, 0, SP_ACTION_DROP, false);
    th_expect_nothing(t);
    assert_int_equal(sp_tcp_get_state(c), SP_TCP_SYN_SENT);
    assert_int_equal(t->connected, 0);

    th_advance(t, T0 + SP_TCP_RTO_INITIAL_MS);
    struct out_seg *s = th_expect(t, SYN, 0, 0, -1, 0);
    assert_int_equal(s->tcp.dst_port, SRV_PORT);
    th_send_ex(t, T0 + SP_TCP_RTO_INITIAL_MS + 3, SYN | ACK, 0, 1, 29200, NULL, 0, FROM_SERVER);
    th_expect_nothing(t);
    assert_int_equal(f->nreq, 2);
    p = ack_prop(&f->reqs[1], 1000);
    assert_int_equal(fk_complete(f, T0 + SP_TCP_RTO_INITIAL_MS + 50, f->reqs[1].id, &p), 0);
    th_expect(t, ACK, 1, 1, 1000, 0);
    assert_int_equal(sp_tcp_get_state(c), SP_TCP_ESTABLISHED);
    assert_int_equal(t->connected, 1);
    th_close(t);
    test_free(f);
}

/* The application gives up while its SYN-ACK is parked: the request ends with the connection. */
static void test_syn_sent_abort_while_parked(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    struct fk *f = fk_install(t, SP_DECIDE_DELEGATE);
    struct sp_tcp *c = connect_out(t);
    th_send_ex(t, T0 + 3, SYN | ACK, 0, 1, 29200, NULL, 0, FROM_SERVER);
    sp_tcp_abort(c);
    fk_outcome_is(f, 0, SP_VERDICT_VALID, SP_ECLOSED, SP_ACTION_DROP, false);
    struct sp_decision_proposal p = ack_prop(&f->reqs[0], 1000);
    assert_int_equal(fk_complete(f, T0 + 5, f->reqs[0].id, &p), SP_EINVAL);
    th_expect_nothing(t);
    th_close(t);
    test_free(f);
}

/* Shadow in SYN-SENT: ESTABLISHED and the native ACK at once; the grade comes later. */
static void test_syn_sent_shadow(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    struct fk *f = fk_install(t, SP_DECIDE_SHADOW);
    struct sp_tcp *c = connect_out(t);
    th_send_ex(t, T0 + 3, SYN | ACK, 0, 1, 29200, NULL, 0, FROM_SERVER);
    th_expect(t, ACK, 1, 1, 32768, 0);
    assert_int_equal(sp_tcp_get_state(c), SP_TCP_ESTABLISHED);
    assert_int_equal(t->connected, 1);
    struct sp_decision_proposal p = ack_prop(&f->reqs[0], 32768);
    assert_int_equal(fk_complete(f, T0 + 50, f->reqs[0].id, &p), 0);
    th_expect_nothing(t);
    fk_outcome_is(f, 0, SP_VERDICT_VALID, 0, SP_ACTION_SHADOW, false);
    assert_true(f->outs[0].matches_native);
    th_close(t);
    test_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listen_delegate_valid),
        cmocka_unit_test(test_listen_delegate_sync),
        cmocka_unit_test(test_listen_decider_error),
        cmocka_unit_test(test_listen_invalid_falls_back),
        cmocka_unit_test(test_listen_drop_frees_backlog),
        cmocka_unit_test(test_listen_timeout),
        cmocka_unit_test(test_listen_retransmitted_syn_joins),
        cmocka_unit_test(test_listen_rst_and_close_while_parked),
        cmocka_unit_test(test_listen_shadow),
        cmocka_unit_test(test_syn_sent_delegate_valid),
        cmocka_unit_test(test_syn_sent_invalid_falls_back),
        cmocka_unit_test(test_syn_sent_drop_asks_again),
        cmocka_unit_test(test_syn_sent_abort_while_parked),
        cmocka_unit_test(test_syn_sent_shadow),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
