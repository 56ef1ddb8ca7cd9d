/* Every tunable of the native stack, with its one documented default (in the style of lwIP's
 * opt.h). A build may override any of them with -D. */
#ifndef SLOWPATH_OPTS_H
#define SLOWPATH_OPTS_H

/* --- Interface ---------------------------------------------------------------------------- */
#ifndef SP_DEFAULT_MTU
#define SP_DEFAULT_MTU 1500            /* IP MTU of the link; frames are MTU + 14 bytes */
#endif
#ifndef SP_DEFAULT_TTL
#define SP_DEFAULT_TTL 64              /* TTL of datagrams we originate (RFC 1700 default) */
#endif
#ifndef SP_MAX_FRAME
#define SP_MAX_FRAME 9216              /* largest frame a device hands us (jumbo-safe) */
#endif

/* --- Neighbour (ARP) cache ---------------------------------------------------------------- */
#ifndef SP_ARP_CACHE_SIZE
#define SP_ARP_CACHE_SIZE 64           /* entries; the least recently used is replaced */
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
#define SP_REASM_SLOTS 4               /* datagrams reassembled at once */
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

#endif
