/* Legal authority for the TCP handshake through the TCP harness: a proposal that accepts a SYN
 * with an ISS, a window, an MSS and a window scale of its own runs the connection with them (later
 * segments start at ISS + 1 and advertise windows scaled as it chose), one that refuses sends a RST
 * (RFC 9293 3.10.7.1), one that ignores sends nothing; in SYN-SENT it may accept with a window of
 * its own or refuse, and the connect fails. The outcome names each departure from native and the
 * counters count it. (The validator alone: test_tcp_legal_validator.c.) */
#include "tcp_harness.h"

#include "slowpath/decide.h"

#define SYN SP_TCP_SYN
#define ACK SP_TCP_ACK
#define RST SP_TCP_RST
#define PSH SP_TCP_PSH
#define FIN SP_TCP_FIN
#define FK_MAX 8
#define SRV_PORT 5000
#define WS7 ((struct seg_opts){.mss = 1460, .wscale = 7})
#define FROM_SERVER ((struct seg_opts){.mss = 1460, .wscale = 7, .sport = SRV_PORT, .dport = SP_TCP_EPHEMERAL_FIRST})
#define DEV(name) (1u << SP_DEVIATION_##name)
#define ISS_X 0xfffffff0u /* the model's ISS: sequence numbers wrap within the first bytes */

/* --- Scenarios ------------------------------------------------------------------------------------ */

/* The fake decider: keeps each request with its packet and native answer, and every outcome. */
struct fk {
    struct sp_iface *iface;
    int nreq, nout;
    struct sp_decision_request reqs[FK_MAX];
    uint8_t packet[FK_MAX][SP_DECISION_MAX_PACKET];
    uint8_t native[FK_MAX][SP_DECISION_MAX_PACKET];
    struct sp_decision_outcome outs[FK_MAX];
};

static int fk_complete(struct fk *f, sp_time_t now, int i, const struct sp_decision_proposal *p)
{
    struct sp_decision_outcome out;
    int rc = sp_decision_complete(f->iface, now, f->reqs[i].id, 0, p, &out);
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
    f->reqs[i].packet = f->packet[i];
    f->reqs[i].native = f->native[i];
    return 0;
}

static void fk_outcome(void *ctx, const struct sp_decision_outcome *out)
{
    struct fk *f = ctx;
    assert_true(f->nout < FK_MAX);
    f->outs[f->nout++] = *out;
}

static struct fk *fk_legal(struct th *t, enum sp_decision_mode mode)
{
    struct fk *f = test_calloc(1, sizeof *f);
    assert_non_null(f);
    f->iface = t->iface;
    sp_iface_set_authority(t->iface, SP_AUTHORITY_LEGAL);
    struct sp_decider d = {.decide = fk_decide, .outcome = fk_outcome, .ctx = f};
    sp_iface_set_decider(t->iface, SP_DECISION_TCP, mode, &d);
    return f;
}

static void fk_outcome_is(const struct fk *f, int i, enum sp_verdict v, enum sp_decision_action a, bool emitted,
                          uint32_t deviations)
{
    assert_true(i < f->nout);
    assert_int_equal(f->outs[i].verdict, v);
    assert_int_equal(f->outs[i].error, 0);
    assert_int_equal(f->outs[i].action, a);
    assert_int_equal(f->outs[i].emitted, emitted);
    assert_int_equal(f->outs[i].deviations, deviations);
}

static struct sp_decision_proposal syn_ack(const struct sp_decision_request *q, uint32_t iss, uint16_t window,
                                           uint16_t mss, int8_t wscale)
{
    return (struct sp_decision_proposal){.action = SP_PROPOSE_SYN_ACK, .tcp_seq = iss, .tcp_ack = q->tcp.seq + 1,
                                         .tcp_window = window, .tcp_mss = mss, .tcp_wscale = wscale,
                                         .next_state = SP_HS_SYN_RECEIVED};
}

static struct sp_tcp *embryo(struct th *t, uint16_t port)
{
    return sp_tcp_lookup(t->iface->tcp, PEER_IP, port, US_PORT);
}

static const struct sp_decision_stats *tstats(struct th *t)
{
    return sp_iface_decision_stats(t->iface, SP_DECISION_TCP);
}

/* Accepted with ISS X, window 5000, MSS 1000 and scale 5: the SYN-ACK says so, its
 * retransmission too; the connection's segments start at X + 1 (wrapping), its windows are scaled
 * by 5, and data flows both ways. */
static void test_accept_choices_run_the_connection(void **state)
{
    (void)state;
    struct th *t = th_open();
    t->auto_read = true;
    struct fk *f = fk_legal(t, SP_DECIDE_DELEGATE);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, WS7);
    th_expect_nothing(t);
    const struct sp_decision_request *q = &f->reqs[0];
    assert_int_equal(q->authority, SP_AUTHORITY_LEGAL);
    assert_int_equal(q->hs_state, SP_HS_LISTEN);
    assert_int_equal(q->max_window, 65535);
    assert_int_equal(q->max_mss, OUR_MSS);
    assert_int_not_equal(q->iss, ISS_X);

    struct sp_decision_proposal p = syn_ack(q, ISS_X, 5000, 1000, 5);
    assert_int_equal(fk_complete(f, T0 + 100, 0, &p), 0);
    t->iss = ISS_X;
    struct out_seg *s = th_expect(t, SYN | ACK, 0, 1, 5000, 0);
    assert_int_equal(s->tcp.seq, ISS_X);
    assert_int_equal(s->tcp.mss, 1000);
    assert_int_equal(s->tcp.wscale, 5);
    th_expect_nothing(t);
    fk_outcome_is(f, 0, SP_VERDICT_VALID, SP_ACTION_LLM, true, DEV(ISS) | DEV(WINDOW) | DEV(MSS) | DEV(WSCALE));
    const struct sp_decision_chosen *c = &f->outs[0].chosen;
    assert_int_equal(c->action, SP_PROPOSE_SYN_ACK);
    assert_int_equal(c->iss, ISS_X);
    assert_int_equal(c->window, 5000);
    assert_int_equal(c->mss, 1000);
    assert_int_equal(c->wscale, 5);
    for (int d = SP_DEVIATION_ISS; d <= SP_DEVIATION_WSCALE; d++)
        assert_int_equal(tstats(t)->deviations[d], 1);

    /* Lost: the retransmission is the same answer. */
    th_advance(t, T0 + 100 + SP_TCP_RTO_INITIAL_MS);
    s = th_expect(t, SYN | ACK, 0, 1, 5000, 0);
    assert_int_equal(s->tcp.mss, 1000);
    assert_int_equal(s->tcp.wscale, 5);

    sp_time_t now = T0 + 2000;
    th_send(t, now, ACK, 1, 1, 1000, NULL, 0); /* the peer's window 1000 << 7 */
    th_expect_nothing(t);
    assert_non_null(t->conn);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    assert_int_equal(t->accepts, 1);

    /* The peer sends within the MSS we gave. Reading it opens our window far past the 5000 the
     * SYN-ACK offered, which the window update says scaled by 5: 65536 >> 5. */
    static uint8_t in[2000], out[3000];
    th_fill(in, sizeof in, 1);
    th_send(t, now + 1, ACK, 1, 1, 1000, in, 1000);
    th_expect(t, ACK, 1, 1001, 65536 >> 5, 0);
    th_send(t, now + 2, ACK | PSH, 1001, 1, 1000, in + 1000, 1000);
    th_expect_nothing(t); /* its ACK is delayed, and rides on our data below */
    assert_int_equal(t->rx_len, 2000);
    assert_memory_equal(t->rx, in, 2000);

    /* Our data: from X + 1 on, across the wrap, in the peer's MSS. */
    th_fill(out, sizeof out, 2);
    assert_int_equal(sp_tcp_send(t->conn, out, sizeof out), (long)sizeof out);
    s = th_expect(t, ACK, 1, 2001, 2048, 1460);
    assert_int_equal(s->tcp.seq, ISS_X + 1);
    assert_memory_equal(s->data, out, 1460);
    th_expect(t, ACK, 1461, 2001, 2048, 1460);
    th_expect_nothing(t); /* Nagle holds the last 80 bytes while the rest is unacknowledged */
    th_send(t, now + 5, ACK, 2001, 2921, 1000, NULL, 0);
    s = th_expect(t, ACK | PSH, 2921, 2001, 2048, 80);
    assert_int_equal(s->tcp.seq, ISS_X + 2921); /* wrapped past zero */
    th_send(t, now + 10, ACK, 2001, 3001, 1000, NULL, 0);
    assert_int_equal(sp_tcp_send_pending(t->conn), 0);

    /* And the close, both FINs at the right sequence numbers. */
    th_send(t, now + 20, ACK | FIN, 2001, 3001, 1000, NULL, 0);
    th_expect(t, ACK, 3001, 2002, -1, 0);
    sp_tcp_close(t->conn);
    th_expect(t, ACK | FIN, 3001, 2002, -1, 0);
    th_send(t, now + 30, ACK, 2002, 3002, 1000, NULL, 0);
    th_close(t);
    test_free(f);
}

/* The window we advertised is honoured: with a small buffer the peer may fill exactly what the
 * SYN-ACK offered, and a window past the buffer is refused. The scale is the model's even when
 * it is not the one the buffer needs: 14 on a 64 KiB buffer advertises 65536 >> 14. */
static void test_accept_window_and_scale_honoured(void **state)
{
    (void)state;
    struct th *t = th_open();
    assert_int_equal(sp_tcp_set_rcvbuf(t->listener, 4096), 0);
    struct fk *f = fk_legal(t, SP_DECIDE_DELEGATE);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, WS7);
    assert_int_equal(f->reqs[0].max_window, 4096);
    struct sp_decision_proposal p = syn_ack(&f->reqs[0], ISS_X, 4097, 1460, 0);
    assert_int_equal(fk_complete(f, T0 + 1, 0, &p), 0);
    t->iss = f->reqs[0].iss;
    th_expect(t, SYN | ACK, 0, 1, 4096, 0); /* the fallback: native's SYN-ACK */
    fk_outcome_is(f, 0, SP_VERDICT_WINDOW, SP_ACTION_FALLBACK, true, 0);
    th_send(t, T0 + 2, ACK, 1, 1, 1000, NULL, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);

    /* A second connection, accepted with all of it: 4096 bytes unread fit, the window shuts. */
    struct seg_opts o = {.mss = 1460, .wscale = 7, .sport = PEER_PORT + 1};
    th_send_ex(t, T0 + 10, SYN, 0, 0, 64240, NULL, 0, o);
    p = syn_ack(&f->reqs[1], ISS_X, 4096, 1460, 0);
    assert_int_equal(fk_complete(f, T0 + 11, 1, &p), 0);
    t->iss = ISS_X;
    th_expect(t, SYN | ACK, 0, 1, 4096, 0);
    th_send_ex(t, T0 + 12, ACK, 1, 1, 1000, NULL, 0, o);
    struct sp_tcp *c = t->conn;
    static uint8_t in[4096];
    th_fill(in, sizeof in, 3);
    for (uint32_t off = 0; off < sizeof in; off += 1460) {
        uint32_t n = sizeof in - off < 1460 ? (uint32_t)(sizeof in - off) : 1460;
        th_send_ex(t, T0 + 13, ACK, 1 + off, 1, 1000, in + off, n, o);
    }
    assert_int_equal(sp_tcp_recv_pending(c), 4096);
    struct out_seg *s = &t->out[t->nout - 1];
    assert_int_equal(s->tcp.ack, PEER_ISN + 1 + 4096);
    assert_int_equal(s->tcp.window, 0); /* scale 0: the field is the bytes left */
    t->taken = t->nout;
    th_close(t);
    test_free(f);

    /* Scale 14 on a 64 KiB buffer: our first ACK advertises 65536 >> 14 = 4. */
    t = th_open();
    t->auto_read = true;
    f = fk_legal(t, SP_DECIDE_DELEGATE);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, WS7);
    p = syn_ack(&f->reqs[0], 7, 65535, 536, 14);
    assert_int_equal(fk_complete(f, T0 + 1, 0, &p), 0);
    t->iss = 7;
    th_expect(t, SYN | ACK, 0, 1, 65535, 0);
    th_send(t, T0 + 2, ACK, 1, 1, 1000, NULL, 0);
    th_send(t, T0 + 3, ACK | PSH, 1, 1, 1000, in, 536);
    th_send(t, T0 + 4, ACK | PSH, 537, 1, 1000, in + 536, 536);
    th_advance(t, T0 + 4 + SP_TCP_DELACK_MS);
    th_expect(t, ACK, 1, 1073, 4, 0);
    assert_int_equal(t->rx_len, 1072);
    th_close(t);
    test_free(f);
}

/* Refused: exactly <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>, and nothing is left: no connection, the
 * backlog slot free, the listener as it was. */
static void test_refuse_in_listen(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(1);
    struct fk *f = fk_legal(t, SP_DECIDE_DELEGATE);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, WS7);
    assert_int_equal(t->listener->pending, 1);
    struct sp_decision_proposal p = {.action = SP_PROPOSE_RST, .tcp_seq = 0, .tcp_ack = PEER_ISN + 1,
                                     .next_state = SP_HS_LISTEN};
    assert_int_equal(fk_complete(f, T0 + 5, 0, &p), 0);
    struct out_seg *s = th_take(t);
    assert_int_equal(s->tcp.flags, RST | ACK);
    assert_int_equal(s->tcp.seq, 0);
    assert_int_equal(s->tcp.ack, PEER_ISN + 1);
    assert_int_equal(s->tcp.window, 0);
    assert_int_equal(s->tcp.mss, 0);
    assert_int_equal(s->tcp.wscale, -1);
    assert_int_equal(s->tcp.src_port, US_PORT);
    assert_int_equal(s->tcp.dst_port, PEER_PORT);
    assert_int_equal(s->tcp.payload_len, 0);
    th_expect_nothing(t);
    fk_outcome_is(f, 0, SP_VERDICT_VALID, SP_ACTION_LLM, true, DEV(ACTION));
    assert_int_equal(f->outs[0].chosen.action, SP_PROPOSE_RST);
    assert_null(embryo(t, PEER_PORT));
    assert_int_equal(t->listener->pending, 0);
    assert_int_equal(t->iface->tcp->nconns, 0);
    assert_int_equal(t->accepts, 0);
    assert_int_equal(tstats(t)->deviations[SP_DEVIATION_ACTION], 1);
    assert_int_equal(th_stat(t, SP_STAT_tcp_rst_tx), 1);

    /* The peer's ACK for the refused attempt finds only the listener: reset natively. */
    th_send(t, T0 + 6, ACK, 1, 1, 1000, NULL, 0);
    s = th_take(t);
    assert_int_equal(s->tcp.flags, RST);

    /* Raw: the same refusal as bytes. */
    th_send_ex(t, T0 + 10, SYN, 50, 0, 64240, NULL, 0, WS7);
    struct sp_tcp_repr rst = {.src_port = US_PORT, .dst_port = PEER_PORT, .seq = 0, .ack = PEER_ISN + 51,
                              .flags = RST | ACK, .wscale = -1};
    uint8_t raw[64];
    struct sp_ipv4_repr ip = {.src = US_IP, .dst = PEER_IP, .protocol = SP_IP_PROTO_TCP, .ttl = 64,
                              .payload_len = 20};
    sp_tcp_repr_emit(&rst, US_IP, PEER_IP, raw + 20);
    sp_ipv4_repr_emit(&ip, raw);
    p = (struct sp_decision_proposal){.action = SP_PROPOSE_REPLY, .raw = true, .raw_bytes = raw, .raw_len = 40,
                                      .next_state = SP_HS_LISTEN};
    assert_int_equal(fk_complete(f, T0 + 11, 1, &p), 0);
    s = th_take(t);
    assert_int_equal(s->tcp.flags, RST | ACK);
    assert_int_equal(s->tcp.ack, PEER_ISN + 51);
    fk_outcome_is(f, 1, SP_VERDICT_VALID, SP_ACTION_LLM, true, DEV(ACTION));
    assert_int_equal(t->listener->pending, 0);
    th_close(t);
    test_free(f);
}

/* Ignored: nothing is sent and the embryo goes with its backlog slot; a retransmitted SYN is a new
 * question. */
static void test_ignore_in_listen(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(1);
    struct fk *f = fk_legal(t, SP_DECIDE_DELEGATE);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, WS7);
    struct sp_decision_proposal p = {.action = SP_PROPOSE_DROP, .next_state = SP_HS_LISTEN};
    assert_int_equal(fk_complete(f, T0 + 5, 0, &p), 0);
    th_expect_nothing(t);
    fk_outcome_is(f, 0, SP_VERDICT_VALID, SP_ACTION_LLM, false, DEV(SILENCE));
    assert_null(embryo(t, PEER_PORT));
    assert_int_equal(t->listener->pending, 0);
    assert_int_equal(t->iface->tcp->nconns, 0);
    assert_int_equal(tstats(t)->emitted_llm, 1);
    assert_int_equal(tstats(t)->dropped, 0);
    assert_int_equal(tstats(t)->deviations[SP_DEVIATION_SILENCE], 1);
    assert_int_equal(sp_decision_poll_at(t->iface), SP_TIME_NEVER);

    th_send_ex(t, T0 + 1000, SYN, 0, 0, 64240, NULL, 0, WS7);
    assert_int_equal(f->nreq, 2);
    assert_int_equal(t->listener->pending, 1);
    p = syn_ack(&f->reqs[1], 1, 1000, 0, -1);
    assert_int_equal(fk_complete(f, T0 + 1001, 1, &p), 0);
    t->iss = 1;
    struct out_seg *s = th_expect(t, SYN | ACK, 0, 1, 1000, 0);
    assert_int_equal(s->tcp.mss, 0);
    assert_int_equal(s->tcp.wscale, -1);
    fk_outcome_is(f, 1, SP_VERDICT_VALID, SP_ACTION_LLM, true, DEV(ISS) | DEV(WINDOW) | DEV(MSS) | DEV(WSCALE));
    th_send(t, T0 + 1002, ACK, 1, 1, 1000, NULL, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    assert_false(t->conn->wscale_ok);
    th_close(t);
    test_free(f);
}

/* A raw SYN-ACK: its ISS, window, MSS and scale run the connection as a structured one's do. */
static void test_raw_accept_adopted(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct fk *f = fk_legal(t, SP_DECIDE_DELEGATE);
    th_send_ex(t, T0, SYN, 0, 0, 64240, NULL, 0, WS7);
    struct sp_tcp_repr syn_ack_seg = {.src_port = US_PORT, .dst_port = PEER_PORT, .seq = 0x00c0ffeeu,
                                      .ack = PEER_ISN + 1, .flags = SYN | ACK, .window = 7000, .mss = 800,
                                      .wscale = 2};
    uint8_t raw[80];
    size_t n = sp_tcp_repr_buffer_len(&syn_ack_seg);
    struct sp_ipv4_repr ip = {.src = US_IP, .dst = PEER_IP, .protocol = SP_IP_PROTO_TCP, .ttl = 64,
                              .dont_frag = true, .ident = 0x5151, .payload_len = (uint16_t)n};
    sp_tcp_repr_emit(&syn_ack_seg, US_IP, PEER_IP, raw + 20);
    sp_ipv4_repr_emit(&ip, raw);
    struct sp_decision_proposal p = {.action = SP_PROPOSE_REPLY, .raw = true, .raw_bytes = raw, .raw_len = 20 + n,
                                     .next_state = SP_HS_SYN_RECEIVED};
    assert_int_equal(fk_complete(f, T0 + 1, 0, &p), 0);
    t->iss = 0x00c0ffeeu;
    struct out_seg *s = th_expect(t, SYN | ACK, 0, 1, 7000, 0);
    assert_int_equal(s->tcp.mss, 800);
    assert_int_equal(s->tcp.wscale, 2);
    fk_outcome_is(f, 0, SP_VERDICT_VALID, SP_ACTION_LLM, true, DEV(ISS) | DEV(WINDOW) | DEV(MSS) | DEV(WSCALE));
    th_send(t, T0 + 2, ACK, 1, 1, 1000, NULL, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    assert_int_equal(sp_tcp_send(t->conn, "hi", 2), 2);
    s = th_expect(t, ACK | PSH, 1, 1, 65536 >> 2, 2);
    assert_int_equal(s->tcp.seq, 0x00c0ffeeu + 1);
    th_close(t);
    test_free(f);
}

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

/* SYN-SENT refused: <SEQ=SEG.ACK><CTL=RST> goes out and the connect fails, refused. */
static void test_syn_sent_refuse(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    struct fk *f = fk_legal(t, SP_DECIDE_DELEGATE);
    struct sp_tcp *c = connect_out(t);
    th_send_ex(t, T0 + 3, SYN | ACK, 0, 1, 29200, NULL, 0, FROM_SERVER);
    th_expect_nothing(t);
    const struct sp_decision_request *q = &f->reqs[0];
    assert_int_equal(q->hs_state, SP_HS_SYN_SENT);
    assert_int_equal(q->max_window, 32768);
    struct sp_decision_proposal p = {.action = SP_PROPOSE_RST, .tcp_seq = t->iss + 1, .next_state = SP_HS_CLOSED};
    assert_int_equal(fk_complete(f, T0 + 10, 0, &p), 0);
    struct out_seg *s = th_expect(t, RST, 1, 0, 0, 0);
    assert_int_equal(s->tcp.dst_port, SRV_PORT);
    th_expect_nothing(t);
    fk_outcome_is(f, 0, SP_VERDICT_VALID, SP_ACTION_LLM, true, DEV(ACTION));
    assert_int_equal(t->connected, 1);
    assert_int_equal(t->connect_status, SP_ECONNREFUSED);
    assert_int_equal(t->closed, 1);
    assert_null(t->conn);
    (void)c;
    assert_int_equal(t->iface->tcp->nconns, 0);
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), SP_TIME_NEVER);
    th_close(t);
    test_free(f);
}

/* SYN-SENT accepted with a window of the model's (the ACK's field, at most what native offers);
 * silence and a larger window are refused and the native ACK goes out. */
static void test_syn_sent_accept_window(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    struct fk *f = fk_legal(t, SP_DECIDE_DELEGATE);
    struct sp_tcp *c = connect_out(t);
    th_send_ex(t, T0 + 3, SYN | ACK, 0, 1, 29200, NULL, 0, FROM_SERVER);
    struct sp_decision_proposal p = {.action = SP_PROPOSE_ACK, .tcp_seq = t->iss + 1, .tcp_ack = PEER_ISN + 1,
                                     .tcp_window = 700, .tcp_wscale = -1, .next_state = SP_HS_ESTABLISHED};
    assert_int_equal(fk_complete(f, T0 + 10, 0, &p), 0);
    th_expect(t, ACK, 1, 1, 700, 0);
    fk_outcome_is(f, 0, SP_VERDICT_VALID, SP_ACTION_LLM, true, DEV(WINDOW));
    assert_int_equal(f->outs[0].chosen.window, 700);
    assert_int_equal(sp_tcp_get_state(c), SP_TCP_ESTABLISHED);
    assert_int_equal(t->connect_status, 0);
    th_close(t);
    test_free(f);

    const struct sp_decision_proposal bad[] = {
        {.action = SP_PROPOSE_ACK, .tcp_window = 32769, .next_state = SP_HS_ESTABLISHED},
        {.action = SP_PROPOSE_DROP},
    };
    const enum sp_verdict want[] = {SP_VERDICT_WINDOW, SP_VERDICT_ACTION};
    for (int i = 0; i < 2; i++) {
        t = th_open_backlog(-1);
        f = fk_legal(t, SP_DECIDE_DELEGATE);
        connect_out(t);
        th_send_ex(t, T0 + 3, SYN | ACK, 0, 1, 29200, NULL, 0, FROM_SERVER);
        p = bad[i];
        p.tcp_seq = t->iss + 1;
        p.tcp_ack = PEER_ISN + 1;
        assert_int_equal(fk_complete(f, T0 + 10, 0, &p), 0);
        th_expect(t, ACK, 1, 1, 32768, 0);
        fk_outcome_is(f, 0, want[i], SP_ACTION_FALLBACK, true, 0);
        assert_int_equal(t->connect_status, 0);
        th_close(t);
        test_free(f);
    }
}

/* Shadow, legal: the native SYN-ACK at once; a proposal with another ISS is valid, a mismatch,
 * and changes nothing (the connection keeps the stack's ISS). */
static void test_shadow_legal(void **state)
{
    (void)state;
    struct th *t = th_open();
    struct fk *f = fk_legal(t, SP_DECIDE_SHADOW);
    th_syn(t, T0, WS7);
    assert_int_equal(f->reqs[0].iss, t->iss);
    struct sp_decision_proposal p = syn_ack(&f->reqs[0], ISS_X, 65535, OUR_MSS, 1);
    assert_int_equal(fk_complete(f, T0 + 10, 0, &p), 0);
    th_expect_nothing(t);
    fk_outcome_is(f, 0, SP_VERDICT_VALID, SP_ACTION_SHADOW, false, DEV(ISS));
    assert_false(f->outs[0].matches_native);
    th_send(t, T0 + 20, ACK, 1, 1, 1000, NULL, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);

    th_send_ex(t, T0 + 30, SYN, 0, 0, 64240, NULL, 0, (struct seg_opts){.mss = 1460, .wscale = 7,
                                                                         .sport = PEER_PORT + 1});
    th_take(t);
    p = syn_ack(&f->reqs[1], f->reqs[1].iss, 65535, OUR_MSS, 1);
    assert_int_equal(fk_complete(f, T0 + 40, 1, &p), 0);
    fk_outcome_is(f, 1, SP_VERDICT_VALID, SP_ACTION_SHADOW, false, 0);
    assert_true(f->outs[1].matches_native);
    assert_int_equal(tstats(t)->shadow_match, 1);
    assert_int_equal(tstats(t)->shadow_mismatch, 1);
    assert_int_equal(tstats(t)->deviations[SP_DEVIATION_ISS], 1);
    th_close(t);
    test_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accept_choices_run_the_connection),
        cmocka_unit_test(test_accept_window_and_scale_honoured),
        cmocka_unit_test(test_refuse_in_listen),
        cmocka_unit_test(test_ignore_in_listen),
        cmocka_unit_test(test_raw_accept_adopted),
        cmocka_unit_test(test_syn_sent_refuse),
        cmocka_unit_test(test_syn_sent_accept_window),
        cmocka_unit_test(test_shadow_legal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
