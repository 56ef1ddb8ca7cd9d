/* The daemon's counters in the Prometheus text exposition format (version 0.0.4): what
 * GET /metrics serves. Read at the moment of the call, from the stack (its counters, neighbour
 * cache, TCP connections, decisions) and, when a model is configured, from the LLM decider and
 * client (latency histogram, tokens, context cache, asks). */
#ifndef SP_APP_METRICS_TEXT_H
#define SP_APP_METRICS_TEXT_H

#include "buf.h"
#include "slowpath/iface.h"
#include "slowpath/llm/client.h"
#include "slowpath/llm/decider.h"

#define APP_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

struct app_metrics_src {
    const struct sp_iface *iface;
    sp_llm_decider *decider;       /* NULL: nothing delegated (the LLM series read 0) */
    const sp_llm_client *client;   /* NULL likewise */
    const char *version;           /* slowpath_build_info's label */
};

/* Appends every metric family, HELP and TYPE first, to b. */
void app_metrics_render(const struct app_metrics_src *src, struct app_buf *b);

#endif
