/* llm-sim: a simulated LLM provider on loopback. Prints "listening 127.0.0.1:PORT" on stdout
 * once ready (use --listen 127.0.0.1:0 to get a free port), then serves until killed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_sim.h"
#include "slowpath/llm/opts.h"

static const char usage[] =
    "usage: llm-sim [options]\n"
    "  --listen 127.0.0.1:PORT   loopback address to serve on (port 0: any free one)\n"
    "  --latency-ms N            model latency per answer (default 0)\n"
    "  --latency-dist D          fixed|uniform|exp (default fixed)\n"
    "  --latency-spread-ms N     uniform: extra 0..N ms\n"
    "  --error-rate P            chance 0..1 of a faulty answer, spread over the sim's error kinds\n"
    "  --error KIND:P            one sim error kind: wrong-field bad-checksum malformed prose\n"
    "                            truncated obey (repeatable)\n"
    "  --seed S                  RNG seed for answers, faults and choices (default 1)\n"
    "  --choices C               what it chooses in legal-authority requests where the RFCs leave\n"
    "                            a choice: native (default), random, refuse, ignore (exact requests\n"
    "                            always get the native answer)\n"
    "  --refuse-rate P           random choices: chance 0..1 of refusing a connection (default 0.03)\n"
    "  --ignore-rate P           random choices: chance 0..1 of answering nothing where that is\n"
    "                            legal (default 0.03)\n"
    "  --fault KIND:P            transport fault per request, KIND one of 429 500 529 stall slow\n"
    "                            reset oversize content-type 401 quota (repeatable)\n"
    "  --retry-after-ms N        what 429 tells clients to wait (default 1000)\n"
    "  --slow-ms N               extra delay of the slow fault (default 3000)\n"
    "  --oversize-bytes N        body size of the oversize fault (default 8 MiB)\n"
    "  --require-key KEY         401 unless x-api-key / Bearer matches\n"
    "  --cache-min-tokens N      smallest prompt prefix cached (default 1024; Claude Haiku 4.5: 4096)\n"
    "  --cache-ttl-s S           a cached prefix lives S seconds after its last use (default 300)\n"
    "  --log                     one JSON line per request on stderr\n"
    "  -h, --help                this text\n";

static int die(const char *msg, const char *arg)
{
    fprintf(stderr, "llm-sim: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
    return 2;
}

static int num(const char *s, double min, double max, double *out)
{
    char *e;
    double v;
    if (!s) return -1;
    v = strtod(s, &e);
    if (e == s || *e || !(v >= min && v <= max)) return -1;
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    struct server srv;
    struct sp_llm_sim_opts so;
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int blen = sizeof bound, rc;
    const char *listen_at = "127.0.0.1:0";
    double v;
    memset(&srv, 0, sizeof srv);
    sp_llm_sim_opts_default(&so);
    srv.retry_after_ms = SP_LLM_SIM_RETRY_AFTER_MS;
    srv.slow_ms = SP_LLM_SIM_SLOW_MS;
    srv.oversize_bytes = SP_LLM_SIM_OVERSIZE_BYTES;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "--log") == 0) {
            srv.log = 1;
            continue;
        }
        if (!val) return die("missing value for", a);
        i++;
        if (strcmp(a, "--listen") == 0) {
            listen_at = val;
        } else if (strcmp(a, "--latency-ms") == 0) {
            if (num(val, 0, 600000, &v) < 0) return die("bad --latency-ms", val);
            so.latency_ms = (uint32_t)v;
        } else if (strcmp(a, "--latency-spread-ms") == 0) {
            if (num(val, 0, 600000, &v) < 0) return die("bad --latency-spread-ms", val);
            so.latency_spread_ms = (uint32_t)v;
        } else if (strcmp(a, "--latency-dist") == 0) {
            if (sp_llm_sim_latency_parse(val, &so.latency_dist) < 0) return die("bad --latency-dist", val);
        } else if (strcmp(a, "--error-rate") == 0) {
            if (num(val, 0, 1, &so.error_rate) < 0) return die("bad --error-rate", val);
        } else if (strcmp(a, "--choices") == 0) {
            if (sp_llm_sim_choices_parse(val, &so.choices) < 0) return die("bad --choices", val);
        } else if (strcmp(a, "--refuse-rate") == 0) {
            if (num(val, 0, 1, &so.refuse_rate) < 0) return die("bad --refuse-rate", val);
        } else if (strcmp(a, "--ignore-rate") == 0) {
            if (num(val, 0, 1, &so.ignore_rate) < 0) return die("bad --ignore-rate", val);
        } else if (strcmp(a, "--seed") == 0) {
            if (num(val, 0, 1e18, &v) < 0) return die("bad --seed", val);
            so.seed = (uint64_t)v;
        } else if (strcmp(a, "--fault") == 0 || strcmp(a, "--error") == 0) {
            char kind[32];
            const char *colon = strchr(val, ':');
            size_t kl = colon ? (size_t)(colon - val) : 0;
            if (!colon || kl >= sizeof kind || num(colon + 1, 0, 1, &v) < 0) return die("want KIND:P", val);
            memcpy(kind, val, kl);
            kind[kl] = '\0';
            if (a[2] == 'f') {
                enum fault f;
                if (fault_parse(kind, &f) < 0) return die("unknown fault kind", kind);
                srv.fault_p[f] = v;
            } else {
                enum sp_llm_sim_fault f;
                if (sp_llm_sim_fault_parse(kind, &f) < 0) return die("unknown error kind", kind);
                so.p[f] = v;
            }
        } else if (strcmp(a, "--retry-after-ms") == 0) {
            if (num(val, 0, 3600000, &v) < 0) return die("bad --retry-after-ms", val);
            srv.retry_after_ms = (uint32_t)v;
        } else if (strcmp(a, "--slow-ms") == 0) {
            if (num(val, 0, 3600000, &v) < 0) return die("bad --slow-ms", val);
            srv.slow_ms = (uint32_t)v;
        } else if (strcmp(a, "--oversize-bytes") == 0) {
            if (num(val, 16, 1 << 30, &v) < 0) return die("bad --oversize-bytes", val);
            srv.oversize_bytes = (size_t)v;
        } else if (strcmp(a, "--cache-min-tokens") == 0) {
            if (num(val, 0, 1e7, &v) < 0) return die("bad --cache-min-tokens", val);
            so.cache_min_tokens = (uint32_t)v;
        } else if (strcmp(a, "--cache-ttl-s") == 0) {
            if (num(val, 0.001, 86400, &v) < 0) return die("bad --cache-ttl-s (0.001..86400)", val);
            so.cache_ttl_ms = (uint32_t)(v * 1000 + 0.5);
        } else if (strcmp(a, "--require-key") == 0) {
            srv.require_key = val;
        } else {
            return die("unknown option (see --help)", a);
        }
    }
    {
        char host[64];
        const char *colon = strrchr(listen_at, ':');
        size_t hl = colon ? (size_t)(colon - listen_at) : 0;
        if (!colon || hl >= sizeof host || num(colon + 1, 0, 65535, &v) < 0) return die("bad --listen", listen_at);
        memcpy(host, listen_at, hl);
        host[hl] = '\0';
        if (uv_ip4_addr(host, (int)v, &addr) < 0) return die("bad --listen address", listen_at);
        if ((ntohl(addr.sin_addr.s_addr) >> 24) != 127) return die("only loopback (127.0.0.0/8) is allowed", host);
    }
    signal(SIGPIPE, SIG_IGN);
    srv.loop = uv_default_loop();
    srv.rng = so.seed ^ 0x5eed5eed5eedull;
    sp_llm_sim_init(&srv.sim, &so);
    uv_tcp_init(srv.loop, &srv.listener);
    srv.listener.data = &srv;
    if ((rc = uv_tcp_bind(&srv.listener, (const struct sockaddr *)&addr, 0)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&srv.listener, 512, conn_on_connection)) < 0)
        return die("cannot listen", uv_strerror(rc));
    uv_tcp_getsockname(&srv.listener, (struct sockaddr *)&bound, &blen);
    printf("listening 127.0.0.1:%d\n", ntohs(((struct sockaddr_in *)&bound)->sin_port));
    fflush(stdout);
    uv_run(srv.loop, UV_RUN_DEFAULT);
    return 0;
}
