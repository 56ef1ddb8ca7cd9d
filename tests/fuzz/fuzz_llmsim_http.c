/* fuzz_llmsim_http: llm-sim's HTTP server on bytes as they arrive on a connection. The input is
 * what a client sent; it goes through the request-head parser (conn_parse_head) and every
 * complete request through the API handler (api_handle: Anthropic Messages and OpenAI chat
 * completions, JSON and server-sent events, with the simulated model and its prompt cache), one
 * request after the other as conn.c consumes a keep-alive connection's pipeline.
 *
 * Invariants: no crash, leak or sanitizer report; a head's length within what was received; a
 * response with a status, a content type and a body of the length it says. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm_sim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "fuzz invariant broken: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uv_loop_t loop;
    static bool ready;
    static struct server srv;
    if (!ready) {
        if (uv_loop_init(&loop) < 0)
            fail("uv_loop_init");
        ready = true;
    }
    /* A fresh server per input (the model's cache included), so that an input replays alike. */
    struct sp_llm_sim_opts so;
    sp_llm_sim_opts_default(&so);
    memset(&srv, 0, sizeof srv);
    srv.loop = &loop;
    srv.rng = so.seed ^ 0x5eed5eed5eedull;
    sp_llm_sim_init(&srv.sim, &so);

    /* conn.c keeps what arrived NUL-terminated, a spare byte past it. */
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    size_t len = size;
    for (int n = 0; n < 8; n++) {
        struct request rq;
        size_t clen;
        long head = conn_parse_head(buf, len, &rq, &clen);
        if (head <= 0)
            break; /* incomplete, or refused with -status and the connection closed */
        if ((size_t)head > len)
            fail("a head longer than what was received");
        if (len < (size_t)head + clen)
            break; /* the body is still coming */
        char saved = buf[head + clen];
        buf[head + clen] = '\0';
        rq.body = buf + head;
        rq.body_len = clen;
        struct response rs;
        memset(&rs, 0, sizeof rs);
        api_handle(&srv, &rq, &rs);
        buf[head + clen] = saved;
        if (!rs.stall && !rs.reset &&
            (rs.status < 100 || !rs.content_type || (rs.body_len && !rs.body) ||
             (rs.body && !rs.chunked && strlen(rs.body) != rs.body_len)))
            fail("a response without a status, a content type or the body it announces");
        if (getenv("SP_FUZZ_TRACE"))
            fprintf(stderr, "%s %s: %d %s (%zu bytes) %s\n", rq.method, rq.path, rs.status,
                    rs.content_type ? rs.content_type : "-", rs.body_len, rs.body && !rs.chunked ? rs.body : "");
        free(rs.body);
        memmove(buf, buf + head + clen, len - (size_t)head - clen);
        len -= (size_t)head + clen;
        buf[len] = '\0';
    }
    free(buf);
    return 0;
}
