/* llm-sim internals: the server state, one connection, and the API handlers. */
#ifndef LLM_SIM_H
#define LLM_SIM_H

#include <stddef.h>
#include <stdint.h>
#include <cjson/cJSON.h>
#include <uv.h>

#include "slowpath/llm/sim.h"

/* Transport-level faults, each a chance per request (--fault KIND:P). */
enum fault {
    FAULT_NONE = 0,
    FAULT_429,          /* rate limited, with retry-after / retry-after-ms */
    FAULT_500,          /* internal server error */
    FAULT_529,          /* overloaded (Anthropic 529; OpenAI path gets 503) */
    FAULT_STALL,        /* read the request, never answer */
    FAULT_SLOW,         /* answer --slow-ms late */
    FAULT_RESET,        /* read the request, then close with a TCP RST */
    FAULT_OVERSIZE,     /* 200 with a --oversize-bytes JSON body */
    FAULT_CONTENT_TYPE, /* 200 with text/html (a proxy's error page) */
    FAULT_401,          /* authentication error */
    FAULT_QUOTA,        /* spend limit: Anthropic 400 credit balance, OpenAI 429 insufficient_quota */
    FAULT_COUNT
};

struct server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    struct sp_llm_sim sim;
    double fault_p[FAULT_COUNT];
    uint64_t rng;
    uint32_t retry_after_ms, slow_ms;
    size_t oversize_bytes;
    const char *require_key;
    int log;
    uint64_t requests;
};

/* A request as parsed from the wire. */
struct request {
    char method[8];
    char path[256];
    const char *body;
    size_t body_len;
    char api_key[320];       /* x-api-key, or the Bearer token */
    int has_anthropic_version;
    int close;               /* Connection: close */
};

/* What api.c read from a valid request. */
struct parsed {
    char *system, *user;
    const char *model;
    const char *tool;    /* anthropic forced tool name */
    int cache_prompt;    /* openai-compatible: llama.cpp's flag */
    int stream;          /* "stream": true */
    int include_usage;   /* openai stream_options.include_usage */
};

/* A response to send. */
struct response {
    int status;
    const char *content_type;
    char extra_headers[256];
    char *body;              /* malloc'd */
    size_t body_len;
    uint32_t delay_ms;       /* model latency (+ slow fault) before sending */
    int stall, reset;
    int chunked;             /* body is already chunk-framed (SSE) */
    /* for the log line */
    const char *api;
    enum fault fault;
    enum sp_llm_sim_fault sim_fault;
    uint32_t in_tokens, out_tokens;
};

/* A request's prompt in its provider's processing order, for the cache model (render.c). */
struct render {
    struct sp_llm_cache_part *parts;
    unsigned n, cap;
    char **owned; /* printed schemas the parts point into */
    unsigned nowned;
};

int render_anthropic(const cJSON *j, struct render *r);
int render_openai(const cJSON *j, struct render *r);
void render_free(struct render *r);

const char *fault_name(enum fault f);
int fault_parse(const char *s, enum fault *out);

/* Builds the response to one request (api.c). */
void api_handle(struct server *s, const struct request *rq, struct response *rs);

/* Successful answers as server-sent events, one HTTP chunk per event (sse.c). */
void sse_anthropic(struct server *s, const struct parsed *p, const struct sp_llm_sim_reply *r,
                   struct response *rs);
void sse_openai(struct server *s, const struct parsed *p, const struct sp_llm_sim_reply *r,
                struct response *rs);

/* Parses a request head at buf (len bytes received so far, buf[len] == '\0'): the head's length
 * (CRLFCRLF included), 0 while it is incomplete, or -status for a request to refuse (conn.c; the
 * fuzz target tests/fuzz/fuzz_llmsim_http.c calls it too). */
long conn_parse_head(const char *buf, size_t len, struct request *rq, size_t *content_length);

/* Accepts connections on s->listener (conn.c). */
void conn_on_connection(uv_stream_t *listener, int status);

#endif
