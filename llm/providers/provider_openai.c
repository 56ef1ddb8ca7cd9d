/* OpenAI Chat Completions: POST {base}/chat/completions, served by OpenAI, llama.cpp's server,
 * Ollama's /v1 and vLLM. JSON output is forced with response_format json_schema (strict). The
 * system prompt is the first message so servers' prefix caches (OpenAI automatic caching,
 * llama.cpp cache_prompt) see an identical prefix on every call. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sse.h"
#include "slowpath/llm/error.h"
#include "slowpath/llm/opts.h"
#include "slowpath/llm/provider.h"

/* OpenAI's own API rejects unknown request fields, so llama.cpp's cache_prompt is sent only to
 * other servers. */
static int is_openai_cloud(const char *base)
{
    return strstr(base, "://api.openai.com") != NULL;
}

static int build(const char *base, const char *model, const char *key,
                 const struct sp_llm_prompt *p, struct sp_llm_wire *out)
{
    cJSON *root, *msgs, *m, *rf, *js, *schema;
    size_t bl;
    memset(out, 0, sizeof *out);
    if (!base || !model || !p || !p->system || !p->user) return SP_LLM_EINVAL;
    root = cJSON_CreateObject();
    if (!root) return SP_LLM_ENOMEM;
    cJSON_AddStringToObject(root, "model", model);
    msgs = cJSON_AddArrayToObject(root, "messages");
    m = cJSON_CreateObject();
    cJSON_AddItemToArray(msgs, m);
    cJSON_AddStringToObject(m, "role", "system");
    cJSON_AddStringToObject(m, "content", p->system);
    m = cJSON_CreateObject();
    cJSON_AddItemToArray(msgs, m);
    cJSON_AddStringToObject(m, "role", "user");
    cJSON_AddStringToObject(m, "content", p->user);
    /* OpenAI deprecated max_tokens (newer models reject it) for max_completion_tokens; the
     * compatible servers (llama.cpp, Ollama, vLLM) all take max_tokens */
    cJSON_AddNumberToObject(root, is_openai_cloud(base) ? "max_completion_tokens" : "max_tokens",
                            p->max_tokens ? p->max_tokens : SP_LLM_DEFAULT_MAX_TOKENS);
    cJSON_AddNumberToObject(root, "temperature", 0);
    if (p->schema_name && p->schema) {
        schema = cJSON_Parse(p->schema);
        if (!cJSON_IsObject(schema)) {
            cJSON_Delete(schema);
            cJSON_Delete(root);
            return SP_LLM_EINVAL;
        }
        rf = cJSON_AddObjectToObject(root, "response_format");
        cJSON_AddStringToObject(rf, "type", "json_schema");
        js = cJSON_AddObjectToObject(rf, "json_schema");
        cJSON_AddStringToObject(js, "name", p->schema_name);
        cJSON_AddBoolToObject(js, "strict", 1);
        cJSON_AddItemToObject(js, "schema", schema);
    }
    if (!is_openai_cloud(base)) cJSON_AddBoolToObject(root, "cache_prompt", 1);
    if (p->stream) { /* include_usage: the last chunk carries usage (choices empty) */
        cJSON_AddBoolToObject(root, "stream", 1);
        cJSON_AddBoolToObject(cJSON_AddObjectToObject(root, "stream_options"), "include_usage", 1);
    }
    out->body = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/') bl--;
    out->url = malloc(bl + sizeof "/chat/completions");
    if (out->url) {
        memcpy(out->url, base, bl);
        memcpy(out->url + bl, "/chat/completions", sizeof "/chat/completions");
    }
    out->headers[0] = strdup("Content-Type: application/json");
    if (key && *key) {
        size_t n = strlen(key) + sizeof "Authorization: Bearer ";
        out->headers[1] = malloc(n);
        if (out->headers[1]) snprintf(out->headers[1], n, "Authorization: Bearer %s", key);
        if (!out->headers[1]) out->headers[0] = (free(out->headers[0]), NULL);
    }
    if (!out->body || !out->url || !out->headers[0]) {
        sp_llm_wire_free(out);
        return SP_LLM_ENOMEM;
    }
    out->body_len = strlen(out->body);
    return 0;
}

static int parse_error(long status, const char *body, size_t len, struct sp_llm_answer *out)
{
    cJSON *j = sp_llm_json_parse(body, len);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    const char *msg, *type, *code;
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(e, "code");
    char codebuf[32] = "";
    uint64_t numcode;
    if (cJSON_IsString(e)) { /* some compatible servers send {"error":"text"} */
        msg = e->valuestring;
        type = code = NULL;
    } else {
        msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
        type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "type"));
        code = cJSON_GetStringValue(c);
        if (sp_llm_json_uint(e, "code", 999, &numcode) == 0) { /* llama.cpp: the status, a number */
            snprintf(codebuf, sizeof codebuf, "%u", (unsigned)numcode);
            code = codebuf;
        }
    }
    int err = sp_llm_classify_status(status, type, code, msg);
    snprintf(out->message, sizeof out->message, "HTTP %ld %s%s%s: %s", status,
             type ? type : "(no error type)", code ? "/" : "", code ? code : "",
             msg ? msg : "(no error body)");
    cJSON_Delete(j);
    return err;
}

/* A llama.cpp duration: a finite, non-negative number of ms (absent or null reads as 0). */
static int timings_ms(const cJSON *t, const char *name, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, name);
    if (!v || cJSON_IsNull(v)) return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < 0) return -1;
    *out = v->valuedouble;
    return 0;
}

/* llama.cpp's timings are diagnostics, not part of the answer: an object with a count that is
 * not a uint32 or a duration that is not a finite non-negative number is ignored whole (the
 * trace shows no half-read figures), and the answer still counts. */
static void parse_timings(const cJSON *t, struct sp_llm_timings *out)
{
    struct sp_llm_timings tm;
    memset(&tm, 0, sizeof tm);
    if (!cJSON_IsObject(t) || sp_llm_json_u32(t, "prompt_n", 0, &tm.prompt_n) < 0 ||
        sp_llm_json_u32(t, "predicted_n", 0, &tm.predicted_n) < 0 ||
        sp_llm_json_u32(t, "cache_n", 0, &tm.cache_n) < 0 || timings_ms(t, "prompt_ms", &tm.prompt_ms) < 0 ||
        timings_ms(t, "predicted_ms", &tm.predicted_ms) < 0)
        return;
    tm.present = 1;
    *out = tm;
}

/* usage is optional (some servers omit it); when present it must be well formed */
static int parse_usage(const cJSON *j, struct sp_llm_answer *out)
{
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "usage");
    const cJSON *d;
    if (u && !cJSON_IsNull(u)) {
        if (!cJSON_IsObject(u) || sp_llm_json_u32(u, "prompt_tokens", 1, &out->usage.input_tokens) < 0 ||
            sp_llm_json_u32(u, "completion_tokens", 1, &out->usage.output_tokens) < 0)
            return SP_LLM_EBAD_RESPONSE;
        d = cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens_details");
        if (cJSON_IsObject(d) && sp_llm_json_u32(d, "cached_tokens", 0, &out->usage.cache_read_tokens) < 0)
            return SP_LLM_EBAD_RESPONSE;
    }
    parse_timings(cJSON_GetObjectItemCaseSensitive(j, "timings"), &out->timings); /* llama.cpp */
    if (out->timings.present && !out->usage.cache_read_tokens) out->usage.cache_read_tokens = out->timings.cache_n;
    return 0;
}

/* Streaming: "data: {chat.completion.chunk}" events whose choices[0].delta carry content
 * pieces, finish_reason on the last choice chunk, usage (and llama.cpp's timings) on a final
 * chunk, then "data: [DONE]". A stream without [DONE] was cut short. */
static int parse_stream(const char *body, size_t len, struct sp_llm_answer *out)
{
    struct sp_llm_sse_event ev;
    const char *p = body;
    char *text = NULL;
    size_t tl = 0, tc = 0;
    int rc, err = 0, done = 0, refused = 0;
    while (!err && !done && (rc = sp_llm_sse_next(&p, body + len, &ev)) != 0) {
        cJSON *j;
        const cJSON *choices, *c0, *d, *fr, *e;
        if (rc < 0) {
            err = rc;
            break;
        }
        if (!ev.data) continue;
        if (strcmp(ev.data, "[DONE]") == 0) {
            free(ev.data);
            done = 1;
            break;
        }
        j = sp_llm_json_parse(ev.data, ev.data_len);
        free(ev.data);
        e = cJSON_GetObjectItemCaseSensitive(j, "error");
        choices = cJSON_GetObjectItemCaseSensitive(j, "choices");
        c0 = cJSON_GetArrayItem(choices, 0);
        d = cJSON_GetObjectItemCaseSensitive(c0, "delta");
        fr = cJSON_GetObjectItemCaseSensitive(c0, "finish_reason");
        if (cJSON_IsObject(e)) { /* an error in the middle of a stream */
            const char *m = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
            const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "type"));
            err = sp_llm_classify_status(0, t, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code")), m);
            if (err == SP_LLM_EBAD_RESPONSE) err = SP_LLM_ESERVER;
            snprintf(out->message, sizeof out->message, "stream error %s: %s", t ? t : "?", m ? m : "-");
        } else if (!cJSON_IsObject(j) || (choices && !cJSON_IsArray(choices)) || (c0 && !cJSON_IsObject(d)) ||
                   (fr && !cJSON_IsString(fr) && !cJSON_IsNull(fr)) || parse_usage(j, out) < 0) {
            err = SP_LLM_EBAD_RESPONSE;
        } else if (c0) {
            const cJSON *ct = cJSON_GetObjectItemCaseSensitive(d, "content");
            const cJSON *rf = cJSON_GetObjectItemCaseSensitive(d, "refusal");
            if (cJSON_IsString(ct) && sp_llm_buf_append(&text, &tl, &tc, ct->valuestring, strlen(ct->valuestring)) < 0)
                err = SP_LLM_ENOMEM;
            else if (ct && !cJSON_IsString(ct) && !cJSON_IsNull(ct))
                err = SP_LLM_EBAD_RESPONSE;
            if (cJSON_IsString(rf) && *rf->valuestring) {
                refused = 1;
                snprintf(out->message, sizeof out->message, "refusal: %s", rf->valuestring);
            }
            if (cJSON_IsString(fr)) snprintf(out->stop_reason, sizeof out->stop_reason, "%s", fr->valuestring);
        }
        cJSON_Delete(j);
    }
    if (!err && !done) err = SP_LLM_EBAD_RESPONSE;
    if (err) {
        free(text);
        if (!out->message[0]) snprintf(out->message, sizeof out->message, "malformed or incomplete event stream");
        return err;
    }
    out->text = text;
    out->text_len = tl;
    if (refused || strcmp(out->stop_reason, "content_filter") == 0) return SP_LLM_EREFUSAL;
    if (strcmp(out->stop_reason, "length") == 0) return SP_LLM_ETRUNCATED;
    if (!text) {
        snprintf(out->message, sizeof out->message, "stream has no content");
        return SP_LLM_ENO_CONTENT;
    }
    return 0;
}

static int parse(long status, const char *ctype, const char *body, size_t len,
                 struct sp_llm_answer *out)
{
    cJSON *j;
    const cJSON *choices, *c0, *msg, *content, *refusal, *fr;
    int err;
    memset(out, 0, sizeof *out);
    if (status < 200 || status > 299) return parse_error(status, body, len, out);
    if (ctype && strcmp(ctype, "text/event-stream") == 0) return parse_stream(body, len, out);
    if (!ctype || strcmp(ctype, "application/json") != 0) {
        snprintf(out->message, sizeof out->message, "content-type '%s'", ctype ? ctype : "");
        return SP_LLM_ECONTENT_TYPE;
    }
    j = sp_llm_json_parse(body, len);
    choices = cJSON_GetObjectItemCaseSensitive(j, "choices");
    c0 = cJSON_GetArrayItem(choices, 0);
    msg = cJSON_GetObjectItemCaseSensitive(c0, "message");
    content = cJSON_GetObjectItemCaseSensitive(msg, "content");
    refusal = cJSON_GetObjectItemCaseSensitive(msg, "refusal");
    fr = cJSON_GetObjectItemCaseSensitive(c0, "finish_reason");
    if (!cJSON_IsObject(j) || !cJSON_IsArray(choices) || !cJSON_IsObject(c0) ||
        !cJSON_IsObject(msg) || (content && !cJSON_IsString(content) && !cJSON_IsNull(content)) ||
        (fr && !cJSON_IsString(fr) && !cJSON_IsNull(fr)) ||
        (refusal && !cJSON_IsString(refusal) && !cJSON_IsNull(refusal))) {
        snprintf(out->message, sizeof out->message, "not a chat.completion object");
        cJSON_Delete(j);
        return SP_LLM_EBAD_RESPONSE;
    }
    if ((err = parse_usage(j, out)) < 0) {
        snprintf(out->message, sizeof out->message, "bad usage object");
        cJSON_Delete(j);
        return err;
    }
    if (cJSON_IsString(fr)) snprintf(out->stop_reason, sizeof out->stop_reason, "%s", fr->valuestring);
    if (cJSON_IsString(content)) {
        out->text = strdup(content->valuestring);
        if (!out->text) {
            cJSON_Delete(j);
            return SP_LLM_ENOMEM;
        }
        out->text_len = strlen(out->text);
    }
    if (cJSON_IsString(refusal)) {
        snprintf(out->message, sizeof out->message, "refusal: %s", refusal->valuestring);
        cJSON_Delete(j);
        return SP_LLM_EREFUSAL;
    }
    cJSON_Delete(j);
    if (strcmp(out->stop_reason, "length") == 0) return SP_LLM_ETRUNCATED;
    if (strcmp(out->stop_reason, "content_filter") == 0) return SP_LLM_EREFUSAL;
    if (!out->text) {
        snprintf(out->message, sizeof out->message, "message has no content");
        return SP_LLM_ENO_CONTENT;
    }
    return 0;
}

const struct sp_llm_provider sp_llm_provider_openai = {"openai", build, parse};
