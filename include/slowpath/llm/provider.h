/* Providers: how one prompt becomes an HTTP request, and how a response becomes text + usage or
 * a typed error. Pure functions (no I/O), so they are tested on documented example bodies. */
#ifndef SLOWPATH_LLM_PROVIDER_H
#define SLOWPATH_LLM_PROVIDER_H

#include "slowpath/layer_llm.h"

#include <stddef.h>
#include <stdint.h>

enum sp_llm_provider_kind { SP_LLM_PROVIDER_SIM = 0, SP_LLM_PROVIDER_OPENAI, SP_LLM_PROVIDER_ANTHROPIC };

/* One question. system is the static prefix (keep it byte-identical across calls so provider
 * prompt caches hit); user is the per-decision message. With schema_name/schema set the model is
 * forced to answer one JSON object of that schema (Anthropic: a tool of that name and
 * tool_choice; OpenAI: response_format json_schema, strict). */
struct sp_llm_prompt {
    const char *system;
    const char *user;
    const char *schema_name; /* [a-zA-Z0-9_-]{1,64}; NULL for free text */
    const char *schema;      /* JSON Schema text of an object */
    uint32_t max_tokens;     /* 0: SP_LLM_DEFAULT_MAX_TOKENS */
    int stream;              /* ask for server-sent events ("stream": true); the parsers take
                              * either form, told apart by the content-type */
};

struct sp_llm_usage {
    uint32_t input_tokens;        /* all prompt tokens: OpenAI prompt_tokens; Anthropic
                                   * input_tokens + cache_creation + cache_read (normalised) */
    uint32_t output_tokens;       /* output_tokens / completion_tokens */
    uint32_t cache_write_tokens;  /* Anthropic cache_creation_input_tokens */
    uint32_t cache_read_tokens;   /* cache_read_input_tokens / prompt_tokens_details.cached_tokens
                                   * (llama.cpp: timings.cache_n when details are absent) */
};

/* llama.cpp's server "timings" object, when present and well formed (counts that fit a uint32,
 * finite non-negative durations); a malformed one is ignored, as if absent. */
struct sp_llm_timings {
    int present;
    uint32_t prompt_n, predicted_n, cache_n;
    double prompt_ms, predicted_ms;
};

/* A parsed response. text is the model's answer: the text blocks joined, or for a forced tool
 * call the tool input serialised as compact JSON. */
struct sp_llm_answer {
    char *text;                  /* malloc'd, NUL-terminated; NULL when there is none */
    size_t text_len;
    char stop_reason[32];        /* end_turn / tool_use / max_tokens / stop / length ... */
    struct sp_llm_usage usage;
    struct sp_llm_timings timings;
    char message[256];           /* the provider's error message, or why parsing failed */
};

/* A built request. Every pointer is malloc'd; free with sp_llm_wire_free(). The API key appears
 * only in headers and is never logged. */
#define SP_LLM_WIRE_MAX_HEADERS 6
struct sp_llm_wire {
    char *url;
    char *body;
    size_t body_len;
    char *headers[SP_LLM_WIRE_MAX_HEADERS + 1]; /* NULL-terminated */
};

struct sp_llm_provider {
    const char *name;
    /* base_url as the provider's SDK takes it (no trailing path); api_key may be NULL/"" */
    int (*build)(const char *base_url, const char *model, const char *api_key,
                 const struct sp_llm_prompt *p, struct sp_llm_wire *out);
    /* Returns 0 with out->text set, or a typed SP_LLM_E* code. On ETRUNCATED/EREFUSAL the
     * partial text and usage are still filled in. out is always safe to sp_llm_answer_free(). */
    int (*parse)(long status, const char *content_type, const char *body, size_t len,
                 struct sp_llm_answer *out);
};

extern const struct sp_llm_provider sp_llm_provider_anthropic;
extern const struct sp_llm_provider sp_llm_provider_openai;

/* "sim"/"openai"/"anthropic" <-> kind; returns SP_LLM_ECONFIG for an unknown name. */
int sp_llm_provider_kind_parse(const char *name, enum sp_llm_provider_kind *out);
const char *sp_llm_provider_kind_name(enum sp_llm_provider_kind kind);

void sp_llm_wire_free(struct sp_llm_wire *w);
void sp_llm_answer_free(struct sp_llm_answer *a);

/* Maps an HTTP error status plus the provider's error type/code/message to a typed error:
 * 401/403 -> EAUTH; 402, 429 insufficient_quota, 400 "credit balance" or billing -> EQUOTA;
 * 429 -> ERATELIMIT; 529/503 or overloaded_error -> EOVERLOADED; other 5xx -> ESERVER;
 * other 4xx -> EREJECTED; anything else -> EBAD_RESPONSE. */
int sp_llm_classify_status(long status, const char *type, const char *code, const char *message);

/* Whether a typed error is worth retrying (rate limit, overload, 5xx, reset, connect). */
int sp_llm_error_retryable(int err);
/* Whether a typed error opens the circuit breaker (auth, quota). */
int sp_llm_error_trips_breaker(int err);

#endif
