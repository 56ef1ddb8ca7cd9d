/* Child-process control for llm-sim. Blocking by design: it runs before the loop starts. */
#include "slowpath/llm/simproc.h"

#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

const char *sp_llm_simproc_path(char *buf, size_t len)
{
    const char *env = getenv("SP_LLM_SIM");
    char exe[4096], *dir;
    ssize_t n;
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        return buf;
    }
    n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(buf, len, "llm-sim");
        return buf;
    }
    exe[n] = '\0';
    dir = dirname(exe);
    snprintf(buf, len, "%s/llm-sim", dir);
    if (access(buf, X_OK) == 0) return buf;
    snprintf(buf, len, "%s/../bin/llm-sim", dir);
    return buf;
}

int sp_llm_simproc_start(struct sp_llm_simproc *p, const char *path, const char *const *args)
{
    const char *argv[64];
    int fds[2], n = 0, status;
    char line[128];
    size_t got = 0;
    memset(p, 0, sizeof *p);
    argv[n++] = path;
    argv[n++] = "--listen";
    argv[n++] = "127.0.0.1:0";
    for (; args && *args && n < 63; args++) argv[n++] = *args;
    argv[n] = NULL;
    if (pipe(fds) < 0) return -1;
    p->pid = fork();
    if (p->pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return -1;
    }
    if (p->pid == 0) {
        /* a test that fails an assertion exits without stop(): take the server down with it */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execv(path, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    while (got < sizeof line - 1 && !memchr(line, '\n', got)) {
        struct pollfd pfd = {fds[0], POLLIN, 0};
        ssize_t r;
        if (poll(&pfd, 1, 5000) <= 0) break;
        r = read(fds[0], line + got, sizeof line - 1 - got);
        if (r <= 0) break;
        got += (size_t)r;
        line[got] = '\0';
    }
    close(fds[0]); /* llm-sim prints nothing else on stdout */
    line[got] = '\0';
    const char *colon = strrchr(line, ':');
    if (strncmp(line, "listening ", 10) != 0 || !colon || (p->port = atoi(colon + 1)) <= 0) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, &status, 0);
        p->pid = 0;
        return -1;
    }
    snprintf(p->url, sizeof p->url, "http://127.0.0.1:%d", p->port);
    return 0;
}

void sp_llm_simproc_stop(struct sp_llm_simproc *p)
{
    int status;
    if (!p || p->pid <= 0) return;
    kill(p->pid, SIGTERM);
    waitpid(p->pid, &status, 0);
    p->pid = 0;
}
