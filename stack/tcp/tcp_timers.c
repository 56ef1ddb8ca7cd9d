/* When each connection next needs its timers run, in a binary min-heap by deadline, so that
 * sp_tcp_poll_at is the heap's top and sp_tcp_poll visits only the connections that are due,
 * however many are open (a scan of every connection per loop turn cost about a fifth of the CPU
 * under a SYN flood with 16,000 half-open connections).
 *
 * The invariant: outside the stack (depth 0), every live connection with a timer set is in the
 * heap at exactly sp_tcp_conn_poll_at(c). Timers change only inside the stack's entry points, and
 * each entry point touches the connection it works on (sp_tcp_touch: segment arrival, timers that
 * ran, socket calls, decisions, new connections); when the outermost entry leaves, every touched
 * connection's deadline is taken again (sp_tcp_timers_settle). A connection that goes leaves the
 * heap as it leaves the table. An entry point that changes a connection's timers without touching
 * it would let them run late: the scenario tests compare poll_at with a scan of every connection
 * after each step to catch that. A deadline found early is harmless: the timers run none that is
 * not due, and the connection is put back at its real deadline. */
#include <stdlib.h>

#include "tcp_internal.h"

int sp_tcp_timers_init(struct sp_tcp_stack *tcp)
{
    /* Room for every connection the table can hold, so an insertion never fails; the pages are
     * made resident only as the heap grows into them. */
    tcp->heap = malloc((size_t)tcp->cfg.max_conns * sizeof *tcp->heap);
    return tcp->heap ? 0 : SP_ENOBUFS;
}

void sp_tcp_timers_free(struct sp_tcp_stack *tcp)
{
    free(tcp->heap);
    tcp->heap = NULL;
    tcp->heap_len = 0;
}

/* heap_i is the position plus one, 0 outside the heap. */
static void place(struct sp_tcp_stack *tcp, uint32_t pos, struct sp_tcp *c)
{
    tcp->heap[pos] = c;
    c->heap_i = pos + 1;
}

static void sift_up(struct sp_tcp_stack *tcp, uint32_t pos)
{
    struct sp_tcp *c = tcp->heap[pos];
    while (pos > 0) {
        uint32_t parent = (pos - 1) / 2;
        if (tcp->heap[parent]->heap_at <= c->heap_at)
            break;
        place(tcp, pos, tcp->heap[parent]);
        pos = parent;
    }
    place(tcp, pos, c);
}

static void sift_down(struct sp_tcp_stack *tcp, uint32_t pos)
{
    struct sp_tcp *c = tcp->heap[pos];
    for (;;) {
        uint32_t child = 2 * pos + 1;
        if (child >= tcp->heap_len)
            break;
        if (child + 1 < tcp->heap_len && tcp->heap[child + 1]->heap_at < tcp->heap[child]->heap_at)
            child++;
        if (c->heap_at <= tcp->heap[child]->heap_at)
            break;
        place(tcp, pos, tcp->heap[child]);
        pos = child;
    }
    place(tcp, pos, c);
}

void sp_tcp_timers_remove(struct sp_tcp *c)
{
    struct sp_tcp_stack *tcp = c->stack;
    if (!c->heap_i)
        return;
    uint32_t pos = c->heap_i - 1;
    c->heap_i = 0;
    struct sp_tcp *last = tcp->heap[--tcp->heap_len];
    if (last == c)
        return;
    place(tcp, pos, last);
    sift_up(tcp, pos);
    sift_down(tcp, last->heap_i - 1);
}

/* c's deadline taken again: into the heap, moved in it, or out of it. */
static void update(struct sp_tcp *c)
{
    struct sp_tcp_stack *tcp = c->stack;
    sp_time_t at = sp_tcp_conn_poll_at(c);
    if (at == SP_TIME_NEVER) {
        sp_tcp_timers_remove(c);
        return;
    }
    c->heap_at = at;
    if (!c->heap_i)
        place(tcp, tcp->heap_len++, c);
    sift_up(tcp, c->heap_i - 1);
    sift_down(tcp, c->heap_i - 1);
}

void sp_tcp_touch(struct sp_tcp *c)
{
    if (c->touched || c->dead)
        return;
    c->touched = true;
    c->touch_next = c->stack->touched;
    c->stack->touched = c;
}

void sp_tcp_timers_settle(struct sp_tcp_stack *tcp)
{
    while (tcp->touched) {
        struct sp_tcp *c = tcp->touched;
        tcp->touched = c->touch_next;
        c->touched = false;
        if (!c->dead)
            update(c);
    }
}

struct sp_tcp *sp_tcp_timers_due(struct sp_tcp_stack *tcp, sp_time_t now)
{
    if (tcp->heap_len == 0 || tcp->heap[0]->heap_at > now)
        return NULL;
    struct sp_tcp *c = tcp->heap[0];
    sp_tcp_timers_remove(c);
    return c;
}
