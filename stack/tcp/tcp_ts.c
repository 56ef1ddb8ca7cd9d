/* Timestamps (RFC 7323): the option is offered in our SYN and answered in a SYN-ACK only when the
 * peer's SYN offered it (3.2); once both SYNs carried it, every segment we send carries one
 * (3.2), and every non-RST segment the peer sends must too, else it is dropped (3.2, counted).
 *
 * Our TSval is a 1 ms clock, the stack's `now`, plus an offset per connection: a keyed hash of the
 * connection's identity, as RFC 6528 builds ISNs, so that a TSval tells nothing about the host's
 * uptime or its other connections (RFC 7323 5.4, 7.1). The clock ticks between 1 ms and 1 s as
 * 5.4 asks; it takes 24.8 days to wrap its sign, hence the 24-day rule below.
 *
 * TSecr echoes TS.Recent, which follows the rule of 4.3: a segment's TSval becomes TS.Recent when
 * it is not older than TS.Recent and the segment starts at or before Last.ACK.sent, the ACK field
 * of our latest segment. So a delayed ACK echoes the earliest segment it acknowledges, and the ACK
 * of an out-of-order segment echoes the last segment that advanced RCV.NXT: the peer's RTT samples
 * are never too short.
 *
 * RTT samples (4.1, 4.2): an ACK that acknowledges new data gives now - TSecr, whichever segment
 * (original or retransmission) it answers, so Karn's rule is not needed for it. An echo older than
 * our first TSval or from the future is none of ours and gives nothing.
 *
 * PAWS (5.3): a segment whose TSval is older than TS.Recent is an old duplicate: it is dropped
 * (counted) and answered with an ACK, unless it is a RST. TS.Recent older than 24 days is not
 * trusted for that (5.5): the next segment's TSval replaces it. */
#include "tcp_internal.h"

void sp_tcp_set_timestamps(struct sp_iface *iface, bool on)
{
    if (iface && iface->tcp)
        iface->tcp->ts_off = !on;
}

void sp_tcp_ts_init(struct sp_tcp *c)
{
    uint8_t id[13];
    sp_put32(id, c->local_ip);
    sp_put16(id + 4, c->local_port);
    sp_put32(id + 6, c->remote_ip);
    sp_put16(id + 10, c->remote_port);
    id[12] = 'T';   /* a different message than the ISN's, so the two values are unrelated */
    uint64_t secret = sp_tcp_iface(c)->cfg.secret;
    c->ts.offset = (uint32_t)sp_siphash24(secret, ~secret, id, sizeof id);
    c->ts.first = sp_tcp_ts_now(c, sp_tcp_iface(c)->now);
}

uint32_t sp_tcp_ts_now(const struct sp_tcp *c, sp_time_t now)
{
    return (uint32_t)now + c->ts.offset;
}

void sp_tcp_ts_take_syn(struct sp_tcp *c, const struct sp_tcp_repr *seg)
{
    c->ts.ok = !c->stack->ts_off && seg->has_timestamp;
    if (!c->ts.ok)
        return;
    c->ts.recent = seg->ts_val;
    c->ts.recent_set = true;
    c->ts.recent_at = sp_tcp_iface(c)->now;
    c->ts.last_ack_sent = seg->seq + 1;
    /* Every segment carries the option now: text and options share the MSS (RFC 6691). */
    if (c->mss >= 64 + SP_TCP_TS_OPT_LEN)
        c->mss = (uint16_t)(c->mss - SP_TCP_TS_OPT_LEN);
}

/* TS.Recent can be compared with: set, and not from before 24 days of silence (RFC 7323 5.5). */
static bool recent_valid(const struct sp_tcp *c, sp_time_t now)
{
    return c->ts.recent_set && now - c->ts.recent_at <= SP_TCP_PAWS_IDLE_MS;
}

bool sp_tcp_ts_accept(struct sp_tcp *c, sp_time_t now, const struct sp_tcp_repr *seg)
{
    if (!c->ts.ok || (seg->flags & SP_TCP_RST))
        return true;   /* a reset is taken with or without the option, and PAWS spares it (5.3 R1) */
    if (!seg->has_timestamp) {
        sp_drop(sp_tcp_iface(c), SP_STAT_drop_tcp_no_timestamp, NULL);
        return false;
    }
    if (!recent_valid(c, now) || !sp_seq_lt(seg->ts_val, c->ts.recent))
        return true;
    sp_drop(sp_tcp_iface(c), SP_STAT_drop_tcp_paws, NULL);
    sp_tcp_send_ack(c, now);
    return false;
}

void sp_tcp_ts_update_recent(struct sp_tcp *c, sp_time_t now, const struct sp_tcp_repr *seg)
{
    if (!c->ts.ok || !seg->has_timestamp || (seg->flags & SP_TCP_RST))
        return;
    if (!sp_seq_le(seg->seq, c->ts.last_ack_sent))
        return;   /* out of order, or beyond what we acknowledged: not the segment to echo */
    if (recent_valid(c, now) && sp_seq_lt(seg->ts_val, c->ts.recent))
        return;
    c->ts.recent = seg->ts_val;
    c->ts.recent_set = true;
    c->ts.recent_at = now;
}

void sp_tcp_ts_ack(struct sp_tcp *c, sp_time_t now, const struct sp_tcp_repr *seg)
{
    if (!c->ts.ok || !seg->has_timestamp)
        return;
    uint32_t ts_now = sp_tcp_ts_now(c, now);
    if (sp_seq_lt(seg->ts_ecr, c->ts.first) || sp_seq_gt(seg->ts_ecr, ts_now))
        return;
    sp_tcp_rtt_sample(c, ts_now - seg->ts_ecr);
    c->rtt_timing = false;   /* this ACK's sample is taken: the timed segment would add the same */
}

void sp_tcp_ts_out(struct sp_tcp *c, sp_time_t now, struct sp_tcp_repr *r)
{
    bool syn_only = (r->flags & (SP_TCP_SYN | SP_TCP_ACK)) == SP_TCP_SYN;
    if (syn_only ? !c->stack->ts_off : c->ts.ok) {
        r->has_timestamp = true;
        r->ts_val = sp_tcp_ts_now(c, now);
        /* Without ACK the echo means nothing and is zero (RFC 7323 3.2). */
        r->ts_ecr = (r->flags & SP_TCP_ACK) && c->ts.recent_set ? c->ts.recent : 0;
    }
    if (r->flags & SP_TCP_ACK)
        c->ts.last_ack_sent = r->ack;
}
