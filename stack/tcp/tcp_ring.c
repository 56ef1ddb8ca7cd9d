/* Byte rings for the send and receive buffers, and the out-of-order range list that lets the
 * receive ring hold segments ahead of a gap (in the spirit of smoltcp's assembler). */
#include <stdlib.h>
#include <string.h>

#include "tcp_internal.h"

int sp_tcp_ring_init(struct sp_tcp_ring *r, uint32_t cap)
{
    r->buf = cap ? malloc(cap) : NULL;
    if (cap && !r->buf)
        return SP_ENOBUFS;
    r->cap = cap;
    r->head = r->len = 0;
    return 0;
}

int sp_tcp_ring_resize(struct sp_tcp_ring *r, uint32_t cap, uint32_t keep)
{
    uint8_t *buf = malloc(cap);
    if (!buf)
        return SP_ENOBUFS;
    if (keep) {
        /* Everything kept becomes contiguous from offset 0 of the new buffer. */
        uint32_t first = r->cap - r->head < keep ? r->cap - r->head : keep;
        memcpy(buf, r->buf + r->head, first);
        memcpy(buf + first, r->buf, keep - first);
    }
    free(r->buf);
    r->buf = buf;
    r->cap = cap;
    r->head = 0;
    return 0;
}

void sp_tcp_ring_free(struct sp_tcp_ring *r)
{
    free(r->buf);
    r->buf = NULL;
    r->cap = r->head = r->len = 0;
}

void sp_tcp_ring_write_at(struct sp_tcp_ring *r, uint32_t off, const uint8_t *data, uint32_t n)
{
    uint32_t pos = (uint32_t)(((uint64_t)r->head + r->len + off) % r->cap);
    uint32_t first = r->cap - pos < n ? r->cap - pos : n;
    memcpy(r->buf + pos, data, first);
    memcpy(r->buf, data + first, n - first);
}

void sp_tcp_ring_peek(const struct sp_tcp_ring *r, uint32_t off, uint8_t *out, uint32_t n)
{
    uint32_t pos = (uint32_t)(((uint64_t)r->head + off) % r->cap);
    uint32_t first = r->cap - pos < n ? r->cap - pos : n;
    memcpy(out, r->buf + pos, first);
    memcpy(out + first, r->buf, n - first);
}

void sp_tcp_ring_consume(struct sp_tcp_ring *r, uint32_t n)
{
    if (n > r->len)
        n = r->len;
    /* head moves even when the ring empties: out-of-order bytes sit at fixed places past it. */
    r->len -= n;
    r->head = (uint32_t)(((uint64_t)r->head + n) % r->cap);
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
