/* TCP at scale: the limits of sp_tcp_config (a full connection table, the listener's default
 * backlog), buffers that take memory only as data fills them, within the interface's budget,
 * compact TIME-WAIT (RFC 9293 3.6.1, RFC 6191, RFC 1337) and SYN cookies (RFC 4987). */
#include "tcp_harness.h"

#define SYN SP_TCP_SYN
#define ACK SP_TCP_ACK
#define PSH SP_TCP_PSH
#define FIN SP_TCP_FIN
#define RST SP_TCP_RST

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
    /* A 4 MiB receive buffer is offered whole: 65535 in the SYN-ACK, scale 7 (RFC 7323 2.2). */
    struct out_seg *s = th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 7});
    assert_int_equal(s->tcp.window, 65535);
    assert_int_equal(s->tcp.wscale, 7);
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

/* --- Compact TIME-WAIT ------------------------------------------------------------------------ */

/* A passive open from sport, established, then closed by us first: the peer's FIN takes the
 * connection to TIME-WAIT, which a compact entry takes over once our ACK is out (the handle was
 * released). Returns the window of that ACK. */
static uint16_t open_and_close(struct th *t, sp_time_t now, uint16_t sport)
{
    struct seg_opts o = from_port(sport);
    th_send_ex(t, now, SYN, 0, 0, 65535, NULL, 0, o);
    t->iss = th_take(t)->tcp.seq;
    th_send_ex(t, now, ACK, 1, 1, 65535, NULL, 0, o);
    assert_non_null(t->conn);
    sp_tcp_close(t->conn);
    t->conn = NULL;
    th_expect(t, FIN | ACK, 1, 1, -1, 0);
    th_send_ex(t, now, FIN | ACK, 1, 2, 65535, NULL, 0, o);
    return th_expect(t, ACK, 2, 2, -1, 0)->tcp.window;
}

/* TIME-WAIT leaves the table: no connection, one entry, the timer at 2 MSL. */
static void test_time_wait_leaves_table(void **state)
{
    (void)state;
    struct th *t = th_open();
    open_and_close(t, T0, PEER_PORT);
    struct sp_tcp_stack *tcp = t->iface->tcp;
    assert_int_equal(tcp->nconns, 0);
    assert_int_equal(tcp->tw.count, 1);
    assert_int_equal(th_stat(t, SP_STAT_tcp_time_wait), 1);
    assert_int_equal(th_stat(t, SP_STAT_tcp_conn_closed), 1);
    assert_int_equal(sp_tcp_poll_at(tcp), T0 + SP_TCP_TIME_WAIT_MS);
    th_close(t);
}

/* The peer's FIN again (our ACK was lost): ACKed with the old numbers and window, and the 2 MSL
 * wait starts over (RFC 9293 3.10.7.4); then the entry expires and the pair is free. */
static void test_time_wait_refin_acked_and_expiry(void **state)
{
    (void)state;
    struct th *t = th_open();
    uint16_t win = open_and_close(t, T0, PEER_PORT);
    th_send(t, T0 + 1000, FIN | ACK, 1, 2, 65535, NULL, 0);
    th_expect(t, ACK, 2, 2, win, 0);   /* the window as last advertised: never shrunk */
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), T0 + 1000 + SP_TCP_TIME_WAIT_MS);
    th_advance(t, T0 + 1000 + SP_TCP_TIME_WAIT_MS - 1);
    assert_int_equal(t->iface->tcp->tw.count, 1);
    th_advance(t, T0 + 1000 + SP_TCP_TIME_WAIT_MS);
    assert_int_equal(t->iface->tcp->tw.count, 0);
    assert_int_equal(th_stat(t, SP_STAT_tcp_time_wait_expired), 1);
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), SP_TIME_NEVER);
    /* Gone: the old connection's ACK now meets LISTEN and is reset. */
    th_send(t, T0 + 1000 + SP_TCP_TIME_WAIT_MS, ACK, 2, 2, 65535, NULL, 0);
    th_expect(t, RST, 2, 0, 0, 0);
    th_close(t);
}

/* A bare ACK at RCV.NXT needs no answer; anything else unacceptable gets our ACK. */
static void test_time_wait_other_segments(void **state)
{
    (void)state;
    struct th *t = th_open();
    open_and_close(t, T0, PEER_PORT);
    th_send(t, T0 + 10, ACK, 2, 2, 65535, NULL, 0);
    th_expect_nothing(t);
    th_send(t, T0 + 20, ACK | PSH, 2, 2, 65535, "late", 4);
    th_expect(t, ACK, 2, 2, -1, 0);
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), T0 + SP_TCP_TIME_WAIT_MS);   /* not restarted */
    th_close(t);
}

/* RFC 1337: a RST, even at RCV.NXT, does not end TIME-WAIT (counted, not answered). */
static void test_time_wait_rst_ignored(void **state)
{
    (void)state;
    struct th *t = th_open();
    open_and_close(t, T0, PEER_PORT);
    th_send(t, T0 + 10, RST, 2, 0, 0, NULL, 0);
    th_send(t, T0 + 10, RST | ACK, 2, 2, 0, NULL, 0);
    th_expect_nothing(t);
    assert_int_equal(t->iface->tcp->tw.count, 1);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_time_wait_rst), 2);
    th_close(t);
}

/* The same while the application still holds the handle (a full connection in TIME-WAIT). */
static void test_time_wait_held_rst_ignored(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    sp_tcp_shutdown(t->conn);
    th_expect(t, FIN | ACK, 1, 1, -1, 0);
    th_send(t, T0 + 10, FIN | ACK, 1, 2, 65535, NULL, 0);
    th_expect(t, ACK, 2, 2, -1, 0);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_TIME_WAIT);
    assert_int_equal(t->iface->tcp->tw.count, 0);
    th_send(t, T0 + 20, RST, 2, 0, 0, NULL, 0);
    assert_int_equal(t->closed, 0);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_time_wait_rst), 1);
    /* Releasing the handle hands the rest of the wait to a compact entry. */
    sp_tcp_close(t->conn);
    assert_int_equal(t->iface->tcp->nconns, 0);
    assert_int_equal(t->iface->tcp->tw.count, 1);
    assert_int_equal(sp_tcp_poll_at(t->iface->tcp), T0 + 10 + SP_TCP_TIME_WAIT_MS);
    th_close(t);
}

/* An old duplicate SYN (at or below the old RCV.NXT, no newer timestamp) gets our ACK and the
 * entry stays (RFC 9293 3.10.7.4, RFC 5961 4.2). */
static void test_time_wait_old_syn_refused(void **state)
{
    (void)state;
    struct th *t = th_open();
    open_and_close(t, T0, PEER_PORT);
    th_send(t, T0 + 20, SYN, 0, 0, 1000, NULL, 0);
    th_expect(t, ACK, 2, 2, -1, 0);
    th_send(t, T0 + 20, SYN, 2, 0, 1000, NULL, 0);   /* exactly RCV.NXT: not above it */
    th_expect(t, ACK, 2, 2, -1, 0);
    assert_int_equal(t->iface->tcp->tw.count, 1);
    assert_int_equal(th_stat(t, SP_STAT_tcp_time_wait_reused), 0);
    th_close(t);
}

/* A SYN above the old RCV.NXT opens a new connection at once (RFC 9293 3.6.1, RFC 6191), with an
 * ISS above the old SND.NXT even where the ISN clock has not moved past it. */
static void test_time_wait_reused_iss_above(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_establish(t);
    /* 8000 bytes from us: more than the ISN clock advances in 20 ms (250 per ms, RFC 6528). */
    sp_tcp_set_nodelay(t->conn, true);
    assert_int_equal(sp_tcp_send(t->conn, payload, 8000), 8000);
    while (t->taken < t->nout)
        th_take(t);
    th_send(t, T0 + 5, ACK, 1, 8001, 65535, NULL, 0);
    sp_tcp_close(t->conn);
    t->conn = NULL;
    th_expect(t, FIN | ACK, 8001, 1, -1, 0);
    th_send(t, T0 + 10, FIN | ACK, 1, 8002, 65535, NULL, 0);
    th_expect(t, ACK, 8002, 2, -1, 0);
    uint32_t old_snd_nxt = t->iss + 8002;
    sp_time_t at = T0 + 20;
    uint32_t plain = sp_tcp_isn(0x0123456789abcdefull, at, US_IP, US_PORT, PEER_IP, PEER_PORT);
    assert_true(sp_seq_le(plain, old_snd_nxt));   /* the case the floor is for */
    th_send(t, at, SYN, 100000, 0, 1000, NULL, 0);
    struct out_seg *o = th_take(t);
    assert_int_equal(o->tcp.flags, SYN | ACK);
    assert_int_equal(o->tcp.ack, PEER_ISN + 100001);
    assert_true(sp_seq_gt(o->tcp.seq, old_snd_nxt));
    assert_int_equal(th_stat(t, SP_STAT_tcp_time_wait_reused), 1);
    assert_int_equal(t->iface->tcp->tw.count, 0);
    /* The new incarnation completes as any other. */
    t->iss = o->tcp.seq;
    th_send(t, at + 1, ACK, 100001, 1, 1000, NULL, 0);
    assert_int_equal(t->accepts, 2);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    th_close(t);
}

/* With timestamps on the old incarnation, RFC 6191 judges a SYN by its timestamp: newer opens
 * whatever its sequence number, older is an old duplicate whatever its sequence number. */
static void test_time_wait_timestamps_judge_syn(void **state)
{
    (void)state;
    struct th *t = th_open();
    open_and_close(t, T0, PEER_PORT);
    struct sp_tcp_tw *w = sp_tcp_tw_lookup(t->iface->tcp, PEER_IP, PEER_PORT, US_PORT);
    assert_non_null(w);
    w->ts_ok = true;
    w->ts_recent = 12346;   /* the harness's SYNs carry TSval 12345: older */
    struct seg_opts ts = {.wscale = -1, .ts = true};
    th_send_ex(t, T0 + 20, SYN, 100000, 0, 1000, NULL, 0, ts);
    th_expect(t, ACK, 2, 2, -1, 0);
    w->ts_recent = 12344;   /* newer */
    th_send_ex(t, T0 + 30, SYN, 0, 0, 1000, NULL, 0, ts);   /* below the old RCV.NXT */
    struct out_seg *o = th_take(t);
    assert_int_equal(o->tcp.flags, SYN | ACK);
    assert_int_equal(th_stat(t, SP_STAT_tcp_time_wait_reused), 1);
    th_close(t);
}

/* A full TIME-WAIT table gives up its oldest entry for the newest. */
static void test_time_wait_full_evicts_oldest(void **state)
{
    (void)state;
    struct sp_tcp_config tc = th_tcp_cfg();
    tc.max_timewait = 2;
    struct th *t = th_open_cfg(0, &tc);
    open_and_close(t, T0, 1001);
    open_and_close(t, T0 + 1, 1002);
    open_and_close(t, T0 + 2, 1003);
    struct sp_tcp_stack *tcp = t->iface->tcp;
    assert_int_equal(tcp->tw.count, 2);
    assert_int_equal(th_stat(t, SP_STAT_tcp_time_wait_evicted), 1);
    assert_null(sp_tcp_tw_lookup(tcp, PEER_IP, 1001, US_PORT));
    assert_non_null(sp_tcp_tw_lookup(tcp, PEER_IP, 1002, US_PORT));
    assert_non_null(sp_tcp_tw_lookup(tcp, PEER_IP, 1003, US_PORT));
    assert_int_equal(sp_tcp_poll_at(tcp), T0 + 1 + SP_TCP_TIME_WAIT_MS);
    th_advance(t, T0 + 2 + SP_TCP_TIME_WAIT_MS);
    assert_int_equal(tcp->tw.count, 0);
    th_close(t);
}

/* Entries restarted out of order stay ordered by expiry: poll_at is always the earliest. */
static void test_time_wait_expiry_order(void **state)
{
    (void)state;
    struct th *t = th_open();
    open_and_close(t, T0, 1001);
    open_and_close(t, T0 + 100, 1002);
    struct sp_tcp_stack *tcp = t->iface->tcp;
    th_send_ex(t, T0 + 200, FIN | ACK, 1, 2, 65535, NULL, 0, from_port(1001));   /* restarts 1001 */
    th_take(t);
    assert_int_equal(sp_tcp_poll_at(tcp), T0 + 100 + SP_TCP_TIME_WAIT_MS);
    th_advance(t, T0 + 100 + SP_TCP_TIME_WAIT_MS);
    assert_null(sp_tcp_tw_lookup(tcp, PEER_IP, 1002, US_PORT));
    assert_non_null(sp_tcp_tw_lookup(tcp, PEER_IP, 1001, US_PORT));
    assert_int_equal(sp_tcp_poll_at(tcp), T0 + 200 + SP_TCP_TIME_WAIT_MS);
    th_close(t);
}

/* --- SYN cookies ---------------------------------------------------------------------------- */

#define PERIOD SP_TCP_SYNCOOKIE_PERIOD_MS

/* A listener with a backlog of one, taken by a handshake from port 1. */
static struct th *full_backlog(void)
{
    struct th *t = th_open_backlog(1);
    th_send_ex(t, T0, SYN, 0, 0, 1000, NULL, 0, from_port(1));
    assert_int_equal(th_take(t)->tcp.flags, SYN | ACK);
    assert_int_equal(t->listener->pending, 1);
    return t;
}

/* The cookie SYN-ACK to a SYN from sport: what it offers, and nothing kept. */
static struct out_seg *cookie_syn(struct th *t, sp_time_t now, uint16_t sport, uint16_t mss, int8_t wscale)
{
    unsigned conns = t->iface->tcp->nconns;
    uint64_t sent = th_stat(t, SP_STAT_tcp_syncookie_sent);
    th_send_ex(t, now, SYN, 0, 0, 64240, NULL, 0, (struct seg_opts){.mss = mss, .wscale = wscale, .sport = sport});
    struct out_seg *o = th_take(t);
    assert_int_equal(o->tcp.flags, SYN | ACK);
    assert_int_equal(o->tcp.dst_port, sport);
    assert_int_equal(o->tcp.ack, PEER_ISN + 1);
    assert_int_equal(o->tcp.mss, OUR_MSS);
    assert_int_equal(o->tcp.window, 65535);
    assert_int_equal(o->tcp.wscale, wscale >= 0 ? 1 : -1);   /* 64 KiB buffers: scale 1, if any */
    assert_int_equal(th_stat(t, SP_STAT_tcp_syncookie_sent), sent + 1);
    assert_int_equal(t->iface->tcp->nconns, conns);
    assert_int_equal(t->listener->pending, 1);
    t->iss = o->tcp.seq;
    return o;
}

/* A full backlog answers with a cookie; the ACK that returns it makes the connection, with the
 * peer's MSS and window scale from the cookie, and data riding on that ACK is delivered. */
static void test_syncookie_completes(void **state)
{
    (void)state;
    struct th *t = full_backlog();
    cookie_syn(t, T0 + 1, 2, 1460, 7);
    t->auto_read = true;
    th_send_ex(t, T0 + 2, ACK | PSH, 1, 1, 500, "GET /", 5, from_port(2));
    assert_int_equal(th_stat(t, SP_STAT_tcp_syncookie_ok), 1);
    assert_int_equal(t->accepts, 1);
    assert_non_null(t->conn);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    assert_int_equal(t->rx_len, 5);
    assert_int_equal(t->conn->mss, 1460);
    assert_true(t->conn->wscale_ok);
    assert_int_equal(t->conn->snd_wscale, 7);
    assert_int_equal(t->conn->snd_wnd, 500u << 7);
    assert_int_equal(t->conn->srtt8, 0);                     /* no RTT sample from the handshake */
    assert_int_equal(t->listener->pending, 1);               /* port 1's handshake still */
    /* It works like any connection: data is acknowledged and sent. */
    th_advance(t, T0 + 2 + SP_TCP_DELACK_MS);
    th_expect(t, ACK, 1, 6, -1, 0);
    assert_int_equal(sp_tcp_send(t->conn, "ok", 2), 2);
    th_expect(t, ACK | PSH, 1, 6, -1, 2);
    th_close(t);
}

/* No window scale offered: none in the cookie SYN-ACK, none on the connection; the MSS is rounded
 * down to the cookie's table; a repeated SYN gets the same cookie. */
static void test_syncookie_mss_rounded_no_scale(void **state)
{
    (void)state;
    struct th *t = full_backlog();
    uint32_t iss = cookie_syn(t, T0 + 1, 2, 1000, -1)->tcp.seq;
    assert_int_equal(cookie_syn(t, T0 + 900, 2, 1000, -1)->tcp.seq, iss);
    th_send_ex(t, T0 + 1000, ACK, 1, 1, 4000, NULL, 0, from_port(2));
    assert_non_null(t->conn);
    assert_int_equal(t->conn->mss, 536);
    assert_false(t->conn->wscale_ok);
    assert_int_equal(t->conn->snd_wnd, 4000);
    th_close(t);
}

/* A wrong cookie (an ACK number off by one, or another sequence number) is counted and reset as
 * LISTEN resets an ACK (<SEQ=SEG.ACK><CTL=RST>); no connection is made. */
static void test_syncookie_bad_ack_reset(void **state)
{
    (void)state;
    struct th *t = full_backlog();
    cookie_syn(t, T0 + 1, 2, 1460, 7);
    th_send_ex(t, T0 + 2, ACK, 1, 2, 500, NULL, 0, from_port(2));
    th_expect(t, RST, 2, 0, 0, 0);
    th_send_ex(t, T0 + 2, ACK, 2, 1, 500, NULL, 0, from_port(2));
    th_expect(t, RST, 1, 0, 0, 0);
    th_send_ex(t, T0 + 2, ACK, 1, 1, 500, NULL, 0, from_port(3));   /* another pair's ACK */
    th_expect(t, RST, 1, 0, 0, 0);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_syncookie_bad), 3);
    assert_int_equal(t->accepts, 0);
    assert_int_equal(t->iface->tcp->nconns, 1);
    th_close(t);
}

/* A cookie is good in its clock tick and the next, and no longer. */
static void test_syncookie_expires(void **state)
{
    (void)state;
    struct th *t = full_backlog();
    sp_time_t tick = (T0 / PERIOD + 1) * PERIOD;   /* the start of a clock tick */
    cookie_syn(t, tick, 2, 1460, 7);
    uint32_t iss2 = t->iss;
    cookie_syn(t, tick, 3, 1460, 7);
    uint32_t iss3 = t->iss;
    /* Port 2 returns late in the next tick: accepted. */
    t->iss = iss2;
    th_send_ex(t, tick + 2 * PERIOD - 1, ACK, 1, 1, 500, NULL, 0, from_port(2));
    assert_int_equal(t->accepts, 1);
    /* Port 3 returns in the tick after that: refused, although cookies are still in use. */
    cookie_syn(t, tick + 2 * PERIOD - 1, 4, 1460, 7);
    t->iss = iss3;
    th_send_ex(t, tick + 2 * PERIOD, ACK, 1, 1, 500, NULL, 0, from_port(3));
    th_expect(t, RST, 1, 0, 0, 0);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_syncookie_bad), 1);
    assert_int_equal(t->accepts, 1);
    th_close(t);
}

/* While no cookie could still be valid, a stray ACK is only LISTEN's: reset, not counted. */
static void test_stray_ack_without_cookies(void **state)
{
    (void)state;
    struct th *t = th_open();
    th_send(t, T0, ACK, 1, 1, 500, NULL, 0);
    th_expect(t, RST, 1, 0, 0, 0);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_syncookie_bad), 0);
    th_close(t);
}

static int never_decides(void *ctx, const struct sp_decision_request *req)
{
    (void)ctx;
    (void)req;
    fail_msg("a SYN beyond the backlog reached the decider");
    return SP_EINVAL;
}

/* A delegated handshake keeps its decider: SYNs beyond the backlog are dropped, not cookied. */
static void test_syncookie_not_for_delegated(void **state)
{
    (void)state;
    struct th *t = full_backlog();
    struct sp_decider d = {.decide = never_decides};
    sp_iface_set_decider(t->iface, SP_DECISION_TCP, SP_DECIDE_SHADOW, &d);
    th_send_ex(t, T0 + 1, SYN, 0, 0, 64240, NULL, 0, from_port(2));
    th_expect_nothing(t);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_backlog_full), 1);
    assert_int_equal(th_stat(t, SP_STAT_tcp_syncookie_sent), 0);
    th_close(t);
}

/* A full table still takes a valid cookie's ACK as dropped, not reset: the peer sends again. */
static void test_syncookie_table_full(void **state)
{
    (void)state;
    struct sp_tcp_config tc = th_tcp_cfg();
    tc.max_conns = 1;
    struct th *t = th_open_cfg(1, &tc);
    th_send_ex(t, T0, SYN, 0, 0, 1000, NULL, 0, from_port(1));
    th_take(t);
    cookie_syn(t, T0 + 1, 2, 1460, 7);
    th_send_ex(t, T0 + 2, ACK, 1, 1, 500, NULL, 0, from_port(2));
    th_expect_nothing(t);
    assert_int_equal(th_stat(t, SP_STAT_drop_tcp_table_full), 1);
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
        cmocka_unit_test(test_time_wait_leaves_table),
        cmocka_unit_test(test_time_wait_refin_acked_and_expiry),
        cmocka_unit_test(test_time_wait_other_segments),
        cmocka_unit_test(test_time_wait_rst_ignored),
        cmocka_unit_test(test_time_wait_held_rst_ignored),
        cmocka_unit_test(test_time_wait_old_syn_refused),
        cmocka_unit_test(test_time_wait_reused_iss_above),
        cmocka_unit_test(test_time_wait_timestamps_judge_syn),
        cmocka_unit_test(test_time_wait_full_evicts_oldest),
        cmocka_unit_test(test_time_wait_expiry_order),
        cmocka_unit_test(test_syncookie_completes),
        cmocka_unit_test(test_syncookie_mss_rounded_no_scale),
        cmocka_unit_test(test_syncookie_bad_ack_reset),
        cmocka_unit_test(test_syncookie_expires),
        cmocka_unit_test(test_stray_ack_without_cookies),
        cmocka_unit_test(test_syncookie_not_for_delegated),
        cmocka_unit_test(test_syncookie_table_full),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
