/* The one token estimate shared by the prompt prefix (does it reach a provider's minimum?) and
 * the simulated model (what its usage reports): SP_LLM_TOKEN_BYTES bytes a token, rounded up. No
 * tokenizer is linked in: the estimate only has to be on the safe side, and the prefix adds a
 * margin (SP_LLM_CACHE_MARGIN_PCT) on top. */
#ifndef SLOWPATH_LLM_TOKENS_H
#define SLOWPATH_LLM_TOKENS_H

#include "slowpath/layer_llm.h"

#include <stddef.h>
#include <stdint.h>

#include "slowpath/llm/opts.h"

static inline uint32_t sp_llm_tokens_estimate(size_t bytes)
{
    size_t t = bytes / SP_LLM_TOKEN_BYTES + (bytes % SP_LLM_TOKEN_BYTES != 0);
    return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

/* Bytes of the first n tokens: where a prefix of n tokens ends (the inverse, for cache steps). */
static inline size_t sp_llm_tokens_bytes(uint32_t n)
{
    return (size_t)n * SP_LLM_TOKEN_BYTES;
}

#endif
