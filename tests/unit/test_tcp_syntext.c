/* TCP scenarios: text that arrives on a SYN or a SYN-ACK is queued and delivered once the
 * connection is ESTABLISHED (RFC 9293 3.10.7.2, 3.10.7.3), acknowledged only then. */
#include "tcp_harness.h"

#define SYN SP_TCP_SYN
#define ACK SP_TCP_ACK
#define RST SP_TCP_RST
#define FIN SP_TCP_FIN
#define PSH SP_TCP_PSH

#define WS0 ((struct seg_opts){.mss = 1460, .wscale = 0})

/* An open whose accepted connection reads everything it is given. */
static struct th *open_reading(void)
{
    struct th *t = th_open();
    t->auto_read = true;
    return t;
}

/* The SYN-ACK acknowledges the SYN only; the handshake's ACK brings the text into the stream and
 * an immediate ACK for it. */
static void test_syn_text_delivered_when_established(void **state)
{
    (void)state;
    struct th *t = open_reading();
    th_send_ex(t, T0, SYN, 0, 0, 65535, "0123456789", 10, WS0);
    struct out_seg *s = th_take(t);
    assert_int_equal(s->tcp.flags, SYN | ACK);
    assert_int_equal(s->tcp.ack, PEER_ISN + 1);
    t->iss = s->tcp.seq;
    assert_int_equal(th_stat(t, SP_STAT_tcp_syn_text_queued), 1);
    assert_int_equal(t->accepts, 0);

    th_send(t, T0 + 50, ACK, 1, 1, 65535, NULL, 0);
    th_expect(t, ACK, 1, 11, -1, 0);
    th_expect_nothing(t);
    assert_int_equal(t->accepts, 1);
    assert_int_equal(t->readable, 1);
    assert_int_equal(t->rx_len, 10);
    assert_memory_equal(t->rx, "0123456789", 10);
    th_close(t);
}

/* The peer sends the text again with the ACK that completes the handshake (as a sender whose
 * SYN text was not acknowledged does): it is the same bytes, read once. */
static void test_syn_text_and_its_copy(void **state)
{
    (void)state;
    struct th *t = open_reading();
    th_send_ex(t, T0, SYN, 0, 0, 65535, "0123456789", 10, WS0);
    t->iss = th_take(t)->tcp.seq;
    th_send(t, T0 + 50, ACK | PSH, 1, 1, 65535, "0123456789", 10);
    th_expect(t, ACK, 1, 11, -1, 0);
    th_expect_nothing(t);
    assert_int_equal(t->rx_len, 10);
    /* and again after that: a duplicate, acknowledged at once */
    th_send(t, T0 + 60, ACK | PSH, 1, 1, 65535, "0123456789", 10);
    th_expect(t, ACK, 1, 11, -1, 0);
    assert_int_equal(t->rx_len, 10);
    th_close(t);
}

/* Text after the SYN's comes with the handshake's ACK: it joins the queued text. */
static void test_syn_text_then_more(void **state)
{
    (void)state;
    struct th *t = open_reading();
    th_send_ex(t, T0, SYN, 0, 0, 65535, "0123456789", 10, WS0);
    t->iss = th_take(t)->tcp.seq;
    th_send(t, T0 + 50, ACK | PSH, 11, 1, 65535, "abcdefghij", 10);
    th_expect(t, ACK, 1, 21, -1, 0);
    th_expect_nothing(t);
    assert_int_equal(t->rx_len, 20);
    assert_memory_equal(t->rx, "0123456789abcdefghij", 20);
    th_close(t);
}

/* The peer's FIN right after the SYN's text: text, then end of stream. */
static void test_syn_text_then_fin(void **state)
{
    (void)state;
    struct th *t = open_reading();
    th_send_ex(t, T0, SYN, 0, 0, 65535, "0123456789", 10, WS0);
    t->iss = th_take(t)->tcp.seq;
    th_send(t, T0 + 50, ACK | FIN, 11, 1, 65535, NULL, 0);
    th_expect(t, ACK, 1, 12, -1, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_CLOSE_WAIT);
    assert_int_equal(t->rx_len, 10);
    assert_int_equal(sp_tcp_recv(t->conn, t->rx, 10), 0);
    th_close(t);
}

/* Our SYN-ACK was lost: the SYN comes again with its text, which is kept once. */
static void test_syn_text_retransmitted_syn(void **state)
{
    (void)state;
    struct th *t = open_reading();
    th_send_ex(t, T0, SYN, 0, 0, 65535, "0123456789", 10, WS0);
    t->iss = th_take(t)->tcp.seq;
    th_send_ex(t, T0 + 1000, SYN, 0, 0, 65535, "0123456789", 10, WS0);
    th_expect(t, SYN | ACK, 0, 1, -1, 0);
    th_send(t, T0 + 1050, ACK, 1, 1, 65535, NULL, 0);
    th_expect(t, ACK, 1, 11, -1, 0);
    assert_int_equal(t->rx_len, 10);
    th_close(t);
}

/* Only what fits the receive buffer is kept (and acknowledged); the peer sends the rest again. */
static void test_syn_text_beyond_the_buffer(void **state)
{
    (void)state;
    struct th *t = open_reading();
    assert_int_equal(sp_tcp_set_rcvbuf(t->listener, SP_TCP_BUF_MIN), 0);
    static uint8_t big[SP_TCP_BUF_MIN + 100];
    th_fill(big, sizeof big, 3);
    th_send_ex(t, T0, SYN, 0, 0, 65535, big, sizeof big, WS0);
    t->iss = th_take(t)->tcp.seq;
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_out_of_window), 1);
    th_send(t, T0 + 50, ACK, 1, 1, 65535, NULL, 0);
    th_expect(t, ACK, 1, 1 + SP_TCP_BUF_MIN, -1, 0);
    assert_int_equal(t->rx_len, SP_TCP_BUF_MIN);
    assert_memory_equal(t->rx, big, SP_TCP_BUF_MIN);
    th_send(t, T0 + 60, ACK | PSH, 1 + SP_TCP_BUF_MIN, 1, 65535, big + SP_TCP_BUF_MIN, 100);
    assert_int_equal(t->rx_len, sizeof big);
    assert_memory_equal(t->rx, big, sizeof big);
    th_close(t);
}

/* A reset before the handshake completes: the text is never read by anyone. */
static void test_syn_text_reset_before_established(void **state)
{
    (void)state;
    struct th *t = open_reading();
    th_send_ex(t, T0, SYN, 0, 0, 65535, "0123456789", 10, WS0);
    t->iss = th_take(t)->tcp.seq;
    th_send(t, T0 + 50, RST, 1, 0, 0, NULL, 0);
    th_send(t, T0 + 60, ACK, 1, 1, 65535, NULL, 0);
    th_expect(t, RST, 1, 0, 0, 0);   /* no connection any more */
    assert_int_equal(t->accepts, 0);
    assert_int_equal(t->rx_len, 0);
    th_close(t);
}

#define SERVER ((struct seg_opts){.wscale = 0, .mss = 1460, .sport = 5000, .dport = SP_TCP_EPHEMERAL_FIRST})

static struct sp_tcp *connect_out(struct th *t)
{
    struct sp_tcp *c = NULL;
    assert_int_equal(sp_tcp_connect(t->iface, PEER_IP, 5000, &th_cbs, t, &c), 0);
    t->conn = c;
    struct out_seg *s = th_take(t);
    assert_int_equal(s->tcp.flags, SYN);
    t->iss = s->tcp.seq;
    return c;
}

/* SYN-SENT: a SYN-ACK with text is ESTABLISHED and then its text processed; the handshake's ACK
 * covers the text, and on_connect comes before on_readable. */
static void test_syn_ack_text(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    t->auto_read = true;
    struct sp_tcp *c = connect_out(t);
    th_send_ex(t, T0 + 20, SYN | ACK, 0, 1, 65535, "hello", 5, SERVER);
    th_expect(t, ACK, 1, 6, -1, 0);
    th_expect_nothing(t);
    assert_int_equal(sp_tcp_get_state(c), SP_TCP_ESTABLISHED);
    assert_int_equal(t->connected, 1);
    assert_int_equal(t->readable, 1);
    assert_int_equal(t->rx_len, 5);
    assert_memory_equal(t->rx, "hello", 5);
    th_close(t);
}

/* Simultaneous open: the peer's SYN carries text; our SYN-ACK acknowledges the SYN only, and
 * the text is delivered when its ACK makes the connection ESTABLISHED. */
static void test_simultaneous_open_text(void **state)
{
    (void)state;
    struct th *t = th_open_backlog(-1);
    t->auto_read = true;
    struct sp_tcp *c = connect_out(t);
    th_send_ex(t, T0 + 20, SYN, 0, 0, 65535, "hello", 5, SERVER);
    th_expect(t, SYN | ACK, 0, 1, -1, 0);
    assert_int_equal(t->rx_len, 0);
    th_send_ex(t, T0 + 40, ACK, 6, 1, 65535, NULL, 0, SERVER);
    th_expect(t, ACK, 1, 6, -1, 0);
    assert_int_equal(sp_tcp_get_state(c), SP_TCP_ESTABLISHED);
    assert_int_equal(t->rx_len, 5);
    th_close(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syn_text_delivered_when_established),
        cmocka_unit_test(test_syn_text_and_its_copy),
        cmocka_unit_test(test_syn_text_then_more),
        cmocka_unit_test(test_syn_text_then_fin),
        cmocka_unit_test(test_syn_text_retransmitted_syn),
        cmocka_unit_test(test_syn_text_beyond_the_buffer),
        cmocka_unit_test(test_syn_text_reset_before_established),
        cmocka_unit_test(test_syn_ack_text),
        cmocka_unit_test(test_simultaneous_open_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
