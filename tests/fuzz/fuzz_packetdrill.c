/* fuzz_packetdrill: the packetdrill interpreter of the unit tests (tests/unit/packetdrill*.c) on
 * any script: pd_parse, and a script that parses is run against the stack in virtual time
 * (inbound segments, system calls, blocking calls, timers). Shell commands and code snippets are
 * never executed by the interpreter, so running arbitrary scripts is safe.
 *
 * Invariants: no crash, leak, hang or sanitizer report; a parse error or a failing run says why
 * (a message); parsing the same text twice gives the same script. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "packetdrill.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
    fprintf(stderr, "fuzz invariant broken: %s\n", what);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Both are large (the script's pools, the run's buffers): allocated once. */
    static struct pd_script s, again;
    static struct pd_run r;
    if (size > PD_TEXT_POOL)
        return 0; /* longer than any script the pools are sized for */
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    int rc = pd_parse(text, &s);
    if (rc < 0 && !s.err[0])
        fail("a parse error without a message");
    if (pd_parse(text, &again) != rc || s.nevents != again.nevents || s.nexprs != again.nexprs ||
        strcmp(s.err, again.err) != 0)
        fail("the same text parsed twice differently");
    if (rc == 0) {
        memset(&r, 0, sizeof r);
        if (pd_run_script(&r, &s) < 0 && !r.msg[0])
            fail("a failing run without a message");
    }
    free(text);
    return 0;
}
