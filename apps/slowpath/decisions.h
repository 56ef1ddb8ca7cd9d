/* The daemon's side of the decisions handed to a model: the LLM client, the decider installed on
 * the interface for each delegated kind, and the trace file. */
#ifndef SP_APP_DECISIONS_H
#define SP_APP_DECISIONS_H

#include <stdbool.h>
#include <stdio.h>
#include <uv.h>

#include "options.h"
#include "slowpath/iface.h"
#include "slowpath/llm/client.h"
#include "slowpath/llm/decider.h"

struct app_decisions {
    struct sp_iface *iface;
    sp_llm_client client;
    bool client_up, client_closing;
    sp_llm_decider *decider;
    FILE *trace;
    uv_timer_t close_timer;
};

/* Nothing to do unless some kind is delegated. Returns 0 or -1 with one line in err. */
int app_decisions_start(struct app_decisions *d, uv_loop_t *loop, struct sp_iface *iface,
                        const struct sp_options *o, char *err, size_t errlen);
/* From the daemon's stop path: closes the client on the next loop turn (it completes every
 * decision still in flight, which may send fallback answers), so the loop can end. */
void app_decisions_stop(struct app_decisions *d, uv_loop_t *loop);
/* Decisions the model still owes (a replay waits for them before exiting). */
unsigned app_decisions_inflight(const struct app_decisions *d);
/* Per-kind decision counters, accuracy, latency, tokens, context cache, client counters. */
void app_decisions_print(const struct app_decisions *d, FILE *out);
/* After the loop ended, before the interface is freed (a TCP connection torn down then may still
 * tell the decider an outcome). Closes the client if the loop never ran, and the trace; the
 * caller runs the loop once more for the close callbacks. */
void app_decisions_free(struct app_decisions *d);

#endif
