/* Private: a server-sent events splitter (the text/event-stream framing both providers use
 * when "stream": true). */
#ifndef SP_LLM_SSE_H
#define SP_LLM_SSE_H

#include <stddef.h>

struct sp_llm_sse_event {
    char event[32];   /* "event:" field, "" when absent */
    char *data;       /* "data:" lines joined with \n, malloc'd; NULL when the event had none */
    size_t data_len;
};

/* Reads the next event from [*p, end), advancing *p. Returns 1 with ev filled (free ev->data),
 * 0 at the end of input, or SP_LLM_ENOMEM. A final event without its blank line still counts. */
int sp_llm_sse_next(const char **p, const char *end, struct sp_llm_sse_event *ev);

#endif
