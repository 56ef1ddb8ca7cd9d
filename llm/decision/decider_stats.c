/* Per-kind statistics of the LLM decider: verdicts by reason, actions, tokens, and a latency
 * reservoir for percentiles (what SIGUSR1 and --stats print). */
#include "decider_internal.h"

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

/* Reservoir sampling (algorithm R): every answer has the same chance of being kept. */
static void sample(struct sp_llm_decider *d, struct sp_llm_decider_stats *s, double ms)
{
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
    if (out->error == 0) {
        if (out->verdict == SP_VERDICT_VALID) {
            s->valid++;
        } else {
            s->invalid++;
            s->invalid_validator[out->verdict]++;
        }
    } else if (strncmp(verdict, "invalid:", 8) == 0) {
        s->invalid++;
        if (i >= 0)
            s->invalid_model[i]++;
    } else if (strcmp(verdict, "timeout") == 0) {
        s->timeouts++;
    } else {
        s->errors++;
        if (i >= 0)
            s->errors_by[i]++;
    }
    switch (out->action) {
    case SP_ACTION_LLM:
        s->llm++;
        break;
    case SP_ACTION_FALLBACK:
        s->fallback++;
        break;
    case SP_ACTION_DROP:
        s->dropped++;
        break;
    default:
        s->shadow++;
        if (out->matches_native)
            s->shadow_match++;
        else
            s->shadow_mismatch++;
        break;
    }
    s->tokens_in += a->usage.input_tokens;
    s->tokens_out += a->usage.output_tokens;
    s->tokens_cached += a->usage.cache_read_tokens;
    if (a->answered)
        sample(d, s, a->latency_ms);
}

const struct sp_llm_decider_stats *sp_llm_decider_stats(const sp_llm_decider *d, enum sp_decision_kind kind)
{
    return d && kind < SP_DECISION_KINDS ? &d->stats[kind] : NULL;
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
    const struct sp_llm_decider_stats *s = sp_llm_decider_stats(d, kind);
    if (!s || s->valid + s->invalid == 0)
        return -1;
    return (double)s->valid / (double)(s->valid + s->invalid);
}

void sp_llm_decider_print_stats(const sp_llm_decider *d, FILE *f)
{
    if (!d)
        return;
    fprintf(f, "slowpath decisions (%s, model %s, %s prompts):\n", d->provider, d->model,
            sp_llm_format_name(d->o.format));
    for (int k = 0; k < SP_DECISION_KINDS; k++) {
        const struct sp_llm_decider_stats *s = &d->stats[k];
        if (!s->asked)
            continue;
        double acc = sp_llm_decider_accuracy(d, (enum sp_decision_kind)k);
        fprintf(f, "  %-4s asked %llu, valid %llu, invalid %llu, timeouts %llu, errors %llu; llm %llu, fallback %llu, "
                   "dropped %llu",
                sp_decision_kind_name((enum sp_decision_kind)k), (unsigned long long)s->asked,
                (unsigned long long)s->valid, (unsigned long long)s->invalid, (unsigned long long)s->timeouts,
                (unsigned long long)s->errors, (unsigned long long)s->llm, (unsigned long long)s->fallback,
                (unsigned long long)s->dropped);
        if (s->shadow)
            fprintf(f, ", shadow %llu (match %llu, mismatch %llu)", (unsigned long long)s->shadow,
                    (unsigned long long)s->shadow_match, (unsigned long long)s->shadow_mismatch);
        if (s->late)
            fprintf(f, ", late answers %llu", (unsigned long long)s->late);
        fprintf(f, "\n");
        /* What the stack kept from the model: repeats that joined a parked request, and requests
         * answered natively because the pending table was full or the packet too big. */
        const struct sp_decision_stats *ds = sp_iface_decision_stats(d->o.iface, (enum sp_decision_kind)k);
        if (ds && (ds->joined || ds->pending_full || ds->too_big))
            fprintf(f, "       repeats joined %llu; answered natively: pending table full %llu, too big %llu\n",
                    (unsigned long long)ds->joined, (unsigned long long)ds->pending_full,
                    (unsigned long long)ds->too_big);
        if (acc >= 0)
            fprintf(f, "       accuracy %.1f%% (%llu/%llu answered)", acc * 100.0, (unsigned long long)s->valid,
                    (unsigned long long)(s->valid + s->invalid));
        else
            fprintf(f, "       accuracy n/a (nothing answered)");
        fprintf(f, ", latency p50 %.3f ms p90 %.3f ms (%llu samples), tokens in %llu out %llu cached %llu\n",
                sp_llm_decider_latency_pct(d, (enum sp_decision_kind)k, 50),
                sp_llm_decider_latency_pct(d, (enum sp_decision_kind)k, 90), (unsigned long long)s->latency_seen,
                (unsigned long long)s->tokens_in, (unsigned long long)s->tokens_out,
                (unsigned long long)s->tokens_cached);
        for (int v = 1; v < SP_VERDICT_COUNT; v++)
            if (s->invalid_validator[v])
                fprintf(f, "       %-24s %llu\n", sp_verdict_name((enum sp_verdict)v),
                        (unsigned long long)s->invalid_validator[v]);
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
    struct sp_llm_cache_stats cs;
    sp_llm_cache_stats(&d->cache, &cs);
    fprintf(f, "  context cache: flows %llu, bytes %llu, hits %llu, misses %llu, evictions %llu, expirations %llu\n",
            (unsigned long long)cs.flows, (unsigned long long)cs.bytes, (unsigned long long)cs.hits,
            (unsigned long long)cs.misses, (unsigned long long)cs.evictions, (unsigned long long)cs.expirations);
    fflush(f);
}
