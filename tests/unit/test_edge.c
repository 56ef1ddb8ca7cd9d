/* The loop edge on a real uv loop: frames arrive through a polled fd, and the one timer follows
 * the stack's deadlines whoever gave the stack its work - a decision completed from a timer of
 * the decider's own (as the LLM client does), or a socket call from an application's timer.
 * Durations are measured with uv_hrtime and compared with wide margins only: what the tests
 * tell apart is "about one RTO" from "the stale deadline tens of seconds away". */
#include <sys/eventfd.h>
#include <unistd.h>
#include <uv.h>

#include "iface_harness.h"
#include "slowpath/decide.h"
#include "slowpath/edge.h"
#include "slowpath/tcp.h"
#include "slowpath/wire/tcp.h"

#define US_PORT 80
#define PEER_PORT 40000
#define PEER_ISN 1000000u
#define ANSWER_MS 50          /* the decider's thinking time */
#define STALE_TIMEOUT_MS 30000 /* the decision timeout: where a timer left unarmed would wake */
#define WAIT_MS 8000          /* how long a test waits for a frame before it fails */

/* --- A device with a pollable fd: a memory device plus an eventfd that says "frames wait" ---- */

struct efd_dev {
    struct sp_device dev; /* first: the device pointer is the struct pointer */
    struct sp_device *mem;
    int efd;
    int fail;             /* recv gives this error when set */
};

static int efd_recv(struct sp_device *d, uint8_t *buf, size_t cap)
{
    struct efd_dev *x = (struct efd_dev *)d;
    if (x->fail)
        return x->fail;
    int n = sp_device_recv(x->mem, buf, cap);
    if (n == SP_EAGAIN) { /* drained: the fd stops polling readable */
        uint64_t v;
        assert_int_equal(read(x->efd, &v, sizeof v), (ssize_t)sizeof v);
    }
    return n;
}

static int efd_send(struct sp_device *d, const uint8_t *frame, size_t len)
{
    return sp_device_send(((struct efd_dev *)d)->mem, frame, len);
}

static int efd_fd(const struct sp_device *d) { return ((const struct efd_dev *)d)->efd; }

static void efd_close(struct sp_device *d)
{
    struct efd_dev *x = (struct efd_dev *)d;
    close(x->efd);
    sp_device_close(x->mem);
    test_free(x);
}

static const struct sp_device_ops efd_ops = {.recv = efd_recv, .send = efd_send, .fd = efd_fd, .close = efd_close};

static struct efd_dev *efd_open(void)
{
    struct efd_dev *x = test_calloc(1, sizeof *x);
    assert_non_null(x);
    x->mem = sp_mem_open(SP_MAX_MTU, H_DEPTH);
    assert_non_null(x->mem);
    x->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    assert_true(x->efd >= 0);
    x->dev = (struct sp_device){.ops = &efd_ops, .name = "efd(mem)", .mtu = SP_MAX_MTU};
    return x;
}

static void efd_inject(struct efd_dev *x, const uint8_t *frame, size_t len)
{
    assert_int_equal(sp_mem_inject(x->mem, frame, len), 0);
    uint64_t one = 1;
    assert_int_equal(write(x->efd, &one, sizeof one), (ssize_t)sizeof one);
}

/* --- The fixture: loop, device, interface, edge, a listener and a decider that answers later -- */

struct fx {
    uv_loop_t loop;
    struct efd_dev *dev;
    struct sp_iface *iface;
    struct sp_edge *edge;
    struct sp_tcp *listener, *client;
    uv_timer_t watchdog, answer, app_timer;
    bool timed_out;
    /* the decider */
    int asked, answered;
    struct sp_decision_request req; /* pointers not kept: only lent during decide */
    uint64_t answered_ns;
    /* the edge's error callback */
    int errors, last_error;
};

static void on_accept(struct sp_tcp *l, struct sp_tcp *c)
{
    (void)l;
    (void)c;
}

static void on_answer(uv_timer_t *t)
{
    struct fx *f = t->data;
    struct sp_decision_proposal p = {
        .action = SP_PROPOSE_SYN_ACK, .tcp_seq = f->req.iss, .tcp_ack = f->req.tcp.seq + 1,
        .tcp_window = f->req.native_window, .tcp_mss = f->req.native_mss, .tcp_wscale = f->req.native_wscale,
        .next_state = SP_HS_SYN_RECEIVED,
    };
    struct sp_decision_outcome out;
    assert_int_equal(sp_decision_complete(f->iface, sp_edge_now(f->edge), f->req.id, 0, &p, &out), 0);
    assert_true(out.emitted);
    f->answered_ns = uv_hrtime();
    f->answered++;
}

/* Like the LLM decider: parks the request and answers from a timer of its own, on the loop. */
static int later_decide(void *ctx, const struct sp_decision_request *req)
{
    struct fx *f = ctx;
    f->asked++;
    f->req = *req;
    f->req.packet = f->req.native = NULL;
    uv_update_time(&f->loop); /* a delay counted from now, not from the loop's cached time */
    uv_timer_start(&f->answer, on_answer, ANSWER_MS, 0);
    return 0;
}

static void on_edge_error(void *data, int err)
{
    struct fx *f = data;
    f->errors++;
    f->last_error = err;
    sp_edge_close(f->edge); /* as the daemon does: from inside the callback */
    f->edge = NULL;
}

static struct fx *fx_open_batch(int rx_batch)
{
    struct fx *f = test_calloc(1, sizeof *f);
    assert_non_null(f);
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->dev = efd_open();
    struct sp_iface_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.mac = H_MAC_US;
    cfg.ip = H_IP_US;
    cfg.prefix_len = 24;
    uv_update_time(&f->loop);
    f->iface = sp_iface_new(&cfg, &f->dev->dev, uv_now(&f->loop));
    assert_non_null(f->iface);
    struct sp_edge_opts eo = {.rx_batch = rx_batch, .on_error = on_edge_error, .data = f};
    assert_int_equal(sp_edge_open(&f->loop, f->iface, &eo, &f->edge), 0);
    uv_timer_init(&f->loop, &f->watchdog);
    uv_timer_init(&f->loop, &f->answer);
    uv_timer_init(&f->loop, &f->app_timer);
    f->watchdog.data = f->answer.data = f->app_timer.data = f;
    uint8_t fr[H_FRAME_CAP];
    assert_int_equal(sp_mem_take(f->dev->mem, fr, sizeof fr), SP_ETH_MIN_FRAME); /* gratuitous ARP */
    return f;
}
static struct fx *fx_open(void) { return fx_open_batch(0); }

static void fx_close(struct fx *f)
{
    sp_edge_close(f->edge);
    uv_close((uv_handle_t *)&f->watchdog, NULL);
    uv_close((uv_handle_t *)&f->answer, NULL);
    uv_close((uv_handle_t *)&f->app_timer, NULL);
    uv_run(&f->loop, UV_RUN_DEFAULT); /* the close callbacks; the edge's memory goes with them */
    assert_int_equal(uv_loop_close(&f->loop), 0);
    sp_iface_free(f->iface);
    sp_device_close(&f->dev->dev);
    test_free(f);
}

static void on_watchdog(uv_timer_t *t) { ((struct fx *)t->data)->timed_out = true; }

/* Runs the loop until the device has sent a frame, or WAIT_MS passed; true when a frame came. */
static bool fx_wait_tx(struct fx *f)
{
    f->timed_out = false;
    uv_update_time(&f->loop);
    uv_timer_start(&f->watchdog, on_watchdog, WAIT_MS, 0);
    while (sp_mem_pending_tx(f->dev->mem) == 0 && !f->timed_out)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_timer_stop(&f->watchdog);
    return sp_mem_pending_tx(f->dev->mem) > 0;
}

/* Runs the loop until *flag is set (bounded by WAIT_MS as well). */
static void fx_wait_flag(struct fx *f, const int *flag)
{
    f->timed_out = false;
    uv_update_time(&f->loop);
    uv_timer_start(&f->watchdog, on_watchdog, WAIT_MS, 0);
    while (!*flag && !f->timed_out)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_timer_stop(&f->watchdog);
    assert_true(*flag);
}

static double ms_since(uint64_t ns) { return (double)(uv_hrtime() - ns) / 1e6; }

/* The peer's MAC, learned from its ARP request (delivered through the fd); the reply is taken. */
static void fx_learn_peer(struct fx *f)
{
    uint8_t fr[H_FRAME_CAP];
    size_t n = h_arp_request(fr, H_MAC_PEER, H_IP_PEER, H_IP_US);
    efd_inject(f->dev, fr, n);
    assert_true(fx_wait_tx(f));
    while (sp_mem_take(f->dev->mem, fr, sizeof fr) > 0)
        ;
}

/* A TCP segment from the peer to us, as a frame. */
static size_t tcp_frame(uint8_t *fr, uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack)
{
    struct sp_tcp_repr r;
    memset(&r, 0, sizeof r);
    r.src_port = sport;
    r.dst_port = dport;
    r.seq = seq;
    r.ack = ack;
    r.flags = flags;
    r.window = 64240;
    r.mss = flags & SP_TCP_SYN ? 1460 : 0;
    r.wscale = -1;
    uint8_t seg[64];
    size_t n = sp_tcp_repr_buffer_len(&r);
    assert_true(n <= sizeof seg);
    sp_tcp_repr_emit(&r, H_IP_PEER, H_IP_US, seg);
    struct sp_ipv4_repr ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_TCP, n);
    return h_ip_frame(fr, &ip, seg, n);
}

/* Takes the next sent frame and parses it as TCP from us to the peer. */
static struct sp_tcp_repr take_tcp(struct fx *f)
{
    uint8_t fr[H_FRAME_CAP];
    int n = sp_mem_take(f->dev->mem, fr, sizeof fr);
    assert_true(n > 0);
    struct h_ip_out o;
    h_parse_ip(fr, (size_t)n, &o);
    assert_int_equal(o.ip.protocol, SP_IP_PROTO_TCP);
    assert_int_equal(o.ip.dst, H_IP_PEER);
    struct sp_tcp_view tv;
    assert_int_equal(sp_tcp_view_init(&tv, o.payload, o.payload_len), 0);
    struct sp_tcp_repr r;
    assert_int_equal(sp_tcp_repr_parse(&tv, H_IP_US, H_IP_PEER, &r), 0);
    r.payload = NULL; /* points into fr */
    return r;
}

/* --- Tests ---------------------------------------------------------------------------------- */

/* A delegated SYN is answered from the decider's own timer while no frame arrives: the SYN-ACK
 * goes out then, and its retransmission one RTO later - not at the stale deadline the timer was
 * armed for when the SYN came in (the decision timeout, 30 s). */
static void test_timer_follows_a_decision_completed_off_the_edge(void **state)
{
    (void)state;
    struct fx *f = fx_open();
    assert_int_equal(sp_tcp_listen(f->iface, US_PORT, 0, on_accept, NULL, &f->listener), 0);
    sp_iface_set_decision_timeout(f->iface, STALE_TIMEOUT_MS);
    struct sp_decider d = {.decide = later_decide, .ctx = f};
    sp_iface_set_decider(f->iface, SP_DECISION_TCP, SP_DECIDE_DELEGATE, &d);
    fx_learn_peer(f);

    uint8_t fr[H_FRAME_CAP];
    size_t n = tcp_frame(fr, PEER_PORT, US_PORT, SP_TCP_SYN, PEER_ISN, 0);
    efd_inject(f->dev, fr, n);
    fx_wait_flag(f, &f->asked);
    assert_int_equal(sp_mem_pending_tx(f->dev->mem), 0); /* parked: nothing sent */
    assert_true(f->req.deadline >= sp_edge_now(f->edge) + STALE_TIMEOUT_MS / 2);

    fx_wait_flag(f, &f->answered);
    struct sp_tcp_repr s = take_tcp(f);
    assert_int_equal(s.flags, SP_TCP_SYN | SP_TCP_ACK);
    assert_int_equal(s.seq, f->req.iss);
    assert_int_equal(s.ack, PEER_ISN + 1);

    /* No frame comes in; only the timer can send the retransmission. */
    bool sent = fx_wait_tx(f);
    double waited = ms_since(f->answered_ns);
    if (!sent)
        fail_msg("no SYN-ACK retransmission %.0f ms after the decision completed (RTO %d ms): the timer "
                 "still waits for the stale deadline",
                 waited, SP_TCP_RTO_INITIAL_MS);
    s = take_tcp(f);
    assert_int_equal(s.flags, SP_TCP_SYN | SP_TCP_ACK);
    assert_int_equal(s.seq, f->req.iss);
    print_message("SYN-ACK retransmitted %.0f ms after the decision completed\n", waited);
    if (waited < SP_TCP_RTO_INITIAL_MS / 2)
        fail_msg("SYN-ACK retransmitted %.0f ms after the first one, RTO is %d ms", waited, SP_TCP_RTO_INITIAL_MS);
    fx_close(f);
}

static void connect_now(uv_timer_t *t)
{
    struct fx *f = t->data;
    sp_iface_set_now(f->iface, sp_edge_now(f->edge));
    assert_int_equal(sp_tcp_connect(f->iface, H_IP_PEER, PEER_PORT, NULL, NULL, &f->client), 0);
    f->answered_ns = uv_hrtime();
    f->answered++;
}

/* An application's own timer opens a connection (no edge callback involved): the SYN goes out at
 * once and is retransmitted about one RTO later although the peer stays silent. */
static void test_timer_follows_a_socket_call_from_another_callback(void **state)
{
    (void)state;
    struct fx *f = fx_open();
    fx_learn_peer(f);
    uv_update_time(&f->loop);
    uv_timer_start(&f->app_timer, connect_now, 10, 0);
    fx_wait_flag(f, &f->answered);
    struct sp_tcp_repr s = take_tcp(f);
    assert_int_equal(s.flags, SP_TCP_SYN);
    bool sent = fx_wait_tx(f);
    double waited = ms_since(f->answered_ns);
    if (!sent)
        fail_msg("no SYN retransmission %.0f ms after the connect (RTO %d ms)", waited, SP_TCP_RTO_INITIAL_MS);
    struct sp_tcp_repr again = take_tcp(f);
    assert_int_equal(again.flags, SP_TCP_SYN);
    assert_int_equal(again.seq, s.seq);
    print_message("SYN retransmitted %.0f ms after the connect\n", waited);
    if (waited < SP_TCP_RTO_INITIAL_MS / 2)
        fail_msg("SYN retransmitted %.0f ms after the first one, RTO is %d ms", waited, SP_TCP_RTO_INITIAL_MS);
    sp_tcp_abort(f->client);
    fx_close(f);
}

/* More frames than one batch: each readiness reads at most a batch, and the fd keeps polling
 * readable until the device is drained, so every ping is answered. */
static void test_reads_in_batches_until_drained(void **state)
{
    (void)state;
    struct fx *f = fx_open_batch(2);
    fx_learn_peer(f);
    uint8_t fr[H_FRAME_CAP];
    for (uint16_t seq = 1; seq <= 5; seq++) {
        size_t n = h_ping(fr, H_IP_PEER, H_IP_US, 7, seq, (const uint8_t *)"edge", 4);
        efd_inject(f->dev, fr, n);
    }
    f->timed_out = false;
    uv_update_time(&f->loop);
    uv_timer_start(&f->watchdog, on_watchdog, WAIT_MS, 0);
    while (sp_mem_pending_tx(f->dev->mem) < 5 && !f->timed_out)
        uv_run(&f->loop, UV_RUN_ONCE);
    uv_timer_stop(&f->watchdog);
    assert_int_equal(sp_mem_pending_tx(f->dev->mem), 5);
    assert_int_equal(sp_iface_stats(f->iface)->v[SP_STAT_icmp_echo_tx], 5);
    fx_close(f);
}

/* A device that fails: the owner hears the error once and may close the edge from inside the
 * callback; the loop then ends by itself (nothing is left to keep it alive). */
static void test_device_error_reported_and_edge_closes_inside(void **state)
{
    (void)state;
    struct fx *f = fx_open();
    f->dev->fail = SP_EIO;
    uint64_t one = 1;
    assert_int_equal(write(f->dev->efd, &one, sizeof one), (ssize_t)sizeof one);
    fx_wait_flag(f, &f->errors);
    assert_int_equal(f->errors, 1);
    assert_int_equal(f->last_error, SP_EIO);
    assert_null(f->edge);
    f->dev->fail = 0;
    fx_close(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timer_follows_a_decision_completed_off_the_edge),
        cmocka_unit_test(test_timer_follows_a_socket_call_from_another_callback),
        cmocka_unit_test(test_reads_in_batches_until_drained),
        cmocka_unit_test(test_device_error_reported_and_edge_closes_inside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
