/* The static prefix of every request of a kind and format: what a provider can cache.
 *
 * Providers cache a prompt prefix only from a minimum size on (1,024 tokens for OpenAI and most
 * Claude models, 4,096 for Claude Haiku 4.5; shorter prefixes are silently not cached). The
 * decision contract alone (decision.h's system prompt and schema) is ~200 tokens, so the prefix
 * is the system prompt plus what a model needs to answer well: the request's layout, the protocol
 * rules of the decision (RFC 792 echo, RFC 826 ARP, the RFC 9293 handshake with its RST rules,
 * RFC 7323 window scale, MSS; the byte layouts and the Internet checksum for raw prompts), the
 * answer's fields, how answers are checked (every parse error and validator verdict), and worked
 * examples: fixed synthetic requests in 192.0.2.0/24 answered by the sim's solver. Examples are
 * added until the estimate of schema + system reaches sp_llm_prefix_target(min_tokens).
 *
 * Token estimate (tokens.h): SP_LLM_TOKEN_BYTES (4) bytes a token, rounded up. English and JSON
 * run at about 4 bytes a token; hex and punctuation tokenize denser, so bytes / 4 undercounts
 * them, which errs on the safe side; the target adds SP_LLM_CACHE_MARGIN_PCT (15 %) for
 * tokenizers that pack plain English tighter.
 *
 * The authority (decide.h) changes the rules a model is given and the examples it is shown (legal
 * ones show choices: another TTL, ISS, window, a refusal, silence), so each authority has its own
 * prefix. Each prefix is built once (per kind, format, authority and minimum) and never changes
 * or moves: every request of a kind, format and authority carries the same bytes, the condition
 * for a cache hit. */
#ifndef SLOWPATH_LLM_PREFIX_H
#define SLOWPATH_LLM_PREFIX_H

#include "slowpath/layer_llm.h"

#include <stddef.h>
#include <stdint.h>

#include "slowpath/decide.h"
#include "slowpath/llm/decision.h"

/* The authorities a prefix is built for: SP_AUTHORITY_EXACT and SP_AUTHORITY_LEGAL. */
#define SP_LLM_AUTHORITIES 2

struct sp_llm_prefix {
    const char *system;      /* the system prompt, NUL-terminated; lives until exit */
    size_t system_len;
    const char *schema;      /* decision.h's schema and its name (the tool / json_schema) */
    const char *schema_name;
    uint32_t tokens;         /* estimate of schema + system: the cacheable prefix */
    uint32_t min_tokens;     /* the minimum it was built for */
    enum sp_authority authority;
    unsigned examples;       /* worked examples in it */
};

/* What a prefix for min_tokens aims at: min_tokens plus the margin, rounded up. */
uint32_t sp_llm_prefix_target(uint32_t min_tokens);

/* Kinds and authorities are the stack's (decide.h). The prefix of kind k, format f and authority
 * a for a minimum (at most SP_LLM_CACHE_MIN_TOKENS_MAX), built on first use; NULL for bad
 * arguments or when memory runs out. Thread-safe. */
const struct sp_llm_prefix *sp_llm_prefix_get(enum sp_decision_kind k, enum sp_llm_format f, enum sp_authority a,
                                              uint32_t min_tokens);

/* Builds every kind's, format's and authority's prefix for min_tokens and makes it the minimum of
 * sp_llm_prefix_for() (the client does this at start-up; the default is
 * SP_LLM_DEFAULT_CACHE_MIN_TOKENS). Returns 0, SP_LLM_EINVAL or SP_LLM_ENOMEM. A process has one
 * minimum: the provider's. */
int sp_llm_prefix_configure(uint32_t min_tokens);
uint32_t sp_llm_prefix_min_tokens(void);

/* The prefix at the configured minimum (what sp_llm_prompt_for sends). */
const struct sp_llm_prefix *sp_llm_prefix_for(enum sp_decision_kind k, enum sp_llm_format f, enum sp_authority a);

#endif
