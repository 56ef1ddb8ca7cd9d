/* libcurl multi on a libuv loop. Curl tells us which sockets to watch (sock_cb) and when to
 * wake it (timer_cb); libuv tells curl when those happen (on_poll/on_timer). Curl is never called
 * from inside its own callbacks: they only start/stop libuv watchers. */
#include "slowpath/llm/http.h"

#include <ctype.h>
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "slowpath/llm/error.h"
#include "slowpath/llm/opts.h"

/* One per socket curl asks us to watch, attached with curl_multi_assign. Freed only in the
 * uv_close callback, so a stale poll event never touches freed memory; a new socket that reuses
 * the fd number gets a fresh context while the old one is still closing. */
struct sock_ctx {
    uv_poll_t poll;
    sp_llm_http *http;
    curl_socket_t fd;
    int closing;
    struct sock_ctx *next, *prev;
};


static void maybe_closed(sp_llm_http *http)
{
    if (http->closing_ && http->pending_closes_ == 0 && http->close_cb_) {
        sp_llm_http_close_cb cb = http->close_cb_;
        http->close_cb_ = NULL;
        cb(http);
    }
}

static void on_sock_closed(uv_handle_t *h)
{
    struct sock_ctx *s = h->data;
    sp_llm_http *http = s->http;
    free(s);
    http->pending_closes_--;
    maybe_closed(http);
}

static void sock_close(struct sock_ctx *s)
{
    if (s->closing) return;
    s->closing = 1;
    if (s->prev) s->prev->next = s->next;
    else s->http->socks_ = s->next;
    if (s->next) s->next->prev = s->prev;
    uv_poll_stop(&s->poll); /* synchronous: frees the fd slot for a reused number */
    s->http->pending_closes_++;
    uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

static void drain_done(sp_llm_http *http);

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sock_ctx *s = p->data;
    sp_llm_http *http = s->http;
    int flags = 0, running = 0;
    if (s->closing) return;
    if (status < 0) {
        flags = CURL_CSELECT_ERR;
    } else {
        if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
        if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
    }
    curl_multi_socket_action(http->multi_, s->fd, flags, &running);
    drain_done(http);
}

static void on_timer(uv_timer_t *t)
{
    sp_llm_http *http = t->data;
    int running = 0;
    curl_multi_socket_action(http->multi_, CURL_SOCKET_TIMEOUT, 0, &running);
    drain_done(http);
}

static int sock_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    sp_llm_http *http = userp;
    struct sock_ctx *s = socketp;
    int ev = 0;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s) sock_close(s);
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s) return -1;
        s->http = http;
        s->fd = fd;
        if (uv_poll_init_socket(http->loop_, &s->poll, fd) != 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        s->next = http->socks_;
        if (s->next) s->next->prev = s;
        http->socks_ = s;
        curl_multi_assign(http->multi_, fd, s);
    }
    if (what & CURL_POLL_IN) ev |= UV_READABLE;
    if (what & CURL_POLL_OUT) ev |= UV_WRITABLE;
    uv_poll_start(&s->poll, ev, on_poll);
    return 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
    sp_llm_http *http = userp;
    (void)multi;
    if (timeout_ms < 0) {
        uv_timer_stop(&http->timer_);
        return 0;
    }
    /* curl counts from its own fresh clock; from the loop's cached time the timer would fire
     * early and only wake curl to ask again */
    uv_update_time(http->loop_);
    uv_timer_start(&http->timer_, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *userp)
{
    sp_llm_http_req *req = userp;
    size_t n = size * nmemb;
    size_t max = req->max_response ? req->max_response : SP_LLM_DEFAULT_MAX_RESPONSE;
    if (req->len_ + n > max) {
        req->too_big_ = 1;
        return 0; /* curl fails the transfer with CURLE_WRITE_ERROR */
    }
    if (req->len_ + n + 1 > req->cap_) {
        size_t cap = req->cap_ ? req->cap_ : 4096;
        while (cap < req->len_ + n + 1) cap *= 2;
        char *b = realloc(req->buf_, cap);
        if (!b) return 0;
        req->buf_ = b;
        req->cap_ = cap;
    }
    memcpy(req->buf_ + req->len_, ptr, n);
    req->len_ += n;
    req->buf_[req->len_] = '\0';
    return n;
}

/* Copies the value of header line "name: value" into out (trimmed) if the name matches. */
static int header_value(const char *line, size_t n, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name), i, j;
    if (n <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':') return 0;
    i = nl + 1;
    while (i < n && (line[i] == ' ' || line[i] == '\t')) i++;
    j = n;
    while (j > i && (line[j - 1] == '\r' || line[j - 1] == '\n' || line[j - 1] == ' ')) j--;
    if (j - i >= cap) j = i + cap - 1;
    memcpy(out, line + i, j - i);
    out[j - i] = '\0';
    return 1;
}

/* A plain decimal number: digits, then an optional fraction and exponent. No sign, "inf", "nan",
 * hex or spaces, so what strtod makes of it is finite or +HUGE_VAL, never negative. */
static int is_decimal(const char *s)
{
    if (!isdigit((unsigned char)*s)) return 0;
    while (isdigit((unsigned char)*s)) s++;
    if (*s == '.')
        for (s++; isdigit((unsigned char)*s); s++) {}
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        if (!isdigit((unsigned char)*s)) return 0;
        while (isdigit((unsigned char)*s)) s++;
    }
    return *s == '\0';
}

/* A delay given as a number of units of unit_ms, in ms clamped to SP_LLM_RETRY_AFTER_CAP_MS
 * (compared as a double, before any cast, since servers may send 1e300); -1 if not a number. */
static int64_t delay_ms(const char *v, double unit_ms)
{
    double ms;
    if (!is_decimal(v)) return -1;
    ms = strtod(v, NULL) * unit_ms;
    return ms >= (double)SP_LLM_RETRY_AFTER_CAP_MS ? SP_LLM_RETRY_AFTER_CAP_MS : (int64_t)ms;
}

/* Retry-After's HTTP-date form, relative to now: 0 for a date past, clamped like delay_ms; -1
 * if not a date. Every HTTP-date (IMF-fixdate, RFC 850, asctime) starts with the day's name;
 * curl_getdate reads far more ("20 Jan 2030"), so only text that can be one is offered to it. */
static int64_t date_delay_ms(const char *v, time_t now)
{
    time_t t;
    if (!isalpha((unsigned char)*v)) return -1;
    t = curl_getdate(v, NULL);
    if (t == (time_t)-1) return -1;
    if (t <= now) return 0;
    if (t - now >= SP_LLM_RETRY_AFTER_CAP_MS / 1000) return SP_LLM_RETRY_AFTER_CAP_MS;
    return (int64_t)(t - now) * 1000;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *userp)
{
    sp_llm_http_req *req = userp;
    size_t n = size * nmemb;
    char v[128];
    if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) { /* a new response (after 100/redirect) */
        req->retry_after_ms_ = -1;
        req->content_type_[0] = '\0';
    } else if (header_value(line, n, "retry-after-ms", v, sizeof v)) {
        int64_t ms = delay_ms(v, 1);
        if (ms >= 0) req->retry_after_ms_ = ms; /* the finer one wins over retry-after */
    } else if (header_value(line, n, "retry-after", v, sizeof v)) {
        int64_t ms = delay_ms(v, 1000);
        if (ms < 0) ms = date_delay_ms(v, time(NULL));
        /* a retry-after-ms seen before is the finer one */
        if (ms >= 0 && req->retry_after_ms_ < 0) req->retry_after_ms_ = ms;
    } else if (header_value(line, n, "content-type", v, sizeof v)) {
        size_t i;
        for (i = 0; v[i] && v[i] != ';' && v[i] != ' ' && i + 1 < sizeof req->content_type_; i++)
            req->content_type_[i] = (char)((v[i] >= 'A' && v[i] <= 'Z') ? v[i] + 32 : v[i]);
        req->content_type_[i] = '\0';
    }
    return n;
}

static int map_curl_error(CURLcode rc, const sp_llm_http_req *req)
{
    switch (rc) {
    case CURLE_OK:
        return 0;
    case CURLE_OPERATION_TIMEDOUT:
        return SP_LLM_ETIMEOUT;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        return SP_LLM_ECONNECT;
    case CURLE_FILESIZE_EXCEEDED:
        return SP_LLM_ETOOBIG;
    case CURLE_WRITE_ERROR:
        return req->too_big_ ? SP_LLM_ETOOBIG : SP_LLM_ENOMEM;
    case CURLE_OUT_OF_MEMORY:
        return SP_LLM_ENOMEM;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
        return SP_LLM_ERESET;
    default:
        return SP_LLM_ETRANSPORT;
    }
}

/* Detaches req from curl and the in-flight list, then runs its callback; req is not touched
 * afterwards (the callback may free or reuse it). */
static void finish(sp_llm_http_req *req, int err)
{
    sp_llm_http *http = req->http_;
    struct sp_llm_http_resp resp;
    char *buf = req->buf_;
    long status = 0;
    memset(&resp, 0, sizeof resp);
    long conns = 0;
    if (err == 0) curl_easy_getinfo(req->easy_, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(req->easy_, CURLINFO_NUM_CONNECTS, &conns);
    curl_multi_remove_handle(http->multi_, req->easy_);
    curl_easy_cleanup(req->easy_);
    curl_slist_free_all(req->hdrs_);
    req->easy_ = NULL;
    req->hdrs_ = NULL;
    if (req->prev_) req->prev_->next_ = req->next_;
    else http->reqs_ = req->next_;
    if (req->next_) req->next_->prev_ = req->prev_;
    req->next_ = req->prev_ = NULL;
    http->inflight_--;
    resp.err = err;
    resp.status = status;
    resp.body = buf ? buf : "";
    resp.body_len = req->len_;
    memcpy(resp.content_type, req->content_type_, sizeof resp.content_type);
    resp.retry_after_ms = req->retry_after_ms_;
    resp.elapsed_ms = (double)(uv_hrtime() - req->start_ns_) / 1e6;
    resp.new_connections = conns;
    req->buf_ = NULL;
    req->len_ = req->cap_ = 0;
    req->http_ = NULL;
    req->cb_(req, &resp);
    free(buf);
}

static void drain_done(sp_llm_http *http)
{
    CURLMsg *msg;
    int left;
    /* a callback may close http (and free the multi handle): check before every read */
    while (http->multi_ && (msg = curl_multi_info_read(http->multi_, &left)) != NULL) {
        sp_llm_http_req *req = NULL;
        if (msg->msg != CURLMSG_DONE) continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&req);
        if (req) finish(req, map_curl_error(msg->data.result, req));
    }
}

int sp_llm_http_init(uv_loop_t *loop, sp_llm_http *http, const struct sp_llm_http_opts *opts)
{
    if (!loop || !http) return SP_LLM_EINVAL;
    memset(http, 0, sizeof *http);
    if (opts) http->opts_ = *opts;
    if (!http->opts_.connect_timeout_ms)
        http->opts_.connect_timeout_ms = SP_LLM_DEFAULT_CONNECT_TIMEOUT_MS;
    if (!http->opts_.max_host_conns) http->opts_.max_host_conns = SP_LLM_DEFAULT_MAX_HOST_CONNS;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return SP_LLM_ENOMEM;
    http->multi_ = curl_multi_init();
    if (!http->multi_) {
        curl_global_cleanup();
        return SP_LLM_ENOMEM;
    }
    http->loop_ = loop;
    uv_timer_init(loop, &http->timer_);
    http->timer_.data = http;
    curl_multi_setopt(http->multi_, CURLMOPT_SOCKETFUNCTION, sock_cb);
    curl_multi_setopt(http->multi_, CURLMOPT_SOCKETDATA, http);
    curl_multi_setopt(http->multi_, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(http->multi_, CURLMOPT_TIMERDATA, http);
    curl_multi_setopt(http->multi_, CURLMOPT_MAX_HOST_CONNECTIONS, (long)http->opts_.max_host_conns);
    curl_multi_setopt(http->multi_, CURLMOPT_MAXCONNECTS, (long)http->opts_.max_host_conns);
    return 0;
}

int sp_llm_http_request(sp_llm_http *http, sp_llm_http_req *req, sp_llm_http_cb cb)
{
    CURL *e;
    struct curl_slist *h = NULL, *t;
    size_t max;
    if (!http || !req || !cb || !req->url) return SP_LLM_EINVAL;
    if (http->closing_) return SP_LLM_ECLOSING;
    if (strncmp(req->url, "http://", 7) != 0 && strncmp(req->url, "https://", 8) != 0)
        return SP_LLM_EINVAL;
    e = curl_easy_init();
    if (!e) return SP_LLM_ENOMEM;
    for (const char *const *p = req->headers; p && *p; p++) {
        if (!(t = curl_slist_append(h, *p))) goto oom;
        h = t;
    }
    /* curl would otherwise wait up to 1 s for "100 Continue" on bodies over 1 KiB */
    if (!(t = curl_slist_append(h, "Expect:"))) goto oom;
    h = t;
    max = req->max_response ? req->max_response : SP_LLM_DEFAULT_MAX_RESPONSE;
    req->http_ = http;
    req->easy_ = e;
    req->hdrs_ = h;
    req->cb_ = cb;
    req->buf_ = NULL;
    req->len_ = req->cap_ = 0;
    req->too_big_ = 0;
    req->retry_after_ms_ = -1;
    req->content_type_[0] = '\0';
    req->start_ns_ = uv_hrtime();
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)req);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, req);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)http->opts_.connect_timeout_ms);
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
    curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
    /* an http_proxy in the environment must not capture loopback servers (llm-sim, llama.cpp) */
    curl_easy_setopt(e, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
    if (req->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
    }
    if (curl_multi_add_handle(http->multi_, e) != CURLM_OK) {
        curl_easy_cleanup(e);
        curl_slist_free_all(h);
        req->easy_ = req->hdrs_ = NULL;
        req->http_ = NULL;
        return SP_LLM_ENOMEM;
    }
    req->prev_ = NULL;
    req->next_ = http->reqs_;
    if (req->next_) req->next_->prev_ = req;
    http->reqs_ = req;
    http->inflight_++;
    return 0;
oom:
    curl_slist_free_all(h);
    curl_easy_cleanup(e);
    return SP_LLM_ENOMEM;
}

void sp_llm_http_cancel(sp_llm_http_req *req)
{
    if (req && req->http_ && req->easy_) finish(req, SP_LLM_ECANCELED);
}

unsigned sp_llm_http_inflight(const sp_llm_http *http)
{
    return http ? http->inflight_ : 0;
}

static void on_timer_closed(uv_handle_t *h)
{
    sp_llm_http *http = h->data;
    http->pending_closes_--;
    maybe_closed(http);
}

void sp_llm_http_close(sp_llm_http *http, sp_llm_http_close_cb close_cb)
{
    if (!http || http->closing_) return;
    http->closing_ = 1;
    http->close_cb_ = close_cb;
    while (http->reqs_) finish(http->reqs_, SP_LLM_ECANCELED);
    curl_multi_cleanup(http->multi_); /* may REMOVE cached connections' sockets */
    http->multi_ = NULL;
    curl_global_cleanup();
    while (http->socks_) sock_close(http->socks_);
    http->pending_closes_++;
    uv_close((uv_handle_t *)&http->timer_, on_timer_closed);
}
