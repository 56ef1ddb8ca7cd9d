/* Runs tools/llm-sim as a child process on a free loopback port, for tests and benchmarks. */
#ifndef SLOWPATH_LLM_SIMPROC_H
#define SLOWPATH_LLM_SIMPROC_H

#include "slowpath/layer_llm.h"

#include <stddef.h>
#include <sys/types.h>

struct sp_llm_simproc {
    pid_t pid;
    int port;
    char url[64]; /* "http://127.0.0.1:PORT" */
};

/* The llm-sim binary: $SP_LLM_SIM if set, else bin/llm-sim beside or above the running
 * executable's directory (build/bin/x -> build/bin/llm-sim; build/tests/x -> build/bin/llm-sim). */
const char *sp_llm_simproc_path(char *buf, size_t len);

/* Starts llm-sim with --listen 127.0.0.1:0 and the given extra arguments (NULL-terminated),
 * waits up to 5 s for its "listening" line. Returns 0 or -1 (with the child reaped). */
int sp_llm_simproc_start(struct sp_llm_simproc *p, const char *path, const char *const *args);

/* SIGTERMs and reaps the child. */
void sp_llm_simproc_stop(struct sp_llm_simproc *p);

#endif
