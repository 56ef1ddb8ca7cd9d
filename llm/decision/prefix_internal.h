/* Private: how the static prompt prefix is written (prefix.c puts it together, prefix_text.c has
 * the prose, prefix_examples.c the worked examples' situations, prefix_render.c how one is
 * written down). */
#ifndef SP_LLM_PREFIX_INTERNAL_H
#define SP_LLM_PREFIX_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "slowpath/decide.h"
#include "slowpath/llm/decision.h"
#include "slowpath/llm/prefix.h"
#include "slowpath/llm/sim.h"

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
void sp_llm_prefix_write_guide(struct sp_llm_text *t, enum sp_decision_kind k, enum sp_llm_format f,
                               enum sp_authority a);

/* A worked example's synthetic request. req points into the struct itself (packet, data), so it
 * is used where it was filled, never copied. */
struct sp_llm_example {
    struct sp_decision_request req;
    uint8_t packet[SP_DECISION_MAX_PACKET];
    char title[96];
    char why[512];
    /* legal: how the reference answer departs from the native one (the sim's choices, seeded by
     * the example) */
    enum sp_llm_sim_choices choices;
    uint64_t seed;
};

/* How many different situations kind k has examples of in authority a. Example i is situation
 * i % count in variant i / count (other addresses, numbers and payloads). */
unsigned sp_llm_example_count(enum sp_decision_kind k, enum sp_authority a);

/* Fills ex with example i of kind k in authority a: the same request for both formats. */
void sp_llm_example_fill(enum sp_decision_kind k, enum sp_authority a, unsigned i, struct sp_llm_example *ex);

/* The reference answer to an example's user message: the sim's solver without faults, with the
 * example's choices (legal). Returns 0 with the reply in *r (free it), or SP_LLM_ENOMEM. */
int sp_llm_example_answer(const struct sp_llm_example *ex, const char *user, struct sp_llm_sim_reply *r);

/* Appends example i of kind k in format f and authority a, numbered n: the request as the user
 * message would carry it, the reference answer, and why. Returns 0 or SP_LLM_ENOMEM /
 * SP_LLM_EINVAL. */
int sp_llm_prefix_write_example(struct sp_llm_text *t, enum sp_decision_kind k, enum sp_llm_format f,
                                enum sp_authority a, unsigned i, unsigned n);

#endif
