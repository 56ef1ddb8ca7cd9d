/* Puts the static prefixes together and keeps them: built once per kind, format, authority and
 * minimum, and never freed or moved, so every request points at the same bytes. */
#include "slowpath/llm/prefix.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "prefix_internal.h"
#include "slowpath/llm/error.h"
#include "slowpath/llm/opts.h"
#include "slowpath/llm/prompt.h"
#include "slowpath/llm/tokens.h"

/* A process asks for one minimum (its provider's), tests for a few more. */
#define PREFIX_SETS 8
/* Far more than SP_LLM_CACHE_MIN_TOKENS_MAX needs: a bound against a runaway loop. */
#define MAX_EXAMPLES 2000
/* Shown at any minimum. */
#define CORE_EXAMPLES 3

struct prefix_set {
    uint32_t min_tokens;
    struct sp_llm_prefix px[SP_DECISION_KINDS][SP_LLM_FMT_COUNT][SP_LLM_AUTHORITIES];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct prefix_set sets[PREFIX_SETS];
static unsigned nsets;
static uint32_t configured = SP_LLM_DEFAULT_CACHE_MIN_TOKENS;

uint32_t sp_llm_prefix_target(uint32_t min_tokens)
{
    return (uint32_t)(((uint64_t)min_tokens * (100 + SP_LLM_CACHE_MARGIN_PCT) + 99) / 100);
}

static uint32_t estimate(size_t system_len, const char *schema)
{
    return sp_llm_tokens_estimate(system_len + strlen(schema));
}

/* The first situations of each kind (the answers the stack actually asks for) are shown however
 * small the minimum; then the other situations and more variants until the estimate reaches the
 * target. */
static int build(enum sp_decision_kind k, enum sp_llm_format f, enum sp_authority a, uint32_t min_tokens,
                 struct sp_llm_prefix *out)
{
    struct sp_llm_text t = {0};
    const char *schema = sp_llm_decision_schema(k, f);
    uint32_t target = sp_llm_prefix_target(min_tokens);
    unsigned i = 0;
    int rc = 0;
    sp_llm_prefix_write_guide(&t, k, f, a);
    while (rc == 0 && !t.oom &&
           (i < CORE_EXAMPLES || estimate(t.len, schema) < target) && i < MAX_EXAMPLES) {
        rc = sp_llm_prefix_write_example(&t, k, f, a, i, i + 1);
        i++;
    }
    if (rc == 0 && (t.oom || !t.buf)) rc = SP_LLM_ENOMEM;
    if (rc < 0) {
        free(t.buf);
        return rc;
    }
    *out = (struct sp_llm_prefix){t.buf, t.len, schema, sp_llm_decision_schema_name(k, f),
                                  estimate(t.len, schema), min_tokens, a, i};
    return 0;
}

static void release(struct prefix_set *s)
{
    for (int k = 0; k < SP_DECISION_KINDS; k++)
        for (int f = 0; f < SP_LLM_FMT_COUNT; f++)
            for (int a = 0; a < SP_LLM_AUTHORITIES; a++) free((char *)s->px[k][f][a].system);
    memset(s, 0, sizeof *s);
}

static int build_set(uint32_t min_tokens, struct prefix_set *s)
{
    memset(s, 0, sizeof *s);
    s->min_tokens = min_tokens;
    for (int k = 0; k < SP_DECISION_KINDS; k++)
        for (int f = 0; f < SP_LLM_FMT_COUNT; f++)
            for (int a = 0; a < SP_LLM_AUTHORITIES; a++) {
                int rc = build((enum sp_decision_kind)k, (enum sp_llm_format)f, (enum sp_authority)a, min_tokens,
                               &s->px[k][f][a]);
                if (rc < 0) {
                    release(s);
                    return rc;
                }
            }
    return 0;
}

/* Called with the lock held. */
static struct prefix_set *find_or_build(uint32_t min_tokens, int *err)
{
    for (unsigned i = 0; i < nsets; i++)
        if (sets[i].min_tokens == min_tokens) return &sets[i];
    *err = SP_LLM_ENOMEM;
    if (nsets == PREFIX_SETS || (*err = build_set(min_tokens, &sets[nsets])) < 0) return NULL;
    return &sets[nsets++];
}

const struct sp_llm_prefix *sp_llm_prefix_get(enum sp_decision_kind k, enum sp_llm_format f, enum sp_authority a,
                                              uint32_t min_tokens)
{
    struct prefix_set *s;
    int err = 0;
    if ((unsigned)k >= SP_DECISION_KINDS || (unsigned)f >= SP_LLM_FMT_COUNT || (unsigned)a >= SP_LLM_AUTHORITIES ||
        min_tokens > SP_LLM_CACHE_MIN_TOKENS_MAX)
        return NULL;
    pthread_mutex_lock(&lock);
    s = find_or_build(min_tokens, &err);
    pthread_mutex_unlock(&lock);
    return s ? &s->px[k][f][a] : NULL;
}

int sp_llm_prefix_configure(uint32_t min_tokens)
{
    struct prefix_set *s;
    int err = 0;
    if (min_tokens > SP_LLM_CACHE_MIN_TOKENS_MAX) return SP_LLM_EINVAL;
    pthread_mutex_lock(&lock);
    if ((s = find_or_build(min_tokens, &err)) != NULL) configured = min_tokens;
    pthread_mutex_unlock(&lock);
    return s ? 0 : err;
}

uint32_t sp_llm_prefix_min_tokens(void)
{
    uint32_t m;
    pthread_mutex_lock(&lock);
    m = configured;
    pthread_mutex_unlock(&lock);
    return m;
}

const struct sp_llm_prefix *sp_llm_prefix_for(enum sp_decision_kind k, enum sp_llm_format f, enum sp_authority a)
{
    return sp_llm_prefix_get(k, f, a, sp_llm_prefix_min_tokens());
}
