/* llm-sim's streaming answers: the same content as the JSON answers, cut into the events each
 * provider sends, one HTTP chunk per event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "llm_sim.h"

#define PIECE 24 /* bytes of text per delta, like a few tokens */

struct out {
    char *buf;
    size_t len, cap;
    int oom;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->oom) return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 4096;
        while (cap < o->len + n + 1) cap *= 2;
        char *b = realloc(o->buf, cap);
        if (!b) {
            o->oom = 1;
            return;
        }
        o->buf = b;
        o->cap = cap;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

/* One event as one chunk; takes ownership of data (NULL: the literal [DONE]). */
static void event(struct out *o, const char *name, cJSON *data)
{
    char *json = data ? cJSON_PrintUnformatted(data) : NULL;
    const char *d = data ? json : "[DONE]";
    char head[64], size[24];
    int hl = name ? snprintf(head, sizeof head, "event: %s\n", name) : 0;
    size_t n;
    if (data && !json) {
        o->oom = 1;
        cJSON_Delete(data);
        return;
    }
    n = (size_t)hl + 6 + strlen(d) + 2;
    snprintf(size, sizeof size, "%zx\r\n", n);
    put(o, size, strlen(size));
    if (hl) put(o, head, (size_t)hl);
    put(o, "data: ", 6);
    put(o, d, strlen(d));
    put(o, "\n\n\r\n", 4);
    free(json);
    cJSON_Delete(data);
}

static void done(struct out *o, struct response *rs)
{
    put(o, "0\r\n\r\n", 5);
    if (o->oom) {
        free(o->buf);
        rs->status = 500;
        rs->content_type = "text/plain";
        rs->body = strdup("out of memory");
        rs->body_len = rs->body ? strlen(rs->body) : 0;
        return;
    }
    rs->status = 200;
    rs->content_type = "text/event-stream";
    rs->chunked = 1;
    rs->body = o->buf;
    rs->body_len = o->len;
}

void sse_anthropic(struct server *s, const struct parsed *p, const struct sp_llm_sim_reply *r,
                   struct response *rs)
{
    struct out o = {0};
    cJSON *j, *m, *u, *cb, *d;
    char id[48];
    int tool = p->tool && r->is_json;
    uint32_t w = r->usage.cache_write_tokens, rd = r->usage.cache_read_tokens;
    const char *stop = r->truncated ? "max_tokens" : tool ? "tool_use" : "end_turn";

    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", "message_start");
    m = cJSON_AddObjectToObject(j, "message");
    snprintf(id, sizeof id, "msg_sim%016llx", (unsigned long long)s->requests);
    cJSON_AddStringToObject(m, "id", id);
    cJSON_AddStringToObject(m, "type", "message");
    cJSON_AddStringToObject(m, "role", "assistant");
    cJSON_AddArrayToObject(m, "content");
    cJSON_AddStringToObject(m, "model", p->model);
    cJSON_AddNullToObject(m, "stop_reason");
    cJSON_AddNullToObject(m, "stop_sequence");
    u = cJSON_AddObjectToObject(m, "usage");
    cJSON_AddNumberToObject(u, "input_tokens", r->usage.input_tokens - w - rd);
    cJSON_AddNumberToObject(u, "cache_creation_input_tokens", w);
    cJSON_AddNumberToObject(u, "cache_read_input_tokens", rd);
    cJSON_AddNumberToObject(u, "output_tokens", 1);
    event(&o, "message_start", j);

    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", "content_block_start");
    cJSON_AddNumberToObject(j, "index", 0);
    cb = cJSON_AddObjectToObject(j, "content_block");
    if (tool) {
        snprintf(id, sizeof id, "toolu_sim%016llx", (unsigned long long)s->requests);
        cJSON_AddStringToObject(cb, "type", "tool_use");
        cJSON_AddStringToObject(cb, "id", id);
        cJSON_AddStringToObject(cb, "name", p->tool);
        cJSON_AddObjectToObject(cb, "input");
    } else {
        cJSON_AddStringToObject(cb, "type", "text");
        cJSON_AddStringToObject(cb, "text", "");
    }
    event(&o, "content_block_start", j);
    event(&o, "ping", cJSON_Parse("{\"type\":\"ping\"}"));

    for (size_t off = 0; off < r->len; off += PIECE) {
        char piece[PIECE + 1];
        size_t n = r->len - off < PIECE ? r->len - off : PIECE;
        memcpy(piece, r->text + off, n);
        piece[n] = '\0';
        j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "type", "content_block_delta");
        cJSON_AddNumberToObject(j, "index", 0);
        d = cJSON_AddObjectToObject(j, "delta");
        cJSON_AddStringToObject(d, "type", tool ? "input_json_delta" : "text_delta");
        cJSON_AddStringToObject(d, tool ? "partial_json" : "text", piece);
        event(&o, "content_block_delta", j);
    }

    event(&o, "content_block_stop", cJSON_Parse("{\"type\":\"content_block_stop\",\"index\":0}"));
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "type", "message_delta");
    d = cJSON_AddObjectToObject(j, "delta");
    cJSON_AddStringToObject(d, "stop_reason", stop);
    cJSON_AddNullToObject(d, "stop_sequence");
    cJSON_AddNumberToObject(cJSON_AddObjectToObject(j, "usage"), "output_tokens", r->usage.output_tokens);
    event(&o, "message_delta", j);
    event(&o, "message_stop", cJSON_Parse("{\"type\":\"message_stop\"}"));
    done(&o, rs);
}

static cJSON *chunk(struct server *s, const struct parsed *p)
{
    cJSON *j = cJSON_CreateObject();
    char id[48];
    snprintf(id, sizeof id, "chatcmpl-sim%016llx", (unsigned long long)s->requests);
    cJSON_AddStringToObject(j, "id", id);
    cJSON_AddStringToObject(j, "object", "chat.completion.chunk");
    cJSON_AddNumberToObject(j, "created", (double)time(NULL));
    cJSON_AddStringToObject(j, "model", p->model);
    return j;
}

static void choice(cJSON *j, const char *role, const char *content, const char *finish)
{
    cJSON *c = cJSON_CreateObject(), *d;
    cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "choices"), c);
    cJSON_AddNumberToObject(c, "index", 0);
    d = cJSON_AddObjectToObject(c, "delta");
    if (role) cJSON_AddStringToObject(d, "role", role);
    if (content) cJSON_AddStringToObject(d, "content", content);
    cJSON_AddNullToObject(c, "logprobs");
    if (finish) cJSON_AddStringToObject(c, "finish_reason", finish);
    else cJSON_AddNullToObject(c, "finish_reason");
}

void sse_openai(struct server *s, const struct parsed *p, const struct sp_llm_sim_reply *r,
                struct response *rs)
{
    struct out o = {0};
    cJSON *j, *u;

    j = chunk(s, p);
    choice(j, "assistant", "", NULL);
    event(&o, NULL, j);
    for (size_t off = 0; off < r->len; off += PIECE) {
        char piece[PIECE + 1];
        size_t n = r->len - off < PIECE ? r->len - off : PIECE;
        memcpy(piece, r->text + off, n);
        piece[n] = '\0';
        j = chunk(s, p);
        choice(j, NULL, piece, NULL);
        event(&o, NULL, j);
    }
    j = chunk(s, p);
    choice(j, NULL, NULL, r->truncated ? "length" : "stop");
    event(&o, NULL, j);
    if (p->include_usage || p->cache_prompt) {
        j = chunk(s, p);
        cJSON_AddArrayToObject(j, "choices");
        u = cJSON_AddObjectToObject(j, "usage");
        cJSON_AddNumberToObject(u, "prompt_tokens", r->usage.input_tokens);
        cJSON_AddNumberToObject(u, "completion_tokens", r->usage.output_tokens);
        cJSON_AddNumberToObject(u, "total_tokens", r->usage.input_tokens + r->usage.output_tokens);
        cJSON_AddNumberToObject(cJSON_AddObjectToObject(u, "prompt_tokens_details"), "cached_tokens",
                                r->usage.cache_read_tokens);
        if (p->cache_prompt) { /* llama.cpp puts its timings on the last chunk */
            cJSON *t = cJSON_AddObjectToObject(j, "timings");
            uint32_t pn = r->usage.input_tokens - r->usage.cache_read_tokens;
            cJSON_AddNumberToObject(t, "cache_n", r->usage.cache_read_tokens);
            cJSON_AddNumberToObject(t, "prompt_n", pn);
            cJSON_AddNumberToObject(t, "prompt_ms", pn * 0.1);
            cJSON_AddNumberToObject(t, "predicted_n", r->usage.output_tokens);
            cJSON_AddNumberToObject(t, "predicted_ms", (double)r->latency_ms);
        }
        event(&o, NULL, j);
    }
    event(&o, NULL, NULL);
    done(&o, rs);
}
