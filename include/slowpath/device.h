/* Devices: where frames come from and go to. One small interface for TAP, memory and pcap replay
 * devices, and for the wrappers that stack on any of them (pcap writer, fault injector). */
#ifndef SLOWPATH_DEVICE_H
#define SLOWPATH_DEVICE_H

#include "slowpath/layer_dev.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slowpath/error.h"
#include "slowpath/wire/ethernet.h"
#include "slowpath/wire/offload.h"

struct sp_device;

/* What a device carries: Ethernet frames (TAP, the default, 0) or bare IP datagrams with no link
 * header (TUN, a raw-IP capture). The interface reads it: on a raw-IP link there is no ARP and
 * no neighbour to resolve, every datagram goes to the one peer (stack/ip/link_raw.c). */
enum sp_link { SP_LINK_ETHERNET = 0, SP_LINK_RAW_IP = 1 };
/* Offloads (slowpath/wire/offload.h has the per-frame metadata). A device that advertises them in
 * sp_device.offloads may hand the stack, and take from it, frames that are not yet what the wire
 * carries: a TCP "super-segment" of up to 64 KB that stands for the MSS-sized segments the kernel
 * cuts it into, and an L4 checksum left partial. Devices without them (offloads == 0) keep the
 * plain recv/send and every frame is a wire frame. Helpers: slowpath/wire/offload.h. */
#define SP_OFFLOAD_CSUM 1u          /* frames may carry SP_FRAME_NEEDS_CSUM / SP_FRAME_DATA_VALID */
#define SP_OFFLOAD_TSO4 2u          /* frames may be TCPv4 super-segments (gso_type SP_GSO_TCPV4) */

struct sp_device_ops {
    /* Copies the next received frame into buf (cap bytes); returns its length, SP_EAGAIN when
     * nothing is waiting, SP_EOF when a finite source is exhausted, or another negative error.
     * A frame longer than cap is truncated to cap. */
    int (*recv)(struct sp_device *dev, uint8_t *buf, size_t cap);
    /* Transmits one frame; 0, or a negative error (the frame is then counted as lost). */
    int (*send)(struct sp_device *dev, const uint8_t *frame, size_t len);
    /* A file descriptor that polls readable when recv has work, or -1. */
    int (*fd)(const struct sp_device *dev);
    /* Releases the device and everything it wraps. */
    void (*close)(struct sp_device *dev);
    /* Optional, for devices with offloads: recv that also fills *meta (zeroed for a plain frame),
     * and send of a frame described by meta (NULL or zeroed: a plain frame). A device without
     * them is driven through recv/send (sp_device_recv_meta / _send_meta do that). */
    int (*recv_meta)(struct sp_device *dev, uint8_t *buf, size_t cap, struct sp_frame_meta *meta);
    int (*send_meta)(struct sp_device *dev, const uint8_t *frame, size_t len, const struct sp_frame_meta *meta);
};

struct sp_device {
    const struct sp_device_ops *ops;
    const char *name;     /* for logs: "tap", "pcap-writer(tap)" ... */
    uint16_t mtu;         /* IP MTU; frames carry up to sp_device_max_frame bytes */
    void *data;           /* free for the owner */
    enum sp_link link;    /* what recv and send carry; wrappers take their inner device's */
    uint32_t offloads;    /* SP_OFFLOAD_x the device takes and may deliver; 0: plain frames */
};

static inline int sp_device_recv(struct sp_device *d, uint8_t *buf, size_t cap) { return d->ops->recv(d, buf, cap); }
static inline int sp_device_send(struct sp_device *d, const uint8_t *f, size_t len) { return d->ops->send(d, f, len); }
static inline int sp_device_recv_meta(struct sp_device *d, uint8_t *buf, size_t cap, struct sp_frame_meta *m)
{
    if (d->ops->recv_meta)
        return d->ops->recv_meta(d, buf, cap, m);
    *m = (struct sp_frame_meta){0};
    return d->ops->recv(d, buf, cap);
}
/* A frame with offload metadata goes to a device that has none as SP_EINVAL: the caller must
 * segment and checksum it first (sp_offload_cut_*). */
static inline int sp_device_send_meta(struct sp_device *d, const uint8_t *f, size_t len, const struct sp_frame_meta *m)
{
    if (d->ops->send_meta)
        return d->ops->send_meta(d, f, len, m);
    if (m && (m->gso_type != SP_GSO_NONE || (m->flags & SP_FRAME_NEEDS_CSUM)))
        return SP_EINVAL;
    return d->ops->send(d, f, len);
}
static inline int sp_device_fd(const struct sp_device *d) { return d->ops->fd ? d->ops->fd(d) : -1; }
static inline void sp_device_close(struct sp_device *d) { if (d) d->ops->close(d); }
/* The largest frame the device carries: an IP datagram of its MTU behind an Ethernet header. */
static inline size_t sp_device_max_frame(const struct sp_device *d) { return (size_t)d->mtu + SP_ETH_HDR_LEN; }

/* --- Concrete devices --------------------------------------------------------------------- */

/* Opens (or attaches to) TAP interface `name` with IFF_TAP | IFF_NO_PI, non-blocking. On failure
 * returns NULL and writes a one-line reason into err. send gives SP_EMSGSIZE for frames over
 * sp_device_max_frame, SP_EINVAL for frames shorter than an Ethernet header, and SP_EAGAIN when
 * the kernel has no room (EAGAIN/ENOBUFS): that frame is lost, not queued; retransmission above
 * recovers, as with a full NIC ring. */
struct sp_device *sp_tap_open(const char *name, uint16_t mtu, char *err, size_t errlen);
/* sp_tap_open, and when `offload` is true with IFF_VNET_HDR and the offloads the kernel accepts
 * (partial checksums, TCPv4 super-segments; dev->offloads says which). A kernel that refuses them
 * gives a plain TAP (offloads 0), not an error. */
struct sp_device *sp_tap_open_offload(const char *name, uint16_t mtu, bool offload, char *err, size_t errlen);

/* Opens (or attaches to) TUN interface `name` with IFF_TUN | IFF_NO_PI, non-blocking: every read
 * or write is one IP datagram, link SP_LINK_RAW_IP. Errors as sp_tap_open; send gives SP_EMSGSIZE
 * for a datagram over the MTU and SP_EINVAL for one shorter than an IPv4 header. */
struct sp_device *sp_tun_open(const char *name, uint16_t mtu, char *err, size_t errlen);

/* An in-memory device for tests: frames pushed with sp_mem_inject are received in order; frames
 * the stack sends are kept until taken with sp_mem_take. Both queues hold `depth` frames (> 0) of
 * up to sp_device_max_frame bytes: inject/send give SP_ENOBUFS when full and SP_EMSGSIZE when too
 * long. */
struct sp_device *sp_mem_open(uint16_t mtu, size_t depth);
int sp_mem_inject(struct sp_device *dev, const uint8_t *frame, size_t len);
/* Takes the oldest sent frame into buf; returns its length, or SP_EAGAIN when none. */
int sp_mem_take(struct sp_device *dev, uint8_t *buf, size_t cap);
size_t sp_mem_pending_tx(const struct sp_device *dev);
/* A memory device with offloads (SP_OFFLOAD_x): its slots then hold SP_OFFLOAD_MAX_FRAME bytes
 * when TSO4 is on, and frames carry metadata, so that tests drive super-segments and partial or
 * vouched-for checksums through the real interface. */
struct sp_device *sp_mem_open_offload(uint16_t mtu, size_t depth, uint32_t offloads);
int sp_mem_inject_meta(struct sp_device *dev, const uint8_t *frame, size_t len, const struct sp_frame_meta *meta);
int sp_mem_take_meta(struct sp_device *dev, uint8_t *buf, size_t cap, struct sp_frame_meta *meta);

/* Reads frames from a pcap file as if they arrived on the wire; recv gives SP_EOF at the end.
 * Link types: Ethernet (1) gives an SP_LINK_ETHERNET device; raw IP (12 and 101, LINKTYPE_RAW)
 * and IPv4 (228) an SP_LINK_RAW_IP one; any other is refused with a message naming it. Sent frames are discarded (send returns 0); wrap the replay device in a pcap
 * writer to keep them. */
struct sp_device *sp_pcap_replay_open(const char *path, uint16_t mtu, char *err, size_t errlen);

/* --- Wrappers (each takes ownership of `inner`) ---------------------------------------------
 * On success, closing the wrapper closes `inner`. On failure (NULL) the caller still owns `inner`.
 * mtu and fd are the inner device's. */

#define SP_PCAP_RX 1
#define SP_PCAP_TX 2
/* Writes the frames of the chosen directions to a pcap file of the inner device's link type
 * (Ethernet, or LINKTYPE_RAW 101 for a raw-IP device), flushed on close and by
 * sp_pcap_writer_flush. The frame number of the last frame written: sp_pcap_writer_count.
 * Received frames are recorded as returned to the caller; sent frames as handed to the writer,
 * before the inner device can refuse or lose them. An offloaded frame is recorded as the wire
 * frames it stands for (a super-segment cut into MSS-sized segments, a partial checksum filled
 * in), each counted. The wrapper has the inner device's offloads. */
struct sp_device *sp_pcap_writer_open(struct sp_device *inner, const char *path, int dirs,
                                      char *err, size_t errlen);
void sp_pcap_writer_flush(struct sp_device *dev);
uint64_t sp_pcap_writer_count(const struct sp_device *dev);

/* Drops or corrupts frames in both directions with the given chances (0..1), deterministic for a
 * seed. Corruption flips one bit inside an IPv4 datagram, so that the IP, ICMP, UDP and TCP
 * checksums must catch it; what no checksum covers (the Ethernet header, trailer padding, ARP)
 * is never corrupted, as a real link's FCS would have dropped such a frame. An offloaded frame
 * meets its fate whole: a super-segment is dropped with all the segments it stands for; one picked
 * for corruption has its checksum completed (and the device's vouching removed) before the bit
 * flips when received, so the stack catches it, and is dropped when sent (the kernel would
 * checksum the flipped bit into a valid segment). The wrapper has the inner device's offloads. */
struct sp_fault_opts {
    double drop_chance;
    double corrupt_chance;
    uint64_t seed;
};
struct sp_device *sp_fault_open(struct sp_device *inner, const struct sp_fault_opts *opts);
struct sp_fault_stats {
    uint64_t rx_dropped, tx_dropped, rx_corrupted, tx_corrupted;
};
void sp_fault_get_stats(const struct sp_device *dev, struct sp_fault_stats *out);

#endif
