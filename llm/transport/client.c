/* The ask lifecycle: admit (in-flight bound, breaker) -> attempt (sim timer or HTTP) ->
 * classify -> maybe back off and retry within the one deadline -> complete exactly once.
 *
 * Clocks: latency and deadlines are measured with uv_hrtime. The sim's thinking time and the
 * backoff are uv timers, which count from the loop's cached time; that time is as old as the
 * current loop iteration, so each is started after uv_update_time, or it would fire early by
 * however long the iteration has run (and a sim answer would arrive before its latency). */
#include "slowpath/llm/client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slowpath/llm/error.h"
#include "slowpath/llm/opts.h"
#include "slowpath/llm/prefix.h"

enum phase { PH_SIM, PH_HTTP, PH_BACKOFF };

struct sp_llm_ask_ {
    sp_llm_client *c;
    sp_llm_ask_cb cb;
    void *data;
    enum phase phase;
    struct sp_llm_sim_reply sim;
    struct sp_llm_wire wire;
    sp_llm_http_req req;
    uv_timer_t timer;
    uint64_t start_ns, deadline_ns;
    unsigned attempts;
    long status;
    char message[256];
    struct sp_llm_ask_ *next, *prev;
};
typedef struct sp_llm_ask_ ask_t;

static void default_log(void *d, const char *line)
{
    (void)d;
    fprintf(stderr, "%s\n", line);
}

static void maybe_closed(sp_llm_client *c)
{
    if (c->closing_ && c->pending_ == 0 && c->close_cb_) {
        sp_llm_client_close_cb cb = c->close_cb_;
        c->close_cb_ = NULL;
        cb(c);
    }
}

static void on_ask_closed(uv_handle_t *h)
{
    ask_t *a = h->data;
    sp_llm_client *c = a->c;
    sp_llm_sim_reply_free(&a->sim);
    sp_llm_wire_free(&a->wire);
    free(a);
    c->pending_--;
    maybe_closed(c);
}

/* Provider messages may quote the key (OpenAI masks most of it; be sure). */
static void redact(char *msg, const char *key)
{
    size_t kl = key ? strlen(key) : 0;
    char *p;
    if (kl < 4) return;
    while ((p = strstr(msg, key)) != NULL) {
        static const char r[] = "[redacted]";
        size_t rest = strlen(p + kl) + 1;
        if (kl >= sizeof r - 1) {
            memcpy(p, r, sizeof r - 1);
            memmove(p + sizeof r - 1, p + kl, rest);
        } else {
            memset(p, '*', kl);
        }
    }
}

static void complete(ask_t *a, int err, const struct sp_llm_answer *ans)
{
    sp_llm_client *c = a->c;
    struct sp_llm_result r;
    memset(&r, 0, sizeof r);
    if (a->prev) a->prev->next = a->next;
    else c->asks_ = a->next;
    if (a->next) a->next->prev = a->prev;
    c->inflight_--;
    r.err = err;
    r.stop_reason = "";
    r.message = a->message;
    r.http_status = a->status;
    r.attempts = a->attempts;
    r.latency_ms = (double)(uv_hrtime() - a->start_ns) / 1e6;
    r.sim_fault = a->sim.fault;
    if (ans) {
        r.text = ans->text;
        r.text_len = ans->text_len;
        r.stop_reason = ans->stop_reason;
        r.usage = ans->usage;
        r.timings = ans->timings;
    }
    c->stats_.input_tokens += r.usage.input_tokens;
    c->stats_.output_tokens += r.usage.output_tokens;
    c->stats_.cache_write_tokens += r.usage.cache_write_tokens;
    c->stats_.cache_read_tokens += r.usage.cache_read_tokens;
    if (err == 0) c->stats_.ok++;
    else c->stats_.failed++;
    if (err == SP_LLM_ETIMEOUT) c->stats_.timeouts++;
    if (a->cb) a->cb(c, &r, a->data);
    uv_timer_stop(&a->timer);
    uv_close((uv_handle_t *)&a->timer, on_ask_closed);
}

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* "Equal jitter" exponential backoff, or the server's retry-after plus up to 10% so a crowd of
 * clients told the same instant does not return at once. */
static uint64_t backoff_ms(sp_llm_client *c, unsigned attempt, int64_t retry_after_ms)
{
    uint64_t r = xorshift(&c->rng_), ceil;
    if (retry_after_ms >= 0) {
        uint64_t ra = (uint64_t)retry_after_ms;
        if (ra > c->cfg_.retry_after_max_ms) ra = c->cfg_.retry_after_max_ms;
        return ra + r % (ra / 10 + 1);
    }
    ceil = (uint64_t)c->cfg_.backoff_base_ms << (attempt > 16 ? 16 : attempt - 1);
    if (ceil > c->cfg_.backoff_max_ms) ceil = c->cfg_.backoff_max_ms;
    return ceil / 2 + r % (ceil / 2 + 1);
}

static void open_breaker(sp_llm_client *c, int err, const char *msg)
{
    char line[1280];
    if (c->breaker_open_) return;
    c->breaker_open_ = 1;
    snprintf(line, sizeof line,
             "slowpath: llm: circuit breaker OPEN: %s from %s at %s: %s (%s); decisions now fail "
             "fast until the key or budget is fixed",
             sp_llm_errname(err), c->prov_->name, c->cfg_.url, msg && *msg ? msg : "-",
             sp_llm_strerror(err));
    c->log_(c->log_data_, line);
}

static void on_http_done(sp_llm_http_req *req, const struct sp_llm_http_resp *resp);

/* Returns 0, or a negative code when the request could not even start (then the caller
 * decides whether to complete the ask or report the error synchronously). */
static int start_attempt(ask_t *a)
{
    sp_llm_client *c = a->c;
    uint64_t now = uv_hrtime();
    int rc;
    if (now >= a->deadline_ns) return SP_LLM_ETIMEOUT;
    memset(&a->req, 0, sizeof a->req);
    a->req.data = a;
    a->req.url = a->wire.url;
    a->req.headers = (const char *const *)a->wire.headers;
    a->req.body = a->wire.body;
    a->req.body_len = a->wire.body_len;
    a->req.timeout_ms = (uint32_t)((a->deadline_ns - now + 999999) / 1000000);
    a->req.max_response = c->cfg_.max_response;
    a->phase = PH_HTTP;
    a->attempts++;
    if ((rc = sp_llm_http_request(&c->http_, &a->req, on_http_done)) < 0) a->attempts--;
    return rc;
}

static void on_timer(uv_timer_t *t)
{
    ask_t *a = t->data;
    if (a->phase == PH_BACKOFF) {
        int rc = a->c->breaker_open_ ? SP_LLM_EBREAKER : start_attempt(a);
        if (rc < 0) complete(a, rc, NULL);
        return;
    }
    /* PH_SIM: the model "answered", unless the deadline came first */
    if (a->sim.latency_ms < a->c->cfg_.timeout_ms) {
        struct sp_llm_answer ans;
        memset(&ans, 0, sizeof ans);
        ans.text = a->sim.text;
        ans.text_len = a->sim.len;
        snprintf(ans.stop_reason, sizeof ans.stop_reason, "%s", a->sim.truncated ? "max_tokens" : "end_turn");
        ans.usage = a->sim.usage;
        complete(a, a->sim.truncated ? SP_LLM_ETRUNCATED : 0, &ans);
    } else {
        complete(a, SP_LLM_ETIMEOUT, NULL);
    }
}

static void on_http_done(sp_llm_http_req *req, const struct sp_llm_http_resp *resp)
{
    ask_t *a = req->data;
    sp_llm_client *c = a->c;
    struct sp_llm_answer ans;
    int err;
    memset(&ans, 0, sizeof ans);
    if (resp->err == SP_LLM_ECANCELED) {
        complete(a, SP_LLM_ECANCELED, NULL);
        return;
    }
    if (resp->err) {
        err = resp->err;
        a->status = 0;
        snprintf(a->message, sizeof a->message, "%s", sp_llm_strerror(err));
    } else {
        a->status = resp->status;
        err = c->prov_->parse(resp->status, resp->content_type, resp->body, resp->body_len, &ans);
        snprintf(a->message, sizeof a->message, "%s", ans.message);
        redact(a->message, c->cfg_.api_key);
    }
    if (sp_llm_error_trips_breaker(err)) {
        open_breaker(c, err, a->message);
    } else if (sp_llm_error_retryable(err) && a->attempts <= c->cfg_.max_retries && !c->closing_) {
        uint64_t delay = backoff_ms(c, a->attempts, resp->err ? -1 : resp->retry_after_ms);
        if (uv_hrtime() + delay * 1000000 < a->deadline_ns) {
            c->stats_.retries++;
            a->phase = PH_BACKOFF;
            uv_update_time(c->loop_);
            uv_timer_start(&a->timer, on_timer, delay, 0);
            sp_llm_answer_free(&ans);
            return;
        }
    }
    complete(a, err, &ans);
    sp_llm_answer_free(&ans);
}

int sp_llm_client_init(uv_loop_t *loop, sp_llm_client *c, const struct sp_llm_config *cfg)
{
    int rc;
    if (!loop || !c || !cfg) return SP_LLM_EINVAL;
    memset(c, 0, sizeof *c);
    c->loop_ = loop;
    c->cfg_ = *cfg;
    if (!c->cfg_.max_inflight) c->cfg_.max_inflight = SP_LLM_DEFAULT_MAX_INFLIGHT;
    if (!c->cfg_.timeout_ms) c->cfg_.timeout_ms = SP_LLM_DEFAULT_TIMEOUT_MS;
    if (!c->cfg_.backoff_base_ms) c->cfg_.backoff_base_ms = SP_LLM_DEFAULT_BACKOFF_BASE_MS;
    if (!c->cfg_.backoff_max_ms) c->cfg_.backoff_max_ms = SP_LLM_DEFAULT_BACKOFF_MAX_MS;
    if (!c->cfg_.retry_after_max_ms) c->cfg_.retry_after_max_ms = SP_LLM_DEFAULT_RETRY_AFTER_MAX_MS;
    if (c->cfg_.provider == SP_LLM_PROVIDER_OPENAI) c->prov_ = &sp_llm_provider_openai;
    else if (c->cfg_.provider == SP_LLM_PROVIDER_ANTHROPIC) c->prov_ = &sp_llm_provider_anthropic;
    else if (c->cfg_.provider != SP_LLM_PROVIDER_SIM) return SP_LLM_EINVAL;
    if (c->prov_ && !c->cfg_.url[0]) return SP_LLM_EINVAL; /* config not finished */
    if (c->cfg_.provider == SP_LLM_PROVIDER_ANTHROPIC && !c->cfg_.api_key[0]) return SP_LLM_ENOKEY;
    /* the prefixes are built here, at start-up, not on the first decision */
    if ((rc = sp_llm_prefix_configure(c->cfg_.cache_min_tokens)) < 0) return rc;
    sp_llm_sim_init(&c->sim_, &c->cfg_.sim);
    /* one connection per ask in flight: a transfer queued inside curl for a connection slot
     * would wait on curl's timers, not on ours */
    struct sp_llm_http_opts ho = {0, c->cfg_.max_inflight};
    if ((rc = sp_llm_http_init(loop, &c->http_, &ho)) < 0) return rc;
    c->http_up_ = 1;
    c->rng_ = uv_hrtime() ^ (uint64_t)(uintptr_t)c ^ 0x9e3779b97f4a7c15ull;
    if (!c->rng_) c->rng_ = 1;
    c->log_ = default_log;
    return 0;
}

void sp_llm_client_set_log(sp_llm_client *c, sp_llm_log_fn fn, void *log_data)
{
    c->log_ = fn ? fn : default_log;
    c->log_data_ = log_data;
}

void sp_llm_prompt_for(struct sp_llm_prompt *p, enum sp_decision_kind kind, enum sp_llm_format fmt,
                       enum sp_authority authority, const char *user)
{
    const struct sp_llm_prefix *px = sp_llm_prefix_for(kind, fmt, authority);
    memset(p, 0, sizeof *p);
    /* without memory for the prefix, the bare contract still answers (uncached) */
    p->system = px ? px->system : sp_llm_decision_system_prompt(kind, fmt, authority);
    p->schema = sp_llm_decision_schema(kind, fmt);
    p->schema_name = sp_llm_decision_schema_name(kind, fmt);
    p->user = user;
}

/* The in-process model sees what an Anthropic request carries: the schema (the tool), the system
 * prompt with its cache marker, then the question; so its usage says what caching would give. It
 * answers at once (the answer waits for its latency timer), so the prompt needs no copy. */
static int sim_answer(sp_llm_client *c, const struct sp_llm_prompt *prompt, ask_t *a)
{
    const char *schema = prompt->schema_name && prompt->schema ? prompt->schema : "";
    struct sp_llm_cache_part parts[3] = {{schema, strlen(schema), 0},
                                         {prompt->system, strlen(prompt->system), 1},
                                         {prompt->user, strlen(prompt->user), 0}};
    struct sp_llm_sim_request rq = {c->cfg_.model, SP_LLM_CACHE_EXPLICIT, parts, 3, prompt->user, uv_now(c->loop_)};
    return sp_llm_sim_ask(&c->sim_, &rq, &a->sim);
}

int sp_llm_client_admit(sp_llm_client *c)
{
    if (!c) return SP_LLM_EINVAL;
    if (c->closing_) return SP_LLM_ECLOSING;
    /* a refusal counts as the ask it refuses; an admitted ask is counted by sp_llm_ask */
    if (c->breaker_open_) {
        c->stats_.asks++;
        c->stats_.breaker_rejects++;
        return SP_LLM_EBREAKER;
    }
    if (c->inflight_ >= c->cfg_.max_inflight) {
        c->stats_.asks++;
        c->stats_.busy++;
        return SP_LLM_EBUSY;
    }
    return 0;
}

int sp_llm_ask(sp_llm_client *c, const struct sp_llm_prompt *prompt, sp_llm_ask_cb cb, void *data)
{
    ask_t *a;
    int rc;
    if (!c || !prompt || !prompt->system || !prompt->user || !cb) return SP_LLM_EINVAL;
    if ((rc = sp_llm_client_admit(c)) < 0) return rc;
    c->stats_.asks++;
    if (!(a = calloc(1, sizeof *a))) return SP_LLM_ENOMEM;
    a->c = c;
    a->cb = cb;
    a->data = data;
    a->start_ns = uv_hrtime();
    a->deadline_ns = a->start_ns + (uint64_t)c->cfg_.timeout_ms * 1000000;
    if (c->prov_) {
        struct sp_llm_prompt p = *prompt;
        if (!p.max_tokens) p.max_tokens = c->cfg_.max_tokens;
        if (c->cfg_.stream) p.stream = 1;
        rc = c->prov_->build(c->cfg_.url, c->cfg_.model, c->cfg_.api_key, &p, &a->wire);
    } else {
        /* the model's time (its latency timer, the cache's lifetimes) runs from now, not from when
         * the loop last woke: start-up, which builds the prompt prefixes, may lie between */
        uv_update_time(c->loop_);
        rc = sim_answer(c, prompt, a);
    }
    if (rc < 0) {
        sp_llm_sim_reply_free(&a->sim);
        free(a);
        return rc;
    }
    uv_timer_init(c->loop_, &a->timer);
    a->timer.data = a;
    a->next = c->asks_;
    if (a->next) a->next->prev = a;
    c->asks_ = a;
    c->inflight_++;
    c->pending_++;
    if (c->prov_) {
        if ((rc = start_attempt(a)) < 0) { /* never call back from inside sp_llm_ask() */
            c->asks_ = a->next;
            if (a->next) a->next->prev = NULL;
            c->inflight_--;
            uv_close((uv_handle_t *)&a->timer, on_ask_closed);
            return rc;
        }
    } else {
        uint32_t wait = a->sim.latency_ms < c->cfg_.timeout_ms ? a->sim.latency_ms : c->cfg_.timeout_ms;
        a->phase = PH_SIM;
        a->attempts = 1;
        /* the answer is due `wait` after start_ns; the loop's cached clock is as old as its last
         * turn (an ask after a slow set-up found it 30-40 ms stale and answered at once) */
        uv_update_time(c->loop_);
        uv_timer_start(&a->timer, on_timer, wait, 0);
    }
    return 0;
}

unsigned sp_llm_client_inflight(const sp_llm_client *c)
{
    return c ? c->inflight_ : 0;
}

int sp_llm_client_breaker_open(const sp_llm_client *c)
{
    return c ? c->breaker_open_ : 0;
}

void sp_llm_client_breaker_reset(sp_llm_client *c)
{
    if (c) c->breaker_open_ = 0;
}

const struct sp_llm_client_stats *sp_llm_client_stats(const sp_llm_client *c)
{
    return &c->stats_;
}

static void on_http_closed(sp_llm_http *http)
{
    sp_llm_client *c = http->data;
    c->pending_--;
    maybe_closed(c);
}

void sp_llm_client_close(sp_llm_client *c, sp_llm_client_close_cb close_cb)
{
    if (!c || c->closing_) return;
    c->closing_ = 1;
    c->close_cb_ = close_cb;
    while (c->asks_) {
        ask_t *a = c->asks_;
        if (a->phase == PH_HTTP) sp_llm_http_cancel(&a->req);
        else complete(a, SP_LLM_ECANCELED, NULL);
    }
    if (c->http_up_) {
        c->http_up_ = 0;
        c->pending_++;
        c->http_.data = c;
        sp_llm_http_close(&c->http_, on_http_closed);
    }
    maybe_closed(c);
}
