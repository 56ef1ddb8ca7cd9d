/* Private to stack/: the interface's state and the calls between its protocol modules. */
#ifndef SP_IFACE_INTERNAL_H
#define SP_IFACE_INTERNAL_H

#include "slowpath/decide.h"
#include "slowpath/error.h"
#include "slowpath/iface.h"
#include "slowpath/opts.h"
#include "slowpath/udp.h"
#include "slowpath/wire/arp.h"
#include "slowpath/wire/checksum.h"
#include "slowpath/wire/ethernet.h"
#include "slowpath/wire/icmp.h"
#include "slowpath/wire/ipv4.h"
#include "slowpath/wire/tcp.h"
#include "slowpath/wire/udp.h"

/* --- Neighbour cache (neigh.c) ------------------------------------------------------------ */

struct sp_neigh_entry {
    uint32_t ip;            /* 0: free slot */
    struct sp_mac mac;
    bool resolved;
    sp_time_t expires;      /* resolved: when the entry lapses */
    bool sent;              /* a frame of ours went (or waits) to it: last_used says when */
    sp_time_t last_used;    /* the last such frame: an entry in use is replaced last (neigh.c) */
    sp_time_t next_request; /* unresolved: when another request may go out */
    uint8_t tries;          /* unresolved: requests sent so far */
};

/* A frame waiting for its next hop to resolve: built completely but for the destination MAC. */
struct sp_neigh_pending {
    uint32_t next_hop;      /* 0: free slot */
    uint32_t order;         /* arrival order: frames leave in the order they were queued */
    uint16_t len;
    uint8_t frame[SP_MAX_FRAME];
};

struct sp_neigh {
    struct sp_neigh_entry entries[SP_ARP_CACHE_SIZE];
    struct sp_neigh_pending queue[SP_ARP_QUEUE_LEN];
    uint32_t next_order;
    /* Entries at [used, SP_ARP_CACHE_SIZE) are all free (new ones take the lowest free slot), so
     * the lookups a frame makes and the poll_at the loop asks on every turn look at the few
     * neighbours there are, not at every slot. */
    size_t used;
};

/* --- Reassembly (reasm.c) ----------------------------------------------------------------- */

struct sp_reasm_range {
    uint16_t first, last;   /* byte offsets, inclusive */
};

struct sp_reasm_slot {
    bool used;
    uint32_t order;         /* when the datagram began, relative to the others held: the oldest
                             * is evicted first */
    uint32_t src, dst;
    uint16_t ident;
    uint8_t protocol;
    sp_time_t deadline;
    int32_t total_len;      /* payload length, known once the last fragment came; -1 before */
    uint8_t first_hdr[SP_IPV4_MAX_HDR_LEN];  /* header of the first fragment, for ICMP quotes */
    uint8_t first_hdr_len;
    uint16_t nranges;
    struct sp_reasm_range ranges[SP_REASM_MAX_HOLES];
    uint8_t data[SP_REASM_MAX_DATAGRAM];
};

/* --- What handlers send: an IP packet as reprs, which sp_ip_output turns into bytes ---------- */

enum sp_l4_kind { SP_L4_ICMP, SP_L4_UDP, SP_L4_TCP };

struct sp_ip_packet {
    struct sp_ipv4_repr ip;  /* src, dst, protocol, ttl; payload_len and ident are set on emit */
    bool keep_ident;         /* ip.ident was chosen (a legal decision's): not the next one */
    uint16_t gso_size;       /* TCP: the segment may be a super-segment cut at this many payload
                              * bytes (the device's TSO or, failing it, sp_ip_output); 0: never */
    enum sp_l4_kind kind;
    union {
        struct sp_icmp_repr icmp;
        struct sp_udp_repr udp;
        struct sp_tcp_repr tcp;
    } l4;
};

/* --- TCP (tcp*.c) -------------------------------------------------------------------------- */

struct sp_tcp_stack;
struct sp_tcp_stack *sp_tcp_stack_new(struct sp_iface *iface);
void sp_tcp_stack_free(struct sp_tcp_stack *tcp);
/* A segment addressed to us whose IP header (ip) was checked; seg/len is the TCP header onward.
 * Checksum, options and everything else are the TCP module's to check and count. */
void sp_tcp_input(struct sp_tcp_stack *tcp, sp_time_t now, const struct sp_ipv4_repr *ip, const uint8_t *seg,
                  size_t len);
void sp_tcp_poll(struct sp_tcp_stack *tcp, sp_time_t now);
/* Frames drained from the device in one go: between begin and end, connections send their ACKs
 * and data once, at the end (tcp_batch.c). */
void sp_tcp_batch_begin(struct sp_tcp_stack *tcp);
void sp_tcp_batch_end(struct sp_tcp_stack *tcp, sp_time_t now);
sp_time_t sp_tcp_poll_at(const struct sp_tcp_stack *tcp);
/* An ICMP error (icmp: type, code, next-hop MTU) quoting q, a TCP segment from our address
 * (icmp.c checked that much); tcp_icmp.c does the rest of RFC 5927's checks and reacts. */
void sp_tcp_icmp_input(struct sp_tcp_stack *tcp, sp_time_t now, const struct sp_icmp_repr *icmp,
                       const struct sp_icmp_quote *q);

/* --- Decisions (decide.c, validate*.c) ------------------------------------------------------
 *
 * A protocol module hands a decision out like this (icmp.c and arp.c are the examples; TCP plugs
 * in the same way):
 *
 *   if (sp_decision_is_native(iface, KIND)) { answer natively, as always; return; }
 *   struct sp_decision_entry *e;
 *   switch (sp_decision_open(iface, now, KIND, &flow, identity, packet_len, &e)) {
 *   case SP_DECISION_ANSWER: answer natively now (table full, too big, or a repeat in shadow);
 *   case SP_DECISION_WAIT:   a repeat of a parked request: send nothing (counted joined);
 *   case SP_DECISION_PARK:   fill e->req (packet and native copied into e->packet / e->native,
 *                            the reprs with any pointers into e->packet, tcp fields), set e->owner
 *                            if the module keeps an object for it, then sp_decision_ask(iface, now,
 *                            e) and touch e no more: the decider may complete it inside the call.
 *   }
 *
 * The module registers its sp_decision_ops for the kind (sp_decision_set_ops; icmp and arp are
 * registered by sp_decision_init). On completion decide.c validates and calls send_proposal with
 * what the validator built, or send_native on fallback (and at once in shadow mode), then
 * finished (optional) with what became of it, then frees the entry. An object the module keeps for
 * a parked request (a TCP connection in SYN-RECEIVED) that goes away first must call
 * sp_decision_cancel_owner, which ends its entries as dropped (error SP_ECLOSED). */

/* What the validator builds from a valid proposal: the reply to emit, never the model's bytes.
 * action says what the answer is (DROP: silence, legal only; RST / SYN_ACK / ACK for tcp; REPLY
 * for icmp and arp); ip is for icmp and tcp (data and payload point into the request's copy, never
 * into the proposal), arp for arp (the frame goes to arp.tha). */
struct sp_decision_built {
    enum sp_proposal_action action;
    struct sp_ip_packet ip;
    struct sp_arp_repr arp;
};

struct sp_decision_entry {
    bool used;
    bool asked;                    /* decide was called: sp_decision_complete may name it */
    bool closing;                  /* being completed: lookups skip it (re-entrancy) */
    uint64_t identity;             /* the request within its flow: ICMP seq, ARP sender, TCP peer ISN */
    void *owner;                   /* the module's object for this request (TCP), or NULL */
    struct sp_decision_request req; /* packet / native point into the arrays below */
    uint8_t packet[SP_DECISION_MAX_PACKET];
    uint8_t native[SP_DECISION_MAX_PACKET];
};

struct sp_decision_ops {
    /* Sends the native answer to the parked request. 0 when a frame went out (or was queued for
     * ARP resolution), else a negative error. */
    int (*send_native)(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e);
    /* Sends a validated proposal: `built` is what the validator made of it (for tcp the module
     * also updates its connection from p's fields / built->ip.l4.tcp and sends the segment). */
    int (*send_proposal)(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e,
                         const struct sp_decision_proposal *p, const struct sp_decision_built *built);
    /* Optional: the request is over (after any send); e is freed right after. TCP frees an
     * embryonic connection that was dropped here. */
    void (*finished)(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e,
                     enum sp_decision_action action, bool emitted);
};

struct sp_decision_kind_state {
    enum sp_decision_mode mode;
    struct sp_decider decider;
    const struct sp_decision_ops *ops;
    struct sp_decision_stats stats;
};

struct sp_decisions {
    struct sp_decision_kind_state kinds[SP_DECISION_KINDS];
    enum sp_invalid_policy policy;
    enum sp_authority authority;
    sp_time_t timeout;
    uint64_t next_id;
    unsigned npending;                  /* entries in use: poll and poll_at skip an empty table */
    struct sp_decision_entry *entries;  /* SP_DECISION_PENDING, allocated once */
};

enum sp_decision_open_result { SP_DECISION_ANSWER, SP_DECISION_WAIT, SP_DECISION_PARK };

int sp_decision_init(struct sp_iface *iface);      /* 0 or SP_ENOBUFS */
void sp_decision_free(struct sp_iface *iface);
void sp_decision_set_ops(struct sp_iface *iface, enum sp_decision_kind kind, const struct sp_decision_ops *ops);
/* Looks the request up among the parked ones and, for a new one, takes an entry whose req has
 * id, kind, mode, flow, deadline and who-we-are filled in (everything else zeroed). */
enum sp_decision_open_result sp_decision_open(struct sp_iface *iface, sp_time_t now, enum sp_decision_kind kind,
                                              const struct sp_flow *flow, uint64_t identity, size_t packet_len,
                                              struct sp_decision_entry **out);
/* Shadow: sends the native answer first. Then asks the decider; an error from it applies the
 * policy at once. The entry may be gone when this returns. */
void sp_decision_ask(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e);
/* Gives back an entry from sp_decision_open that was never asked. */
void sp_decision_release(struct sp_iface *iface, struct sp_decision_entry *e);
void sp_decision_cancel_owner(struct sp_iface *iface, sp_time_t now, const void *owner);
void sp_decision_poll(struct sp_iface *iface, sp_time_t now);
sp_time_t sp_decision_poll_at(const struct sp_iface *iface);

/* The validators (validate_*.c): pure functions of (request, proposal). `built` may be NULL. */
enum sp_verdict sp_validate_icmp(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                 struct sp_decision_built *built);
enum sp_verdict sp_validate_arp(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                struct sp_decision_built *built);
enum sp_verdict sp_validate_tcp(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                struct sp_decision_built *built);
/* Shadow grading of a valid proposal: does it mean the same as the native answer? */
bool sp_decision_matches_native(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                const struct sp_decision_built *built);
/* Legal authority: where the valid answer `built` departs from the native one (bits of
 * SP_DEVIATION_x), with the values it carries in *chosen. next_ident is the IP identification the
 * stack would give the native answer now. */
uint32_t sp_decision_deviations(const struct sp_decision_request *req, const struct sp_decision_built *built,
                                uint16_t next_ident, struct sp_decision_chosen *chosen);

extern const struct sp_decision_ops sp_icmp_decision_ops;
extern const struct sp_decision_ops sp_arp_decision_ops;

/* --- The interface -------------------------------------------------------------------------- */

struct sp_iface {
    struct sp_iface_config cfg;
    struct sp_device *dev;
    uint16_t mtu;
    sp_time_t now;
    struct sp_stats stats;
    struct sp_neigh neigh;
    struct sp_reasm_slot *reasm;        /* SP_REASM_SLOTS, allocated once */
    uint16_t next_ip_ident;
    double icmp_err_tokens;             /* rate limit for ICMP errors */
    sp_time_t icmp_err_refill;
    struct sp_udp_socket *udp_sockets;
    uint16_t udp_next_ephemeral;
    struct sp_tcp_stack *tcp;
    struct sp_decisions decide;         /* decision points: modes, deciders, pending table */
    struct sp_frame_count frames;       /* exchanged with dev: what a capture around it numbers */
    uint8_t rx_buf[SP_MAX_FRAME];       /* frames read from the device (no TSO) */
    /* Offloads (device.h): taken from the device at creation. With TSO4 the device hands over and
     * takes 64 KB super-segments: rx_big receives them, tso_buf builds them (both allocated only
     * then, so a plain interface costs no more memory). */
    uint32_t offloads;
    uint8_t *rx_big;
    uint8_t *tso_buf;
    bool rx_csum_ok;                    /* the frame being processed: its device vouched for its
                                         * L4 checksum (NEEDS_CSUM or DATA_VALID) */
    uint8_t tx_buf[SP_MAX_FRAME];       /* the frame being built */
    uint8_t dgram_buf[65536 + 64];      /* a datagram larger than the MTU, before fragmentation */
};

/* Decisions: true when the kind answers natively (the fast path: no copy, no lookup). */
static inline bool sp_decision_is_native(const struct sp_iface *iface, enum sp_decision_kind kind)
{
    return iface->decide.kinds[kind].mode == SP_DECIDE_NATIVE;
}

/* The one drop path: counts `reason` and logs it at debug level. */
void sp_drop(struct sp_iface *iface, enum sp_stat reason, const char *detail);
void sp_count(struct sp_iface *iface, enum sp_stat stat);
void sp_log(struct sp_iface *iface, enum sp_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Hands a finished frame to the device, counted (frames.sent) whatever the device then does with
 * it, as a capture wrapping the device would record it. The device's result. */
int sp_iface_send_frame(struct sp_iface *iface, const uint8_t *frame, size_t len);
/* The same for a frame with offload metadata standing for `frames` wire frames. */
int sp_iface_send_frame_meta(struct sp_iface *iface, const uint8_t *frame, size_t len,
                             const struct sp_frame_meta *meta, unsigned frames);
/* True when the interface may send TCP super-segments (the device takes TSO4 and partial
 * checksums). */
static inline bool sp_iface_tso(const struct sp_iface *iface)
{
    return (iface->offloads & (SP_OFFLOAD_TSO4 | SP_OFFLOAD_CSUM)) == (SP_OFFLOAD_TSO4 | SP_OFFLOAD_CSUM);
}

/* True when addr is ours or a broadcast we accept (limited or directed to our subnet). */
bool sp_iface_is_broadcast(const struct sp_iface *iface, uint32_t addr);

/* True when the device carries Ethernet frames, so the interface speaks ARP; false on a raw-IP
 * link (a TUN, a raw-IP capture), a point-to-point link where nothing is resolved. */
static inline bool sp_iface_has_arp(const struct sp_iface *iface)
{
    return iface->dev->link == SP_LINK_ETHERNET;
}

/* link_raw.c: the interface on a raw-IP link. The stack builds and parses Ethernet frames
 * everywhere else; only these two cross the device boundary without a link header. */
/* A received datagram (counted as a frame already): to IPv4 input as if it came from no station. */
void sp_raw_input(struct sp_iface *iface, sp_time_t now, const uint8_t *pkt, size_t len);
/* Sends the IPv4 datagram of an Ethernet frame the stack built (header and padding stripped);
 * anything else is refused and counted (drop_raw_not_ipv4): no ARP ever leaves on such a link. */
int sp_raw_send(struct sp_iface *iface, const uint8_t *frame, size_t len);
/* The bytes a built frame takes on the device: all of them on Ethernet, the datagram on raw IP. */
size_t sp_iface_wire_len(const struct sp_iface *iface, const uint8_t *frame, size_t len);

/* arp.c */
void sp_arp_input(struct sp_iface *iface, sp_time_t now, const struct sp_eth_repr *eth, const uint8_t *buf,
                  size_t len);
int sp_arp_send_request(struct sp_iface *iface, uint32_t target);
int sp_arp_send_gratuitous(struct sp_iface *iface);

/* neigh.c */
void sp_neigh_init(struct sp_neigh *n);
/* Learns or refreshes a mapping; when `create` is false only an existing entry is updated
 * (RFC 826's merge rule). Sends frames queued for the address. */
void sp_neigh_update(struct sp_iface *iface, sp_time_t now, uint32_t ip, struct sp_mac mac, bool create);
/* Sends frame (len bytes, destination MAC not yet set) to next_hop, or queues it and asks. */
int sp_neigh_output(struct sp_iface *iface, sp_time_t now, uint32_t next_hop, uint8_t *frame, size_t len);
/* An offloaded frame (standing for `frames` wire frames) to a resolved unicast next hop: sent as
 * it is. SP_ENOROUTE, nothing sent, when the hop is not resolved: the caller cuts the frame and
 * sends its pieces through sp_neigh_output (which queues and asks). */
int sp_neigh_output_meta(struct sp_iface *iface, sp_time_t now, uint32_t next_hop, uint8_t *frame, size_t len,
                         const struct sp_frame_meta *meta, unsigned frames);
void sp_neigh_poll(struct sp_iface *iface, sp_time_t now);
sp_time_t sp_neigh_poll_at(const struct sp_iface *iface);

/* ipv4.c */
/* eth is the frame's header: an on-link sender's MAC is learned from it (as smoltcp does), so
 * that a reply needs no ARP round trip. */
void sp_ipv4_input(struct sp_iface *iface, sp_time_t now, const struct sp_eth_repr *eth, const uint8_t *buf,
                   size_t len);
/* Builds, fragments when needed, resolves and sends a packet. 0 or a negative error. */
int sp_ip_output(struct sp_iface *iface, sp_time_t now, struct sp_ip_packet *pkt);

/* reasm.c: a fragment goes in; when it completes its datagram, returns true with ip updated to
 * describe the whole datagram and *out pointing at the payload and the first fragment's header
 * (both in the slot, valid until the next call). False while fragments are missing or when the
 * fragment was dropped (counted). */
struct sp_reasm_done {
    const uint8_t *payload;
    const uint8_t *hdr;
    size_t hdr_len;
};
void sp_reasm_init(struct sp_iface *iface);
bool sp_reasm_input(struct sp_iface *iface, sp_time_t now, const struct sp_ipv4_view *v,
                    struct sp_ipv4_repr *ip, struct sp_reasm_done *out);
void sp_reasm_poll(struct sp_iface *iface, sp_time_t now);
sp_time_t sp_reasm_poll_at(const struct sp_iface *iface);

/* icmp.c */
void sp_icmp_input(struct sp_iface *iface, sp_time_t now, const struct sp_ipv4_repr *ip, const uint8_t *buf,
                   size_t len);
/* Sends a destination-unreachable error about the datagram whose header starts at orig (the
 * rules of RFC 1122 3.2.2 decide whether one may be sent at all). */
void sp_icmp_send_unreachable(struct sp_iface *iface, sp_time_t now, uint8_t code,
                              const struct sp_ipv4_repr *orig_ip, const uint8_t *orig_hdr,
                              size_t orig_hdr_len, const uint8_t *orig_payload, size_t orig_payload_len);

/* udp.c */
void sp_udp_input(struct sp_iface *iface, sp_time_t now, const struct sp_ipv4_repr *ip,
                  const uint8_t *hdr, size_t hdr_len, const uint8_t *buf, size_t len);

#endif
