#include "json.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "slowpath/llm/error.h"

cJSON *sp_llm_json_parse(const char *s, size_t len)
{
    const char *end = NULL;
    cJSON *j;
    if (!s) return NULL;
    j = cJSON_ParseWithLengthOpts(s, len, &end, 0);
    if (!j) return NULL;
    while (end && end < s + len && (*end == ' ' || *end == '\n' || *end == '\r' || *end == '\t'))
        end++;
    if (end != s + len && !(end == s + len - 1 && *end == '\0')) {
        cJSON_Delete(j);
        return NULL;
    }
    return j;
}

/* 2^64, the first double no uint64_t holds. */
#define SP_TWO_POW_64 18446744073709551616.0

/* The range is decided in doubles before the cast (a cast out of range is undefined): against
 * 2^64, not (double)max, which rounds up to 2^64 for max = UINT64_MAX; then max as an integer. */
static int as_uint(const cJSON *v, uint64_t max, uint64_t *out)
{
    double d;
    uint64_t u;
    if (!cJSON_IsNumber(v)) return SP_LLM_EFIELD_TYPE;
    d = v->valuedouble;
    if (d != floor(d)) return SP_LLM_EFIELD_TYPE; /* a fraction (or NaN) */
    if (d < 0 || d >= SP_TWO_POW_64) return SP_LLM_EFIELD_RANGE; /* infinities too */
    u = (uint64_t)d;
    if (u > max) return SP_LLM_EFIELD_RANGE;
    *out = u;
    return 0;
}

int sp_llm_json_uint(const cJSON *obj, const char *name, uint64_t max, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v || cJSON_IsNull(v)) return SP_LLM_EMISSING_FIELD;
    return as_uint(v, max, out);
}

int sp_llm_json_uint_opt(const cJSON *obj, const char *name, uint64_t max, uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    if (!v || cJSON_IsNull(v)) return 1;
    return as_uint(v, max, out);
}

int sp_llm_json_u32(const cJSON *obj, const char *name, int required, uint32_t *out)
{
    uint64_t v = 0;
    int rc = required ? sp_llm_json_uint(obj, name, UINT32_MAX, &v) : sp_llm_json_uint_opt(obj, name, UINT32_MAX, &v);
    if (rc < 0) return rc;
    *out = (uint32_t)v;
    return 0;
}

int sp_llm_json_str(const cJSON *obj, const char *name, char *out, size_t cap)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
    size_t n;
    if (!v || cJSON_IsNull(v)) return SP_LLM_EMISSING_FIELD;
    if (!cJSON_IsString(v) || !v->valuestring) return SP_LLM_EFIELD_TYPE;
    n = strlen(v->valuestring);
    if (n >= cap) n = cap - 1;
    memcpy(out, v->valuestring, n);
    out[n] = '\0';
    return 0;
}

int sp_llm_buf_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 256;
        while (c < *len + n + 1) c *= 2;
        char *b = realloc(*buf, c);
        if (!b) return SP_LLM_ENOMEM;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = '\0';
    return 0;
}
