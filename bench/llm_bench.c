/* llm-bench: decisions per second and the latency slowpath adds per request, through the full
 * path (prompt -> provider request -> HTTP on the loop -> llm-sim -> parse -> strict proposal
 * parse) at a chosen model latency (0 by default, so everything measured is overhead).
 *
 *   build/bin/llm-bench [--provider openai|anthropic|sim] [--n N] [--concurrency C]
 *                       [--latency-ms L] [--stream 0|1]
 *
 * Without --provider/--concurrency it runs openai and anthropic at concurrency 1 and 32, and the
 * in-process sim for comparison. A benchmark, not a test: it asserts nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "slowpath/llm/client.h"
#include "slowpath/llm/decision.h"
#include "slowpath/llm/error.h"
#include "slowpath/llm/simproc.h"

static const char user_tcp[] =
    "{\"kind\":\"tcp\",\"format\":\"structured\",\"host\":{\"mac\":\"02:00:00:00:00:01\",\"ip\":"
    "\"192.0.2.1\",\"ttl\":64,\"mss\":1460,\"window\":65535,\"wscale\":7},\"state\":{\"tcp_state\":"
    "\"LISTEN\",\"iss\":1000},\"packet\":{\"src\":\"192.0.2.2\",\"dst\":\"192.0.2.1\",\"sport\":40000,"
    "\"dport\":80,\"seq\":555,\"ack\":0,\"flags\":\"S\",\"window\":64240,\"mss\":1460,\"wscale\":7,"
    "\"payload_hex\":\"\"}}";

struct run {
    uv_loop_t *loop;
    sp_llm_client client;
    struct sp_llm_prompt prompt;
    unsigned n, issued, done, failed, bad, conc;
    double *lat;
};

static void issue(struct run *r);

static void on_done(sp_llm_client *c, const struct sp_llm_result *res, void *data)
{
    struct run *r = data;
    struct sp_llm_decision dec;
    (void)c;
    r->lat[r->done++] = res->latency_ms;
    if (res->err) r->failed++;
    else if (sp_llm_proposal_parse(SP_DECISION_TCP, SP_LLM_FMT_STRUCTURED, res->text, res->text_len, &dec) < 0 ||
             dec.proposal.action != SP_PROPOSE_SYN_ACK)
        r->bad++;
    issue(r);
}

static void issue(struct run *r)
{
    while (r->issued < r->n && sp_llm_client_inflight(&r->client) < r->conc) {
        int rc = sp_llm_ask(&r->client, &r->prompt, on_done, r);
        if (rc < 0) {
            fprintf(stderr, "llm-bench: ask: %s\n", sp_llm_strerror(rc));
            exit(1);
        }
        r->issued++;
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void on_closed(sp_llm_client *c)
{
    (void)c;
}

static void bench(enum sp_llm_provider_kind kind, const char *url, unsigned n, unsigned conc, int stream)
{
    uv_loop_t loop;
    struct run r;
    struct sp_llm_config cfg;
    char err[256];
    uint64_t t0, t1;
    double sum = 0, secs;
    memset(&r, 0, sizeof r);
    uv_loop_init(&loop);
    sp_llm_config_init(&cfg);
    cfg.provider = kind;
    if (url) snprintf(cfg.url, sizeof cfg.url, "%s%s", url, kind == SP_LLM_PROVIDER_OPENAI ? "/v1" : "");
    cfg.max_inflight = conc;
    cfg.stream = stream;
    if (sp_llm_config_finish(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    r.loop = &loop;
    r.n = n;
    r.conc = conc;
    r.lat = calloc(n, sizeof *r.lat);
    if (!r.lat || sp_llm_client_init(&loop, &r.client, &cfg) < 0) exit(1);
    sp_llm_prompt_for(&r.prompt, SP_DECISION_TCP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT, user_tcp);
    t0 = uv_hrtime();
    issue(&r);
    while (r.done < n) uv_run(&loop, UV_RUN_ONCE);
    t1 = uv_hrtime();
    sp_llm_client_close(&r.client, on_closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    for (unsigned i = 0; i < n; i++) sum += r.lat[i];
    qsort(r.lat, n, sizeof *r.lat, cmp);
    secs = (double)(t1 - t0) / 1e9;
    printf("%-9s%s concurrency %-3u n %-6u %9.0f decisions/s   latency mean %.3f ms  p50 %.3f  p99 %.3f  "
           "max %.3f   failed %u  wrong %u\n",
           sp_llm_provider_kind_name(kind), stream && kind != SP_LLM_PROVIDER_SIM ? " (SSE)" : "", conc, n, n / secs, sum / n, r.lat[n / 2], r.lat[n * 99 / 100],
           r.lat[n - 1], r.failed, r.bad);
    free(r.lat);
}

int main(int argc, char **argv)
{
    const char *prov = NULL, *lat = "0";
    unsigned n = 20000, conc = 0;
    int stream = 0;
    struct sp_llm_simproc sim;
    char path[4096];
    for (int i = 1; i < argc; i += 2) {
        const char *flag = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (val && strcmp(flag, "--provider") == 0) prov = val;
        else if (val && strcmp(flag, "--n") == 0) n = (unsigned)atoi(val);
        else if (val && strcmp(flag, "--concurrency") == 0) conc = (unsigned)atoi(val);
        else if (val && strcmp(flag, "--latency-ms") == 0) lat = val;
        else if (val && strcmp(flag, "--stream") == 0) stream = atoi(val) != 0;
        else { /* an unknown flag, or one without its value (--help among them) */
            fprintf(stderr, "usage: llm-bench [--provider openai|anthropic|sim] [--n N] [--concurrency C] [--latency-ms L] [--stream 0|1]\n");
            return 2;
        }
    }
    if (!n) n = 1;
    const char *args[] = {"--latency-ms", lat, NULL};
    setenv("ANTHROPIC_API_KEY", "bench-key", 0);
    if (sp_llm_simproc_start(&sim, sp_llm_simproc_path(path, sizeof path), args) < 0) {
        fprintf(stderr, "llm-bench: cannot start llm-sim at %s\n", path);
        return 1;
    }
    printf("llm-bench: %u decisions (tcp structured) per run via %s, model latency %s ms\n", n, sim.url, lat);
    static const enum sp_llm_provider_kind all[] = {SP_LLM_PROVIDER_OPENAI, SP_LLM_PROVIDER_ANTHROPIC, SP_LLM_PROVIDER_SIM};
    static const unsigned concs[] = {1, 32};
    for (size_t p = 0; p < 3; p++) {
        if (prov && strcmp(prov, sp_llm_provider_kind_name(all[p])) != 0) continue;
        for (size_t c = 0; c < 2; c++) {
            if (conc && c) break;
            bench(all[p], all[p] == SP_LLM_PROVIDER_SIM ? NULL : sim.url, n, conc ? conc : concs[c], stream);
        }
    }
    sp_llm_simproc_stop(&sim);
    return 0;
}
