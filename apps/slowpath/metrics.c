/* A deliberately small HTTP/1.1 server: one request per connection (Connection: close), heads of
 * at most 8 KiB, an idle deadline, and a bound on connections, so a scraper that misbehaves cannot
 * grow the daemon or hold it up. The page is rendered on the loop, between packets, from counters
 * the loop itself updates: no locking, and every figure is from the same instant. */
#include "metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_text.h"

#define MAX_HEAD 8192
#define MAX_CONNS 16
#define IDLE_MS 10000

struct conn;

struct app_metrics {
    uv_tcp_t listener;
    app_metrics_render_fn render;
    void *data;
    struct conn *conns;
    unsigned nconns;
    bool stopping;
};

struct conn {
    uv_tcp_t tcp;
    uv_timer_t idle;
    struct app_metrics *m;
    struct conn *next;
    char head[MAX_HEAD];
    size_t len;
    bool answered;
    int open_handles;
    uv_write_t wr;
    struct app_buf reply;
};

/* --- Addresses -------------------------------------------------------------------------------- */

static bool is_loopback(const struct sockaddr_storage *ss)
{
    if (ss->ss_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
    return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

int app_metrics_parse_addr(const char *spec, bool any, struct sockaddr_storage *out, char *err, size_t errlen)
{
    char host[64];
    const char *colon = strrchr(spec, ':');
    memset(out, 0, sizeof *out);
    if (!colon || colon == spec || (size_t)(colon - spec) >= sizeof host) {
        snprintf(err, errlen, "bad --metrics '%s': expected ADDR:PORT such as 127.0.0.1:9464", spec);
        return -1;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = '\0';
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || port > 65535) {
        snprintf(err, errlen, "bad --metrics '%s': the port must be 0..65535", spec);
        return -1;
    }
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    size_t hl = strlen(host);
    int rc;
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
        host[hl - 1] = '\0';
        rc = uv_ip6_addr(host + 1, (int)port, (struct sockaddr_in6 *)out);
    } else {
        rc = uv_ip4_addr(host, (int)port, (struct sockaddr_in *)out);
    }
    if (rc != 0) {
        snprintf(err, errlen, "bad --metrics '%s': expected an IPv4 address, [IPv6] or localhost before the port",
                 spec);
        return -1;
    }
    if (!any && !is_loopback(out)) {
        snprintf(err, errlen,
                 "--metrics %s is not a loopback address: the counters would be open to the network; "
                 "serve them on 127.0.0.1 or [::1], or pass --metrics-any to allow it",
                 spec);
        return -1;
    }
    return 0;
}

/* --- Connections ------------------------------------------------------------------------------ */

static void conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->open_handles > 0)
        return;
    struct app_metrics *m = c->m;
    for (struct conn **p = &m->conns; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            break;
        }
    m->nconns--;
    app_buf_free(&c->reply);
    free(c);
    if (m->stopping && !m->conns && uv_is_closing((uv_handle_t *)&m->listener) && m->listener.data == NULL)
        free(m);
}

static void conn_close(struct conn *c)
{
    if (!uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, conn_closed);
    if (!uv_is_closing((uv_handle_t *)&c->idle))
        uv_close((uv_handle_t *)&c->idle, conn_closed);
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    conn_close(w->data);
}

static void respond(struct conn *c, int code, const char *reason, const char *type, const char *extra,
                    const struct app_buf *body, bool head_only)
{
    struct app_buf *r = &c->reply;
    size_t blen = body ? body->len : 0;
    app_buf_printf(r,
                   "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n"
                   "Cache-Control: no-store\r\n%s\r\n",
                   code, reason, type, blen, extra ? extra : "");
    if (body && blen && !head_only)
        app_buf_put(r, body->p, blen);
    if (r->failed) {
        conn_close(c);
        return;
    }
    c->answered = true;
    uv_read_stop((uv_stream_t *)&c->tcp);
    uv_buf_t buf = uv_buf_init(r->p, (unsigned)r->len);
    c->wr.data = c;
    if (uv_write(&c->wr, (uv_stream_t *)&c->tcp, &buf, 1, on_written) != 0)
        conn_close(c);
}

static void respond_text(struct conn *c, int code, const char *reason, const char *extra, const char *text)
{
    struct app_buf body = {0};
    app_buf_printf(&body, "%s\n", text);
    respond(c, code, reason, "text/plain; charset=utf-8", extra, &body, false);
    app_buf_free(&body);
}

/* The request line decides everything; the headers are read past and ignored. */
static void handle(struct conn *c)
{
    char method[8], target[256], version[16];
    if (sscanf(c->head, "%7s %255s %15s", method, target, version) != 3 || strncmp(version, "HTTP/1.", 7) != 0) {
        respond_text(c, 400, "Bad Request", NULL, "bad request");
        return;
    }
    bool head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0) {
        respond_text(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n", "only GET and HEAD");
        return;
    }
    char *q = strchr(target, '?'); /* Prometheus may add parameters; they change nothing here */
    if (q)
        *q = '\0';
    if (strcmp(target, "/metrics") != 0) {
        respond_text(c, 404, "Not Found", NULL, "not found: the metrics are at /metrics");
        return;
    }
    struct app_buf page = {0};
    c->m->render(c->m->data, &page);
    if (page.failed)
        respond_text(c, 500, "Internal Server Error", NULL, "out of memory");
    else
        respond(c, 200, "OK", APP_METRICS_CONTENT_TYPE, NULL, &page, head);
    app_buf_free(&page);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct conn *c = h->data;
    (void)suggested;
    *buf = uv_buf_init(c->head + c->len, (unsigned)(sizeof c->head - 1 - c->len));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct conn *c = s->data;
    (void)buf;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)n;
    c->head[c->len] = '\0';
    if (strstr(c->head, "\r\n\r\n") || strstr(c->head, "\n\n"))
        handle(c);
    else if (c->len >= sizeof c->head - 1)
        respond_text(c, 431, "Request Header Fields Too Large", NULL, "request head too large");
}

static void on_idle(uv_timer_t *t)
{
    struct conn *c = t->data;
    if (!c->answered)
        conn_close(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct app_metrics *m = server->data;
    if (status < 0 || m->stopping)
        return;
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return;
    c->m = m;
    uv_tcp_init(server->loop, &c->tcp);
    uv_timer_init(server->loop, &c->idle);
    c->tcp.data = c->idle.data = c;
    c->open_handles = 2;
    c->next = m->conns;
    m->conns = c;
    m->nconns++;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 || m->nconns > MAX_CONNS) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->idle, on_idle, IDLE_MS, 0);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

/* --- The listener ----------------------------------------------------------------------------- */

int app_metrics_start(uv_loop_t *loop, const struct sockaddr_storage *addr, app_metrics_render_fn render, void *data,
                      struct app_metrics **out, char *bound, size_t boundlen, char *err, size_t errlen)
{
    struct app_metrics *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(err, errlen, "--metrics: out of memory");
        return -1;
    }
    m->render = render;
    m->data = data;
    uv_tcp_init(loop, &m->listener);
    m->listener.data = m;
    int rc = uv_tcp_bind(&m->listener, (const struct sockaddr *)addr, 0);
    if (rc == 0)
        rc = uv_listen((uv_stream_t *)&m->listener, 16, on_connection);
    if (rc != 0) {
        snprintf(err, errlen, "--metrics: cannot listen: %s", uv_strerror(rc));
        m->stopping = true;
        app_metrics_stop(m);
        return -1;
    }
    struct sockaddr_storage ss;
    int len = sizeof ss;
    char ip[INET6_ADDRSTRLEN] = "?";
    uv_tcp_getsockname(&m->listener, (struct sockaddr *)&ss, &len);
    if (ss.ss_family == AF_INET6) {
        uv_ip6_name((struct sockaddr_in6 *)&ss, ip, sizeof ip);
        snprintf(bound, boundlen, "[%s]:%u", ip, ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
    } else {
        uv_ip4_name((struct sockaddr_in *)&ss, ip, sizeof ip);
        snprintf(bound, boundlen, "%s:%u", ip, ntohs(((struct sockaddr_in *)&ss)->sin_port));
    }
    *out = m;
    return 0;
}

static void listener_closed(uv_handle_t *h)
{
    struct app_metrics *m = h->data;
    m->listener.data = NULL;
    if (!m->conns)
        free(m);
}

void app_metrics_stop(struct app_metrics *m)
{
    if (!m || uv_is_closing((uv_handle_t *)&m->listener))
        return;
    m->stopping = true;
    for (struct conn *c = m->conns; c; c = c->next)
        conn_close(c);
    uv_close((uv_handle_t *)&m->listener, listener_closed);
}
