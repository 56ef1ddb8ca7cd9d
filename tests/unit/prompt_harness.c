/* Worked examples as user messages (prompt_harness.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "prefix_internal.h"
#include "prompt_harness.h"
#include "slowpath/llm/prompt.h"

void sp_test_example_user(enum sp_decision_kind k, enum sp_llm_format f, unsigned i, char *user, size_t cap)
{
    struct sp_llm_example *ex = test_malloc(sizeof *ex);
    char state[256];
    sp_llm_example_fill(k, SP_AUTHORITY_EXACT, i, ex);
    assert_true(sp_llm_prompt_state(&ex->req, NULL, state, sizeof state) > 0);
    assert_true(sp_llm_prompt_user(&ex->req, f, state, user, cap) > 0);
    test_free(ex);
}

