/* llm-sim connections: a minimal HTTP/1.1 server (Content-Length bodies, keep-alive, one
 * request at a time per connection) that delays, stalls or resets on demand. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "llm_sim.h"
#include "slowpath/llm/opts.h"

#define MAX_HEAD SP_LLM_SIM_MAX_HEAD
#define MAX_BODY SP_LLM_SIM_MAX_BODY

struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    struct server *srv;
    char *buf;
    size_t len, cap;
    int handles;         /* open libuv handles; freed at 0 */
    int closing;
    int busy;            /* a response is being prepared or delayed */
    struct response rs;  /* pending while busy */
    int close_after;
    uint64_t start_ns;
};

struct wreq {
    uv_write_t w;
    struct conn *c;
    char *data;
    int close_after;
};

static void on_handle_closed(uv_handle_t *h)
{
    struct conn *c = h->data;
    if (--c->handles == 0) {
        free(c->rs.body);
        free(c->buf);
        free(c);
    }
}

static void conn_close(struct conn *c, int reset)
{
    if (c->closing) return;
    c->closing = 1;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    if (reset) uv_tcp_close_reset(&c->tcp, on_handle_closed);
    else uv_close((uv_handle_t *)&c->tcp, on_handle_closed);
}

static void try_request(struct conn *c);

static void on_written(uv_write_t *w, int status)
{
    struct wreq *wr = (struct wreq *)w;
    struct conn *c = wr->c;
    free(wr->data);
    if (status < 0 || wr->close_after) conn_close(c, 0);
    else if (!c->closing) try_request(c);
    free(wr);
}

static const char *reason(int st)
{
    switch (st) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 404: return "Not Found";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 529: return "Overloaded";
    default: return "Status";
    }
}

static void log_line(struct conn *c)
{
    struct response *rs = &c->rs;
    if (!c->srv->log) return;
    fprintf(stderr,
            "{\"n\":%llu,\"api\":\"%s\",\"status\":%d,\"fault\":\"%s\",\"sim_fault\":\"%s\","
            "\"delay_ms\":%u,\"in\":%u,\"out\":%u,\"ms\":%.3f}\n",
            (unsigned long long)c->srv->requests, rs->api ? rs->api : "-", rs->stall ? 0 : rs->status,
            fault_name(rs->fault), sp_llm_sim_fault_name(rs->sim_fault), rs->delay_ms, rs->in_tokens,
            rs->out_tokens, (double)(uv_hrtime() - c->start_ns) / 1e6);
}

static void send_response(struct conn *c)
{
    struct response *rs = &c->rs;
    struct wreq *wr;
    char head[768];
    int hl;
    uv_buf_t b[2];
    log_line(c);
    c->busy = 0;
    if (rs->reset) {
        conn_close(c, 1);
        return;
    }
    if (rs->chunked)
        hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nTransfer-Encoding: chunked\r\n"
                      "Cache-Control: no-cache\r\n%sConnection: %s\r\n\r\n",
                      rs->status, reason(rs->status), rs->content_type, rs->extra_headers,
                      c->close_after ? "close" : "keep-alive");
    else
        hl = snprintf(head, sizeof head,
                      "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: %s\r\n\r\n",
                      rs->status, reason(rs->status), rs->content_type, rs->body_len, rs->extra_headers,
                      c->close_after ? "close" : "keep-alive");
    wr = calloc(1, sizeof *wr);
    if (!wr || !(wr->data = malloc((size_t)hl + rs->body_len))) {
        free(wr);
        conn_close(c, 0);
        return;
    }
    memcpy(wr->data, head, (size_t)hl);
    if (rs->body_len) memcpy(wr->data + hl, rs->body, rs->body_len);
    wr->c = c;
    wr->close_after = c->close_after;
    b[0] = uv_buf_init(wr->data, (unsigned)((size_t)hl + rs->body_len));
    free(rs->body);
    rs->body = NULL;
    if (uv_write(&wr->w, (uv_stream_t *)&c->tcp, b, 1, on_written) < 0) {
        free(wr->data);
        free(wr);
        conn_close(c, 0);
    }
    (void)b[1];
}

static void on_delay(uv_timer_t *t)
{
    send_response(t->data);
}

static const char *find_head_end(const char *b, size_t n)
{
    for (size_t i = 0; i + 3 < n; i++)
        if (b[i] == '\r' && b[i + 1] == '\n' && b[i + 2] == '\r' && b[i + 3] == '\n') return b + i;
    return NULL;
}

/* The head of the request at buf; what it returns: llm_sim.h. */
long conn_parse_head(const char *buf, size_t len, struct request *rq, size_t *content_length)
{
    const char *end = find_head_end(buf, len), *p, *eol;
    int chunked = 0;
    if (!end) return len > MAX_HEAD ? -413 : 0;
    memset(rq, 0, sizeof *rq);
    *content_length = 0;
    if (sscanf(buf, "%7s %255s HTTP/1.%*d", rq->method, rq->path) != 2) return -400;
    if (memmem(buf, (size_t)(end - buf), "HTTP/1.0", 8)) rq->close = 1;
    /* Lines are found within the head (which ends at end's CRLF), never as C strings: a NUL byte
     * a client sends would end a string before its CRLF. */
    p = (const char *)memmem(buf, (size_t)(end - buf) + 2, "\r\n", 2) + 2;
    while (p < end) {
        char name[64], value[300];
        size_t nl = 0, vl = 0;
        eol = memmem(p, (size_t)(end - p) + 2, "\r\n", 2);
        const char *colon = memchr(p, ':', (size_t)(eol - p));
        if (!colon) return -400;
        while (p < colon && nl < sizeof name - 1) name[nl++] = *p++;
        name[nl] = '\0';
        p = colon + 1;
        while (p < eol && (*p == ' ' || *p == '\t')) p++;
        while (p < eol && vl < sizeof value - 1) value[vl++] = *p++;
        while (vl && value[vl - 1] == ' ') vl--;
        value[vl] = '\0';
        if (strcasecmp(name, "content-length") == 0) {
            char *e;
            unsigned long long n = strtoull(value, &e, 10);
            if (*e || e == value) return -400;
            if (n > MAX_BODY) return -413;
            *content_length = (size_t)n;
        } else if (strcasecmp(name, "transfer-encoding") == 0) {
            chunked = 1;
        } else if (strcasecmp(name, "connection") == 0) {
            if (strcasecmp(value, "close") == 0) rq->close = 1;
        } else if (strcasecmp(name, "x-api-key") == 0) {
            snprintf(rq->api_key, sizeof rq->api_key, "%s", value);
        } else if (strcasecmp(name, "authorization") == 0) {
            if (strncasecmp(value, "Bearer ", 7) == 0) snprintf(rq->api_key, sizeof rq->api_key, "%s", value + 7);
        } else if (strcasecmp(name, "anthropic-version") == 0) {
            rq->has_anthropic_version = 1;
        }
        p = eol + 2;
    }
    if (chunked) return -411;
    return (long)(end - buf) + 4;
}

static void reply_plain_error(struct conn *c, int status)
{
    struct response *rs = &c->rs;
    memset(rs, 0, sizeof *rs);
    rs->status = status;
    rs->content_type = "text/plain";
    rs->body = strdup("bad request\n");
    rs->body_len = rs->body ? strlen(rs->body) : 0;
    c->close_after = 1;
    c->busy = 1;
    send_response(c);
}

static void try_request(struct conn *c)
{
    struct request rq;
    size_t clen;
    long head;
    if (c->busy || c->closing) return;
    head = conn_parse_head(c->buf, c->len, &rq, &clen);
    if (head == 0) return;
    if (head < 0) {
        reply_plain_error(c, (int)-head);
        return;
    }
    if (c->len < (size_t)head + clen) return; /* body still coming */
    c->busy = 1;
    c->start_ns = uv_hrtime();
    c->srv->requests++;
    /* the body is NUL-terminated in place for the JSON parser, then the request is consumed */
    char saved = c->buf[head + clen];
    c->buf[head + clen] = '\0';
    rq.body = c->buf + head;
    rq.body_len = clen;
    memset(&c->rs, 0, sizeof c->rs);
    api_handle(c->srv, &rq, &c->rs);
    c->buf[head + clen] = saved;
    memmove(c->buf, c->buf + head + clen, c->len - (size_t)head - clen);
    c->len -= (size_t)head + clen;
    c->buf[c->len] = '\0';
    c->close_after = rq.close;
    if (c->rs.stall) { /* hold the connection; the client's deadline ends it */
        log_line(c);
        return;
    }
    if (c->rs.delay_ms) {
        /* the model's latency counts from now, not from the start of this loop iteration */
        uv_update_time(c->srv->loop);
        uv_timer_start(&c->timer, on_delay, c->rs.delay_ms, 0);
    } else {
        send_response(c);
    }
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
    struct conn *c = h->data;
    (void)hint;
    if (c->cap - c->len < 65536) {
        size_t cap = c->cap ? c->cap * 2 : 131072;
        char *nb = realloc(c->buf, cap);
        if (!nb) {
            *b = uv_buf_init(NULL, 0);
            return;
        }
        c->buf = nb;
        c->cap = cap;
    }
    *b = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len - 1));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    struct conn *c = s->data;
    (void)b;
    if (n < 0) {
        conn_close(c, 0);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0'; /* on_alloc keeps a spare byte: the head parser uses C strings */
    if (c->len > MAX_HEAD + MAX_BODY + 65536) {
        conn_close(c, 0);
        return;
    }
    try_request(c);
}

void conn_on_connection(uv_stream_t *listener, int status)
{
    struct server *srv = listener->data;
    struct conn *c;
    if (status < 0 || !(c = calloc(1, sizeof *c))) return;
    c->srv = srv;
    uv_tcp_init(srv->loop, &c->tcp);
    uv_timer_init(srv->loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->handles = 2;
    if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c, 0);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}
