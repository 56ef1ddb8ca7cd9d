/* Fault injector: wraps any device and drops or corrupts frames in both directions. Decisions
 * come from a splitmix64 generator seeded by the caller and kept in the device, so a run with
 * the same seed and the same frames makes the same decisions.
 *
 * Offloaded frames (device.h) meet their fate whole: a dropped super-segment loses every segment
 * it stands for. A corrupted one must still be caught by a checksum, which a partial or vouched-
 * for checksum would not do: received, its checksum is completed and the device's vouching
 * removed before the bit flips, so the stack verifies it and drops it; sent, a super-segment is
 * dropped (the kernel would checksum the flipped bit into validity; the peer's view of a
 * corrupted segment is a lost one) and a partial checksum is completed before the flip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slowpath/device.h"
#include "slowpath/error.h"
#include "slowpath/wire/offload.h"
#include "slowpath/wire/ipv4.h"

struct fault_dev {
    struct sp_device dev;
    struct sp_device *inner;
    double drop_chance, corrupt_chance;
    uint64_t rng;
    struct sp_fault_stats stats;
    uint8_t *txbuf; /* the sent frame is const: corruption works on this copy */
    size_t txcap;
    char name[64];
};

static const struct sp_device_ops fault_ops;

static struct fault_dev *fault_of(const struct sp_device *dev)
{
    if (!dev || dev->ops != &fault_ops)
        return NULL;
    return (struct fault_dev *)dev;
}

static uint64_t rng_next(struct fault_dev *f)
{
    uint64_t z = (f->rng += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* True with probability `chance`: a uniform draw in [0, 1) from the top 53 bits. 1.0 always hits,
 * 0.0 never does. */
static int rng_hit(struct fault_dev *f, double chance)
{
    double u = (double)(rng_next(f) >> 11) * (1.0 / 9007199254740992.0);
    return u < chance;
}

/* On a raw-IP link (a TUN) the datagram starts the frame: no link header, and anything but an
 * IPv4 datagram that passes the view's check is left alone. */
static size_t raw_checked_len(const uint8_t *pkt, size_t len)
{
    struct sp_ipv4_view ip;
    return sp_ipv4_view_init(&ip, pkt, len) < 0 ? 0 : sp_ipv4_total_len(&ip);
}

static size_t ip_offset(const struct fault_dev *f)
{
    return f->dev.link == SP_LINK_RAW_IP ? 0 : SP_ETH_HDR_LEN;
}

/* How many bytes past the Ethernet header a checksum covers: the IPv4 datagram (its header
 * checksum, then ICMP/UDP/TCP). A real link's FCS drops a corrupted frame; corruption that gets
 * past it is what the stack's own checksums must catch, so only those bytes are flipped. ARP has
 * no checksum and trailer padding none either: such bytes are never corrupted (a flipped ARP
 * sender address would poison a neighbour cache, which no checksum could have prevented). Nor is
 * a datagram that fails the IPv4 view's length check: the stack drops it before it looks at any
 * checksum. */
static size_t checked_len(const struct fault_dev *f, const uint8_t *frame, size_t len)
{
    struct sp_eth_view eth;
    struct sp_ipv4_view ip;
    if (f->dev.link == SP_LINK_RAW_IP)
        return raw_checked_len(frame, len);
    if (sp_eth_view_init(&eth, frame, len) < 0 || sp_eth_type(&eth) != SP_ETHERTYPE_IPV4 ||
        sp_ipv4_view_init(&ip, sp_eth_payload(&eth), sp_eth_payload_len(&eth)) < 0)
        return 0;
    return sp_ipv4_total_len(&ip);
}

/* Flips one random bit of the checksummed part (checked_len > 0 is the caller's to ensure). */
static void flip_bit(struct fault_dev *f, uint8_t *frame, size_t checked)
{
    uint64_t r = rng_next(f);
    size_t off = ip_offset(f) + (size_t)((r >> 3) % checked);
    frame[off] ^= (uint8_t)(1u << (r & 7));
}

static int fault_recv_meta(struct sp_device *dev, uint8_t *buf, size_t cap, struct sp_frame_meta *m)
{
    struct fault_dev *f = fault_of(dev);
    for (;;) {
        int n = sp_device_recv_meta(f->inner, buf, cap, m);
        if (n < 0)
            return n;
        if (rng_hit(f, f->drop_chance)) {
            f->stats.rx_dropped++;
            continue;
        }
        size_t checked = checked_len(f, buf, (size_t)n);
        if (rng_hit(f, f->corrupt_chance) && checked && sp_offload_csum_complete(buf, (size_t)n, m) == 0) {
            m->flags &= (uint8_t)~SP_FRAME_DATA_VALID;
            flip_bit(f, buf, checked);
            f->stats.rx_corrupted++;
        }
        return n;
    }
}

static int fault_send_meta(struct sp_device *dev, const uint8_t *frame, size_t len, const struct sp_frame_meta *m)
{
    struct fault_dev *f = fault_of(dev);
    if (rng_hit(f, f->drop_chance)) {
        f->stats.tx_dropped++;
        return 0;
    }
    size_t checked = checked_len(f, frame, len);
    if (rng_hit(f, f->corrupt_chance) && checked && len <= f->txcap) {
        f->stats.tx_corrupted++;
        if (m && m->gso_type != SP_GSO_NONE)
            return 0;
        struct sp_frame_meta done = m ? *m : (struct sp_frame_meta){0};
        memcpy(f->txbuf, frame, len);
        if (sp_offload_csum_complete(f->txbuf, len, &done) < 0)
            return 0;
        flip_bit(f, f->txbuf, checked);
        return sp_device_send_meta(f->inner, f->txbuf, len, &done);
    }
    return sp_device_send_meta(f->inner, frame, len, m);
}

static int fault_recv(struct sp_device *dev, uint8_t *buf, size_t cap)
{
    struct fault_dev *f = fault_of(dev);
    for (;;) {
        int n = sp_device_recv(f->inner, buf, cap);
        if (n < 0)
            return n;
        if (rng_hit(f, f->drop_chance)) {
            f->stats.rx_dropped++;
            continue; /* lost on the wire: the caller sees the next frame instead */
        }
        size_t checked = checked_len(f, buf, (size_t)n);
        if (rng_hit(f, f->corrupt_chance) && checked) {
            flip_bit(f, buf, checked);
            f->stats.rx_corrupted++;
        }
        return n;
    }
}

static int fault_send(struct sp_device *dev, const uint8_t *frame, size_t len)
{
    struct fault_dev *f = fault_of(dev);
    if (rng_hit(f, f->drop_chance)) {
        f->stats.tx_dropped++;
        return 0; /* lost on the wire: the sender cannot tell */
    }
    /* Oversized frames pass untouched (the inner device will refuse them anyway). */
    size_t checked = checked_len(f, frame, len);
    if (rng_hit(f, f->corrupt_chance) && checked && len <= f->txcap) {
        memcpy(f->txbuf, frame, len);
        flip_bit(f, f->txbuf, checked);
        f->stats.tx_corrupted++;
        return sp_device_send(f->inner, f->txbuf, len);
    }
    return sp_device_send(f->inner, frame, len);
}

static int fault_fd(const struct sp_device *dev)
{
    return sp_device_fd(fault_of(dev)->inner);
}

static void fault_close(struct sp_device *dev)
{
    struct fault_dev *f = fault_of(dev);
    sp_device_close(f->inner);
    free(f->txbuf);
    free(f);
}

static const struct sp_device_ops fault_ops = {
    .recv = fault_recv,
    .send = fault_send,
    .fd = fault_fd,
    .close = fault_close,
    .recv_meta = fault_recv_meta,
    .send_meta = fault_send_meta,
};

static int chance_ok(double c)
{
    return c >= 0.0 && c <= 1.0; /* false for NaN too */
}

struct sp_device *sp_fault_open(struct sp_device *inner, const struct sp_fault_opts *opts)
{
    if (!inner || !opts || !chance_ok(opts->drop_chance) || !chance_ok(opts->corrupt_chance))
        return NULL;
    struct fault_dev *f = calloc(1, sizeof(*f));
    if (!f)
        return NULL;
    f->txcap = (inner->offloads & SP_OFFLOAD_TSO4) ? SP_OFFLOAD_MAX_FRAME : sp_device_max_frame(inner);
    f->txbuf = malloc(f->txcap);
    if (!f->txbuf) {
        free(f);
        return NULL;
    }
    f->inner = inner;
    f->drop_chance = opts->drop_chance;
    f->corrupt_chance = opts->corrupt_chance;
    f->rng = opts->seed;
    snprintf(f->name, sizeof(f->name), "fault(%s)", inner->name ? inner->name : "?");
    f->dev.ops = &fault_ops;
    f->dev.name = f->name;
    f->dev.mtu = inner->mtu;
    f->dev.link = inner->link;
    f->dev.offloads = inner->offloads;
    return &f->dev;
}

void sp_fault_get_stats(const struct sp_device *dev, struct sp_fault_stats *out)
{
    if (!out)
        return;
    struct fault_dev *f = fault_of(dev);
    if (f)
        *out = f->stats;
    else
        memset(out, 0, sizeof(*out));
}
