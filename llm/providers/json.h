/* Private JSON helpers shared by the providers, the decision parser and the sim (cJSON). */
#ifndef SP_LLM_JSON_H
#define SP_LLM_JSON_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* Parses exactly one JSON value spanning [s, s+len) (whitespace around it allowed). NULL when
 * the text is not JSON or has trailing garbage. */
cJSON *sp_llm_json_parse(const char *s, size_t len);

/* A non-negative integer member <= max; returns 0, SP_LLM_EMISSING_FIELD, SP_LLM_EFIELD_TYPE or
 * SP_LLM_EFIELD_RANGE. Integers only: 1.5 or "1" is a type error. */
int sp_llm_json_uint(const cJSON *obj, const char *name, uint64_t max, uint64_t *out);

/* An optional non-negative integer member (absent or null leaves *out and returns 1). */
int sp_llm_json_uint_opt(const cJSON *obj, const char *name, uint64_t max, uint64_t *out);

/* A token count: a uint32 member, required or optional (absent or null reads as 0); 0 or the
 * errors of sp_llm_json_uint. */
int sp_llm_json_u32(const cJSON *obj, const char *name, int required, uint32_t *out);

/* Copies a string member into out (truncating to cap-1); SP_LLM_EMISSING_FIELD/EFIELD_TYPE. */
int sp_llm_json_str(const cJSON *obj, const char *name, char *out, size_t cap);

/* Appends s to a malloc'd buffer; returns 0 or SP_LLM_ENOMEM. */
int sp_llm_buf_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n);

#endif
