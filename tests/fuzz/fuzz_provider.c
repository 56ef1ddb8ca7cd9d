/* fuzz_provider_anthropic, fuzz_provider_openai (FZ_PROVIDER names the provider): a response body
 * through the provider's parser, JSON or server-sent events, with the status and content type the
 * input picks, then the answer's text through the decision parser as the decider would.
 *
 * Input: an optional selector byte, then the body. A first byte below 0x20 (never the start of a
 * JSON or SSE body the corpus keeps) is the selector: content type fz_ctypes[b % 8], status
 * fz_statuses[b / 8]. Without one the body is sniffed (an SSE field name first: event-stream,
 * else JSON) and the status is 200, so that a folder of plain bodies is a seed corpus as it is.
 *
 * Invariants: a typed result (0 or a known SP_LLM_E* code), an answer's strings terminated within
 * their arrays, text present on success, and nothing read past the body. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slowpath/llm/decision.h"
#include "slowpath/llm/error.h"
#include "slowpath/llm/provider.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fz_fail(const char *what)
{
    fprintf(stderr, "fuzz invariant broken: %s\n", what);
    abort();
}

static const char *const fz_ctypes[8] = {
    "application/json", "text/event-stream", "text/html", "", NULL, "application/json; charset=utf-8",
    "text/event-stream; charset=utf-8", "TEXT/EVENT-STREAM",
};
static const long fz_statuses[4] = {200, 400, 429, 529};

static bool starts_sse(const uint8_t *b, size_t n)
{
    static const char *const fields[] = {"event:", "data:", ":", "id:", "retry:"};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        size_t l = strlen(fields[i]);
        if (n >= l && memcmp(b, fields[i], l) == 0)
            return true;
    }
    return false;
}

static bool known_error(int rc)
{
    return strcmp(sp_llm_errname(rc), "SP_LLM_E?") != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *ctype = "application/json";
    long status = 200;
    if (size && data[0] < 0x20) {
        ctype = fz_ctypes[data[0] % 8];
        status = fz_statuses[data[0] / 8];
        data++, size--;
    } else if (starts_sse(data, size)) {
        ctype = "text/event-stream";
    }
    /* A copy of exactly the body's size: the parser must not read past len. */
    char *body = malloc(size ? size : 1);
    if (!body)
        return 0;
    if (size)
        memcpy(body, data, size);
    struct sp_llm_answer a;
    int rc = FZ_PROVIDER.parse(status, ctype, body, size, &a);
    if (rc > 0 || (rc < 0 && !known_error(rc)))
        fz_fail("the parser returned an unknown code");
    if (!memchr(a.stop_reason, 0, sizeof a.stop_reason) || !memchr(a.message, 0, sizeof a.message))
        fz_fail("stop_reason or message not terminated");
    if (rc == 0 && !a.text)
        fz_fail("success without text");
    if (a.text && a.text[a.text_len] != '\0')
        fz_fail("text not terminated at text_len");
    if (a.text) {
        /* What the decider does next with the model's answer. */
        static struct sp_llm_decision d;
        int k = (int)(size % 6);
        int prc = sp_llm_proposal_parse((enum sp_decision_kind)(k / 2), (enum sp_llm_format)(k % 2), a.text,
                                        a.text_len, &d);
        if (prc > 0 || (prc < 0 && !known_error(prc)))
            fz_fail("the decision parser returned an unknown code");
    }
    sp_llm_answer_free(&a);
    free(body);
    return 0;
}
