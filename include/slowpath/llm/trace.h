/* The decision trace: one JSON object per line per decision outcome, flushed per line so a
 * crash or a `tail -f` sees every finished decision. Keys, in this order:
 *
 *   time           wall-clock UTC, ISO-8601 with milliseconds ("2025-01-31T12:00:00.123Z")
 *   id             the stack's request id
 *   kind           "icmp" | "arp" | "tcp"
 *   flow           "icmp 192.0.2.1>192.0.2.2 id=48879", "arp A>B", "tcp A:p>B:q"
 *   mode           "llm" | "shadow"
 *   format         "structured" | "raw"
 *   authority      "exact" | "legal" (what the validator accepted: decide.h's enum sp_authority)
 *   provider       "sim" | "openai" | "anthropic"
 *   model          the model name ("sim" for the in-process sim)
 *   latency_ms     ask to answer (to the stack's timeout when it came first), 3 decimals
 *   tokens_in, tokens_out, tokens_cached   as the provider reported (0 when no answer)
 *   verdict        "valid" | "invalid:<reason>" | "timeout" | "error:<reason>"
 *   action         "llm" | "fallback" | "drop" | "shadow"
 *   frame          the pcap frame number of the reply when one was emitted and --pcap is on,
 *                  else null
 *   shadow_match   (shadow mode only) true when the proposal equals the native answer
 *   bad_field      (only for a schema error naming one) the field the parser refused
 *   deviation      (legal authority, valid decisions only) the fields in which the answer departed
 *                  from the native one, with the values the stack adopted: {} when it did not
 *                  depart; absent in exact authority and for anything not valid. Keys in
 *                  SP_DEVIATION_MAP order: "action" (what it did instead: "rst"), "silence" (true:
 *                  nothing sent where native answers), "ttl", "ip_ident" (numbers), "df"
 *                  (true/false), "iss", "window", "mss" (null: no MSS option), "wscale" (null: no
 *                  window scale)
 *
 * No key, header or prompt text is ever written. */
#ifndef SLOWPATH_LLM_TRACE_H
#define SLOWPATH_LLM_TRACE_H

#include "slowpath/layer_llm.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "slowpath/decide.h"

struct sp_llm_trace_rec {
    struct timespec time;   /* CLOCK_REALTIME */
    uint64_t id;
    const char *kind, *flow, *mode, *format, *authority, *provider, *model;
    double latency_ms;
    uint32_t tokens_in, tokens_out, tokens_cached;
    const char *verdict;
    const char *action;
    int64_t frame;          /* < 0: null */
    int shadow_match;       /* < 0: absent; else false/true */
    const char *bad_field;  /* NULL or "": absent */
    bool has_deviation;     /* write "deviation" (legal, valid) */
    uint32_t deviations;    /* bit (1u << SP_DEVIATION_x) per field that departed */
    struct sp_decision_chosen chosen;
};

/* Writes one line and flushes. Returns 0 or -1 (the stream's error). */
int sp_llm_trace_write(FILE *f, const struct sp_llm_trace_rec *r);

/* Formats ts as ISO-8601 UTC with milliseconds into out (at least 25 bytes). */
void sp_llm_trace_time(const struct timespec *ts, char *out, size_t cap);

#endif
