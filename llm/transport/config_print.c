/* --print-config for the LLM side: what the daemon would use, so an operator (or a test) can see
 * the defaults and the environment's overrides without sending a request. Never the key. */
#include <stdlib.h>
#include <string.h>

#include "slowpath/llm/config.h"
#include "slowpath/llm/opts.h"

/* Where requests go: the base URL as the provider's SDK takes it, plus the API's path. */
static void endpoint(const struct sp_llm_config *cfg, FILE *out)
{
    size_t bl = strlen(cfg->url);
    while (bl > 0 && cfg->url[bl - 1] == '/')
        bl--;
    fprintf(out, "llm_endpoint: %.*s%s\n", (int)bl, cfg->url,
            cfg->provider == SP_LLM_PROVIDER_ANTHROPIC ? "/v1/messages" : "/chat/completions");
}

void sp_llm_config_print(const struct sp_llm_config *cfg, const char *url_source, FILE *out)
{
    fprintf(out, "llm: %s\n", sp_llm_provider_kind_name(cfg->provider));
    if (cfg->provider == SP_LLM_PROVIDER_SIM) {
        fprintf(out, "llm_sim_seed: %llu\n", (unsigned long long)cfg->sim.seed);
        fprintf(out, "llm_sim_latency_ms: %u\n", cfg->sim.latency_ms);
        fprintf(out, "llm_sim_error_rate: %g\n", cfg->sim.error_rate);
    } else {
        const char *var = sp_llm_config_key_var(cfg->provider);
        const char *key = var ? getenv(var) : NULL;
        fprintf(out, "llm_url: %s\n", cfg->url);
        fprintf(out, "llm_url_from: %s\n", url_source && *url_source ? url_source : "default");
        endpoint(cfg, out);
        fprintf(out, "llm_model: %s\n", cfg->model);
        fprintf(out, "llm_api_key: %s (%s)\n", key && *key ? "set" : "not set", var ? var : "");
        fprintf(out, "llm_stream: %d\n", cfg->stream);
    }
    fprintf(out, "llm_timeout_ms: %u\n", cfg->timeout_ms);
    fprintf(out, "llm_connect_timeout_ms: %u\n", (unsigned)SP_LLM_DEFAULT_CONNECT_TIMEOUT_MS);
    fprintf(out, "llm_retries: %u\n", cfg->max_retries);
    fprintf(out, "llm_backoff_ms: %u..%u\n", cfg->backoff_base_ms, cfg->backoff_max_ms);
    fprintf(out, "llm_max_inflight: %u\n", cfg->max_inflight);
    fprintf(out, "llm_max_tokens: %u\n", cfg->max_tokens);
    fprintf(out, "llm_cache_min_tokens: %u\n", cfg->cache_min_tokens);
}
