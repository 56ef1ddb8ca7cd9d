/* Worked examples of the static prompt prefixes as real user messages, for the prompt-cache tests
 * (test_llm_prompt_prefix.c, test_llm_prompt_cache.c). Definitions in prompt_harness.c. */
#ifndef SP_PROMPT_HARNESS_H
#define SP_PROMPT_HARNESS_H

#include <stddef.h>

#include "slowpath/decide.h"
#include "slowpath/llm/decision.h"

#define KIND(k) ((enum sp_decision_kind)(k))
#define FMT(f) ((enum sp_llm_format)(f))
#define AUTH(a) ((enum sp_authority)(a))

/* The user message of worked example i of kind k: a real decision request in the real layout. */
void sp_test_example_user(enum sp_decision_kind k, enum sp_llm_format f, unsigned i, char *user, size_t cap);

#endif
