/* Every tunable of the native stack, with its one documented default (in the style of lwIP's
 * opt.h). A build may override any of them with -D. */
#ifndef SLOWPATH_OPTS_H
#define SLOWPATH_OPTS_H

#include "slowpath/layer_stack.h"

#include "slowpath/wire/ethernet.h"

/* --- Interface ---------------------------------------------------------------------------- */
#ifndef SP_MAX_MTU
#define SP_MAX_MTU 1500                /* the largest IP MTU an interface takes (Ethernet's); a device
                                        * with a larger one is clamped to it, since the ARP queue's
                                        * slots and the frame buffers are sized for it */
#endif
/* Not a tunable: the largest frame sent or received, an MTU-sized datagram behind its Ethernet
 * header. A longer received frame is cut to this length, so a datagram in it fails the IPv4 view's
 * length check. */
#define SP_MAX_FRAME (SP_MAX_MTU + SP_ETH_HDR_LEN)
#ifndef SP_DEFAULT_TTL
#define SP_DEFAULT_TTL 64              /* TTL of datagrams we originate (RFC 1700 default) */
#endif

/* --- Neighbour (ARP) cache ---------------------------------------------------------------- */
#ifndef SP_ARP_CACHE_SIZE
#define SP_ARP_CACHE_SIZE 64           /* entries; when full, a neighbour learned from a packet
                                        * replaces only one not in use, our own traffic the least
                                        * recently used (stack/ip/neigh.c) */
#endif
#ifndef SP_ARP_IN_USE_MS
#define SP_ARP_IN_USE_MS 30000         /* an entry a frame of ours went to this recently is in use:
                                        * an ARP storm's new senders cannot replace it (Linux's
                                        * base_reachable_time, 30 s) */
#endif
#ifndef SP_ARP_ENTRY_TTL_MS
#define SP_ARP_ENTRY_TTL_MS 60000      /* a learned entry expires after a minute (Linux ~30-60 s) */
#endif
#ifndef SP_ARP_REQUEST_INTERVAL_MS
#define SP_ARP_REQUEST_INTERVAL_MS 1000 /* at most one request per second per address (RFC 1122) */
#endif
#ifndef SP_ARP_MAX_TRIES
#define SP_ARP_MAX_TRIES 3             /* requests before queued packets for an address are dropped */
#endif
#ifndef SP_ARP_QUEUE_LEN
#define SP_ARP_QUEUE_LEN 16            /* frames waiting for resolution, all addresses together */
#endif

/* --- IPv4 reassembly ---------------------------------------------------------------------- */
#ifndef SP_REASM_SLOTS
#define SP_REASM_SLOTS 4               /* datagrams reassembled at once; a new one past them
                                        * discards the oldest (drop_reasm_evicted). Allocated
                                        * once: the bytes held in total are bounded by
                                        * SP_REASM_SLOTS x SP_REASM_MAX_DATAGRAM (256 KiB) */
#endif
#ifndef SP_REASM_MAX_DATAGRAM
#define SP_REASM_MAX_DATAGRAM 65535    /* bytes of IP payload one slot can hold */
#endif
#ifndef SP_REASM_TIMEOUT_MS
#define SP_REASM_TIMEOUT_MS 30000      /* RFC 791 suggests 15 s; Linux uses 30 s */
#endif
#ifndef SP_REASM_MAX_HOLES
#define SP_REASM_MAX_HOLES 64          /* received ranges tracked per datagram */
#endif

/* --- ICMP --------------------------------------------------------------------------------- */
#ifndef SP_ICMP_ERROR_BURST
#define SP_ICMP_ERROR_BURST 10         /* token bucket for ICMP errors (RFC 1812 4.3.2.8) */
#endif
#ifndef SP_ICMP_ERROR_RATE_PER_S
#define SP_ICMP_ERROR_RATE_PER_S 10    /* tokens refilled per second */
#endif

/* --- UDP ---------------------------------------------------------------------------------- */
#ifndef SP_UDP_EPHEMERAL_FIRST
#define SP_UDP_EPHEMERAL_FIRST 49152   /* IANA dynamic port range (RFC 6335) */
#endif

/* --- TCP ---------------------------------------------------------------------------------- */
#ifndef SP_TCP_RTO_INITIAL_MS
#define SP_TCP_RTO_INITIAL_MS 1000     /* RFC 6298 2.1 */
#endif
#ifndef SP_TCP_RTO_MIN_MS
#define SP_TCP_RTO_MIN_MS 200          /* RFC 6298 says 1 s; 200 ms like Linux keeps LAN loss cheap */
#endif
#ifndef SP_TCP_RTO_MAX_MS
#define SP_TCP_RTO_MAX_MS 60000        /* RFC 6298 2.5 upper bound */
#endif
#ifndef SP_TCP_RTO_AFTER_SYN_LOSS_MS
#define SP_TCP_RTO_AFTER_SYN_LOSS_MS 3000 /* RFC 6298 5.7: after a lost SYN, data starts at 3 s */
#endif
#ifndef SP_TCP_SYN_RETRIES
#define SP_TCP_SYN_RETRIES 6           /* SYN / SYN-ACK retransmissions before giving up (~2 min) */
#endif
#ifndef SP_TCP_MAX_RETRIES
#define SP_TCP_MAX_RETRIES 12          /* data / FIN retransmissions before SP_ETIMEDOUT */
#endif
#ifndef SP_TCP_MSL_MS
#define SP_TCP_MSL_MS 2000             /* maximum segment lifetime; short, as a virtual host on a LAN */
#endif
#ifndef SP_TCP_TIME_WAIT_MS
#define SP_TCP_TIME_WAIT_MS (2 * SP_TCP_MSL_MS) /* RFC 9293 3.6.1 */
#endif
#ifndef SP_TCP_FIN_WAIT_2_TIMEOUT_MS
#define SP_TCP_FIN_WAIT_2_TIMEOUT_MS 60000 /* a closed handle does not wait forever for the peer's FIN */
#endif
#ifndef SP_TCP_DELACK_MS
#define SP_TCP_DELACK_MS 40            /* delayed ACK; RFC 1122 4.2.3.2 bounds it at 500 ms, RFC 9293 at 200 */
#endif
#ifndef SP_TCP_CHALLENGE_ACKS_PER_S
#define SP_TCP_CHALLENGE_ACKS_PER_S 100 /* challenge ACKs per second, all connections (RFC 5961 7) */
#endif
/* Table sizes (sp_tcp_config, the daemon's --tcp-* flags). What an entry costs on x86-64:
 *   a connection      480 B: struct sp_tcp (472 B) in its malloc chunk, plus the buffer bytes it
 *                     holds (none while idle; SP_TCP_BUF_FIRST per direction once data has
 *                     moved, doubling up to its buffer size while data waits);
 *   per connection slot 8 B of hash chain and 8 B of timer heap, reserved for SP_TCP_MAX_CONNS
 *                     at start but made resident only as they are used;
 *   a TIME-WAIT entry 48 B plus a 4 B chain, reserved alike (65536 entries: 3.4 MB);
 *   a half-open (SYN-RECEIVED) connection costs a connection; a SYN beyond the backlog costs
 *                     nothing but its SYN-ACK (a SYN cookie).
 * Measured (tests/integration/test_tcp_flood.sh): 10,000 idle connections add about 5,400 kB
 * to slowpath's RSS, 556 B each (806 B in an ASan build). */
#ifndef SP_TCP_DEFAULT_BACKLOG
#define SP_TCP_DEFAULT_BACKLOG 16384   /* handshakes in progress per listener: a burst of clients
                                        * (ab -c 100 and the like) never waits on it, and a flood
                                        * beyond it gets SYN cookies, not state */
#endif
#ifndef SP_TCP_MAX_CONNS
#define SP_TCP_MAX_CONNS 65536         /* connections per interface, TIME-WAIT not included: as
                                        * many as a peer's ephemeral ports; ~33 MB when all taken */
#endif
#ifndef SP_TCP_MAX_TIMEWAIT
#define SP_TCP_MAX_TIMEWAIT 65536      /* compact TIME-WAIT entries: 16,000 closes per second
                                        * through SP_TCP_TIME_WAIT_MS; when full, the oldest (the
                                        * nearest its end) makes room */
#endif
#ifndef SP_TCP_TSO_MAX
#define SP_TCP_TSO_MAX (65535u - 20u - 60u) /* the most text one TCP super-segment carries (with TSO,
                                        * device.h): a 64 KB IPv4 datagram less the IP header and
                                        * the largest TCP header */
#endif
#ifndef SP_TCP_SND_BUF
#define SP_TCP_SND_BUF (4u << 20)      /* default send buffer per connection (sp_tcp_set_sndbuf):
                                        * with TSO one flow moves 3-4 Gbit/s over the TAP on a busy
                                        * 2-core VM, a millisecond of scheduling delay is then
                                        * ~500 KB in flight; 256 KiB held it under 1 Gbit/s. Memory
                                        * is taken only as data waits (SP_TCP_BUF_FIRST, doubling),
                                        * and SP_TCP_MEM_MAX bounds the total */
#endif
#ifndef SP_TCP_RCV_BUF
#define SP_TCP_RCV_BUF (4u << 20)      /* default receive buffer, the largest window offered
                                        * (sp_tcp_set_rcvbuf), with window scale 7 (RFC 7323): the
                                        * bandwidth-delay product of a 5 Gbit/s flow with a few ms
                                        * of delay on a busy host; taken as data arrives */
#endif
#ifndef SP_TCP_BUF_FIRST
#define SP_TCP_BUF_FIRST 2048          /* the first allocation of a buffer that gets data: an HTTP
                                        * request or a small page fits; it doubles as data waits */
#endif
#ifndef SP_TCP_MEM_MAX
#define SP_TCP_MEM_MAX (256ull << 20)  /* bytes all connection buffers together may hold: beyond it
                                        * arriving data is dropped (the peer resends) and sends are
                                        * refused, instead of the host running out of memory */
#endif
#ifndef SP_TCP_SYNCOOKIE_PERIOD_MS
#define SP_TCP_SYNCOOKIE_PERIOD_MS 64000 /* the cookie's clock tick (RFC 4987 3.6 uses 64 s); a
                                          * cookie is accepted for one to two ticks */
#endif
#ifndef SP_TCP_BUF_MIN
#define SP_TCP_BUF_MIN 2048            /* the smallest buffer sp_tcp_set_rcvbuf / _sndbuf give */
#endif
#ifndef SP_TCP_BUF_MAX
#define SP_TCP_BUF_MAX (8u << 20)      /* the largest, per buffer and connection */
#endif
#ifndef SP_TCP_OOO_RANGES
#define SP_TCP_OOO_RANGES 8            /* out-of-order ranges kept in the receive buffer */
#endif
#ifndef SP_TCP_DEFAULT_MSS
#define SP_TCP_DEFAULT_MSS 536         /* peer MSS when its SYN has no option (RFC 9293 3.7.1) */
#endif
#ifndef SP_TCP_INITIAL_CWND_SEGS
#define SP_TCP_INITIAL_CWND_SEGS 10    /* initial window in segments (RFC 6928) */
#endif
#ifndef SP_TCP_SACK_SCOREBOARD
#define SP_TCP_SACK_SCOREBOARD 16      /* SACKed ranges a sender remembers (RFC 6675 3); beyond that the
                                        * highest are forgotten, which only costs retransmissions */
#endif
#ifndef SP_TCP_DUPTHRESH
#define SP_TCP_DUPTHRESH 3             /* duplicate ACKs (or SACKed segments) that signal a loss
                                        * (RFC 5681 3.2, RFC 6675 2) */
#endif
#ifndef SP_TCP_PAWS_IDLE_MS
#define SP_TCP_PAWS_IDLE_MS (24ull * 24 * 3600 * 1000) /* TS.Recent is stale after 24 days idle: a 1 ms
                                        * timestamp clock wraps its sign in 24.8 days (RFC 7323 5.5) */
#endif
#ifndef SP_TCP_EPHEMERAL_FIRST
#define SP_TCP_EPHEMERAL_FIRST 49152   /* IANA dynamic port range (RFC 6335) */
#endif

/* --- TCP: keepalive (RFC 1122 4.2.3.6), off unless asked for (sp_tcp_set_keepalive) -------- */
#ifndef SP_TCP_KEEPALIVE_IDLE_S
#define SP_TCP_KEEPALIVE_IDLE_S 7200   /* idle time when none is given: RFC 1122 asks for no less
                                        * than two hours by default (Linux's tcp_keepalive_time) */
#endif
#ifndef SP_TCP_KEEPALIVE_INTVL_S
#define SP_TCP_KEEPALIVE_INTVL_S 75    /* between unanswered probes (Linux's tcp_keepalive_intvl) */
#endif
#ifndef SP_TCP_KEEPALIVE_COUNT
#define SP_TCP_KEEPALIVE_COUNT 9       /* unanswered probes before the connection is given up
                                        * (Linux's tcp_keepalive_probes) */
#endif
#ifndef SP_TCP_KEEPALIVE_MAX_S
#define SP_TCP_KEEPALIVE_MAX_S 32767   /* the largest idle time or interval taken (Linux's bound) */
#endif

/* --- TCP: path MTU (RFC 1191) ------------------------------------------------------------- */
#ifndef SP_TCP_PMTU_MIN
#define SP_TCP_PMTU_MIN 576            /* a Fragmentation Needed never takes a connection's path MTU
                                        * below this (every host takes 576-byte datagrams, RFC 791;
                                        * an MSS of 536, RFC 9293 3.7.1); a path reported narrower
                                        * gets 576-byte datagrams without DF, for routers to
                                        * fragment, as Linux does below its min_pmtu */
#endif

/* --- Loop edge (edge.h) ------------------------------------------------------------------- */
#ifndef SP_EDGE_RX_BATCH
#define SP_EDGE_RX_BATCH 64            /* frames read per readiness of the device before the loop's
                                        * other handles (timers, the LLM's sockets) get a turn */
#endif

/* --- Decision points (decide.h) ------------------------------------------------------------ */
#ifndef SP_DECISION_TIMEOUT_MS
#define SP_DECISION_TIMEOUT_MS 10000   /* a parked request waits this long for its proposal, then the
                                        * timeout verdict applies the policy (fallback or drop) */
#endif
#ifndef SP_DECISION_PENDING
#define SP_DECISION_PENDING 64         /* parked requests, all kinds together; allocated once per
                                        * interface; when full a request is answered natively */
#endif

#endif
