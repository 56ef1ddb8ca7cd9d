/* Legal authority for the TCP handshake, the validator alone: in LISTEN a proposal may accept a
 * SYN with an ISS, a window, an MSS and a window scale of its own, refuse it with a RST (RFC 9293
 * 3.10.7.1) or ignore it; in SYN-SENT accept with a window of its own or refuse; every value out
 * of range is refused with its verdict, and raw segments are read as the structured ones.
 * (Scenarios through the TCP harness: test_tcp_legal.c.) */
#include "tcp_harness.h"

#include "slowpath/decide.h"

#define SYN SP_TCP_SYN
#define ACK SP_TCP_ACK
#define RST SP_TCP_RST
#define DEV(name) (1u << SP_DEVIATION_##name)

/* --- The validator alone ------------------------------------------------------------------------ */

#define V_US 0xc0000202u
#define V_PEER 0xc0000201u
#define V_PEER_ISN 0x10000u
#define V_ISS 0x12345678u

static struct sp_decision_request listen_req(void)
{
    struct sp_decision_request r;
    memset(&r, 0, sizeof r);
    r.id = 1;
    r.kind = SP_DECISION_TCP;
    r.mode = SP_DECIDE_DELEGATE;
    r.authority = SP_AUTHORITY_LEGAL;
    r.flow = (struct sp_flow){SP_IP_PROTO_TCP, V_US, V_PEER, 80, 40000};
    r.our_ip = V_US;
    r.ttl = 64;
    r.ip = (struct sp_ipv4_repr){.src = V_PEER, .dst = V_US, .protocol = SP_IP_PROTO_TCP, .ttl = 64};
    r.tcp = (struct sp_tcp_repr){.src_port = 40000, .dst_port = 80, .seq = V_PEER_ISN, .flags = SYN,
                                 .window = 64240, .mss = 1460, .wscale = 7};
    r.hs_state = SP_HS_LISTEN;
    r.iss = V_ISS;
    r.native_window = 65535;
    r.native_mss = 1460;
    r.native_wscale = 1;
    r.max_window = 40000;
    r.max_mss = 1400;
    return r;
}

static struct sp_decision_proposal v_syn_ack(uint32_t iss, uint16_t window, uint16_t mss, int8_t wscale)
{
    return (struct sp_decision_proposal){.action = SP_PROPOSE_SYN_ACK, .tcp_seq = iss, .tcp_ack = V_PEER_ISN + 1,
                                         .tcp_window = window, .tcp_mss = mss, .tcp_wscale = wscale,
                                         .next_state = SP_HS_SYN_RECEIVED};
}

static struct sp_decision_proposal v_rst(void)
{
    return (struct sp_decision_proposal){.action = SP_PROPOSE_RST, .tcp_seq = 0, .tcp_ack = V_PEER_ISN + 1,
                                         .next_state = SP_HS_LISTEN};
}

static enum sp_verdict vcheck(const struct sp_decision_request *r, const struct sp_decision_proposal *p)
{
    return sp_validate_proposal(r, p);
}

/* Accept: any ISS, a window of 1..max_window, no MSS or 536..max_mss, a scale of 0-14 only if the
 * peer offered one. */
static void test_validator_listen_accept_bounds(void **state)
{
    (void)state;
    struct sp_decision_request r = listen_req();
    const uint32_t isses[] = {0, 1, V_ISS, 0x80000000u, 0xffffffffu};
    for (size_t i = 0; i < sizeof isses / sizeof isses[0]; i++) {
        struct sp_decision_proposal p = v_syn_ack(isses[i], 1000, 1000, 7);
        assert_int_equal(vcheck(&r, &p), SP_VERDICT_VALID);
    }
    struct sp_decision_proposal p = v_syn_ack(1, 1, 536, 0);
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_VALID);
    p = v_syn_ack(1, 40000, 1400, 14);
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_VALID);
    p = v_syn_ack(1, 40000, 0, -1); /* no options: the peer assumes 536, and nobody scales */
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_VALID);

    p = v_syn_ack(1, 0, 1000, 7);
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_WINDOW);
    p = v_syn_ack(1, 40001, 1000, 7);
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_WINDOW);
    p = v_syn_ack(1, 1000, 535, 7);
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_MSS);
    p = v_syn_ack(1, 1000, 1401, 7);
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_MSS);
    p = v_syn_ack(1, 1000, 1000, 15);
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_HEADER);
    p = v_syn_ack(1, 1000, 1000, -2);
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_HEADER);
    p = v_syn_ack(1, 1000, 1000, 7);
    p.tcp_ack++;
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_ACK);
    p = v_syn_ack(1, 1000, 1000, 7);
    p.next_state = SP_HS_ESTABLISHED;
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_TRANSITION);
    r.tcp.wscale = -1; /* the peer offered no scale (RFC 7323 2.2) */
    p = v_syn_ack(1, 1000, 1000, 0);
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_HEADER);
    p.tcp_wscale = -1;
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_VALID);

    /* Exact: the stack's ISS and native's bounds, as ever. */
    r = listen_req();
    r.authority = SP_AUTHORITY_EXACT;
    p = v_syn_ack(1, 1000, 1000, 7);
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_SEQUENCE);
    p = v_syn_ack(V_ISS, 65535, 1460, 7);
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_VALID);
}

/* Refuse: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, the listener stays; ignore: anything goes. */
static void test_validator_listen_refuse_and_ignore(void **state)
{
    (void)state;
    struct sp_decision_request r = listen_req();
    struct sp_decision_proposal p = v_rst();
    struct sp_decision_built b;
    memset(&b, 0, sizeof b);
    assert_int_equal(sp_validate_tcp(&r, &p, &b), SP_VERDICT_VALID);
    assert_int_equal(b.action, SP_PROPOSE_RST);
    assert_int_equal(b.ip.l4.tcp.flags, RST | ACK);
    assert_int_equal(b.ip.l4.tcp.seq, 0);
    assert_int_equal(b.ip.l4.tcp.ack, V_PEER_ISN + 1);
    assert_int_equal(b.ip.l4.tcp.window, 0);
    assert_int_equal(b.ip.l4.tcp.src_port, 80);
    assert_int_equal(b.ip.l4.tcp.dst_port, 40000);
    struct sp_decision_chosen c;
    assert_int_equal(sp_decision_deviations(&r, &b, 0, &c), DEV(ACTION));
    assert_int_equal(c.action, SP_PROPOSE_RST);
    p.tcp_seq = 1;
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_SEQUENCE);
    p = v_rst();
    p.tcp_ack = V_PEER_ISN;
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_ACK);
    p = v_rst();
    p.next_state = SP_HS_CLOSED;
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_TRANSITION);
    /* SEG.LEN counts the SYN and its data. */
    static const uint8_t data[5] = "hello";
    r.tcp.payload = data;
    r.tcp.payload_len = sizeof data;
    p = v_rst();
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_ACK);
    p.tcp_ack = V_PEER_ISN + 6;
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_VALID);

    r = listen_req();
    p = (struct sp_decision_proposal){.action = SP_PROPOSE_DROP, .next_state = SP_HS_ESTABLISHED};
    assert_int_equal(sp_validate_tcp(&r, &p, &b), SP_VERDICT_VALID);
    assert_int_equal(b.action, SP_PROPOSE_DROP);
    assert_int_equal(sp_decision_deviations(&r, &b, 0, &c), DEV(SILENCE));
    r.authority = SP_AUTHORITY_EXACT;
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_ACTION);
    p = v_rst();
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_ACTION);
}

/* SYN-SENT: accept with a window up to max_window (the ACK's field), or refuse with
 * <SEQ=SEG.ACK><CTL=RST>; never silence. */
static void test_validator_syn_sent(void **state)
{
    (void)state;
    struct sp_decision_request r = listen_req();
    r.hs_state = SP_HS_SYN_SENT;
    r.tcp = (struct sp_tcp_repr){.src_port = 80, .dst_port = 40000, .seq = V_PEER_ISN, .ack = V_ISS + 1,
                                 .flags = SYN | ACK, .window = 65535, .mss = 1460, .wscale = 7};
    r.native_window = 2000;
    r.max_window = 2000;
    struct sp_decision_proposal p = {.action = SP_PROPOSE_ACK, .tcp_seq = V_ISS + 1, .tcp_ack = V_PEER_ISN + 1,
                                     .tcp_window = 2000, .tcp_wscale = -1, .next_state = SP_HS_ESTABLISHED};
    struct sp_decision_built b;
    struct sp_decision_chosen c;
    assert_int_equal(sp_validate_tcp(&r, &p, &b), SP_VERDICT_VALID);
    assert_int_equal(sp_decision_deviations(&r, &b, 0, &c), 0);
    p.tcp_window = 500;
    assert_int_equal(sp_validate_tcp(&r, &p, &b), SP_VERDICT_VALID);
    assert_int_equal(sp_decision_deviations(&r, &b, 0, &c), DEV(WINDOW));
    assert_int_equal(c.window, 500);
    p.tcp_window = 2001;
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_WINDOW);
    p.tcp_window = 0;
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_WINDOW);
    p = (struct sp_decision_proposal){.action = SP_PROPOSE_RST, .tcp_seq = V_ISS + 1, .next_state = SP_HS_CLOSED};
    assert_int_equal(sp_validate_tcp(&r, &p, &b), SP_VERDICT_VALID);
    assert_int_equal(b.ip.l4.tcp.flags, RST);
    assert_int_equal(b.ip.l4.tcp.seq, V_ISS + 1);
    assert_int_equal(sp_decision_deviations(&r, &b, 0, &c), DEV(ACTION));
    p.next_state = SP_HS_SYN_SENT;
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_TRANSITION);
    p.next_state = SP_HS_CLOSED;
    p.tcp_seq = 0;
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_SEQUENCE);
    p = (struct sp_decision_proposal){.action = SP_PROPOSE_DROP};
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_ACTION);
}

/* Raw proposals: the flags say which answer it is; the same bounds; the TTL stays the host's. */
struct raw {
    uint8_t buf[SP_DECISION_MAX_PACKET];
    size_t len;
};

static struct sp_decision_proposal raw_prop(struct raw *w, const struct sp_tcp_repr *t, uint32_t src,
                                            enum sp_hs_state next)
{
    struct sp_ipv4_repr ip = {.src = src, .dst = V_PEER, .protocol = SP_IP_PROTO_TCP, .ttl = 64, .ident = 99,
                              .payload_len = (uint16_t)sp_tcp_repr_buffer_len(t)};
    sp_tcp_repr_emit(t, src, V_PEER, w->buf + 20);
    sp_ipv4_repr_emit(&ip, w->buf);
    w->len = 20 + ip.payload_len;
    return (struct sp_decision_proposal){.action = SP_PROPOSE_REPLY, .raw = true, .raw_bytes = w->buf,
                                         .raw_len = w->len, .next_state = next};
}

static void test_validator_raw(void **state)
{
    (void)state;
    struct sp_decision_request r = listen_req();
    struct raw w;
    struct sp_tcp_repr t = {.src_port = 80, .dst_port = 40000, .seq = 0xabcdef01u, .ack = V_PEER_ISN + 1,
                            .flags = SYN | ACK, .window = 3000, .mss = 600, .wscale = 2};
    struct sp_decision_proposal p = raw_prop(&w, &t, V_US, SP_HS_SYN_RECEIVED);
    struct sp_decision_built b;
    struct sp_decision_chosen c;
    assert_int_equal(sp_validate_tcp(&r, &p, &b), SP_VERDICT_VALID);
    assert_int_equal(b.action, SP_PROPOSE_SYN_ACK);
    assert_int_equal(sp_decision_deviations(&r, &b, 0, &c), DEV(ISS) | DEV(WINDOW) | DEV(MSS) | DEV(WSCALE));
    assert_int_equal(c.iss, 0xabcdef01u);
    assert_int_equal(c.window, 3000);
    assert_int_equal(c.mss, 600);
    assert_int_equal(c.wscale, 2);
    t.window = 40001;
    p = raw_prop(&w, &t, V_US, SP_HS_SYN_RECEIVED);
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_WINDOW);
    t.window = 3000;
    t.mss = 100;
    p = raw_prop(&w, &t, V_US, SP_HS_SYN_RECEIVED);
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_MSS);
    t.mss = 600;
    p = raw_prop(&w, &t, 0xc0000209u, SP_HS_SYN_RECEIVED); /* not from our address */
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_ADDRESS);
    p = raw_prop(&w, &t, V_US, SP_HS_SYN_RECEIVED);
    w.buf[8] = 1; /* a TTL of its own: not a TCP choice */
    sp_put16(w.buf + 10, 0);
    sp_put16(w.buf + 10, sp_csum(w.buf, 20));
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_HEADER);

    /* The refusal, as bytes: RST|ACK with SEQ 0 and the SYN acknowledged; a bare RST is not it. */
    struct sp_tcp_repr rst = {.src_port = 80, .dst_port = 40000, .seq = 0, .ack = V_PEER_ISN + 1,
                              .flags = RST | ACK, .wscale = -1};
    p = raw_prop(&w, &rst, V_US, SP_HS_LISTEN);
    assert_int_equal(sp_validate_tcp(&r, &p, &b), SP_VERDICT_VALID);
    assert_int_equal(b.action, SP_PROPOSE_RST);
    p.next_state = SP_HS_SYN_RECEIVED;
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_TRANSITION);
    rst.flags = RST;
    p = raw_prop(&w, &rst, V_US, SP_HS_LISTEN);
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_HEADER);
    rst.flags = RST | ACK;
    rst.ack++;
    p = raw_prop(&w, &rst, V_US, SP_HS_LISTEN);
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_ACK);
    /* Naming the action: a raw RST proposal whose bytes are a SYN-ACK is no RST. */
    p = raw_prop(&w, &t, V_US, SP_HS_SYN_RECEIVED);
    p.action = SP_PROPOSE_RST;
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_TRANSITION);
    p.next_state = SP_HS_LISTEN;
    assert_int_equal(vcheck(&r, &p), SP_VERDICT_HEADER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_validator_listen_accept_bounds),
        cmocka_unit_test(test_validator_listen_refuse_and_ignore),
        cmocka_unit_test(test_validator_syn_sent),
        cmocka_unit_test(test_validator_raw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
