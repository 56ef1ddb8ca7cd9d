/* TCP at scale: the limits of sp_tcp_config (a full connection table, the listener's default
 * backlog) and buffers that take memory only as data fills them, within the interface's budget. */
#include "test_tcp_harness.h"

#define SYN SP_TCP_SYN
#define ACK SP_TCP_ACK
#define PSH SP_TCP_PSH

static uint8_t payload[20000];

static struct seg_opts from_port(uint16_t sport)
{
    return (struct seg_opts){.wscale = -1, .sport = sport};
}

/* --- Table limits --------------------------------------------------------------------------- */

/* max_conns bounds the table: the SYN that finds it full is dropped and counted, and a slot freed
 * by a close is used again. */
static void test_table_full(void **state)
{
    (void)state;
    struct sp_tcp_config tc = th_tcp_cfg();
    tc.max_conns = 2;
    struct th *t = th_open_cfg(0, &tc);
    th_send_ex(t, T0, SYN, 0, 0, 1000, NULL, 0, from_port(1));
    th_send_ex(t, T0, SYN, 0, 0, 1000, NULL, 0, from_port(2));
    assert_int_equal(t->nout, 2);
    th_send_ex(t, T0, SYN, 0, 0, 1000, NULL, 0, from_port(3));
    assert_int_equal(t->nout, 2);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_table_full), 1);
    assert_int_equal(t->iface->tcp->nconns, 2);
    /* The first one goes (the peer resets it): there is room again. */
    th_send_ex(t, T0, SP_TCP_RST, 1, 0, 0, NULL, 0, from_port(1));
    th_send_ex(t, T0 + 1, SYN, 0, 0, 1000, NULL, 0, from_port(3));
    assert_int_equal(t->nout, 3);
    assert_int_equal(t->out[2].tcp.flags, SYN | ACK);
    th_close(t);
}

/* sp_tcp_listen with backlog <= 0 takes the interface's configured one. */
static void test_listener_backlog_from_config(void **state)
{
    (void)state;
    struct sp_tcp_config tc = th_tcp_cfg();
    tc.backlog = 3;
    struct th *t = th_open_cfg(0, &tc);
    assert_int_equal(t->listener->backlog, 3);
    struct sp_tcp *l2;
    assert_int_equal(sp_tcp_listen(t->iface, 81, 7, th_on_accept, t, &l2), 0);
    assert_int_equal(l2->backlog, 7);
    th_close(t);
}

/* Zero fields take opts.h's defaults. */
static void test_config_defaults(void **state)
{
    (void)state;
    struct sp_tcp_config tc;
    memset(&tc, 0, sizeof tc);
    struct th *t = th_open_cfg(0, &tc);
    const struct sp_tcp_config *c = &t->iface->tcp->cfg;
    assert_int_equal(c->max_conns, SP_TCP_MAX_CONNS);
    assert_int_equal(c->backlog, SP_TCP_DEFAULT_BACKLOG);
    assert_int_equal(c->rcvbuf, SP_TCP_RCV_BUF);
    assert_int_equal(c->sndbuf, SP_TCP_SND_BUF);
    assert_int_equal(c->mem_max, SP_TCP_MEM_MAX);
    assert_int_equal(sp_tcp_get_rcvbuf(t->listener), SP_TCP_RCV_BUF);
    /* A 256 KiB receive buffer is offered whole: 65535 in the SYN-ACK, scale 3 (RFC 7323 2.2). */
    struct out_seg *s = th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 7});
    assert_int_equal(s->tcp.window, 65535);
    assert_int_equal(s->tcp.wscale, 3);
    th_close(t);
}

/* --- Buffers taken as data comes --------------------------------------------------------------- */

/* An idle connection holds no buffer memory; a request takes SP_TCP_BUF_FIRST; more data doubles
 * it; the whole window is offered all along; the memory goes back with the connection. */
static void test_buffers_taken_as_data_comes(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    struct sp_tcp_stack *tcp = t->iface->tcp;
    assert_int_equal(t->conn->rcv.size, 0);
    assert_int_equal(t->conn->snd.size, 0);
    assert_int_equal(tcp->mem.used, 0);
    th_send(t, T0 + 1, ACK | PSH, 1, 1, 65535, payload, 100);
    assert_int_equal(t->conn->rcv.size, SP_TCP_BUF_FIRST);
    assert_int_equal(tcp->mem.used, SP_TCP_BUF_FIRST);
    th_advance(t, T0 + 1 + SP_TCP_DELACK_MS);
    th_expect(t, ACK, 1, 101, (TH_BUF - 100) >> 1, 0);
    th_send(t, T0 + 50, ACK | PSH, 101, 1, 65535, payload, 3000);
    assert_int_equal(t->conn->rcv.size, 2 * SP_TCP_BUF_FIRST);
    assert_int_equal(sp_tcp_recv_pending(t->conn), 3100);
    uint8_t b[4000];
    assert_int_equal(sp_tcp_recv(t->conn, b, sizeof b), 3100);
    assert_memory_equal(b + 100, payload, 3000);
    assert_int_equal(sp_tcp_send(t->conn, "hello", 5), 5);
    assert_int_equal(t->conn->snd.size, SP_TCP_BUF_FIRST);
    assert_int_equal(tcp->mem.used, 3 * SP_TCP_BUF_FIRST);
    sp_tcp_abort(t->conn);
    assert_int_equal(tcp->mem.used, 0);
    th_close(t);
}

/* Out-of-order data beyond what is allocated grows the ring and keeps what was held. */
static void test_out_of_order_grows_buffer(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    t->auto_read = true;
    th_fill(payload, sizeof payload, 3);
    th_send(t, T0 + 1, ACK, 1001, 1, 65535, payload + 1000, 1000);      /* a gap of 1000 */
    assert_int_equal(t->conn->rcv.size, SP_TCP_BUF_FIRST);
    th_send(t, T0 + 1, ACK, 5001, 1, 65535, payload + 5000, 1000);      /* further out */
    assert_int_equal(t->conn->rcv.size, 8192);
    th_send(t, T0 + 2, ACK, 1, 1, 65535, payload, 1000);                /* the first gap */
    th_send(t, T0 + 2, ACK, 2001, 1, 65535, payload + 2000, 3000);      /* the second */
    assert_int_equal(t->rx_len, 6000);
    assert_memory_equal(t->rx, payload, 6000);
    th_close(t);
}

/* When the budget is spent, arriving data is dropped (counted; the peer resends) and a send that
 * cannot get memory takes what the memory it has holds, then is refused with SP_ENOBUFS (each
 * refusal counted too). */
static void test_memory_budget(void **state)
{
    (void)state;
    struct sp_tcp_config tc = th_tcp_cfg();
    tc.mem_max = 2 * SP_TCP_BUF_FIRST;
    struct th *t = th_open_cfg(0, &tc);
    th_establish(t);
    th_send(t, T0 + 1, ACK | PSH, 1, 1, 65535, payload, SP_TCP_BUF_FIRST);   /* unread */
    assert_int_equal(sp_tcp_send(t->conn, payload, 100), 100);                /* the second half */
    t->taken = t->nout;
    th_send(t, T0 + 2, ACK | PSH, 1 + SP_TCP_BUF_FIRST, 1, 65535, payload, 10);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_no_memory), 1);
    assert_int_equal(sp_tcp_recv_pending(t->conn), SP_TCP_BUF_FIRST);
    /* The send buffer's own memory still takes what fits in it. */
    assert_int_equal(sp_tcp_send(t->conn, payload, SP_TCP_BUF_FIRST), SP_TCP_BUF_FIRST - 100);
    assert_int_equal(sp_tcp_send_space(t->conn), 0);
    assert_int_equal(sp_tcp_send(t->conn, payload, 1), SP_ENOBUFS);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_no_memory), 3);
    /* Reading does not give the memory back (the ring keeps its size), but the ring has room. */
    uint8_t b[SP_TCP_BUF_FIRST];
    assert_int_equal(sp_tcp_recv(t->conn, b, sizeof b), SP_TCP_BUF_FIRST);
    th_send(t, T0 + 3, ACK | PSH, 1 + SP_TCP_BUF_FIRST, 1, 65535, payload, 10);
    assert_int_equal(sp_tcp_recv_pending(t->conn), 10);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_no_memory), 3);
    th_close(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_full),
        cmocka_unit_test(test_listener_backlog_from_config),
        cmocka_unit_test(test_config_defaults),
        cmocka_unit_test(test_buffers_taken_as_data_comes),
        cmocka_unit_test(test_out_of_order_grows_buffer),
        cmocka_unit_test(test_memory_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
