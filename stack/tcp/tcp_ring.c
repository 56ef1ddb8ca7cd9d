/* Byte rings for the send and receive buffers, and the out-of-order range list that lets the
 * receive ring hold segments ahead of a gap (in the spirit of smoltcp's assembler).
 * A ring's capacity is a limit, not an allocation: memory is taken when data needs it, doubling
 * from SP_TCP_BUF_FIRST, so an idle connection holds no buffer at all and one that exchanged a
 * request and a page holds a few KiB, whatever its buffer sizes (the windows they allow are
 * offered all the same). Every byte allocated is counted in the stack's budget. */
#include <stdlib.h>
#include <string.h>

#include "tcp_internal.h"

void sp_tcp_ring_init(struct sp_tcp_ring *r, uint32_t cap, struct sp_tcp_mem *mem)
{
    memset(r, 0, sizeof *r);
    r->cap = cap;
    r->mem = mem;
}

/* Moves the ring into a new allocation of `size` bytes (0: none), the first `keep` bytes from
 * head contiguous from offset 0. */
static int reallocate(struct sp_tcp_ring *r, uint32_t size, uint32_t keep)
{
    struct sp_tcp_mem *m = r->mem;
    if (size > r->size && m->used - r->size + size > m->max)
        return SP_ENOBUFS;
    uint8_t *buf = NULL;
    if (size) {
        buf = malloc(size);
        if (!buf)
            return SP_ENOBUFS;
    }
    if (keep) {
        uint32_t first = r->size - r->head < keep ? r->size - r->head : keep;
        memcpy(buf, r->buf + r->head, first);
        memcpy(buf + first, r->buf, keep - first);
    }
    free(r->buf);
    m->used = m->used - r->size + size;
    r->buf = buf;
    r->size = size;
    r->head = 0;
    return 0;
}

int sp_tcp_ring_reserve(struct sp_tcp_ring *r, uint32_t need, uint32_t keep)
{
    if (need <= r->size)
        return 0;
    if (need > r->cap)
        return SP_ENOBUFS;
    uint64_t size = r->size ? r->size : SP_TCP_BUF_FIRST;
    while (size < need)
        size *= 2;
    return reallocate(r, size < r->cap ? (uint32_t)size : r->cap, keep);
}

uint32_t sp_tcp_ring_room(const struct sp_tcp_ring *r)
{
    /* The largest allocation reserve could reach: the growth steps, within the budget. */
    uint64_t avail = r->mem->max > r->mem->used ? r->mem->max - r->mem->used + r->size : r->size;
    uint64_t best = r->size;
    uint64_t step = r->size ? r->size : SP_TCP_BUF_FIRST;
    while (best < r->cap) {
        uint64_t next = step < r->cap ? step : r->cap;
        if (next > avail)
            break;
        best = next;
        step *= 2;
    }
    return (uint32_t)best - r->len;
}

int sp_tcp_ring_resize(struct sp_tcp_ring *r, uint32_t cap, uint32_t keep)
{
    /* Growing only raises the limit; shrinking below what is allocated moves the data. */
    if (r->size > cap) {
        int rc = reallocate(r, cap, keep);
        if (rc < 0)
            return rc;
    }
    r->cap = cap;
    return 0;
}

void sp_tcp_ring_free(struct sp_tcp_ring *r)
{
    free(r->buf);
    if (r->mem)
        r->mem->used -= r->size;
    r->buf = NULL;
    r->cap = r->size = r->head = r->len = 0;
}

void sp_tcp_ring_write_at(struct sp_tcp_ring *r, uint32_t off, const uint8_t *data, uint32_t n)
{
    if (n == 0)
        return;
    uint32_t pos = (uint32_t)(((uint64_t)r->head + r->len + off) % r->size);
    uint32_t first = r->size - pos < n ? r->size - pos : n;
    memcpy(r->buf + pos, data, first);
    memcpy(r->buf, data + first, n - first);
}

void sp_tcp_ring_peek(const struct sp_tcp_ring *r, uint32_t off, uint8_t *out, uint32_t n)
{
    if (n == 0)
        return;
    uint32_t pos = (uint32_t)(((uint64_t)r->head + off) % r->size);
    uint32_t first = r->size - pos < n ? r->size - pos : n;
    memcpy(out, r->buf + pos, first);
    memcpy(out + first, r->buf, n - first);
}

void sp_tcp_ring_consume(struct sp_tcp_ring *r, uint32_t n)
{
    if (n > r->len)
        n = r->len;
    if (r->size == 0)
        return;
    /* head moves even when the ring empties: out-of-order bytes sit at fixed places past it. */
    r->len -= n;
    r->head = (uint32_t)(((uint64_t)r->head + n) % r->size);
}

bool sp_tcp_ooo_add(struct sp_tcp_ooo *o, uint32_t start, uint32_t end)
{
    /* Find the first range that ends at or after start: everything before stays. */
    unsigned i = 0;
    while (i < o->n && sp_seq_lt(o->r[i].end, start))
        i++;
    /* Merge every range that overlaps or touches [start, end). */
    unsigned j = i;
    while (j < o->n && sp_seq_le(o->r[j].start, end)) {
        if (sp_seq_lt(o->r[j].start, start))
            start = o->r[j].start;
        if (sp_seq_gt(o->r[j].end, end))
            end = o->r[j].end;
        j++;
    }
    unsigned merged = j - i;
    if (merged == 0 && o->n == SP_TCP_OOO_RANGES)
        return false;
    if (merged != 1) {
        /* Make room for exactly one range at i. */
        memmove(&o->r[i + 1], &o->r[j], (o->n - j) * sizeof o->r[0]);
        o->n = (uint8_t)(o->n - merged + 1);
    }
    o->r[i].start = start;
    o->r[i].end = end;
    return true;
}

uint32_t sp_tcp_ooo_advance(struct sp_tcp_ooo *o, uint32_t rcv_nxt)
{
    unsigned k = 0;
    while (k < o->n && sp_seq_le(o->r[k].start, rcv_nxt)) {
        if (sp_seq_gt(o->r[k].end, rcv_nxt))
            rcv_nxt = o->r[k].end;
        k++;
    }
    if (k) {
        memmove(&o->r[0], &o->r[k], (o->n - k) * sizeof o->r[0]);
        o->n = (uint8_t)(o->n - k);
    }
    return rcv_nxt;
}

/* --- A connection's buffers ------------------------------------------------------------------- */

int sp_tcp_rcv_reserve(struct sp_tcp *c, uint32_t end)
{
    /* Out-of-order bytes past the data move with it. */
    uint32_t keep = c->rcv.len;
    if (c->ooo.n)
        keep += c->ooo.r[c->ooo.n - 1].end - c->rcv_nxt;
    int rc = sp_tcp_ring_reserve(&c->rcv, c->rcv.len + end, keep);
    if (rc < 0)
        sp_drop(sp_tcp_iface(c), SP_STAT_drop_tcp_no_memory, "receive buffer");
    return rc;
}

uint32_t sp_tcp_snd_reserve(struct sp_tcp *c, uint32_t n)
{
    uint32_t room = sp_tcp_ring_room(&c->snd);
    if (n > room) {
        sp_count(sp_tcp_iface(c), SP_STAT_drop_tcp_no_memory);
        n = room;
    }
    return n && sp_tcp_ring_reserve(&c->snd, c->snd.len + n, c->snd.len) < 0 ? 0 : n;
}
