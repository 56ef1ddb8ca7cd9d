/* Shared provider plumbing: status classification, names, freeing. */
#include "slowpath/llm/provider.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "slowpath/llm/error.h"

int sp_llm_provider_kind_parse(const char *name, enum sp_llm_provider_kind *out)
{
    if (!name || !out) return SP_LLM_EINVAL;
    if (strcmp(name, "sim") == 0) *out = SP_LLM_PROVIDER_SIM;
    else if (strcmp(name, "openai") == 0) *out = SP_LLM_PROVIDER_OPENAI;
    else if (strcmp(name, "anthropic") == 0) *out = SP_LLM_PROVIDER_ANTHROPIC;
    else return SP_LLM_ECONFIG;
    return 0;
}

const char *sp_llm_provider_kind_name(enum sp_llm_provider_kind kind)
{
    switch (kind) {
    case SP_LLM_PROVIDER_SIM: return "sim";
    case SP_LLM_PROVIDER_OPENAI: return "openai";
    case SP_LLM_PROVIDER_ANTHROPIC: return "anthropic";
    }
    return "?";
}

void sp_llm_wire_free(struct sp_llm_wire *w)
{
    if (!w) return;
    free(w->url);
    free(w->body);
    for (int i = 0; i < SP_LLM_WIRE_MAX_HEADERS && w->headers[i]; i++) free(w->headers[i]);
    memset(w, 0, sizeof *w);
}

void sp_llm_answer_free(struct sp_llm_answer *a)
{
    if (!a) return;
    free(a->text);
    a->text = NULL;
    a->text_len = 0;
}

static int has(const char *s, const char *needle)
{
    return s && strcasestr(s, needle) != NULL;
}

int sp_llm_classify_status(long status, const char *type, const char *code, const char *message)
{
    if (status == 401 || status == 403 || has(type, "authentication_error") ||
        has(type, "permission_error"))
        return SP_LLM_EAUTH;
    /* spend limits: OpenAI says 429 insufficient_quota, Anthropic 400 "credit balance is too
     * low" (or a billing_error type); retrying cannot fix them, so they trip the breaker */
    if (status == 402 || has(type, "insufficient_quota") || has(code, "insufficient_quota") ||
        has(type, "billing_error") || (status == 400 && has(message, "credit balance")))
        return SP_LLM_EQUOTA;
    if (status == 429) return SP_LLM_ERATELIMIT;
    if (status == 529 || status == 503 || has(type, "overloaded_error")) return SP_LLM_EOVERLOADED;
    if (status >= 500 && status <= 599) return SP_LLM_ESERVER;
    if (status >= 400 && status <= 499) return SP_LLM_EREJECTED;
    return SP_LLM_EBAD_RESPONSE;
}

int sp_llm_error_retryable(int err)
{
    return err == SP_LLM_ERATELIMIT || err == SP_LLM_EOVERLOADED || err == SP_LLM_ESERVER ||
           err == SP_LLM_ERESET || err == SP_LLM_ECONNECT;
}

int sp_llm_error_trips_breaker(int err)
{
    return err == SP_LLM_EAUTH || err == SP_LLM_EQUOTA;
}
