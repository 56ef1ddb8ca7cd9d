/* llm-sim's two APIs: request validation, faults, the model call and the response bodies, in
 * each provider's own format (including its error format). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "llm_sim.h"

static const char *const fault_names[FAULT_COUNT] = {
    "none", "429", "500", "529", "stall", "slow", "reset", "oversize", "content-type", "401", "quota"};

const char *fault_name(enum fault f)
{
    return (unsigned)f < FAULT_COUNT ? fault_names[f] : "?";
}

int fault_parse(const char *s, enum fault *out)
{
    for (int i = 1; i < FAULT_COUNT; i++)
        if (strcmp(s, fault_names[i]) == 0) return (*out = (enum fault)i), 0;
    return -1;
}

static uint64_t rnd(struct server *s)
{
    uint64_t z = (s->rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static enum fault roll(struct server *s)
{
    for (int i = 1; i < FAULT_COUNT; i++) {
        double u = (double)(rnd(s) >> 11) / 9007199254740992.0;
        if (s->fault_p[i] > 0 && u < s->fault_p[i]) return (enum fault)i;
    }
    return FAULT_NONE;
}

static void set_body(struct response *rs, int status, cJSON *j)
{
    rs->status = status;
    rs->content_type = "application/json";
    rs->body = cJSON_PrintUnformatted(j);
    rs->body_len = rs->body ? strlen(rs->body) : 0;
    cJSON_Delete(j);
}

/* {"type":"error","error":{"type":T,"message":M}} or {"error":{"message":M,"type":T,"param":null,"code":C}} */
static void error_body(struct response *rs, int anthropic, int status, const char *type,
                       const char *code, const char *msg)
{
    cJSON *j = cJSON_CreateObject(), *e;
    if (anthropic) {
        cJSON_AddStringToObject(j, "type", "error");
        e = cJSON_AddObjectToObject(j, "error");
        cJSON_AddStringToObject(e, "type", type);
        cJSON_AddStringToObject(e, "message", msg);
    } else {
        e = cJSON_AddObjectToObject(j, "error");
        cJSON_AddStringToObject(e, "message", msg);
        cJSON_AddStringToObject(e, "type", type);
        cJSON_AddNullToObject(e, "param");
        if (code) cJSON_AddStringToObject(e, "code", code);
        else cJSON_AddNullToObject(e, "code");
    }
    set_body(rs, status, j);
}

static void transport_fault(struct server *s, struct response *rs, int anthropic)
{
    switch (rs->fault) {
    case FAULT_429:
        snprintf(rs->extra_headers, sizeof rs->extra_headers, "retry-after: %u\r\nretry-after-ms: %u\r\n",
                 (s->retry_after_ms + 999) / 1000, s->retry_after_ms);
        if (anthropic) error_body(rs, 1, 429, "rate_limit_error", NULL, "Number of request tokens has exceeded your per-minute rate limit");
        else error_body(rs, 0, 429, "requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again later.");
        break;
    case FAULT_500:
        if (anthropic) error_body(rs, 1, 500, "api_error", NULL, "Internal server error");
        else error_body(rs, 0, 500, "server_error", NULL, "The server had an error while processing your request.");
        break;
    case FAULT_529:
        if (anthropic) error_body(rs, 1, 529, "overloaded_error", NULL, "Overloaded");
        else error_body(rs, 0, 503, "server_error", NULL, "The engine is currently overloaded, please try again later.");
        break;
    case FAULT_401:
        if (anthropic) error_body(rs, 1, 401, "authentication_error", NULL, "invalid x-api-key");
        else error_body(rs, 0, 401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided.");
        break;
    case FAULT_QUOTA:
        if (anthropic) error_body(rs, 1, 400, "invalid_request_error", NULL, "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.");
        else error_body(rs, 0, 429, "insufficient_quota", "insufficient_quota", "You exceeded your current quota, please check your plan and billing details.");
        break;
    case FAULT_STALL:
        rs->stall = 1;
        break;
    case FAULT_RESET:
        rs->reset = 1;
        break;
    case FAULT_CONTENT_TYPE:
        rs->status = 200;
        rs->content_type = "text/html; charset=utf-8";
        rs->body = strdup("<html><head><title>502 Bad Gateway</title></head><body>upstream error</body></html>");
        rs->body_len = rs->body ? strlen(rs->body) : 0;
        break;
    case FAULT_OVERSIZE: {
        size_t n = s->oversize_bytes;
        rs->status = 200;
        rs->content_type = "application/json";
        rs->body = malloc(n + 1);
        if (!rs->body) break;
        memset(rs->body, 'x', n);
        memcpy(rs->body, "{\"pad\":\"", 8);
        memcpy(rs->body + n - 2, "\"}", 2);
        rs->body[n] = '\0';
        rs->body_len = n;
        break;
    }
    default:
        break;
    }
}

/* Text of a message content: a string, or the text parts of an array of blocks. */
static char *content_text(const cJSON *content)
{
    const cJSON *b;
    size_t n = 0;
    char *out;
    if (cJSON_IsString(content)) return strdup(content->valuestring);
    if (!cJSON_IsArray(content)) return NULL;
    cJSON_ArrayForEach(b, content) {
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "text"));
        if (t) n += strlen(t);
    }
    if (!(out = calloc(1, n + 1))) return NULL;
    cJSON_ArrayForEach(b, content) {
        const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "text"));
        if (t) strcat(out, t);
    }
    return out;
}

/* Validates the request like the real API would; returns NULL or the error message. */
static const char *parse_anthropic(const cJSON *j, struct parsed *p)
{
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(j, "messages"), *m, *sys, *tc;
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "model"))) return "model: Field required";
    if (!cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, "max_tokens"))) return "max_tokens: Field required";
    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) < 1) return "messages: at least one message is required";
    p->model = cJSON_GetObjectItemCaseSensitive(j, "model")->valuestring;
    sys = cJSON_GetObjectItemCaseSensitive(j, "system");
    if (sys && !cJSON_IsString(sys) && !cJSON_IsArray(sys)) return "system: Input should be a valid list";
    if (sys) p->system = content_text(sys);
    m = cJSON_GetArrayItem(msgs, cJSON_GetArraySize(msgs) - 1);
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, "role")) ||
        strcmp(cJSON_GetObjectItemCaseSensitive(m, "role")->valuestring, "user") != 0)
        return "messages: the last message must have role user";
    if (!(p->user = content_text(cJSON_GetObjectItemCaseSensitive(m, "content")))) return "messages.content: Input should be a valid list";
    p->stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "stream"));
    tc = cJSON_GetObjectItemCaseSensitive(j, "tool_choice");
    if (tc && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(tc, "type")) &&
        strcmp(cJSON_GetObjectItemCaseSensitive(tc, "type")->valuestring, "tool") == 0) {
        p->tool = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(tc, "name"));
        if (!p->tool) return "tool_choice.name: Field required";
        if (!cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "tools"))) return "tool_choice: tools must be provided";
    }
    return NULL;
}

static const char *parse_openai(const cJSON *j, struct parsed *p)
{
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(j, "messages"), *m;
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(j, "response_format");
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "model"))) return "you must provide a model parameter";
    if (!cJSON_IsArray(msgs) || cJSON_GetArraySize(msgs) < 1) return "'messages' must contain at least one message";
    p->model = cJSON_GetObjectItemCaseSensitive(j, "model")->valuestring;
    cJSON_ArrayForEach(m, msgs) {
        const char *role = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(m, "role"));
        char *t = content_text(cJSON_GetObjectItemCaseSensitive(m, "content"));
        if (!role || !t) {
            free(t);
            return "messages: each message needs a role and content";
        }
        if (strcmp(role, "system") == 0 || strcmp(role, "developer") == 0) {
            free(p->system);
            p->system = t;
        } else if (strcmp(role, "user") == 0) {
            free(p->user);
            p->user = t;
        } else {
            free(t);
        }
    }
    if (!p->user) return "messages: a user message is required";
    if (rf && !cJSON_IsObject(rf)) return "response_format: must be an object";
    p->cache_prompt = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "cache_prompt"));
    p->stream = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(j, "stream"));
    p->include_usage = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(j, "stream_options"), "include_usage"));
    return NULL;
}

static void anthropic_ok(struct server *s, const struct parsed *p, const struct sp_llm_sim_reply *r,
                         struct response *rs)
{
    cJSON *j = cJSON_CreateObject(), *content, *blk, *u, *input = NULL;
    char id[48];
    const char *stop = r->truncated ? "max_tokens" : "end_turn";
    uint32_t w = r->usage.cache_write_tokens, rd = r->usage.cache_read_tokens;
    snprintf(id, sizeof id, "msg_sim%016llx", (unsigned long long)s->requests);
    cJSON_AddStringToObject(j, "id", id);
    cJSON_AddStringToObject(j, "type", "message");
    cJSON_AddStringToObject(j, "role", "assistant");
    cJSON_AddStringToObject(j, "model", p->model);
    content = cJSON_AddArrayToObject(j, "content");
    blk = cJSON_CreateObject();
    cJSON_AddItemToArray(content, blk);
    if (p->tool && r->is_json) input = cJSON_Parse(r->text);
    if (cJSON_IsObject(input)) {
        snprintf(id, sizeof id, "toolu_sim%016llx", (unsigned long long)s->requests);
        cJSON_AddStringToObject(blk, "type", "tool_use");
        cJSON_AddStringToObject(blk, "id", id);
        cJSON_AddStringToObject(blk, "name", p->tool);
        cJSON_AddItemToObject(blk, "input", input);
        stop = "tool_use";
    } else {
        cJSON_Delete(input);
        cJSON_AddStringToObject(blk, "type", "text");
        cJSON_AddStringToObject(blk, "text", r->text);
    }
    cJSON_AddStringToObject(j, "stop_reason", stop);
    cJSON_AddNullToObject(j, "stop_sequence");
    u = cJSON_AddObjectToObject(j, "usage");
    cJSON_AddNumberToObject(u, "input_tokens", r->usage.input_tokens - w - rd);
    cJSON_AddNumberToObject(u, "cache_creation_input_tokens", w);
    cJSON_AddNumberToObject(u, "cache_read_input_tokens", rd);
    cJSON_AddNumberToObject(u, "output_tokens", r->usage.output_tokens);
    set_body(rs, 200, j);
}

static void openai_ok(struct server *s, const struct parsed *p, const struct sp_llm_sim_reply *r,
                      struct response *rs)
{
    cJSON *j = cJSON_CreateObject(), *choices, *c, *m, *u, *d;
    char id[48];
    snprintf(id, sizeof id, "chatcmpl-sim%016llx", (unsigned long long)s->requests);
    cJSON_AddStringToObject(j, "id", id);
    cJSON_AddStringToObject(j, "object", "chat.completion");
    cJSON_AddNumberToObject(j, "created", (double)time(NULL));
    cJSON_AddStringToObject(j, "model", p->model);
    choices = cJSON_AddArrayToObject(j, "choices");
    c = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, c);
    cJSON_AddNumberToObject(c, "index", 0);
    m = cJSON_AddObjectToObject(c, "message");
    cJSON_AddStringToObject(m, "role", "assistant");
    cJSON_AddStringToObject(m, "content", r->text);
    cJSON_AddNullToObject(m, "refusal");
    cJSON_AddNullToObject(c, "logprobs");
    cJSON_AddStringToObject(c, "finish_reason", r->truncated ? "length" : "stop");
    u = cJSON_AddObjectToObject(j, "usage");
    cJSON_AddNumberToObject(u, "prompt_tokens", r->usage.input_tokens);
    cJSON_AddNumberToObject(u, "completion_tokens", r->usage.output_tokens);
    cJSON_AddNumberToObject(u, "total_tokens", r->usage.input_tokens + r->usage.output_tokens);
    d = cJSON_AddObjectToObject(u, "prompt_tokens_details");
    cJSON_AddNumberToObject(d, "cached_tokens", r->usage.cache_read_tokens);
    if (p->cache_prompt) { /* llama.cpp's server adds its timings */
        cJSON *t = cJSON_AddObjectToObject(j, "timings");
        uint32_t pn = r->usage.input_tokens - r->usage.cache_read_tokens;
        cJSON_AddNumberToObject(t, "cache_n", r->usage.cache_read_tokens);
        cJSON_AddNumberToObject(t, "prompt_n", pn);
        cJSON_AddNumberToObject(t, "prompt_ms", pn * 0.1);
        cJSON_AddNumberToObject(t, "predicted_n", r->usage.output_tokens);
        cJSON_AddNumberToObject(t, "predicted_ms", (double)r->latency_ms);
    }
    set_body(rs, 200, j);
}

/* The sim answers the question; its usage accounts the whole prompt as the provider caches it. */
static int ask_model(struct server *s, const cJSON *j, int anthropic, const struct parsed *p,
                     struct sp_llm_sim_reply *r)
{
    struct render rd;
    struct sp_llm_sim_request rq;
    int rc;
    memset(&rd, 0, sizeof rd);
    rc = anthropic ? render_anthropic(j, &rd) : render_openai(j, &rd);
    if (rc == 0) {
        rq = (struct sp_llm_sim_request){p->model, anthropic ? SP_LLM_CACHE_EXPLICIT : SP_LLM_CACHE_AUTO,
                                         rd.parts, rd.n, p->user, uv_now(s->loop)};
        rc = sp_llm_sim_ask(&s->sim, &rq, r);
    }
    render_free(&rd);
    return rc;
}

void api_handle(struct server *s, const struct request *rq, struct response *rs)
{
    size_t pl = strlen(rq->path);
    int anthropic = pl >= 12 && strcmp(rq->path + pl - 12, "/v1/messages") == 0;
    int openai = pl >= 17 && strcmp(rq->path + pl - 17, "/chat/completions") == 0;
    struct parsed p;
    struct sp_llm_sim_reply r;
    cJSON *j;
    const char *bad;
    memset(&p, 0, sizeof p);
    rs->api = anthropic ? "anthropic" : openai ? "openai" : "other";
    if (strcmp(rq->method, "GET") == 0 && (strcmp(rq->path, "/health") == 0 || strstr(rq->path, "/models"))) {
        set_body(rs, 200, cJSON_Parse("{\"status\":\"ok\",\"object\":\"list\",\"data\":[{\"id\":\"sim\",\"object\":\"model\"}]}"));
        return;
    }
    if (!anthropic && !openai) {
        error_body(rs, rq->has_anthropic_version, 404, rq->has_anthropic_version ? "not_found_error" : "invalid_request_error",
                   NULL, "Not found");
        return;
    }
    if (strcmp(rq->method, "POST") != 0) {
        error_body(rs, anthropic, 404, anthropic ? "not_found_error" : "invalid_request_error", NULL, "Use POST");
        return;
    }
    if (s->require_key && strcmp(rq->api_key, s->require_key) != 0) {
        rs->fault = FAULT_401;
        transport_fault(s, rs, anthropic);
        return;
    }
    if (anthropic && !rq->has_anthropic_version) {
        error_body(rs, 1, 400, "invalid_request_error", NULL, "anthropic-version: header is required");
        return;
    }
    rs->fault = roll(s);
    if (rs->fault != FAULT_NONE && rs->fault != FAULT_SLOW) {
        transport_fault(s, rs, anthropic);
        return;
    }
    j = cJSON_ParseWithLength(rq->body, rq->body_len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        error_body(rs, anthropic, 400, "invalid_request_error", NULL, "The request body is not valid JSON.");
        return;
    }
    bad = anthropic ? parse_anthropic(j, &p) : parse_openai(j, &p);
    if (bad) {
        error_body(rs, anthropic, 400, "invalid_request_error", NULL, bad);
    } else if (strncmp(p.model, "no-such", 7) == 0) { /* how both APIs answer an unknown model */
        if (anthropic) error_body(rs, 1, 404, "not_found_error", NULL, "model: no such model");
        else error_body(rs, 0, 404, "invalid_request_error", "model_not_found",
                        "The model does not exist or you do not have access to it.");
    } else if (ask_model(s, j, anthropic, &p, &r) < 0) {
        error_body(rs, anthropic, 500, anthropic ? "api_error" : "server_error", NULL, "out of memory");
    } else {
        rs->sim_fault = r.fault;
        rs->delay_ms = r.latency_ms + (rs->fault == FAULT_SLOW ? s->slow_ms : 0);
        rs->in_tokens = r.usage.input_tokens;
        rs->out_tokens = r.usage.output_tokens;
        if (anthropic) (p.stream ? sse_anthropic : anthropic_ok)(s, &p, &r, rs);
        else (p.stream ? sse_openai : openai_ok)(s, &p, &r, rs);
        sp_llm_sim_reply_free(&r);
    }
    cJSON_Delete(j);
    free(p.system);
    free(p.user);
}
