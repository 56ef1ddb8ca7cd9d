/* Flag parsing for the LLM side. Values are checked strictly: a typo is an error, not a
 * silent default. */
#include "slowpath/llm/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slowpath/llm/error.h"
#include "slowpath/llm/opts.h"

const char sp_llm_config_usage[] =
    "  --llm sim|openai|anthropic   who answers decisions (default sim, in-process)\n"
    "  --llm-url URL                provider base URL, as the official SDKs take it (openai:\n"
    "                               $OPENAI_BASE_URL or " SP_LLM_DEFAULT_OPENAI_URL ", requests go to\n"
    "                               URL/chat/completions; anthropic: $ANTHROPIC_BASE_URL or\n"
    "                               " SP_LLM_DEFAULT_ANTHROPIC_URL ", requests go to URL/v1/messages);\n"
    "                               a local server (llama.cpp, Ollama) is named here\n"
    "  --model NAME                 model name sent to the provider\n"
    "  --llm-timeout MS             deadline of one decision, retries included (default 10000)\n"
    "  --llm-max-inflight N         decisions outstanding at once (default 64)\n"
    "  --llm-retries N              retries on 429/529/5xx/reset (default 3)\n"
    "  --llm-stream 0|1             ask the provider to stream (SSE) (default 0)\n"
    "  --llm-cache-min-tokens N     the provider's smallest cacheable prompt prefix: the static\n"
    "                               prefixes are grown to about N * 1.15 estimated tokens (default\n"
    "                               1024; 4096 for Claude Haiku 4.5); the sim caches from N too\n"
    "  --llm-seed S                 sim: RNG seed\n"
    "  --llm-latency-ms N           sim: model latency\n"
    "  --llm-error-rate P           sim: chance 0..1 of a faulty answer\n"
    "  --llm-sim-choices C          sim, legal authority: what it chooses where the RFCs leave a\n"
    "                               choice: native (default), random (random legal values: TTL, IP\n"
    "                               ident and DF of echo replies; ISS, window, MSS, window scale of\n"
    "                               SYN-ACKs; refusing and ignoring at the rates below), refuse\n"
    "                               (every connection it may), ignore (everything it may)\n"
    "  --llm-sim-refuse-rate P      sim, random choices: chance 0..1 of refusing a connection\n"
    "                               (default 0.03)\n"
    "  --llm-sim-ignore-rate P      sim, random choices: chance 0..1 of answering nothing where\n"
    "                               that is legal (default 0.03)\n"
    "  keys come only from ANTHROPIC_API_KEY / OPENAI_API_KEY (optional for local servers)\n";

void sp_llm_config_init(struct sp_llm_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->provider = SP_LLM_PROVIDER_SIM;
    cfg->timeout_ms = SP_LLM_DEFAULT_TIMEOUT_MS;
    cfg->max_inflight = SP_LLM_DEFAULT_MAX_INFLIGHT;
    cfg->max_retries = SP_LLM_DEFAULT_MAX_RETRIES;
    cfg->backoff_base_ms = SP_LLM_DEFAULT_BACKOFF_BASE_MS;
    cfg->backoff_max_ms = SP_LLM_DEFAULT_BACKOFF_MAX_MS;
    cfg->retry_after_max_ms = SP_LLM_DEFAULT_RETRY_AFTER_MAX_MS;
    cfg->max_tokens = SP_LLM_DEFAULT_MAX_TOKENS;
    cfg->max_response = SP_LLM_DEFAULT_MAX_RESPONSE;
    cfg->cache_min_tokens = SP_LLM_DEFAULT_CACHE_MIN_TOKENS;
    sp_llm_sim_opts_default(&cfg->sim);
}

static const char *const flags[] = {"llm", "llm-url", "model", "llm-timeout", "llm-max-inflight",
                                    "llm-retries", "llm-stream", "llm-seed", "llm-latency-ms", "llm-error-rate",
                                    "llm-cache-min-tokens", "llm-sim-choices", "llm-sim-refuse-rate",
                                    "llm-sim-ignore-rate", NULL};

static const char *bare(const char *flag)
{
    while (flag && *flag == '-') flag++;
    return flag;
}

int sp_llm_config_is_flag(const char *flag)
{
    flag = bare(flag);
    for (int i = 0; flag && flags[i]; i++)
        if (strcmp(flag, flags[i]) == 0) return 1;
    return 0;
}

static int fail(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    if (err && errlen) snprintf(err, errlen, fmt, a ? a : "", b ? b : "");
    return SP_LLM_ECONFIG;
}

static int parse_u64(const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
    char *end;
    unsigned long long n;
    if (!v || !isdigit((unsigned char)*v)) return -1;
    errno = 0;
    n = strtoull(v, &end, 10);
    if (errno || *end || n < min || n > max) return -1;
    *out = n;
    return 0;
}

/* Syntax of a base URL: http(s)://host[:port][/path], no query, fragment, spaces or controls,
 * since paths are appended to it. */
static int url_ok(const char *u)
{
    const char *h, *p;
    if (strncmp(u, "http://", 7) == 0) h = u + 7;
    else if (strncmp(u, "https://", 8) == 0) h = u + 8;
    else return 0;
    for (p = u; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == '?' || *p == '#' || (unsigned char)*p >= 127) return 0;
    if (*h == '\0' || *h == '/' || *h == ':') return 0;
    p = h;
    if (*p == '[') { /* IPv6 literal */
        while (*p && *p != ']') p++;
        if (*p++ != ']') return 0;
    } else {
        while (*p && *p != ':' && *p != '/') {
            if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-' && *p != '_') return 0;
            p++;
        }
    }
    if (*p == ':') {
        uint64_t port;
        char buf[8];
        size_t n = 0;
        for (p++; isdigit((unsigned char)*p) && n < sizeof buf - 1; p++) buf[n++] = *p;
        buf[n] = '\0';
        if (parse_u64(buf, 1, 65535, &port) < 0) return 0;
    }
    return *p == '\0' || *p == '/';
}

/* The sim's chances: --llm-error-rate, --llm-sim-refuse-rate, --llm-sim-ignore-rate (f bare). */
static int set_rate(struct sp_llm_config *cfg, const char *f, const char *value, char *err, size_t errlen)
{
    char *end;
    double p = strtod(value, &end);
    if (end == value || *end || !(p >= 0.0 && p <= 1.0))
        return fail(err, errlen, "slowpath: bad --%s '%s' (0..1)", f, value);
    if (strcmp(f, "llm-error-rate") == 0) cfg->sim.error_rate = p;
    else if (strcmp(f, "llm-sim-refuse-rate") == 0) cfg->sim.refuse_rate = p;
    else cfg->sim.ignore_rate = p;
    return 0;
}

int sp_llm_config_set(struct sp_llm_config *cfg, const char *flag, const char *value, char *err,
                      size_t errlen)
{
    const char *f = bare(flag);
    uint64_t n;
    if (!cfg || !f) return fail(err, errlen, "slowpath: llm: no flag given%s%s", NULL, NULL);
    if (!value) return fail(err, errlen, "slowpath: --%s needs a value%s", f, NULL);
    if (strcmp(f, "llm") == 0) {
        if (sp_llm_provider_kind_parse(value, &cfg->provider) < 0)
            return fail(err, errlen, "slowpath: unknown --llm provider '%s' (sim, openai or anthropic)%s", value, NULL);
    } else if (strcmp(f, "llm-url") == 0) {
        if (strlen(value) >= sizeof cfg->url || !url_ok(value))
            return fail(err, errlen, "slowpath: bad --llm-url '%s' (want http[s]://host[:port][/path])%s", value, NULL);
        strcpy(cfg->url, value);
    } else if (strcmp(f, "model") == 0) {
        if (!*value || strlen(value) >= sizeof cfg->model)
            return fail(err, errlen, "slowpath: bad --model '%s'%s", value, NULL);
        for (const char *p = value; *p; p++)
            if ((unsigned char)*p <= ' ' || *p == '"' || *p == '\\')
                return fail(err, errlen, "slowpath: bad --model '%s'%s", value, NULL);
        strcpy(cfg->model, value);
    } else if (strcmp(f, "llm-timeout") == 0) {
        if (parse_u64(value, 1, 3600000, &n) < 0)
            return fail(err, errlen, "slowpath: bad --llm-timeout '%s' (milliseconds, 1..3600000)%s", value, NULL);
        cfg->timeout_ms = (uint32_t)n;
    } else if (strcmp(f, "llm-max-inflight") == 0) {
        if (parse_u64(value, 1, 100000, &n) < 0)
            return fail(err, errlen, "slowpath: bad --llm-max-inflight '%s' (1..100000)%s", value, NULL);
        cfg->max_inflight = (uint32_t)n;
    } else if (strcmp(f, "llm-retries") == 0) {
        if (parse_u64(value, 0, 20, &n) < 0)
            return fail(err, errlen, "slowpath: bad --llm-retries '%s' (0..20)%s", value, NULL);
        cfg->max_retries = (uint32_t)n;
    } else if (strcmp(f, "llm-stream") == 0) {
        if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
            return fail(err, errlen, "slowpath: bad --llm-stream '%s' (0 or 1)%s", value, NULL);
        cfg->stream = value[0] == '1';
    } else if (strcmp(f, "llm-cache-min-tokens") == 0) {
        if (parse_u64(value, 0, SP_LLM_CACHE_MIN_TOKENS_MAX, &n) < 0)
            return fail(err, errlen, "slowpath: bad --llm-cache-min-tokens '%s' (0..32768)%s", value, NULL);
        cfg->cache_min_tokens = (uint32_t)n;
        cfg->sim.cache_min_tokens = (uint32_t)n; /* the in-process sim plays the same provider */
    } else if (strcmp(f, "llm-seed") == 0) {
        if (parse_u64(value, 0, UINT64_MAX, &n) < 0)
            return fail(err, errlen, "slowpath: bad --llm-seed '%s'%s", value, NULL);
        cfg->sim.seed = n;
    } else if (strcmp(f, "llm-latency-ms") == 0) {
        if (parse_u64(value, 0, 600000, &n) < 0)
            return fail(err, errlen, "slowpath: bad --llm-latency-ms '%s' (0..600000)%s", value, NULL);
        cfg->sim.latency_ms = (uint32_t)n;
    } else if (strcmp(f, "llm-error-rate") == 0 || strcmp(f, "llm-sim-refuse-rate") == 0 ||
               strcmp(f, "llm-sim-ignore-rate") == 0) {
        return set_rate(cfg, f, value, err, errlen);
    } else if (strcmp(f, "llm-sim-choices") == 0) {
        if (sp_llm_sim_choices_parse(value, &cfg->sim.choices) < 0)
            return fail(err, errlen, "slowpath: bad --llm-sim-choices '%s' (native, random, refuse or ignore)%s",
                        value, NULL);
    } else {
        return fail(err, errlen, "slowpath: unknown llm flag '%s'%s", flag, NULL);
    }
    return 0;
}

static int finish(struct sp_llm_config *cfg, char *err, size_t errlen);

/* Works on a copy so a failed call leaves cfg as the flags set it (it can be retried). */
int sp_llm_config_finish(struct sp_llm_config *cfg, char *err, size_t errlen)
{
    struct sp_llm_config tmp;
    int rc;
    if (!cfg) return SP_LLM_EINVAL;
    tmp = *cfg;
    if ((rc = finish(&tmp, err, errlen)) == 0) *cfg = tmp;
    explicit_bzero(&tmp, sizeof tmp); /* no stray copy of the key */
    return rc;
}

struct provider_env {
    const char *url_var, *default_url, *key_var, *default_model;
};

static int provider_env(enum sp_llm_provider_kind k, struct provider_env *out)
{
    if (k == SP_LLM_PROVIDER_OPENAI)
        *out = (struct provider_env){"OPENAI_BASE_URL", SP_LLM_DEFAULT_OPENAI_URL, "OPENAI_API_KEY",
                                     SP_LLM_DEFAULT_OPENAI_MODEL};
    else if (k == SP_LLM_PROVIDER_ANTHROPIC)
        *out = (struct provider_env){"ANTHROPIC_BASE_URL", SP_LLM_DEFAULT_ANTHROPIC_URL, "ANTHROPIC_API_KEY",
                                     SP_LLM_DEFAULT_ANTHROPIC_MODEL};
    else
        return -1;
    return 0;
}

const char *sp_llm_config_key_var(enum sp_llm_provider_kind k)
{
    struct provider_env pe;
    return provider_env(k, &pe) == 0 ? pe.key_var : NULL;
}

/* The URL as the official SDKs pick it: the flag, else the provider's *_BASE_URL, else the
 * provider's own endpoint. */
static int resolve(struct sp_llm_config *cfg, const char **source, char *err, size_t errlen)
{
    struct provider_env pe = {0};
    const char *src = "--llm-url";
    if (cfg->provider == SP_LLM_PROVIDER_SIM) {
        src = "";
    } else if (provider_env(cfg->provider, &pe) < 0) {
        return fail(err, errlen, "slowpath: unknown llm provider%s%s", NULL, NULL);
    } else if (!cfg->url[0]) {
        const char *u = getenv(pe.url_var);
        if (u && *u) {
            if (strlen(u) >= sizeof cfg->url || !url_ok(u))
                return fail(err, errlen, "slowpath: bad URL in $%s: '%s'", pe.url_var, u);
            strcpy(cfg->url, u);
            src = pe.url_var;
        } else {
            strcpy(cfg->url, pe.default_url);
            src = "default";
        }
    }
    if (cfg->provider != SP_LLM_PROVIDER_SIM && !cfg->model[0])
        strcpy(cfg->model, pe.default_model);
    if (source)
        *source = src;
    return 0;
}

int sp_llm_config_resolve(struct sp_llm_config *cfg, const char **url_source, char *err, size_t errlen)
{
    struct sp_llm_config tmp;
    int rc;
    if (!cfg) return SP_LLM_EINVAL;
    tmp = *cfg;
    if ((rc = resolve(&tmp, url_source, err, errlen)) == 0) *cfg = tmp;
    explicit_bzero(&tmp, sizeof tmp);
    return rc;
}

static int finish(struct sp_llm_config *cfg, char *err, size_t errlen)
{
    struct provider_env pe;
    const char *key;
    int rc = resolve(cfg, NULL, err, errlen);
    if (rc < 0 || provider_env(cfg->provider, &pe) < 0) return rc; /* sim: no URL, no key */
    key = getenv(pe.key_var);
    if (key && strlen(key) >= sizeof cfg->api_key)
        return fail(err, errlen, "slowpath: $%s is too long%s", pe.key_var, NULL);
    for (const char *p = key; p && *p; p++)
        if ((unsigned char)*p < ' ' || (unsigned char)*p >= 127)
            return fail(err, errlen, "slowpath: $%s has control or non-ASCII characters%s", pe.key_var, NULL);
    cfg->api_key[0] = '\0';
    if (key) strcpy(cfg->api_key, key);
    /* Anthropic always needs a key; OpenAI-compatible local servers usually do not, OpenAI does */
    if (!cfg->api_key[0] && (cfg->provider == SP_LLM_PROVIDER_ANTHROPIC ||
                             strstr(cfg->url, "://api.openai.com"))) {
        if (err && errlen)
            snprintf(err, errlen, "slowpath: --llm %s needs %s in the environment",
                     sp_llm_provider_kind_name(cfg->provider), pe.key_var);
        return SP_LLM_ENOKEY;
    }
    return 0;
}
