/* Timestamps (RFC 7323): what a connection keeps for them, and the calls tcp_input.c and
 * tcp_output.c make into tcp_ts.c. Private to the TCP module. */
#ifndef SP_TCP_TS_H
#define SP_TCP_TS_H

#include <stdbool.h>
#include <stdint.h>

#include "slowpath/time.h"
#include "slowpath/wire/tcp.h"

struct sp_tcp;

/* The bytes a timestamp takes in every segment once negotiated: NOP NOP TSopt. */
#define SP_TCP_TS_OPT_LEN 12

struct sp_tcp_ts {
    bool ok;                 /* negotiated: both SYNs carried TSopt (RFC 7323 3.2) */
    bool recent_set;         /* TS.Recent holds a value */
    uint32_t offset;         /* our clock's per-connection offset (RFC 7323 5.4, 7.1) */
    uint32_t first;          /* the TSval of our first segment: no echo of ours is older */
    uint32_t recent;         /* TS.Recent: the TSval to echo (RFC 7323 4.3) */
    sp_time_t recent_at;     /* when TS.Recent was last set (RFC 7323 5.5) */
    uint32_t last_ack_sent;  /* Last.ACK.sent: the ACK field of our latest segment */
};

/* The per-connection clock offset, from the interface's secret and the connection's identity. */
void sp_tcp_ts_init(struct sp_tcp *c);
/* Our TSval at `now`: a 1 ms clock (RFC 7323 5.4) plus the connection's offset. */
uint32_t sp_tcp_ts_now(const struct sp_tcp *c, sp_time_t now);
/* The peer's SYN or SYN-ACK seg: negotiates the option and takes its TSval as TS.Recent. */
void sp_tcp_ts_take_syn(struct sp_tcp *c, const struct sp_tcp_repr *seg);
/* Before the acceptability test of a synchronized connection: false when seg must be dropped, a
 * segment without TSopt (RFC 7323 3.2) or an old duplicate (PAWS, 5.3 R1: an ACK is sent). */
bool sp_tcp_ts_accept(struct sp_tcp *c, sp_time_t now, const struct sp_tcp_repr *seg);
/* After the acceptability test: TS.Recent follows the segment (RFC 7323 4.3, 5.3 R3). */
void sp_tcp_ts_update_recent(struct sp_tcp *c, sp_time_t now, const struct sp_tcp_repr *seg);
/* seg acknowledges new data: an RTT sample from its echo (RFC 7323 4.1-4.2, RFC 6298). */
void sp_tcp_ts_ack(struct sp_tcp *c, sp_time_t now, const struct sp_tcp_repr *seg);
/* Every segment the connection sends: TSopt on a SYN we may offer it in, and on everything once
 * negotiated; Last.ACK.sent follows. */
void sp_tcp_ts_out(struct sp_tcp *c, sp_time_t now, struct sp_tcp_repr *r);

#endif
