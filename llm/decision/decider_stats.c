/* Per-kind statistics of the LLM decider (what SIGUSR1 and --stats print). The decisions are
 * counted by the stack alone; the decider keeps what the stack cannot see (why an answer was not
 * a valid answer, which engine error ended a request, late answers, tokens, and a latency
 * reservoir for percentiles) and derives its figures from the stack's counters. */
#include "decider_internal.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static int err_index(int err)
{
    int i = -err - 200;
    return i >= 0 && i < SP_LLM_DECIDER_NERR ? i : -1;
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

const double sp_llm_latency_bounds_s[SP_LLM_LATENCY_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};

/* The histogram sees every answer; a bucket holds the samples up to its bound (Prometheus' "le"). */
static void bucket(struct sp_llm_decider_stats *s, double ms)
{
    int i = 0;
    while (i < SP_LLM_LATENCY_BUCKETS && ms > sp_llm_latency_bounds_s[i] * 1000.0)
        i++;
    s->latency_buckets[i]++;
    s->latency_sum_ms += ms;
}

/* Reservoir sampling (algorithm R): every answer has the same chance of being kept. */
static void sample(struct sp_llm_decider *d, struct sp_llm_decider_stats *s, double ms)
{
    bucket(s, ms);
    uint64_t n = s->latency_seen++;
    if (n < SP_LLM_DECIDER_SAMPLES) {
        s->latency_ms[n] = ms;
        return;
    }
    uint64_t j = next_rand(&d->rng) % (n + 1);
    if (j < SP_LLM_DECIDER_SAMPLES)
        s->latency_ms[j] = ms;
}

void sp_llm_decider_count(struct sp_llm_decider *d, const struct ask *a, const struct sp_decision_outcome *out,
                          const char *verdict)
{
    struct sp_llm_decider_stats *s = &d->stats[out->kind];
    int i = err_index(a->err);
    if (out->error != 0 && i >= 0) {
        if (strncmp(verdict, "invalid:", 8) == 0)
            s->invalid_model[i]++;
        else if (strcmp(verdict, "timeout") != 0)
            s->errors_by[i]++;
    }
    s->tokens_in += a->usage.input_tokens;
    s->tokens_out += a->usage.output_tokens;
    s->tokens_cached += a->usage.cache_read_tokens;
    if (a->answered)
        sample(d, s, a->latency_ms);
}

const struct sp_llm_decider_stats *sp_llm_decider_stats(const sp_llm_decider *d, enum sp_decision_kind kind)
{
    return d && (unsigned)kind < SP_DECISION_KINDS ? &d->stats[kind] : NULL;
}

void sp_llm_decider_counts(const sp_llm_decider *d, enum sp_decision_kind kind, struct sp_llm_decider_counts *out)
{
    memset(out, 0, sizeof *out);
    const struct sp_llm_decider_stats *s = sp_llm_decider_stats(d, kind);
    if (!s)
        return;
    const struct sp_decision_stats *ds = sp_iface_decision_stats(d->o.iface, kind);
    uint64_t model = 0; /* completed as errors, reported as invalid */
    for (int i = 0; i < SP_LLM_DECIDER_NERR; i++)
        model += s->invalid_model[i];
    out->asked = ds->asked;
    out->valid = ds->valid;
    out->invalid = ds->invalid + model;
    out->timeouts = ds->timeouts;
    out->errors = ds->errors - model + ds->cancelled;
    out->llm = ds->emitted_llm;
    out->fallback = ds->fallback;
    out->dropped = ds->dropped;
    out->shadow_match = ds->shadow_match;
    out->shadow_mismatch = ds->shadow_mismatch;
    out->shadow = ds->shadow_match + ds->shadow_mismatch;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

double sp_llm_decider_latency_pct(const sp_llm_decider *d, enum sp_decision_kind kind, double pct)
{
    const struct sp_llm_decider_stats *s = sp_llm_decider_stats(d, kind);
    if (!s || !s->latency_seen)
        return 0;
    size_t n = s->latency_seen < SP_LLM_DECIDER_SAMPLES ? (size_t)s->latency_seen : SP_LLM_DECIDER_SAMPLES;
    double *v = malloc(n * sizeof *v); /* only when printing: not on the packet path */
    if (!v)
        return 0;
    memcpy(v, s->latency_ms, n * sizeof *v);
    qsort(v, n, sizeof *v, cmp_double);
    /* nearest rank */
    size_t rank = (size_t)(pct / 100.0 * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    double r = v[rank - 1];
    free(v);
    return r;
}

double sp_llm_decider_accuracy(const sp_llm_decider *d, enum sp_decision_kind kind)
{
    struct sp_llm_decider_counts c;
    sp_llm_decider_counts(d, kind, &c);
    if (c.valid + c.invalid == 0)
        return -1;
    return (double)c.valid / (double)(c.valid + c.invalid);
}

static void print_counts(FILE *f, enum sp_decision_kind k, const struct sp_llm_decider_counts *c, uint64_t late)
{
    fprintf(f, "  %-4s asked %llu, valid %llu, invalid %llu, timeouts %llu, errors %llu; llm %llu, fallback %llu, "
               "dropped %llu",
            sp_decision_kind_name(k), (unsigned long long)c->asked, (unsigned long long)c->valid,
            (unsigned long long)c->invalid, (unsigned long long)c->timeouts, (unsigned long long)c->errors,
            (unsigned long long)c->llm, (unsigned long long)c->fallback, (unsigned long long)c->dropped);
    if (c->shadow)
        fprintf(f, ", shadow %llu (match %llu, mismatch %llu)", (unsigned long long)c->shadow,
                (unsigned long long)c->shadow_match, (unsigned long long)c->shadow_mismatch);
    if (late)
        fprintf(f, ", late answers %llu", (unsigned long long)late);
    fprintf(f, "\n");
}

/* What the stack kept from the model: repeats that joined a parked request, and requests answered
 * natively because the pending table was full or the packet too big. */
static void print_kept(FILE *f, const struct sp_decision_stats *ds)
{
    if (ds->joined || ds->pending_full || ds->too_big)
        fprintf(f, "       repeats joined %llu; answered natively: pending table full %llu, too big %llu\n",
                (unsigned long long)ds->joined, (unsigned long long)ds->pending_full, (unsigned long long)ds->too_big);
}

static void print_quality(FILE *f, const sp_llm_decider *d, enum sp_decision_kind k,
                          const struct sp_llm_decider_counts *c)
{
    const struct sp_llm_decider_stats *s = &d->stats[k];
    double acc = sp_llm_decider_accuracy(d, k);
    if (acc >= 0)
        fprintf(f, "       accuracy %.1f%% (%llu/%llu answered)", acc * 100.0, (unsigned long long)c->valid,
                (unsigned long long)(c->valid + c->invalid));
    else
        fprintf(f, "       accuracy n/a (nothing answered)");
    fprintf(f, ", latency p50 %.3f ms p90 %.3f ms (%llu samples), tokens in %llu out %llu cached %llu\n",
            sp_llm_decider_latency_pct(d, k, 50), sp_llm_decider_latency_pct(d, k, 90),
            (unsigned long long)s->latency_seen, (unsigned long long)s->tokens_in, (unsigned long long)s->tokens_out,
            (unsigned long long)s->tokens_cached);
}

/* invalid:<validator reason> (the stack's verdicts), then the model's and the engine's reasons. */
static void print_reasons(FILE *f, const sp_llm_decider *d, enum sp_decision_kind k, const struct sp_decision_stats *ds)
{
    const struct sp_llm_decider_stats *s = &d->stats[k];
    for (int v = 1; v < SP_VERDICT_COUNT; v++)
        if (ds->verdicts[v])
            fprintf(f, "       %-24s %llu\n", sp_verdict_name((enum sp_verdict)v), (unsigned long long)ds->verdicts[v]);
    for (int i = 0; i < SP_LLM_DECIDER_NERR; i++) {
        char reason[24];
        if (!s->invalid_model[i] && !s->errors_by[i])
            continue;
        sp_llm_decider_reason(-200 - i, reason, sizeof reason);
        if (s->invalid_model[i])
            fprintf(f, "       invalid:%-16s %llu\n", reason, (unsigned long long)s->invalid_model[i]);
        if (s->errors_by[i])
            fprintf(f, "       error:%-18s %llu\n", reason, (unsigned long long)s->errors_by[i]);
    }
}

/* Legal authority: how many valid answers departed from native, per field (the stack's count). */
static void print_deviations(FILE *f, const struct sp_decision_stats *ds)
{
    bool any = false;
    for (int v = 0; v < SP_DEVIATION_COUNT; v++) {
        if (!ds->deviations[v])
            continue;
        fprintf(f, "%s %s %llu", any ? "," : "       deviations:", sp_deviation_name((enum sp_deviation)v),
                (unsigned long long)ds->deviations[v]);
        any = true;
    }
    if (any)
        fputc('\n', f);
}

void sp_llm_decider_print_stats(const sp_llm_decider *d, FILE *f)
{
    if (!d)
        return;
    fprintf(f, "slowpath decisions (%s, model %s, %s prompts):\n", d->provider, d->model,
            sp_llm_format_name(d->o.format));
    for (int i = 0; i < SP_DECISION_KINDS; i++) {
        enum sp_decision_kind k = (enum sp_decision_kind)i;
        struct sp_llm_decider_counts c;
        sp_llm_decider_counts(d, k, &c);
        if (!c.asked)
            continue;
        const struct sp_decision_stats *ds = sp_iface_decision_stats(d->o.iface, k);
        print_counts(f, k, &c, d->stats[k].late);
        print_kept(f, ds);
        print_quality(f, d, k, &c);
        print_deviations(f, ds);
        print_reasons(f, d, k, ds);
    }
    struct sp_llm_cache_stats cs;
    sp_llm_cache_stats(&d->cache, &cs);
    fprintf(f, "  context cache: flows %llu, bytes %llu, hits %llu, misses %llu, evictions %llu, expirations %llu\n",
            (unsigned long long)cs.flows, (unsigned long long)cs.bytes, (unsigned long long)cs.hits,
            (unsigned long long)cs.misses, (unsigned long long)cs.evictions, (unsigned long long)cs.expirations);
    fflush(f);
}
