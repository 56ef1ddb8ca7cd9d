/* The LLM decider: the glue between the stack's decision points (slowpath/decide.h) and the LLM
 * engine. For each request it looks the flow up in the context cache, builds the user message
 * (slowpath/llm/prompt.h), asks the model through the client with the static system prompt and
 * schema, parses the answer strictly and hands the proposal to the stack's validator via
 * sp_decision_complete. It never blocks: the answer comes later on the loop.
 *
 * What it reports (trace line and per-kind statistics) is the outcome sp_decision_complete
 * returns once the stack acted (an ask the client refuses at once is completed the same way, from
 * inside decide), or, for the endings the stack starts itself (its deadline, a connection that
 * went away), the one its outcome callback is told:
 *   valid / invalid:<validator reason>   a parsed proposal, graded by the stack;
 *   invalid:<parse reason>               the model answered but not with a valid answer
 *                                        (not_json, unknown_field, missing_field, field_type,
 *                                        field_range, bad_hex, bad_enum, truncated, refusal):
 *                                        completed as an error so the policy applies;
 *   timeout                              the client's deadline or the stack's, whichever first;
 *   error:<reason>                       anything else (busy, breaker, ratelimit, connect, ...).
 *
 * Lifetime: the client must be closed (sp_llm_client_close, which fails every ask in flight and
 * so completes each request) while the interface and the decider are alive; free the decider
 * after that. */
#ifndef SLOWPATH_LLM_DECIDER_H
#define SLOWPATH_LLM_DECIDER_H

#include "slowpath/layer_llm.h"

#include <stdint.h>
#include <stdio.h>
#include <uv.h>

#include "slowpath/decide.h"
#include "slowpath/llm/cache.h"
#include "slowpath/llm/client.h"
#include "slowpath/llm/decision.h"
#include "slowpath/llm/error.h"

typedef struct sp_llm_decider sp_llm_decider;

/* How the capture beside the device numbers its frames, for the trace's "frame": the stack hands
 * out both numberings (struct sp_decision_outcome); the application knows which one its capture
 * uses. */
enum sp_llm_frame_numbers {
    SP_LLM_FRAMES_NONE, /* no capture: "frame" is null */
    SP_LLM_FRAMES_SENT, /* it records the frames sent only (a replay) */
    SP_LLM_FRAMES_ALL,  /* it records the frames received and sent, in order (a TAP) */
};

struct sp_llm_decider_opts {
    uv_loop_t *loop;               /* uv_now() is the time given to the stack and the cache */
    struct sp_iface *iface;
    sp_llm_client *client;
    enum sp_llm_format format;
    const char *provider;          /* for the trace: "sim", "openai", "anthropic" */
    const char *model;             /* for the trace; NULL/"" -> "sim" */
    FILE *trace;                   /* NULL: no trace; not closed by the decider */
    enum sp_llm_frame_numbers frames; /* the trace's frame numbers */
    struct sp_llm_cache_opts cache;
};

/* Latency samples kept per kind (a reservoir beyond that: p50/p90 stay unbiased estimates). */
#define SP_LLM_DECIDER_SAMPLES 4096
/* Latency histogram buckets (upper bounds, seconds) of the answers sampled: from the in-process
 * sim's fraction of a millisecond to a slow model's tens of seconds. */
#define SP_LLM_LATENCY_BUCKETS 16
extern const double sp_llm_latency_bounds_s[SP_LLM_LATENCY_BUCKETS];
/* The SP_LLM_E* codes, -200 .. -(200 + SP_LLM_DECIDER_NERR - 1), indexed by -(code) - 200. */
#define SP_LLM_DECIDER_NERR 31

/* What only the decider knows, per kind. The decisions themselves (asked, verdicts, timeouts,
 * errors, actions, shadow grades) are counted once, by the stack (sp_iface_decision_stats);
 * sp_llm_decider_counts shows them as the decider reports them. */
struct sp_llm_decider_stats {
    uint64_t invalid_model[SP_LLM_DECIDER_NERR];   /* invalid:<parse reason> by SP_LLM_E* code: the
                                                    * model answered, but not with a valid answer
                                                    * (the stack saw an error) */
    uint64_t errors_by[SP_LLM_DECIDER_NERR];       /* error:<reason> from the engine, by code */
    uint64_t late;                                 /* answers after the stack's timeout */
    uint64_t prompts;                              /* user messages rendered: only for requests the
                                                    * client would admit (sp_llm_client_admit) */
    uint64_t tokens_in, tokens_out, tokens_cached;
    uint64_t latency_seen;                         /* answers sampled */
    double latency_ms[SP_LLM_DECIDER_SAMPLES];
    /* Every sample, not just the reservoir: answers per bucket (not cumulative; the last one is
     * above every bound) and their sum, for a histogram whose count is latency_seen. */
    uint64_t latency_buckets[SP_LLM_LATENCY_BUCKETS + 1];
    double latency_sum_ms;
};

/* A kind's decisions as the trace and the printed statistics name them: the stack's counters,
 * with the answers that were not valid answers moved from errors to invalid, and requests
 * abandoned with their connection shown as errors (error:closed). asked = valid + invalid +
 * timeouts + errors + those still pending; llm + fallback + dropped + shadow = those ended. */
struct sp_llm_decider_counts {
    uint64_t asked, valid, invalid, timeouts, errors;
    uint64_t llm, fallback, dropped;
    uint64_t shadow, shadow_match, shadow_mismatch;
};

/* Returns NULL with one line in err (bad options or out of memory). */
sp_llm_decider *sp_llm_decider_new(const struct sp_llm_decider_opts *opts, char *err, size_t errlen);

/* The struct sp_decider to hand to sp_iface_set_decider. */
struct sp_decider sp_llm_decider_get(sp_llm_decider *d);

/* sp_iface_set_decider(iface, kind, mode, this decider). */
void sp_llm_decider_install(sp_llm_decider *d, enum sp_decision_kind kind, enum sp_decision_mode mode);

const struct sp_llm_decider_stats *sp_llm_decider_stats(const sp_llm_decider *d, enum sp_decision_kind kind);

/* Fills *out for a kind from the stack's counters and the decider's own (zeros for a bad kind). */
void sp_llm_decider_counts(const sp_llm_decider *d, enum sp_decision_kind kind, struct sp_llm_decider_counts *out);

/* The reason an engine code gives in a verdict ("SP_LLM_ENOT_JSON" -> "not_json") into out. */
void sp_llm_decider_reason(int err, char *out, size_t cap);

/* Latency percentile (0..100) over the samples of a kind; 0 without samples. */
double sp_llm_decider_latency_pct(const sp_llm_decider *d, enum sp_decision_kind kind, double pct);

/* valid / (valid + invalid); -1 when nothing was answered. */
double sp_llm_decider_accuracy(const sp_llm_decider *d, enum sp_decision_kind kind);

sp_llm_cache *sp_llm_decider_cache(sp_llm_decider *d);

/* Prints per kind (those asked at least once): asked, valid, invalid by reason, timeouts,
 * errors, fallback, dropped, accuracy, latency p50/p90, tokens; then the context cache. */
void sp_llm_decider_print_stats(const sp_llm_decider *d, FILE *out);

/* Frees the decider (see Lifetime above). NULL is fine. */
void sp_llm_decider_free(sp_llm_decider *d);

#endif
