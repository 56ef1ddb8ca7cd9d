/* The socket layer of the packetdrill runner: the system calls of a script mapped onto slowpath's
 * callback API, with the POSIX semantics a kernel's socket layer adds on top of TCP (descriptors,
 * blocking and O_NONBLOCK, the accept queue, SO_ERROR, poll's events, errno values). Values are
 * Linux's, as in Google's scripts.
 *
 * A call on a blocking socket that cannot finish now returns PD_BLOCKED and is tried again after
 * every step of the stack (a segment in, a timer) until it can. SHUT_RD is emulated here, as BSD
 * does it: pending and later data are read and dropped, so reads return 0 while the stack keeps
 * acknowledging. */
#include <stdio.h>
#include <string.h>

#include "packetdrill.h"
#include "slowpath/error.h"

/* --- symbols ------------------------------------------------------------------------------------- */

struct pd_symbol {
    const char *name;
    long long value;
};

static const struct pd_symbol symbols[] = {
    /* errno (the first name of a value is the one printed) */
    {"EPERM", 1}, {"ENOENT", 2}, {"EINTR", 4}, {"EIO", 5}, {"EBADF", 9}, {"EAGAIN", 11}, {"EWOULDBLOCK", 11},
    {"ENOMEM", 12}, {"EACCES", 13}, {"EFAULT", 14}, {"EBUSY", 16}, {"EEXIST", 17}, {"EINVAL", 22},
    {"EPIPE", 32}, {"EPROTO", 71}, {"ENOTSOCK", 88}, {"EDESTADDRREQ", 89}, {"EMSGSIZE", 90}, {"EPROTOTYPE", 91},
    {"ENOPROTOOPT", 92}, {"EPROTONOSUPPORT", 93}, {"EOPNOTSUPP", 95}, {"EAFNOSUPPORT", 97},
    {"EADDRINUSE", 98}, {"EADDRNOTAVAIL", 99}, {"ENETDOWN", 100}, {"ENETUNREACH", 101}, {"ECONNABORTED", 103},
    {"ECONNRESET", 104}, {"ENOBUFS", 105}, {"EISCONN", 106}, {"ENOTCONN", 107}, {"ESHUTDOWN", 108},
    {"ETIMEDOUT", 110}, {"ECONNREFUSED", 111}, {"EHOSTDOWN", 112}, {"EHOSTUNREACH", 113}, {"EALREADY", 114},
    {"EINPROGRESS", 115},
    /* sockets */
    {"AF_INET", 2}, {"PF_INET", 2}, {"AF_INET6", 10}, {"SOCK_STREAM", 1}, {"SOCK_DGRAM", 2},
    {"SOCK_NONBLOCK", 04000}, {"SOCK_CLOEXEC", 02000000}, {"IPPROTO_IP", 0}, {"IPPROTO_TCP", 6},
    {"IPPROTO_UDP", 17}, {"SOL_IP", 0}, {"SOL_SOCKET", 1}, {"SOL_TCP", 6}, {"INADDR_ANY", 0},
    {"SO_DEBUG", 1}, {"SO_REUSEADDR", 2}, {"SO_TYPE", 3}, {"SO_ERROR", 4}, {"SO_DONTROUTE", 5},
    {"SO_BROADCAST", 6}, {"SO_SNDBUF", 7}, {"SO_RCVBUF", 8}, {"SO_KEEPALIVE", 9}, {"SO_OOBINLINE", 10},
    {"SO_LINGER", 13}, {"SO_REUSEPORT", 15}, {"SO_RCVLOWAT", 18}, {"SO_SNDLOWAT", 19}, {"SO_RCVTIMEO", 20},
    {"SO_SNDTIMEO", 21}, {"SO_ZEROCOPY", 60},
    {"TCP_NODELAY", 1}, {"TCP_MAXSEG", 2}, {"TCP_CORK", 3}, {"TCP_KEEPIDLE", 4}, {"TCP_KEEPINTVL", 5},
    {"TCP_KEEPCNT", 6}, {"TCP_SYNCNT", 7}, {"TCP_LINGER2", 8}, {"TCP_DEFER_ACCEPT", 9},
    {"TCP_WINDOW_CLAMP", 10}, {"TCP_INFO", 11}, {"TCP_QUICKACK", 12}, {"TCP_CONGESTION", 13},
    {"TCP_USER_TIMEOUT", 18}, {"TCP_FASTOPEN", 23}, {"TCP_NOTSENT_LOWAT", 25},
    {"SHUT_RD", 0}, {"SHUT_WR", 1}, {"SHUT_RDWR", 2},
    {"F_GETFD", 1}, {"F_SETFD", 2}, {"F_GETFL", 3}, {"F_SETFL", 4}, {"FD_CLOEXEC", 1},
    {"O_RDONLY", 0}, {"O_WRONLY", 1}, {"O_RDWR", 2}, {"O_NONBLOCK", 04000},
    {"POLLIN", 0x1}, {"POLLPRI", 0x2}, {"POLLOUT", 0x4}, {"POLLERR", 0x8}, {"POLLHUP", 0x10},
    {"POLLNVAL", 0x20}, {"POLLRDNORM", 0x40}, {"POLLRDBAND", 0x80}, {"POLLWRNORM", 0x100},
    {"POLLWRBAND", 0x200}, {"POLLMSG", 0x400}, {"POLLRDHUP", 0x2000},
    {"MSG_OOB", 0x1}, {"MSG_PEEK", 0x2}, {"MSG_DONTROUTE", 0x4}, {"MSG_TRUNC", 0x20}, {"MSG_DONTWAIT", 0x40},
    {"MSG_EOR", 0x80}, {"MSG_WAITALL", 0x100}, {"MSG_ERRQUEUE", 0x2000}, {"MSG_NOSIGNAL", 0x4000},
    {"MSG_MORE", 0x8000}, {"MSG_ZEROCOPY", 0x4000000}, {"MSG_FASTOPEN", 0x20000000},
    {"FIONREAD", 0x541b}, {"SIOCINQ", 0x541b}, {"SIOCOUTQ", 0x5411}, {"SIOCOUTQNSD", 0x894b},
    {NULL, 0}};

enum {
    E_AGAIN = 11, E_BADF = 9, E_INVAL = 22, E_PIPE = 32, E_PROTO = 71, E_NOPROTOOPT = 92, E_ADDRINUSE = 98,
    E_CONNABORTED = 103, E_CONNRESET = 104, E_NOBUFS = 105, E_ISCONN = 106, E_NOTCONN = 107,
    E_TIMEDOUT = 110, E_CONNREFUSED = 111, E_HOSTUNREACH = 113, E_ALREADY = 114, E_INPROGRESS = 115, E_IO = 5,
    O_NONBLOCK_ = 04000, O_RDWR_ = 2, MSG_PEEK_ = 0x2, MSG_DONTWAIT_ = 0x40, MSG_WAITALL_ = 0x100,
    MSG_FASTOPEN_ = 0x20000000, POLL_IN = 0x1, POLL_OUT = 0x4, POLL_ERR = 0x8, POLL_HUP = 0x10,
    POLL_NVAL = 0x20, POLL_RDNORM = 0x40, POLL_WRNORM = 0x100, POLL_RDHUP = 0x2000,
};

bool pd_symbol(const char *name, long long *value)
{
    for (const struct pd_symbol *s = symbols; s->name; s++)
        if (strcmp(s->name, name) == 0) {
            *value = s->value;
            return true;
        }
    return false;
}

const char *pd_errno_name(int err)
{
    for (const struct pd_symbol *s = symbols; s->name; s++)
        if (s->name[0] == 'E' && s->value == err)
            return s->name;
    return "E?";
}

/* What a socket layer reports for a stack error. */
static int errno_of(int sp_err)
{
    switch (sp_err) {
    case SP_EAGAIN: return E_AGAIN;
    case SP_ECONNREFUSED: return E_CONNREFUSED;
    case SP_ECONNRESET: return E_CONNRESET;
    case SP_ETIMEDOUT: return E_TIMEDOUT;
    case SP_ENOTCONN: return E_NOTCONN;
    case SP_ESTATE: return E_PIPE;
    case SP_EINVAL: return E_INVAL;
    case SP_ENOBUFS: return E_NOBUFS;
    case SP_EADDRINUSE: return E_ADDRINUSE;
    case SP_ENOROUTE: return E_HOSTUNREACH;
    case SP_EMALFORMED: return E_PROTO;   /* an ICMP parameter problem, as Linux reports it */
    default: return E_IO;
    }
}

/* --- expressions ------------------------------------------------------------------------------- */

/* An integer value: a number, a symbol, a | b, [x], htons(x). False for `...` and the rest. */
static bool eval(const struct pd_expr *x, long long *v)
{
    long long a, b;
    switch (x ? x->kind : PD_X_ELLIPSIS) {
    case PD_X_INT: *v = x->num; return true;
    case PD_X_WORD: return pd_symbol(x->text, v);
    case PD_X_OR:
        if (!eval(x->kid, &a) || !eval(x->kid->next, &b))
            return false;
        *v = a | b;
        return true;
    case PD_X_LIST: return x->kid && !x->kid->next && eval(x->kid, v);
    case PD_X_CALL: return x->kid && eval(x->kid, v);   /* htons(), htonl(): byte order is ours */
    default: return false;
    }
}

static const struct pd_expr *arg(const struct pd_syscall *sc, int i)
{
    const struct pd_expr *x = sc->args;
    while (x && i--)
        x = x->next;
    return x;
}

/* The value of field `name` in a struct expression {name=value, ...}. */
static const struct pd_expr *field(const struct pd_expr *st, const char *name)
{
    if (!st || st->kind != PD_X_STRUCT)
        return NULL;
    for (const struct pd_expr *f = st->kid; f; f = f->next)
        if (f->kind == PD_X_ASSIGN && f->kid->text && strcmp(f->kid->text, name) == 0)
            return f->kid->next;
    return NULL;
}

static bool int_arg(struct pd_run *r, const struct pd_event *e, int i, long long *v)
{
    if (eval(arg(&e->sc, i), v))
        return true;
    pd_fail(r, e->line, "%s(): argument %d is not a number the runner knows", e->sc.name, i + 1);
    return false;
}

/* Total bytes of an iovec array [{..., 100}, {..., 200}]. */
static long iov_len(const struct pd_expr *list)
{
    long n = 0;
    for (const struct pd_expr *v = list && list->kind == PD_X_LIST ? list->kid : NULL; v; v = v->next) {
        long long l;
        if (v->kind == PD_X_STRUCT && v->kid && v->kid->next && eval(v->kid->next, &l))
            n += (long)l;
    }
    return n;
}

/* msg_iov(1)=[...] of a msghdr */
static long msghdr_len(const struct pd_expr *m)
{
    for (const struct pd_expr *f = m && m->kind == PD_X_STRUCT ? m->kid : NULL; f; f = f->next)
        if (f->kind == PD_X_ASSIGN && f->kid->text && strcmp(f->kid->text, "msg_iov") == 0)
            return iov_len(f->kid->next);
    return 0;
}

/* --- results ------------------------------------------------------------------------------------ */

static enum pd_step done(struct pd_ret *ret, long v)
{
    ret->val = v;
    ret->err = 0;
    return PD_DONE;
}

static enum pd_step fail_errno(struct pd_ret *ret, int err)
{
    ret->val = -1;
    ret->err = err;
    return PD_DONE;
}

int pd_check_result(struct pd_run *r, const struct pd_event *e, const struct pd_ret *ret)
{
    const struct pd_syscall *sc = &e->sc;
    long long want;
    if (sc->ret->kind == PD_X_ELLIPSIS)
        return 0;
    if (!eval(sc->ret, &want))
        return pd_fail(r, e->line, "%s(): cannot read the expected result", sc->name);
    if (ret->err && want != -1)
        return pd_fail(r, e->line, "%s() returned -1 %s, expected %lld", sc->name, pd_errno_name(ret->err), want);
    if (!ret->err && ret->val != want)
        return pd_fail(r, e->line, "%s() returned %ld, expected %lld", sc->name, ret->val, want);
    if (ret->err && sc->errno_name) {
        long long en;
        if (!pd_symbol(sc->errno_name, &en))
            return pd_fail(r, e->line, "unknown errno %s", sc->errno_name);
        if (en != ret->err)
            return pd_fail(r, e->line, "%s() failed with %s, expected %s", sc->name, pd_errno_name(ret->err),
                           sc->errno_name);
    }
    return 0;
}

/* --- the stack's callbacks ---------------------------------------------------------------------- */

static struct pd_sock *sock_of(struct pd_run *r, const struct sp_tcp *h)
{
    for (int i = 0; i < PD_MAX_FD; i++)
        if (r->fd[i].used && r->fd[i].h == h)
            return &r->fd[i];
    return NULL;
}

static void drain(struct pd_run *r, struct sp_tcp *c)
{
    while (sp_tcp_recv(c, r->buf, sizeof r->buf) > 0) {
    }
}

static void unqueue(struct pd_run *r, const struct sp_tcp *c)
{
    for (int i = 0; i < PD_MAX_FD; i++) {
        struct pd_sock *l = &r->fd[i];
        for (int j = 0; l->used && j < l->naccq; j++)
            if (l->accq[j] == c) {
                memmove(&l->accq[j], &l->accq[j + 1], (size_t)(l->naccq - j - 1) * sizeof l->accq[0]);
                l->naccq--;
                return;
            }
    }
}

static void on_connect(struct sp_tcp *c, int status)
{
    struct pd_sock *s = sock_of(sp_tcp_get_data(c), c);
    if (!s)
        return;
    s->connecting = false;
    s->connected = status == 0;
    if (status) {
        s->failed = true;
        s->err = errno_of(status);
    }
}

static void on_readable(struct sp_tcp *c)
{
    struct pd_run *r = sp_tcp_get_data(c);
    struct pd_sock *s = sock_of(r, c);
    if (s && s->rd_shut)
        drain(r, c);
}

static void on_close(struct sp_tcp *c, int status)
{
    struct pd_run *r = sp_tcp_get_data(c);
    struct pd_sock *s = sock_of(r, c);
    if (!s) {
        unqueue(r, c);
        return;
    }
    s->h = NULL;
    s->gone = true;
    s->connecting = false;
    if (status) {
        s->failed = true;
        s->err = errno_of(status);
    }
}

static const struct sp_tcp_callbacks conn_cbs = {
    .on_connect = on_connect,
    .on_readable = on_readable,
    .on_close = on_close,
};

static void on_accept(struct sp_tcp *l, struct sp_tcp *c)
{
    struct pd_run *r = sp_tcp_get_data(l);
    struct pd_sock *s = sock_of(r, l);
    sp_tcp_set_callbacks(c, &conn_cbs, r);
    if (s && s->naccq < PD_MAX_ACCEPT)
        s->accq[s->naccq++] = c;
    else
        sp_tcp_abort(c);   /* the accept queue is full */
}

void pd_sockets_init(struct pd_run *r) { memset(r->fd, 0, sizeof r->fd); }

/* --- descriptors --------------------------------------------------------------------------------- */

typedef enum pd_step (*pd_sys_fn)(struct pd_run *r, const struct pd_event *e, struct pd_pending *p,
                                  struct pd_sock *s, struct pd_ret *ret);

static bool may_block(const struct pd_sock *s, long long flags) { return !s->nonblock && !(flags & MSG_DONTWAIT_); }

/* SO_KEEPALIVE with the TCP_KEEP* values set so far, Linux's defaults (which are slowpath's) for
 * the others. */
static int apply_keepalive(const struct pd_sock *s)
{
    if (!s->h)
        return 0;
    if (!s->keepalive)
        return sp_tcp_set_keepalive(s->h, 0, 0, 0);
    return sp_tcp_set_keepalive(s->h, s->ka_idle ? s->ka_idle : SP_TCP_KEEPALIVE_IDLE_S,
                                s->ka_intvl ? s->ka_intvl : SP_TCP_KEEPALIVE_INTVL_S,
                                s->ka_cnt ? s->ka_cnt : SP_TCP_KEEPALIVE_COUNT);
}

/* Settings made before the stack had a handle for the socket. */
static void apply_options(struct pd_sock *s)
{
    if (s->keepalive)
        apply_keepalive(s);
    if (s->rcvbuf)
        sp_tcp_set_rcvbuf(s->h, s->rcvbuf);
    if (s->sndbuf)
        sp_tcp_set_sndbuf(s->h, s->sndbuf);
    if (s->nodelay)
        sp_tcp_set_nodelay(s->h, true);
}

/* The descriptor a new socket or accepted connection gets: the one the script expects. */
static struct pd_sock *new_fd(struct pd_run *r, const struct pd_event *e, int *fdn)
{
    long long want;
    if (!eval(e->sc.ret, &want) || want < 0 || want >= PD_MAX_FD || r->fd[want].used) {
        pd_fail(r, e->line, "%s(): the expected descriptor is not a free one below %d", e->sc.name, PD_MAX_FD);
        return NULL;
    }
    *fdn = (int)want;
    memset(&r->fd[want], 0, sizeof r->fd[want]);
    r->fd[want].used = true;
    return &r->fd[want];
}

static enum pd_step sys_socket(struct pd_run *r, const struct pd_event *e, struct pd_pending *p,
                               struct pd_sock *unused, struct pd_ret *ret)
{
    (void)p;
    (void)unused;
    long long type;
    if (!int_arg(r, e, 1, &type))
        return PD_FAILED;
    if ((type & ~(04000LL | 02000000LL)) != 1)
        return pd_fail(r, e->line, "only SOCK_STREAM sockets are supported"), PD_FAILED;
    int fdn;
    struct pd_sock *s = new_fd(r, e, &fdn);
    if (!s)
        return PD_FAILED;
    s->nonblock = type & O_NONBLOCK_;
    return done(ret, fdn);
}

static enum pd_step sys_bind(struct pd_run *r, const struct pd_event *e, struct pd_pending *p, struct pd_sock *s,
                             struct pd_ret *ret)
{
    (void)p;
    long long port;
    s->port = r->s->bind_port ? r->s->bind_port : PD_LOCAL_PORT;
    if (eval(field(arg(&e->sc, 1), "sin_port"), &port))
        s->port = (uint16_t)port;
    return done(ret, 0);
}

static enum pd_step sys_listen(struct pd_run *r, const struct pd_event *e, struct pd_pending *p, struct pd_sock *s,
                               struct pd_ret *ret)
{
    (void)p;
    long long backlog;
    if (!int_arg(r, e, 1, &backlog))
        return PD_FAILED;
    if (s->listening)
        return done(ret, 0);
    uint16_t port = s->port ? s->port : PD_LOCAL_PORT;
    int rc = sp_tcp_listen(r->iface, port, (int)backlog, on_accept, r, &s->h);
    if (rc < 0)
        return fail_errno(ret, errno_of(rc));
    s->listening = true;
    r->local_port = port;
    apply_options(s);
    return done(ret, 0);
}

static enum pd_step sys_accept(struct pd_run *r, const struct pd_event *e, struct pd_pending *p, struct pd_sock *s,
                               struct pd_ret *ret)
{
    (void)p;
    long long flags = 0;
    if (strcmp(e->sc.name, "accept4") == 0 && !int_arg(r, e, 3, &flags))
        return PD_FAILED;
    if (!s->listening)
        return fail_errno(ret, E_INVAL);
    if (s->naccq == 0)
        return may_block(s, 0) ? PD_BLOCKED : fail_errno(ret, E_AGAIN);
    int fdn;
    struct pd_sock *n = new_fd(r, e, &fdn);
    if (!n)
        return PD_FAILED;
    n->h = s->accq[0];
    n->connected = true;
    /* what the connection inherited from the listener (the stack did the same) */
    n->keepalive = s->keepalive;
    n->ka_idle = s->ka_idle;
    n->ka_intvl = s->ka_intvl;
    n->ka_cnt = s->ka_cnt;
    n->nonblock = flags & O_NONBLOCK_;
    memmove(&s->accq[0], &s->accq[1], (size_t)(s->naccq - 1) * sizeof s->accq[0]);
    s->naccq--;
    return done(ret, fdn);
}

/* The pending error, cleared as SO_ERROR and a failing call clear it. */
static int take_err(struct pd_sock *s)
{
    int err = s->err;
    s->err = 0;
    return err;
}

static enum pd_step sys_connect(struct pd_run *r, const struct pd_event *e, struct pd_pending *p, struct pd_sock *s,
                                struct pd_ret *ret)
{
    (void)e;
    if (p->started) {   /* a blocking connect() waiting for the handshake */
        if (s->connected)
            return done(ret, 0);
        if (s->failed)
            return fail_errno(ret, s->err ? take_err(s) : E_CONNABORTED);
        return PD_BLOCKED;
    }
    if (s->listening || s->connected)
        return fail_errno(ret, E_ISCONN);
    if (s->failed)
        return fail_errno(ret, s->err ? take_err(s) : E_CONNABORTED);
    if (s->connecting) {
        p->started = may_block(s, 0);
        return p->started ? PD_BLOCKED : fail_errno(ret, E_ALREADY);
    }
    int rc = sp_tcp_connect(r->iface, PD_PEER_IP, PD_PEER_PORT, &conn_cbs, r, &s->h);
    if (rc < 0)
        return fail_errno(ret, errno_of(rc));
    s->connecting = true;
    r->local_port = sp_tcp_local_port(s->h);
    apply_options(s);
    p->started = true;
    return may_block(s, 0) ? PD_BLOCKED : fail_errno(ret, E_INPROGRESS);
}

/* --- reading and writing ------------------------------------------------------------------------- */

/* Bytes and flags of a read or write call, by its shape. */
static bool io_shape(struct pd_run *r, const struct pd_event *e, long *len, long long *flags)
{
    const char *n = e->sc.name;
    long long v = 0;
    *flags = 0;
    if (strcmp(n, "readv") == 0 || strcmp(n, "writev") == 0) {
        *len = iov_len(arg(&e->sc, 1));
        return true;
    }
    if (strcmp(n, "recvmsg") == 0 || strcmp(n, "sendmsg") == 0) {
        *len = msghdr_len(arg(&e->sc, 1));
        return e->sc.nargs < 3 || int_arg(r, e, 2, flags);
    }
    if (!int_arg(r, e, 2, &v))
        return false;
    *len = (long)v;
    return e->sc.nargs < 4 || int_arg(r, e, 3, flags);
}

static bool peer_fin_received(const struct sp_tcp *h)
{
    enum sp_tcp_state st = sp_tcp_get_state(h);
    return st == SP_TCP_CLOSE_WAIT || st == SP_TCP_LAST_ACK || st == SP_TCP_CLOSING || st == SP_TCP_TIME_WAIT;
}

static bool handshaking(const struct sp_tcp *h)
{
    enum sp_tcp_state st = sp_tcp_get_state(h);
    return st == SP_TCP_SYN_SENT || st == SP_TCP_SYN_RECEIVED;
}

static enum pd_step sys_read(struct pd_run *r, const struct pd_event *e, struct pd_pending *p, struct pd_sock *s,
                             struct pd_ret *ret)
{
    long len;
    long long flags;
    if (!io_shape(r, e, &len, &flags))
        return PD_FAILED;
    if (flags & MSG_PEEK_)
        return pd_fail(r, e->line, "MSG_PEEK is not supported"), PD_FAILED;
    if (s->listening)
        return fail_errno(ret, E_NOTCONN);
    if (len == 0)
        return done(ret, 0);
    if (s->rd_shut)
        return done(ret, p->progress);
    while (s->h && p->progress < len && sp_tcp_recv_pending(s->h) > 0) {
        size_t want = (size_t)(len - p->progress) < sizeof r->buf ? (size_t)(len - p->progress) : sizeof r->buf;
        long n = sp_tcp_recv(s->h, r->buf, want);
        if (n <= 0)
            break;
        p->progress += n;
    }
    bool all = !(flags & MSG_WAITALL_) || p->progress == len;
    if (p->progress > 0 && all)
        return done(ret, p->progress);
    if (s->err)
        return p->progress ? done(ret, p->progress) : fail_errno(ret, take_err(s));
    if (!s->h)
        return s->connected || s->failed ? done(ret, p->progress) : fail_errno(ret, E_NOTCONN);
    if (peer_fin_received(s->h))
        return done(ret, p->progress);
    if (!may_block(s, flags))
        return p->progress ? done(ret, p->progress) : fail_errno(ret, E_AGAIN);
    return PD_BLOCKED;
}

static enum pd_step sys_write(struct pd_run *r, const struct pd_event *e, struct pd_pending *p, struct pd_sock *s,
                              struct pd_ret *ret)
{
    long len;
    long long flags;
    if (!io_shape(r, e, &len, &flags))
        return PD_FAILED;
    if (flags & MSG_FASTOPEN_)
        return pd_fail(r, e->line, "TCP Fast Open (MSG_FASTOPEN) is not implemented"), PD_FAILED;
    if (s->err)
        return p->progress ? done(ret, p->progress) : fail_errno(ret, take_err(s));
    if (s->listening || s->wr_shut || !s->h)
        return p->progress ? done(ret, p->progress) : fail_errno(ret, E_PIPE);
    if (!handshaking(s->h)) {
        while (p->progress < len) {
            size_t want = (size_t)(len - p->progress) < sizeof r->zeros ? (size_t)(len - p->progress) : sizeof r->zeros;
            long n = sp_tcp_send(s->h, r->zeros, want);
            if (n == SP_EAGAIN || n == 0)
                break;
            if (n < 0)
                return p->progress ? done(ret, p->progress) : fail_errno(ret, errno_of(n));
            p->progress += n;
        }
    }
    if (p->progress == len)
        return done(ret, len);
    if (!may_block(s, flags))
        return p->progress ? done(ret, p->progress) : fail_errno(ret, E_AGAIN);
    return PD_BLOCKED;
}

/* --- closing ------------------------------------------------------------------------------------- */

static enum pd_step sys_close(struct pd_run *r, const struct pd_event *e, struct pd_pending *p, struct pd_sock *s,
                              struct pd_ret *ret)
{
    (void)r;
    (void)e;
    (void)p;
    if (s->listening) {
        /* Connections nobody accepted are reset, as closing a listening socket does. */
        for (int i = 0; i < s->naccq; i++)
            sp_tcp_abort(s->accq[i]);
        sp_tcp_close(s->h);
    } else if (s->h && s->linger0) {
        sp_tcp_abort(s->h);   /* SO_LINGER {1, 0}: an abortive close */
    } else if (s->h) {
        sp_tcp_close(s->h);
    }
    memset(s, 0, sizeof *s);
    return done(ret, 0);
}

static enum pd_step sys_shutdown(struct pd_run *r, const struct pd_event *e, struct pd_pending *p, struct pd_sock *s,
                                 struct pd_ret *ret)
{
    (void)p;
    long long how;
    if (!int_arg(r, e, 1, &how))
        return PD_FAILED;
    if (how < 0 || how > 2)
        return fail_errno(ret, E_INVAL);
    if (s->listening || !s->h)
        return fail_errno(ret, E_NOTCONN);
    if (how != 1) {   /* SHUT_RD, SHUT_RDWR */
        s->rd_shut = true;
        drain(r, s->h);
    }
    if (how != 0 && !s->wr_shut) {   /* SHUT_WR, SHUT_RDWR */
        int rc = sp_tcp_shutdown(s->h);
        if (rc < 0)
            return fail_errno(ret, rc == SP_ESTATE ? E_NOTCONN : errno_of(rc));
        s->wr_shut = true;
    }
    return done(ret, 0);
}

/* --- options ------------------------------------------------------------------------------------- */

enum { L_SOCKET = 1, L_TCP = 6, O_ERROR = 4, O_SNDBUF = 7, O_RCVBUF = 8, O_LINGER = 13, O_NODELAY = 1,
       O_KEEPALIVE = 9, O_KEEPIDLE = 4, O_KEEPINTVL = 5, O_KEEPCNT = 6 };

static bool keepalive_opt(long long level, long long name)
{
    return (level == L_SOCKET && name == O_KEEPALIVE) ||
           (level == L_TCP && (name == O_KEEPIDLE || name == O_KEEPINTVL || name == O_KEEPCNT));
}

/* SO_KEEPALIVE and TCP_KEEPIDLE / _KEEPINTVL / _KEEPCNT, with Linux's bounds. */
static enum pd_step set_keepalive_opt(struct pd_sock *s, long long level, long long name, long long v,
                                      struct pd_ret *ret)
{
    if (level == L_SOCKET) {
        s->keepalive = v != 0;
    } else {
        long long max = name == O_KEEPCNT ? 127 : SP_TCP_KEEPALIVE_MAX_S;
        if (v < 1 || v > max)
            return fail_errno(ret, E_INVAL);
        uint32_t *field = name == O_KEEPIDLE ? &s->ka_idle : name == O_KEEPINTVL ? &s->ka_intvl : &s->ka_cnt;
        *field = (uint32_t)v;
    }
    int rc = apply_keepalive(s);
    return rc < 0 ? fail_errno(ret, errno_of(rc)) : done(ret, 0);
}

static long long keepalive_value(const struct pd_sock *s, long long level, long long name)
{
    if (level == L_SOCKET)
        return s->keepalive;
    if (name == O_KEEPIDLE)
        return s->ka_idle ? s->ka_idle : SP_TCP_KEEPALIVE_IDLE_S;
    if (name == O_KEEPINTVL)
        return s->ka_intvl ? s->ka_intvl : SP_TCP_KEEPALIVE_INTVL_S;
    return s->ka_cnt ? s->ka_cnt : SP_TCP_KEEPALIVE_COUNT;
}

static enum pd_step sys_setsockopt(struct pd_run *r, const struct pd_event *e, struct pd_pending *p,
                                   struct pd_sock *s, struct pd_ret *ret)
{
    (void)p;
    long long level, name, v = 0;
    if (!int_arg(r, e, 1, &level) || !int_arg(r, e, 2, &name))
        return PD_FAILED;
    const struct pd_expr *val = arg(&e->sc, 3);
    if (level == L_SOCKET && name == O_LINGER) {
        long long on = 0, secs = 0;
        eval(field(val, "onoff"), &on);
        eval(field(val, "linger"), &secs);
        s->linger0 = on && secs == 0;
        return done(ret, 0);
    }
    if (keepalive_opt(level, name)) {
        if (!eval(val, &v))
            return pd_fail(r, e->line, "setsockopt(): cannot read the value"), PD_FAILED;
        return set_keepalive_opt(s, level, name, v, ret);
    }
    bool known = (level == L_SOCKET && (name == O_RCVBUF || name == O_SNDBUF)) || (level == L_TCP && name == O_NODELAY);
    if (!known) {
        r->ignored++;   /* an option the stack has no knob for */
        return done(ret, 0);
    }
    if (!eval(val, &v))
        return pd_fail(r, e->line, "setsockopt(): cannot read the value"), PD_FAILED;
    int rc = 0;
    if (level == L_TCP) {
        s->nodelay = v != 0;
        if (s->h)
            sp_tcp_set_nodelay(s->h, s->nodelay);
    } else if (name == O_RCVBUF) {
        s->rcvbuf = (uint32_t)v;
        rc = s->h ? sp_tcp_set_rcvbuf(s->h, s->rcvbuf) : 0;
    } else {
        s->sndbuf = (uint32_t)v;
        rc = s->h ? sp_tcp_set_sndbuf(s->h, s->sndbuf) : 0;
    }
    return rc < 0 ? fail_errno(ret, errno_of(rc)) : done(ret, 0);
}

/* Compares an output argument [value] with what the socket has; `...` matches anything. */
static int check_out_arg(struct pd_run *r, const struct pd_event *e, const char *what, long long have,
                         const char *(*name)(int))
{
    const struct pd_expr *x = arg(&e->sc, 3);
    long long want;
    if (!x || x->kind == PD_X_ELLIPSIS)
        return 0;
    if (!eval(x, &want))
        return pd_fail(r, e->line, "%s: cannot read the expected value", what);
    if (want == have)
        return 0;
    if (name)
        return pd_fail(r, e->line, "%s is %s, expected %s", what, have ? name((int)have) : "0",
                       want ? name((int)want) : "0");
    return pd_fail(r, e->line, "%s is %lld, expected %lld", what, have, want);
}

static enum pd_step sys_getsockopt(struct pd_run *r, const struct pd_event *e, struct pd_pending *p,
                                   struct pd_sock *s, struct pd_ret *ret)
{
    (void)p;
    long long level, name;
    if (!int_arg(r, e, 1, &level) || !int_arg(r, e, 2, &name))
        return PD_FAILED;
    int rc = 0;
    if (level == L_SOCKET && name == O_ERROR) {
        rc = check_out_arg(r, e, "SO_ERROR", take_err(s), pd_errno_name);
    } else if (level == L_TCP && name == O_NODELAY) {
        rc = check_out_arg(r, e, "TCP_NODELAY", s->h ? sp_tcp_get_nodelay(s->h) : s->nodelay, NULL);
    } else if (keepalive_opt(level, name)) {
        rc = check_out_arg(r, e, "a keepalive option", keepalive_value(s, level, name), NULL);
    } else if (level == L_SOCKET && (name == O_RCVBUF || name == O_SNDBUF)) {
        /* Buffer sizes are tunables of the original OS: compared when windows are. */
        uint32_t v = name == O_RCVBUF ? (s->h ? sp_tcp_get_rcvbuf(s->h) : s->rcvbuf ? s->rcvbuf : PD_BUF)
                                      : (s->h ? sp_tcp_get_sndbuf(s->h) : s->sndbuf ? s->sndbuf : PD_BUF);
        if (r->strict_win)
            rc = check_out_arg(r, e, name == O_RCVBUF ? "SO_RCVBUF" : "SO_SNDBUF", v, NULL);
    } else {
        r->ignored++;
    }
    return rc < 0 ? PD_FAILED : done(ret, 0);
}

static enum pd_step sys_fcntl(struct pd_run *r, const struct pd_event *e, struct pd_pending *p, struct pd_sock *s,
                              struct pd_ret *ret)
{
    (void)p;
    long long cmd, v = 0;
    if (!int_arg(r, e, 1, &cmd))
        return PD_FAILED;
    if (cmd == 3)   /* F_GETFL */
        return done(ret, O_RDWR_ | (s->nonblock ? O_NONBLOCK_ : 0));
    if (cmd == 4) { /* F_SETFL */
        if (!int_arg(r, e, 2, &v))
            return PD_FAILED;
        s->nonblock = v & O_NONBLOCK_;
        return done(ret, 0);
    }
    r->ignored++;
    return done(ret, 0);
}

static enum pd_step sys_ioctl(struct pd_run *r, const struct pd_event *e, struct pd_pending *p, struct pd_sock *s,
                              struct pd_ret *ret)
{
    (void)p;
    long long req, want;
    if (!int_arg(r, e, 1, &req))
        return PD_FAILED;
    bool inq = req == 0x541b, outq = req == 0x5411;
    if (!inq && !outq) {
        r->ignored++;
        return done(ret, 0);
    }
    long long have = !s->h ? 0 : inq ? (long long)sp_tcp_recv_pending(s->h) : (long long)sp_tcp_send_pending(s->h);
    if (eval(arg(&e->sc, 2), &want) && want != have)
        return pd_fail(r, e->line, "%s is %lld, expected %lld", inq ? "SIOCINQ" : "SIOCOUTQ", have, want), PD_FAILED;
    return done(ret, 0);
}

/* --- poll ---------------------------------------------------------------------------------------- */

/* The events a socket has, the way Linux's tcp_poll reports them from the connection's state. */
static int sock_events(const struct pd_sock *s)
{
    if (!s->used)
        return POLL_NVAL;
    if (s->listening)
        return s->naccq ? POLL_IN | POLL_RDNORM : 0;
    int ev = s->err ? POLL_ERR : 0;
    if (!s->h) {
        /* Never connected, or gone: both directions are shut. */
        ev |= POLL_HUP | POLL_OUT | POLL_WRNORM;
        return s->connected || s->failed ? ev | POLL_IN | POLL_RDNORM | POLL_RDHUP : ev;
    }
    if (handshaking(s->h))
        return ev;
    bool rcv_shut = s->rd_shut || peer_fin_received(s->h);
    if (rcv_shut && s->wr_shut)
        ev |= POLL_HUP;
    if (rcv_shut || sp_tcp_recv_pending(s->h) > 0)
        ev |= POLL_IN | POLL_RDNORM | (rcv_shut ? POLL_RDHUP : 0);
    size_t space = sp_tcp_send_space(s->h), queued = sp_tcp_send_pending(s->h);
    if (s->wr_shut || (space > 0 && space >= queued / 2))
        ev |= POLL_OUT | POLL_WRNORM;
    return ev;
}

/* Each {fd=, events=, revents=} of the list: what it has now, or -1 after a script error. */
static int poll_scan(struct pd_run *r, const struct pd_event *e, bool check)
{
    int ready = 0;
    const struct pd_expr *list = arg(&e->sc, 0);
    for (const struct pd_expr *x = list && list->kind == PD_X_LIST ? list->kid : NULL; x; x = x->next) {
        long long fd, events, want = 0;
        if (!eval(field(x, "fd"), &fd) || !eval(field(x, "events"), &events))
            return pd_fail(r, e->line, "poll(): cannot read a pollfd");
        eval(field(x, "revents"), &want);
        bool valid = fd >= 0 && fd < PD_MAX_FD;
        int have = (valid ? sock_events(&r->fd[fd]) : POLL_NVAL) & (int)(events | POLL_ERR | POLL_HUP | POLL_NVAL);
        ready += have != 0;
        if (check && have != want)
            return pd_fail(r, e->line, "poll(): fd %lld has revents %#x, expected %#llx", fd, (unsigned)have, want);
    }
    return ready;
}

static enum pd_step sys_poll(struct pd_run *r, const struct pd_event *e, struct pd_pending *p, struct pd_sock *s,
                             struct pd_ret *ret)
{
    (void)s;
    long long timeout;
    if (!int_arg(r, e, 2, &timeout))
        return PD_FAILED;
    int ready = poll_scan(r, e, false);
    if (ready < 0)
        return PD_FAILED;
    if (!p->started) {
        p->started = true;
        p->deadline = timeout < 0 ? SP_TIME_NEVER : r->now + (sp_time_t)timeout;
    }
    if (ready == 0 && r->now < p->deadline)
        return PD_BLOCKED;
    p->deadline = SP_TIME_NEVER;
    return poll_scan(r, e, true) < 0 ? PD_FAILED : done(ret, ready);
}

/* --- dispatch ------------------------------------------------------------------------------------ */

static const struct {
    const char *name;
    pd_sys_fn fn;
    bool needs_fd;
} calls[] = {
    {"socket", sys_socket, false}, {"bind", sys_bind, true}, {"listen", sys_listen, true},
    {"accept", sys_accept, true}, {"accept4", sys_accept, true}, {"connect", sys_connect, true},
    {"read", sys_read, true}, {"recv", sys_read, true}, {"recvfrom", sys_read, true},
    {"readv", sys_read, true}, {"recvmsg", sys_read, true}, {"write", sys_write, true},
    {"send", sys_write, true}, {"sendto", sys_write, true}, {"writev", sys_write, true},
    {"sendmsg", sys_write, true}, {"close", sys_close, true}, {"shutdown", sys_shutdown, true},
    {"setsockopt", sys_setsockopt, true}, {"getsockopt", sys_getsockopt, true}, {"fcntl", sys_fcntl, true},
    {"ioctl", sys_ioctl, true}, {"poll", sys_poll, false},
};

enum pd_step pd_syscall_step(struct pd_run *r, const struct pd_event *e, struct pd_pending *p, struct pd_ret *ret)
{
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        if (strcmp(calls[i].name, e->sc.name) != 0)
            continue;
        struct pd_sock *s = NULL;
        if (calls[i].needs_fd) {
            long long fd;
            if (!int_arg(r, e, 0, &fd))
                return PD_FAILED;
            if (fd < 0 || fd >= PD_MAX_FD || !r->fd[fd].used)
                return fail_errno(ret, E_BADF);
            s = &r->fd[fd];
        }
        return calls[i].fn(r, e, p, s, ret);
    }
    pd_fail(r, e->line, "system call %s() is not supported by the runner", e->sc.name);
    return PD_FAILED;
}
