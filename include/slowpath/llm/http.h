/* HTTP on the event loop: libcurl's multi interface driven by a libuv loop.
 *
 * One sp_llm_http per loop owns one CURLM. Requests are user-allocated handles (like uv_req_t):
 * the callback runs exactly once on the loop thread with either an HTTP status and body, or a
 * typed transport error. Nothing here blocks; connections are kept alive and reused.
 * Retries, backoff and the breaker live one layer up (client.h). */
#ifndef SLOWPATH_LLM_HTTP_H
#define SLOWPATH_LLM_HTTP_H

#include "slowpath/layer_llm.h"

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct sp_llm_http sp_llm_http;
typedef struct sp_llm_http_req sp_llm_http_req;

struct sp_llm_http_opts {
    uint32_t connect_timeout_ms; /* 0: SP_LLM_DEFAULT_CONNECT_TIMEOUT_MS */
    uint32_t max_host_conns;     /* 0: SP_LLM_DEFAULT_MAX_HOST_CONNS */
};

/* What the callback sees. Valid only during the callback. */
struct sp_llm_http_resp {
    int err;                  /* 0, or SP_LLM_ETIMEOUT/ECONNECT/ERESET/ETOOBIG/ETRANSPORT/ECANCELED */
    long status;              /* HTTP status when err == 0 */
    const char *body;         /* NUL-terminated; body_len excludes the NUL */
    size_t body_len;
    char content_type[64];    /* lower-cased media type without parameters, "" if none */
    int64_t retry_after_ms;   /* from retry-after-ms, else retry-after (seconds or HTTP-date);
                               * -1 when absent or not a plain number or date, else clamped to
                               * [0, SP_LLM_RETRY_AFTER_CAP_MS] */
    double elapsed_ms;        /* request start to completion */
    long new_connections;     /* connections opened for it: 0 when a kept-alive one was reused */
};

typedef void (*sp_llm_http_cb)(sp_llm_http_req *req, const struct sp_llm_http_resp *resp);
typedef void (*sp_llm_http_close_cb)(sp_llm_http *http);

/* One request. Fill url/headers/body/timeout/max_response, then sp_llm_http_request(). The
 * strings must stay valid until the callback. Private fields follow the marker. */
struct sp_llm_http_req {
    void *data;                   /* user */
    const char *url;
    const char *const *headers;   /* NULL-terminated "Name: value" list, may be NULL */
    const char *body;             /* POST body (JSON); NULL makes a GET */
    size_t body_len;
    uint32_t timeout_ms;          /* deadline of this attempt, 0 = none (avoid) */
    size_t max_response;          /* body bound, 0 = SP_LLM_DEFAULT_MAX_RESPONSE */
    /* private */
    sp_llm_http *http_;
    void *easy_;
    void *hdrs_;
    sp_llm_http_cb cb_;
    char *buf_;
    size_t len_, cap_;
    int too_big_;
    int64_t retry_after_ms_;
    char content_type_[64];
    uint64_t start_ns_;
    sp_llm_http_req *next_, *prev_;
};

/* The multi handle with its timer. Private fields follow the marker. */
struct sp_llm_http {
    void *data;                   /* user */
    /* private */
    uv_loop_t *loop_;
    void *multi_;
    uv_timer_t timer_;
    sp_llm_http_req *reqs_;       /* in flight, for close() */
    void *socks_;                 /* watched sockets, for close() */
    unsigned inflight_;
    int closing_;
    sp_llm_http_close_cb close_cb_;
    unsigned pending_closes_;
    struct sp_llm_http_opts opts_;
};

/* Sets up http on loop (opts may be NULL). Returns 0 or SP_LLM_ENOMEM/SP_LLM_EINVAL. */
int sp_llm_http_init(uv_loop_t *loop, sp_llm_http *http, const struct sp_llm_http_opts *opts);

/* Starts req; cb runs later, exactly once. Returns 0, or a negative code (and cb never runs). */
int sp_llm_http_request(sp_llm_http *http, sp_llm_http_req *req, sp_llm_http_cb cb);

/* Aborts req if still in flight: its callback runs now with SP_LLM_ECANCELED. */
void sp_llm_http_cancel(sp_llm_http_req *req);

/* Requests in flight. */
unsigned sp_llm_http_inflight(const sp_llm_http *http);

/* Cancels everything in flight (callbacks get SP_LLM_ECANCELED), frees curl and closes the
 * loop handles; close_cb (may be NULL) runs when http's memory may be released. */
void sp_llm_http_close(sp_llm_http *http, sp_llm_http_close_cb close_cb);

#endif
