/* sp_llm_http on its own against llm-sim: connection reuse, GET, cancel, argument checks, fd
 * churn under resets with many requests in flight, and llm-sim surviving garbage. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <uv.h>

#include "slowpath/llm/client.h"
#include "slowpath/llm/error.h"
#include "slowpath/llm/http.h"
#include "slowpath/llm/simproc.h"

struct got {
    int done, err;
    long status, new_conns;
    char body[256];
};

static void on_resp(sp_llm_http_req *req, const struct sp_llm_http_resp *r)
{
    struct got *g = req->data;
    g->done = 1;
    g->err = r->err;
    g->status = r->status;
    g->new_conns = r->new_connections;
    snprintf(g->body, sizeof g->body, "%s", r->body);
}

static int http_closed;
static void on_http_closed(sp_llm_http *h)
{
    (void)h;
    http_closed = 1;
}

static void start_sim(struct sp_llm_simproc *sim, const char *const *args)
{
    char path[4096];
    assert_int_equal(sp_llm_simproc_start(sim, sp_llm_simproc_path(path, sizeof path), args), 0);
}

static void test_reuse_get_cancel(void **state)
{
    struct sp_llm_simproc sim;
    uv_loop_t loop;
    sp_llm_http http;
    sp_llm_http_req req, req2;
    struct got g1, g2;
    char url[128];
    (void)state;
    start_sim(&sim, NULL);
    uv_loop_init(&loop);
    assert_int_equal(sp_llm_http_init(&loop, &http, NULL), 0);
    snprintf(url, sizeof url, "%s/health", sim.url);
    for (int i = 0; i < 3; i++) {
        memset(&req, 0, sizeof req);
        memset(&g1, 0, sizeof g1);
        req.data = &g1;
        req.url = url;
        req.timeout_ms = 2000;
        assert_int_equal(sp_llm_http_request(&http, &req, on_resp), 0);
        while (!g1.done) uv_run(&loop, UV_RUN_ONCE);
        assert_int_equal(g1.err, 0);
        assert_int_equal(g1.status, 200);
        assert_non_null(strstr(g1.body, "\"ok\""));
        assert_int_equal(g1.new_conns, i == 0 ? 1 : 0); /* kept alive and reused */
    }
    /* cancel: the callback runs at once with ECANCELED */
    memset(&g1, 0, sizeof g1);
    req.data = &g1;
    assert_int_equal(sp_llm_http_request(&http, &req, on_resp), 0);
    assert_int_equal(sp_llm_http_inflight(&http), 1);
    sp_llm_http_cancel(&req);
    assert_true(g1.done);
    assert_int_equal(g1.err, SP_LLM_ECANCELED);
    assert_int_equal(sp_llm_http_inflight(&http), 0);
    sp_llm_http_cancel(&req); /* harmless twice */
    /* bad arguments never call back */
    memset(&req2, 0, sizeof req2);
    memset(&g2, 0, sizeof g2);
    req2.data = &g2;
    req2.url = "file:///etc/passwd";
    assert_int_equal(sp_llm_http_request(&http, &req2, on_resp), SP_LLM_EINVAL);
    req2.url = NULL;
    assert_int_equal(sp_llm_http_request(&http, &req2, on_resp), SP_LLM_EINVAL);
    assert_false(g2.done);
    /* close with one in flight */
    req2.url = url;
    assert_int_equal(sp_llm_http_request(&http, &req2, on_resp), 0);
    http_closed = 0;
    sp_llm_http_close(&http, on_http_closed);
    assert_true(g2.done);
    assert_int_equal(g2.err, SP_LLM_ECANCELED);
    while (!http_closed) uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(sp_llm_http_request(&http, &req2, on_resp), SP_LLM_ECLOSING);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&loop), 0);
    sp_llm_simproc_stop(&sim);
}

struct churn {
    uv_loop_t loop;
    sp_llm_client c;
    struct sp_llm_prompt p;
    unsigned issued, done, ok, typed;
    int closed;
};

static const char user_icmp[] =
    "{\"kind\":\"icmp\",\"format\":\"structured\",\"host\":{\"mac\":\"02:00:00:00:00:01\","
    "\"ip\":\"192.0.2.1\"},\"state\":{},\"packet\":{\"src\":\"192.0.2.2\",\"dst\":\"192.0.2.1\","
    "\"ttl\":64,\"type\":8,\"code\":0,\"ident\":1,\"seq\":1}}";

static void churn_issue(struct churn *ch);

static void churn_done(sp_llm_client *c, const struct sp_llm_result *r, void *data)
{
    struct churn *ch = data;
    (void)c;
    ch->done++;
    if (r->err == 0) ch->ok++;
    else if (r->err == SP_LLM_ERESET || r->err == SP_LLM_ESERVER || r->err == SP_LLM_EOVERLOADED ||
             r->err == SP_LLM_ERATELIMIT)
        ch->typed++;
    else fail_msg("unexpected %s", sp_llm_errname(r->err));
    churn_issue(ch);
}

static void churn_issue(struct churn *ch)
{
    while (ch->issued < 400 && sp_llm_client_inflight(&ch->c) < 24) {
        assert_int_equal(sp_llm_ask(&ch->c, &ch->p, churn_done, ch), 0);
        ch->issued++;
    }
}

static void churn_closed(sp_llm_client *c)
{
    ((struct churn *)c->data)->closed = 1;
}

static void test_fd_churn_under_resets(void **state)
{
    static const char *const args[] = {"--fault", "reset:0.3", "--fault", "500:0.1", "--fault", "429:0.05",
                                       "--retry-after-ms", "1", "--seed", "3", NULL};
    struct sp_llm_simproc sim;
    struct churn *ch = calloc(1, sizeof *ch);
    struct sp_llm_config cfg;
    char err[128];
    (void)state;
    start_sim(&sim, args);
    uv_loop_init(&ch->loop);
    sp_llm_config_init(&cfg);
    cfg.provider = SP_LLM_PROVIDER_OPENAI;
    snprintf(cfg.url, sizeof cfg.url, "%s/v1", sim.url);
    assert_int_equal(sp_llm_config_finish(&cfg, err, sizeof err), 0);
    cfg.max_inflight = 24;
    cfg.backoff_base_ms = 1;
    cfg.backoff_max_ms = 4;
    assert_int_equal(sp_llm_client_init(&ch->loop, &ch->c, &cfg), 0);
    ch->c.data = ch;
    sp_llm_prompt_for(&ch->p, SP_DECISION_ICMP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT, user_icmp);
    churn_issue(ch);
    while (ch->done < 400) uv_run(&ch->loop, UV_RUN_ONCE);
    assert_int_equal(ch->ok + ch->typed, 400);
    assert_true(ch->ok > 300); /* four attempts each: most get through */
    assert_true(sp_llm_client_stats(&ch->c)->retries > 50);
    sp_llm_client_close(&ch->c, churn_closed);
    while (!ch->closed) uv_run(&ch->loop, UV_RUN_ONCE);
    uv_run(&ch->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&ch->loop), 0);
    free(ch);
    sp_llm_simproc_stop(&sim);
}

struct closer {
    uv_loop_t loop;
    sp_llm_client c;
    int results[4], n, closed;
};

static void closer_closed(sp_llm_client *c)
{
    ((struct closer *)c->data)->closed = 1;
}

/* The first answer closes the client from inside its callback: the others are canceled, nothing
 * touches freed curl state afterwards. */
static void closer_done(sp_llm_client *c, const struct sp_llm_result *r, void *data)
{
    struct closer *cl = data;
    cl->results[cl->n++] = r->err;
    if (cl->n == 1) sp_llm_client_close(c, closer_closed);
}

static void test_close_inside_callback(void **state)
{
    static const char *const args[] = {"--latency-dist", "uniform", "--latency-ms", "1", "--latency-spread-ms", "60", NULL};
    struct sp_llm_simproc sim;
    struct closer *cl = calloc(1, sizeof *cl);
    struct sp_llm_config cfg;
    struct sp_llm_prompt p;
    char err[128];
    (void)state;
    start_sim(&sim, args);
    uv_loop_init(&cl->loop);
    sp_llm_config_init(&cfg);
    cfg.provider = SP_LLM_PROVIDER_OPENAI;
    snprintf(cfg.url, sizeof cfg.url, "%s/v1", sim.url);
    assert_int_equal(sp_llm_config_finish(&cfg, err, sizeof err), 0);
    assert_int_equal(sp_llm_client_init(&cl->loop, &cl->c, &cfg), 0);
    cl->c.data = cl;
    sp_llm_prompt_for(&p, SP_DECISION_ICMP, SP_LLM_FMT_STRUCTURED, SP_AUTHORITY_EXACT, user_icmp);
    for (int i = 0; i < 4; i++) assert_int_equal(sp_llm_ask(&cl->c, &p, closer_done, cl), 0);
    while (!cl->closed) uv_run(&cl->loop, UV_RUN_ONCE);
    assert_int_equal(cl->n, 4);
    assert_int_equal(cl->results[0], 0);
    for (int i = 1; i < 4; i++) assert_true(cl->results[i] == SP_LLM_ECANCELED || cl->results[i] == 0);
    uv_run(&cl->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&cl->loop), 0);
    free(cl);
    sp_llm_simproc_stop(&sim);
}

/* Sends raw bytes to llm-sim and returns what comes back (blocking; before any loop runs). */
static size_t raw_exchange(int port, const char *data, size_t len, char *out, size_t cap)
{
    struct sockaddr_in a;
    struct timeval tv = {30, 0}; /* only guards a hang: llm-sim closes after answering */
    size_t got = 0;
    ssize_t n;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    shutdown(fd, SHUT_WR);
    while (got < cap - 1 && (n = read(fd, out + got, cap - 1 - got)) > 0) got += (size_t)n;
    out[got] = '\0';
    close(fd);
    return got;
}

static void test_llm_sim_survives_garbage(void **state)
{
    struct sp_llm_simproc sim;
    char out[4096];
    static const char *const inputs[] = {
        "GARBAGE\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: zz\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 99999999999\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nNoColonHeader\r\n\r\n",
        "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 5\r\n\r\n[1,2]",
        "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: 11\r\n\r\n{\"model\":1}",
        "POST /v1/messages HTTP/1.1\r\nanthropic-version: 2023-06-01\r\nContent-Length: 2\r\n\r\n{}",
        "POST /v1/messages HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}",
        "GET /nope HTTP/1.1\r\n\r\n",
    };
    static const char *const want[] = {"400", "400", "411", "413", "400", "invalid_request_error",
                                       "you must provide a model", "model: Field required",
                                       "anthropic-version", "404"};
    (void)state;
    start_sim(&sim, NULL);
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        raw_exchange(sim.port, inputs[i], strlen(inputs[i]), out, sizeof out);
        if (!strstr(out, want[i])) fail_msg("input %zu: got '%s', want '%s'", i, out, want[i]);
    }
    /* a head that never ends is cut off, not buffered forever */
    char *big = malloc(40000);
    memset(big, 'a', 40000);
    raw_exchange(sim.port, big, 40000, out, sizeof out);
    assert_non_null(strstr(out, "413"));
    free(big);
    /* still serving */
    raw_exchange(sim.port, "GET /health HTTP/1.1\r\n\r\n", 24, out, sizeof out);
    assert_non_null(strstr(out, "200 OK"));
    sp_llm_simproc_stop(&sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reuse_get_cancel),
        cmocka_unit_test(test_fd_churn_under_resets),
        cmocka_unit_test(test_close_inside_callback),
        cmocka_unit_test(test_llm_sim_survives_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
