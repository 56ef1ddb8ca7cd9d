/* Device offloads on the wire: the metadata a device (device.h) attaches to a frame that is not yet
 * what the wire carries, and what a device or a capture needs to turn an offloaded frame (device.h,
 * struct sp_frame_meta) into the wire frames it stands for. Used where the wire must be seen as a
 * peer sees it (the pcap writer, the fault injector) and where a device cannot take the frame as
 * it is (the stack's fallback when a next hop is unresolved or the device has no offloads). */
#ifndef SLOWPATH_WIRE_OFFLOAD_H
#define SLOWPATH_WIRE_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slowpath/wire/ethernet.h"
#include "slowpath/wire/ipv4.h"

/* What a device says of one frame (the virtio-net header's meaning, host order). */
#define SP_FRAME_NEEDS_CSUM 1u      /* the 16 bits at csum_start + csum_offset hold the pseudo-header
                                     * sum; the sum of the bytes from csum_start to the end is still
                                     * to be added (the data came from the host, never crossed a wire) */
#define SP_FRAME_DATA_VALID 2u      /* the kernel verified the checksums */
#define SP_GSO_NONE 0u
#define SP_GSO_TCPV4 1u
struct sp_frame_meta {
    uint8_t flags;          /* SP_FRAME_x */
    uint8_t gso_type;       /* SP_GSO_x */
    uint16_t gso_size;      /* TCP payload bytes per segment the super-segment stands for */
    uint16_t hdr_len;       /* Ethernet + IP + TCP header bytes (a hint, as in virtio) */
    uint16_t csum_start;    /* NEEDS_CSUM: where the checksummed part starts, from the frame's start */
    uint16_t csum_offset;   /* ... and where the checksum field is, from csum_start */
};

/* The largest frame a device with TSO may carry: a 64 KB IPv4 datagram behind Ethernet. */
#define SP_OFFLOAD_MAX_FRAME (65535u + SP_ETH_HDR_LEN)

/* True when the frame is something other than a wire frame (a super-segment or a partial
 * checksum). */
static inline bool sp_offload_pending(const struct sp_frame_meta *m)
{
    return m && (m->gso_type != SP_GSO_NONE || (m->flags & SP_FRAME_NEEDS_CSUM));
}

/* Fills in a partial checksum (SP_FRAME_NEEDS_CSUM) in place, covering csum_start to the end of
 * the IPv4 datagram (not Ethernet padding), and clears the flag. SP_EMALFORMED when csum_start /
 * csum_offset lie outside the frame. A frame without the flag is left alone (0). */
int sp_offload_csum_complete(uint8_t *frame, size_t len, struct sp_frame_meta *m);

/* Cutting a TCPv4 super-segment into segments of gso_size payload bytes, as Linux's GSO does:
 * the IP identification goes up by one per segment, every header checksum and TCP checksum is
 * computed, FIN and PSH stay on the last segment only and CWR on the first. */
struct sp_offload_cut {
    const uint8_t *frame;
    size_t hdr_len;         /* Ethernet + IP + TCP headers */
    size_t ip_off;          /* where the IP header starts */
    size_t payload_len, off;
    uint16_t mss;
    uint8_t flags;          /* the super-segment's TCP flags */
    uint32_t seq;
    struct sp_ipv4_repr ip;
    unsigned i;
};
/* SP_EINVAL when the frame is not a TCPv4 super-segment this can cut (a 20-byte IP header, a
 * valid TCP header, gso_size > 0). */
int sp_offload_cut_init(struct sp_offload_cut *c, const uint8_t *frame, size_t len, const struct sp_frame_meta *m);
/* Writes the next segment into out (cap bytes, at least hdr_len + mss); returns its length, 0
 * when every segment was written, SP_EMSGSIZE when cap is too small. */
int sp_offload_cut_next(struct sp_offload_cut *c, uint8_t *out, size_t cap);

/* How many wire frames a frame stands for: 1 unless it is a super-segment. */
unsigned sp_offload_frames(const uint8_t *frame, size_t len, const struct sp_frame_meta *m);

#endif
