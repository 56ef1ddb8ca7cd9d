/* LLM configuration shared with the daemon: its getopt loop hands every --llm* / --model flag
 * to sp_llm_config_set(), then calls sp_llm_config_finish() once, which fills defaults from the
 * environment and checks the whole. Every error is one clear line in err. */
#ifndef SLOWPATH_LLM_CONFIG_H
#define SLOWPATH_LLM_CONFIG_H

#include "slowpath/layer_llm.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "slowpath/llm/provider.h"
#include "slowpath/llm/sim.h"

struct sp_llm_config {
    enum sp_llm_provider_kind provider; /* --llm sim|openai|anthropic (default sim) */
    char url[512];          /* --llm-url; default $OPENAI_BASE_URL / $ANTHROPIC_BASE_URL, then
                             * SP_LLM_DEFAULT_OPENAI_URL / SP_LLM_DEFAULT_ANTHROPIC_URL */
    char model[128];        /* --model; default per provider (opts.h) */
    uint32_t timeout_ms;    /* --llm-timeout MS: whole deadline of one ask, retries included */
    uint32_t max_inflight;  /* --llm-max-inflight N */
    uint32_t max_retries;   /* --llm-retries N */
    uint32_t backoff_base_ms, backoff_max_ms, retry_after_max_ms;
    uint32_t max_tokens;
    size_t max_response;
    int stream;             /* --llm-stream 0|1: ask providers for SSE (default 0) */
    uint32_t cache_min_tokens; /* --llm-cache-min-tokens N: the provider's smallest cacheable
                                * prefix; the static prompt prefixes are grown past it (prefix.h),
                                * and the sim caches from it (default 1024) */
    struct sp_llm_sim_opts sim; /* --llm-seed S, --llm-latency-ms N, --llm-error-rate P,
                                 * --llm-sim-choices C, --llm-sim-refuse-rate P,
                                 * --llm-sim-ignore-rate P */
    /* filled by finish() from ANTHROPIC_API_KEY / OPENAI_API_KEY; never logged or traced */
    char api_key[512];
};

/* Usage lines for the daemon's --help. */
extern const char sp_llm_config_usage[];

void sp_llm_config_init(struct sp_llm_config *cfg);

/* Whether flag ("--llm-url" or "llm-url") is one of ours. */
int sp_llm_config_is_flag(const char *flag);

/* Applies one flag. Returns 0, or SP_LLM_ECONFIG with a message in err. */
int sp_llm_config_set(struct sp_llm_config *cfg, const char *flag, const char *value, char *err,
                      size_t errlen);

/* Fills defaults (environment, then opts.h), reads the API key, validates the URL. Returns 0,
 * SP_LLM_ENOKEY or SP_LLM_ECONFIG with one line in err. */
int sp_llm_config_finish(struct sp_llm_config *cfg, char *err, size_t errlen);

/* Only the URL and model defaults of finish(), without reading a key (what --print-config shows).
 * *url_source (may be NULL) tells where the URL came from: "--llm-url", the environment
 * variable's name ("ANTHROPIC_BASE_URL"), "default", or "" for sim. Returns 0 or SP_LLM_ECONFIG. */
int sp_llm_config_resolve(struct sp_llm_config *cfg, const char **url_source, char *err, size_t errlen);

/* The environment variable holding the provider's key ("OPENAI_API_KEY"), NULL for sim. */
const char *sp_llm_config_key_var(enum sp_llm_provider_kind k);

/* The effective configuration, one "name: value" line each, for --print-config: provider, URL and
 * where it came from, the endpoint requests go to, model, timeouts, retries, limits, caching, the
 * sim's settings; for the key only whether its variable is set (the key itself never). cfg has
 * passed sp_llm_config_resolve. */
void sp_llm_config_print(const struct sp_llm_config *cfg, const char *url_source, FILE *out);

#endif
