/* Runs a parsed packetdrill script against slowpath's TCP in virtual time.
 *
 * Script time 0 is the stack's `now` = PD_T0 ms. Before each event the timers run the way the
 * event loop runs them (sp_tcp_poll at every sp_tcp_poll_at on the way). Inbound segments are
 * built byte by byte (options exactly as written) and handed to sp_tcp_input; what the stack
 * sends is captured through the TCP output hook and matched, in order, against the `>` lines,
 * as packetdrill's sniffer does: a segment nobody expected fails the next `>` line, and segments
 * after the last one are not looked at. A blocking system call waits while the events after it
 * run, and returns when the stack makes it possible; its return time is checked against the end
 * of its `start...end` time. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "packetdrill.h"
#include "slowpath/error.h"
#include "slowpath/wire/checksum.h"

int pd_fail(struct pd_run *r, int line, const char *fmt, ...)
{
    if (r->failed)
        return -1;   /* the first failure is the one worth reading */
    char m[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    snprintf(r->msg, sizeof r->msg, "line %d: %s", line, m);
    r->failed = true;
    return -1;
}

static void pd_advance(struct pd_run *r, sp_time_t limit, bool stop);

static long pd_us_of(sp_time_t ms) { return (long)(ms - PD_T0) * 1000; }
static sp_time_t ms_round(long us) { return PD_T0 + (sp_time_t)((us + 500) / 1000); }
static sp_time_t ms_floor(long us) { return PD_T0 + (sp_time_t)(us / 1000); }
static double secs(long us) { return (double)us / 1e6; }

/* --- what the stack sends ------------------------------------------------------------------------- */

static uint32_t pd_iss_of(const struct pd_run *r, uint16_t lport)
{
    for (int i = 0; i < r->nflows; i++)
        if (r->flows[i].lport == lport)
            return r->flows[i].iss;
    return 0;   /* before our SYN: the script's numbers are absolute */
}

static void learn_iss(struct pd_run *r, uint16_t lport, uint32_t iss)
{
    int i = 0;
    while (i < r->nflows && r->flows[i].lport != lport)
        i++;
    if (i == PD_MAX_FLOWS)
        return;
    if (i == r->nflows)
        r->nflows++;
    r->flows[i] = (struct pd_flow){lport, iss};
}

static int capture(void *ctx, sp_time_t now, struct sp_ip_packet *pkt)
{
    struct pd_run *r = ctx;
    if (pkt->kind != SP_L4_TCP || r->nout >= PD_MAX_OUT)
        return 0;
    struct pd_out *o = &r->out[r->nout++];
    o->at = now;
    o->tcp = pkt->l4.tcp;
    /* The options as they leave: emitted without the payload, read back. */
    struct sp_tcp_repr h = o->tcp;
    h.payload = NULL;
    h.payload_len = 0;
    uint8_t hdr[SP_TCP_MAX_HDR_LEN];
    sp_tcp_repr_emit(&h, PD_US_IP, PD_PEER_IP, hdr);
    o->optlen = (uint8_t)(sp_tcp_repr_header_len(&h) - SP_TCP_MIN_HDR_LEN);
    memcpy(o->opts, hdr + SP_TCP_MIN_HDR_LEN, o->optlen);
    o->tcp.payload = NULL;
    if (o->tcp.flags & SP_TCP_SYN)
        learn_iss(r, o->tcp.src_port, o->tcp.seq);
    return 0;
}

/* --- options: bytes <-> lists ----------------------------------------------------------------------- */

static const struct pd_opt *find_ts(const struct pd_opt *o, int n)
{
    for (int i = 0; i < n; i++)
        if (o[i].kind == 8 && o[i].nv == 2)
            return &o[i];
    return NULL;
}

/* A matched `>` line with a timestamp: its TSval stands for the one sent from now on. */
static void ts_learn(struct pd_run *r, const struct pd_opt *script, const struct pd_opt *sent)
{
    struct pd_ts_map *m = &r->ts;
    for (int i = 0; i < m->n; i++)
        if (m->script[i] == script->v[0]) {
            m->actual[i] = sent->v[0];
            return;
        }
    if (m->n == PD_MAX_TS_MAP)
        return;
    m->script[m->n] = script->v[0];
    m->actual[m->n++] = sent->v[0];
}

/* An inbound TS ecr in script terms, in the stack's (as it is before any `>` line with one). */
static uint32_t ts_ecr_live(const struct pd_run *r, uint32_t ecr)
{
    const struct pd_ts_map *m = &r->ts;
    for (int i = 0; i < m->n; i++)
        if (m->script[i] == ecr)
            return m->actual[i];
    return m->n ? ecr - m->script[0] + m->actual[0] : ecr;
}

static size_t encode_opts(const struct pd_run *r, const struct pd_pkt *k, uint8_t *b)
{
    uint32_t iss = pd_iss_of(r, r->local_port);
    size_t n = 0;
    for (int i = 0; i < k->nopts; i++) {
        const struct pd_opt *o = &k->opts[i];
        uint8_t *p = b + n;
        p[0] = o->kind;
        switch (o->kind) {
        case 0:
        case 1: n += 1; continue;
        case 2: p[1] = 4; sp_put16(p + 2, (uint16_t)o->v[0]); break;
        case 3: p[1] = 3; p[2] = (uint8_t)o->v[0]; break;
        case 4: p[1] = 2; break;
        case 5:
            p[1] = (uint8_t)(2 + 4 * o->nv);
            for (int j = 0; j < o->nv; j++)
                sp_put32(p + 2 + 4 * j, iss + o->v[j]);   /* SACK edges are in our sequence space */
            break;
        case 8:
            p[1] = 10;
            sp_put32(p + 2, o->v[0]);
            sp_put32(p + 6, (k->flags & SP_TCP_ACK) ? ts_ecr_live(r, o->v[1]) : o->v[1]);
            break;
        case 254:
            p[1] = (uint8_t)(4 + o->ndata);
            sp_put16(p + 2, 0xf989);   /* the experimental Fast Open option's magic (RFC 7413 4.1.1) */
            memcpy(p + 4, o->data, o->ndata);
            break;
        default: p[1] = (uint8_t)(2 + o->ndata); memcpy(p + 2, o->data, o->ndata); break;
        }
        n += p[1];
    }
    return n;
}

/* Reads option bytes into a list like the script's: -1 when malformed. */
static int decode_opts(const uint8_t *b, size_t len, struct pd_opt *out, int cap)
{
    int n = 0;
    for (size_t i = 0; i < len && n < cap;) {
        struct pd_opt *o = &out[n++];
        memset(o, 0, sizeof *o);
        o->kind = b[i];
        if (b[i] <= 1) {
            i++;
            continue;
        }
        if (i + 1 >= len || b[i + 1] < 2 || i + b[i + 1] > len)
            return -1;
        const uint8_t *p = b + i;
        if (o->kind == 2 || o->kind == 3)
            o->v[o->nv++] = o->kind == 2 ? sp_get16(p + 2) : p[2];
        else if (o->kind == 8 || o->kind == 5)
            for (int j = 0; 2 + 4 * j + 4 <= p[1] && j < 8; j++)
                o->v[o->nv++] = sp_get32(p + 2 + 4 * j) - (o->kind == 5 ? PD_PEER_ISN : 0);
        i += p[1];
    }
    return n;
}

static void opts_str(const struct pd_opt *o, int n, char *out, size_t cap)
{
    size_t k = (size_t)snprintf(out, cap, "<");
    for (int i = 0; i < n && k < cap; i++) {
        const char *sep = i ? "," : "";
        switch (o[i].kind) {
        case 0: k += (size_t)snprintf(out + k, cap - k, "%seol", sep); break;
        case 1: k += (size_t)snprintf(out + k, cap - k, "%snop", sep); break;
        case 2: k += (size_t)snprintf(out + k, cap - k, "%smss %u", sep, o[i].v[0]); break;
        case 3: k += (size_t)snprintf(out + k, cap - k, "%swscale %u", sep, o[i].v[0]); break;
        case 4: k += (size_t)snprintf(out + k, cap - k, "%ssackOK", sep); break;
        case 5:
            k += (size_t)snprintf(out + k, cap - k, "%ssack", sep);
            for (int j = 0; j + 1 < o[i].nv && k < cap; j += 2)
                k += (size_t)snprintf(out + k, cap - k, " %u:%u", o[i].v[j], o[i].v[j + 1]);
            break;
        case 8: k += (size_t)snprintf(out + k, cap - k, "%sTS val %u ecr %u", sep, o[i].v[0], o[i].v[1]); break;
        default: k += (size_t)snprintf(out + k, cap - k, "%skind %u", sep, o[i].kind); break;
        }
    }
    if (k < cap)
        snprintf(out + k, cap - k, ">");
}

/* Same kinds in the same order with the same values; a timestamp's value is the sender's clock
 * and is not compared, its echo is. */
static bool opts_equal(const struct pd_opt *a, int na, const struct pd_opt *b, int nb)
{
    if (na != nb)
        return false;
    for (int i = 0; i < na; i++) {
        if (a[i].kind != b[i].kind || a[i].nv != b[i].nv)
            return false;
        for (int j = 0; j < a[i].nv; j++)
            if (a[i].v[j] != b[i].v[j] && !(a[i].kind == 8 && j == 0))
                return false;
    }
    return true;
}

/* --- matching the `>` lines --------------------------------------------------------------------------- */

static void flag_str(uint8_t f, bool ae, char *out)
{
    static const struct {
        uint8_t bit;
        char c;
    } m[] = {{SP_TCP_FIN, 'F'}, {SP_TCP_SYN, 'S'}, {SP_TCP_RST, 'R'}, {SP_TCP_PSH, 'P'},
             {SP_TCP_URG, 'U'}, {SP_TCP_ECE, 'E'}, {SP_TCP_CWR, 'W'}, {SP_TCP_ACK, '.'}};
    int n = 0;
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (f & m[i].bit)
            out[n++] = m[i].c;
    if (ae)
        out[n++] = 'A';
    if (!n)
        out[n++] = '-';
    out[n] = 0;
}

static void describe_out(const struct pd_run *r, const struct pd_out *o, char *out, size_t cap)
{
    char fl[12], ack[24] = "", opts[160];
    flag_str(o->tcp.flags, false, fl);
    uint32_t seq = o->tcp.seq - pd_iss_of(r, o->tcp.src_port);
    if (o->tcp.flags & SP_TCP_ACK)
        snprintf(ack, sizeof ack, " ack %u", o->tcp.ack - PD_PEER_ISN);
    struct pd_opt l[PD_MAX_OPTS];
    int nl = decode_opts(o->opts, o->optlen, l, PD_MAX_OPTS);
    opts_str(l, nl < 0 ? 0 : nl, opts, sizeof opts);
    snprintf(out, cap, "%s %u:%u(%zu)%s win %u %s at %.3f s", fl, seq, seq + (uint32_t)o->tcp.payload_len,
             o->tcp.payload_len, ack, o->tcp.window, nl > 0 ? opts : "", secs(pd_us_of(o->at)));
}

static void describe_pkt(const struct pd_pkt *k, char *out, size_t cap)
{
    char fl[12], ack[24] = "";
    flag_str(k->flags, k->ae, fl);
    if (k->has_ack)
        snprintf(ack, sizeof ack, " ack %u", k->ack);
    snprintf(out, cap, "%s %u:%u(%u)%s", fl, k->seq, k->seq + k->len, k->len, ack);
}

/* Relaxed: flags, relative seq and ack, payload length. Then, when asked, window and options. */
static int compare_out(struct pd_run *r, const struct pd_event *e, const struct pd_out *o)
{
    const struct pd_pkt *k = &e->pkt;
    char want[80], got[240];
    describe_pkt(k, want, sizeof want);
    describe_out(r, o, got, sizeof got);
    uint32_t seq = o->tcp.seq - pd_iss_of(r, o->tcp.src_port);
    if (k->ae || o->tcp.flags != k->flags || seq != k->seq || o->tcp.payload_len != k->len ||
        ((k->flags & SP_TCP_ACK) && k->has_ack && o->tcp.ack - PD_PEER_ISN != k->ack))
        return pd_fail(r, e->line, "expected %s, got %s", want, got);
    if (r->strict_win && k->win >= 0 && o->tcp.window != k->win)
        return pd_fail(r, e->line, "window %u, expected %ld (%s)", o->tcp.window, k->win, got);
    struct pd_opt l[PD_MAX_OPTS];
    int nl = decode_opts(o->opts, o->optlen, l, PD_MAX_OPTS);
    const struct pd_opt *ts_script = find_ts(k->opts, k->nopts), *ts_sent = nl > 0 ? find_ts(l, nl) : NULL;
    if (ts_script && ts_sent)
        ts_learn(r, ts_script, ts_sent);
    if (!r->strict_opts || k->any_opts)
        return 0;
    if (nl < 0 || !opts_equal(l, nl, k->opts, k->nopts)) {
        char w[160];
        opts_str(k->opts, k->nopts, w, sizeof w);
        return pd_fail(r, e->line, "options: expected %s, got %s", w, got);
    }
    return 0;
}

/* A `>` line longer than the segment that starts it stands for what a TSO/GSO device cuts into
 * MSS-sized pieces (Google's Linux scripts see such super-segments): the contiguous segments
 * sent back to back with it, at the same moment, only the last of them with PSH or FIN. */
static void coalesce(struct pd_run *r, const struct pd_pkt *k, struct pd_out *m)
{
    const uint8_t ends = SP_TCP_PSH | SP_TCP_FIN, opens = SP_TCP_SYN | SP_TCP_RST;
    while (m->tcp.payload_len < k->len && r->taken < r->nout && !(m->tcp.flags & (ends | opens))) {
        const struct pd_out *n = &r->out[r->taken];
        if (n->at != m->at || n->tcp.seq != m->tcp.seq + (uint32_t)m->tcp.payload_len || n->tcp.ack != m->tcp.ack ||
            !n->tcp.payload_len || (n->tcp.flags & opens))
            break;
        m->tcp.payload_len += n->tcp.payload_len;
        m->tcp.flags = n->tcp.flags;
        m->tcp.window = n->tcp.window;
        r->taken++;
    }
}

static long tolerance(const struct pd_run *r, long expected_us)
{
    long tol = r->s->tolerance_us;
    if (r->s->tolerance_pct > 0) {
        long dyn = (long)(r->s->tolerance_pct / 100.0 * (double)(expected_us - r->prev_us));
        if (dyn > tol)
            tol = dyn;
    }
    return tol;
}

/* The next segment the stack sent, waiting for it (timers running) until the end of the line's
 * time range plus the tolerance. */
static int outbound(struct pd_run *r, const struct pd_event *e, long lo, long hi, long *actual)
{
    const struct pd_pkt *k = &e->pkt;
    if (k->proto != PD_P_TCP)
        return pd_fail(r, e->line, "outbound %s is not captured (only TCP segments are)",
                       k->proto == PD_P_ICMP ? "ICMP" : "UDP");
    bool any = e->tkind == PD_T_ANY;
    long tol = tolerance(r, lo);
    sp_time_t limit = any ? r->now + 3600u * 1000u : ms_floor(hi + tol);
    pd_advance(r, limit, true);
    if (r->failed)
        return -1;
    if (r->taken == r->nout) {
        char want[80];
        describe_pkt(k, want, sizeof want);
        return pd_fail(r, e->line, "expected %s by %.3f s, nothing was sent", want, secs(pd_us_of(limit)));
    }
    struct pd_out m = r->out[r->taken++];
    const struct pd_out *o = &m;
    if (m.tcp.seq - pd_iss_of(r, m.tcp.src_port) == k->seq)
        coalesce(r, k, &m);
    *actual = pd_us_of(o->at);
    if (compare_out(r, e, o) < 0)
        return -1;
    if (!any && (*actual < lo - tol || *actual > hi + tol)) {
        char got[240];
        describe_out(r, o, got, sizeof got);
        return pd_fail(r, e->line, "sent at the wrong time: %s, expected %.3f s", got, secs(lo));
    }
    return 0;
}

/* --- what the peer sends ---------------------------------------------------------------------------- */

static void deliver(struct pd_run *r, uint8_t proto, size_t n)
{
    struct sp_ipv4_repr ip = {.src = PD_PEER_IP, .dst = PD_US_IP, .protocol = proto, .ttl = 64,
                              .payload_len = (uint16_t)n};
    if (proto == SP_IP_PROTO_TCP)
        sp_tcp_input(r->iface->tcp, r->now, &ip, r->buf, n);
    else
        sp_icmp_input(r->iface, r->now, &ip, r->buf, n);
}

/* The segment exactly as written: header, options in their order, zero bytes of payload. */
static int inbound(struct pd_run *r, const struct pd_event *e)
{
    const struct pd_pkt *k = &e->pkt;
    uint8_t opt[64];
    size_t olen = encode_opts(r, k, opt);
    if (olen % 4 || olen > 40)
        return pd_fail(r, e->line, "TCP options take %zu bytes: not padded to 4 or over 40", olen);
    if (k->ae)
        return pd_fail(r, e->line, "accurate ECN flags are not supported");
    size_t hdr = SP_TCP_MIN_HDR_LEN + olen, n = hdr + k->len;
    uint8_t *b = r->buf;
    memset(b, 0, n);
    uint32_t iss = pd_iss_of(r, r->local_port);
    sp_put16(b, k->has_ports ? k->sport : PD_PEER_PORT);
    sp_put16(b + 2, k->has_ports ? k->dport : r->local_port);
    sp_put32(b + 4, PD_PEER_ISN + k->seq);
    sp_put32(b + 8, k->has_ack ? iss + k->ack : 0);
    b[12] = (uint8_t)(hdr / 4 << 4);
    b[13] = k->flags;
    sp_put16(b + 14, (uint16_t)k->win);
    sp_put16(b + 18, k->urg);
    memcpy(b + SP_TCP_MIN_HDR_LEN, opt, olen);
    uint32_t sum = sp_csum_pseudo_ipv4(PD_PEER_IP, PD_US_IP, SP_IP_PROTO_TCP, (uint16_t)n);
    sp_put16(b + 16, sp_csum_finish(sp_csum_add(sum, b, n)));
    deliver(r, SP_IP_PROTO_TCP, n);
    return 0;
}

/* An ICMP message from the peer quoting the IPv4 header and first 8 bytes of one of our segments:
 * the one the script names in [seq], else one at our ISN, as packetdrill quotes it. */
static int inbound_icmp(struct pd_run *r, const struct pd_event *e)
{
    const struct pd_pkt *k = &e->pkt;
    uint8_t q[28] = {0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, SP_IP_PROTO_TCP};
    sp_put32(q + 12, PD_US_IP);
    sp_put32(q + 16, PD_PEER_IP);
    sp_put16(q + 10, sp_csum(q, 20));
    sp_put16(q + 20, r->local_port);
    sp_put16(q + 22, PD_PEER_PORT);
    sp_put32(q + 24, pd_iss_of(r, r->local_port) + (k->icmp_echo_seq ? k->icmp_seq : 0));
    struct sp_icmp_repr ic = {.type = k->icmp_type, .code = k->icmp_code,
                              .mtu = (uint16_t)(k->icmp_mtu > 0 ? k->icmp_mtu : 0), .data = q,
                              .data_len = sizeof q};
    size_t n = sp_icmp_repr_buffer_len(&ic);
    sp_icmp_repr_emit(&ic, r->buf);
    deliver(r, SP_IP_PROTO_ICMP, n);
    return 0;
}

/* --- blocking calls ------------------------------------------------------------------------------- */

static void finish_call(struct pd_run *r, const struct pd_event *e, const struct pd_pending *p,
                        const struct pd_ret *ret)
{
    if (pd_check_result(r, e, ret) < 0 || !e->sc.blocking)
        return;
    long actual = pd_us_of(r->now), tol = tolerance(r, p->end_us);
    if (actual < p->end_us - tol || actual > p->end_us + tol)
        pd_fail(r, e->line, "%s() returned at %.3f s, expected at %.3f s", e->sc.name, secs(actual),
                secs(p->end_us));
}

/* Tries the waiting call again: the stack may have made it possible. */
static void pending_check(struct pd_run *r)
{
    struct pd_pending *p = &r->pend;
    if (!p->active || r->failed)
        return;
    struct pd_ret ret;
    enum pd_step st = pd_syscall_step(r, p->ev, p, &ret);
    if (st == PD_BLOCKED) {
        long limit = p->end_us + tolerance(r, p->end_us);
        if (pd_us_of(r->now) > limit)
            pd_fail(r, p->ev->line, "%s() still blocked at %.3f s, expected to return at %.3f s", p->ev->sc.name,
                    secs(pd_us_of(r->now)), secs(p->end_us));
        return;
    }
    p->active = false;
    if (st == PD_DONE)
        finish_call(r, p->ev, p, &ret);
}

static sp_time_t next_wakeup(const struct pd_run *r)
{
    sp_time_t at = sp_tcp_poll_at(r->iface->tcp);
    if (r->pend.active)
        at = sp_time_min(at, r->pend.deadline);
    return at;
}

/* Runs the timers up to limit (virtual ms), retrying a blocked call after every step; stops
 * early once a segment waits to be matched when stop is set. */
static void pd_advance(struct pd_run *r, sp_time_t limit, bool stop)
{
    for (int guard = 0; guard < 100000 && !r->failed; guard++) {
        if (stop && r->taken < r->nout)
            return;
        sp_time_t at = next_wakeup(r);
        if (at > limit)
            break;
        if (at > r->now)
            r->now = at;
        sp_iface_set_now(r->iface, r->now);
        sp_tcp_poll(r->iface->tcp, r->now);
        pending_check(r);
    }
    if (r->failed || (stop && r->taken < r->nout))
        return;
    if (limit > r->now)
        r->now = limit;
    sp_iface_set_now(r->iface, r->now);
    pending_check(r);
}

static void start_call(struct pd_run *r, const struct pd_event *e, long start_us, long base_us)
{
    struct pd_pending p = {.ev = e, .start_us = start_us, .deadline = SP_TIME_NEVER};
    p.end_us = e->sc.blocking ? (e->tkind == PD_T_REL ? base_us + e->sc.end_us : e->sc.end_us) : start_us;
    struct pd_ret ret;
    enum pd_step st = pd_syscall_step(r, e, &p, &ret);
    if (st == PD_DONE)
        finish_call(r, e, &p, &ret);
    else if (st == PD_BLOCKED && !e->sc.blocking)
        pd_fail(r, e->line, "%s() blocked; a call that may block needs a `start...end` time", e->sc.name);
    else if (st == PD_BLOCKED) {
        p.active = true;
        r->pend = p;
    }
}

/* A new call waits for the one still blocked, as packetdrill's single system-call thread does;
 * it must have returned by the time the new one starts. */
static void settle_pending(struct pd_run *r, const struct pd_event *next, sp_time_t t)
{
    pd_advance(r, t, false);
    if (r->pend.active && !r->failed)
        pd_fail(r, r->pend.ev->line, "%s() still blocked when line %d calls %s()", r->pend.ev->sc.name, next->line,
                next->sc.name);
}

/* --- the event loop --------------------------------------------------------------------------------- */

static bool anchored(const struct pd_event *e) { return e->tkind == PD_T_ABS || e->tkind == PD_T_REL; }

/* The event's time range in script microseconds; + times count from the previous event (its
 * script time when that was exact, else when it happened). */
static void event_times(const struct pd_run *r, const struct pd_event *e, long *lo, long *hi, long *base)
{
    *base = r->prev_anchored ? r->prev_us : r->prev_actual_us;
    switch (e->tkind) {
    case PD_T_ABS: *lo = *hi = e->t_us; break;
    case PD_T_REL: *lo = *hi = *base + e->t_us; break;
    case PD_T_ABS_RANGE: *lo = e->t_us; *hi = e->t_end_us; break;
    case PD_T_REL_RANGE: *lo = *base + e->t_us; *hi = *base + e->t_end_us; break;
    case PD_T_ANY: *lo = *hi = pd_us_of(r->now); break;
    }
}

static void run_event(struct pd_run *r, const struct pd_event *e)
{
    long lo = 0, hi = 0, base = 0, actual = 0;
    event_times(r, e, &lo, &hi, &base);
    if (e->kind == PD_EV_PACKET && !e->pkt.inbound) {
        if (outbound(r, e, lo, hi, &actual) < 0)
            return;
    } else {
        sp_time_t t = ms_round(lo);
        if (e->kind == PD_EV_SYSCALL && r->pend.active)
            settle_pending(r, e, t);
        pd_advance(r, t, false);
        if (r->failed)
            return;
        actual = pd_us_of(r->now);
        if (e->kind == PD_EV_PACKET && e->pkt.proto == PD_P_TCP)
            inbound(r, e);
        else if (e->kind == PD_EV_PACKET && e->pkt.proto == PD_P_ICMP)
            inbound_icmp(r, e);
        else if (e->kind == PD_EV_PACKET)
            pd_fail(r, e->line, "UDP packets are not supported");
        else if (e->kind == PD_EV_SYSCALL)
            start_call(r, e, lo, base);
        else
            r->ignored++;   /* shell commands and Python assertions of the original OS */
        pending_check(r);
    }
    r->prev_us = lo;
    r->prev_actual_us = actual;
    r->prev_anchored = anchored(e);
}

static void setup(struct pd_run *r, const struct pd_script *s)
{
    r->s = s;
    r->now = PD_T0;
    r->local_port = s->bind_port ? s->bind_port : PD_LOCAL_PORT;
    r->dev = sp_mem_open(s->mtu > 0 ? (uint16_t)s->mtu : 1500, 64);
    struct sp_iface_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.mac = (struct sp_mac){{0x02, 0, 0, 0, 0, 0x02}};
    cfg.ip = PD_US_IP;
    cfg.prefix_len = 24;
    cfg.secret = 0x0123456789abcdefull;
    cfg.tcp.rcvbuf = cfg.tcp.sndbuf = PD_BUF;   /* whatever opts.h says */
    r->iface = r->dev ? sp_iface_new(&cfg, r->dev, PD_T0) : NULL;
    if (r->iface)
        sp_tcp_set_output(r->iface->tcp, capture, r);
    pd_sockets_init(r);
}

int pd_run_script(struct pd_run *r, const struct pd_script *s)
{
    setup(r, s);
    if (!r->iface) {
        if (r->dev)
            sp_device_close(r->dev);
        return pd_fail(r, 0, "cannot set up the interface");
    }
    if (!s->ipv4)
        pd_fail(r, 0, "only IPv4 scripts are supported (--ip_version)");
    for (int i = 0; i < s->nevents && !r->failed; i++)
        run_event(r, &s->ev[i]);
    if (r->pend.active && !r->failed) {
        /* The script ends with a call still blocked: it has until its end time to return. */
        long limit = r->pend.end_us + tolerance(r, r->pend.end_us);
        pd_advance(r, ms_floor(limit) + 1, false);
    }
    r->ignored += s->ncommands;
    sp_iface_free(r->iface);
    sp_device_close(r->dev);
    return r->failed ? -1 : 0;
}
