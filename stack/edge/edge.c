/* The loop edge (see edge.h): a uv_poll on the device, one uv_timer at sp_iface_poll_at(), and a
 * uv_prepare that re-arms that timer once per loop iteration.
 *
 * Invariant: when the loop blocks, the timer is due at the stack's next deadline (or stopped
 * when there is none). The prepare handle is what makes it hold whoever gave the stack work;
 * the re-arms after our own callbacks only save a timer restart in the common case.
 *
 * Timer due times are absolute in the loop's clock: starting the timer with `at - uv_now()`
 * makes it due at `at` however stale uv_now() is, so arming needs no fresh clock. Calls into the
 * stack do: they stamp what they send (RTO, delayed ACK) with `now`. */
#include "slowpath/edge.h"

#include <stdbool.h>
#include <stdlib.h>

#include "slowpath/device.h"
#include "slowpath/error.h"
#include "slowpath/opts.h"

struct sp_edge {
    uv_loop_t *loop;
    struct sp_iface *iface;
    struct sp_edge_opts opts;
    uv_poll_t poll;
    uv_timer_t timer;
    uv_prepare_t prepare;
    bool polling;           /* poll initialised (the device has an fd) */
    bool closing;
    int open_handles;       /* closed one by one; the last close callback frees */
    sp_time_t armed_at;     /* the timer's due time, SP_TIME_NEVER when stopped */
};

sp_time_t sp_edge_now(struct sp_edge *e)
{
    uv_update_time(e->loop);
    return uv_now(e->loop);
}

static void on_timer(uv_timer_t *t);

/* Points the timer at the stack's next deadline; a no-op when it already is. */
static void arm(struct sp_edge *e)
{
    if (e->closing)
        return;
    sp_time_t at = sp_iface_poll_at(e->iface);
    if (at == e->armed_at)
        return;
    e->armed_at = at;
    if (at == SP_TIME_NEVER) {
        uv_timer_stop(&e->timer);
        return;
    }
    uint64_t now = uv_now(e->loop);
    uv_timer_start(&e->timer, on_timer, at > now ? at - now : 0, 0);
}

static void on_timer(uv_timer_t *t)
{
    struct sp_edge *e = t->data;
    e->armed_at = SP_TIME_NEVER; /* fired: no longer pending */
    sp_iface_poll(e->iface, sp_edge_now(e));
    arm(e);
}

static void on_prepare(uv_prepare_t *p)
{
    arm(p->data);
}

static void fail(struct sp_edge *e, int err)
{
    uv_poll_stop(&e->poll);
    if (e->opts.on_error)
        e->opts.on_error(e->opts.data, err); /* may close the edge */
}

static void on_readable(uv_poll_t *p, int status, int events)
{
    struct sp_edge *e = p->data;
    (void)events;
    if (status < 0) {
        fail(e, SP_EIO);
        return;
    }
    int n = sp_iface_poll_device(e->iface, sp_edge_now(e), e->opts.rx_batch);
    if (n < 0 && n != SP_EAGAIN) {
        fail(e, n);
        return;
    }
    arm(e);
}

static void on_closed(uv_handle_t *h)
{
    struct sp_edge *e = h->data;
    if (--e->open_handles == 0)
        free(e);
}

int sp_edge_open(uv_loop_t *loop, struct sp_iface *iface, const struct sp_edge_opts *opts, struct sp_edge **out)
{
    struct sp_edge *e = calloc(1, sizeof *e);
    if (!e)
        return SP_ENOBUFS;
    e->loop = loop;
    e->iface = iface;
    if (opts)
        e->opts = *opts;
    if (e->opts.rx_batch <= 0)
        e->opts.rx_batch = SP_EDGE_RX_BATCH;
    int fd = sp_device_fd(sp_iface_device(iface));
    if (fd >= 0) {
        if (uv_poll_init(loop, &e->poll, fd) < 0) {
            free(e);
            return SP_EIO;
        }
        e->poll.data = e;
        e->polling = true;
        e->open_handles++;
        uv_poll_start(&e->poll, UV_READABLE, on_readable);
    }
    uv_timer_init(loop, &e->timer);
    e->timer.data = e;
    e->open_handles++;
    uv_prepare_init(loop, &e->prepare);
    e->prepare.data = e;
    e->open_handles++;
    uv_prepare_start(&e->prepare, on_prepare);
    /* The prepare handle only re-arms; the loop lives as long as there is a device or a timer. */
    uv_unref((uv_handle_t *)&e->prepare);
    e->armed_at = SP_TIME_NEVER;
    arm(e);
    *out = e;
    return 0;
}

void sp_edge_close(struct sp_edge *e)
{
    if (!e || e->closing)
        return;
    e->closing = true;
    if (e->polling)
        uv_close((uv_handle_t *)&e->poll, on_closed);
    uv_close((uv_handle_t *)&e->timer, on_closed);
    uv_close((uv_handle_t *)&e->prepare, on_closed);
}
