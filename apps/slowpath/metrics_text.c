/* Names follow Prometheus' conventions: the slowpath_ prefix, base units (_seconds, _bytes),
 * _total on counters, and one metric with a label where the --stats dump has a list (drops by
 * reason, decisions by kind and verdict). Every series is written even at 0, so that a rate()
 * sees the first event and dashboards do not show gaps. */
#include "metrics_text.h"

#include <string.h>

#include "slowpath/decide.h"
#include "slowpath/llm/cache.h"
#include "slowpath/stats.h"
#include "slowpath/tcp.h"

static void family(struct app_buf *b, const char *name, const char *type, const char *help)
{
    app_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void sample(struct app_buf *b, const char *name, const char *labels, unsigned long long v)
{
    if (labels && *labels)
        app_buf_printf(b, "%s{%s} %llu\n", name, labels, v);
    else
        app_buf_printf(b, "%s %llu\n", name, v);
}

static void single(struct app_buf *b, const char *name, const char *type, const char *help, unsigned long long v)
{
    family(b, name, type, help);
    sample(b, name, NULL, v);
}

/* --- The stack -------------------------------------------------------------------------------- */

static bool is_link_total(enum sp_stat s)
{
    return s == SP_STAT_rx_frames || s == SP_STAT_tx_frames || s == SP_STAT_rx_bytes || s == SP_STAT_tx_bytes;
}

static void stack_counters(struct app_buf *b, const struct sp_stats *st)
{
    single(b, "slowpath_frames_received_total", "counter", "Frames received from the device.",
           st->v[SP_STAT_rx_frames]);
    single(b, "slowpath_frames_sent_total", "counter", "Frames handed to the device.", st->v[SP_STAT_tx_frames]);
    single(b, "slowpath_received_bytes_total", "counter", "Bytes of the frames received from the device.",
           st->v[SP_STAT_rx_bytes]);
    single(b, "slowpath_sent_bytes_total", "counter", "Bytes of the frames handed to the device.",
           st->v[SP_STAT_tx_bytes]);
    char labels[96];
    family(b, "slowpath_drops_total", "counter",
           "Packets the stack dropped, by reason (the drop_* counters of the --stats dump).");
    for (int i = 0; i < SP_STAT_COUNT; i++) {
        const char *name = sp_stat_name((enum sp_stat)i);
        if (strncmp(name, "drop_", 5) != 0)
            continue;
        snprintf(labels, sizeof labels, "reason=\"%s\"", name + 5);
        sample(b, "slowpath_drops_total", labels, st->v[i]);
    }
    family(b, "slowpath_stack_events_total", "counter",
           "The stack's other counters, by their name in the --stats dump.");
    for (int i = 0; i < SP_STAT_COUNT; i++) {
        const char *name = sp_stat_name((enum sp_stat)i);
        if (strncmp(name, "drop_", 5) == 0 || is_link_total((enum sp_stat)i))
            continue;
        snprintf(labels, sizeof labels, "event=\"%s\"", name);
        sample(b, "slowpath_stack_events_total", labels, st->v[i]);
    }
}

/* "SYN-RECEIVED" -> "syn_received": label values in the usual lower snake case. */
static void state_label(enum sp_tcp_state s, char *out, size_t cap)
{
    const char *n = sp_tcp_state_name(s);
    size_t i = 0;
    for (; n[i] && i + 1 < cap; i++)
        out[i] = n[i] == '-' ? '_' : (char)(n[i] >= 'A' && n[i] <= 'Z' ? n[i] - 'A' + 'a' : n[i]);
    out[i] = '\0';
}

static void stack_gauges(struct app_buf *b, const struct sp_iface *iface)
{
    single(b, "slowpath_neighbour_cache_entries", "gauge", "Resolved, unexpired entries of the neighbour (ARP) cache.",
           sp_iface_neighbour_count(iface));
    unsigned counts[SP_TCP_STATE_COUNT];
    sp_tcp_count_by_state(iface, counts);
    family(b, "slowpath_tcp_connections", "gauge", "TCP listeners and connections, by state.");
    for (int s = SP_TCP_LISTEN; s < SP_TCP_STATE_COUNT; s++) {
        char st[24], labels[48];
        state_label((enum sp_tcp_state)s, st, sizeof st);
        snprintf(labels, sizeof labels, "state=\"%s\"", st);
        sample(b, "slowpath_tcp_connections", labels, counts[s]);
    }
}

/* --- Decisions -------------------------------------------------------------------------------- */

/* One labelled counter per kind: value(kind) for each of the three. */
#define PER_KIND(b, name, help, expr)                                                       \
    do {                                                                                    \
        family(b, name, "counter", help);                                                   \
        for (int k_ = 0; k_ < SP_DECISION_KINDS; k_++) {                                    \
            enum sp_decision_kind k = (enum sp_decision_kind)k_;                            \
            char l_[32];                                                                    \
            snprintf(l_, sizeof l_, "kind=\"%s\"", sp_decision_kind_name(k));               \
            sample(b, name, l_, (unsigned long long)(expr));                                \
        }                                                                                   \
    } while (0)

/* The verdicts as the dump and the trace name them: the decider's view when there is one (a model's
 * unusable answer is invalid, an abandoned request an error), else the stack's own. */
static struct sp_llm_decider_counts counts_of(const struct app_metrics_src *src, enum sp_decision_kind k)
{
    struct sp_llm_decider_counts c;
    if (src->decider) {
        sp_llm_decider_counts(src->decider, k, &c);
        return c;
    }
    const struct sp_decision_stats *ds = sp_iface_decision_stats(src->iface, k);
    memset(&c, 0, sizeof c);
    c.asked = ds->asked;
    c.valid = ds->valid;
    c.invalid = ds->invalid;
    c.timeouts = ds->timeouts;
    c.errors = ds->errors + ds->cancelled;
    c.llm = ds->emitted_llm;
    c.fallback = ds->fallback;
    c.dropped = ds->dropped;
    c.shadow_match = ds->shadow_match;
    c.shadow_mismatch = ds->shadow_mismatch;
    return c;
}

static void decision_outcomes(struct app_buf *b, const struct app_metrics_src *src)
{
    static const char *const verdicts[] = {"valid", "invalid", "timeout", "error"};
    static const char *const actions[] = {"llm", "fallback", "drop"};
    static const char *const grades[] = {"match", "mismatch"};
    struct sp_llm_decider_counts c[SP_DECISION_KINDS];
    for (int k = 0; k < SP_DECISION_KINDS; k++)
        c[k] = counts_of(src, (enum sp_decision_kind)k);
    char labels[96];

    PER_KIND(b, "slowpath_decisions_asked_total", "Decisions handed to the decider.", c[k].asked);
    family(b, "slowpath_decisions_total", "counter", "Decisions ended, by kind and verdict.");
    for (int k = 0; k < SP_DECISION_KINDS; k++) {
        uint64_t v[] = {c[k].valid, c[k].invalid, c[k].timeouts, c[k].errors};
        for (int i = 0; i < 4; i++) {
            snprintf(labels, sizeof labels, "kind=\"%s\",verdict=\"%s\"",
                     sp_decision_kind_name((enum sp_decision_kind)k), verdicts[i]);
            sample(b, "slowpath_decisions_total", labels, v[i]);
        }
    }
    family(b, "slowpath_decision_actions_total", "counter",
           "What the stack did with delegated decisions, by kind and action.");
    for (int k = 0; k < SP_DECISION_KINDS; k++) {
        uint64_t v[] = {c[k].llm, c[k].fallback, c[k].dropped};
        for (int i = 0; i < 3; i++) {
            snprintf(labels, sizeof labels, "kind=\"%s\",action=\"%s\"",
                     sp_decision_kind_name((enum sp_decision_kind)k), actions[i]);
            sample(b, "slowpath_decision_actions_total", labels, v[i]);
        }
    }
    family(b, "slowpath_decision_shadow_grades_total", "counter",
           "Shadow decisions graded against the native answer, by kind and grade.");
    for (int k = 0; k < SP_DECISION_KINDS; k++) {
        uint64_t v[] = {c[k].shadow_match, c[k].shadow_mismatch};
        for (int i = 0; i < 2; i++) {
            snprintf(labels, sizeof labels, "kind=\"%s\",grade=\"%s\"",
                     sp_decision_kind_name((enum sp_decision_kind)k), grades[i]);
            sample(b, "slowpath_decision_shadow_grades_total", labels, v[i]);
        }
    }
    PER_KIND(b, "slowpath_decisions_joined_total", "Repeats of a request already waiting for its decision.",
             sp_iface_decision_stats(src->iface, k)->joined);
    family(b, "slowpath_decisions_kept_native_total", "counter",
           "Requests answered natively without asking, by kind and why (pending table full, packet too big).");
    for (int k = 0; k < SP_DECISION_KINDS; k++) {
        const struct sp_decision_stats *ds = sp_iface_decision_stats(src->iface, (enum sp_decision_kind)k);
        const char *kn = sp_decision_kind_name((enum sp_decision_kind)k);
        snprintf(labels, sizeof labels, "kind=\"%s\",why=\"pending_full\"", kn);
        sample(b, "slowpath_decisions_kept_native_total", labels, ds->pending_full);
        snprintf(labels, sizeof labels, "kind=\"%s\",why=\"too_big\"", kn);
        sample(b, "slowpath_decisions_kept_native_total", labels, ds->too_big);
    }
}

/* Why decisions were not valid, as the dump lists them: the validator's invalid:<reason>, then the
 * decider's invalid:<parse reason> and error:<engine reason>. Only reasons seen are written: the
 * set of engine errors is large and mostly empty. */
static void decision_reasons(struct app_buf *b, const struct app_metrics_src *src)
{
    char labels[96], reason[24];
    family(b, "slowpath_decision_reasons_total", "counter",
           "Decisions that were not valid, by kind and reason (invalid:<why> or error:<why>).");
    for (int k = 0; k < SP_DECISION_KINDS; k++) {
        const char *kn = sp_decision_kind_name((enum sp_decision_kind)k);
        const struct sp_decision_stats *ds = sp_iface_decision_stats(src->iface, (enum sp_decision_kind)k);
        for (int v = 1; v < SP_VERDICT_COUNT; v++) {
            snprintf(labels, sizeof labels, "kind=\"%s\",reason=\"%s\"", kn, sp_verdict_name((enum sp_verdict)v));
            sample(b, "slowpath_decision_reasons_total", labels, ds->verdicts[v]);
        }
        const struct sp_llm_decider_stats *s =
            src->decider ? sp_llm_decider_stats(src->decider, (enum sp_decision_kind)k) : NULL;
        for (int i = 0; s && i < SP_LLM_DECIDER_NERR; i++) {
            sp_llm_decider_reason(-200 - i, reason, sizeof reason);
            if (s->invalid_model[i]) {
                snprintf(labels, sizeof labels, "kind=\"%s\",reason=\"invalid:%s\"", kn, reason);
                sample(b, "slowpath_decision_reasons_total", labels, s->invalid_model[i]);
            }
            if (s->errors_by[i]) {
                snprintf(labels, sizeof labels, "kind=\"%s\",reason=\"error:%s\"", kn, reason);
                sample(b, "slowpath_decision_reasons_total", labels, s->errors_by[i]);
            }
        }
    }
}

static void decision_deviations(struct app_buf *b, const struct app_metrics_src *src)
{
    char labels[96];
    family(b, "slowpath_decision_deviations_total", "counter",
           "Valid proposals (legal authority) that departed from the native answer, by kind and field.");
    for (int k = 0; k < SP_DECISION_KINDS; k++) {
        const struct sp_decision_stats *ds = sp_iface_decision_stats(src->iface, (enum sp_decision_kind)k);
        for (int d = 0; d < SP_DEVIATION_COUNT; d++) {
            snprintf(labels, sizeof labels, "kind=\"%s\",field=\"%s\"", sp_decision_kind_name((enum sp_decision_kind)k),
                     sp_deviation_name((enum sp_deviation)d));
            sample(b, "slowpath_decision_deviations_total", labels, ds->deviations[d]);
        }
    }
}

/* --- The model -------------------------------------------------------------------------------- */

static const struct sp_llm_decider_stats *dstats(const struct app_metrics_src *src, int k)
{
    static const struct sp_llm_decider_stats none;
    const struct sp_llm_decider_stats *s =
        src->decider ? sp_llm_decider_stats(src->decider, (enum sp_decision_kind)k) : NULL;
    return s ? s : &none;
}

static void latency_histogram(struct app_buf *b, const struct app_metrics_src *src)
{
    const char *name = "slowpath_decision_latency_seconds";
    family(b, name, "histogram", "Time from asking the model to its answer, for the decisions it answered.");
    for (int k = 0; k < SP_DECISION_KINDS; k++) {
        const struct sp_llm_decider_stats *s = dstats(src, k);
        const char *kn = sp_decision_kind_name((enum sp_decision_kind)k);
        unsigned long long cum = 0;
        for (int i = 0; i < SP_LLM_LATENCY_BUCKETS; i++) {
            cum += s->latency_buckets[i];
            app_buf_printf(b, "%s_bucket{kind=\"%s\",le=\"%g\"} %llu\n", name, kn, sp_llm_latency_bounds_s[i], cum);
        }
        cum += s->latency_buckets[SP_LLM_LATENCY_BUCKETS];
        app_buf_printf(b, "%s_bucket{kind=\"%s\",le=\"+Inf\"} %llu\n", name, kn, cum);
        app_buf_printf(b, "%s_sum{kind=\"%s\"} %.9g\n", name, kn, s->latency_sum_ms / 1000.0);
        app_buf_printf(b, "%s_count{kind=\"%s\"} %llu\n", name, kn, cum);
    }
}

static void model_counters(struct app_buf *b, const struct app_metrics_src *src)
{
    PER_KIND(b, "slowpath_llm_input_tokens_total", "Prompt tokens the provider counted, by decision kind.",
             dstats(src, k)->tokens_in);
    PER_KIND(b, "slowpath_llm_output_tokens_total", "Answer tokens the provider counted, by decision kind.",
             dstats(src, k)->tokens_out);
    PER_KIND(b, "slowpath_llm_cached_tokens_total", "Prompt tokens read from the provider's prompt cache, by kind.",
             dstats(src, k)->tokens_cached);
    PER_KIND(b, "slowpath_decision_late_answers_total", "Answers that came after the stack had given up.",
             dstats(src, k)->late);

    static const struct sp_llm_client_stats zero;
    const struct sp_llm_client_stats *c = src->client ? sp_llm_client_stats(src->client) : &zero;
    single(b, "slowpath_llm_asks_total", "counter", "Requests made to the model (each may take several attempts).",
           c->asks);
    family(b, "slowpath_llm_asks_finished_total", "counter", "Requests to the model that ended, by result.");
    sample(b, "slowpath_llm_asks_finished_total", "result=\"ok\"", c->ok);
    sample(b, "slowpath_llm_asks_finished_total", "result=\"failed\"", c->failed);
    family(b, "slowpath_llm_asks_refused_total", "counter",
           "Requests refused at once, by reason (too many in flight, circuit breaker open).");
    sample(b, "slowpath_llm_asks_refused_total", "reason=\"busy\"", c->busy);
    sample(b, "slowpath_llm_asks_refused_total", "reason=\"breaker\"", c->breaker_rejects);
    single(b, "slowpath_llm_retries_total", "counter", "HTTP attempts repeated after 429, 529, 5xx or a reset.",
           c->retries);
    single(b, "slowpath_llm_timeouts_total", "counter", "Requests that ran out of their deadline.", c->timeouts);
    single(b, "slowpath_llm_cache_write_tokens_total", "counter",
           "Prompt tokens written to the provider's prompt cache.", c->cache_write_tokens);
    single(b, "slowpath_llm_inflight", "gauge", "Requests to the model in flight.",
           src->client ? sp_llm_client_inflight(src->client) : 0);
    single(b, "slowpath_llm_breaker_open", "gauge", "1 while the circuit breaker refuses requests (bad key, no credit).",
           src->client ? (unsigned long long)(sp_llm_client_breaker_open(src->client) != 0) : 0);
}

static void context_cache(struct app_buf *b, const struct app_metrics_src *src)
{
    struct sp_llm_cache_stats cs;
    memset(&cs, 0, sizeof cs);
    if (src->decider)
        sp_llm_cache_stats(sp_llm_decider_cache(src->decider), &cs);
    single(b, "slowpath_context_cache_flows", "gauge", "Flows the per-flow context cache remembers.", cs.flows);
    single(b, "slowpath_context_cache_bytes", "gauge", "Bytes the context cache accounts to its flows.", cs.bytes);
    family(b, "slowpath_context_cache_lookups_total", "counter", "Context cache lookups, by result.");
    sample(b, "slowpath_context_cache_lookups_total", "result=\"hit\"", cs.hits);
    sample(b, "slowpath_context_cache_lookups_total", "result=\"miss\"", cs.misses);
    single(b, "slowpath_context_cache_evictions_total", "counter", "Flows dropped to stay within the byte budget.",
           cs.evictions);
    single(b, "slowpath_context_cache_expirations_total", "counter", "Flows dropped after idling past their lifetime.",
           cs.expirations);
}

void app_metrics_render(const struct app_metrics_src *src, struct app_buf *b)
{
    family(b, "slowpath_build_info", "gauge", "Always 1; the version of slowpath is in the label.");
    app_buf_put(b, "slowpath_build_info{version=", 28);
    app_buf_json_str(b, src->version ? src->version : "");
    app_buf_put(b, "} 1\n", 4);
    stack_counters(b, sp_iface_stats(src->iface));
    stack_gauges(b, src->iface);
    decision_outcomes(b, src);
    decision_reasons(b, src);
    decision_deviations(b, src);
    latency_histogram(b, src);
    model_counters(b, src);
    context_cache(b, src);
}
