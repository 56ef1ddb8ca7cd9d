/* TCP per-connection settings a socket layer maps its options onto: buffer sizes (SO_RCVBUF,
 * SO_SNDBUF) on a listener and on a live connection, Nagle (TCP_NODELAY) inherited from the
 * listener and released at once when turned off. */
#include "tcp_harness.h"

#define SYN SP_TCP_SYN
#define ACK SP_TCP_ACK
#define PSH SP_TCP_PSH

static uint8_t payload[200000];

/* A listener's receive buffer sizes its connections: the SYN-ACK offers it, with the window scale
 * it needs (none below 64 KiB), and the window closes when it is full. */
static void test_listener_rcvbuf_sizes_window(void **state)
{
    (void)state;
    struct th *t = th_open();
    assert_int_equal(sp_tcp_set_rcvbuf(t->listener, 4096), 0);
    assert_int_equal(sp_tcp_get_rcvbuf(t->listener), 4096);
    struct out_seg *s = th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 7});
    assert_int_equal(s->tcp.window, 4096);
    assert_int_equal(s->tcp.wscale, 0);
    th_send(t, T0, ACK, 1, 1, 65535, NULL, 0);
    assert_non_null(t->conn);
    assert_int_equal(sp_tcp_get_rcvbuf(t->conn), 4096);
    th_send(t, T0 + 1, ACK, 1, 1, 65535, payload, 1000);
    th_send(t, T0 + 1, ACK, 1001, 1, 65535, payload, 1000);
    th_advance(t, T0 + 1 + SP_TCP_DELACK_MS);
    th_expect(t, ACK, 1, 2001, 2096, 0);
    th_close(t);
}

/* A large receive buffer asks for a window scale big enough to offer it whole. */
static void test_listener_large_rcvbuf_scales(void **state)
{
    (void)state;
    struct th *t = th_open();
    assert_int_equal(sp_tcp_set_rcvbuf(t->listener, 1u << 20), 0);
    struct out_seg *s = th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 7});
    assert_int_equal(s->tcp.wscale, 5);
    assert_int_equal(s->tcp.window, 0xffff);
    th_send(t, T0, ACK, 1, 1, 65535, NULL, 0);
    th_send(t, T0 + 1, ACK | PSH, 1, 1, 65535, payload, 100);
    th_advance(t, T0 + 1 + SP_TCP_DELACK_MS);
    th_expect(t, ACK, 1, 101, ((1u << 20) - 100) >> 5, 0);
    th_close(t);
}

/* A listener's send buffer bounds what its connections take. */
static void test_listener_sndbuf(void **state)
{
    (void)state;
    struct th *t = th_open();
    assert_int_equal(sp_tcp_set_sndbuf(t->listener, 3000), 0);
    th_establish(t);
    assert_int_equal(sp_tcp_get_sndbuf(t->conn), 3000);
    assert_int_equal(sp_tcp_send_space(t->conn), 3000);
    assert_int_equal(sp_tcp_send(t->conn, payload, 5000), 3000);
    assert_int_equal(sp_tcp_send(t->conn, payload, 1), SP_EAGAIN);
    th_close(t);
}

/* Out of range sizes are clamped, as SO_RCVBUF / SO_SNDBUF do. */
static void test_buffer_sizes_clamped(void **state)
{
    (void)state;
    struct th *t = th_open();
    assert_int_equal(sp_tcp_get_rcvbuf(t->listener), TH_BUF);
    assert_int_equal(sp_tcp_get_sndbuf(t->listener), TH_BUF);
    assert_int_equal(sp_tcp_set_rcvbuf(t->listener, 1), 0);
    assert_int_equal(sp_tcp_get_rcvbuf(t->listener), SP_TCP_BUF_MIN);
    assert_int_equal(sp_tcp_set_sndbuf(t->listener, 0xffffffffu), 0);
    assert_int_equal(sp_tcp_get_sndbuf(t->listener), SP_TCP_BUF_MAX);
    th_close(t);
}

/* Growing the receive buffer of a live connection keeps what was received, in order and out of
 * order; the window grows with it. */
static void test_rcvbuf_grows_keeping_data(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    th_fill(payload, 3000, 5);
    th_send(t, T0 + 1, ACK, 1, 1, 65535, payload, 1000);
    th_send(t, T0 + 1, ACK, 2001, 1, 65535, payload + 2000, 1000);   /* a hole at 1000 */
    th_expect(t, ACK, 1, 1001, -1, 0);
    assert_int_equal(sp_tcp_set_rcvbuf(t->conn, 200000), 0);
    th_send(t, T0 + 2, ACK, 1001, 1, 65535, payload + 1000, 1000);
    th_expect(t, ACK, 1, 3001, 0xffff, 0);   /* our scale is 1 (from 64 KiB): 197000 >> 1 capped */
    uint8_t got[3000];
    assert_int_equal(sp_tcp_recv(t->conn, got, sizeof got), 3000);
    assert_memory_equal(got, payload, 3000);
    th_close(t);
}

/* The receive buffer cannot shrink below the window already offered (RFC 9293 3.8.6) nor below
 * what it holds. */
static void test_rcvbuf_cannot_take_back_window(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    assert_int_equal(sp_tcp_set_rcvbuf(t->conn, 4096), SP_EINVAL);
    th_send(t, T0 + 1, ACK, 1, 1, 65535, payload, 1000);
    assert_int_equal(sp_tcp_set_rcvbuf(t->conn, 60000), SP_EINVAL);
    assert_int_equal(sp_tcp_get_rcvbuf(t->conn), TH_BUF);
    th_close(t);
}

/* The send buffer of a live connection resizes around the queued data, which still goes out
 * intact; it cannot shrink below what is queued. */
static void test_sndbuf_resize_keeps_queue(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish_win(t, 1000);
    th_fill(payload, 6000, 9);
    assert_int_equal(sp_tcp_send(t->conn, payload, 6000), 6000);
    struct out_seg *o = th_expect(t, ACK, 1, 1, -1, 1000);
    assert_memory_equal(o->tcp.payload, payload, 1000);
    assert_int_equal(sp_tcp_set_sndbuf(t->conn, 5000), SP_EINVAL);
    assert_int_equal(sp_tcp_set_sndbuf(t->conn, 7000), 0);
    assert_int_equal(sp_tcp_send_space(t->conn), 1000);
    th_send(t, T0 + 10, ACK, 1, 1001, 5000, NULL, 0);
    o = th_expect(t, ACK, 1001, 1, -1, 1460);
    assert_memory_equal(o->tcp.payload, payload + 1000, 1460);
    th_close(t);
}

/* TCP_NODELAY set on a listener holds for the connections it accepts: a second small segment
 * goes while the first is unacknowledged. */
static void test_nodelay_inherited(void **state)
{
    (void)state;
    struct th *t = th_open();
    sp_tcp_set_nodelay(t->listener, true);
    th_establish(t);
    assert_true(sp_tcp_get_nodelay(t->conn));
    sp_tcp_send(t->conn, "a", 1);
    sp_tcp_send(t->conn, "b", 1);
    th_expect(t, ACK | PSH, 1, 1, -1, 1);
    th_expect(t, ACK | PSH, 2, 1, -1, 1);
    th_close(t);
}

/* Turning Nagle off sends the small segment it was holding back at once. */
static void test_nodelay_releases_held_segment(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_send(t->conn, "a", 1);
    th_expect(t, ACK | PSH, 1, 1, -1, 1);
    sp_tcp_send(t->conn, "b", 1);
    th_expect_nothing(t);
    sp_tcp_set_nodelay(t->conn, true);
    th_expect(t, ACK | PSH, 2, 1, -1, 1);
    th_close(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_listener_rcvbuf_sizes_window),
        cmocka_unit_test(test_listener_large_rcvbuf_scales),
        cmocka_unit_test(test_listener_sndbuf),
        cmocka_unit_test(test_buffer_sizes_clamped),
        cmocka_unit_test(test_rcvbuf_grows_keeping_data),
        cmocka_unit_test(test_rcvbuf_cannot_take_back_window),
        cmocka_unit_test(test_sndbuf_resize_keeps_queue),
        cmocka_unit_test(test_nodelay_inherited),
        cmocka_unit_test(test_nodelay_releases_held_segment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
