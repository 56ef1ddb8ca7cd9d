/* The one object the daemon uses to ask a model: sp_llm_ask() returns at once and the callback
 * runs later on the loop thread. Behind it: the provider (sim in-process with a uv timer for its
 * latency, or openai/anthropic over sp_llm_http), a bound on asks in flight (excess gets
 * SP_LLM_EBUSY immediately), one deadline per ask covering every retry, retries with jittered
 * exponential backoff that honour retry-after on 429/529/5xx and resets (never on other 4xx),
 * and a circuit breaker that an authentication or spend-limit error opens with one log line. */
#ifndef SLOWPATH_LLM_CLIENT_H
#define SLOWPATH_LLM_CLIENT_H

#include "slowpath/layer_llm.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "slowpath/llm/config.h"
#include "slowpath/llm/decision.h"
#include "slowpath/llm/http.h"
#include "slowpath/llm/provider.h"
#include "slowpath/llm/sim.h"

typedef struct sp_llm_client sp_llm_client;

/* What an ask's callback sees; valid only during the callback. */
struct sp_llm_result {
    int err;                  /* 0 or SP_LLM_E*; on ETRUNCATED/EREFUSAL text may still be set */
    const char *text;         /* the model's answer, NUL-terminated, or NULL */
    size_t text_len;
    const char *stop_reason;  /* "" when unknown */
    const char *message;      /* provider's error message (key-redacted) or "" */
    long http_status;         /* of the last attempt, 0 for sim or transport errors */
    unsigned attempts;        /* HTTP attempts made (1 for sim) */
    double latency_ms;        /* ask to callback, backoff included */
    struct sp_llm_usage usage;
    struct sp_llm_timings timings;
    enum sp_llm_sim_fault sim_fault; /* provider sim: the fault injected, for tests and traces */
};

typedef void (*sp_llm_ask_cb)(sp_llm_client *client, const struct sp_llm_result *res, void *data);
typedef void (*sp_llm_client_close_cb)(sp_llm_client *client);
typedef void (*sp_llm_log_fn)(void *log_data, const char *line);

struct sp_llm_client_stats {
    uint64_t asks, ok, failed, busy, breaker_rejects, retries, timeouts;
    uint64_t input_tokens, output_tokens, cache_write_tokens, cache_read_tokens;
};

struct sp_llm_ask_;

struct sp_llm_client {
    void *data; /* user */
    /* private */
    uv_loop_t *loop_;
    struct sp_llm_config cfg_;
    const struct sp_llm_provider *prov_;
    sp_llm_http http_;
    int http_up_;
    struct sp_llm_sim sim_;
    struct sp_llm_ask_ *asks_;
    unsigned inflight_;
    unsigned pending_; /* asks and http awaiting their close callbacks */
    int breaker_open_;
    int closing_;
    sp_llm_client_close_cb close_cb_;
    uint64_t rng_;
    sp_llm_log_fn log_;
    void *log_data_;
    struct sp_llm_client_stats stats_;
};

/* cfg must have passed sp_llm_config_finish(). Builds the static prompt prefixes for
 * cfg->cache_min_tokens (sp_llm_prefix_configure). Returns 0 or SP_LLM_EINVAL/ENOMEM/ENOKEY. */
int sp_llm_client_init(uv_loop_t *loop, sp_llm_client *client, const struct sp_llm_config *cfg);

/* Where the one-line notices go (breaker opening). Default: stderr. */
void sp_llm_client_set_log(sp_llm_client *client, sp_llm_log_fn fn, void *log_data);

/* Fills a prompt for a decision: the static prefix of kind, format and authority at the configured
 * cache minimum (prefix.h: the system prompt and the schema, the same bytes on every call), and
 * user. */
void sp_llm_prompt_for(struct sp_llm_prompt *p, enum sp_decision_kind kind, enum sp_llm_format fmt,
                       enum sp_authority authority, const char *user);

/* Asks. The prompt's strings are copied. Returns 0 (cb runs later, exactly once), or at once
 * SP_LLM_EBUSY (max in flight), SP_LLM_EBREAKER (breaker open), SP_LLM_ECLOSING, SP_LLM_EINVAL,
 * SP_LLM_ENOMEM, and then cb never runs. */
int sp_llm_ask(sp_llm_client *client, const struct sp_llm_prompt *prompt, sp_llm_ask_cb cb,
               void *data);

/* Whether an ask would be admitted now, before its prompt is built (rendering one costs more than
 * the refusal, and a stalled model under a flood refuses most): 0, or the code sp_llm_ask would
 * return at once (SP_LLM_ECLOSING, SP_LLM_EBREAKER, SP_LLM_EBUSY). A refusal is counted here just
 * as sp_llm_ask counts one (asks, busy, breaker_rejects); after a 0 nothing is counted until the
 * sp_llm_ask that follows. */
int sp_llm_client_admit(sp_llm_client *client);

unsigned sp_llm_client_inflight(const sp_llm_client *client);
int sp_llm_client_breaker_open(const sp_llm_client *client);
/* Closes the breaker again (after the operator fixed the key or the budget). */
void sp_llm_client_breaker_reset(sp_llm_client *client);
const struct sp_llm_client_stats *sp_llm_client_stats(const sp_llm_client *client);

/* Fails every ask in flight with SP_LLM_ECANCELED, then releases everything; close_cb (may be
 * NULL) runs when client's memory may be reused. */
void sp_llm_client_close(sp_llm_client *client, sp_llm_client_close_cb close_cb);

#endif
