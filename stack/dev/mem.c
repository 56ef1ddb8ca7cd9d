/* In-memory device for tests: two bounded rings of frames, allocated once at open.
 * Injected frames come out of recv in order; sent frames wait in the tx ring for sp_mem_take. */
#include <stdlib.h>
#include <string.h>

#include "slowpath/device.h"
#include "slowpath/error.h"
#include "slowpath/wire/offload.h"

/* A ring of `depth` slots of `slot_cap` bytes each; no allocation after open. */
struct mem_ring {
    uint8_t *slots;
    size_t *lens;
    struct sp_frame_meta *metas;
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

static int ring_push(struct mem_dev *m, struct mem_ring *r, const uint8_t *frame, size_t len,
                     const struct sp_frame_meta *meta)
{
    bool gso = meta && meta->gso_type != SP_GSO_NONE;
    if (len > m->slot_cap || (!gso && len > sp_device_max_frame(&m->dev)))
        return SP_EMSGSIZE;
    if (sp_offload_pending(meta) && !m->dev.offloads)
        return SP_EINVAL;
    if (r->count == m->depth)
        return SP_ENOBUFS;
    size_t slot = (r->head + r->count) % m->depth;
    if (len > 0)
        memcpy(r->slots + slot * m->slot_cap, frame, len);
    r->lens[slot] = len;
    r->metas[slot] = meta ? *meta : (struct sp_frame_meta){0};
    r->count++;
    return 0;
}

static int ring_pop(struct mem_dev *m, struct mem_ring *r, uint8_t *buf, size_t cap, struct sp_frame_meta *meta)
{
    if (r->count == 0)
        return SP_EAGAIN;
    if (meta)
        *meta = r->metas[r->head];
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
    return ring_pop(m, &m->rx, buf, cap, NULL);
}

static int mem_recv_meta(struct sp_device *dev, uint8_t *buf, size_t cap, struct sp_frame_meta *meta)
{
    struct mem_dev *m = mem_of(dev);
    return ring_pop(m, &m->rx, buf, cap, meta);
}

static int mem_send_meta(struct sp_device *dev, const uint8_t *frame, size_t len, const struct sp_frame_meta *meta)
{
    struct mem_dev *m = mem_of(dev);
    return ring_push(m, &m->tx, frame, len, meta);
}

static int mem_send(struct sp_device *dev, const uint8_t *frame, size_t len)
{
    struct mem_dev *m = mem_of(dev);
    return ring_push(m, &m->tx, frame, len, NULL);
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
    free(m->rx.metas);
    free(m->tx.metas);
    free(m);
}

static const struct sp_device_ops mem_ops = {
    .recv = mem_recv,
    .send = mem_send,
    .fd = mem_fd,
    .close = mem_close,
    .recv_meta = mem_recv_meta,
    .send_meta = mem_send_meta,
};

struct sp_device *sp_mem_open(uint16_t mtu, size_t depth)
{
    return sp_mem_open_offload(mtu, depth, 0);
}

struct sp_device *sp_mem_open_offload(uint16_t mtu, size_t depth, uint32_t offloads)
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
    m->dev.offloads = offloads;
    m->slot_cap = (offloads & SP_OFFLOAD_TSO4) ? SP_OFFLOAD_MAX_FRAME : sp_device_max_frame(&m->dev);
    m->rx.slots = calloc(depth, m->slot_cap);
    m->tx.slots = calloc(depth, m->slot_cap);
    m->rx.lens = calloc(depth, sizeof(size_t));
    m->tx.lens = calloc(depth, sizeof(size_t));
    m->rx.metas = calloc(depth, sizeof(struct sp_frame_meta));
    m->tx.metas = calloc(depth, sizeof(struct sp_frame_meta));
    if (!m->rx.slots || !m->tx.slots || !m->rx.lens || !m->tx.lens || !m->rx.metas || !m->tx.metas) {
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
    return ring_push(m, &m->rx, frame, len, NULL);
}

int sp_mem_inject_meta(struct sp_device *dev, const uint8_t *frame, size_t len, const struct sp_frame_meta *meta)
{
    struct mem_dev *m = mem_of(dev);
    if (!m || (!frame && len > 0))
        return SP_EINVAL;
    return ring_push(m, &m->rx, frame, len, meta);
}

int sp_mem_take(struct sp_device *dev, uint8_t *buf, size_t cap)
{
    struct mem_dev *m = mem_of(dev);
    if (!m || (!buf && cap > 0))
        return SP_EINVAL;
    return ring_pop(m, &m->tx, buf, cap, NULL);
}

int sp_mem_take_meta(struct sp_device *dev, uint8_t *buf, size_t cap, struct sp_frame_meta *meta)
{
    struct mem_dev *m = mem_of(dev);
    if (!m || (!buf && cap > 0) || !meta)
        return SP_EINVAL;
    return ring_pop(m, &m->tx, buf, cap, meta);
}

size_t sp_mem_pending_tx(const struct sp_device *dev)
{
    struct mem_dev *m = mem_of(dev);
    return m ? m->tx.count : 0;
}
