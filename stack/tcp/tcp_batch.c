/* Batches: while the interface works through frames drained from the device in one go, a
 * connection's output (its ACK, and data an ACK let go or the application queued from a callback)
 * waits for the end of the batch, so that a burst of segments earns one ACK covering them all and
 * new data leaves as one large segment rather than one per application write (RFC 5681 4.2 lets
 * an ACK be delayed; the batch is bounded by the edge's rx_batch and ends before the loop sleeps).
 *
 * What must not wait does not: a duplicate ACK for out-of-order data (ack_pure) drives the
 * sender's fast retransmit, one per segment, so it goes at once.
 *
 * The batch holds the stack entered (depth > 0) from begin to end: connections stay on the touched
 * list (timers settle, and dead connections are reaped, once, at the end), which is the list the
 * end walks to send what waited. */
#include "tcp_internal.h"

void sp_tcp_batch_begin(struct sp_tcp_stack *tcp)
{
    sp_tcp_enter(tcp);
    tcp->batching = true;
}

void sp_tcp_batch_end(struct sp_tcp_stack *tcp, sp_time_t now)
{
    tcp->batching = false;
    for (struct sp_tcp *c = tcp->touched; c; c = c->touch_next) {
        if (c->output_pending && !c->dead) {
            c->output_pending = false;
            sp_tcp_output(c, now);
        }
    }
    sp_tcp_leave(tcp);
}

void sp_tcp_output_later(struct sp_tcp *c, sp_time_t now)
{
    if (c->stack->batching && !c->ack_pure && !c->dead) {
        c->output_pending = true;
        sp_tcp_touch(c);
        return;
    }
    sp_tcp_output(c, now);
}
