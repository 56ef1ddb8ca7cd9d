/* In-memory device for tests: two bounded rings of frames, allocated once at open.
 * Injected frames come out of recv in order; sent frames wait in the tx ring for sp_mem_take. */
#include <stdlib.h>
#include <string.h>

#include "slowpath/device.h"
#include "slowpath/error.h"

/* A ring of `depth` slots of `slot_cap` bytes each; no allocation after open. */
struct mem_ring {
    uint8_t *slots;
    size_t *lens;
    size_t head;  /* index of the oldest frame */
    size_t count; /* frames held */
};

struct mem_dev {
    struct sp_device dev;
    size_t depth;
    size_t slot_cap; /* sp_device_max_frame: the largest frame the device carries */
    struct mem_ring rx, tx;
};

static const struct sp_device_ops mem_ops;

static struct mem_dev *mem_of(const struct sp_device *dev)
{
    /* The public helpers take any device; only act on ours. */
    if (!dev || dev->ops != &mem_ops)
        return NULL;
    return (struct mem_dev *)dev;
}

static int ring_push(struct mem_dev *m, struct mem_ring *r, const uint8_t *frame, size_t len)
{
    if (len > m->slot_cap)
        return SP_EMSGSIZE;
    if (r->count == m->depth)
        return SP_ENOBUFS;
    size_t slot = (r->head + r->count) % m->depth;
    if (len > 0)
        memcpy(r->slots + slot * m->slot_cap, frame, len);
    r->lens[slot] = len;
    r->count++;
    return 0;
}

static int ring_pop(struct mem_dev *m, struct mem_ring *r, uint8_t *buf, size_t cap)
{
    if (r->count == 0)
        return SP_EAGAIN;
    size_t len = r->lens[r->head];
    size_t n = len < cap ? len : cap; /* a frame longer than the buffer is truncated */
    if (n > 0)
        memcpy(buf, r->slots + r->head * m->slot_cap, n);
    r->head = (r->head + 1) % m->depth;
    r->count--;
    return (int)n;
}

static int mem_recv(struct sp_device *dev, uint8_t *buf, size_t cap)
{
    struct mem_dev *m = mem_of(dev);
    return ring_pop(m, &m->rx, buf, cap);
}

static int mem_send(struct sp_device *dev, const uint8_t *frame, size_t len)
{
    struct mem_dev *m = mem_of(dev);
    return ring_push(m, &m->tx, frame, len);
}

static int mem_fd(const struct sp_device *dev)
{
    (void)dev;
    return -1;
}

static void mem_close(struct sp_device *dev)
{
    struct mem_dev *m = mem_of(dev);
    if (!m)
        return;
    free(m->rx.slots);
    free(m->rx.lens);
    free(m->tx.slots);
    free(m->tx.lens);
    free(m);
}

static const struct sp_device_ops mem_ops = {
    .recv = mem_recv,
    .send = mem_send,
    .fd = mem_fd,
    .close = mem_close,
};

struct sp_device *sp_mem_open(uint16_t mtu, size_t depth)
{
    if (depth == 0)
        return NULL;
    struct mem_dev *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->dev.ops = &mem_ops;
    m->dev.name = "mem";
    m->dev.mtu = mtu;
    m->depth = depth;
    m->slot_cap = sp_device_max_frame(&m->dev);
    m->rx.slots = calloc(depth, m->slot_cap);
    m->tx.slots = calloc(depth, m->slot_cap);
    m->rx.lens = calloc(depth, sizeof(size_t));
    m->tx.lens = calloc(depth, sizeof(size_t));
    if (!m->rx.slots || !m->tx.slots || !m->rx.lens || !m->tx.lens) {
        mem_close(&m->dev);
        return NULL;
    }
    return &m->dev;
}

int sp_mem_inject(struct sp_device *dev, const uint8_t *frame, size_t len)
{
    struct mem_dev *m = mem_of(dev);
    if (!m || (!frame && len > 0))
        return SP_EINVAL;
    return ring_push(m, &m->rx, frame, len);
}

int sp_mem_take(struct sp_device *dev, uint8_t *buf, size_t cap)
{
    struct mem_dev *m = mem_of(dev);
    if (!m || (!buf && cap > 0))
        return SP_EINVAL;
    return ring_pop(m, &m->tx, buf, cap);
}

size_t sp_mem_pending_tx(const struct sp_device *dev)
{
    struct mem_dev *m = mem_of(dev);
    return m ? m->tx.count : 0;
}
