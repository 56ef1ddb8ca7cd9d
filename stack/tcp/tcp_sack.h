/* Selective acknowledgments (RFC 2018), D-SACK (RFC 2883) and SACK-based loss recovery
 * (RFC 6675): what a connection keeps for them, and the calls tcp_input.c and tcp_output.c make
 * into tcp_sack.c. Private to the TCP module. */
#ifndef SP_TCP_SACK_H
#define SP_TCP_SACK_H

#include <stdbool.h>
#include <stdint.h>

#include "slowpath/opts.h"
#include "slowpath/time.h"
#include "slowpath/wire/tcp.h"

struct sp_tcp;

struct sp_tcp_sack_range {
    uint32_t start, end;     /* [start, end) in sequence space */
};

struct sp_tcp_sack {
    bool ok;                 /* negotiated: both SYNs carried SACK-permitted (RFC 2018 2) */
    /* --- receiving: what our ACKs report --- */
    uint8_t nrecent;
    uint32_t recent[SP_TCP_OOO_RANGES];  /* out-of-order arrivals, newest first (RFC 2018 4):
                                          * each stands for the range that holds it now */
    bool dsack;              /* the next ACK starts with a D-SACK block (RFC 2883 4) */
    struct sp_tcp_sack_range dup;
    /* --- sending: the scoreboard and loss recovery (RFC 6675) --- */
    uint8_t n;
    struct sp_tcp_sack_range sb[SP_TCP_SACK_SCOREBOARD]; /* SACKed, sorted, disjoint, > SND.UNA */
    bool recovery;           /* in SACK-based loss recovery; c->recover is its RecoveryPoint */
    bool rescue_ok;          /* RescueRxt is defined */
    uint32_t high_rxt;       /* one past HighRxt, the highest octet retransmitted */
    uint32_t rescue_rxt;     /* one past RescueRxt */
};

/* The peer's SYN or SYN-ACK seg: SACK is used when both ends offer it. */
void sp_tcp_sack_take_syn(struct sp_tcp *c, const struct sp_tcp_repr *seg);
/* Text [seq, seq + n) arrived ahead of RCV.NXT and is about to be kept: the next ACK reports it
 * first, and as a duplicate when it was held already. */
void sp_tcp_sack_rcv_ooo(struct sp_tcp *c, uint32_t seq, uint32_t n);
/* A segment carried text [seq, seq + n): the part below RCV.NXT is reported as a duplicate. */
void sp_tcp_sack_rcv_dup(struct sp_tcp *c, uint32_t seq, uint32_t n);
/* Every segment the connection sends: SACK-permitted on a SYN, blocks on an ACK. */
void sp_tcp_sack_out(struct sp_tcp *c, struct sp_tcp_repr *r);

/* An acceptable ACK seg (SEG.ACK <= SND.MAX) before it is processed: the scoreboard takes its
 * blocks. True when it is a duplicate ACK in RFC 6675's sense (it SACKs octets not SACKed
 * before), or an RFC 5681 duplicate (`dup`) without blocks from a peer that sends none. */
bool sp_tcp_sack_ack(struct sp_tcp *c, const struct sp_tcp_repr *seg, bool dup);
/* A duplicate ACK in RFC 6675's sense: counts it, and starts loss recovery at the threshold. */
void sp_tcp_sack_dupack(struct sp_tcp *c, sp_time_t now);
/* SND.UNA advanced: true when SACK loss recovery owns the congestion window (it ended here, or
 * goes on after a partial ACK). */
bool sp_tcp_sack_new_ack(struct sp_tcp *c);
/* In loss recovery: sends what NextSeg() picks while cwnd - pipe allows; true when it sent. */
bool sp_tcp_sack_output(struct sp_tcp *c, sp_time_t now);
/* The retransmission timer fired: the scoreboard is forgotten, recovery ends (RFC 6675 5.1). */
void sp_tcp_sack_on_rto(struct sp_tcp *c);
/* Octets the peer SACKed in [SND.UNA, SND.NXT): out of the network. */
uint32_t sp_tcp_sack_held(const struct sp_tcp *c);
/* Go-back-N after an RTO: SND.NXT steps over what the peer SACKed since (RFC 6675 5.1). */
void sp_tcp_sack_skip(struct sp_tcp *c);
/* The length of a segment at seq, cut where SACKed octets begin. */
uint32_t sp_tcp_sack_clip(const struct sp_tcp *c, uint32_t seq, uint32_t len);

#endif
