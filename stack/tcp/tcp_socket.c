/* The socket API of include/slowpath/tcp.h on top of the connection machinery. */
#include <stdlib.h>
#include <string.h>

#include "tcp_internal.h"

static const char *const state_names[] = {
    [SP_TCP_CLOSED] = "CLOSED",           [SP_TCP_LISTEN] = "LISTEN",
    [SP_TCP_SYN_SENT] = "SYN-SENT",       [SP_TCP_SYN_RECEIVED] = "SYN-RECEIVED",
    [SP_TCP_ESTABLISHED] = "ESTABLISHED", [SP_TCP_FIN_WAIT_1] = "FIN-WAIT-1",
    [SP_TCP_FIN_WAIT_2] = "FIN-WAIT-2",   [SP_TCP_CLOSING] = "CLOSING",
    [SP_TCP_TIME_WAIT] = "TIME-WAIT",     [SP_TCP_CLOSE_WAIT] = "CLOSE-WAIT",
    [SP_TCP_LAST_ACK] = "LAST-ACK",
};

const char *sp_tcp_state_name(enum sp_tcp_state s)
{
    return (unsigned)s < sizeof state_names / sizeof state_names[0] ? state_names[s] : "?";
}

int sp_tcp_listen(struct sp_iface *iface, uint16_t port, int backlog, sp_tcp_accept_cb cb, void *data,
                  struct sp_tcp **out)
{
    if (!iface || !iface->tcp || port == 0 || !out)
        return SP_EINVAL;
    struct sp_tcp_stack *tcp = iface->tcp;
    if (sp_tcp_find_listener(tcp, port))
        return SP_EADDRINUSE;
    struct sp_tcp *l = calloc(1, sizeof *l);
    if (!l)
        return SP_ENOBUFS;
    l->stack = tcp;
    l->state = SP_TCP_LISTEN;
    l->local_ip = iface->cfg.ip;
    l->local_port = port;
    l->backlog = backlog > 0 ? (uint32_t)backlog : tcp->cfg.backlog;
    l->rcvbuf = tcp->cfg.rcvbuf;
    l->sndbuf = tcp->cfg.sndbuf;
    l->cookie_at = SP_TIME_NEVER;
    l->accept_cb = cb;
    l->data = data;
    l->rtx_at = l->ack_at = l->close_at = SP_TIME_NEVER;
    l->hnext = tcp->listeners;
    tcp->listeners = l;
    *out = l;
    return 0;
}

static bool port_in_use(struct sp_tcp_stack *tcp, uint16_t port)
{
    if (sp_tcp_find_listener(tcp, port))
        return true;
    for (struct sp_tcp *c = tcp->all; c; c = c->all_next)
        if (c->local_port == port)
            return true;
    return false;
}

int sp_tcp_connect(struct sp_iface *iface, uint32_t ip, uint16_t port, const struct sp_tcp_callbacks *cbs,
                   void *data, struct sp_tcp **out)
{
    if (!iface || !iface->tcp || !out || port == 0 || ip == 0 || sp_ipv4_is_multicast(ip) ||
        sp_iface_is_broadcast(iface, ip))
        return SP_EINVAL;
    struct sp_tcp_stack *tcp = iface->tcp;
    uint16_t lport = 0;
    unsigned span = 65536u - SP_TCP_EPHEMERAL_FIRST;
    for (unsigned i = 0; i < span; i++) {
        uint16_t p = tcp->next_port;
        tcp->next_port = (uint16_t)(p == 0xffff ? SP_TCP_EPHEMERAL_FIRST : p + 1);
        if (!port_in_use(tcp, p) && !sp_tcp_tw_lookup(tcp, ip, port, p)) {
            lport = p;
            break;
        }
    }
    if (!lport)
        return SP_EADDRINUSE;
    struct sp_tcp *c = sp_tcp_conn_new(tcp, ip, port, lport, tcp->cfg.rcvbuf, tcp->cfg.sndbuf);
    if (!c)
        return SP_ENOBUFS;
    if (cbs)
        c->cb = *cbs;
    c->data = data;
    c->state = SP_TCP_SYN_SENT;
    *out = c;
    sp_tcp_enter(tcp);
    sp_tcp_send_syn(c, iface->now);
    sp_tcp_leave(tcp);
    return 0;
}

void sp_tcp_set_callbacks(struct sp_tcp *conn, const struct sp_tcp_callbacks *cbs, void *data)
{
    if (cbs)
        conn->cb = *cbs;
    else
        memset(&conn->cb, 0, sizeof conn->cb);
    conn->data = data;
}

void *sp_tcp_get_data(const struct sp_tcp *conn) { return conn->data; }
void sp_tcp_set_data(struct sp_tcp *conn, void *data) { conn->data = data; }
bool sp_tcp_get_nodelay(const struct sp_tcp *conn) { return conn->nodelay; }
uint32_t sp_tcp_get_rcvbuf(const struct sp_tcp *conn) { return conn->rcvbuf; }
uint32_t sp_tcp_get_sndbuf(const struct sp_tcp *conn) { return conn->sndbuf; }

void sp_tcp_set_nodelay(struct sp_tcp *conn, bool nodelay)
{
    bool release = nodelay && !conn->nodelay && conn->state != SP_TCP_LISTEN && !conn->dead;
    conn->nodelay = nodelay;
    if (release) {
        /* A small segment Nagle held back goes now, as setting TCP_NODELAY does on Linux. */
        sp_tcp_enter(conn->stack);
        sp_tcp_touch(conn);
        sp_tcp_output(conn, sp_tcp_iface(conn)->now);
        sp_tcp_leave(conn->stack);
    }
}

static uint32_t clamp_buf(uint32_t bytes)
{
    return bytes < SP_TCP_BUF_MIN ? SP_TCP_BUF_MIN : bytes > SP_TCP_BUF_MAX ? SP_TCP_BUF_MAX : bytes;
}

/* The receive buffer must hold the unread data, the out-of-order bytes past it and the window
 * already offered: a peer may send up to the edge it was given. */
static uint32_t rcv_bytes_needed(const struct sp_tcp *c)
{
    uint32_t need = c->rcv.len;
    if (c->ooo.n)
        need = c->rcv.len + (c->ooo.r[c->ooo.n - 1].end - c->rcv_nxt);
    if (sp_seq_gt(c->rcv_adv, c->rcv_nxt) && c->rcv.len + (c->rcv_adv - c->rcv_nxt) > need)
        need = c->rcv.len + (c->rcv_adv - c->rcv_nxt);
    return need;
}

int sp_tcp_set_rcvbuf(struct sp_tcp *c, uint32_t bytes)
{
    if (c->dead)
        return SP_ENOTCONN;
    bytes = clamp_buf(bytes);
    if (c->state != SP_TCP_LISTEN && c->rcv.cap) {
        uint32_t need = rcv_bytes_needed(c);
        if (bytes < need)
            return SP_EINVAL;
        uint32_t keep = need < c->rcv.cap ? need : c->rcv.cap;
        if (sp_tcp_ring_resize(&c->rcv, bytes, keep) < 0)
            return SP_ENOBUFS;
    }
    c->rcvbuf = bytes;
    return 0;
}

int sp_tcp_set_sndbuf(struct sp_tcp *c, uint32_t bytes)
{
    if (c->dead)
        return SP_ENOTCONN;
    bytes = clamp_buf(bytes);
    if (c->state != SP_TCP_LISTEN && c->snd.cap) {
        if (bytes < c->snd.len)
            return SP_EINVAL;
        if (sp_tcp_ring_resize(&c->snd, bytes, c->snd.len) < 0)
            return SP_ENOBUFS;
    }
    c->sndbuf = bytes;
    return 0;
}
enum sp_tcp_state sp_tcp_get_state(const struct sp_tcp *conn) { return conn->state; }
uint16_t sp_tcp_local_port(const struct sp_tcp *conn) { return conn->local_port; }

void sp_tcp_get_peer(const struct sp_tcp *conn, uint32_t *ip, uint16_t *port)
{
    if (ip)
        *ip = conn->remote_ip;
    if (port)
        *port = conn->remote_port;
}

static bool may_send(const struct sp_tcp *c)
{
    return !c->fin_queued && (c->state == SP_TCP_ESTABLISHED || c->state == SP_TCP_CLOSE_WAIT);
}

size_t sp_tcp_send_space(const struct sp_tcp *conn)
{
    return may_send(conn) ? sp_tcp_ring_room(&conn->snd) : 0;
}

size_t sp_tcp_send_pending(const struct sp_tcp *conn) { return conn->snd.len; }

long sp_tcp_send(struct sp_tcp *c, const void *data, size_t len)
{
    if (c->dead || c->state == SP_TCP_CLOSED || c->state == SP_TCP_LISTEN)
        return SP_ENOTCONN;
    if (!may_send(c))
        return SP_ESTATE;
    uint32_t room = sp_tcp_ring_free_space(&c->snd);
    uint32_t n = len < room ? (uint32_t)len : room;
    if (n == 0)
        return len ? SP_EAGAIN : 0;
    n = sp_tcp_snd_reserve(c, n);
    if (n == 0)
        return SP_ENOBUFS;
    sp_tcp_ring_write_at(&c->snd, 0, data, n);
    sp_tcp_ring_commit(&c->snd, n);
    sp_tcp_enter(c->stack);
    sp_tcp_touch(c);
    sp_tcp_output_later(c, sp_tcp_iface(c)->now);   /* in a batch: with the rest, at its end */
    sp_tcp_leave(c->stack);
    return (long)n;
}

size_t sp_tcp_recv_pending(const struct sp_tcp *conn) { return conn->rcv.len; }

/* After the application read: announce the window when what the peer still may send has become
 * small and reading at least doubled it by a full segment or more (in the spirit of Linux's
 * cleanup_rbuf; receiver silly-window avoidance, RFC 1122 4.2.3.3). */
static void maybe_window_update(struct sp_tcp *c)
{
    if (c->state != SP_TCP_ESTABLISHED && c->state != SP_TCP_FIN_WAIT_1 && c->state != SP_TCP_FIN_WAIT_2)
        return;
    uint8_t sh = c->wscale_ok ? c->rcv_wscale : 0;
    uint32_t w = sp_tcp_rcv_wnd(c);
    if ((w >> sh) > 0xffff)
        w = 0xffffu << sh;
    w = (w >> sh) << sh;
    uint32_t left = sp_seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
    uint32_t mss = (uint32_t)(sp_tcp_iface(c)->mtu - SP_IPV4_MIN_HDR_LEN - SP_TCP_MIN_HDR_LEN);
    uint32_t step = c->rcv.cap / 2 < mss ? c->rcv.cap / 2 : mss;
    if (left <= c->rcv.cap / 2 && w >= 2 * left && w - left >= step) {
        c->ack_now = true;
        sp_tcp_enter(c->stack);
        sp_tcp_touch(c);
        sp_tcp_output(c, sp_tcp_iface(c)->now);
        sp_tcp_leave(c->stack);
    }
}

long sp_tcp_recv(struct sp_tcp *c, void *buf, size_t cap)
{
    if (c->dead)
        return c->close_status ? c->close_status : SP_ENOTCONN;
    if (c->rcv.len == 0) {
        if (c->rfin)
            return 0;
        if (c->state == SP_TCP_CLOSED || c->state == SP_TCP_LISTEN)
            return SP_ENOTCONN;
        return SP_EAGAIN;
    }
    uint32_t n = cap < c->rcv.len ? (uint32_t)cap : c->rcv.len;
    sp_tcp_ring_peek(&c->rcv, 0, buf, n);
    sp_tcp_ring_consume(&c->rcv, n);
    maybe_window_update(c);
    return (long)n;
}

int sp_tcp_shutdown(struct sp_tcp *c)
{
    if (c->dead)
        return SP_ENOTCONN;
    if (c->fin_queued)
        return 0;
    switch (c->state) {
    case SP_TCP_SYN_SENT:
    case SP_TCP_SYN_RECEIVED:
        c->fin_queued = true;   /* sent once the connection is established */
        return 0;
    case SP_TCP_ESTABLISHED:
        c->state = SP_TCP_FIN_WAIT_1;
        break;
    case SP_TCP_CLOSE_WAIT:
        c->state = SP_TCP_LAST_ACK;
        break;
    default:
        return SP_ESTATE;
    }
    c->fin_queued = true;
    sp_tcp_enter(c->stack);
    sp_tcp_touch(c);
    sp_tcp_output(c, sp_tcp_iface(c)->now);
    sp_tcp_leave(c->stack);
    return 0;
}

static void close_listener(struct sp_tcp *l)
{
    struct sp_tcp_stack *tcp = l->stack;
    for (struct sp_tcp **p = &tcp->listeners; *p; p = &(*p)->hnext)
        if (*p == l) {
            *p = l->hnext;
            break;
        }
    /* Handshakes in progress lose their listener: they are reset when they complete. One whose
     * SYN is still with a decider has told the peer nothing: it goes at once, with its decision. */
    for (struct sp_tcp *c = tcp->all, *next; c; c = next) {
        next = c->all_next;
        if (c->listener != l)
            continue;
        c->listener = NULL;
        if (c->deciding)
            sp_tcp_conn_finish(c, SP_ECONNRESET);
    }
    l->dead = true;
    l->reap_next = tcp->reap;
    tcp->reap = l;
}

void sp_tcp_abort(struct sp_tcp *c)
{
    if (!c || c->dead)
        return;
    struct sp_tcp_stack *tcp = c->stack;
    sp_tcp_enter(tcp);
    if (c->state == SP_TCP_LISTEN) {
        close_listener(c);
    } else {
        c->app_closed = true;
        if (c->state != SP_TCP_SYN_SENT && c->state != SP_TCP_TIME_WAIT && c->state != SP_TCP_CLOSED)
            sp_tcp_send_rst(c, sp_tcp_iface(c)->now);
        sp_tcp_conn_finish(c, SP_ECONNRESET);
    }
    sp_tcp_leave(tcp);
}

void sp_tcp_close(struct sp_tcp *c)
{
    if (!c || c->dead)
        return;
    if (c->state == SP_TCP_LISTEN || c->state == SP_TCP_SYN_SENT || c->rcv.len > 0) {
        /* Unread data would be lost silently: the peer hears about it (RFC 2525 2.17). */
        sp_tcp_abort(c);
        return;
    }
    struct sp_tcp_stack *tcp = c->stack;
    sp_tcp_enter(tcp);
    sp_tcp_touch(c);
    c->app_closed = true;
    memset(&c->cb, 0, sizeof c->cb);
    switch (c->state) {
    case SP_TCP_ESTABLISHED:
    case SP_TCP_CLOSE_WAIT:
    case SP_TCP_SYN_RECEIVED:
        sp_tcp_shutdown(c);
        break;
    case SP_TCP_FIN_WAIT_2:
        c->close_at = sp_tcp_iface(c)->now + SP_TCP_FIN_WAIT_2_TIMEOUT_MS;
        break;
    case SP_TCP_TIME_WAIT:
        sp_tcp_tw_adopt(c, sp_tcp_iface(c)->now);   /* only the pair is left to guard */
        break;
    default:
        break;
    }
    sp_tcp_leave(tcp);
}
