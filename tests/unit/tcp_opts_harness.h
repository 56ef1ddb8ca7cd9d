/* Additions to the scenario harness for the SACK and timestamp tests: segments from the peer with
 * any timestamp and SACK blocks, and openings that negotiate them. SACK edges are relative to our
 * ISS, like the ACK field. The helpers live in tcp_opts_harness.c (the test-support library). */
#ifndef SP_TEST_TCP_OPTS_HARNESS_H
#define SP_TEST_TCP_OPTS_HARNESS_H

#include "tcp_harness.h"

struct pk_opts {
    bool ts;
    uint32_t tsval, tsecr;
    uint8_t nsack;
    uint32_t sack[2 * SP_TCP_SACK_MAX_BLOCKS];   /* left, right, left, right, ... */
};

/* One segment from the peer at `now`; seq relative to PEER_ISN, ack to our ISS. */
void pk_send(struct th *t, sp_time_t now, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
             const void *data, size_t len, struct pk_opts o);

/* A pure ACK from the peer SACKing the given blocks (pairs of edges relative to our ISS). */
void pk_sack(struct th *t, sp_time_t now, uint32_t ack, unsigned nblocks, ...);

/* The blocks of a segment we sent, relative to PEER_ISN: exactly these pairs. */
void pk_expect_blocks(const struct out_seg *o, unsigned nblocks, ...);

/* A passive open at T0 with SACK permitted (MSS 1460, WS 0, the peer's window 65535), no
 * timestamps. */
void pk_establish_sack(struct th *t);

/* A passive open at T0 with timestamps (the SYN's TSval 12345, the ACK's tsval) and, when asked,
 * SACK. Returns our SYN-ACK's TSval. */
uint32_t pk_establish_ts(struct th *t, bool sack, uint32_t tsval);

#endif
