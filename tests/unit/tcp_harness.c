/* The TCP scenario harness (tcp_harness.h). */
#include "tcp_harness.h"

int th_capture(void *ctx, sp_time_t now, struct sp_ip_packet *pkt)
{
    (void)now;
    struct th *t = ctx;
    assert_true(t->nout < MAX_OUT);
    assert_int_equal(pkt->kind, SP_L4_TCP);
    struct out_seg *o = &t->out[t->nout++];
    o->ip = pkt->ip;
    o->tcp = pkt->l4.tcp;
    assert_true(o->tcp.payload_len <= sizeof o->data);
    if (o->tcp.payload_len)
        memcpy(o->data, o->tcp.payload, o->tcp.payload_len);
    o->tcp.payload = o->data;
    return 0;
}

void th_on_readable(struct sp_tcp *c)
{
    struct th *t = sp_tcp_get_data(c);
    t->readable++;
    if (t->auto_read) {
        long n;
        while ((n = sp_tcp_recv(c, t->rx + t->rx_len, sizeof t->rx - t->rx_len)) > 0)
            t->rx_len += (size_t)n;
    }
}

void th_on_writable(struct sp_tcp *c)
{
    ((struct th *)sp_tcp_get_data(c))->writable++;
}

void th_on_connect(struct sp_tcp *c, int status)
{
    struct th *t = sp_tcp_get_data(c);
    t->connected++;
    t->connect_status = status;
}

void th_on_close(struct sp_tcp *c, int status)
{
    struct th *t = sp_tcp_get_data(c);
    t->closed++;
    t->close_status = status;
    if (t->conn == c)
        t->conn = NULL;
}

const struct sp_tcp_callbacks th_cbs = {
    .on_connect = th_on_connect,
    .on_readable = th_on_readable,
    .on_writable = th_on_writable,
    .on_close = th_on_close,
};

void th_on_accept(struct sp_tcp *l, struct sp_tcp *c)
{
    struct th *t = sp_tcp_get_data(l);
    t->accepts++;
    t->conn = c;
    sp_tcp_set_callbacks(c, &th_cbs, t);
}

struct sp_tcp_config th_tcp_cfg(void)
{
    return (struct sp_tcp_config){.rcvbuf = TH_BUF, .sndbuf = TH_BUF};
}

struct th *th_open_cfg(int backlog, const struct sp_tcp_config *tc)
{
    struct th *t = test_calloc(1, sizeof *t);
    assert_non_null(t);
    t->dev = sp_mem_open(1500, 64);
    assert_non_null(t->dev);
    struct sp_iface_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.mac = (struct sp_mac){{0x02, 0, 0, 0, 0, 0x02}};
    cfg.ip = US_IP;
    cfg.prefix_len = 24;
    cfg.secret = 0x0123456789abcdefull;
    cfg.tcp = tc ? *tc : th_tcp_cfg();
    t->now = T0;
    t->iface = sp_iface_new(&cfg, t->dev, T0);
    assert_non_null(t->iface);
    sp_tcp_set_output(t->iface->tcp, th_capture, t);
    if (backlog >= 0)
        assert_int_equal(sp_tcp_listen(t->iface, US_PORT, backlog, th_on_accept, t, &t->listener), 0);
    return t;
}

struct th *th_open_backlog(int backlog)
{
    return th_open_cfg(backlog, NULL);
}

void th_check_poll_at(struct th *t)
{
    struct sp_tcp_stack *tcp = t->iface->tcp;
    sp_time_t scan = sp_tcp_tw_poll_at(tcp);
    for (const struct sp_tcp *c = tcp->all; c; c = c->all_next)
        scan = sp_time_min(scan, sp_tcp_conn_poll_at(c));
    assert_int_equal(sp_tcp_poll_at(tcp), scan);
}

struct th *th_open(void)
{
    return th_open_backlog(0);
}

void th_close(struct th *t)
{
    sp_iface_free(t->iface);
    sp_device_close(t->dev);
    test_free(t);
}

void th_send_ex(struct th *t, sp_time_t now, uint8_t flags, uint32_t seq, uint32_t ack,
                uint16_t win, const void *data, size_t len, struct seg_opts o)
{
    struct sp_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.src_port = o.sport ? o.sport : PEER_PORT;
    r.dst_port = o.dport ? o.dport : US_PORT;
    r.seq = PEER_ISN + seq;
    r.ack = (flags & SP_TCP_ACK) ? t->iss + ack : 0;
    r.flags = flags;
    r.window = win;
    r.mss = o.mss;
    r.wscale = o.wscale;
    r.sack_perm = o.sack_perm;
    r.has_timestamp = o.ts;
    r.ts_val = o.ts ? 12345 : 0;
    r.payload = data;
    r.payload_len = len;
    static uint8_t buf[70000];
    size_t n = sp_tcp_repr_buffer_len(&r);
    assert_true(n <= sizeof buf);
    sp_tcp_repr_emit(&r, PEER_IP, US_IP, buf);
    if (o.corrupt)
        buf[n - 1] ^= 0x40;
    struct sp_ipv4_repr ip;
    memset(&ip, 0, sizeof ip);
    ip.src = PEER_IP;
    ip.dst = US_IP;
    ip.protocol = SP_IP_PROTO_TCP;
    ip.ttl = 64;
    ip.payload_len = (uint16_t)n;
    t->now = now;
    sp_tcp_input(t->iface->tcp, now, &ip, buf, n);
    th_check_poll_at(t);
}

void th_send(struct th *t, sp_time_t now, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
             const void *data, size_t len)
{
    th_send_ex(t, now, flags, seq, ack, win, data, len, NO_OPTS);
}

void th_advance(struct th *t, sp_time_t now)
{
    for (;;) {
        th_check_poll_at(t);
        sp_time_t at = sp_tcp_poll_at(t->iface->tcp);
        if (at > now)
            break;
        t->now = at;
        sp_iface_set_now(t->iface, at);
        sp_tcp_poll(t->iface->tcp, at);
    }
    t->now = now;
    sp_iface_set_now(t->iface, now);
}

struct out_seg *th_take(struct th *t)
{
    if (t->taken >= t->nout)
        fail_msg("expected a segment, none was sent");
    return &t->out[t->taken++];
}

struct out_seg *th_expect(struct th *t, uint8_t flags, uint32_t seq, uint32_t ack, long win,
                          size_t len)
{
    struct out_seg *o = th_take(t);
    assert_int_equal(o->ip.src, US_IP);
    assert_int_equal(o->ip.dst, PEER_IP);
    assert_int_equal(o->ip.protocol, SP_IP_PROTO_TCP);
    assert_int_equal(o->tcp.flags, flags);
    assert_int_equal(o->tcp.seq - t->iss, seq);
    if (flags & SP_TCP_ACK)
        assert_int_equal(o->tcp.ack - PEER_ISN, ack);
    if (win >= 0)
        assert_int_equal(o->tcp.window, win);
    assert_int_equal(o->tcp.payload_len, len);
    return o;
}

void th_expect_nothing(struct th *t)
{
    if (t->taken < t->nout)
        fail_msg("unexpected segment flags %#x seq %u", t->out[t->taken].tcp.flags,
                 t->out[t->taken].tcp.seq - t->iss);
}

uint64_t th_stat(struct th *t, enum sp_stat s)
{
    return sp_iface_stats(t->iface)->v[s];
}

struct out_seg *th_syn(struct th *t, sp_time_t now, struct seg_opts o)
{
    th_send_ex(t, now, SP_TCP_SYN, 0, 0, 64240, NULL, 0, o);
    struct out_seg *s = th_take(t);
    assert_int_equal(s->tcp.flags, SP_TCP_SYN | SP_TCP_ACK);
    t->iss = s->tcp.seq;
    assert_int_equal(s->tcp.ack, PEER_ISN + 1);
    return s;
}

void th_establish_win(struct th *t, uint16_t win)
{
    th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 0});
    th_send(t, T0, SP_TCP_ACK, 1, 1, win, NULL, 0);
    assert_non_null(t->conn);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    th_expect_nothing(t);
}

void th_establish(struct th *t)
{
    th_establish_win(t, 65535);
}

void th_fill(uint8_t *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 7 + seed);
}
