/* Every tunable of the LLM engine with its one documented default. A build may override any of
 * them with -D; runtime configuration (struct sp_llm_config) starts from these values. */
#ifndef SLOWPATH_LLM_OPTS_H
#define SLOWPATH_LLM_OPTS_H

#include "slowpath/layer_llm.h"

/* --- Requests ----------------------------------------------------------------------------- */
#ifndef SP_LLM_DEFAULT_TIMEOUT_MS
#define SP_LLM_DEFAULT_TIMEOUT_MS 10000     /* whole deadline of one ask, retries included */
#endif
#ifndef SP_LLM_DEFAULT_CONNECT_TIMEOUT_MS
#define SP_LLM_DEFAULT_CONNECT_TIMEOUT_MS 2000 /* TCP+TLS connect bound inside the deadline */
#endif
#ifndef SP_LLM_DEFAULT_MAX_INFLIGHT
#define SP_LLM_DEFAULT_MAX_INFLIGHT 64      /* asks outstanding at once; more get SP_LLM_EBUSY */
#endif
#ifndef SP_LLM_DEFAULT_MAX_RESPONSE
#define SP_LLM_DEFAULT_MAX_RESPONSE (1u << 20) /* bytes of response body accepted (1 MiB) */
#endif
#ifndef SP_LLM_DEFAULT_MAX_TOKENS
#define SP_LLM_DEFAULT_MAX_TOKENS 512       /* output token cap sent to the model; a decision is
                                             * < 100 tokens, a raw frame_hex ~ 200 */
#endif
#ifndef SP_LLM_DEFAULT_MAX_HOST_CONNS
#define SP_LLM_DEFAULT_MAX_HOST_CONNS 16    /* kept-alive connections per host (curl cache) for a
                                             * bare sp_llm_http; the client uses max_inflight */
#endif

/* --- Retries and the breaker -------------------------------------------------------------- */
#ifndef SP_LLM_DEFAULT_MAX_RETRIES
#define SP_LLM_DEFAULT_MAX_RETRIES 3        /* extra attempts after the first (429/529/5xx/reset) */
#endif
#ifndef SP_LLM_DEFAULT_BACKOFF_BASE_MS
#define SP_LLM_DEFAULT_BACKOFF_BASE_MS 100  /* first backoff ceiling; doubles per attempt */
#endif
#ifndef SP_LLM_DEFAULT_BACKOFF_MAX_MS
#define SP_LLM_DEFAULT_BACKOFF_MAX_MS 5000  /* ceiling of one backoff ("full jitter" below it) */
#endif
#ifndef SP_LLM_DEFAULT_RETRY_AFTER_MAX_MS
#define SP_LLM_DEFAULT_RETRY_AFTER_MAX_MS 60000 /* a larger retry-after is clamped to this */
#endif
#ifndef SP_LLM_RETRY_AFTER_CAP_MS
#define SP_LLM_RETRY_AFTER_CAP_MS 86400000  /* the HTTP layer reports at most this (one day) of a
                                             * server's retry-after, so no value it parses can
                                             * overflow; the client then waits at most the bound
                                             * above */
#endif

/* --- Endpoints and models ----------------------------------------------------------------- */
#ifndef SP_LLM_DEFAULT_OPENAI_URL
#define SP_LLM_DEFAULT_OPENAI_URL "https://api.openai.com/v1" /* the official endpoint, as the SDKs */
#endif
#ifndef SP_LLM_DEFAULT_ANTHROPIC_URL
#define SP_LLM_DEFAULT_ANTHROPIC_URL "https://api.anthropic.com" /* likewise; local servers: --llm-url */
#endif
#ifndef SP_LLM_DEFAULT_OPENAI_MODEL
#define SP_LLM_DEFAULT_OPENAI_MODEL "gpt-4o-mini"
#endif
#ifndef SP_LLM_DEFAULT_ANTHROPIC_MODEL
#define SP_LLM_DEFAULT_ANTHROPIC_MODEL "claude-3-5-haiku-latest"
#endif
#define SP_LLM_ANTHROPIC_VERSION "2023-06-01" /* the anthropic-version header (fixed by the API) */

/* --- Prompt caching ----------------------------------------------------------------------- */
#ifndef SP_LLM_DEFAULT_CACHE_MIN_TOKENS
#define SP_LLM_DEFAULT_CACHE_MIN_TOKENS 1024 /* the smallest prefix providers cache: OpenAI and most
                                              * Claude models (Claude Haiku 4.5: 4096) */
#endif
#define SP_LLM_CACHE_MIN_TOKENS_MAX 32768   /* bound of --llm-cache-min-tokens (a ~150 KB prefix) */
#define SP_LLM_TOKEN_BYTES 4                /* token estimate: ~4 bytes a token (English, JSON);
                                             * hex and punctuation tokenize denser, so bytes / 4
                                             * undercounts them, the safe side for a minimum */
#define SP_LLM_CACHE_MARGIN_PCT 15          /* prefixes aim at the minimum + 15 %, against tokenizers
                                             * that pack plain English tighter than 4 bytes */

/* --- Simulated model ---------------------------------------------------------------------- */
#ifndef SP_LLM_DEFAULT_SIM_SEED
#define SP_LLM_DEFAULT_SIM_SEED 1
#endif
#ifndef SP_LLM_DEFAULT_SIM_LATENCY_MS
#define SP_LLM_DEFAULT_SIM_LATENCY_MS 0     /* in-process sim answers on the next loop turn */
#endif
#ifndef SP_LLM_DEFAULT_SIM_REFUSE_RATE
#define SP_LLM_DEFAULT_SIM_REFUSE_RATE 0.03 /* --llm-sim-choices random, legal: chance of refusing a
                                             * connection (RST); low, so most handshakes complete */
#endif
#ifndef SP_LLM_DEFAULT_SIM_IGNORE_RATE
#define SP_LLM_DEFAULT_SIM_IGNORE_RATE 0.03 /* ... and of answering nothing where that is legal */
#endif
#ifndef SP_LLM_SIM_CACHE_SETS
#define SP_LLM_SIM_CACHE_SETS 256           /* the sim's prompt cache: sets of 4 entries (a prefix
                                             * and, OpenAI-style, each 128-token step of it) */
#endif
#ifndef SP_LLM_SIM_CACHE_TTL_MS
#define SP_LLM_SIM_CACHE_TTL_MS 300000      /* a cached prefix lives 5 min from its last use, like
                                             * Anthropic's ephemeral cache */
#endif
#ifndef SP_LLM_SIM_CACHE_STEP_TOKENS
#define SP_LLM_SIM_CACHE_STEP_TOKENS 128    /* OpenAI: hits grow in 128-token steps past the minimum */
#endif

/* --- llm-sim (tools/llm-sim) -------------------------------------------------------------- */
#ifndef SP_LLM_SIM_RETRY_AFTER_MS
#define SP_LLM_SIM_RETRY_AFTER_MS 1000      /* what its 429 fault tells clients to wait */
#endif
#ifndef SP_LLM_SIM_SLOW_MS
#define SP_LLM_SIM_SLOW_MS 3000             /* extra delay of its slow fault */
#endif
#ifndef SP_LLM_SIM_OVERSIZE_BYTES
#define SP_LLM_SIM_OVERSIZE_BYTES (8u << 20) /* body of its oversize fault: 8x the client bound */
#endif
#ifndef SP_LLM_SIM_MAX_HEAD
#define SP_LLM_SIM_MAX_HEAD (16 * 1024)     /* request head it buffers before answering 413 */
#endif
#ifndef SP_LLM_SIM_MAX_BODY
#define SP_LLM_SIM_MAX_BODY (4u << 20)      /* request body it accepts */
#endif

/* --- Context cache ------------------------------------------------------------------------ */
#ifndef SP_LLM_CACHE_DEFAULT_BUDGET
#define SP_LLM_CACHE_DEFAULT_BUDGET (64u << 20) /* bytes for all flows together (64 MiB) */
#endif
#ifndef SP_LLM_CACHE_DEFAULT_TTL_MS
#define SP_LLM_CACHE_DEFAULT_TTL_MS 120000  /* idle flows expire after 2 min (TCP SYN-RECV-ish) */
#endif
#ifndef SP_LLM_CACHE_DEFAULT_K
#define SP_LLM_CACHE_DEFAULT_K 4            /* exchanges remembered per flow */
#endif
#ifndef SP_LLM_CACHE_MAX_K
#define SP_LLM_CACHE_MAX_K 16               /* hard cap on K */
#endif
#ifndef SP_LLM_CACHE_MAX_SUMMARY
#define SP_LLM_CACHE_MAX_SUMMARY 1024       /* bytes of one flow's state summary */
#endif

#endif
