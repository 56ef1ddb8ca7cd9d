/* The decision trace writer (format in trace.h). Strings are JSON-escaped here even though most
 * are ours: a schema error's field name comes from the model's text. */
#include "slowpath/llm/trace.h"

#include <string.h>

static void put_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20 || *p >= 0x7f)
            fprintf(f, "\\u%04x", *p); /* bytes outside ASCII printable: never raw in the trace */
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* One field of the deviation object: its value as the stack adopted it. */
static void put_deviation(FILE *f, enum sp_deviation d, const struct sp_decision_chosen *c)
{
    fprintf(f, "\"%s\":", sp_deviation_name(d));
    switch (d) {
    case SP_DEVIATION_ACTION: put_str(f, sp_proposal_action_name(c->action)); break;
    case SP_DEVIATION_SILENCE: fputs("true", f); break;
    case SP_DEVIATION_TTL: fprintf(f, "%u", c->ttl); break;
    case SP_DEVIATION_IP_IDENT: fprintf(f, "%u", c->ip_ident); break;
    case SP_DEVIATION_DF: fputs(c->df ? "true" : "false", f); break;
    case SP_DEVIATION_ISS: fprintf(f, "%lu", (unsigned long)c->iss); break;
    case SP_DEVIATION_WINDOW: fprintf(f, "%u", c->window); break;
    case SP_DEVIATION_MSS: c->mss ? fprintf(f, "%u", c->mss) : fputs("null", f); break;
    case SP_DEVIATION_WSCALE: c->wscale >= 0 ? fprintf(f, "%d", c->wscale) : fputs("null", f); break;
    default: fputs("null", f); break;
    }
}

static void put_deviations(FILE *f, uint32_t bits, const struct sp_decision_chosen *c)
{
    bool first = true;
    fputs(",\"deviation\":{", f);
    for (int d = 0; d < SP_DEVIATION_COUNT; d++) {
        if (!(bits & (1u << d)))
            continue;
        if (!first)
            fputc(',', f);
        put_deviation(f, (enum sp_deviation)d, c);
        first = false;
    }
    fputc('}', f);
}

void sp_llm_trace_time(const struct timespec *ts, char *out, size_t cap)
{
    struct tm tm;
    time_t sec = ts->tv_sec;
    char base[24];
    gmtime_r(&sec, &tm);
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, cap, "%s.%03ldZ", base, (long)(ts->tv_nsec / 1000000));
}

int sp_llm_trace_write(FILE *f, const struct sp_llm_trace_rec *r)
{
    char t[40];
    if (!f || !r)
        return -1;
    sp_llm_trace_time(&r->time, t, sizeof t);
    fprintf(f, "{\"time\":\"%s\",\"id\":%llu,\"kind\":", t, (unsigned long long)r->id);
    put_str(f, r->kind);
    fputs(",\"flow\":", f);
    put_str(f, r->flow);
    fputs(",\"mode\":", f);
    put_str(f, r->mode);
    fputs(",\"format\":", f);
    put_str(f, r->format);
    if (r->authority) {
        fputs(",\"authority\":", f);
        put_str(f, r->authority);
    }
    fputs(",\"provider\":", f);
    put_str(f, r->provider);
    fputs(",\"model\":", f);
    put_str(f, r->model);
    fprintf(f, ",\"latency_ms\":%.3f,\"tokens_in\":%lu,\"tokens_out\":%lu,\"tokens_cached\":%lu,\"verdict\":",
            r->latency_ms >= 0 ? r->latency_ms : 0.0, (unsigned long)r->tokens_in, (unsigned long)r->tokens_out,
            (unsigned long)r->tokens_cached);
    put_str(f, r->verdict);
    fputs(",\"action\":", f);
    put_str(f, r->action);
    if (r->frame >= 0)
        fprintf(f, ",\"frame\":%lld", (long long)r->frame);
    else
        fputs(",\"frame\":null", f);
    if (r->shadow_match >= 0)
        fprintf(f, ",\"shadow_match\":%s", r->shadow_match ? "true" : "false");
    if (r->bad_field && *r->bad_field) {
        fputs(",\"bad_field\":", f);
        put_str(f, r->bad_field);
    }
    if (r->has_deviation)
        put_deviations(f, r->deviations, &r->chosen);
    fputs("}\n", f);
    if (fflush(f) != 0 || ferror(f))
        return -1;
    return 0;
}
