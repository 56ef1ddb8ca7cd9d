/* Anthropic Messages API: POST {base}/v1/messages. The static system prompt goes as one text
 * block with cache_control so the provider caches it (tools + system form the cached prefix);
 * JSON output is forced with a single tool and tool_choice naming it, so the answer arrives as
 * a tool_use block whose input is the object. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "sse.h"
#include "slowpath/llm/error.h"
#include "slowpath/llm/opts.h"
#include "slowpath/llm/provider.h"

static char *dupf(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s", a, b);
    return s;
}

static int build(const char *base, const char *model, const char *key,
                 const struct sp_llm_prompt *p, struct sp_llm_wire *out)
{
    cJSON *root, *sys, *blk, *cc, *msgs, *msg, *tools, *tool, *schema, *choice;
    size_t bl;
    memset(out, 0, sizeof *out);
    if (!base || !model || !p || !p->system || !p->user) return SP_LLM_EINVAL;
    if (!key || !*key) return SP_LLM_ENOKEY;
    root = cJSON_CreateObject();
    if (!root) return SP_LLM_ENOMEM;
    cJSON_AddStringToObject(root, "model", model);
    cJSON_AddNumberToObject(root, "max_tokens", p->max_tokens ? p->max_tokens : SP_LLM_DEFAULT_MAX_TOKENS);
    cJSON_AddNumberToObject(root, "temperature", 0);
    if (p->stream) cJSON_AddBoolToObject(root, "stream", 1);
    sys = cJSON_AddArrayToObject(root, "system");
    blk = cJSON_CreateObject();
    cJSON_AddItemToArray(sys, blk);
    cJSON_AddStringToObject(blk, "type", "text");
    cJSON_AddStringToObject(blk, "text", p->system);
    cc = cJSON_AddObjectToObject(blk, "cache_control");
    cJSON_AddStringToObject(cc, "type", "ephemeral");
    msgs = cJSON_AddArrayToObject(root, "messages");
    msg = cJSON_CreateObject();
    cJSON_AddItemToArray(msgs, msg);
    cJSON_AddStringToObject(msg, "role", "user");
    cJSON_AddStringToObject(msg, "content", p->user);
    if (p->schema_name && p->schema) {
        schema = cJSON_Parse(p->schema);
        if (!cJSON_IsObject(schema)) {
            cJSON_Delete(schema);
            cJSON_Delete(root);
            return SP_LLM_EINVAL;
        }
        tools = cJSON_AddArrayToObject(root, "tools");
        tool = cJSON_CreateObject();
        cJSON_AddItemToArray(tools, tool);
        cJSON_AddStringToObject(tool, "name", p->schema_name);
        cJSON_AddStringToObject(tool, "description", "Report the decision as structured fields.");
        cJSON_AddItemToObject(tool, "input_schema", schema);
        choice = cJSON_AddObjectToObject(root, "tool_choice");
        cJSON_AddStringToObject(choice, "type", "tool");
        cJSON_AddStringToObject(choice, "name", p->schema_name);
    }
    out->body = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/') bl--;
    out->url = malloc(bl + sizeof "/v1/messages");
    if (out->url) {
        memcpy(out->url, base, bl);
        memcpy(out->url + bl, "/v1/messages", sizeof "/v1/messages");
    }
    out->headers[0] = strdup("content-type: application/json");
    out->headers[1] = dupf("anthropic-version: ", SP_LLM_ANTHROPIC_VERSION);
    out->headers[2] = dupf("x-api-key: ", key);
    if (!out->body || !out->url || !out->headers[0] || !out->headers[1] || !out->headers[2]) {
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
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "type"));
    const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
    int err = sp_llm_classify_status(status, type, NULL, msg);
    snprintf(out->message, sizeof out->message, "HTTP %ld %s: %s", status, type ? type : "(no error type)",
             msg ? msg : "(no error body)");
    cJSON_Delete(j);
    return err;
}

/* Takes ownership of text and tool; a forced tool call is the answer, text beside it is
 * commentary. Maps the stop reason to a typed error. */
static int finish_answer(struct sp_llm_answer *out, char *text, size_t tl, char *tool)
{
    if (tool) {
        free(text);
        text = tool;
        tl = strlen(tool);
    }
    out->text = text;
    out->text_len = tl;
    if (strcmp(out->stop_reason, "max_tokens") == 0) return SP_LLM_ETRUNCATED;
    if (strcmp(out->stop_reason, "refusal") == 0) return SP_LLM_EREFUSAL;
    if (!text) {
        snprintf(out->message, sizeof out->message, "no text or tool_use block");
        return SP_LLM_ENO_CONTENT;
    }
    return 0;
}

static int parse_stream(const char *body, size_t len, struct sp_llm_answer *out);

/* Anthropic's input_tokens excludes cached and cache-written tokens; normalise to the whole
 * prompt like OpenAI's prompt_tokens. Each count fits a uint32, their sum may not: saturate
 * rather than wrap to a small number. */
static void whole_prompt(struct sp_llm_usage *u)
{
    uint64_t sum = (uint64_t)u->input_tokens + u->cache_write_tokens + u->cache_read_tokens;
    u->input_tokens = sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
}

static int parse(long status, const char *ctype, const char *body, size_t len,
                 struct sp_llm_answer *out)
{
    cJSON *j;
    const cJSON *content, *blk, *u, *sr;
    char *text = NULL, *tool = NULL;
    size_t tl = 0, tc = 0;
    int err = 0;
    memset(out, 0, sizeof *out);
    if (status < 200 || status > 299) return parse_error(status, body, len, out);
    if (ctype && strcmp(ctype, "text/event-stream") == 0) return parse_stream(body, len, out);
    if (!ctype || strcmp(ctype, "application/json") != 0) {
        snprintf(out->message, sizeof out->message, "content-type '%s'", ctype ? ctype : "");
        return SP_LLM_ECONTENT_TYPE;
    }
    j = sp_llm_json_parse(body, len);
    content = cJSON_GetObjectItemCaseSensitive(j, "content");
    u = cJSON_GetObjectItemCaseSensitive(j, "usage");
    sr = cJSON_GetObjectItemCaseSensitive(j, "stop_reason");
    if (!cJSON_IsObject(j) || !cJSON_IsArray(content) || !cJSON_IsObject(u) ||
        (sr && !cJSON_IsString(sr) && !cJSON_IsNull(sr)) ||
        !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "type")) ||
        strcmp(cJSON_GetObjectItemCaseSensitive(j, "type")->valuestring, "message") != 0) {
        snprintf(out->message, sizeof out->message, "not a Messages API message object");
        cJSON_Delete(j);
        return SP_LLM_EBAD_RESPONSE;
    }
    if (sp_llm_json_u32(u, "input_tokens", 1, &out->usage.input_tokens) < 0 ||
        sp_llm_json_u32(u, "output_tokens", 1, &out->usage.output_tokens) < 0 ||
        sp_llm_json_u32(u, "cache_creation_input_tokens", 0, &out->usage.cache_write_tokens) < 0 ||
        sp_llm_json_u32(u, "cache_read_input_tokens", 0, &out->usage.cache_read_tokens) < 0) {
        snprintf(out->message, sizeof out->message, "bad usage object");
        cJSON_Delete(j);
        return SP_LLM_EBAD_RESPONSE;
    }
    whole_prompt(&out->usage);
    if (cJSON_IsString(sr))
        snprintf(out->stop_reason, sizeof out->stop_reason, "%s", sr->valuestring);
    cJSON_ArrayForEach(blk, content) {
        const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(blk, "type"));
        if (!type) {
            err = SP_LLM_EBAD_RESPONSE;
            break;
        }
        if (strcmp(type, "text") == 0) {
            const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(blk, "text"));
            if (!t) { err = SP_LLM_EBAD_RESPONSE; break; }
            if (sp_llm_buf_append(&text, &tl, &tc, t, strlen(t)) < 0) { err = SP_LLM_ENOMEM; break; }
        } else if (strcmp(type, "tool_use") == 0 && !tool) {
            const cJSON *in = cJSON_GetObjectItemCaseSensitive(blk, "input");
            if (!cJSON_IsObject(in)) { err = SP_LLM_EBAD_RESPONSE; break; }
            tool = cJSON_PrintUnformatted(in);
            if (!tool) { err = SP_LLM_ENOMEM; break; }
        } /* thinking and other block types carry no answer */
    }
    cJSON_Delete(j);
    if (err) {
        free(text);
        free(tool);
        snprintf(out->message, sizeof out->message, "bad content block");
        return err;
    }
    return finish_answer(out, text, tl, tool);
}

/* Streaming: message_start (input usage), content_block_start/delta/stop (text_delta or the
 * tool's input_json_delta), message_delta (stop_reason, output usage), message_stop; ping and
 * unknown event types are skipped as the API asks; an error event ends the stream. */
struct stream {
    char *text, *json;
    size_t tl, tc, jl, jc;
    uint64_t tool_index;
    int have_tool, started, stopped;
};

/* A content block's "index": a non-negative integer that fits a uint32 (a message has a handful
 * of blocks), checked before it is used, so 1e300 or -1 is a bad stream, not a cast. */
static int block_index(const cJSON *j, uint64_t *out)
{
    return sp_llm_json_uint(j, "index", UINT32_MAX, out) < 0 ? SP_LLM_EBAD_RESPONSE : 0;
}

static int stream_event(struct stream *st, const cJSON *j, struct sp_llm_answer *out)
{
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "type"));
    uint64_t idx;
    if (!type) return SP_LLM_EBAD_RESPONSE;
    if (strcmp(type, "message_start") == 0) {
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "message"), "usage");
        if (!cJSON_IsObject(u) || sp_llm_json_u32(u, "input_tokens", 1, &out->usage.input_tokens) < 0 ||
            sp_llm_json_u32(u, "cache_creation_input_tokens", 0, &out->usage.cache_write_tokens) < 0 ||
            sp_llm_json_u32(u, "cache_read_input_tokens", 0, &out->usage.cache_read_tokens) < 0)
            return SP_LLM_EBAD_RESPONSE;
        st->started = 1;
    } else if (strcmp(type, "content_block_start") == 0) {
        const cJSON *cb = cJSON_GetObjectItemCaseSensitive(j, "content_block");
        const char *bt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cb, "type"));
        if (!bt || block_index(j, &idx) < 0) return SP_LLM_EBAD_RESPONSE;
        if (strcmp(bt, "tool_use") == 0 && !st->have_tool) {
            st->have_tool = 1;
            st->tool_index = idx;
        } else if (strcmp(bt, "text") == 0) {
            const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cb, "text"));
            if (t && sp_llm_buf_append(&st->text, &st->tl, &st->tc, t, strlen(t)) < 0) return SP_LLM_ENOMEM;
        }
    } else if (strcmp(type, "content_block_delta") == 0) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "delta");
        const char *dt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "type"));
        if (!dt || block_index(j, &idx) < 0) return SP_LLM_EBAD_RESPONSE;
        if (strcmp(dt, "text_delta") == 0) {
            const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "text"));
            if (!t) return SP_LLM_EBAD_RESPONSE;
            if (sp_llm_buf_append(&st->text, &st->tl, &st->tc, t, strlen(t)) < 0) return SP_LLM_ENOMEM;
        } else if (strcmp(dt, "input_json_delta") == 0) {
            const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "partial_json"));
            if (!t) return SP_LLM_EBAD_RESPONSE;
            if (st->have_tool && idx == st->tool_index &&
                sp_llm_buf_append(&st->json, &st->jl, &st->jc, t, strlen(t)) < 0)
                return SP_LLM_ENOMEM;
        }
    } else if (strcmp(type, "message_delta") == 0) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "delta");
        const char *sr = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(d, "stop_reason"));
        const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "usage");
        if (sr) snprintf(out->stop_reason, sizeof out->stop_reason, "%s", sr);
        if (cJSON_IsObject(u) && sp_llm_json_u32(u, "output_tokens", 0, &out->usage.output_tokens) < 0)
            return SP_LLM_EBAD_RESPONSE;
    } else if (strcmp(type, "message_stop") == 0) {
        st->stopped = 1;
    } else if (strcmp(type, "error") == 0) {
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
        const char *et = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "type"));
        const char *em = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
        int err = sp_llm_classify_status(0, et, NULL, em);
        snprintf(out->message, sizeof out->message, "stream error %s: %s", et ? et : "?", em ? em : "-");
        return err == SP_LLM_EBAD_RESPONSE ? SP_LLM_ESERVER : err; /* api_error mid-stream */
    }
    return 0;
}

static int parse_stream(const char *body, size_t len, struct sp_llm_answer *out)
{
    struct stream st;
    struct sp_llm_sse_event ev;
    const char *p = body;
    char *tool = NULL;
    int rc, err = 0;
    memset(&st, 0, sizeof st);
    while (!err && (rc = sp_llm_sse_next(&p, body + len, &ev)) != 0) {
        cJSON *j;
        if (rc < 0) {
            err = rc;
            break;
        }
        if (!ev.data) continue;
        j = sp_llm_json_parse(ev.data, ev.data_len);
        free(ev.data);
        err = cJSON_IsObject(j) ? stream_event(&st, j, out) : SP_LLM_EBAD_RESPONSE;
        cJSON_Delete(j);
    }
    if (!err && (!st.started || !st.stopped)) err = SP_LLM_EBAD_RESPONSE; /* cut short */
    if (!err && st.have_tool) {
        /* the concatenated partial_json is the tool input; "" means {} */
        cJSON *in = st.jl ? sp_llm_json_parse(st.json, st.jl) : cJSON_CreateObject();
        if (!cJSON_IsObject(in)) err = SP_LLM_EBAD_RESPONSE;
        else if (!(tool = cJSON_PrintUnformatted(in))) err = SP_LLM_ENOMEM;
        cJSON_Delete(in);
    }
    free(st.json);
    if (err) {
        free(st.text);
        if (!out->message[0]) snprintf(out->message, sizeof out->message, "malformed or incomplete event stream");
        return err;
    }
    whole_prompt(&out->usage);
    return finish_answer(out, st.text, st.tl, tool);
}

const struct sp_llm_provider sp_llm_provider_anthropic = {"anthropic", build, parse};
