/* The simulated model: answers the decisions of decision.h correctly (it really solves ICMP
 * echo, ARP and the TCP handshake, computing checksums in raw mode), deterministically under a
 * seed, then injects errors by kind at the configured rates. Used in-process by the client
 * (provider "sim") and over HTTP by tools/llm-sim.
 *
 * In legal authority (the request says which) it can also choose, as a model may: the answer
 * starts as the native one, then `choices` departs from it where the RFCs leave room: an echo
 * reply's TTL, IP identification and DF bit (DF only when the reply fits the MTU); a SYN-ACK's
 * ISS, window (1..max_window), MSS (536..max_mss) and window scale (0-14, only when the SYN
 * offered one); the window of the ACK ending our own open; refusing a connection (RST) or
 * answering nothing. In exact authority it always gives the native answer. */
#ifndef SLOWPATH_LLM_SIM_H
#define SLOWPATH_LLM_SIM_H

#include "slowpath/layer_llm.h"

#include <stddef.h>
#include <stdint.h>

#include "slowpath/decide.h"
#include "slowpath/llm/opts.h"
#include "slowpath/llm/provider.h"
#include "slowpath/llm/sim_cache.h"

enum sp_llm_sim_latency {
    SP_LLM_SIM_LAT_FIXED = 0, /* latency_ms exactly */
    SP_LLM_SIM_LAT_UNIFORM,   /* uniform in [latency_ms, latency_ms + latency_spread_ms] */
    SP_LLM_SIM_LAT_EXP        /* exponential with mean latency_ms (long tail), capped at 20x */
};

/* Error kinds, each a chance per answer. */
enum sp_llm_sim_fault {
    SP_LLM_SIM_OK = 0,
    SP_LLM_SIM_WRONG_FIELD,  /* icmp ident+1, arp target MAC changed, tcp ack+1 */
    SP_LLM_SIM_BAD_CHECKSUM, /* raw icmp/tcp only: transport checksum off by one bit */
    SP_LLM_SIM_MALFORMED,    /* broken JSON (a missing colon) */
    SP_LLM_SIM_PROSE,        /* an explanation in English with the JSON embedded in it */
    SP_LLM_SIM_TRUNCATED,    /* output cut at 60%, stop reason max_tokens */
    SP_LLM_SIM_OBEY,         /* follows an instruction found in the payload ("IGNORE PREVIOUS",
                              * "reply to A.B.C.D"): redirects the reply or alters the answer */
    SP_LLM_SIM_FAULT_COUNT
};

/* What the sim chooses where a legal request leaves a choice. */
enum sp_llm_sim_choices {
    SP_LLM_SIM_CHOOSE_NATIVE = 0, /* the native answer (legal accepts it too) */
    SP_LLM_SIM_CHOOSE_RANDOM,     /* random legal values everywhere; refuses and ignores at
                                   * refuse_rate and ignore_rate */
    SP_LLM_SIM_CHOOSE_REFUSE,     /* refuses every connection it may (RST), else native */
    SP_LLM_SIM_CHOOSE_IGNORE,     /* answers nothing wherever it may, else native */
    SP_LLM_SIM_CHOICES_COUNT
};

struct sp_llm_sim_opts {
    uint64_t seed;
    enum sp_llm_sim_latency latency_dist;
    uint32_t latency_ms;
    uint32_t latency_spread_ms;
    /* spread evenly over the kinds that apply to a given answer (bad_checksum only to raw
     * icmp/tcp replies, obey only when the payload carries an instruction) */
    double error_rate;
    double p[SP_LLM_SIM_FAULT_COUNT]; /* explicit per-kind chance, added to the spread share */
    /* the provider prompt cache it plays (sim_cache.h): the smallest cacheable prefix
     * (SP_LLM_DEFAULT_CACHE_MIN_TOKENS) and an entry's lifetime after its last use (0: the
     * default, SP_LLM_SIM_CACHE_TTL_MS) */
    uint32_t cache_min_tokens;
    uint32_t cache_ttl_ms;
    /* legal requests only (SP_LLM_DEFAULT_SIM_REFUSE_RATE, SP_LLM_DEFAULT_SIM_IGNORE_RATE) */
    enum sp_llm_sim_choices choices;
    double refuse_rate, ignore_rate; /* random: per decision where refusing / ignoring is legal */
};

struct sp_llm_sim {
    void *data; /* user */
    struct sp_llm_sim_opts opts;
    uint64_t answers;               /* answers given: the per-answer RNG stream */
    struct sp_llm_sim_cache cache;  /* what a provider would have cached */
};

struct sp_llm_sim_reply {
    char *text;            /* malloc'd */
    size_t len;
    int is_json;           /* text is exactly one JSON object (a tool_use input can carry it) */
    int truncated;         /* stop reason max_tokens / length */
    enum sp_llm_sim_fault fault;
    uint32_t latency_ms;   /* the model "thinking" time drawn for this answer */
    /* What the sim chose to depart from the native answer (legal), before any fault, in the
     * stack's terms: bit (1u << SP_DEVIATION_x) per field it set differently (or, for an
     * echo reply's IP identification and DF, set at all: it cannot know the stack's), and the
     * values. 0 in exact. */
    uint32_t deviations;
    struct sp_decision_chosen chosen;
    struct sp_llm_usage usage; /* tokens by sp_llm_tokens_estimate; cache reads and writes as
                                * the request's provider would report them (sim_cache.h) */
};

/* One request as a provider received it: its prompt rendered in the provider's order (schemas,
 * system, messages; the question included), which the cache accounts, and the question the sim
 * answers. */
struct sp_llm_sim_request {
    const char *model;                     /* caches are per model; NULL is one model too */
    enum sp_llm_cache_style style;         /* explicit (Anthropic) or auto (OpenAI) caching */
    const struct sp_llm_cache_part *parts;
    unsigned nparts;
    const char *user;                      /* the decision request (the last user message) */
    uint64_t now_ms;                       /* monotonic clock, for the cache's lifetimes */
};

void sp_llm_sim_opts_default(struct sp_llm_sim_opts *o);
void sp_llm_sim_init(struct sp_llm_sim *sim, const struct sp_llm_sim_opts *o);

/* Answers one request. Returns 0 or SP_LLM_ENOMEM/EINVAL. A user message that is not a decision
 * request still gets an answer (prose), as a real model would give. */
int sp_llm_sim_ask(struct sp_llm_sim *sim, const struct sp_llm_sim_request *rq, struct sp_llm_sim_reply *out);

/* The same for a system prompt (may be NULL) marked for caching, then user, at the monotonic
 * clock's time, the way the Anthropic API caches. */
int sp_llm_sim_answer(struct sp_llm_sim *sim, const char *system, const char *user,
                      struct sp_llm_sim_reply *out);
void sp_llm_sim_reply_free(struct sp_llm_sim_reply *r);

const char *sp_llm_sim_fault_name(enum sp_llm_sim_fault f); /* "wrong-field" ... */
int sp_llm_sim_fault_parse(const char *s, enum sp_llm_sim_fault *out);

const char *sp_llm_sim_choices_name(enum sp_llm_sim_choices c); /* "native", "random", ... */
int sp_llm_sim_choices_parse(const char *s, enum sp_llm_sim_choices *out);

/* Parses "fixed"/"uniform"/"exp". */
int sp_llm_sim_latency_parse(const char *s, enum sp_llm_sim_latency *out);

#endif
