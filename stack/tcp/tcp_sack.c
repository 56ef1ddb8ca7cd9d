/* Selective acknowledgments: SACK (RFC 2018), D-SACK (RFC 2883) and the loss recovery they allow
 * (RFC 6675). Used when both SYNs carried SACK-permitted.
 *
 * Receiving (RFC 2018 4, RFC 2883 4). While out-of-order text is held, every ACK we send carries
 * SACK blocks: first the range holding the segment that arrived last, then the ranges of the
 * arrivals before it, newest first, then the other ranges held, as many as fit (4, 3 beside a
 * timestamp, fewer in a segment with text). A segment that brought nothing new, below RCV.NXT or
 * inside a range held, is reported once as a D-SACK block in front of them, followed by the range
 * that holds it. We never renege: what a block reports stays in the receive buffer.
 *
 * Sending (RFC 6675). The scoreboard keeps what the peer SACKed above SND.UNA. A block that cannot
 * be right (empty, inverted, beyond SND.MAX) is ignored and counted; one at or below SND.UNA is a
 * D-SACK (RFC 2883): counted, and nothing more (the scoreboard never goes below SND.UNA). An ACK
 * that SACKs octets not SACKed before is a duplicate ACK; at DupThresh of them, or when
 * IsLost(SND.UNA) holds, loss recovery starts: ssthresh and cwnd become half the flight, the
 * first hole is retransmitted, and from then on each ACK lets sp_tcp_sack_output send what
 * NextSeg() picks (lost holes, new data, other holes, one rescue retransmission) while
 * cwnd - pipe leaves an MSS, until the cumulative ACK reaches the RecoveryPoint (c->recover).
 * Below the threshold sp_tcp_output counts SACKed octets as out of the network, which is
 * limited transmit as 5 (3) words it. A peer that negotiated SACK but sends ACKs without blocks
 * still gets a fast retransmit: its RFC 5681 duplicate ACKs count.
 *
 * An RTO ends recovery and forgets the scoreboard (the peer may have reneged, RFC 2018 8); the
 * go-back-N that follows steps over what the peer SACKs again (RFC 6675 5.1), and no recovery
 * starts again before SND.UNA reaches the RecoveryPoint set there. */
#include <string.h>

#include "tcp_internal.h"

static inline uint32_t min32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static inline uint32_t max32(uint32_t a, uint32_t b) { return a > b ? a : b; }

void sp_tcp_set_sack(struct sp_iface *iface, bool on)
{
    if (iface && iface->tcp)
        iface->tcp->sack_off = !on;
}

void sp_tcp_sack_take_syn(struct sp_tcp *c, const struct sp_tcp_repr *seg)
{
    c->sack.ok = !c->stack->sack_off && seg->sack_perm;
}

/* --- Receiving: the blocks our ACKs carry ------------------------------------------------------ */

/* The out-of-order range holding seq, or -1. */
static int ooo_find(const struct sp_tcp_ooo *o, uint32_t seq)
{
    for (int i = 0; i < o->n; i++)
        if (sp_seq_le(o->r[i].start, seq) && sp_seq_lt(seq, o->r[i].end))
            return i;
    return -1;
}

static void set_dup(struct sp_tcp_sack *s, uint32_t start, uint32_t end)
{
    s->dsack = true;
    s->dup.start = start;
    s->dup.end = end;
}

void sp_tcp_sack_rcv_ooo(struct sp_tcp *c, uint32_t seq, uint32_t n)
{
    struct sp_tcp_sack *s = &c->sack;
    if (!s->ok || n == 0)
        return;
    int k = ooo_find(&c->ooo, seq);
    if (k >= 0 && sp_seq_le(seq + n, c->ooo.r[k].end))
        set_dup(s, seq, seq + n);   /* held already: RFC 2883 4.1.2 */
    /* Newest first; the oldest falls off. */
    unsigned keep = s->nrecent < SP_TCP_OOO_RANGES ? s->nrecent : SP_TCP_OOO_RANGES - 1;
    memmove(&s->recent[1], &s->recent[0], keep * sizeof s->recent[0]);
    s->recent[0] = seq;
    s->nrecent = (uint8_t)(keep + 1);
}

void sp_tcp_sack_rcv_dup(struct sp_tcp *c, uint32_t seq, uint32_t n)
{
    if (!c->sack.ok || n == 0 || !sp_seq_lt(seq, c->rcv_nxt))
        return;
    set_dup(&c->sack, seq, sp_seq_lt(seq + n, c->rcv_nxt) ? seq + n : c->rcv_nxt);   /* RFC 2883 4.1.1 */
}

static bool listed(const struct sp_tcp_sack_block *b, unsigned n, uint32_t left)
{
    for (unsigned i = 0; i < n; i++)
        if (b[i].left == left)
            return true;
    return false;
}

/* Up to max blocks: the D-SACK one, the ranges of recent arrivals newest first, the other ranges.
 * Arrivals whose range was absorbed by RCV.NXT, or merged into a newer one's, are forgotten. */
static unsigned rcv_blocks(struct sp_tcp *c, struct sp_tcp_sack_block *out, unsigned max)
{
    struct sp_tcp_sack *s = &c->sack;
    unsigned n = 0, first = 0;
    if (s->dsack && max > 0) {
        out[n++] = (struct sp_tcp_sack_block){s->dup.start, s->dup.end};
        first = 1;
        s->dsack = false;
        sp_count(sp_tcp_iface(c), SP_STAT_tcp_dsack_tx);
    }
    unsigned keep = 0;
    for (unsigned i = 0; i < s->nrecent; i++) {
        int k = ooo_find(&c->ooo, s->recent[i]);
        if (k < 0 || listed(out + first, n - first, c->ooo.r[k].start))
            continue;
        s->recent[keep++] = s->recent[i];
        if (n < max)
            out[n++] = (struct sp_tcp_sack_block){c->ooo.r[k].start, c->ooo.r[k].end};
    }
    s->nrecent = (uint8_t)keep;
    for (unsigned k = 0; k < c->ooo.n && n < max; k++)
        if (!listed(out + first, n - first, c->ooo.r[k].start))
            out[n++] = (struct sp_tcp_sack_block){c->ooo.r[k].start, c->ooo.r[k].end};
    return n;
}

/* Blocks that fit: 40 bytes of options hold 4, 3 beside a timestamp; in a segment with text,
 * text and options share the MSS (RFC 6691), which c->mss already counts the timestamp out of. */
static unsigned block_room(const struct sp_tcp *c, const struct sp_tcp_repr *r)
{
    unsigned max = r->has_timestamp ? 3 : SP_TCP_SACK_MAX_BLOCKS;
    if (r->payload_len) {
        uint32_t left = c->mss > r->payload_len ? c->mss - (uint32_t)r->payload_len : 0;
        unsigned fit = left >= 12 ? (left - 4) / 8 : 0;
        max = fit < max ? fit : max;
    }
    return max;
}

void sp_tcp_sack_out(struct sp_tcp *c, struct sp_tcp_repr *r)
{
    if (r->flags & SP_TCP_SYN) {
        /* Offered in our SYN; a SYN-ACK only answers an offer (RFC 2018 2). */
        r->sack_perm = (r->flags & SP_TCP_ACK) ? c->sack.ok : !c->stack->sack_off;
        return;
    }
    if (!c->sack.ok || (r->flags & (SP_TCP_ACK | SP_TCP_RST)) != SP_TCP_ACK || (!c->ooo.n && !c->sack.dsack))
        return;
    r->sack_n = (uint8_t)rcv_blocks(c, r->sack, block_room(c, r));
}

/* --- Sending: the scoreboard ----------------------------------------------------------------------- */

/* SACKed octets in the ranges from index i up. */
static uint32_t sacked_from(const struct sp_tcp_sack *s, unsigned i)
{
    uint32_t n = 0;
    for (; i < s->n; i++)
        n += s->sb[i].end - s->sb[i].start;
    return n;
}

/* Forgets what SND.UNA (una) covers. */
static void sb_trim(struct sp_tcp_sack *s, uint32_t una)
{
    unsigned k = 0;
    while (k < s->n && sp_seq_le(s->sb[k].end, una))
        k++;
    memmove(&s->sb[0], &s->sb[k], (s->n - k) * sizeof s->sb[0]);
    s->n = (uint8_t)(s->n - k);
    if (s->n && sp_seq_lt(s->sb[0].start, una))
        s->sb[0].start = una;
}

/* Adds [start, end), merging what it touches; when full, the highest range is forgotten. */
static void sb_add(struct sp_tcp_sack *s, uint32_t start, uint32_t end)
{
    unsigned i = 0;
    while (i < s->n && sp_seq_lt(s->sb[i].end, start))
        i++;
    unsigned j = i;
    while (j < s->n && sp_seq_le(s->sb[j].start, end)) {
        start = sp_seq_lt(s->sb[j].start, start) ? s->sb[j].start : start;
        end = sp_seq_gt(s->sb[j].end, end) ? s->sb[j].end : end;
        j++;
    }
    if (j == i) {
        if (s->n == SP_TCP_SACK_SCOREBOARD) {
            if (i == s->n)
                return;
            s->n--;
        }
        memmove(&s->sb[i + 1], &s->sb[i], (s->n - i) * sizeof s->sb[0]);
        s->n++;
    } else if (j > i + 1) {
        memmove(&s->sb[i + 1], &s->sb[j], (s->n - j) * sizeof s->sb[0]);
        s->n = (uint8_t)(s->n - (j - i - 1));
    }
    s->sb[i] = (struct sp_tcp_sack_range){start, end};
}

static bool block_within(const struct sp_tcp_sack_block *in, const struct sp_tcp_sack_block *out)
{
    return sp_seq_le(out->left, in->left) && sp_seq_le(in->right, out->right);
}

/* Block i of seg, una the cumulative ACK it brings. */
static void take_block(struct sp_tcp *c, const struct sp_tcp_repr *seg, unsigned i, uint32_t una)
{
    uint32_t left = seg->sack[i].left, right = seg->sack[i].right;
    struct sp_iface *iface = sp_tcp_iface(c);
    if (!sp_seq_lt(left, right) || sp_seq_gt(right, c->snd_max)) {
        sp_count(iface, SP_STAT_tcp_sack_bad_block);
        return;
    }
    /* D-SACK: below the cumulative ACK, or a first block inside the second (RFC 2883 4). */
    if (sp_seq_le(right, una) || (i == 0 && seg->sack_n > 1 && block_within(&seg->sack[0], &seg->sack[1]))) {
        sp_count(iface, SP_STAT_tcp_dsack_rx);
        if (sp_seq_le(right, una))
            return;
    }
    sb_add(&c->sack, sp_seq_lt(left, una) ? una : left, right);
}

bool sp_tcp_sack_ack(struct sp_tcp *c, const struct sp_tcp_repr *seg, bool dup)
{
    struct sp_tcp_sack *s = &c->sack;
    if (!s->ok)
        return false;
    uint32_t una = sp_seq_gt(seg->ack, c->snd_una) ? seg->ack : c->snd_una;
    sb_trim(s, una);
    uint32_t before = sacked_from(s, 0);
    for (unsigned i = 0; i < seg->sack_n; i++)
        take_block(c, seg, i, una);
    return sacked_from(s, 0) > before || (dup && seg->sack_n == 0);
}

/* --- Sending: loss recovery (RFC 6675) -------------------------------------------------------------- */

/* IsLost() of the octets in the hole just below range i: DupThresh ranges above them, or more
 * than (DupThresh - 1) * SMSS octets SACKed above them. Holes lower down are lost too. */
static bool lost_below(const struct sp_tcp *c, unsigned i)
{
    const struct sp_tcp_sack *s = &c->sack;
    return s->n - i >= SP_TCP_DUPTHRESH || sacked_from(s, i) > (SP_TCP_DUPTHRESH - 1) * (uint32_t)c->mss;
}

/* SetPipe(): per octet outstanding and not SACKed, one if it is not lost, one more if it was
 * retransmitted. The holes above the highest SACKed range are never lost. */
static uint32_t pipe_of(const struct sp_tcp *c)
{
    const struct sp_tcp_sack *s = &c->sack;
    uint32_t pipe = 0, a = c->snd_una;
    for (unsigned i = 0; i <= s->n; i++) {
        uint32_t b = i < s->n ? s->sb[i].start : c->snd_max;
        if (sp_seq_lt(a, b)) {
            if (i == s->n || !lost_below(c, i))
                pipe += b - a;
            if (sp_seq_gt(s->high_rxt, a))
                pipe += (sp_seq_lt(s->high_rxt, b) ? s->high_rxt : b) - a;
        }
        if (i < s->n)
            a = s->sb[i].end;
    }
    return pipe;
}

enum pick_rule { PICK_LOST = 1, PICK_NEW, PICK_UNSACKED, PICK_RESCUE };

struct pick {
    enum pick_rule rule;
    uint32_t seq, len;   /* len: sequence space, the FIN's included */
};

/* NextSeg() (1) and (3): the first octet past HighRxt in a hole below the highest SACKed range,
 * lost ones only for (1). */
static bool pick_hole(const struct sp_tcp *c, bool lost_only, struct pick *p)
{
    const struct sp_tcp_sack *s = &c->sack;
    uint32_t a = c->snd_una;
    for (unsigned i = 0; i < s->n; i++) {
        if (lost_only && !lost_below(c, i))
            return false;
        uint32_t from = sp_seq_gt(s->high_rxt, a) ? s->high_rxt : a, b = s->sb[i].start;
        if (sp_seq_lt(from, b)) {
            *p = (struct pick){lost_only ? PICK_LOST : PICK_UNSACKED, from, b - from};
            return true;
        }
        a = s->sb[i].end;
    }
    return false;
}

/* NextSeg() (2): a segment of new data the peer's window takes; one that would be small only
 * because of the window, or a small tail Nagle holds back (RFC 1122 4.2.3.4), waits. */
static bool pick_new(const struct sp_tcp *c, struct pick *p)
{
    uint32_t end = c->snd_buf_seq + c->snd.len;
    uint32_t avail = sp_seq_lt(c->snd_max, end) ? end - c->snd_max : 0;
    uint32_t wnd_end = c->snd_una + c->snd_wnd;
    uint32_t room = sp_seq_lt(c->snd_max, wnd_end) ? wnd_end - c->snd_max : 0;
    uint32_t len = min32(min32(avail, c->mss), room);
    bool fin = c->fin_queued && sp_seq_le(c->snd_max, end) && len == avail;
    if ((len == 0 && !fin) || (len < avail && len < c->mss) || (len == avail && len < c->mss && !fin && !c->nodelay))
        return false;
    *p = (struct pick){PICK_NEW, c->snd_max, len + fin};
    return true;
}

/* NextSeg() (4): once per recovery, a segment ending at the highest octet outstanding and not
 * SACKed, so that a lost tail is not left to the RTO; not when that octet was retransmitted
 * already (below HighRxt), where it would only repeat a retransmission. */
static bool pick_rescue(const struct sp_tcp *c, struct pick *p)
{
    const struct sp_tcp_sack *s = &c->sack;
    if (s->rescue_ok && !sp_seq_gt(c->snd_una, s->rescue_rxt))
        return false;
    uint32_t a = s->n ? s->sb[s->n - 1].end : c->snd_una, b = c->snd_max;
    if (!sp_seq_lt(a, b) && s->n) {
        a = s->n > 1 ? s->sb[s->n - 2].end : c->snd_una;
        b = s->sb[s->n - 1].start;
    }
    if (!sp_seq_lt(a, b) || !sp_seq_gt(b, s->high_rxt))
        return false;
    uint32_t from = b - a > c->mss ? b - c->mss : a;
    *p = (struct pick){PICK_RESCUE, from, b - from};
    return true;
}

static bool next_seg(const struct sp_tcp *c, struct pick *p)
{
    return pick_hole(c, true, p) || pick_new(c, p) || pick_hole(c, false, p) || pick_rescue(c, p);
}

bool sp_tcp_sack_output(struct sp_tcp *c, sp_time_t now)
{
    struct sp_tcp_sack *s = &c->sack;
    bool sent = false;
    struct pick p;
    /* (C): while cwnd - pipe >= 1 SMSS. */
    while (s->recovery && pipe_of(c) + c->mss <= c->cwnd && next_seg(c, &p)) {
        uint32_t n = sp_tcp_send_at(c, now, p.seq, p.len);
        if (n == 0)
            break;
        sent = true;
        if (p.rule == PICK_LOST || p.rule == PICK_UNSACKED) {
            s->high_rxt = p.seq + n;   /* (C.2) */
        } else if (p.rule == PICK_RESCUE) {
            s->rescue_rxt = c->recover;
            s->rescue_ok = true;
            sp_count(sp_tcp_iface(c), SP_STAT_tcp_sack_rescue);
        }
    }
    return sent;
}

/* Step (4): fast retransmit and loss recovery. */
static void enter_recovery(struct sp_tcp *c, sp_time_t now)
{
    struct sp_tcp_sack *s = &c->sack;
    c->ssthresh = max32((c->snd_max - c->snd_una) / 2, 2u * c->mss);
    c->cwnd = c->ssthresh;
    c->recover = c->snd_max;
    c->snd_nxt = c->snd_max;   /* after a probe's rewind: what was sent is outstanding */
    s->recovery = true;
    sp_count(sp_tcp_iface(c), SP_STAT_tcp_fast_retransmit);
    sp_count(sp_tcp_iface(c), SP_STAT_tcp_sack_recovery);
    uint32_t hole_end = s->n ? s->sb[0].start : c->snd_max;
    uint32_t n = sp_tcp_send_at(c, now, c->snd_una, hole_end - c->snd_una);
    s->high_rxt = c->snd_una + n;
    s->rescue_rxt = s->high_rxt;
    s->rescue_ok = true;
}

void sp_tcp_sack_dupack(struct sp_tcp *c, sp_time_t now)
{
    struct sp_tcp_sack *s = &c->sack;
    if (!s->ok || s->recovery)
        return;
    if (c->dupacks < UINT8_MAX)
        c->dupacks++;
    /* After an RTO, not before its RecoveryPoint (RFC 6675 5.1). */
    if (!sp_seq_ge(c->snd_una, c->recover) || c->snd_una == c->snd_max)
        return;
    bool first_lost = s->n && sp_seq_lt(c->snd_una, s->sb[0].start) && lost_below(c, 0);
    if (c->dupacks >= SP_TCP_DUPTHRESH || first_lost)
        enter_recovery(c, now);
}

bool sp_tcp_sack_new_ack(struct sp_tcp *c)
{
    struct sp_tcp_sack *s = &c->sack;
    if (!s->recovery)
        return false;
    /* (A): past the RecoveryPoint, recovery ends with cwnd at ssthresh, where it stayed. */
    if (sp_seq_ge(c->snd_una, c->recover))
        s->recovery = false;
    return true;
}

void sp_tcp_sack_on_rto(struct sp_tcp *c)
{
    c->sack.n = 0;
    c->sack.recovery = false;
}

uint32_t sp_tcp_sack_held(const struct sp_tcp *c)
{
    const struct sp_tcp_sack *s = &c->sack;
    uint32_t held = 0;
    for (unsigned i = 0; i < s->n && sp_seq_lt(s->sb[i].start, c->snd_nxt); i++) {
        uint32_t a = sp_seq_gt(s->sb[i].start, c->snd_una) ? s->sb[i].start : c->snd_una;
        uint32_t b = sp_seq_lt(s->sb[i].end, c->snd_nxt) ? s->sb[i].end : c->snd_nxt;
        if (sp_seq_lt(a, b))
            held += b - a;
    }
    return held;
}

void sp_tcp_sack_skip(struct sp_tcp *c)
{
    const struct sp_tcp_sack *s = &c->sack;
    for (unsigned i = 0; i < s->n; i++)
        if (sp_seq_le(s->sb[i].start, c->snd_nxt) && sp_seq_lt(c->snd_nxt, s->sb[i].end)) {
            c->snd_nxt = sp_seq_lt(s->sb[i].end, c->snd_max) ? s->sb[i].end : c->snd_max;
            return;
        }
}

uint32_t sp_tcp_sack_clip(const struct sp_tcp *c, uint32_t seq, uint32_t len)
{
    const struct sp_tcp_sack *s = &c->sack;
    for (unsigned i = 0; i < s->n; i++)
        if (sp_seq_gt(s->sb[i].start, seq))
            return sp_seq_lt(s->sb[i].start, seq + len) ? s->sb[i].start - seq : len;
    return len;
}
