/* Legal handshake decisions against a real Linux peer: the stack on a TAP device in a private
 * network namespace (unshare(CLONE_NEWNET), gone with this process), the kernel's sockets on the
 * other side, and a decider that answers from inside decide with the choices under test.
 *   - the kernel connects; the SYN-ACK carries the model's ISS (sequence numbers wrap within the
 *     first bytes), window, MSS and window scale; 200 KB go each way and every kernel segment
 *     stays within the MSS and the window we advertised, scaled as chosen;
 *   - refused (RST): the kernel's connect fails with ECONNREFUSED; ignored: it is still waiting;
 *     a closed port likewise (RST, or silence as a firewalled host);
 *   - the stack connects; its ACK carries the model's window, and the data goes through; refused,
 *     the application hears SP_ECONNREFUSED and the kernel's half-open connection is reset.
 * Skipped when not root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "slowpath/decide.h"
#include "slowpath/device.h"
#include "slowpath/iface.h"
#include "slowpath/tcp.h"
#include "tcp_internal.h"

#define TAP_NAME "splegal0"
#define HOST_IP 0xc0000201u  /* 192.0.2.1: the kernel */
#define STACK_IP 0xc0000202u /* 192.0.2.2: the stack */
#define PORT_LISTEN 7000
#define PORT_CLOSED 7001
#define PORT_KERNEL 7100
#define BULK (200u * 1024)
#define CHOSEN_ISS 0xffffff00u
#define CHOSEN_WINDOW 3000
#define CHOSEN_MSS 700
#define CHOSEN_WSCALE 4
#define ACK_WINDOW 1000

enum choice { C_ACCEPT, C_REFUSE, C_IGNORE };

/* The application on the stack's side: sends tx, keeps what it reads, closes when both are done. */
struct app {
    struct sp_tcp *conn;
    const uint8_t *tx;
    size_t tx_len, tx_off;
    uint8_t *rx;
    size_t rx_len;
    bool eof, closed;
    int connect_status;
    bool connected;
};

struct world {
    struct sp_device *dev;
    struct sp_iface *iface;
    enum choice choice;
    int asked;
    struct sp_decision_request req;     /* the last request asked */
    struct sp_decision_outcome out;     /* and what became of it */
    /* our segments, seen at the TCP output */
    bool saw_syn_ack;
    struct sp_tcp_repr syn_ack;
    uint32_t acks_seen, acks_scaled_ok;
    /* the kernel's segments, seen before the stack takes them */
    size_t max_payload;
    unsigned beyond_window;
    struct app app;
};

static struct world W;
static uint8_t bulk_out[BULK], bulk_in[BULK], kernel_rx[BULK + 1];

static sp_time_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (sp_time_t)ts.tv_sec * 1000 + (sp_time_t)(ts.tv_nsec / 1000000);
}

static void fill(uint8_t *b, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)(i * 31 + seed + (i >> 9));
}

/* --- The decider ---------------------------------------------------------------------------- */

static struct sp_decision_proposal choose(const struct sp_decision_request *r)
{
    struct sp_decision_proposal p = {.action = SP_PROPOSE_DROP, .tcp_wscale = -1, .next_state = r->hs_state};
    if (W.choice == C_IGNORE)
        return p;
    if (r->hs_state == SP_HS_LISTEN && W.choice == C_ACCEPT)
        return (struct sp_decision_proposal){.action = SP_PROPOSE_SYN_ACK, .tcp_seq = CHOSEN_ISS,
                                             .tcp_ack = r->tcp.seq + 1, .tcp_window = CHOSEN_WINDOW,
                                             .tcp_mss = CHOSEN_MSS,
                                             .tcp_wscale = r->tcp.wscale >= 0 ? CHOSEN_WSCALE : -1,
                                             .next_state = SP_HS_SYN_RECEIVED};
    if (r->hs_state == SP_HS_SYN_SENT && W.choice == C_ACCEPT)
        return (struct sp_decision_proposal){.action = SP_PROPOSE_ACK, .tcp_seq = r->iss + 1,
                                             .tcp_ack = r->tcp.seq + 1, .tcp_window = ACK_WINDOW,
                                             .tcp_wscale = -1, .next_state = SP_HS_ESTABLISHED};
    if (r->hs_state == SP_HS_SYN_SENT)
        return (struct sp_decision_proposal){.action = SP_PROPOSE_RST, .tcp_seq = r->tcp.ack,
                                             .next_state = SP_HS_CLOSED};
    /* Refusing a SYN, in LISTEN or to a closed port: <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>. */
    return (struct sp_decision_proposal){.action = SP_PROPOSE_RST, .tcp_seq = 0, .tcp_ack = r->tcp.seq + 1,
                                         .next_state = r->hs_state == SP_HS_LISTEN ? SP_HS_LISTEN : SP_HS_CLOSED};
}

static int decide(void *ctx, const struct sp_decision_request *r)
{
    (void)ctx;
    W.asked++;
    W.req = *r;
    struct sp_decision_proposal p = choose(r);
    assert_int_equal(sp_decision_complete(W.iface, r->asked_at, r->id, 0, &p, &W.out), 0);
    return 0;
}

/* --- The stack's side ------------------------------------------------------------------------- */

static int tcp_out(void *ctx, sp_time_t now, struct sp_ip_packet *pkt)
{
    (void)ctx;
    const struct sp_tcp_repr *t = &pkt->l4.tcp;
    if (t->flags == (SP_TCP_SYN | SP_TCP_ACK)) {
        W.saw_syn_ack = true;
        W.syn_ack = *t;
    } else if ((t->flags & SP_TCP_ACK) && W.choice == C_ACCEPT && t->src_port == PORT_LISTEN) {
        /* Our windows are scaled by the chosen shift: the field is the free space >> 4, at most
         * 0xffff (a buffer larger than the shift can offer is offered in part). */
        struct sp_tcp *c = sp_tcp_lookup(W.iface->tcp, HOST_IP, t->dst_port, t->src_port);
        if (c && c->rcv.cap) { /* not once the buffers are given back (TIME-WAIT) */
            W.acks_seen++;
            uint32_t field = sp_tcp_rcv_wnd(c) >> CHOSEN_WSCALE;
            if (c->rcv_wscale == CHOSEN_WSCALE && t->window == (field > 0xffff ? 0xffff : field))
                W.acks_scaled_ok++;
        }
    }
    return sp_ip_output(W.iface, now, pkt);
}

static void app_push(struct app *a)
{
    while (a->conn && a->tx_off < a->tx_len) {
        long n = sp_tcp_send(a->conn, a->tx + a->tx_off, a->tx_len - a->tx_off);
        if (n <= 0)
            break;
        a->tx_off += (size_t)n;
    }
    if (a->conn && a->tx_off == a->tx_len && a->eof && !a->closed) {
        a->closed = true;
        sp_tcp_close(a->conn);
        a->conn = NULL;
    }
}

static void app_readable(struct sp_tcp *c)
{
    struct app *a = sp_tcp_get_data(c);
    long n;
    while ((n = sp_tcp_recv(c, a->rx + a->rx_len, BULK - a->rx_len)) > 0)
        a->rx_len += (size_t)n;
    if (n == 0)
        a->eof = true;
    app_push(a);
}

static void app_writable(struct sp_tcp *c) { app_push(sp_tcp_get_data(c)); }

static void app_connect(struct sp_tcp *c, int status)
{
    struct app *a = sp_tcp_get_data(c);
    a->connected = true;
    a->connect_status = status;
    if (status == 0)
        app_push(a);
}

static void app_close(struct sp_tcp *c, int status)
{
    (void)status;
    struct app *a = sp_tcp_get_data(c);
    if (a->conn == c)
        a->conn = NULL;
}

static const struct sp_tcp_callbacks app_cbs = {
    .on_connect = app_connect, .on_readable = app_readable, .on_writable = app_writable, .on_close = app_close,
};

static void on_accept(struct sp_tcp *l, struct sp_tcp *c)
{
    (void)l;
    W.app.conn = c;
    sp_tcp_set_callbacks(c, &app_cbs, &W.app);
    app_push(&W.app);
}

/* What the kernel sends: segments within the MSS we advertised, and never beyond the right edge
 * of the window we advertised (the stack has the edge as rcv_adv). */
static void inspect(const uint8_t *f, size_t len)
{
    struct sp_eth_view ev;
    struct sp_ipv4_view iv;
    struct sp_tcp_view tv;
    if (sp_eth_view_init(&ev, f, len) < 0 || sp_get16(f + 12) != SP_ETHERTYPE_IPV4 ||
        sp_ipv4_view_init(&iv, sp_eth_payload(&ev), sp_eth_payload_len(&ev)) < 0 ||
        sp_ipv4_protocol(&iv) != SP_IP_PROTO_TCP ||
        sp_tcp_view_init(&tv, sp_ipv4_payload(&iv), sp_ipv4_payload_len(&iv)) < 0)
        return;
    struct sp_tcp_repr t;
    if (sp_tcp_repr_parse(&tv, sp_ipv4_src(&iv), sp_ipv4_dst(&iv), &t) < 0 || t.dst_port != PORT_LISTEN)
        return;
    if (t.payload_len > W.max_payload)
        W.max_payload = t.payload_len;
    struct sp_tcp *c = sp_tcp_lookup(W.iface->tcp, HOST_IP, t.src_port, t.dst_port);
    if (c && t.payload_len &&
        sp_seq_gt(t.seq + (uint32_t)t.payload_len, c->rcv_adv))
        W.beyond_window++;
}

/* One turn of the loop: wait for the TAP, the kernel sockets or the stack's next timer (at most
 * wait_ms), then feed the stack what arrived and run its timers. */
static void turn(struct pollfd *fds, int nfds, int wait_ms)
{
    struct pollfd p[4];
    p[0] = (struct pollfd){.fd = sp_device_fd(W.dev), .events = POLLIN};
    for (int i = 0; i < nfds; i++)
        p[1 + i] = fds[i];
    sp_time_t now = now_ms(), at = sp_iface_poll_at(W.iface);
    if (at <= now)
        wait_ms = 0;
    else if (at - now < (sp_time_t)wait_ms)
        wait_ms = (int)(at - now);
    poll(p, (nfds_t)(1 + nfds), wait_ms);
    now = now_ms();
    uint8_t f[SP_MAX_FRAME];
    int n;
    while ((n = sp_device_recv(W.dev, f, sizeof f)) > 0) {
        inspect(f, (size_t)n);
        sp_iface_ingress(W.iface, now, f, (size_t)n);
    }
    sp_iface_poll(W.iface, now);
    for (int i = 0; i < nfds; i++)
        fds[i].revents = p[1 + i].revents;
}

/* Runs the loop for ms milliseconds. */
static void idle(int ms)
{
    sp_time_t end = now_ms() + (sp_time_t)ms;
    while (now_ms() < end)
        turn(NULL, 0, (int)(end - now_ms()));
}

static void configure_host(void)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s >= 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, TAP_NAME);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(HOST_IP);
    assert_int_equal(ioctl(s, SIOCSIFADDR, &ifr), 0);
    sin->sin_addr.s_addr = htonl(0xffffff00u);
    assert_int_equal(ioctl(s, SIOCSIFNETMASK, &ifr), 0);
    assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
    ifr.ifr_flags |= IFF_UP;
    assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
    close(s);
}

static bool open_world(void)
{
    if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0)
        return false;
    memset(&W, 0, sizeof W);
    char err[128] = "";
    W.dev = sp_tap_open(TAP_NAME, 1500, err, sizeof err);
    if (!W.dev)
        fail_msg("sp_tap_open: %s", err);
    configure_host();
    struct sp_iface_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.mac = (struct sp_mac){{0x02, 0, 0, 0, 0, 0x22}};
    cfg.ip = STACK_IP;
    cfg.prefix_len = 24;
    cfg.secret = 0x5eed5eed5eed5eedull;
    W.iface = sp_iface_new(&cfg, W.dev, now_ms());
    assert_non_null(W.iface);
    sp_tcp_set_output(W.iface->tcp, tcp_out, NULL);
    sp_iface_set_authority(W.iface, SP_AUTHORITY_LEGAL);
    struct sp_decider d = {.decide = decide};
    sp_iface_set_decider(W.iface, SP_DECISION_TCP, SP_DECIDE_DELEGATE, &d);
    return true;
}

static void close_world(void)
{
    sp_iface_free(W.iface);
    sp_device_close(W.dev);
}

static int kernel_connect(uint16_t port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(s >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(STACK_IP)};
    assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof a), -1);
    assert_int_equal(errno, EINPROGRESS);
    return s;
}

/* Waits up to ms for the kernel's connect to end; its SO_ERROR, or -1 while still in progress. */
static int connect_result(int s, int ms)
{
    sp_time_t end = now_ms() + (sp_time_t)ms;
    while (now_ms() < end) {
        struct pollfd k = {.fd = s, .events = POLLOUT};
        turn(&k, 1, 20);
        if (k.revents & (POLLOUT | POLLERR | POLLHUP)) {
            int e = 0;
            socklen_t l = sizeof e;
            assert_int_equal(getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &l), 0);
            return e;
        }
    }
    return -1;
}

/* --- The kernel connects --------------------------------------------------------------------- */

/* The kernel sends BULK bytes and shuts its side; the stack sends BULK bytes back and closes once
 * it has read everything. Returns when the kernel has read our EOF. */
static void exchange(int s)
{
    size_t sent = 0, got = 0;
    bool shut = false, eof = false;
    sp_time_t end = now_ms() + 20000;
    while (!eof && now_ms() < end) {
        struct pollfd k = {.fd = s, .events = POLLIN | (sent < BULK ? POLLOUT : 0)};
        turn(&k, 1, 20);
        if ((k.revents & POLLOUT) && sent < BULK) {
            ssize_t n = send(s, bulk_out + sent, BULK - sent, MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
        }
        if (sent == BULK && !shut) {
            assert_int_equal(shutdown(s, SHUT_WR), 0);
            shut = true;
        }
        if (k.revents & (POLLIN | POLLHUP)) {
            ssize_t n;
            while ((n = recv(s, kernel_rx + got, sizeof kernel_rx - got, 0)) > 0)
                got += (size_t)n;
            if (n == 0)
                eof = true;
        }
    }
    assert_true(eof);
    assert_int_equal(got, BULK);
    assert_memory_equal(kernel_rx, bulk_in, BULK);
}

static void test_kernel_connects_legal_accept(void **state)
{
    (void)state;
    if (!open_world()) {
        print_message("needs root for a private network namespace: skipped\n");
        skip();
    }
    struct sp_tcp *l = NULL;
    assert_int_equal(sp_tcp_listen(W.iface, PORT_LISTEN, 4, on_accept, NULL, &l), 0);
    fill(bulk_out, BULK, 1);
    fill(bulk_in, BULK, 2);
    static uint8_t app_rx[BULK];
    W.app = (struct app){.tx = bulk_in, .tx_len = BULK, .rx = app_rx};
    W.choice = C_ACCEPT;

    int s = kernel_connect(PORT_LISTEN);
    assert_int_equal(connect_result(s, 5000), 0);
    assert_int_equal(W.asked, 1);
    assert_int_equal(W.req.hs_state, SP_HS_LISTEN);
    assert_int_equal(W.req.authority, SP_AUTHORITY_LEGAL);
    assert_int_equal(W.out.verdict, SP_VERDICT_VALID);
    assert_true(W.out.emitted);
    assert_true(W.out.deviations & (1u << SP_DEVIATION_ISS));
    /* The SYN-ACK carried what was chosen. */
    assert_true(W.saw_syn_ack);
    assert_int_equal(W.syn_ack.seq, CHOSEN_ISS);
    assert_int_equal(W.syn_ack.window, CHOSEN_WINDOW);
    assert_int_equal(W.syn_ack.mss, CHOSEN_MSS);
    assert_int_equal(W.syn_ack.wscale, W.req.tcp.wscale >= 0 ? CHOSEN_WSCALE : -1);

    exchange(s);
    close(s);
    idle(50);
    assert_int_equal(W.app.rx_len, BULK);
    assert_true(W.app.eof);
    assert_memory_equal(app_rx, bulk_out, BULK);
    /* The kernel kept to the MSS and the window we advertised, and our windows were scaled by the
     * chosen shift whenever the peer scales (Linux offers a scale by default). */
    assert_true(W.max_payload > 0 && W.max_payload <= CHOSEN_MSS);
    assert_int_equal(W.beyond_window, 0);
    if (W.req.tcp.wscale >= 0) {
        assert_true(W.acks_seen > 10);
        assert_int_equal(W.acks_scaled_ok, W.acks_seen);
    }
    close_world();
}

static void test_kernel_connects_refused_or_ignored(void **state)
{
    (void)state;
    if (!open_world()) {
        print_message("needs root for a private network namespace: skipped\n");
        skip();
    }
    struct sp_tcp *l = NULL;
    assert_int_equal(sp_tcp_listen(W.iface, PORT_LISTEN, 4, on_accept, NULL, &l), 0);

    W.choice = C_REFUSE;
    int s = kernel_connect(PORT_LISTEN);
    assert_int_equal(connect_result(s, 5000), ECONNREFUSED);
    assert_int_equal(W.out.deviations, 1u << SP_DEVIATION_ACTION);
    assert_int_equal(W.iface->tcp->nconns, 0);
    close(s);

    W.choice = C_IGNORE;
    s = kernel_connect(PORT_LISTEN);
    assert_int_equal(connect_result(s, 300), -1); /* no answer: still trying */
    assert_int_equal(W.out.deviations, 1u << SP_DEVIATION_SILENCE);
    assert_int_equal(W.iface->tcp->nconns, 0);
    assert_int_equal(l->pending, 0);
    close(s);

    /* A closed port: silence as a firewalled host, or the reset. */
    s = kernel_connect(PORT_CLOSED);
    assert_int_equal(connect_result(s, 300), -1);
    assert_int_equal(W.req.hs_state, SP_HS_CLOSED);
    assert_int_equal(W.out.deviations, 1u << SP_DEVIATION_SILENCE);
    close(s);
    W.choice = C_REFUSE;
    s = kernel_connect(PORT_CLOSED);
    assert_int_equal(connect_result(s, 5000), ECONNREFUSED);
    assert_int_equal(W.req.hs_state, SP_HS_CLOSED);
    assert_int_equal(W.out.deviations, 0);
    close(s);
    close_world();
}

/* --- The stack connects ------------------------------------------------------------------------ */

static int kernel_listen(void)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_true(s >= 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(PORT_KERNEL), .sin_addr.s_addr = htonl(HOST_IP)};
    assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s, 4), 0);
    return s;
}

static void test_stack_connects_legal(void **state)
{
    (void)state;
    if (!open_world()) {
        print_message("needs root for a private network namespace: skipped\n");
        skip();
    }
    int ls = kernel_listen();
    fill(bulk_in, BULK, 3);
    W.app = (struct app){.tx = bulk_in, .tx_len = BULK, .eof = true};
    W.choice = C_ACCEPT;
    assert_int_equal(sp_tcp_connect(W.iface, HOST_IP, PORT_KERNEL, &app_cbs, &W.app, &W.app.conn), 0);
    int as = -1;
    size_t got = 0;
    bool eof = false;
    sp_time_t end = now_ms() + 20000;
    while (!eof && now_ms() < end) {
        struct pollfd k[2] = {{.fd = ls, .events = POLLIN}, {.fd = as, .events = POLLIN}};
        turn(k, as >= 0 ? 2 : 1, 20);
        if (as < 0 && (k[0].revents & POLLIN))
            as = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
        if (as >= 0) {
            ssize_t n;
            while ((n = recv(as, kernel_rx + got, sizeof kernel_rx - got, 0)) > 0)
                got += (size_t)n;
            if (n == 0)
                eof = true;
        }
    }
    assert_true(W.app.connected);
    assert_int_equal(W.app.connect_status, 0);
    assert_int_equal(W.req.hs_state, SP_HS_SYN_SENT);
    assert_int_equal(W.out.verdict, SP_VERDICT_VALID);
    assert_int_equal(W.out.chosen.window, ACK_WINDOW);
    assert_true(eof);
    assert_int_equal(got, BULK);
    assert_memory_equal(kernel_rx, bulk_in, BULK);
    close(as);

    /* Refused: our RST resets the kernel's half-open connection; nothing is ever accepted. */
    W.choice = C_REFUSE;
    W.app = (struct app){.tx = bulk_in, .tx_len = 0};
    assert_int_equal(sp_tcp_connect(W.iface, HOST_IP, PORT_KERNEL, &app_cbs, &W.app, &W.app.conn), 0);
    sp_time_t stop = now_ms() + 300;
    while (now_ms() < stop && !W.app.connected)
        turn(NULL, 0, 20);
    assert_true(W.app.connected);
    assert_int_equal(W.app.connect_status, SP_ECONNREFUSED);
    assert_int_equal(W.out.deviations, 1u << SP_DEVIATION_ACTION);
    idle(200);
    assert_int_equal(accept4(ls, NULL, NULL, SOCK_NONBLOCK), -1);
    assert_int_equal(errno, EAGAIN);
    close(ls);
    close_world();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernel_connects_legal_accept),
        cmocka_unit_test(test_kernel_connects_refused_or_ignored),
        cmocka_unit_test(test_stack_connects_legal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
