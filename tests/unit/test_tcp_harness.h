/* Scenario harness for the TCP tests, in the style of smoltcp's tcp.rs tests: feed one segment at
 * time T, then assert the exact segment(s) the stack answered. No device path: segments go
 * straight into sp_tcp_input and leave through the TCP output hook, captured as reprs.
 * Sequence numbers in the helpers are relative: the peer's to PEER_ISN, ours to the ISS we
 * learned from our first SYN or SYN-ACK. Header-only: each test program links itself alone. */
#ifndef SP_TEST_TCP_HARNESS_H
#define SP_TEST_TCP_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slowpath/device.h"
#include "slowpath/error.h"
#include "slowpath/iface.h"
#include "slowpath/tcp.h"
#include "tcp_internal.h"

#define US_IP 0xc0000202u      /* 192.0.2.2 */
#define PEER_IP 0xc0000201u    /* 192.0.2.1 */
#define US_PORT 80
#define PEER_PORT 40000
#define PEER_ISN 1000000u
#define T0 10000u
#define MAX_OUT 256
#define OUR_MSS 1460
#define TH_BUF 65536           /* the buffer sizes the scenarios run with (th_open_cfg) */

struct out_seg {
    struct sp_ipv4_repr ip;
    struct sp_tcp_repr tcp;
    uint8_t data[2048];
};

struct th {
    struct sp_device *dev;
    struct sp_iface *iface;
    struct sp_tcp *listener;
    struct sp_tcp *conn;        /* the accepted or connecting connection */
    uint32_t iss;               /* ours */
    sp_time_t now;
    unsigned nout, taken;
    struct out_seg out[MAX_OUT];
    /* events */
    int accepts, readable, writable, connected, closed;
    int connect_status, close_status;
    bool auto_read;             /* on_readable reads everything into rx */
    size_t rx_len;
    uint8_t rx[200000];
};

static inline int th_capture(void *ctx, sp_time_t now, struct sp_ip_packet *pkt)
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

static inline void th_on_readable(struct sp_tcp *c)
{
    struct th *t = sp_tcp_get_data(c);
    t->readable++;
    if (t->auto_read) {
        long n;
        while ((n = sp_tcp_recv(c, t->rx + t->rx_len, sizeof t->rx - t->rx_len)) > 0)
            t->rx_len += (size_t)n;
    }
}
static inline void th_on_writable(struct sp_tcp *c) { ((struct th *)sp_tcp_get_data(c))->writable++; }
static inline void th_on_connect(struct sp_tcp *c, int status)
{
    struct th *t = sp_tcp_get_data(c);
    t->connected++;
    t->connect_status = status;
}
static inline void th_on_close(struct sp_tcp *c, int status)
{
    struct th *t = sp_tcp_get_data(c);
    t->closed++;
    t->close_status = status;
    if (t->conn == c)
        t->conn = NULL;
}

static const struct sp_tcp_callbacks th_cbs = {
    .on_connect = th_on_connect,
    .on_readable = th_on_readable,
    .on_writable = th_on_writable,
    .on_close = th_on_close,
};

static inline void th_on_accept(struct sp_tcp *l, struct sp_tcp *c)
{
    struct th *t = sp_tcp_get_data(l);
    t->accepts++;
    t->conn = c;
    sp_tcp_set_callbacks(c, &th_cbs, t);
}

/* The TCP configuration the scenarios run with: 64 KiB buffers whatever opts.h says (the windows
 * the tests expect are written for them), everything else opts.h's. */
static inline struct sp_tcp_config th_tcp_cfg(void)
{
    return (struct sp_tcp_config){.rcvbuf = TH_BUF, .sndbuf = TH_BUF};
}

/* An interface on a memory device whose TCP output is captured, with TCP configured by tc (NULL:
 * th_tcp_cfg()); listening on US_PORT when backlog >= 0. */
static inline struct th *th_open_cfg(int backlog, const struct sp_tcp_config *tc)
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
static inline struct th *th_open_backlog(int backlog) { return th_open_cfg(backlog, NULL); }
static inline struct th *th_open(void) { return th_open_backlog(0); }

static inline void th_close(struct th *t)
{
    sp_iface_free(t->iface);
    sp_device_close(t->dev);
    test_free(t);
}

/* poll_at comes from the stack's timer heap; it must equal the earliest deadline of every
 * connection and TIME-WAIT entry, scanned: checked after every step the harness takes, so an
 * entry point that changed timers without touching its connection fails its scenario. */
static inline void th_check_poll_at(struct th *t)
{
    struct sp_tcp_stack *tcp = t->iface->tcp;
    sp_time_t scan = sp_tcp_tw_poll_at(tcp);
    for (const struct sp_tcp *c = tcp->all; c; c = c->all_next)
        scan = sp_time_min(scan, sp_tcp_conn_poll_at(c));
    assert_int_equal(sp_tcp_poll_at(tcp), scan);
}

/* --- feeding segments ------------------------------------------------------------------------ */

struct seg_opts {
    uint16_t mss;       /* 0: none */
    int8_t wscale;      /* -1: none */
    bool sack_perm, ts;
    uint16_t sport, dport;
    bool corrupt;
};
#define NO_OPTS ((struct seg_opts){.wscale = -1})

/* Sends one segment from the peer at time now; seq relative to PEER_ISN, ack relative to our ISS. */
static inline void th_send_ex(struct th *t, sp_time_t now, uint8_t flags, uint32_t seq, uint32_t ack,
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

static inline void th_send(struct th *t, sp_time_t now, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
                           const void *data, size_t len)
{
    th_send_ex(t, now, flags, seq, ack, win, data, len, NO_OPTS);
}

/* Runs the timers up to `now` the way the loop does: at every poll_at on the way. */
static inline void th_advance(struct th *t, sp_time_t now)
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

/* --- asserting what went out ------------------------------------------------------------------ */

static inline struct out_seg *th_take(struct th *t)
{
    if (t->taken >= t->nout)
        fail_msg("expected a segment, none was sent");
    return &t->out[t->taken++];
}

/* The next segment: exact flags, seq relative to our ISS, ack relative to PEER_ISN (when ACK is
 * set), payload length; window checked when win >= 0. */
static inline struct out_seg *th_expect(struct th *t, uint8_t flags, uint32_t seq, uint32_t ack, long win,
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

static inline void th_expect_nothing(struct th *t)
{
    if (t->taken < t->nout)
        fail_msg("unexpected segment flags %#x seq %u", t->out[t->taken].tcp.flags,
                 t->out[t->taken].tcp.seq - t->iss);
}

static inline uint64_t th_stat(struct th *t, enum sp_stat s) { return sp_iface_stats(t->iface)->v[s]; }

/* --- common openings ---------------------------------------------------------------------------- */

/* SYN from the peer (MSS 1460, WS 7 unless opts given) -> our SYN-ACK, learning our ISS. */
static inline struct out_seg *th_syn(struct th *t, sp_time_t now, struct seg_opts o)
{
    th_send_ex(t, now, SP_TCP_SYN, 0, 0, 64240, NULL, 0, o);
    struct out_seg *s = th_take(t);
    assert_int_equal(s->tcp.flags, SP_TCP_SYN | SP_TCP_ACK);
    t->iss = s->tcp.seq;
    assert_int_equal(s->tcp.ack, PEER_ISN + 1);
    return s;
}

/* A full passive open at T0 with the peer's window `win` (WS 0 so the window is unscaled). */
static inline void th_establish_win(struct th *t, uint16_t win)
{
    th_syn(t, T0, (struct seg_opts){.mss = 1460, .wscale = 0});
    th_send(t, T0, SP_TCP_ACK, 1, 1, win, NULL, 0);
    assert_non_null(t->conn);
    assert_int_equal(sp_tcp_get_state(t->conn), SP_TCP_ESTABLISHED);
    th_expect_nothing(t);
}
static inline void th_establish(struct th *t) { th_establish_win(t, 65535); }

static inline void th_fill(uint8_t *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)(i * 7 + seed);
}

#endif
