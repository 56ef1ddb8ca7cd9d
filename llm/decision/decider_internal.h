/* Private to decider.c and decider_stats.c. */
#ifndef SP_LLM_DECIDER_INTERNAL_H
#define SP_LLM_DECIDER_INTERNAL_H

#include <stdbool.h>

#include "slowpath/llm/decider.h"
#include "slowpath/llm/prompt.h"

/* One request from decide until its ask's callback (or, refused at once, until decide returns):
 * the pending ask is the record's only owner. The stack's own endings (deadline, connection
 * gone) are reported from the record meanwhile but do not free it. */
struct ask {
    struct ask *prev, *next;
    struct sp_llm_decider *d;
    uint64_t id;
    enum sp_decision_kind kind;
    enum sp_decision_mode mode;
    enum sp_authority authority;
    struct sp_llm_flow_key key;
    uint64_t started;          /* uv_now at decide */
    bool answered;             /* the model gave text (valid or not): a latency sample */
    int err;                   /* the engine's code behind verdict[], or 0 */
    double latency_ms;
    struct sp_llm_usage usage;
    char flow[64];
    char question[96];
    char answer[128];          /* rebuilt from the parsed proposal, never the model's text */
    char verdict[40];          /* set when the stack's verdict does not apply (an error, a timeout) */
    char bad_field[24];
};

struct sp_llm_decider {
    struct sp_llm_decider_opts o;
    char provider[16], model[128];
    sp_llm_cache cache;
    struct ask *asks;
    uint64_t rng;              /* latency reservoir */
    struct sp_llm_decider_stats stats[SP_DECISION_KINDS];
    /* Scratch for one decision at a time (the loop is single-threaded and the client never calls
     * back from inside sp_llm_ask). */
    char state[SP_LLM_PROMPT_MAX];
    char user[SP_LLM_PROMPT_MAX];
    struct sp_llm_decision parsed;
};

/* decider_stats.c: counts what only the decider knows of one finished request (the stack counted
 * the decision itself). */
void sp_llm_decider_count(struct sp_llm_decider *d, const struct ask *a, const struct sp_decision_outcome *out,
                          const char *verdict);

#endif
