/* The TCP handshake validator as a pure function of (request, proposal): each rule of the brief
 * is one test (RFC 9293 3.10.7.2 LISTEN, 3.10.7.3 SYN-SENT, RFC 7323 window scale, RFC 6528 ISN). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "iface_internal.h"
#include "support.h"

#define US 0xc0000202u
#define PEER 0xc0000201u
#define PEER_ISN 0xffffffffu /* ack = ISN + 1 wraps to 0 */
#define ISS 0x12345678u
#define PORT_PEER 40000
#define PORT_US 80

static struct sp_decision_request listen_req(void)
{
    struct sp_decision_request r;
    memset(&r, 0, sizeof r);
    r.id = 1;
    r.kind = SP_DECISION_TCP;
    r.mode = SP_DECIDE_DELEGATE;
    r.flow = (struct sp_flow){SP_IP_PROTO_TCP, US, PEER, PORT_US, PORT_PEER};
    r.our_mac = (struct sp_mac){{0x02, 0, 0, 0, 0, 0x02}};
    r.our_ip = US;
    r.ttl = 64;
    r.ip = (struct sp_ipv4_repr){.src = PEER, .dst = US, .protocol = SP_IP_PROTO_TCP, .ttl = 64};
    r.tcp = (struct sp_tcp_repr){.src_port = PORT_PEER, .dst_port = PORT_US, .seq = PEER_ISN, .flags = SP_TCP_SYN,
                                 .window = 64240, .mss = 1460, .wscale = 7};
    r.hs_state = SP_HS_LISTEN;
    r.iss = ISS;
    r.native_window = 65535;
    r.native_mss = 1460;
    r.native_wscale = 7;
    return r;
}

/* We sent SYN(ISS); the peer answers SYN-ACK(PEER_ISN, ack ISS + 1). */
static struct sp_decision_request syn_sent_req(void)
{
    struct sp_decision_request r = listen_req();
    r.flow.local_port = 50000;
    r.flow.remote_port = PORT_US;
    r.tcp = (struct sp_tcp_repr){.src_port = PORT_US, .dst_port = 50000, .seq = PEER_ISN, .ack = ISS + 1,
                                 .flags = SP_TCP_SYN | SP_TCP_ACK, .window = 65535, .mss = 1460, .wscale = 7};
    r.hs_state = SP_HS_SYN_SENT;
    return r;
}

static struct sp_decision_proposal syn_ack(void)
{
    return (struct sp_decision_proposal){.action = SP_PROPOSE_SYN_ACK, .tcp_seq = ISS, .tcp_ack = PEER_ISN + 1,
                                         .tcp_window = 65535, .tcp_mss = 1460, .tcp_wscale = 7,
                                         .next_state = SP_HS_SYN_RECEIVED};
}

static struct sp_decision_proposal ack(void)
{
    return (struct sp_decision_proposal){.action = SP_PROPOSE_ACK, .tcp_seq = ISS + 1, .tcp_ack = PEER_ISN + 1,
                                         .tcp_window = 65535, .tcp_mss = 0, .tcp_wscale = -1,
                                         .next_state = SP_HS_ESTABLISHED};
}

static enum sp_verdict check(const struct sp_decision_request *r, const struct sp_decision_proposal *p)
{
    /* The public entry and the internal one agree. */
    enum sp_verdict v = sp_validate_proposal(r, p);
    assert_int_equal(sp_validate_tcp(r, p, NULL), v);
    return v;
}

/* --- LISTEN + SYN, structured ----------------------------------------------------------------- */

static void test_listen_valid_syn_ack_and_what_is_built(void **state)
{
    (void)state;
    struct sp_decision_request r = listen_req();
    struct sp_decision_proposal p = syn_ack();
    struct sp_decision_built b;
    assert_int_equal(sp_validate_tcp(&r, &p, &b), SP_VERDICT_VALID);
    assert_int_equal(b.ip.kind, SP_L4_TCP);
    assert_int_equal(b.ip.ip.src, US);
    assert_int_equal(b.ip.ip.dst, PEER);
    assert_int_equal(b.ip.ip.protocol, SP_IP_PROTO_TCP);
    const struct sp_tcp_repr *t = &b.ip.l4.tcp;
    assert_int_equal(t->src_port, PORT_US);
    assert_int_equal(t->dst_port, PORT_PEER);
    assert_int_equal(t->flags, SP_TCP_SYN | SP_TCP_ACK);
    assert_int_equal(t->seq, ISS);
    assert_int_equal(t->ack, 0);
    assert_int_equal(t->window, 65535);
    assert_int_equal(t->mss, 1460);
    assert_int_equal(t->wscale, 7);
    assert_int_equal(t->payload_len, 0);
    assert_true(sp_decision_matches_native(&r, &p, &b));
    p.tcp_window = 1000;
    assert_int_equal(sp_validate_tcp(&r, &p, &b), SP_VERDICT_VALID);
    assert_false(sp_decision_matches_native(&r, &p, &b));
}

static void test_listen_actions(void **state)
{
    (void)state;
    struct sp_decision_request r = listen_req();
    const enum sp_proposal_action wrong[] = {SP_PROPOSE_DROP, SP_PROPOSE_REPLY, SP_PROPOSE_ACK, SP_PROPOSE_RST};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        struct sp_decision_proposal p = syn_ack();
        p.action = wrong[i];
        assert_int_equal(check(&r, &p), SP_VERDICT_ACTION);
    }
    /* RST to a valid SYN in LISTEN is never legal, whatever state it names. */
    struct sp_decision_proposal p = syn_ack();
    p.action = SP_PROPOSE_RST;
    p.next_state = SP_HS_LISTEN;
    p.tcp_seq = 0;
    assert_int_equal(check(&r, &p), SP_VERDICT_ACTION);
}

static void test_listen_transition(void **state)
{
    (void)state;
    struct sp_decision_request r = listen_req();
    const enum sp_hs_state wrong[] = {SP_HS_LISTEN, SP_HS_SYN_SENT, SP_HS_ESTABLISHED, SP_HS_CLOSED};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        struct sp_decision_proposal p = syn_ack();
        p.next_state = wrong[i];
        assert_int_equal(check(&r, &p), SP_VERDICT_TRANSITION);
    }
}

static void test_listen_sequence_is_the_stacks_isn(void **state)
{
    (void)state;
    struct sp_decision_request r = listen_req();
    struct sp_decision_proposal p = syn_ack();
    p.tcp_seq = 0;
    assert_int_equal(check(&r, &p), SP_VERDICT_SEQUENCE);
    p.tcp_seq = ISS + 1;
    assert_int_equal(check(&r, &p), SP_VERDICT_SEQUENCE);
}

static void test_listen_ack_is_peer_isn_plus_one(void **state)
{
    (void)state;
    struct sp_decision_request r = listen_req();
    struct sp_decision_proposal p = syn_ack();
    p.tcp_ack = PEER_ISN;
    assert_int_equal(check(&r, &p), SP_VERDICT_ACK);
    p.tcp_ack = PEER_ISN + 2;
    assert_int_equal(check(&r, &p), SP_VERDICT_ACK);
}

static void test_listen_window(void **state)
{
    (void)state;
    struct sp_decision_request r = listen_req();
    struct sp_decision_proposal p = syn_ack();
    p.tcp_window = 0;
    assert_int_equal(check(&r, &p), SP_VERDICT_WINDOW);
    p.tcp_window = 1;
    assert_int_equal(check(&r, &p), SP_VERDICT_VALID);
    p.tcp_window = 65535;
    assert_int_equal(check(&r, &p), SP_VERDICT_VALID);
}

static void test_listen_mss(void **state)
{
    (void)state;
    struct sp_decision_request r = listen_req();
    struct sp_decision_proposal p = syn_ack();
    const uint16_t ok[] = {0, 536, 1000, 1460};
    const uint16_t bad[] = {1, 535, 1461, 9000, 65535};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        p.tcp_mss = ok[i];
        assert_int_equal(check(&r, &p), SP_VERDICT_VALID);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p.tcp_mss = bad[i];
        assert_int_equal(check(&r, &p), SP_VERDICT_MSS);
    }
    /* Not above what the native stack would advertise. */
    r.native_mss = 1200;
    p.tcp_mss = 1201;
    assert_int_equal(check(&r, &p), SP_VERDICT_MSS);
    p.tcp_mss = 1200;
    assert_int_equal(check(&r, &p), SP_VERDICT_VALID);
}

static void test_listen_window_scale(void **state)
{
    (void)state;
    struct sp_decision_request r = listen_req();
    struct sp_decision_proposal p = syn_ack();
    const int8_t ok[] = {-1, 0, 7, 14};
    const int8_t bad[] = {-2, 15, 127};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        p.tcp_wscale = ok[i];
        assert_int_equal(check(&r, &p), SP_VERDICT_VALID);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        p.tcp_wscale = bad[i];
        assert_int_equal(check(&r, &p), SP_VERDICT_HEADER);
    }
    /* The peer offered none: we may not scale (RFC 7323 2.2). */
    r.tcp.wscale = -1;
    p.tcp_wscale = 0;
    assert_int_equal(check(&r, &p), SP_VERDICT_HEADER);
    p.tcp_wscale = -1;
    assert_int_equal(check(&r, &p), SP_VERDICT_VALID);
}

/* An ACK to a listener is answered by <SEQ=SEG.ACK><CTL=RST>; nothing else. */
static void test_listen_ack_segment_gets_rst(void **state)
{
    (void)state;
    struct sp_decision_request r = listen_req();
    r.tcp.flags = SP_TCP_ACK;
    r.tcp.ack = 777;
    struct sp_decision_proposal p = {.action = SP_PROPOSE_RST, .tcp_seq = 777, .next_state = SP_HS_LISTEN};
    struct sp_decision_built b;
    assert_int_equal(sp_validate_tcp(&r, &p, &b), SP_VERDICT_VALID);
    assert_int_equal(b.ip.l4.tcp.flags, SP_TCP_RST);
    assert_int_equal(b.ip.l4.tcp.seq, 777);
    p.tcp_seq = 778;
    assert_int_equal(check(&r, &p), SP_VERDICT_SEQUENCE);
    p = syn_ack();
    assert_int_equal(check(&r, &p), SP_VERDICT_ACTION);
    /* A RST is never answered. */
    r.tcp.flags = SP_TCP_RST | SP_TCP_ACK;
    p = (struct sp_decision_proposal){.action = SP_PROPOSE_RST, .tcp_seq = 777, .next_state = SP_HS_LISTEN};
    assert_int_equal(check(&r, &p), SP_VERDICT_ACTION);
}

/* --- SYN-SENT + SYN-ACK ------------------------------------------------------------------------- */

static void test_syn_sent_valid_ack(void **state)
{
    (void)state;
    struct sp_decision_request r = syn_sent_req();
    struct sp_decision_proposal p = ack();
    struct sp_decision_built b;
    assert_int_equal(sp_validate_tcp(&r, &p, &b), SP_VERDICT_VALID);
    assert_int_equal(b.ip.l4.tcp.flags, SP_TCP_ACK);
    assert_int_equal(b.ip.l4.tcp.seq, ISS + 1);
    assert_int_equal(b.ip.l4.tcp.ack, 0);
    assert_int_equal(b.ip.l4.tcp.src_port, 50000);
    assert_int_equal(b.ip.l4.tcp.dst_port, PORT_US);
    assert_int_equal(b.ip.l4.tcp.mss, 0);
    assert_int_equal(b.ip.l4.tcp.wscale, -1);
    assert_true(sp_decision_matches_native(&r, &p, &b));
    /* MSS and scale fields are ignored on an ACK (no options on a non-SYN segment). */
    p.tcp_mss = 1460;
    p.tcp_wscale = 7;
    assert_int_equal(sp_validate_tcp(&r, &p, &b), SP_VERDICT_VALID);
    assert_int_equal(b.ip.l4.tcp.mss, 0);
    assert_int_equal(b.ip.l4.tcp.wscale, -1);
}

static void test_syn_sent_rules(void **state)
{
    (void)state;
    struct sp_decision_request r = syn_sent_req();
    struct sp_decision_proposal p = ack();
    p.tcp_seq = ISS;
    assert_int_equal(check(&r, &p), SP_VERDICT_SEQUENCE);
    p = ack();
    p.tcp_ack = PEER_ISN;
    assert_int_equal(check(&r, &p), SP_VERDICT_ACK);
    p = ack();
    p.tcp_window = 0;
    assert_int_equal(check(&r, &p), SP_VERDICT_WINDOW);
    p = ack();
    p.next_state = SP_HS_SYN_RECEIVED;
    assert_int_equal(check(&r, &p), SP_VERDICT_TRANSITION);
    const enum sp_proposal_action wrong[] = {SP_PROPOSE_DROP, SP_PROPOSE_REPLY, SP_PROPOSE_SYN_ACK, SP_PROPOSE_RST};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        p = ack();
        p.action = wrong[i];
        assert_int_equal(check(&r, &p), SP_VERDICT_ACTION);
    }
}

/* An unacceptable ACK in SYN-SENT is answered by a RST with SEQ=SEG.ACK; the attempt goes on. */
static void test_syn_sent_unacceptable_ack_gets_rst(void **state)
{
    (void)state;
    struct sp_decision_request r = syn_sent_req();
    r.tcp.ack = ISS + 5;
    struct sp_decision_proposal p = {.action = SP_PROPOSE_RST, .tcp_seq = ISS + 5, .next_state = SP_HS_SYN_SENT};
    assert_int_equal(check(&r, &p), SP_VERDICT_VALID);
    p.next_state = SP_HS_CLOSED;
    assert_int_equal(check(&r, &p), SP_VERDICT_TRANSITION);
    p = ack();
    assert_int_equal(check(&r, &p), SP_VERDICT_ACTION);
}

static void test_other_states_allow_nothing(void **state)
{
    (void)state;
    struct sp_decision_request r = listen_req();
    r.hs_state = SP_HS_ESTABLISHED;
    struct sp_decision_proposal p = syn_ack();
    assert_int_equal(check(&r, &p), SP_VERDICT_ACTION);
    r = listen_req();
    r.tcp.flags = SP_TCP_FIN; /* neither SYN nor ACK to a listener */
    assert_int_equal(check(&r, &p), SP_VERDICT_ACTION);
}

/* --- Raw ------------------------------------------------------------------------------------------ */

struct raw {
    uint8_t buf[SP_DECISION_MAX_PACKET + 4];
    size_t len;
};

/* Builds a datagram from us to the peer carrying t (ports taken from t). */
static void raw_build(struct raw *w, const struct sp_tcp_repr *t, uint32_t src, uint32_t dst)
{
    struct sp_ipv4_repr ip = {.src = src, .dst = dst, .protocol = SP_IP_PROTO_TCP, .ttl = 64,
                              .payload_len = (uint16_t)sp_tcp_repr_buffer_len(t)};
    sp_tcp_repr_emit(t, src, dst, w->buf + 20);
    sp_ipv4_repr_emit(&ip, w->buf);
    w->len = 20 + ip.payload_len;
}

static struct sp_tcp_repr raw_syn_ack_repr(void)
{
    return (struct sp_tcp_repr){.src_port = PORT_US, .dst_port = PORT_PEER, .seq = ISS, .ack = PEER_ISN + 1,
                                .flags = SP_TCP_SYN | SP_TCP_ACK, .window = 65535, .mss = 1460, .wscale = 7};
}

static struct sp_decision_proposal raw_prop(const struct raw *w, enum sp_hs_state next)
{
    return (struct sp_decision_proposal){.action = SP_PROPOSE_REPLY, .raw = true, .raw_bytes = w->buf,
                                         .raw_len = w->len, .next_state = next};
}

static enum sp_verdict raw_check_repr(const struct sp_tcp_repr *t)
{
    struct sp_decision_request r = listen_req();
    struct raw w;
    raw_build(&w, t, US, PEER);
    struct sp_decision_proposal p = raw_prop(&w, SP_HS_SYN_RECEIVED);
    return check(&r, &p);
}

static void test_raw_valid_syn_ack(void **state)
{
    (void)state;
    struct sp_decision_request r = listen_req();
    struct raw w;
    struct sp_tcp_repr t = raw_syn_ack_repr();
    raw_build(&w, &t, US, PEER);
    struct sp_decision_proposal p = raw_prop(&w, SP_HS_SYN_RECEIVED);
    struct sp_decision_built b;
    assert_int_equal(sp_validate_tcp(&r, &p, &b), SP_VERDICT_VALID);
    assert_int_equal(b.ip.l4.tcp.mss, 1460);
    assert_int_equal(b.ip.l4.tcp.wscale, 7);
    assert_int_equal(b.ip.ip.ttl, 64);
    p.action = SP_PROPOSE_SYN_ACK; /* naming the action itself is fine too */
    assert_int_equal(check(&r, &p), SP_VERDICT_VALID);
    p.next_state = SP_HS_ESTABLISHED;
    assert_int_equal(check(&r, &p), SP_VERDICT_TRANSITION);
    p = raw_prop(&w, SP_HS_SYN_RECEIVED);
    p.action = SP_PROPOSE_DROP;
    assert_int_equal(check(&r, &p), SP_VERDICT_ACTION);
    /* Shadow: the same bytes as native (here the native answer is these bytes) match. */
    r.native = w.buf;
    r.native_len = w.len;
    p = raw_prop(&w, SP_HS_SYN_RECEIVED);
    assert_true(sp_decision_matches_native(&r, &p, &b));
}

static void test_raw_malformed_and_checksums(void **state)
{
    (void)state;
    struct sp_decision_request r = listen_req();
    struct raw w;
    struct sp_tcp_repr t = raw_syn_ack_repr();
    raw_build(&w, &t, US, PEER);
    struct sp_decision_proposal p = raw_prop(&w, SP_HS_SYN_RECEIVED);
    p.raw_len = 19;
    assert_int_equal(check(&r, &p), SP_VERDICT_MALFORMED);
    p.raw_len = w.len + 1; /* trailing byte after the datagram */
    assert_int_equal(check(&r, &p), SP_VERDICT_MALFORMED);
    p.raw_bytes = NULL;
    p.raw_len = w.len;
    assert_int_equal(check(&r, &p), SP_VERDICT_MALFORMED);
    /* A TCP header cut short: the IP total length says 30 bytes. */
    struct raw s = w;
    sp_put16(s.buf + 2, 30);
    sp_put16(s.buf + 10, 0);
    sp_put16(s.buf + 10, sp_csum(s.buf, 20));
    p = raw_prop(&s, SP_HS_SYN_RECEIVED);
    p.raw_len = 30;
    assert_int_equal(check(&r, &p), SP_VERDICT_MALFORMED);

    struct raw c = w;
    c.buf[10] ^= 1;
    p = raw_prop(&c, SP_HS_SYN_RECEIVED);
    assert_int_equal(check(&r, &p), SP_VERDICT_CHECKSUM);
    c = w;
    c.buf[20 + 16] ^= 1; /* TCP checksum */
    p = raw_prop(&c, SP_HS_SYN_RECEIVED);
    assert_int_equal(check(&r, &p), SP_VERDICT_CHECKSUM);
}

static void test_raw_addresses_and_ports(void **state)
{
    (void)state;
    struct sp_decision_request r = listen_req();
    struct raw w;
    struct sp_tcp_repr t = raw_syn_ack_repr();
    raw_build(&w, &t, US, 0xcb007109u); /* to 203.0.113.9 */
    struct sp_decision_proposal p = raw_prop(&w, SP_HS_SYN_RECEIVED);
    assert_int_equal(check(&r, &p), SP_VERDICT_ADDRESS);
    raw_build(&w, &t, 0xc0000203u, PEER); /* not from us */
    p = raw_prop(&w, SP_HS_SYN_RECEIVED);
    assert_int_equal(check(&r, &p), SP_VERDICT_ADDRESS);
    t.dst_port = 40001;
    assert_int_equal(raw_check_repr(&t), SP_VERDICT_ADDRESS);
    t = raw_syn_ack_repr();
    t.src_port = PORT_PEER;
    t.dst_port = PORT_US; /* not swapped */
    assert_int_equal(raw_check_repr(&t), SP_VERDICT_ADDRESS);
}

static void test_raw_flags_data_and_fields(void **state)
{
    (void)state;
    struct sp_tcp_repr t = raw_syn_ack_repr();
    t.flags |= SP_TCP_PSH;
    assert_int_equal(raw_check_repr(&t), SP_VERDICT_HEADER);
    t.flags = SP_TCP_SYN;
    assert_int_equal(raw_check_repr(&t), SP_VERDICT_HEADER);
    t.flags = SP_TCP_RST | SP_TCP_ACK;
    assert_int_equal(raw_check_repr(&t), SP_VERDICT_HEADER);

    t = raw_syn_ack_repr();
    static const uint8_t data[] = "GET / HTTP/1.0\r\n";
    t.payload = data;
    t.payload_len = sizeof data - 1;
    assert_int_equal(raw_check_repr(&t), SP_VERDICT_DATA);

    t = raw_syn_ack_repr();
    t.seq = 1;
    assert_int_equal(raw_check_repr(&t), SP_VERDICT_SEQUENCE);
    t = raw_syn_ack_repr();
    t.ack = 5;
    assert_int_equal(raw_check_repr(&t), SP_VERDICT_ACK);
    t = raw_syn_ack_repr();
    t.window = 0;
    assert_int_equal(raw_check_repr(&t), SP_VERDICT_WINDOW);
    t = raw_syn_ack_repr();
    t.mss = 100;
    assert_int_equal(raw_check_repr(&t), SP_VERDICT_MSS);
    t = raw_syn_ack_repr();
    t.mss = 0; /* no option: fine */
    assert_int_equal(raw_check_repr(&t), SP_VERDICT_VALID);

    /* IP header: TTL 0 and fragments are refused. */
    struct sp_decision_request r = listen_req();
    struct raw w;
    t = raw_syn_ack_repr();
    raw_build(&w, &t, US, PEER);
    w.buf[8] = 0;
    sp_put16(w.buf + 10, 0);
    sp_put16(w.buf + 10, sp_csum(w.buf, 20));
    struct sp_decision_proposal p = raw_prop(&w, SP_HS_SYN_RECEIVED);
    assert_int_equal(check(&r, &p), SP_VERDICT_HEADER);
}

static void test_raw_syn_sent_ack(void **state)
{
    (void)state;
    struct sp_decision_request r = syn_sent_req();
    struct sp_tcp_repr t = {.src_port = 50000, .dst_port = PORT_US, .seq = ISS + 1, .ack = PEER_ISN + 1,
                            .flags = SP_TCP_ACK, .window = 65535, .mss = 0, .wscale = -1};
    struct raw w;
    raw_build(&w, &t, US, PEER);
    struct sp_decision_proposal p = raw_prop(&w, SP_HS_ESTABLISHED);
    assert_int_equal(check(&r, &p), SP_VERDICT_VALID);
    /* Options belong on a SYN only. */
    t.mss = 1460;
    raw_build(&w, &t, US, PEER);
    p = raw_prop(&w, SP_HS_ESTABLISHED);
    assert_int_equal(check(&r, &p), SP_VERDICT_HEADER);
    t.mss = 0;
    t.flags = SP_TCP_SYN | SP_TCP_ACK;
    raw_build(&w, &t, US, PEER);
    p = raw_prop(&w, SP_HS_ESTABLISHED);
    assert_int_equal(check(&r, &p), SP_VERDICT_HEADER);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listen_valid_syn_ack_and_what_is_built),
        cmocka_unit_test(test_listen_actions),
        cmocka_unit_test(test_listen_transition),
        cmocka_unit_test(test_listen_sequence_is_the_stacks_isn),
        cmocka_unit_test(test_listen_ack_is_peer_isn_plus_one),
        cmocka_unit_test(test_listen_window),
        cmocka_unit_test(test_listen_mss),
        cmocka_unit_test(test_listen_window_scale),
        cmocka_unit_test(test_listen_ack_segment_gets_rst),
        cmocka_unit_test(test_syn_sent_valid_ack),
        cmocka_unit_test(test_syn_sent_rules),
        cmocka_unit_test(test_syn_sent_unacceptable_ack_gets_rst),
        cmocka_unit_test(test_other_states_allow_nothing),
        cmocka_unit_test(test_raw_valid_syn_ack),
        cmocka_unit_test(test_raw_malformed_and_checksums),
        cmocka_unit_test(test_raw_addresses_and_ports),
        cmocka_unit_test(test_raw_flags_data_and_fields),
        cmocka_unit_test(test_raw_syn_sent_ack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
