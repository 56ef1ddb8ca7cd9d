/* The loop edge: binds one interface to a libuv loop. It owns the clock the stack sees (uv_now,
 * refreshed where staleness matters), reads the device when its fd polls readable (a bounded
 * batch per readiness), and keeps the one timer armed at sp_iface_poll_at().
 *
 * Who re-arms: the stack gets new work from more places than the edge's own callbacks (a
 * decision completed from an LLM client's socket or timer callback, a socket call from an
 * application's timer, a replay idle handle feeding frames). Rather than each of them having to
 * remember to re-arm, the edge re-arms once per loop iteration from a prepare handle, which runs
 * just before the loop blocks: whatever ran during the iteration, the loop sleeps no longer than
 * the stack's next deadline. */
#ifndef SLOWPATH_EDGE_H
#define SLOWPATH_EDGE_H

#include "slowpath/layer_edge.h"

#include <uv.h>

#include "slowpath/iface.h"
#include "slowpath/time.h"

struct sp_edge;

/* The device failed (its poll or a read gave an error other than SP_EAGAIN; err is an SP_E*
 * code). The edge has stopped reading; timers still run. The owner usually shuts down, and may
 * call sp_edge_close from inside this callback. */
typedef void (*sp_edge_error_fn)(void *data, int err);

struct sp_edge_opts {
    int rx_batch;              /* frames per readiness; 0: SP_EDGE_RX_BATCH */
    sp_edge_error_fn on_error; /* NULL: errors only stop the reading */
    void *data;
};

/* Starts the edge for iface on loop: polls the device's fd when it has one (a device without
 * one, a replayed capture, is fed by its owner), and arms the timer. opts may be NULL. Returns 0
 * with *out set, SP_ENOBUFS (out of memory) or SP_EIO (the fd cannot be polled). The interface
 * and its device must outlive the edge. */
int sp_edge_open(uv_loop_t *loop, struct sp_iface *iface, const struct sp_edge_opts *opts, struct sp_edge **out);

/* The loop's clock, refreshed: the `now` to hand the stack from outside the edge's callbacks. */
sp_time_t sp_edge_now(struct sp_edge *edge);

/* Stops reading and timing and closes the handles; the memory goes once the loop has run their
 * close callbacks. Safe from inside any callback, the stack's included. NULL is fine. */
void sp_edge_close(struct sp_edge *edge);

#endif
