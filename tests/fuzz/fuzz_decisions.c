/* fuzz_decisions: the frame path of fuzz_frames with decisions handed to a stub decider whose
 * answers come from the input (fuzz_decide.h has the format): every kind delegated or shadowed,
 * in exact or legal authority, with the fallback or drop policy; proposals structured and raw,
 * native, patched or made up, errors, refusals, answers given from inside decide, answers to
 * requests that already ended, and no answer at all (the deadline).
 *
 * Invariants, each an abort:
 *   - every frame the stack sends parses back with correct checksums (fuzz_host.c);
 *   - a request is well formed (its mode, authority and deadline as configured, its packet and
 *     native answer within bounds), and its native answer, proposed back as it is (structured or
 *     raw), is valid: the validator accepts what the stack itself would send;
 *   - every request ends exactly once: sp_decision_complete acts on a request the decider holds
 *     and refuses one that ended, the outcome callback names only requests the decider holds, and
 *     none is left once every deadline has passed;
 *   - the counters add up: asked is the number of decide calls, and each ended request is counted
 *     once in valid, invalid, timeouts, errors or cancelled. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_decide.h"
#include "fuzz_host.h"
#include "slowpath/decide.h"
#include "slowpath/error.h"
#include "slowpath/opts.h"
#include "slowpath/wire/arp.h"
#include "slowpath/wire/icmp.h"
#include "slowpath/wire/ipv4.h"
#include "slowpath/wire/tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const sp_time_t fzd_timeouts[8] = {SP_DECISION_TIMEOUT_MS, 1, 10, 100, 1000, 5000, 30000, 60000};

/* An answer as the input describes it; bytes point into the input. */
struct spec {
    uint8_t fix;
    enum fzd_mode mode;
    const uint8_t *bytes;
    size_t len;
};

/* A request the decider holds, with copies of what the stack only lends during decide. */
struct held {
    struct sp_decision_request req;
    uint8_t packet[SP_DECISION_MAX_PACKET];
    uint8_t native[SP_DECISION_MAX_PACKET];
};
#define MAX_HELD 128

static struct {
    struct fz_host *h;
    enum sp_decision_mode mode[SP_DECISION_KINDS];
    enum sp_authority authority;
    sp_time_t timeout;
    struct held held[MAX_HELD];
    unsigned nheld;
    uint64_t decide_calls[SP_DECISION_KINDS];
    uint64_t last_ended;
    bool armed;
    struct spec armed_spec;
} st;

static int find_held(uint64_t id)
{
    for (unsigned i = 0; i < st.nheld; i++)
        if (st.held[i].req.id == id)
            return (int)i;
    return -1;
}

static void drop_held(uint64_t id)
{
    int i = find_held(id);
    if (i < 0)
        fz_die("request %llu ended twice, or was never asked", (unsigned long long)id);
    st.held[i] = st.held[--st.nheld];
    st.last_ended = id;
}

/* --- Proposals ------------------------------------------------------------------------------- */

static enum sp_hs_state after_rst(enum sp_hs_state s)
{
    return s == SP_HS_LISTEN || s == SP_HS_SYN_SENT ? s : SP_HS_CLOSED;
}

/* The native answer as a structured proposal; false when there is none to read. */
static bool native_proposal(const struct sp_decision_request *req, struct sp_decision_proposal *p)
{
    memset(p, 0, sizeof *p);
    p->icmp_ip_ident = -1;
    p->icmp_df = -1;
    p->tcp_wscale = -1;
    p->next_state = SP_HS_CLOSED;
    p->action = SP_PROPOSE_REPLY;
    if (req->kind == SP_DECISION_ARP) {
        struct sp_eth_view e;
        struct sp_arp_view a;
        if (sp_eth_view_init(&e, req->native, req->native_len) < 0 ||
            sp_arp_view_init(&a, sp_eth_payload(&e), sp_eth_payload_len(&e)) < 0 || sp_arp_repr_parse(&a, &p->arp) < 0)
            return false;
        return true;
    }
    struct sp_ipv4_view v;
    struct sp_ipv4_repr ip;
    if (sp_ipv4_view_init(&v, req->native, req->native_len) < 0 || sp_ipv4_repr_parse(&v, &ip) < 0)
        return false;
    if (req->kind == SP_DECISION_ICMP) {
        struct sp_icmp_view iv;
        struct sp_icmp_repr icmp;
        if (sp_icmp_view_init(&iv, sp_ipv4_payload(&v), sp_ipv4_payload_len(&v)) < 0 ||
            sp_icmp_repr_parse(&iv, &icmp) < 0)
            return false;
        p->icmp_dst = ip.dst;
        p->icmp_ident = icmp.ident;
        p->icmp_seq = icmp.seq;
        p->icmp_ttl = ip.ttl;
        return true;
    }
    struct sp_tcp_view tv;
    struct sp_tcp_repr t;
    if (sp_tcp_view_init(&tv, sp_ipv4_payload(&v), sp_ipv4_payload_len(&v)) < 0 ||
        sp_tcp_repr_parse(&tv, ip.src, ip.dst, &t) < 0)
        return false;
    if (t.flags & SP_TCP_RST) {
        p->action = SP_PROPOSE_RST;
        p->next_state = after_rst(req->hs_state);
    } else if (t.flags & SP_TCP_SYN) {
        p->action = SP_PROPOSE_SYN_ACK;
        p->next_state = SP_HS_SYN_RECEIVED;
    } else {
        p->action = SP_PROPOSE_ACK;
        p->next_state = SP_HS_ESTABLISHED;
    }
    p->tcp_seq = t.seq;
    p->tcp_ack = t.ack;
    p->tcp_window = t.window;
    p->tcp_mss = t.mss;
    p->tcp_wscale = t.wscale;
    return true;
}

/* Sets fields from [field u8][value u32be] pairs. */
static void patch_fields(struct sp_decision_proposal *p, const uint8_t *b, size_t n)
{
    for (; n >= 5; b += 5, n -= 5) {
        uint32_t v = sp_get32(b + 1);
        switch (b[0] % 18) {
        case 0: p->action = (enum sp_proposal_action)(v % 5); break;
        case 1: p->icmp_dst = v; break;
        case 2: p->icmp_ident = (uint16_t)v; break;
        case 3: p->icmp_seq = (uint16_t)v; break;
        case 4: p->icmp_ttl = (uint8_t)v; break;
        case 5: p->icmp_ip_ident = (int32_t)(v % 65537) - 1; break;
        case 6: p->icmp_df = (int8_t)((int)(v % 3) - 1); break;
        case 7: p->arp.op = (uint16_t)v; break;
        case 8: p->arp.sha.b[v % 6] = (uint8_t)(v >> 8); break;
        case 9: p->arp.spa = v; break;
        case 10: p->arp.tha.b[v % 6] = (uint8_t)(v >> 8); break;
        case 11: p->arp.tpa = v; break;
        case 12: p->tcp_seq = v; break;
        case 13: p->tcp_ack = v; break;
        case 14: p->tcp_window = (uint16_t)v; break;
        case 15: p->tcp_mss = (uint16_t)v; break;
        case 16: p->tcp_wscale = (int8_t)((int)(v % 17) - 1); break;
        default: p->next_state = (enum sp_hs_state)(v % 5); break;
        }
    }
}

/* A raw proposal's bytes, as long as the input likes (the validator bounds them). */
static uint8_t raw_buf[2 * SP_DECISION_MAX_PACKET];

/* Fills *p for request h from spec; returns the error to complete with instead, or 0. */
static int make_proposal(const struct held *h, const struct spec *s, struct sp_decision_proposal *p)
{
    static const int errors[5] = {SP_ETIMEDOUT, SP_EIO, SP_EBUSY, SP_ECLOSED, -209 /* an LLM engine code */};
    const struct sp_decision_request *req = &h->req;
    uint8_t b0 = s->len ? s->bytes[0] : 0;
    if (s->mode == FZD_ERROR)
        return errors[b0 % 5];
    if (!native_proposal(req, p) && s->mode != FZD_FIELDS && s->mode != FZD_RAW)
        return SP_EIO;
    switch (s->mode) {
    case FZD_PATCHED:
        patch_fields(p, s->bytes, s->len);
        break;
    case FZD_FIELDS: {
        enum sp_hs_state next = p->next_state;
        memset(p, 0, sizeof *p);
        p->next_state = next;
        patch_fields(p, s->bytes, s->len);
        break;
    }
    case FZD_NATIVE_RAW:
    case FZD_RAW_PATCHED:
    case FZD_RAW: {
        size_t n = s->mode == FZD_RAW ? (s->len < sizeof raw_buf ? s->len : sizeof raw_buf) : req->native_len;
        memcpy(raw_buf, s->mode == FZD_RAW ? s->bytes : req->native, n);
        if (s->mode == FZD_RAW_PATCHED && n)
            for (size_t i = 0; i + 3 <= s->len; i += 3)
                raw_buf[sp_get16(s->bytes + i) % n] = s->bytes[i + 2];
        if ((s->fix & FZ_FIX_CSUM) && req->kind != SP_DECISION_ARP)
            fz_fix_ipv4(raw_buf, n);
        p->raw = true;
        p->raw_bytes = raw_buf;
        p->raw_len = n;
        p->action = SP_PROPOSE_REPLY;
        break;
    }
    case FZD_DROP:
        p->action = SP_PROPOSE_DROP;
        break;
    case FZD_WRONG_ACTION:
        p->action = (enum sp_proposal_action)(b0 % 5);
        break;
    default:
        break;
    }
    return 0;
}

/* --- The decider ------------------------------------------------------------------------------- */

static void complete(const struct held *h, uint64_t id, const struct spec *s)
{
    struct sp_decision_proposal p;
    struct sp_decision_outcome out;
    memset(&out, 0, sizeof out);
    int err = make_proposal(h, s, &p);
    bool holding = find_held(id) >= 0;
    enum sp_decision_kind kind = h->req.kind;
    int rc = sp_decision_complete(fz_host_iface(st.h), fz_host_now(st.h), id, err, err ? NULL : &p, &out);
    if (!holding) {
        if (rc != SP_EINVAL)
            fz_die("completing request %llu, which had ended, gave %d", (unsigned long long)id, rc);
        return;
    }
    if (rc != 0)
        fz_die("completing request %llu, still open, gave %d", (unsigned long long)id, rc);
    if (out.id != id || out.kind != kind || out.error != err)
        fz_die("the outcome of request %llu names %llu, kind %d, error %d", (unsigned long long)id,
               (unsigned long long)out.id, out.kind, out.error);
    if (out.emitted && out.action == SP_ACTION_SHADOW)
        fz_die("a shadow decision emitted a frame");
    drop_held(id);
}

static void check_request(const struct sp_decision_request *req)
{
    if ((unsigned)req->kind >= SP_DECISION_KINDS || req->mode != st.mode[req->kind] ||
        req->authority != st.authority)
        fz_die("request %llu: kind %d mode %d authority %d, not as configured", (unsigned long long)req->id,
               req->kind, req->mode, req->authority);
    if (req->deadline != req->asked_at + st.timeout)
        fz_die("request %llu: deadline %llu for a question asked at %llu", (unsigned long long)req->id,
               (unsigned long long)req->deadline, (unsigned long long)req->asked_at);
    if (!req->packet || !req->native || req->packet_len > SP_DECISION_MAX_PACKET ||
        req->native_len > SP_DECISION_MAX_PACKET || req->native_len == 0)
        fz_die("request %llu: packet of %zu bytes, native answer of %zu", (unsigned long long)req->id,
               req->packet_len, req->native_len);
    if (find_held(req->id) >= 0 || req->id == st.last_ended)
        fz_die("request id %llu asked twice", (unsigned long long)req->id);
    /* What the stack would send is what the validator must accept, in either authority and form. */
    struct sp_decision_proposal p;
    if (!native_proposal(req, &p))
        fz_die("request %llu (%s): the native answer does not parse", (unsigned long long)req->id,
               sp_decision_kind_name(req->kind));
    enum sp_verdict v = sp_validate_proposal(req, &p);
    if (v != SP_VERDICT_VALID)
        fz_die("request %llu (%s): the native answer, structured, is %s", (unsigned long long)req->id,
               sp_decision_kind_name(req->kind), sp_verdict_name(v));
    enum sp_hs_state next = p.next_state;
    memset(&p, 0, sizeof p);
    p.action = SP_PROPOSE_REPLY;
    p.raw = true;
    p.raw_bytes = req->native;
    p.raw_len = req->native_len;
    p.next_state = next;
    p.icmp_ip_ident = -1;
    p.icmp_df = -1;
    p.tcp_wscale = -1;
    v = sp_validate_proposal(req, &p);
    if (v != SP_VERDICT_VALID)
        fz_die("request %llu (%s): the native answer, raw, is %s", (unsigned long long)req->id,
               sp_decision_kind_name(req->kind), sp_verdict_name(v));
}

static int stub_decide(void *ctx, const struct sp_decision_request *req)
{
    (void)ctx;
    check_request(req);
    if (st.nheld == MAX_HELD)
        fz_die("more requests open than the pending table holds");
    struct held *h = &st.held[st.nheld++];
    h->req = *req;
    memcpy(h->packet, req->packet, req->packet_len);
    memcpy(h->native, req->native, req->native_len);
    h->req.packet = h->packet;
    h->req.native = h->native;
    if (req->icmp.data)
        h->req.icmp.data = h->packet + (req->icmp.data - req->packet);
    if (req->tcp.payload)
        h->req.tcp.payload = h->packet + (req->tcp.payload - req->packet);
    st.decide_calls[req->kind]++;
    if (!st.armed)
        return 0;
    st.armed = false;
    if (st.armed_spec.mode == FZD_ERROR) /* refuse: the outcome callback hears of it */
        return SP_EBUSY;
    struct held copy = *h; /* the held table may move while the stack acts */
    copy.req.packet = copy.packet;
    copy.req.native = copy.native;
    if (req->icmp.data)
        copy.req.icmp.data = copy.packet + (req->icmp.data - req->packet);
    if (req->tcp.payload)
        copy.req.tcp.payload = copy.packet + (req->tcp.payload - req->packet);
    complete(&copy, req->id, &st.armed_spec);
    return 0;
}

static void stub_outcome(void *ctx, const struct sp_decision_outcome *out)
{
    (void)ctx;
    if (out->error == 0)
        fz_die("request %llu ended by the stack without an error", (unsigned long long)out->id);
    drop_held(out->id);
}

/* --- The input ------------------------------------------------------------------------------- */

/* Modes per kind (config[0]) and authority, policy and deadline (config[1]) for what is asked
 * from now on. */
static void configure(uint8_t modes, uint8_t cfg)
{
    static const enum sp_decision_mode mode_of[4] = {SP_DECIDE_NATIVE, SP_DECIDE_DELEGATE, SP_DECIDE_SHADOW,
                                                     SP_DECIDE_DELEGATE};
    struct sp_iface *iface = fz_host_iface(st.h);
    struct sp_decider d = {.decide = stub_decide, .outcome = stub_outcome, .ctx = &st};
    st.authority = cfg & 1 ? SP_AUTHORITY_LEGAL : SP_AUTHORITY_EXACT;
    st.timeout = fzd_timeouts[(cfg >> 2) & 7];
    sp_iface_set_authority(iface, st.authority);
    sp_iface_set_invalid_policy(iface, cfg & 2 ? SP_INVALID_DROP : SP_INVALID_FALLBACK);
    sp_iface_set_decision_timeout(iface, st.timeout);
    for (int k = 0; k < SP_DECISION_KINDS; k++) {
        st.mode[k] = mode_of[(modes >> (2 * k)) & 3];
        sp_iface_set_decider(iface, (enum sp_decision_kind)k, st.mode[k], &d);
    }
}

static void decision_record(const struct fz_record *r)
{
    fz_host_advance(st.h, fz_host_now(st.h) + r->dt);
    struct spec s = {.fix = r->fix, .mode = (enum fzd_mode)((r->op >> 3) % FZD_MODES), .bytes = r->data,
                     .len = r->len};
    if (r->fix & FZD_FIX_CONFIG) {
        if (r->len)
            configure(r->data[0], r->len > 1 ? r->data[1] : 0);
        return;
    }
    if (r->fix & FZD_FIX_ARM) {
        st.armed = true;
        st.armed_spec = s;
        return;
    }
    unsigned which = r->op & 7;
    if (which == 7) {
        /* A request that ended: the stack must refuse it. Built against any held request. */
        if (st.last_ended && st.nheld) {
            struct held copy = st.held[0];
            copy.req.packet = copy.packet;
            copy.req.native = copy.native;
            copy.req.icmp.data = NULL;
            copy.req.tcp.payload = NULL;
            complete(&copy, st.last_ended, &s);
        }
        return;
    }
    if (!st.nheld)
        return;
    static struct held copy;
    copy = st.held[which % st.nheld];
    const struct held *orig = &st.held[which % st.nheld];
    copy.req.packet = copy.packet;
    copy.req.native = copy.native;
    if (orig->req.icmp.data)
        copy.req.icmp.data = copy.packet + (orig->req.icmp.data - orig->packet);
    if (orig->req.tcp.payload)
        copy.req.tcp.payload = copy.packet + (orig->req.tcp.payload - orig->packet);
    complete(&copy, copy.req.id, &s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < FZD_CONFIG)
        return 0;
    memset(&st, 0, sizeof st);
    st.h = fz_host_new_offload(NULL, (data[2] & FZD_CONFIG_OFFLOAD) ? FZ_OFFLOADS : 0);
    struct sp_iface *iface = fz_host_iface(st.h);
    configure(data[0], data[1]);
    data += FZD_CONFIG;
    size -= FZD_CONFIG;
    struct fz_record r;
    for (unsigned i = 0; i < FZ_MAX_RECORDS && fz_next_record(&data, &size, &r); i++) {
        if (r.fix & FZD_FIX_DECISION)
            decision_record(&r);
        else
            fz_host_step(st.h, &r);
    }
    fz_host_finish(st.h);
    if (st.nheld)
        fz_die("%u requests still open after every deadline (request %llu)", st.nheld,
               (unsigned long long)st.held[0].req.id);
    for (int k = 0; k < SP_DECISION_KINDS; k++) {
        const struct sp_decision_stats *ds = sp_iface_decision_stats(iface, (enum sp_decision_kind)k);
        if (ds->asked != st.decide_calls[k] ||
            ds->asked != ds->valid + ds->invalid + ds->timeouts + ds->errors + ds->cancelled)
            fz_die("%s: asked %llu (decide calls %llu) but ended %llu", sp_decision_kind_name((enum sp_decision_kind)k),
                   (unsigned long long)ds->asked, (unsigned long long)st.decide_calls[k],
                   (unsigned long long)(ds->valid + ds->invalid + ds->timeouts + ds->errors + ds->cancelled));
        if (getenv("SP_FUZZ_TRACE"))
            fprintf(stderr, "  %s: asked %llu valid %llu invalid %llu timeouts %llu errors %llu cancelled %llu llm %llu\n",
                    sp_decision_kind_name((enum sp_decision_kind)k), (unsigned long long)ds->asked,
                    (unsigned long long)ds->valid, (unsigned long long)ds->invalid, (unsigned long long)ds->timeouts,
                    (unsigned long long)ds->errors, (unsigned long long)ds->cancelled,
                    (unsigned long long)ds->emitted_llm);
    }
    fz_host_free(st.h);
    return 0;
}
