/* A provider's prompt cache, as the simulated model plays it (in-process and in llm-sim), so the
 * usage a client sees says what a real provider would have cached.
 *
 * A request is its prompt rendered in the provider's order, static parts first: the tool or
 * output schemas, the system text, then the messages. Tokens are counted by sp_llm_tokens_estimate
 * over those bytes, the estimate slowpath sizes its prefixes with. Two behaviours:
 *
 *   explicit (Anthropic) the prefix up to a cache_control breakpoint is cached if it is at least
 *            min_tokens long: the first request writes it (cache_creation_input_tokens), later
 *            ones read it (cache_read_input_tokens) and renew its lifetime; the tokens after the
 *            last breakpoint are input_tokens. Without a breakpoint nothing is cached.
 *   auto     (OpenAI) no markers: a prompt of at least min_tokens is cached, and a later prompt
 *            reads the longest prefix it shares with a cached one, counted in steps of
 *            SP_LLM_SIM_CACHE_STEP_TOKENS past min_tokens (prompt_tokens_details.cached_tokens,
 *            included in prompt_tokens). Writes are not reported.
 *
 * Entries are keyed by a hash of the model, the behaviour and the prefix bytes (a cache is per
 * model), live ttl_ms from their last use, and a full set gives up its least recently used entry. */
#ifndef SLOWPATH_LLM_SIM_CACHE_H
#define SLOWPATH_LLM_SIM_CACHE_H

#include "slowpath/layer_llm.h"

#include <stddef.h>
#include <stdint.h>

#include "slowpath/llm/opts.h"
#include "slowpath/llm/provider.h"

enum sp_llm_cache_style { SP_LLM_CACHE_EXPLICIT = 0, SP_LLM_CACHE_AUTO };

/* One piece of a rendered prompt. */
struct sp_llm_cache_part {
    const char *text;
    size_t len;
    int breakpoint; /* explicit: a cache_control marker ends this part */
};

#define SP_LLM_SIM_CACHE_WAYS 4
#define SP_LLM_SIM_CACHE_BREAKPOINTS 4 /* Anthropic honours up to 4 per request */

struct sp_llm_sim_cache_entry {
    uint64_t key;        /* 0: empty */
    uint64_t expires_ms;
    uint64_t used;       /* the cache's use counter when last hit or written (LRU) */
};

struct sp_llm_sim_cache {
    uint32_t min_tokens;
    uint64_t ttl_ms;
    uint64_t uses;
    struct sp_llm_sim_cache_entry e[SP_LLM_SIM_CACHE_SETS][SP_LLM_SIM_CACHE_WAYS];
};

void sp_llm_sim_cache_init(struct sp_llm_sim_cache *c, uint32_t min_tokens, uint64_t ttl_ms);

/* Accounts one request at now_ms (a monotonic clock): sets u->input_tokens (the whole prompt),
 * u->cache_write_tokens and u->cache_read_tokens; leaves u->output_tokens alone. model may be
 * NULL. */
void sp_llm_sim_cache_account(struct sp_llm_sim_cache *c, enum sp_llm_cache_style style, const char *model,
                              const struct sp_llm_cache_part *parts, unsigned nparts, uint64_t now_ms,
                              struct sp_llm_usage *u);

#endif
