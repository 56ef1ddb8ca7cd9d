/* The LLM decider (see decider.h): request -> context cache -> user message -> sp_llm_ask ->
 * strict parse -> sp_decision_complete, which returns the outcome; that outcome, or one the stack
 * tells through the callback when it ended the request itself -> trace line, statistics, context
 * cache. */
#include "decider_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slowpath/error.h"
#include "slowpath/llm/trace.h"

/* --- Records ---------------------------------------------------------------------------------- */

static void link_ask(struct sp_llm_decider *d, struct ask *a)
{
    a->prev = NULL;
    a->next = d->asks;
    if (d->asks)
        d->asks->prev = a;
    d->asks = a;
}

static void unlink_free(struct sp_llm_decider *d, struct ask *a)
{
    if (a->prev)
        a->prev->next = a->next;
    else
        d->asks = a->next;
    if (a->next)
        a->next->prev = a->prev;
    free(a);
}

static struct ask *find_ask(struct sp_llm_decider *d, uint64_t id)
{
    for (struct ask *a = d->asks; a; a = a->next)
        if (a->id == id)
            return a;
    return NULL;
}

void sp_llm_decider_reason(int err, char *out, size_t cap)
{
    const char *name = sp_llm_errname(err);
    size_t n = 0;
    if (strncmp(name, "SP_LLM_E", 8) == 0)
        name += 8;
    else if (strncmp(name, "SP_E", 4) == 0)
        name += 4;
    for (; *name && n + 1 < cap; name++)
        out[n++] = (*name >= 'A' && *name <= 'Z') ? (char)(*name - 'A' + 'a') : *name;
    if (cap)
        out[n] = '\0';
}

/* --- Asking ----------------------------------------------------------------------------------- */

/* What the flow's summary says after this request: the facts a later prompt may need. */
static void summarize(const struct sp_decision_request *req, char *out, size_t cap)
{
    switch (req->kind) {
    case SP_DECISION_ICMP:
        snprintf(out, cap, "last_seq=%u", req->icmp.seq);
        break;
    case SP_DECISION_ARP: {
        char mac[18];
        sp_mac_format(req->arp.sha, mac);
        snprintf(out, cap, "asker_mac=%s", mac);
        break;
    }
    default:
        snprintf(out, cap, "hs_state=%s iss=%lu peer_seq=%lu", sp_hs_state_name(req->hs_state),
                 (unsigned long)req->iss, (unsigned long)req->tcp.seq);
        break;
    }
}

static void report(struct sp_llm_decider *d, struct ask *a, const struct sp_decision_outcome *out);
static void on_answer(sp_llm_client *client, const struct sp_llm_result *res, void *data);

/* Refused at once (busy, breaker, closing, too big): the request is completed here and now (at
 * the stack's time: we are inside its call) with the engine's code (disjoint from SP_E*), so its
 * outcome comes back like any other's. */
static void refused(struct sp_llm_decider *d, struct ask *a, sp_time_t now, int rc)
{
    char reason[24];
    sp_llm_decider_reason(rc, reason, sizeof reason);
    snprintf(a->verdict, sizeof a->verdict, "error:%s", reason);
    a->err = rc;
    struct sp_decision_outcome out;
    if (sp_decision_complete(d->o.iface, now, a->id, rc, NULL, &out) == 0)
        report(d, a, &out);
    unlink_free(d, a);
}

/* The user message for req into d->user (the flow's state from the context cache first). */
static int render(struct sp_llm_decider *d, const struct sp_decision_request *req, const struct sp_llm_flow_key *key,
                  uint64_t now)
{
    const struct sp_llm_flow *flow = sp_llm_cache_get(&d->cache, key, now);
    int rc = sp_llm_prompt_state(req, flow, d->state, sizeof d->state);
    if (rc >= 0)
        rc = sp_llm_prompt_user(req, d->o.format, d->state, d->user, sizeof d->user);
    if (rc >= 0)
        d->stats[req->kind].prompts++;
    return rc;
}

static int decide(void *ctx, const struct sp_decision_request *req)
{
    struct sp_llm_decider *d = ctx;
    uint64_t now = uv_now(d->o.loop);
    struct ask *a = calloc(1, sizeof *a);
    if (!a)
        return SP_LLM_ENOMEM;
    a->d = d;
    a->id = req->id;
    a->kind = req->kind;
    a->mode = req->mode;
    a->authority = req->authority;
    a->key = sp_llm_flow_key_of_request(req);
    a->started = now;
    sp_llm_flow_label(req, a->flow, sizeof a->flow);
    sp_llm_prompt_question(req, a->question, sizeof a->question);
    link_ask(d, a);

    /* A client that would refuse (busy, breaker, closing) refuses before the prompt is built:
     * under a flood against a stalled model that is most requests, and rendering is the cost. */
    int rc = sp_llm_client_admit(d->o.client);
    bool admitted = rc >= 0;
    if (admitted)
        rc = render(d, req, &a->key, now);
    if (rc >= 0 || !admitted) {
        /* a refused request's flow remembers it as it did when the refusal came after rendering */
        char summary[128];
        summarize(req, summary, sizeof summary);
        sp_llm_cache_set_summary(&d->cache, &a->key, summary, now); /* best effort: a full cache forgets */
    }
    if (rc >= 0) {
        struct sp_llm_prompt p;
        sp_llm_prompt_for(&p, req->kind, d->o.format, req->authority, d->user);
        rc = sp_llm_ask(d->o.client, &p, on_answer, a);
    }
    if (rc < 0)
        refused(d, a, req->asked_at, rc);
    return 0;
}

static bool model_fault(int err) { return err == SP_LLM_ETRUNCATED || err == SP_LLM_EREFUSAL; }

/* What the model's answer (or the engine's failure) means for the stack: the proposal, or the
 * error code to complete the request with (the verdict text is kept in the record). */
static int judge(struct sp_llm_decider *d, struct ask *a, const struct sp_llm_result *res)
{
    char reason[24];
    a->latency_ms = res->latency_ms;
    a->usage = res->usage;
    if (res->err == SP_LLM_ETIMEOUT) {
        a->err = res->err;
        snprintf(a->verdict, sizeof a->verdict, "timeout");
        return SP_ETIMEDOUT;
    }
    if (res->err < 0) {
        /* A truncated or refused answer is the model's failure, not the transport's. */
        a->err = res->err;
        a->answered = model_fault(res->err);
        sp_llm_decider_reason(res->err, reason, sizeof reason);
        snprintf(a->verdict, sizeof a->verdict, "%s:%s", a->answered ? "invalid" : "error", reason);
        return res->err;
    }
    a->answered = true;
    int rc = sp_llm_proposal_parse(a->kind, d->o.format, res->text ? res->text : "", res->text ? res->text_len : 0,
                                   &d->parsed);
    if (rc < 0) {
        /* an SP_LLM_E* parse code: the stack counts an error and applies the policy */
        a->err = rc;
        sp_llm_decider_reason(rc, reason, sizeof reason);
        snprintf(a->verdict, sizeof a->verdict, "invalid:%s", reason);
        snprintf(a->bad_field, sizeof a->bad_field, "%s", d->parsed.bad_field);
        return rc;
    }
    sp_llm_prompt_answer(a->kind, &d->parsed.proposal, a->answer, sizeof a->answer);
    return 0;
}

/* The client's callback: the record's one owner, so it always ends here. */
static void on_answer(sp_llm_client *client, const struct sp_llm_result *res, void *data)
{
    struct ask *a = data;
    struct sp_llm_decider *d = a->d;
    (void)client;
    int code = judge(d, a, res);
    struct sp_decision_outcome out;
    /* Fresh: what the stack sends now is stamped with it (a SYN-ACK's retransmission timer). */
    uv_update_time(d->o.loop);
    if (sp_decision_complete(d->o.iface, uv_now(d->o.loop), a->id, code, code ? NULL : &d->parsed.proposal,
                             &out) == 0)
        report(d, a, &out);
    else
        d->stats[a->kind].late++; /* the stack ended it first (its deadline, or the connection went) */
    unlink_free(d, a);
}

/* --- Outcomes --------------------------------------------------------------------------------- */

static void verdict_of(const struct ask *a, const struct sp_decision_outcome *out, char *buf, size_t cap)
{
    if (out->error == 0)
        snprintf(buf, cap, "%s", sp_verdict_name(out->verdict));
    else if (a->verdict[0])
        snprintf(buf, cap, "%s", a->verdict);
    else if (out->error == SP_ETIMEDOUT)
        snprintf(buf, cap, "timeout"); /* the stack's deadline came first */
    else
        snprintf(buf, cap, "error:%s", out->error == SP_ECLOSED ? "closed" : "stack");
}

/* The answer's number in the capture, or -1 (null) when there is none to name. */
static int64_t frame_number(const struct sp_llm_decider *d, const struct sp_decision_outcome *out)
{
    uint64_t n = d->o.frames == SP_LLM_FRAMES_SENT  ? out->frame_sent
                 : d->o.frames == SP_LLM_FRAMES_ALL ? out->frame_any
                                                    : 0;
    return n ? (int64_t)n : -1;
}

static void trace(struct sp_llm_decider *d, const struct ask *a, const struct sp_decision_outcome *out,
                  const char *verdict)
{
    struct sp_llm_trace_rec r = {
        .id = out->id,
        .kind = sp_decision_kind_name(out->kind),
        .flow = a->flow,
        .mode = sp_decision_mode_name(a->mode),
        .format = sp_llm_format_name(d->o.format),
        /* unknown for a request decide could keep no record of (it has no question either) */
        .authority = a->question[0] ? sp_authority_name(a->authority) : NULL,
        .provider = d->provider,
        .model = d->model,
        .latency_ms = a->latency_ms,
        .tokens_in = a->usage.input_tokens,
        .tokens_out = a->usage.output_tokens,
        .tokens_cached = a->usage.cache_read_tokens,
        .verdict = verdict,
        .action = sp_decision_action_name(out->action),
        .frame = frame_number(d, out),
        .shadow_match = a->mode == SP_DECIDE_SHADOW ? out->matches_native : -1,
        .bad_field = a->bad_field,
        /* legal: how a valid answer departed from native ({} when it did not) */
        .has_deviation = a->authority == SP_AUTHORITY_LEGAL && out->error == 0 && out->verdict == SP_VERDICT_VALID,
        .deviations = out->deviations,
        .chosen = out->chosen,
    };
    clock_gettime(CLOCK_REALTIME, &r.time);
    sp_llm_trace_write(d->o.trace, &r);
}

/* Once per request, however it ended: statistics, the trace line, and what the next prompt of
 * this flow will show (the question and how the answer fared). */
static void report(struct sp_llm_decider *d, struct ask *a, const struct sp_decision_outcome *out)
{
    char verdict[48];
    verdict_of(a, out, verdict, sizeof verdict);
    sp_llm_decider_count(d, a, out, verdict);
    if (d->o.trace)
        trace(d, a, out, verdict);
    if (!a->question[0])
        return; /* a request we know nothing of has no flow to remember it in */
    char ans[sizeof a->answer + sizeof verdict + 8];
    snprintf(ans, sizeof ans, "%s%s(%s)", a->answer, a->answer[0] ? " " : "", verdict);
    sp_llm_cache_add_exchange(&d->cache, &a->key, a->question, ans, uv_now(d->o.loop));
}

/* An ending the stack started (its deadline, or the connection went away) while the model still
 * thinks: reported now; the record stays with its ask, whose callback frees it. */
static void outcome(void *ctx, const struct sp_decision_outcome *out)
{
    struct sp_llm_decider *d = ctx;
    struct ask *a = find_ask(d, out->id), none;
    if (!a) {
        /* decide could not even keep a record (out of memory): the decision is still reported */
        memset(&none, 0, sizeof none);
        none.id = out->id;
        none.kind = out->kind;
        none.mode = SP_DECIDE_DELEGATE;
        a = &none;
    }
    if (out->error == SP_ETIMEDOUT)
        a->latency_ms = (double)(uv_now(d->o.loop) - a->started);
    report(d, a, out);
}

/* --- Life cycle ------------------------------------------------------------------------------- */

sp_llm_decider *sp_llm_decider_new(const struct sp_llm_decider_opts *o, char *err, size_t errlen)
{
    if (!o || !o->loop || !o->iface || !o->client || o->format >= SP_LLM_FMT_COUNT) {
        snprintf(err, errlen, "llm decider: loop, interface and client are required");
        return NULL;
    }
    struct sp_llm_decider *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, errlen, "llm decider: out of memory");
        return NULL;
    }
    d->o = *o;
    snprintf(d->provider, sizeof d->provider, "%s", o->provider && *o->provider ? o->provider : "sim");
    snprintf(d->model, sizeof d->model, "%s", o->model && *o->model ? o->model : "sim");
    d->o.provider = d->provider;
    d->o.model = d->model;
    d->rng = 0x9e3779b97f4a7c15ull;
    if (sp_llm_cache_init(&d->cache, &o->cache) < 0) {
        snprintf(err, errlen, "llm decider: cannot set up the context cache");
        free(d);
        return NULL;
    }
    return d;
}

struct sp_decider sp_llm_decider_get(sp_llm_decider *d)
{
    return (struct sp_decider){.decide = decide, .outcome = outcome, .ctx = d};
}

void sp_llm_decider_install(sp_llm_decider *d, enum sp_decision_kind kind, enum sp_decision_mode mode)
{
    struct sp_decider dec = sp_llm_decider_get(d);
    sp_iface_set_decider(d->o.iface, kind, mode, mode == SP_DECIDE_NATIVE ? NULL : &dec);
}

sp_llm_cache *sp_llm_decider_cache(sp_llm_decider *d) { return &d->cache; }

void sp_llm_decider_free(sp_llm_decider *d)
{
    if (!d)
        return;
    while (d->asks)
        unlink_free(d, d->asks);
    sp_llm_cache_free(&d->cache);
    free(d);
}
