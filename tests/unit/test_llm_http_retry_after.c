/* The client against a canned HTTP server on the test's loop: every retry-after value a server
 * may send (numbers out of range, junk, HTTP dates) is clamped to the documented cap or ignored,
 * never cast out of range. llm-sim only sends well-formed ones, hence the canned server. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "slowpath/llm/client.h"
#include "slowpath/llm/decision.h"
#include "slowpath/llm/error.h"
#include "slowpath/llm/http.h"
#include "slowpath/llm/opts.h"
#include "slowpath/llm/simproc.h"

/* --- retry-after against a canned server ------------------------------------------------------
 * llm-sim only sends well-formed retry-after values, so a tiny server on the test's loop answers
 * every request with one fixed 429 whose header lines the test chooses. */
struct canned_conn {
    uv_tcp_t tcp;
    uv_write_t wr;
    char buf[2048];
    size_t len;
    const char *reply;
    int replied;
};

static void canned_closed(uv_handle_t *h) { free(h->data); }

static void canned_written(uv_write_t *w, int status)
{
    (void)status;
    uv_close((uv_handle_t *)w->handle, canned_closed);
}

static void canned_alloc(uv_handle_t *h, size_t size, uv_buf_t *b)
{
    struct canned_conn *c = h->data;
    (void)size;
    *b = uv_buf_init(c->buf + c->len, (unsigned)(sizeof c->buf - 1 - c->len));
}

/* Answers once the request head is in; a GET has no body to wait for. */
static void canned_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct canned_conn *c = s->data;
    uv_buf_t out;
    (void)b;
    if (n < 0) {
        uv_close((uv_handle_t *)s, canned_closed);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    if (c->replied || !strstr(c->buf, "\r\n\r\n")) return;
    c->replied = 1;
    uv_read_stop(s);
    out = uv_buf_init((char *)c->reply, (unsigned)strlen(c->reply));
    uv_write(&c->wr, s, &out, 1, canned_written);
}

static void canned_accept(uv_stream_t *server, int status)
{
    struct canned_conn *c = calloc(1, sizeof *c);
    assert_int_equal(status, 0);
    assert_non_null(c);
    c->reply = server->data;
    c->tcp.data = c;
    uv_tcp_init(server->loop, &c->tcp);
    assert_int_equal(uv_accept(server, (uv_stream_t *)&c->tcp), 0);
    uv_read_start((uv_stream_t *)&c->tcp, canned_alloc, canned_read);
}

struct ra_got {
    int done, err;
    long status;
    int64_t retry_after_ms;
};

static void ra_done(sp_llm_http_req *req, const struct sp_llm_http_resp *r)
{
    struct ra_got *g = req->data;
    g->done = 1;
    g->err = r->err;
    g->status = r->status;
    g->retry_after_ms = r->retry_after_ms;
}

static int ra_closed;
static void ra_http_closed(sp_llm_http *h)
{
    (void)h;
    ra_closed = 1;
}

/* What sp_llm_http reports as retry_after_ms for a 429 carrying these header lines. */
static int64_t retry_after_of(const char *lines)
{
    uv_loop_t loop;
    uv_tcp_t server;
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int blen = sizeof bound;
    sp_llm_http http;
    sp_llm_http_req req;
    struct ra_got g;
    char reply[512], url[64];
    snprintf(reply, sizeof reply, "HTTP/1.1 429 Too Many Requests\r\n%sContent-Length: 0\r\n"
                                  "Connection: close\r\n\r\n", lines);
    uv_loop_init(&loop);
    uv_tcp_init(&loop, &server);
    server.data = reply;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    assert_int_equal(uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&server, 8, canned_accept), 0);
    uv_tcp_getsockname(&server, (struct sockaddr *)&bound, &blen);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(((struct sockaddr_in *)&bound)->sin_port));
    assert_int_equal(sp_llm_http_init(&loop, &http, NULL), 0);
    memset(&req, 0, sizeof req);
    memset(&g, 0, sizeof g);
    req.data = &g;
    req.url = url;
    req.timeout_ms = 2000;
    assert_int_equal(sp_llm_http_request(&http, &req, ra_done), 0);
    while (!g.done) uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(g.err, 0);
    assert_int_equal(g.status, 429);
    ra_closed = 0;
    sp_llm_http_close(&http, ra_http_closed);
    uv_close((uv_handle_t *)&server, NULL);
    while (!ra_closed) uv_run(&loop, UV_RUN_ONCE);
    uv_run(&loop, UV_RUN_DEFAULT); /* the accepted connection's close */
    assert_int_equal(uv_loop_close(&loop), 0);
    return g.retry_after_ms;
}

/* Whatever a server puts in retry-after / retry-after-ms, the value is either absent (-1) or in
 * [0, SP_LLM_RETRY_AFTER_CAP_MS]: huge numbers are clamped (no out-of-range float cast, no
 * overflow multiplying seconds by 1000), non-numbers ignored. */
static void test_retry_after_values_are_clamped_or_ignored(void **state)
{
    static const struct {
        const char *lines;
        int64_t want;
    } cases[] = {
        {"", -1},
        {"retry-after-ms: 1500\r\n", 1500},
        {"Retry-After: 3\r\n", 3000},
        {"retry-after-ms: 1e300\r\n", SP_LLM_RETRY_AFTER_CAP_MS},
        {"retry-after-ms: 1e999\r\n", SP_LLM_RETRY_AFTER_CAP_MS},
        {"retry-after-ms: 99999999999999999999999999\r\n", SP_LLM_RETRY_AFTER_CAP_MS},
        {"retry-after-ms: inf\r\n", -1},
        {"retry-after-ms: infinity\r\n", -1},
        {"retry-after-ms: nan\r\n", -1},
        {"retry-after-ms: -5\r\n", -1},
        {"retry-after-ms: -1e300\r\n", -1},
        {"retry-after-ms: 0x10\r\n", -1},
        {"retry-after-ms: 12abc\r\n", -1},
        {"retry-after-ms: \r\n", -1},
        {"retry-after: 9223372036854775807\r\n", SP_LLM_RETRY_AFTER_CAP_MS},
        {"retry-after: 18446744073709551616\r\n", SP_LLM_RETRY_AFTER_CAP_MS},
        {"retry-after: 9223372036854775\r\n", SP_LLM_RETRY_AFTER_CAP_MS},
        {"retry-after: -1\r\n", -1},
        {"retry-after: +5\r\n", -1},
        {"retry-after: soon\r\n", -1},
        /* the HTTP-date form: past dates mean now, far ones are clamped */
        {"retry-after: Wed, 21 Oct 2015 07:28:00 GMT\r\n", 0},
        {"retry-after: Fri, 31 Dec 9999 23:59:59 GMT\r\n", SP_LLM_RETRY_AFTER_CAP_MS},
        /* the finer header wins whichever comes first; a bad one does not hide a good one */
        {"retry-after: 7\r\nretry-after-ms: 250\r\n", 250},
        {"retry-after-ms: 250\r\nretry-after: 7\r\n", 250},
        {"retry-after-ms: nan\r\nretry-after: 7\r\n", 7000},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t got = retry_after_of(cases[i].lines);
        if (got != cases[i].want)
            fail_msg("%s: got %lld, want %lld", cases[i].lines, (long long)got, (long long)cases[i].want);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_retry_after_values_are_clamped_or_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
