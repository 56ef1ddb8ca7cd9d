/* The interface: one virtual IPv4 host on one device. Frames go in through sp_iface_ingress with
 * the current time; replies are built and sent from there; sp_iface_poll_at says when the stack
 * next needs sp_iface_poll (ARP retries and expiry, reassembly timeouts, TCP timers). The stack
 * never reads a clock and never blocks. */
#ifndef SLOWPATH_IFACE_H
#define SLOWPATH_IFACE_H

#include "slowpath/layer_stack.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slowpath/device.h"
#include "slowpath/stats.h"
#include "slowpath/tcp.h"
#include "slowpath/time.h"
#include "slowpath/wire/ethernet.h"

struct sp_iface;

enum sp_log_level { SP_LOG_ERROR, SP_LOG_INFO, SP_LOG_DEBUG };
typedef void (*sp_log_fn)(void *data, enum sp_log_level level, const char *line);

struct sp_iface_config {
    struct sp_mac mac;
    uint32_t ip;            /* host order */
    uint8_t prefix_len;     /* 1..32 */
    uint32_t gateway;       /* next hop for off-link destinations; 0: none (counted no_route) */
    uint16_t mtu;           /* 0: the device's */
    uint64_t secret;        /* keys ISNs and IP identifiers; pick it at random in production */
    sp_log_fn log;          /* NULL: silent */
    void *log_data;
    enum sp_log_level log_level;
    struct sp_tcp_config tcp; /* TCP limits and default sizes; zeroed: opts.h's defaults */
};

/* Builds an interface on dev (which the caller still owns and must outlive it) and announces the
 * address with a gratuitous ARP. NULL on bad configuration or out of memory. */
struct sp_iface *sp_iface_new(const struct sp_iface_config *cfg, struct sp_device *dev, sp_time_t now);
void sp_iface_free(struct sp_iface *iface);

/* Processes one received frame. The frame is only read, and nothing points into it after the call
 * (a parked decision keeps a copy), so the caller may reuse the buffer at once. */
void sp_iface_ingress(struct sp_iface *iface, sp_time_t now, const uint8_t *frame, size_t len);

/* sp_iface_ingress for a frame with offload metadata (device.h): a TCPv4 super-segment is taken
 * as one large segment, a checksum the device vouched for (NEEDS_CSUM, DATA_VALID) is not checked
 * again. Metadata the device's offloads do not allow is dropped (drop_offload_bad_meta). */
void sp_iface_ingress_meta(struct sp_iface *iface, sp_time_t now, const uint8_t *frame, size_t len,
                          const struct sp_frame_meta *meta);

/* Reads and processes up to max_frames frames from the device. Returns the number processed,
 * SP_EOF when a finite device is exhausted, or another negative device error. */
int sp_iface_poll_device(struct sp_iface *iface, sp_time_t now, int max_frames);

/* Runs every timer that is due at `now`. */
void sp_iface_poll(struct sp_iface *iface, sp_time_t now);

/* The earliest time sp_iface_poll has work, or SP_TIME_NEVER. */
sp_time_t sp_iface_poll_at(const struct sp_iface *iface);

/* The frames the stack exchanged with its device, counted as a capture wrapping the device (a
 * pcap writer, say) records them: received ones as sp_iface_poll_device read them, sent ones as
 * they were handed to the device, whether or not it then lost them. Frames given to
 * sp_iface_ingress directly never passed the device and are not counted. */
struct sp_frame_count {
    uint64_t received, sent;
};
struct sp_frame_count sp_iface_frame_count(const struct sp_iface *iface);

const struct sp_stats *sp_iface_stats(const struct sp_iface *iface);
const struct sp_iface_config *sp_iface_config(const struct sp_iface *iface);
struct sp_device *sp_iface_device(const struct sp_iface *iface);
/* The time passed with the latest call into the stack: socket calls made from callbacks (or
 * between wake-ups) are stamped with it. */
sp_time_t sp_iface_now(const struct sp_iface *iface);
/* Advances the stack's notion of now without other work (for sends made outside callbacks). */
void sp_iface_set_now(struct sp_iface *iface, sp_time_t now);

/* Neighbour cache inspection, for tests and the status page: fills *mac and returns true when
 * addr has a resolved, unexpired entry. */
bool sp_iface_neighbour(const struct sp_iface *iface, uint32_t addr, struct sp_mac *mac);
/* The number of resolved, unexpired entries in the neighbour cache (the operator's gauge). */
size_t sp_iface_neighbour_count(const struct sp_iface *iface);

#endif
