/* packetdrill scripts run against slowpath's TCP in virtual time (packetdrill_*.c):
 *   - the shared ones (../shared/conformance/packetdrill: freebsd-net, ligurio), written for
 *     FreeBSD and Linux, with relaxed matching (flags, relative seq/ack, payload length);
 *     SP_PD_STRICT=1 also compares windows, options and buffer sizes (a report: their numbers are
 *     the other OS's);
 *   - slowpath's own (tests/conformance/packetdrill), written for this stack in Linux's style,
 *     which compare windows where they give one and options unless they say <...>.
 * One line per script: PASS, FAIL with the first mismatch, or SKIP with the reason. The test fails
 * when a script outside the exception list fails, or when a listed one starts passing (the list
 * must stay honest, and a feature that lands flips its scripts). Before the corpus, the parser
 * and the runner are checked on small scripts of their own. */
#include <dirent.h>
#include <sys/stat.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "support.h"

#include "packetdrill.h"

/* Why a script is listed: a difference of principle with the OS it was written for, a timer
 * value only (the script must pass with slowpath's times, `retime` moves the named lines:
 * "line=seconds ..."), or a feature slowpath does not have yet. */
enum pd_why { PD_PRINCIPLE, PD_TIMER, PD_NOT_YET };

struct pd_exception {
    const char *script;
    enum pd_why why;
    const char *reason;
    const char *retime;
};

static const struct pd_exception pd_exceptions[] = {
    {"freebsd-net/rcv-syn-ack-without-data-listen-ipv4.pkt", PD_PRINCIPLE,
     "FreeBSD drops a SYN-ACK in LISTEN silently; RFC 9293 3.10.7.2 requires <SEQ=SEG.ACK><CTL=RST> for any "
     "ACK-bearing segment in LISTEN (ligurio/listen_listen-incoming-syn-ack.pkt expects that RST and passes)",
     NULL},
    {"freebsd-net/rcv-syn-fin-without-data-listen-dropping-disabled-ipv4.pkt", PD_PRINCIPLE,
     "FreeBSD with sysctl net.inet.tcp.drop_synfin=0; slowpath always drops SYN+FIN (the drop_synfin=1 variant "
     "passes)",
     NULL},
    {"ligurio/close_close-last-ack-lost.pkt", PD_TIMER,
     "the script expects the first FIN retransmission after 3 s; slowpath's RTO comes from the handshake RTT "
     "(0 ms in virtual time) clamped to its 200 ms minimum (RFC 6298 2.4 allows a lower minimum)",
     "34=0.310 37=0.320 42=0.330 45=0.330"},
    {"ligurio/reset_rst-syn-sent.pkt", PD_TIMER,
     "the script expects the SYN retransmission after 3 s (RFC 1122); slowpath's initial RTO is 1 s "
     "(RFC 6298 2.1)",
     "24=1.100"},
    {"ligurio/rto_retransmission_timeout.pkt", PD_TIMER,
     "(and a Linux tcpi_rto assertion, ignored) the script expects Linux's RTO after a 90 ms sample; slowpath's "
     "RFC 6298 estimate from the 0 ms handshake sample and the 90 ms one is its 200 ms minimum, doubled on "
     "backoff",
     "40=0.400 41=0.800"},
    {"ligurio/close_close-unread-data-rst.pkt", PD_PRINCIPLE,
     "the script calls read() on a descriptor it already closed and expects data (EBADF on any OS); slowpath "
     "also resets on close with unread data (RFC 2525 2.17), which the script does not expect",
     NULL},
    {NULL, PD_PRINCIPLE, NULL, NULL},
};

static const char *const why_label[] = {"SKIP-principle", "SKIP-timer", "SKIP-not-yet"};

/* --- helpers --------------------------------------------------------------------------------------- */

static struct pd_script *parse_ok(const char *text)
{
    struct pd_script *s = test_malloc(sizeof *s);
    int rc = pd_parse(text, s);
    if (rc < 0)
        fail_msg("parse: %s", s->err);
    return s;
}

static void parse_bad(const char *text, const char *why)
{
    struct pd_script *s = test_malloc(sizeof *s);
    assert_int_equal(pd_parse(text, s), -1);
    if (!strstr(s->err, why))
        fail_msg("error '%s' does not say '%s'", s->err, why);
    test_free(s);
}

/* Runs a script given inline: 0 or -1; the message in msg. */
static int run_text(const char *text, bool strict, char *msg, size_t cap)
{
    struct pd_script *s = parse_ok(text);
    struct pd_run *r = test_calloc(1, sizeof *r);
    r->strict_win = r->strict_opts = strict;
    int rc = pd_run_script(r, s);
    snprintf(msg, cap, "%s", r->msg);
    test_free(r);
    test_free(s);
    return rc;
}

static void run_fails(const char *text, const char *why)
{
    char msg[400];
    assert_int_equal(run_text(text, true, msg, sizeof msg), -1);
    if (!strstr(msg, why))
        fail_msg("failure '%s' does not say '%s'", msg, why);
}

static void run_passes(const char *text)
{
    char msg[400];
    if (run_text(text, true, msg, sizeof msg) < 0)
        fail_msg("%s", msg);
}

/* --- the parser -------------------------------------------------------------------------------- */

static void test_parse_times(void **state)
{
    (void)state;
    struct pd_script *s = parse_ok("--tolerance_usecs=10000\n"
                                   "`../common/defaults.sh\n sysctl -q x=1`\n"
                                   "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
                                   "+.1 listen(3, 1) = 0\n"
                                   "+0...0.200 accept(3, ..., ...) = 4\n"
                                   "0.3~0.5 > S. 0:0(0) ack 1 <...>\n"
                                   "+0.1~+0.2 > . 1:1(0) ack 1\n"
                                   "* > F. 1:1(0) ack 1\n"
                                   "`echo done`\n");
    assert_int_equal(s->tolerance_us, 10000);
    assert_int_equal(s->ncommands, 2);
    assert_int_equal(s->nevents, 6);
    assert_int_equal(s->ev[1].tkind, PD_T_REL);
    assert_int_equal(s->ev[1].t_us, 100000);
    assert_int_equal(s->ev[1].line, 5);
    assert_true(s->ev[2].sc.blocking);
    assert_int_equal(s->ev[2].sc.end_us, 200000);
    assert_int_equal(s->ev[3].tkind, PD_T_ABS_RANGE);
    assert_int_equal(s->ev[3].t_end_us, 500000);
    assert_true(s->ev[3].pkt.any_opts);
    assert_int_equal(s->ev[4].tkind, PD_T_REL_RANGE);
    assert_int_equal(s->ev[5].tkind, PD_T_ANY);
    test_free(s);
}

static void test_parse_statements_span_lines(void **state)
{
    (void)state;
    struct pd_script *s = parse_ok("/* a comment\n over lines */ 0 poll([{fd=3,\n"
                                   "     events=POLLIN|POLLOUT, // why\n"
                                   "     revents=POLLOUT}], 1, 100) = 1\n"
                                   "+0 fcntl(3, F_GETFL) = 0x802 (flags O_RDWR|O_NONBLOCK)\n"
                                   "+0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)\n"
                                   "+0 %{ assert tcpi_state == 2\n }%\n");
    assert_int_equal(s->nevents, 4);
    const struct pd_syscall *p = &s->ev[0].sc;
    assert_string_equal(p->name, "poll");
    assert_int_equal(p->nargs, 3);
    assert_int_equal(p->args->kind, PD_X_LIST);
    assert_int_equal(p->args->kid->kind, PD_X_STRUCT);
    assert_int_equal(s->ev[1].sc.ret->num, 0x802);
    assert_null(s->ev[1].sc.errno_name);
    assert_string_equal(s->ev[2].sc.errno_name, "EINPROGRESS");
    assert_int_equal(s->ev[3].kind, PD_EV_CODE);
    assert_int_equal(s->ev[0].line, 2);
    assert_int_equal(s->ev[3].line, 7);
    test_free(s);
}

static void test_parse_packets(void **state)
{
    (void)state;
    struct pd_script *s = parse_ok("--define=MSS=1000\n"
                                   "0 < S 0:0(0) win 32792 <mss MSS,sackOK,TS val 100 ecr 0,nop,wscale 7>\n"
                                   "+0 < . 1:1001(1000) ack 1 win 257 <nop,nop,sack 2001:3001 4001:5001>\n"
                                   "+0 > [ect0] P. 1:11(10) ack 1001 win 100\n"
                                   "+0 < icmp unreachable frag_needed mtu 1200 [1:1461(1460)]\n"
                                   "+0 < - 0:0(0) win 0\n"
                                   "+0 < [1461:2921(1460)] icmp unreachable frag_needed mtu 1000\n"
                                   "+0 < S 0:0(0) win 1 <FOEXP 0123456789abcdef,nop,nop>\n");
    const struct pd_pkt *k = &s->ev[0].pkt;
    assert_true(k->inbound);
    assert_int_equal(k->flags, SP_TCP_SYN);
    assert_int_equal(k->nopts, 5);
    assert_int_equal(k->opts[0].v[0], 1000);
    assert_int_equal(k->opts[2].kind, 8);
    assert_int_equal(k->opts[2].v[0], 100);
    k = &s->ev[1].pkt;
    assert_int_equal(k->opts[2].kind, 5);
    assert_int_equal(k->opts[2].nv, 4);
    assert_int_equal(k->opts[2].v[3], 5001);
    k = &s->ev[2].pkt;
    assert_false(k->inbound);
    assert_int_equal(k->flags, SP_TCP_PSH | SP_TCP_ACK);
    assert_int_equal(k->win, 100);
    k = &s->ev[3].pkt;
    assert_int_equal(k->proto, PD_P_ICMP);
    assert_int_equal(k->icmp_type, 3);
    assert_int_equal(k->icmp_code, 4);
    assert_int_equal(k->icmp_mtu, 1200);
    assert_true(k->icmp_echo_seq);
    assert_int_equal(s->ev[4].pkt.flags, 0);
    k = &s->ev[5].pkt;   /* the echoed segment before `icmp`, packetdrill's older grammar */
    assert_int_equal(k->proto, PD_P_ICMP);
    assert_int_equal(k->icmp_seq, 1461);
    assert_int_equal(k->icmp_mtu, 1000);
    k = &s->ev[6].pkt;   /* a cookie that starts with digits is still one hex string */
    assert_int_equal(k->opts[0].kind, 254);
    assert_int_equal(k->opts[0].ndata, 8);
    assert_int_equal(k->opts[0].data[0], 0x01);
    assert_int_equal(k->opts[0].data[7], 0xef);
    test_free(s);
}

static void test_parse_errors(void **state)
{
    (void)state;
    parse_bad("0 < S 0:0(0) <mss 1460>\n", "window must be specified");
    parse_bad("0 < S 0:10(5) win 10\n", "inconsistent");
    parse_bad("0 > S 0:0(0) <mss 1460,foo 3>\n", "unknown TCP option");
    parse_bad("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n\n0.2~0.1 > S 0:0(0)\n", "line 3: time range is backwards");
    parse_bad("0~1 < S 0:0(0) win 1\n", "only be used with outbound");
    parse_bad("0 < S 0:0(0) win 1 <...>\n", "only be used with outbound");
    parse_bad("0 close(3 = 0\n", "expected");
    /* tests/fuzz/corpus/packetdrill/flags_too_long.pkt: a word of 23 flag letters and its '.'
     * once overran the parser's buffer for them. */
    parse_bad("0.3 < CCCCCCCCCCCCCCCCCCCCCCC. 1:1(0) ack 1 win 65535\n", "too long");
    parse_bad("0.3 < SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS 0:0(0) win 1\n", "too long");
    /* tests/fuzz/corpus/packetdrill/time_too_large.pkt: a time past a long of microseconds came
     * out as LONG_MIN, and the runner's arithmetic with it overflowed. */
    parse_bad("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+22222222222222222222 close(3) = 0\n", "beyond");
    parse_bad("--tolerance_usecs=99999999999999999999999\n0 close(3) = 0\n", "not a number");
    parse_bad("--tolerance_percent=1e300\n0 close(3) = 0\n", "not a number");
}

/* --- the runner on small scripts ------------------------------------------------------------------- */

#define LISTEN_AT_0 "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 bind(3, ..., ...) = 0\n+0 listen(3, 1) = 0\n"
#define HANDSHAKE "+0 < S 0:0(0) win 65535 <mss 1460>\n+0 > S. 0:0(0) ack 1 <...>\n+.1 < . 1:1(0) ack 1 win 65535\n"

static void test_run_blocking_accept(void **state)
{
    (void)state;
    run_passes("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 listen(3, 1) = 0\n"
               "+0...0.100 accept(3, ..., ...) = 4\n" HANDSHAKE "+0 write(4, ..., 10) = 10\n"
               "+0 > P. 1:11(10) ack 1\n");
    /* returns at 0.1 s, not at the 0.3 s the line says */
    run_fails("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 listen(3, 1) = 0\n"
              "+0...0.300 accept(3, ..., ...) = 4\n" HANDSHAKE,
              "accept() returned at 0.100 s, expected at 0.300 s");
    /* the handshake never completes */
    run_fails("0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 listen(3, 1) = 0\n"
              "+0...0.100 accept(3, ..., ...) = 4\n+0 < S 0:0(0) win 65535 <mss 1460>\n",
              "accept() still blocked");
    /* without `...` a call must not block */
    run_fails(LISTEN_AT_0 "+0 accept(3, ..., ...) = 4\n", "accept() blocked");
}

static void test_run_matching(void **state)
{
    (void)state;
    run_fails(LISTEN_AT_0 "+0 < S 0:0(0) win 65535 <mss 1460>\n+0 > S 0:0(0) ack 1\n", "expected S 0:0(0) ack 1");
    run_fails(LISTEN_AT_0 "+0 < S 0:0(0) win 65535 <mss 1460>\n+0 > S. 0:0(0) ack 1 <mss 1460,sackOK>\n",
              "options: expected <mss 1460,sackOK>");
    run_fails(LISTEN_AT_0 "+0 < S 0:0(0) win 65535 <mss 1460>\n+0 > S. 0:0(0) ack 1 win 1000 <...>\n",
              "window 65535, expected 1000");
    run_fails(LISTEN_AT_0 "+0 < S 0:0(0) win 65535 <mss 1460>\n+1 > S. 0:0(0) ack 1 <...>\n",
              "sent at the wrong time");
    run_fails(LISTEN_AT_0 HANDSHAKE "+0 accept(3, ..., ...) = 4\n+0 > . 1:1(0) ack 1\n", "nothing was sent");
    /* a segment nobody expected is caught by the next `>` line */
    run_fails(LISTEN_AT_0 HANDSHAKE "+0 accept(3, ..., ...) = 4\n+0 write(4, ..., 10) = 10\n+0 close(4) = 0\n"
              "+0 > F. 11:11(0) ack 1\n",
              "expected F. 11:11(0) ack 1, got P. 1:11(10)");
    run_passes(LISTEN_AT_0 "+0 < S 0:0(0) win 65535 <mss 1460>\n+0 > S. 0:0(0) ack 1 <mss 1460>\n");
}

static void test_run_results(void **state)
{
    (void)state;
    run_fails(LISTEN_AT_0 HANDSHAKE "+0 accept(3, ..., ...) = 4\n+0 read(4, ..., 10) = -1 EAGAIN\n",
              "read() blocked");
    run_passes(LISTEN_AT_0 HANDSHAKE "+0 accept(3, ..., ...) = 4\n+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
               "+0 read(4, ..., 10) = -1 EAGAIN (Resource temporarily unavailable)\n"
               "+0 fcntl(4, F_GETFL) = 0x802 (flags O_RDWR|O_NONBLOCK)\n");
    run_fails(LISTEN_AT_0 HANDSHAKE "+0 accept(3, ..., ...) = 4\n+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
              "+0 read(4, ..., 10) = -1 ENOTCONN\n",
              "failed with EAGAIN, expected ENOTCONN");
    run_fails(LISTEN_AT_0 "+0 read(7, ..., 10) = 0\n", "returned -1 EBADF, expected 0");
    run_fails(LISTEN_AT_0 "+0 epoll_create(1) = 5\n", "not supported");
}

/* --- the corpus --------------------------------------------------------------------------------- */

static void own_path(char *out, size_t cap)
{
    const char *file = __FILE__;
    const char *tail = strstr(file, "unit/test_tcp_packetdrill.c");
    int root_len = tail ? (int)(tail - file) : 0;
    snprintf(out, cap, "%.*sconformance/packetdrill", root_len, file);
}

static int pd_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static const struct pd_exception *pd_exception_of(const char *name)
{
    for (const struct pd_exception *x = pd_exceptions; x->script; x++)
        if (strcmp(x->script, name) == 0)
            return x;
    return NULL;
}

/* Moves the events of the listed lines to new absolute times ("line=seconds ..."). */
static void pd_retime(struct pd_script *s, const char *spec)
{
    while (*spec) {
        char *end;
        long line = strtol(spec, &end, 10);
        assert_true(*end == '=');
        double secs = strtod(end + 1, &end);
        bool found = false;
        for (int i = 0; i < s->nevents; i++)
            if (s->ev[i].line == line) {
                s->ev[i].tkind = PD_T_ABS;
                s->ev[i].t_us = (long)(secs * 1e6 + 0.5);
                found = true;
            }
        assert_true(found);
        while (*end == ' ')
            end++;
        spec = end;
    }
}

static char *pd_read_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *text = test_calloc(1, 65536);
    size_t n = fread(text, 1, 65535, fp);
    text[n] = 0;
    fclose(fp);
    return text;
}

struct pd_tally {
    int scripts, passed, principle, timer, not_yet, bad;
};

static int run_one(struct pd_script *s, struct pd_run *r, bool strict_win, bool strict_opts)
{
    memset(r, 0, sizeof *r);
    r->strict_win = strict_win;
    r->strict_opts = strict_opts;
    return pd_run_script(r, s);
}

/* Runs one script file and prints its line; counts the outcome. */
static void run_file(const char *name, const char *path, bool strict_win, bool strict_opts, struct pd_tally *t)
{
    struct pd_script *s = test_malloc(sizeof *s);
    struct pd_run *r = test_malloc(sizeof *r);
    char *text = pd_read_file(path);
    assert_non_null(text);
    int rc = pd_parse(text, s);
    test_free(text);
    const char *msg = s->err;
    if (rc == 0) {
        rc = run_one(s, r, strict_win, strict_opts);
        msg = r->msg;
    }
    const struct pd_exception *x = pd_exception_of(name);
    t->scripts++;
    if (x && rc < 0) {
        printf("%s %-58s %s [run: %s]\n", why_label[x->why], name, x->reason, msg);
        t->principle += x->why == PD_PRINCIPLE;
        t->timer += x->why == PD_TIMER;
        t->not_yet += x->why == PD_NOT_YET;
        if (x->retime) {
            pd_retime(s, x->retime);
            rc = run_one(s, r, strict_win, strict_opts);
            printf("    with slowpath's timer values (%s): %s %s\n", x->retime, rc ? "FAIL" : "PASS", rc ? r->msg : "");
            t->bad += rc != 0;
        }
    } else if (x) {
        printf("PASS-but-listed %-57s remove it from the exceptions\n", name);
        t->bad++;
    } else if (rc < 0) {
        printf("FAIL %-68s %s\n", name, msg);
        t->bad++;
    } else {
        printf("PASS %-68s (%d lines or options ignored)\n", name, r->ignored);
        t->passed++;
    }
    test_free(r);
    test_free(s);
}

/* Every .pkt of a folder, in name order; `label` prefixes the names in the exception list. */
static void run_dir(const char *dir, const char *label, bool strict_win, bool strict_opts, struct pd_tally *t)
{
    DIR *d = opendir(dir);
    if (!d)
        fail_msg("cannot open %s (set SP_SHARED)", dir);
    char *names[256];
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 256) {
        size_t l = strlen(de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".pkt") == 0)
            names[n++] = strdup(de->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], pd_cmp);
    for (int i = 0; i < n; i++) {
        char name[300], path[900];
        snprintf(name, sizeof name, "%s/%s", label, names[i]);
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        free(names[i]);
        run_file(name, path, strict_win, strict_opts, t);
    }
}

/* Every .pkt under a folder and its subfolders, reported only (SP_PD_EXTRA: scripts of the public
 * suites that are not in the shared folder, run with relaxed matching). */
static void run_tree(const char *dir, const char *label, struct pd_tally *t)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char path[1024], name[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        snprintf(name, sizeof name, "%s/%s", label, de->d_name);
        struct stat st;
        size_t l = strlen(de->d_name);
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
            run_tree(path, name, t);
        else if (l > 4 && strcmp(de->d_name + l - 4, ".pkt") == 0)
            run_file(name, path, false, false, t);
    }
    closedir(d);
}

static void print_tally(const char *what, const struct pd_tally *t)
{
    printf("%s: %d scripts, %d pass, %d principle, %d timer value, %d not yet implemented, %d unexpected\n", what,
           t->scripts, t->passed, t->principle, t->timer, t->not_yet, t->bad);
}

static void test_packetdrill_shared(void **state)
{
    (void)state;
    const char *st = getenv("SP_PD_STRICT");
    bool strict = st && st[0] == '1';
    struct pd_tally t = {0};
    char dir[512];
    sp_test_shared_path(dir, sizeof dir, "conformance/packetdrill/freebsd-net");
    run_dir(dir, "freebsd-net", strict, strict, &t);
    sp_test_shared_path(dir, sizeof dir, "conformance/packetdrill/ligurio");
    run_dir(dir, "ligurio", strict, strict, &t);
    print_tally("shared", &t);
    fflush(stdout);
    assert_true(t.scripts > 0);
    if (!strict)
        assert_int_equal(t.bad, 0);
}

static void test_packetdrill_own(void **state)
{
    (void)state;
    struct pd_tally t = {0};
    char dir[512];
    own_path(dir, sizeof dir);
    run_dir(dir, "slowpath", true, true, &t);
    print_tally("slowpath", &t);
    fflush(stdout);
    assert_true(t.scripts > 0);
    assert_int_equal(t.bad, 0);
}

static void test_packetdrill_extra(void **state)
{
    (void)state;
    const char *dir = getenv("SP_PD_EXTRA");
    if (!dir || !dir[0])
        return;
    struct pd_tally t = {0};
    run_tree(dir, "extra", &t);
    print_tally("extra (report only)", &t);
    fflush(stdout);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_times),
        cmocka_unit_test(test_parse_statements_span_lines),
        cmocka_unit_test(test_parse_packets),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_run_blocking_accept),
        cmocka_unit_test(test_run_matching),
        cmocka_unit_test(test_run_results),
        cmocka_unit_test(test_packetdrill_shared),
        cmocka_unit_test(test_packetdrill_own),
        cmocka_unit_test(test_packetdrill_extra),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
