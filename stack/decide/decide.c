/* Decision points: modes and deciders per kind, the bounded pending table, and what happens to a
 * request when its proposal, an error or its deadline arrives (validate, then emit, fall back,
 * drop, or grade in shadow mode). The protocol knowledge is elsewhere: the validators in
 * validate_*.c, the native and proposed answers in each module's sp_decision_ops. */
#include <stdlib.h>
#include <string.h>

#include "iface_internal.h"

const char *sp_decision_kind_name(enum sp_decision_kind k)
{
    static const char *const names[] = {"icmp", "arp", "tcp"};
    return (unsigned)k < SP_DECISION_KINDS ? names[k] : "?";
}

int sp_decision_kind_parse(const char *name, enum sp_decision_kind *out)
{
    for (int k = 0; name && k < SP_DECISION_KINDS; k++)
        if (strcmp(name, sp_decision_kind_name((enum sp_decision_kind)k)) == 0) {
            *out = (enum sp_decision_kind)k;
            return 0;
        }
    return SP_EINVAL;
}

const char *sp_decision_mode_name(enum sp_decision_mode m)
{
    static const char *const names[] = {"native", "llm", "shadow"};
    return (unsigned)m <= SP_DECIDE_SHADOW ? names[m] : "?";
}

const char *sp_hs_state_name(enum sp_hs_state s)
{
    static const char *const names[] = {"LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "CLOSED"};
    return (unsigned)s <= SP_HS_CLOSED ? names[s] : "?";
}

int sp_hs_state_parse(const char *name, enum sp_hs_state *out)
{
    for (int s = 0; name && s <= SP_HS_CLOSED; s++)
        if (strcmp(name, sp_hs_state_name((enum sp_hs_state)s)) == 0) {
            *out = (enum sp_hs_state)s;
            return 0;
        }
    return SP_EINVAL;
}

const char *sp_proposal_action_name(enum sp_proposal_action a)
{
    static const char *const names[] = {"drop", "reply", "syn_ack", "ack", "rst"};
    return (unsigned)a <= SP_PROPOSE_RST ? names[a] : "?";
}

const char *sp_verdict_name(enum sp_verdict v)
{
    static const char *const names[] = {
#define SP_VERDICT_TEXT(name, text) text,
        SP_VERDICT_MAP(SP_VERDICT_TEXT)
#undef SP_VERDICT_TEXT
    };
    return (unsigned)v < SP_VERDICT_COUNT ? names[v] : "?";
}

const char *sp_authority_name(enum sp_authority a)
{
    return a == SP_AUTHORITY_LEGAL ? "legal" : a == SP_AUTHORITY_EXACT ? "exact" : "?";
}

int sp_authority_parse(const char *name, enum sp_authority *out)
{
    for (int a = SP_AUTHORITY_EXACT; a <= SP_AUTHORITY_LEGAL; a++)
        if (name && strcmp(name, sp_authority_name((enum sp_authority)a)) == 0) {
            *out = (enum sp_authority)a;
            return 0;
        }
    return SP_EINVAL;
}

const char *sp_deviation_name(enum sp_deviation d)
{
    static const char *const names[] = {
#define SP_DEVIATION_TEXT(name, text) text,
        SP_DEVIATION_MAP(SP_DEVIATION_TEXT)
#undef SP_DEVIATION_TEXT
    };
    return (unsigned)d < SP_DEVIATION_COUNT ? names[d] : "?";
}

const char *sp_decision_action_name(enum sp_decision_action a)
{
    static const char *const names[] = {"llm", "fallback", "drop", "shadow"};
    return (unsigned)a <= SP_ACTION_SHADOW ? names[a] : "?";
}

enum sp_verdict sp_validate_proposal(const struct sp_decision_request *req, const struct sp_decision_proposal *p)
{
    if (!req || !p)
        return SP_VERDICT_MALFORMED;
    switch (req->kind) {
    case SP_DECISION_ICMP:
        return sp_validate_icmp(req, p, NULL);
    case SP_DECISION_ARP:
        return sp_validate_arp(req, p, NULL);
    case SP_DECISION_TCP:
        return sp_validate_tcp(req, p, NULL);
    default:
        return SP_VERDICT_ACTION;
    }
}

/* --- Life cycle and settings ---------------------------------------------------------------- */

int sp_decision_init(struct sp_iface *iface)
{
    struct sp_decisions *d = &iface->decide;
    memset(d, 0, sizeof *d);
    d->entries = calloc(SP_DECISION_PENDING, sizeof *d->entries);
    if (!d->entries)
        return SP_ENOBUFS;
    d->policy = SP_INVALID_FALLBACK;
    d->timeout = SP_DECISION_TIMEOUT_MS;
    d->next_id = 1;
    d->kinds[SP_DECISION_ICMP].ops = &sp_icmp_decision_ops;
    d->kinds[SP_DECISION_ARP].ops = &sp_arp_decision_ops;
    return 0;
}

void sp_decision_free(struct sp_iface *iface)
{
    free(iface->decide.entries);
    iface->decide.entries = NULL;
}

void sp_decision_set_ops(struct sp_iface *iface, enum sp_decision_kind kind, const struct sp_decision_ops *ops)
{
    if ((unsigned)kind < SP_DECISION_KINDS)
        iface->decide.kinds[kind].ops = ops;
}

void sp_iface_set_decider(struct sp_iface *iface, enum sp_decision_kind kind, enum sp_decision_mode mode,
                          const struct sp_decider *decider)
{
    if (!iface || (unsigned)kind >= SP_DECISION_KINDS)
        return;
    struct sp_decision_kind_state *k = &iface->decide.kinds[kind];
    /* Without a decider (or a module that can answer later) there is nobody to ask. */
    if (!decider || !decider->decide || !k->ops)
        mode = SP_DECIDE_NATIVE;
    k->mode = mode;
    if (decider)
        k->decider = *decider;
    else
        memset(&k->decider, 0, sizeof k->decider);
}

void sp_iface_set_invalid_policy(struct sp_iface *iface, enum sp_invalid_policy policy)
{
    iface->decide.policy = policy == SP_INVALID_DROP ? SP_INVALID_DROP : SP_INVALID_FALLBACK;
}

void sp_iface_set_authority(struct sp_iface *iface, enum sp_authority authority)
{
    iface->decide.authority = authority == SP_AUTHORITY_LEGAL ? SP_AUTHORITY_LEGAL : SP_AUTHORITY_EXACT;
}

void sp_iface_set_decision_timeout(struct sp_iface *iface, sp_time_t ms)
{
    iface->decide.timeout = ms ? ms : 1;
}

const struct sp_decision_stats *sp_iface_decision_stats(const struct sp_iface *iface, enum sp_decision_kind k)
{
    if ((unsigned)k >= SP_DECISION_KINDS)
        k = SP_DECISION_ICMP;
    return &iface->decide.kinds[k].stats;
}

/* --- The pending table ---------------------------------------------------------------------- */

static bool flow_eq(const struct sp_flow *a, const struct sp_flow *b)
{
    return a->protocol == b->protocol && a->local_ip == b->local_ip && a->remote_ip == b->remote_ip &&
           a->local_port == b->local_port && a->remote_port == b->remote_port;
}

enum sp_decision_open_result sp_decision_open(struct sp_iface *iface, sp_time_t now, enum sp_decision_kind kind,
                                              const struct sp_flow *flow, uint64_t identity, size_t packet_len,
                                              struct sp_decision_entry **out)
{
    struct sp_decisions *d = &iface->decide;
    struct sp_decision_kind_state *k = &d->kinds[kind];
    *out = NULL;
    if (k->mode == SP_DECIDE_NATIVE)
        return SP_DECISION_ANSWER;
    struct sp_decision_entry *free_slot = NULL;
    for (unsigned i = 0; i < SP_DECISION_PENDING; i++) {
        struct sp_decision_entry *e = &d->entries[i];
        if (!e->used) {
            if (!free_slot)
                free_slot = e;
            continue;
        }
        if (!e->closing && e->req.kind == kind && e->identity == identity && flow_eq(&e->req.flow, flow)) {
            /* A repeat: it shares the parked request's fate. In shadow mode the native answer
             * still goes out at once, as it would without the decider. */
            k->stats.joined++;
            return e->req.mode == SP_DECIDE_SHADOW ? SP_DECISION_ANSWER : SP_DECISION_WAIT;
        }
    }
    if (packet_len > SP_DECISION_MAX_PACKET) {
        k->stats.too_big++;
        return SP_DECISION_ANSWER;
    }
    if (!free_slot) {
        k->stats.pending_full++;
        return SP_DECISION_ANSWER;
    }
    struct sp_decision_entry *e = free_slot;
    memset(&e->req, 0, sizeof e->req);
    e->used = true;
    e->asked = false;
    e->closing = false;
    e->identity = identity;
    e->owner = NULL;
    e->req.id = d->next_id++;
    e->req.kind = kind;
    e->req.mode = k->mode;
    e->req.authority = d->authority;
    e->req.flow = *flow;
    e->req.deadline = now + d->timeout;
    e->req.our_mac = iface->cfg.mac;
    e->req.our_ip = iface->cfg.ip;
    e->req.ttl = SP_DEFAULT_TTL;
    e->req.mtu = iface->mtu;
    e->req.packet = e->packet;
    e->req.native = e->native;
    d->npending++;
    *out = e;
    return SP_DECISION_PARK;
}

void sp_decision_release(struct sp_iface *iface, struct sp_decision_entry *e)
{
    if (e && e->used) {
        e->used = false;
        iface->decide.npending--;
    }
}

static struct sp_decision_entry *find_asked(struct sp_iface *iface, uint64_t id)
{
    struct sp_decisions *d = &iface->decide;
    if (!d->npending)
        return NULL;
    for (unsigned i = 0; i < SP_DECISION_PENDING; i++) {
        struct sp_decision_entry *e = &d->entries[i];
        if (e->used && e->asked && !e->closing && e->req.id == id)
            return e;
    }
    return NULL;
}

/* --- Ending a request ------------------------------------------------------------------------- */

/* Tells the module and frees the entry, before anyone hears of the outcome: whoever does may
 * complete or park again. */
static void finish(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e,
                   const struct sp_decision_outcome *out)
{
    struct sp_decision_kind_state *k = &iface->decide.kinds[e->req.kind];
    if (k->ops && k->ops->finished)
        k->ops->finished(iface, now, e, out->action, out->emitted);
    sp_decision_release(iface, e);
}

/* An ending the stack started (deadline, cancellation, a refusing decide): only the outcome
 * callback can tell the decider. */
static void tell(struct sp_iface *iface, const struct sp_decision_outcome *out)
{
    const struct sp_decider *dec = &iface->decide.kinds[out->kind].decider;
    if (dec->outcome)
        dec->outcome(dec->ctx, out);
}

/* Where the device's frame numbers stood before an answer was sent. */
struct frame_mark {
    struct sp_frame_count frames;
    uint32_t queued; /* frames parked so far waiting for a next hop's address */
};

static struct frame_mark frame_mark(const struct sp_iface *iface)
{
    return (struct frame_mark){.frames = iface->frames, .queued = iface->neigh.next_order};
}

/* The answer is the first frame handed to the device since the mark, unless it had to wait for
 * its next hop's address (then what went out was the ARP request, and the answer goes later). */
static void number_answer(const struct sp_iface *iface, const struct frame_mark *m, struct sp_decision_outcome *out)
{
    if (!out->emitted || iface->frames.sent == m->frames.sent || iface->neigh.next_order != m->queued)
        return;
    out->frame_sent = m->frames.sent + 1;
    out->frame_any = m->frames.received + m->frames.sent + 1;
}

/* Delegate mode without a usable proposal: the policy decides. */
static void apply_policy(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e,
                         struct sp_decision_outcome *out)
{
    struct sp_decision_kind_state *k = &iface->decide.kinds[e->req.kind];
    if (iface->decide.policy == SP_INVALID_FALLBACK) {
        out->action = SP_ACTION_FALLBACK;
        k->stats.fallback++;
        struct frame_mark m = frame_mark(iface);
        out->emitted = k->ops->send_native(iface, now, e) == 0;
        number_answer(iface, &m, out);
    } else {
        out->action = SP_ACTION_DROP;
        k->stats.dropped++;
    }
}

/* An error (the decider's, a timeout, or a cancellation) ends the request; *out says how. */
static void end_with_error(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e, int error,
                           struct sp_decision_outcome *out)
{
    struct sp_decision_kind_state *k = &iface->decide.kinds[e->req.kind];
    e->closing = true;
    *out = (struct sp_decision_outcome){.id = e->req.id, .kind = e->req.kind, .verdict = SP_VERDICT_VALID,
                                        .error = error};
    if (error == SP_ETIMEDOUT)
        k->stats.timeouts++;
    else if (error == SP_ECLOSED)
        k->stats.cancelled++;
    else
        k->stats.errors++;
    if (error == SP_ECLOSED) {
        out->action = SP_ACTION_DROP;
        k->stats.dropped++;
    } else if (e->req.mode == SP_DECIDE_SHADOW) {
        out->action = SP_ACTION_SHADOW;
        k->stats.shadow_mismatch++; /* no answer: nothing that could match */
    } else {
        apply_policy(iface, now, e, out);
    }
    finish(iface, now, e, out);
}

/* The stack ends the request on its own: the decider hears of it through its callback. */
static void end_and_tell(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e, int error)
{
    struct sp_decision_outcome out;
    end_with_error(iface, now, e, error, &out);
    tell(iface, &out);
}

static enum sp_verdict validate(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                struct sp_decision_built *built)
{
    switch (req->kind) {
    case SP_DECISION_ICMP:
        return sp_validate_icmp(req, p, built);
    case SP_DECISION_ARP:
        return sp_validate_arp(req, p, built);
    case SP_DECISION_TCP:
        return sp_validate_tcp(req, p, built);
    default:
        return SP_VERDICT_ACTION;
    }
}

/* A valid proposal under legal authority: where it departs from native, counted per field. */
static void note_deviations(struct sp_iface *iface, const struct sp_decision_entry *e,
                            const struct sp_decision_built *built, struct sp_decision_outcome *out)
{
    struct sp_decision_kind_state *k = &iface->decide.kinds[e->req.kind];
    if (e->req.authority != SP_AUTHORITY_LEGAL)
        return; /* exact never departs: deviations and chosen stay empty */
    out->deviations = sp_decision_deviations(&e->req, built, iface->next_ip_ident, &out->chosen);
    for (int d = 0; d < SP_DEVIATION_COUNT; d++)
        if (out->deviations & (1u << d))
            k->stats.deviations[d]++;
}

/* Shadow: does the valid proposal mean what native said? In legal, any departure but the IP
 * identification (each datagram's own, never an answer's meaning) is a mismatch. */
static bool shadow_matches(const struct sp_decision_entry *e, const struct sp_decision_proposal *proposal,
                           const struct sp_decision_built *built, const struct sp_decision_outcome *out)
{
    if (out->verdict != SP_VERDICT_VALID)
        return false;
    if (e->req.authority == SP_AUTHORITY_LEGAL)
        return (out->deviations & ~(1u << SP_DEVIATION_IP_IDENT)) == 0;
    return sp_decision_matches_native(&e->req, proposal, built);
}

/* Carries out a valid proposal: sends its answer, or in legal keeps the silence it chose (the
 * module is told through finished, action LLM and nothing emitted). */
static void carry_out(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e,
                      const struct sp_decision_proposal *proposal, const struct sp_decision_built *built,
                      struct sp_decision_outcome *out)
{
    struct sp_decision_kind_state *k = &iface->decide.kinds[e->req.kind];
    out->action = SP_ACTION_LLM;
    if (built->action == SP_PROPOSE_DROP) {
        k->stats.emitted_llm++;
        return;
    }
    struct frame_mark m = frame_mark(iface);
    out->emitted = k->ops->send_proposal(iface, now, e, proposal, built) == 0;
    number_answer(iface, &m, out);
    if (out->emitted)
        k->stats.emitted_llm++;
}

/* A proposal arrived: validate it, then emit it, fall back, drop, or grade it (shadow). */
static void take_proposal(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e,
                          const struct sp_decision_proposal *proposal, struct sp_decision_outcome *out)
{
    e->closing = true;
    struct sp_decision_kind_state *k = &iface->decide.kinds[e->req.kind];
    *out = (struct sp_decision_outcome){.id = e->req.id, .kind = e->req.kind};
    struct sp_decision_built built;
    memset(&built, 0, sizeof built);
    out->verdict = validate(&e->req, proposal, &built);
    k->stats.verdicts[out->verdict]++;
    if (out->verdict == SP_VERDICT_VALID) {
        k->stats.valid++;
        note_deviations(iface, e, &built, out);
    } else {
        k->stats.invalid++;
    }
    sp_log(iface, SP_LOG_DEBUG, "decision %llu (%s): %s", (unsigned long long)e->req.id,
           sp_decision_kind_name(e->req.kind), sp_verdict_name(out->verdict));

    if (e->req.mode == SP_DECIDE_SHADOW) {
        out->action = SP_ACTION_SHADOW;
        out->matches_native = shadow_matches(e, proposal, &built, out);
        if (out->matches_native)
            k->stats.shadow_match++;
        else
            k->stats.shadow_mismatch++;
    } else if (out->verdict == SP_VERDICT_VALID) {
        carry_out(iface, now, e, proposal, &built, out);
    } else {
        apply_policy(iface, now, e, out);
    }
    finish(iface, now, e, out);
}

int sp_decision_complete(struct sp_iface *iface, sp_time_t now, uint64_t id, int error,
                         const struct sp_decision_proposal *proposal, struct sp_decision_outcome *out)
{
    if (!iface)
        return SP_EINVAL;
    struct sp_decision_entry *e = find_asked(iface, id);
    if (!e)
        return SP_EINVAL;
    iface->now = now;
    struct sp_decision_outcome mine;
    if (!out)
        out = &mine;
    if (error < 0 || !proposal)
        end_with_error(iface, now, e, error < 0 ? error : SP_EINVAL, out);
    else
        take_proposal(iface, now, e, proposal, out);
    return 0;
}

void sp_decision_ask(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e)
{
    struct sp_decision_kind_state *k = &iface->decide.kinds[e->req.kind];
    if (e->req.mode == SP_DECIDE_SHADOW)
        k->ops->send_native(iface, now, e);
    e->asked = true;
    e->req.asked_at = now;
    k->stats.asked++;
    uint64_t id = e->req.id;
    int rc = k->decider.decide(k->decider.ctx, &e->req);
    /* The decider may have completed the request inside the call (then the entry is free, or
     * even reused by another request): look it up again by id rather than trust e. */
    if (rc < 0) {
        struct sp_decision_entry *still = find_asked(iface, id);
        if (still)
            end_and_tell(iface, now, still, rc);
    }
}

void sp_decision_cancel_owner(struct sp_iface *iface, sp_time_t now, const void *owner)
{
    struct sp_decisions *d = &iface->decide;
    for (unsigned i = 0; owner && d->npending && i < SP_DECISION_PENDING; i++) {
        struct sp_decision_entry *e = &d->entries[i];
        if (!e->used || e->closing || e->owner != owner)
            continue;
        if (e->asked)
            end_and_tell(iface, now, e, SP_ECLOSED);
        else
            sp_decision_release(iface, e);
    }
}

/* --- Deadlines -------------------------------------------------------------------------------- */

void sp_decision_poll(struct sp_iface *iface, sp_time_t now)
{
    struct sp_decisions *d = &iface->decide;
    for (unsigned i = 0; d->npending && i < SP_DECISION_PENDING; i++) {
        struct sp_decision_entry *e = &d->entries[i];
        if (e->used && e->asked && !e->closing && e->req.deadline <= now)
            end_and_tell(iface, now, e, SP_ETIMEDOUT);
    }
}

sp_time_t sp_decision_poll_at(const struct sp_iface *iface)
{
    const struct sp_decisions *d = &iface->decide;
    sp_time_t t = SP_TIME_NEVER;
    for (unsigned i = 0; d->npending && i < SP_DECISION_PENDING; i++) {
        const struct sp_decision_entry *e = &d->entries[i];
        if (e->used && e->asked && !e->closing)
            t = sp_time_min(t, e->req.deadline);
    }
    return t;
}
