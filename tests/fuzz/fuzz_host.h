/* The host the stateful fuzz targets (fuzz_frames, fuzz_decisions, fuzz_pcap_replay) drive: one
 * interface on a checking device, with the daemon's services (UDP and TCP echo on 7, discard on 9,
 * HTTP on 80), a listener on FZ_PORT_MANUAL whose connections the input drives (read, write,
 * shutdown, close, abort, buffer sizes), and active opens the input starts.
 *
 * Every frame the stack hands to the device is parsed back with the wire layer before the device
 * takes it (fz_check_frame): a frame that does not parse, carries a wrong checksum, comes from an
 * address that is not ours or goes where no host may send aborts the process, with the stack that
 * sent it on the call stack. Fragments are put back together to check the checksum of the whole
 * datagram.
 *
 * An input is a sequence of records:
 *
 *   record := fix:u8 op:u8 dt_ms:u16be len:u16be bytes[len]
 *
 * dt_ms: virtual time passes (every timer due on the way runs) before the frame; bytes: an
 * Ethernet frame given to sp_iface_ingress (len 0: none; a len past the end of the input takes
 * what is left); op: an application step after the frame (fz_host_op); fix: repairs made to the
 * frame first, so that mutations of a good exchange keep reaching the stack's deeper states:
 *   FZ_FIX_ADDR  Ethernet and IPv4 destination (and ARP target) made ours unless a broadcast;
 *   FZ_FIX_ACK   a TCP segment's ack aimed at the end of what the stack sent on that flow;
 *   FZ_FIX_SEQ   its seq at what the stack last acknowledged there (the stack's ISN and what it
 *                expects next are otherwise hard for a fuzzer to guess);
 *   FZ_FIX_DUP   its ack the one the input last sent on that flow (duplicate ACKs, fast
 *                retransmit and recovery);
 *   FZ_FIX_CSUM  IPv4 header and TCP / UDP / ICMP checksums recomputed (unfragmented datagrams).
 * The other bits of fix are the targets' own (fuzz_decisions marks its decision records).
 *
 * A host with offloads (fz_host_new_offload; fuzz_frames: FZ_FRAMES_OFFLOAD in the first
 * record's fix, fuzz_decisions: bit 0 of config[2]) has a checking device with SP_OFFLOAD_CSUM |
 * SP_OFFLOAD_TSO4, as a TAP with IFF_VNET_HDR: the stack sends TCP super-segments with partial
 * checksums through send_meta, and the checker holds their metadata to what the frame is (a
 * partial checksum at the TCP / UDP field holding the pseudo-header's sum, gso_type TCPv4 only
 * with TSO4, hdr_len the headers, gso_size within the peer's MSS), completes and cuts them itself
 * into wire segments, each checked as a plain frame and compared with what the wire helpers cut.
 * There every record's bytes start with metadata, then the frame, given to sp_iface_ingress_meta:
 *
 *   bytes := flags:u8 gso_type:u8 gso_size:u16be hdr_len:u16be csum_start:u16be
 *            csum_offset:u16be frame          (FZ_META_LEN bytes, then the frame; fewer: no frame)
 *
 * taken as they are (unknown flags and gso types included), unless FZ_FIX_CSUM: then a TCP / UDP
 * datagram's csum_start / offset, a super-segment's gso_type, hdr_len and a gso_size of 0 are
 * made right, and the checksum is the pseudo-header's sum with NEEDS_CSUM, else the whole one.
 * Every host also checks that no segment carries more text than the MSS the peer announced. */
#ifndef SP_FUZZ_HOST_H
#define SP_FUZZ_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slowpath/device.h"
#include "slowpath/iface.h"
#include "slowpath/time.h"
#include "slowpath/wire/ethernet.h"

/* The network: us 192.0.2.2/24 behind gateway 192.0.2.254, the peer 192.0.2.1, a far host. */
#define FZ_IP_US 0xc0000202u
#define FZ_IP_PEER 0xc0000201u
#define FZ_IP_GW 0xc00002feu
#define FZ_IP_FAR 0xc6336407u /* 198.51.100.7, reached through the gateway */
#define FZ_MAC_US ((struct sp_mac){{0x02, 0, 0, 0, 0, 0x02}})
#define FZ_MAC_PEER ((struct sp_mac){{0x02, 0, 0, 0, 0, 0x01}})
#define FZ_MAC_GW ((struct sp_mac){{0x02, 0, 0, 0, 0, 0xfe}})
#define FZ_T0 1000u
#define FZ_PORT_MANUAL 5001
#define FZ_SLOTS 8
/* Records read from one input: enough for long exchanges, few enough that an input stays fast. */
#define FZ_MAX_RECORDS 512

#define FZ_REC_HDR 6
#define FZ_FIX_CSUM 0x01
#define FZ_FIX_ACK 0x02
#define FZ_FIX_ADDR 0x04
#define FZ_FIX_SEQ 0x08
#define FZ_FIX_DUP 0x10
/* fuzz_frames: set in the first record's fix, a host with offloads (the record is still read). */
#define FZ_FRAMES_OFFLOAD 0x80
#define FZ_META_LEN 10
#define FZ_OFFLOADS (SP_OFFLOAD_CSUM | SP_OFFLOAD_TSO4)

struct fz_record {
    uint8_t fix, op;
    uint16_t dt;
    const uint8_t *data;
    size_t len;
};

/* Takes the next record off the input; false at its end (a partial header is ignored). */
bool fz_next_record(const uint8_t **p, size_t *n, struct fz_record *r);
/* Appends a record to out (the seed generator's side); the new length, or 0 when it does not fit. */
size_t fz_put_record(uint8_t *out, size_t at, size_t cap, uint8_t fix, uint8_t op, uint16_t dt,
                     const uint8_t *data, size_t len);

/* Application steps: op = kind | slot << 3 | variant << 6 (kind 0..7, slot 0..7, variant 0..3). */
enum fz_op_kind {
    FZ_OP_SET,      /* slot picks a setting for connection `variant` (nodelay, buffers, ...) */
    FZ_OP_RECV,     /* read up to {1, 100, 4096, all} bytes */
    FZ_OP_SEND,     /* write {1, 536, 4000, 70000} bytes */
    FZ_OP_SHUTDOWN,
    FZ_OP_CLOSE,
    FZ_OP_ABORT,
    FZ_OP_CONNECT,  /* active open into slot: the peer's port 80 + variant, or the far host (3) */
    FZ_OP_UDP,      /* a datagram of {1, 100, 1472, 3000} bytes to the peer's port 7 */
};
static inline uint8_t fz_op(enum fz_op_kind kind, unsigned slot, unsigned variant)
{
    return (uint8_t)(kind | (slot & 7) << 3 | (variant & 3) << 6);
}

struct fz_host;

/* A host at FZ_T0. source (may be NULL) is a device the host reads frames from with
 * sp_iface_poll_device (fuzz_pcap_replay); the host closes it. The gratuitous ARP of the start is
 * checked like every frame. */
struct fz_host *fz_host_new(struct sp_device *source);
/* The same with a checking device that has offloads (SP_OFFLOAD_x; 0 is fz_host_new): records then
 * carry metadata before their frames. */
struct fz_host *fz_host_new_offload(struct sp_device *source, uint32_t offloads);
void fz_host_free(struct fz_host *h);
struct sp_iface *fz_host_iface(const struct fz_host *h);
sp_time_t fz_host_now(const struct fz_host *h);

/* Runs every timer due up to `now`, each at its own time, as the loop edge does; aborts when
 * sp_iface_poll_at keeps naming a time it has already been polled at (the edge would spin). */
void fz_host_advance(struct fz_host *h, sp_time_t now);
/* One record: time, the frame (repaired as fix says), the application step. */
void fz_host_step(struct fz_host *h, const struct fz_record *r);
void fz_host_op(struct fz_host *h, uint8_t op);
/* Lets virtual time run on (20 minutes) so that every retransmission, timeout and expiry plays
 * out, checked as it goes. */
void fz_host_finish(struct fz_host *h);

/* The repairs of FZ_FIX_CSUM on an IPv4 datagram (no Ethernet header): header checksum always,
 * the transport checksum when the datagram is not a fragment. Safe on any bytes. */
void fz_fix_ipv4(uint8_t *dgram, size_t len);

/* The metadata at the start of a record's bytes on a host with offloads (FZ_META_LEN bytes). */
void fz_meta_parse(const uint8_t *b, struct sp_frame_meta *m);

/* Reports a broken invariant and aborts (libFuzzer keeps the input). */
void fz_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
