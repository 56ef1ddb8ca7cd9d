/* A request's prompt in the order its provider processes it, for the cache model
 * (sim_cache.h): Anthropic renders tools, then system, then messages, and caches up to each
 * cache_control breakpoint; OpenAI puts the structured-output schema (and tools) before the
 * messages and caches automatically. Schemas count as their compact JSON text, texts as
 * themselves. */
#include <stdlib.h>
#include <string.h>

#include "llm_sim.h"

static int grow(struct render *r)
{
    unsigned cap = r->cap ? r->cap * 2 : 16;
    struct sp_llm_cache_part *p = realloc(r->parts, cap * sizeof *p);
    char **o;
    if (!p) return -1;
    r->parts = p;
    if (!(o = realloc(r->owned, cap * sizeof *o))) return -1;
    r->owned = o;
    r->cap = cap;
    return 0;
}

static int add(struct render *r, const char *text, int breakpoint)
{
    if (!text) return 0;
    if (r->n == r->cap && grow(r) < 0) return -1;
    r->parts[r->n++] = (struct sp_llm_cache_part){text, strlen(text), breakpoint};
    return 0;
}

/* A schema object as compact JSON, kept until render_free. */
static int add_json(struct render *r, const cJSON *schema, int breakpoint)
{
    char *s;
    if (!schema) return 0;
    if (r->n == r->cap && grow(r) < 0) return -1; /* n >= nowned: room for both */
    if (!(s = cJSON_PrintUnformatted(schema))) return -1;
    r->owned[r->nowned++] = s;
    return add(r, s, breakpoint);
}

static int marked(const cJSON *o)
{
    return cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(o, "cache_control"));
}

/* A string, or the text blocks of an array (each its own part, with its own marker). */
static int add_content(struct render *r, const cJSON *content)
{
    const cJSON *b;
    if (cJSON_IsString(content)) return add(r, content->valuestring, 0);
    cJSON_ArrayForEach(b, content) {
        if (add(r, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(b, "text")), marked(b)) < 0) return -1;
    }
    return 0;
}

int render_anthropic(const cJSON *j, struct render *r)
{
    const cJSON *t, *m;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(j, "tools")) {
        if (add_json(r, cJSON_GetObjectItemCaseSensitive(t, "input_schema"), marked(t)) < 0) return -1;
    }
    if (add_content(r, cJSON_GetObjectItemCaseSensitive(j, "system")) < 0) return -1;
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "messages")) {
        if (add_content(r, cJSON_GetObjectItemCaseSensitive(m, "content")) < 0) return -1;
    }
    /* automatic caching: a top-level marker is a breakpoint on the last block */
    if (marked(j) && r->n) r->parts[r->n - 1].breakpoint = 1;
    return 0;
}

int render_openai(const cJSON *j, struct render *r)
{
    const cJSON *rf = cJSON_GetObjectItemCaseSensitive(j, "response_format"), *t, *m;
    const cJSON *js = cJSON_GetObjectItemCaseSensitive(rf, "json_schema");
    if (add_json(r, cJSON_GetObjectItemCaseSensitive(js, "schema"), 0) < 0) return -1;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(j, "tools")) {
        const cJSON *fn = cJSON_GetObjectItemCaseSensitive(t, "function");
        if (add_json(r, cJSON_GetObjectItemCaseSensitive(fn, "parameters"), 0) < 0) return -1;
    }
    cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(j, "messages")) {
        if (add_content(r, cJSON_GetObjectItemCaseSensitive(m, "content")) < 0) return -1;
    }
    return 0;
}

void render_free(struct render *r)
{
    for (unsigned i = 0; i < r->nowned; i++) cJSON_free(r->owned[i]);
    free(r->owned);
    free(r->parts);
    memset(r, 0, sizeof *r);
}
