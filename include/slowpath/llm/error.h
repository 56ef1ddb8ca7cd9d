/* Error codes of the LLM engine: 0 is success, failures are negative and disjoint from the
 * stack's SP_E* codes (slowpath/error.h), so one int can carry either. */
#ifndef SLOWPATH_LLM_ERROR_H
#define SLOWPATH_LLM_ERROR_H

#include "slowpath/layer_llm.h"

#define SP_LLM_ERRNO_MAP(X)                                                         \
    X(INVAL, -200, "invalid argument")                                              \
    X(NOMEM, -201, "out of memory")                                                 \
    X(BUSY, -202, "too many requests in flight")                                    \
    X(CANCELED, -203, "request canceled")                                           \
    X(TIMEOUT, -204, "deadline exceeded")                                           \
    X(CONNECT, -205, "could not connect")                                           \
    X(RESET, -206, "connection reset or closed early")                              \
    X(TOOBIG, -207, "response larger than the bound")                               \
    X(TRANSPORT, -208, "http transport error")                                      \
    X(RATELIMIT, -209, "rate limited (429)")                                        \
    X(OVERLOADED, -210, "provider overloaded (529/503)")                            \
    X(SERVER, -211, "provider server error (5xx)")                                  \
    X(AUTH, -212, "authentication or permission error (401/403)")                   \
    X(QUOTA, -213, "spend limit or credit exhausted")                               \
    X(REJECTED, -214, "request rejected by the provider (4xx)")                     \
    X(BREAKER, -215, "circuit breaker open (auth or spend error earlier)")          \
    X(CONTENT_TYPE, -216, "response is not application/json")                       \
    X(BAD_RESPONSE, -217, "response body does not match the provider's format")     \
    X(NO_CONTENT, -218, "response carries no usable content")                       \
    X(REFUSAL, -219, "model refused")                                               \
    X(TRUNCATED, -220, "model output truncated (token limit)")                      \
    X(NOT_JSON, -221, "model output is not a single JSON object")                   \
    X(UNKNOWN_FIELD, -222, "model output has an unknown field")                     \
    X(MISSING_FIELD, -223, "model output lacks a required field")                   \
    X(FIELD_TYPE, -224, "model output field has the wrong type")                    \
    X(FIELD_RANGE, -225, "model output field is out of range")                      \
    X(BAD_HEX, -226, "model output hex is malformed")                               \
    X(BAD_ENUM, -227, "model output field has an unknown value")                    \
    X(CONFIG, -228, "bad configuration")                                            \
    X(NOKEY, -229, "API key missing from the environment")                          \
    X(CLOSING, -230, "client is closing")

enum sp_llm_errno {
#define SP_LLM_ERRNO_ENUM(name, val, text) SP_LLM_E##name = (val),
    SP_LLM_ERRNO_MAP(SP_LLM_ERRNO_ENUM)
#undef SP_LLM_ERRNO_ENUM
};

/* A short English description of an SP_LLM_E* code (never NULL). */
const char *sp_llm_strerror(int err);
/* The symbolic name ("SP_LLM_ETIMEOUT") of a code, for logs and test messages (never NULL). */
const char *sp_llm_errname(int err);

#endif
