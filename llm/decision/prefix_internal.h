/* Private: how the static prompt prefix is written (prefix.c puts it together, prefix_text.c has
 * the prose, prefix_examples.c the worked examples). */
#ifndef SP_LLM_PREFIX_INTERNAL_H
#define SP_LLM_PREFIX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "slowpath/decide.h"
#include "slowpath/llm/decision.h"

/* A growing string; after a failed allocation every append is ignored and oom stays set. */
struct sp_llm_text {
    char *buf;
    size_t len, cap;
    int oom;
};

void sp_llm_text_add(struct sp_llm_text *t, const char *s);
void sp_llm_text_addf(struct sp_llm_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Everything before the examples: the contract's system prompt, ground rules, the request's
 * layout, the protocol rules, the answer's fields, how answers are checked. */
void sp_llm_prefix_write_guide(struct sp_llm_text *t, enum sp_decision_kind k, enum sp_llm_format f);

/* A worked example's synthetic request. req points into the struct itself (packet, data), so it
 * is used where it was filled, never copied. */
struct sp_llm_example {
    struct sp_decision_request req;
    uint8_t packet[SP_DECISION_MAX_PACKET];
    char title[96];
    char why[512];
};

/* How many different situations kind k has examples of. Example i is situation
 * i % count in variant i / count (other addresses, numbers and payloads). */
unsigned sp_llm_example_count(enum sp_decision_kind k);

/* Fills ex with example i of kind k: the same request for both formats. */
void sp_llm_example_fill(enum sp_decision_kind k, unsigned i, struct sp_llm_example *ex);

/* Appends example i of kind k in format f, numbered n: the request as the user message would
 * carry it, the reference answer (the sim's solver, without faults), and why. Returns 0 or
 * SP_LLM_ENOMEM / SP_LLM_EINVAL. */
int sp_llm_prefix_write_example(struct sp_llm_text *t, enum sp_decision_kind k, enum sp_llm_format f, unsigned i,
                                unsigned n);

#endif
