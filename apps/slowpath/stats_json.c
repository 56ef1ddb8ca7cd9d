/* {"time":..,"level":"info","msg":"counters","counters":{name:value,...},"decisions":{kind:{...}},
 *  "context_cache":{...},"llm_client":{...}}: as the text dump, counters at 0 are left out and
 * only kinds asked at least once are listed. */
#include "stats_json.h"

#include "buf.h"
#include "log.h"
#include "slowpath/stats.h"

#define U(x) ((unsigned long long)(x))

static void counters(struct app_buf *b, const struct sp_stats *s)
{
    app_buf_printf(b, ",\"counters\":{");
    const char *sep = "";
    for (int i = 0; i < SP_STAT_COUNT; i++)
        if (s->v[i]) {
            app_buf_printf(b, "%s\"%s\":%llu", sep, sp_stat_name((enum sp_stat)i), U(s->v[i]));
            sep = ",";
        }
    app_buf_put(b, "}", 1);
}

static void decisions(struct app_buf *b, sp_llm_decider *dec)
{
    app_buf_printf(b, ",\"decisions\":{");
    const char *sep = "";
    for (int k = 0; k < SP_DECISION_KINDS; k++) {
        struct sp_llm_decider_counts c;
        sp_llm_decider_counts(dec, (enum sp_decision_kind)k, &c);
        if (!c.asked)
            continue;
        const struct sp_llm_decider_stats *s = sp_llm_decider_stats(dec, (enum sp_decision_kind)k);
        app_buf_printf(b,
                       "%s\"%s\":{\"asked\":%llu,\"valid\":%llu,\"invalid\":%llu,\"timeouts\":%llu,\"errors\":%llu,"
                       "\"llm\":%llu,\"fallback\":%llu,\"dropped\":%llu,\"shadow_match\":%llu,"
                       "\"shadow_mismatch\":%llu,\"late\":%llu,\"latency_p50_ms\":%.3f,\"latency_p90_ms\":%.3f,"
                       "\"tokens_in\":%llu,\"tokens_out\":%llu,\"tokens_cached\":%llu}",
                       sep, sp_decision_kind_name((enum sp_decision_kind)k), U(c.asked), U(c.valid), U(c.invalid),
                       U(c.timeouts), U(c.errors), U(c.llm), U(c.fallback), U(c.dropped), U(c.shadow_match),
                       U(c.shadow_mismatch), U(s->late), sp_llm_decider_latency_pct(dec, (enum sp_decision_kind)k, 50),
                       sp_llm_decider_latency_pct(dec, (enum sp_decision_kind)k, 90), U(s->tokens_in),
                       U(s->tokens_out), U(s->tokens_cached));
        sep = ",";
    }
    app_buf_put(b, "}", 1);
    struct sp_llm_cache_stats cs;
    sp_llm_cache_stats(sp_llm_decider_cache(dec), &cs);
    app_buf_printf(b,
                   ",\"context_cache\":{\"flows\":%llu,\"bytes\":%llu,\"hits\":%llu,\"misses\":%llu,"
                   "\"evictions\":%llu,\"expirations\":%llu}",
                   U(cs.flows), U(cs.bytes), U(cs.hits), U(cs.misses), U(cs.evictions), U(cs.expirations));
}

static void client(struct app_buf *b, const sp_llm_client *cl)
{
    const struct sp_llm_client_stats *c = sp_llm_client_stats(cl);
    app_buf_printf(b,
                   ",\"llm_client\":{\"asks\":%llu,\"ok\":%llu,\"failed\":%llu,\"busy\":%llu,\"breaker_rejects\":%llu,"
                   "\"retries\":%llu,\"timeouts\":%llu,\"input_tokens\":%llu,\"output_tokens\":%llu,"
                   "\"cache_write_tokens\":%llu,\"cache_read_tokens\":%llu}",
                   U(c->asks), U(c->ok), U(c->failed), U(c->busy), U(c->breaker_rejects), U(c->retries),
                   U(c->timeouts), U(c->input_tokens), U(c->output_tokens), U(c->cache_write_tokens),
                   U(c->cache_read_tokens));
}

void app_stats_json(const struct sp_iface *iface, const struct app_decisions *d, FILE *out)
{
    struct app_buf b = {0};
    char when[32];
    app_log_time(when);
    app_buf_printf(&b, "{\"time\":\"%s\",\"level\":\"info\",\"msg\":\"counters\"", when);
    counters(&b, sp_iface_stats(iface));
    if (d->decider) {
        decisions(&b, d->decider);
        client(&b, &d->client);
    }
    app_buf_put(&b, "}\n", 2);
    if (!b.failed)
        fwrite(b.p, 1, b.len, out);
    fflush(out);
    app_buf_free(&b);
}
