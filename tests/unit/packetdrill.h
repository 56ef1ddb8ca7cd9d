/* A packetdrill script interpreter for slowpath's TCP, in virtual time.
 *
 * packetdrill_parse.c reads the script language as google/packetdrill defines it (options,
 * init and cleanup commands, events with absolute, relative, range and wildcard times; packets,
 * system calls with expressions, shell commands and code snippets; statements may span lines).
 * packetdrill_run.c runs the events against the stack: inbound segments go to sp_tcp_input,
 * what the stack emits is captured through the TCP output hook and matched against the `>` lines,
 * timers run at every poll_at on the way. packetdrill_sys.c is the socket layer: it maps the
 * system calls onto the callback API, with blocking calls that return in virtual time when the
 * stack makes them possible. */
#ifndef SP_TEST_PACKETDRILL_H
#define SP_TEST_PACKETDRILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slowpath/device.h"
#include "slowpath/iface.h"
#include "slowpath/tcp.h"
#include "tcp_internal.h"

#define PD_US_IP 0xc0000202u     /* 192.0.2.2: slowpath */
#define PD_PEER_IP 0xc0000201u   /* 192.0.2.1: the script's remote end */
#define PD_LOCAL_PORT 8080       /* packetdrill binds the local socket here */
#define PD_PEER_PORT 40000
#define PD_PEER_ISN 1000000u     /* the remote ISN; inbound seq numbers are relative to it */
#define PD_T0 10000u             /* virtual ms at script time 0 */
#define PD_BUF 65536             /* SO_RCVBUF / SO_SNDBUF until a script sets them: the windows the
                                  * scripts were read against (65535, scale 1) */

#define PD_MAX_EVENTS 600
#define PD_MAX_EXPRS 6000
#define PD_TEXT_POOL 65536
#define PD_MAX_OPTS 12
#define PD_MAX_DEFS 32
#define PD_MAX_OUT 1024
#define PD_MAX_FD 32
#define PD_MAX_ACCEPT 8
#define PD_MAX_FLOWS 16

/* --- the script -------------------------------------------------------------------------------- */

enum pd_time_kind { PD_T_ABS, PD_T_REL, PD_T_ANY, PD_T_ABS_RANGE, PD_T_REL_RANGE };
enum pd_event_kind { PD_EV_PACKET, PD_EV_SYSCALL, PD_EV_COMMAND, PD_EV_CODE };
enum pd_proto { PD_P_TCP, PD_P_ICMP, PD_P_UDP };

/* One TCP option as written: kind is the option's kind number (0 eol, 1 nop, 2 mss, 3 wscale,
 * 4 sackOK, 5 sack, 8 TS, 19 md5, 34 FO, 254 FOEXP); v holds mss / shift / TS val, ecr / SACK
 * edges (relative sequence numbers); data the md5 digest or Fast Open cookie. */
struct pd_opt {
    uint8_t kind;
    uint8_t nv;
    uint32_t v[8];
    uint8_t ndata;
    uint8_t data[18];
};

struct pd_pkt {
    bool inbound;
    enum pd_proto proto;
    bool has_ports;
    uint16_t sport, dport;
    uint8_t flags;           /* SP_TCP_* bits */
    bool ae;                 /* the AE flag or an ACE value: accurate ECN, not supported */
    uint32_t seq, len, ack;
    bool has_ack;
    long win;                /* -1: not given */
    uint16_t urg;
    bool any_opts;           /* <...> */
    int nopts;
    struct pd_opt opts[PD_MAX_OPTS];
    uint8_t icmp_type, icmp_code;
    long icmp_mtu;           /* -1: not given */
    bool icmp_echo_seq;      /* [seq] given: the quoted segment's sequence number */
    uint32_t icmp_seq;
};

enum pd_expr_kind { PD_X_ELLIPSIS, PD_X_INT, PD_X_WORD, PD_X_STRING, PD_X_LIST, PD_X_STRUCT, PD_X_CALL, PD_X_OR,
                    PD_X_ASSIGN };

/* LIST / STRUCT / CALL: kid is the first element or argument, elements chained by next.
 * OR and ASSIGN: kid is the left side, kid->next the right. */
struct pd_expr {
    enum pd_expr_kind kind;
    long long num;
    const char *text;        /* WORD, STRING, CALL name */
    struct pd_expr *kid;
    struct pd_expr *next;
};

struct pd_syscall {
    const char *name;
    struct pd_expr *args;    /* first argument, chained */
    int nargs;
    struct pd_expr *ret;
    const char *errno_name;  /* NULL: none given */
    bool blocking;           /* `start...end name(...)` */
    long end_us;             /* when it must return (relative like the start for + times) */
};

struct pd_event {
    int line;
    enum pd_event_kind kind;
    enum pd_time_kind tkind;
    long t_us, t_end_us;     /* as written: absolute, or offsets for + times */
    struct pd_pkt pkt;
    struct pd_syscall sc;
    const char *text;        /* command line or code snippet */
};

struct pd_script {
    long tolerance_us;
    double tolerance_pct;
    int mtu;                 /* 0: the default */
    bool ipv4;               /* --ip_version says ipv4 (the default) */
    uint16_t bind_port, connect_port;
    int ncommands;           /* init and cleanup commands, untimed code snippets */
    int nevents;
    struct pd_event ev[PD_MAX_EVENTS];
    int nexprs;
    struct pd_expr exprs[PD_MAX_EXPRS];
    size_t ntext;
    char text[PD_TEXT_POOL];
    int ndefs;
    const char *def_name[PD_MAX_DEFS], *def_value[PD_MAX_DEFS];
    char err[240];
};

/* Parses a whole script into s (allocated by the caller). 0, or -1 with s->err. */
int pd_parse(const char *text, struct pd_script *s);

/* A symbol's value (socket constants, errno names, poll bits, ...): true when known. */
bool pd_symbol(const char *name, long long *value);
/* The errno name of a value, or "E?". */
const char *pd_errno_name(int err);

/* --- running it -------------------------------------------------------------------------------- */

struct pd_out {
    sp_time_t at;
    struct sp_tcp_repr tcp;
    uint8_t opts[40];        /* the options as they went out */
    uint8_t optlen;
};

/* The socket layer's view of one descriptor. */
struct pd_sock {
    bool used, listening, nonblock;
    bool connecting;         /* connect() issued, no answer yet */
    bool connected;          /* reached ESTABLISHED once */
    bool failed;             /* the stack ended the connection with an error */
    bool gone;               /* the stack released the connection (on_close) */
    bool rd_shut, wr_shut;
    bool linger0;            /* SO_LINGER {onoff=1, linger=0}: close() aborts */
    bool nodelay;
    bool keepalive;          /* SO_KEEPALIVE */
    uint32_t ka_idle, ka_intvl, ka_cnt; /* TCP_KEEPIDLE, _KEEPINTVL, _KEEPCNT; 0: Linux's default */
    uint32_t rcvbuf, sndbuf; /* 0: the stack's default */
    int err;                 /* pending SO_ERROR (POSIX errno) */
    uint16_t port;           /* bind() */
    struct sp_tcp *h;
    struct sp_tcp *accq[PD_MAX_ACCEPT];
    int naccq;
};

/* A blocking call waiting in virtual time for the stack to make it possible. */
struct pd_pending {
    const struct pd_event *ev;
    bool active, started;
    long progress;           /* bytes written so far */
    long start_us, end_us;   /* script times */
    sp_time_t deadline;      /* poll()'s timeout, SP_TIME_NEVER otherwise */
};

struct pd_flow {
    uint16_t lport;
    uint32_t iss;
};

#define PD_MAX_TS_MAP 64

/* Our TSvals as the script wrote them and as they went out (packetdrill's ts_val_map): an inbound
 * TS ecr that names a script value echoes the value sent; another is moved by the offset of the
 * first pair, as packetdrill interpolates. */
struct pd_ts_map {
    int n;
    uint32_t script[PD_MAX_TS_MAP], actual[PD_MAX_TS_MAP];
};

struct pd_run {
    const struct pd_script *s;
    bool strict_win, strict_opts;
    struct sp_device *dev;
    struct sp_iface *iface;
    sp_time_t now;
    uint16_t local_port;     /* destination port of inbound segments */
    struct pd_flow flows[PD_MAX_FLOWS];
    int nflows;
    struct pd_ts_map ts;
    unsigned nout, taken;
    struct pd_out out[PD_MAX_OUT];
    struct pd_sock fd[PD_MAX_FD];
    struct pd_pending pend;
    bool failed;
    int ignored;
    /* the previous event, for + times: its script time, whether that was exact (anchored), and
     * when it happened */
    long prev_us, prev_actual_us;
    bool prev_anchored;
    char msg[400];
    uint8_t zeros[65536];
    uint8_t buf[70000];
};

/* 0 when the script passes; -1 with r->msg otherwise. r is set up here (caller zeroes strict). */
int pd_run_script(struct pd_run *r, const struct pd_script *s);

/* packetdrill_run.c, for packetdrill_sys.c: the first failure of a run, with its line. */
int pd_fail(struct pd_run *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* packetdrill_sys.c */
struct pd_ret {
    long val;
    int err;                 /* POSIX errno, 0: success */
};
enum pd_step { PD_DONE, PD_BLOCKED, PD_FAILED };
/* Runs (or re-tries) one call; PD_BLOCKED when a blocking socket would block. */
enum pd_step pd_syscall_step(struct pd_run *r, const struct pd_event *e, struct pd_pending *p, struct pd_ret *ret);
/* Checks a finished call's result against the script: 0, or -1 with r->msg. */
int pd_check_result(struct pd_run *r, const struct pd_event *e, const struct pd_ret *ret);
/* An empty descriptor table. */
void pd_sockets_init(struct pd_run *r);

#endif
