/* Private to stack/: the interface's state and the calls between its protocol modules. */
#ifndef SP_IFACE_INTERNAL_H
#define SP_IFACE_INTERNAL_H

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
    sp_time_t last_used;    /* LRU replacement */
    sp_time_t next_request; /* unresolved: when another request may go out */
    uint8_t tries;          /* unresolved: requests sent so far */
};

/* A frame waiting for its next hop to resolve: built completely but for the destination MAC. */
struct sp_neigh_pending {
    uint32_t next_hop;      /* 0: free slot */
    uint32_t order;         /* arrival order: frames leave in the order they were queued */
    uint16_t len;
    uint8_t frame[SP_DEFAULT_MTU + SP_ETH_HDR_LEN];
};

struct sp_neigh {
    struct sp_neigh_entry entries[SP_ARP_CACHE_SIZE];
    struct sp_neigh_pending queue[SP_ARP_QUEUE_LEN];
    uint32_t next_order;
};

/* --- Reassembly (reasm.c) ----------------------------------------------------------------- */

struct sp_reasm_range {
    uint16_t first, last;   /* byte offsets, inclusive */
};

struct sp_reasm_slot {
    bool used;
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

/* --- What handlers return: an IP packet to emit --------------------------------------------- */

enum sp_l4_kind { SP_L4_ICMP, SP_L4_UDP, SP_L4_TCP };

struct sp_ip_packet {
    struct sp_ipv4_repr ip;  /* src, dst, protocol, ttl; payload_len and ident are set on emit */
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
void sp_tcp_input(struct sp_tcp_stack *tcp, sp_time_t now, const struct sp_ipv4_repr *ip, uint8_t *seg, size_t len);
void sp_tcp_poll(struct sp_tcp_stack *tcp, sp_time_t now);
sp_time_t sp_tcp_poll_at(const struct sp_tcp_stack *tcp);

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
    uint8_t rx_buf[SP_MAX_FRAME];       /* frames read from the device */
    uint8_t tx_buf[SP_MAX_FRAME];       /* the frame being built */
    uint8_t dgram_buf[65536 + 64];      /* a datagram larger than the MTU, before fragmentation */
};

/* The one drop path: counts `reason` and logs it at debug level. */
void sp_drop(struct sp_iface *iface, enum sp_stat reason, const char *detail);
void sp_count(struct sp_iface *iface, enum sp_stat stat);
void sp_log(struct sp_iface *iface, enum sp_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* True when addr is ours or a broadcast we accept (limited or directed to our subnet). */
bool sp_iface_is_broadcast(const struct sp_iface *iface, uint32_t addr);

/* arp.c */
void sp_arp_input(struct sp_iface *iface, sp_time_t now, const struct sp_eth_repr *eth, uint8_t *buf, size_t len);
int sp_arp_send_request(struct sp_iface *iface, uint32_t target);
int sp_arp_send_gratuitous(struct sp_iface *iface);

/* neigh.c */
void sp_neigh_init(struct sp_neigh *n);
/* Learns or refreshes a mapping; when `create` is false only an existing entry is updated
 * (RFC 826's merge rule). Sends frames queued for the address. */
void sp_neigh_update(struct sp_iface *iface, sp_time_t now, uint32_t ip, struct sp_mac mac, bool create);
/* Sends frame (len bytes, destination MAC not yet set) to next_hop, or queues it and asks. */
int sp_neigh_output(struct sp_iface *iface, sp_time_t now, uint32_t next_hop, uint8_t *frame, size_t len);
void sp_neigh_poll(struct sp_iface *iface, sp_time_t now);
sp_time_t sp_neigh_poll_at(const struct sp_iface *iface);

/* ipv4.c */
/* eth is the frame's header: an on-link sender's MAC is learned from it (as smoltcp does), so
 * that a reply needs no ARP round trip. */
void sp_ipv4_input(struct sp_iface *iface, sp_time_t now, const struct sp_eth_repr *eth, uint8_t *buf, size_t len);
/* Builds, fragments when needed, resolves and sends a packet. 0 or a negative error. */
int sp_ip_output(struct sp_iface *iface, sp_time_t now, struct sp_ip_packet *pkt);

/* reasm.c: a fragment goes in; when it completes its datagram, returns true with ip updated to
 * describe the whole datagram and *out pointing at the payload and the first fragment's header
 * (both in the slot, valid until the next call). False while fragments are missing or when the
 * fragment was dropped (counted). */
struct sp_reasm_done {
    uint8_t *payload;
    const uint8_t *hdr;
    size_t hdr_len;
};
void sp_reasm_init(struct sp_iface *iface);
bool sp_reasm_input(struct sp_iface *iface, sp_time_t now, const struct sp_ipv4_view *v,
                    struct sp_ipv4_repr *ip, struct sp_reasm_done *out);
void sp_reasm_poll(struct sp_iface *iface, sp_time_t now);
sp_time_t sp_reasm_poll_at(const struct sp_iface *iface);

/* icmp.c */
void sp_icmp_input(struct sp_iface *iface, sp_time_t now, const struct sp_ipv4_repr *ip, uint8_t *buf, size_t len);
/* Sends a destination-unreachable error about the datagram whose header starts at orig (the
 * rules of RFC 1122 3.2.2 decide whether one may be sent at all). */
void sp_icmp_send_unreachable(struct sp_iface *iface, sp_time_t now, uint8_t code,
                              const struct sp_ipv4_repr *orig_ip, const uint8_t *orig_hdr,
                              size_t orig_hdr_len, const uint8_t *orig_payload, size_t orig_payload_len);

/* udp.c */
void sp_udp_input(struct sp_iface *iface, sp_time_t now, const struct sp_ipv4_repr *ip,
                  const uint8_t *hdr, size_t hdr_len, uint8_t *buf, size_t len);

#endif
