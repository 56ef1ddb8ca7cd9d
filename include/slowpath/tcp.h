/* TCP sockets (RFC 9293): non-blocking and callback-based, in the style of lwIP's raw API and
 * libuv. Connection handles are allocated by the stack:
 *   - sp_tcp_listen gives a listener; each connection that completes the handshake is handed to
 *     its accept callback, which installs the connection's callbacks with sp_tcp_set_callbacks.
 *   - sp_tcp_connect opens actively; on_connect reports the outcome.
 * A handle stays valid until the application calls sp_tcp_close or sp_tcp_abort on it, or until
 * the stack calls on_close (the connection is gone: reset, timed out, or closed in both
 * directions); the handle is freed when on_close returns and must not be used after that.
 * Every call may be made from inside a callback. Times come from sp_iface_now(). */
#ifndef SLOWPATH_TCP_H
#define SLOWPATH_TCP_H

#include "slowpath/layer_stack.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sp_iface;
struct sp_tcp;

enum sp_tcp_state {
    SP_TCP_CLOSED,
    SP_TCP_LISTEN,
    SP_TCP_SYN_SENT,
    SP_TCP_SYN_RECEIVED,
    SP_TCP_ESTABLISHED,
    SP_TCP_FIN_WAIT_1,
    SP_TCP_FIN_WAIT_2,
    SP_TCP_CLOSING,
    SP_TCP_TIME_WAIT,
    SP_TCP_CLOSE_WAIT,
    SP_TCP_LAST_ACK,
};
#define SP_TCP_STATE_COUNT (SP_TCP_LAST_ACK + 1)

/* An interface's TCP limits and default sizes (sp_iface_config.tcp), fixed when the interface is
 * made. A field left 0 (or false) takes the default opts.h gives it. What each entry costs is in
 * opts.h beside the defaults. */
struct sp_tcp_config {
    uint32_t max_conns;      /* connections in the table, TIME-WAIT not included (SP_TCP_MAX_CONNS) */
    uint32_t max_timewait;   /* compact TIME-WAIT entries (SP_TCP_MAX_TIMEWAIT); when full the
                              * oldest is given up early */
    uint32_t backlog;        /* handshakes in progress per listener when sp_tcp_listen is given
                              * <= 0 (SP_TCP_DEFAULT_BACKLOG) */
    uint32_t rcvbuf, sndbuf; /* buffer sizes of listeners and active opens (SP_TCP_RCV_BUF,
                              * SP_TCP_SND_BUF); memory is taken as data fills them */
    uint64_t mem_max;        /* bytes every connection buffer together may hold (SP_TCP_MEM_MAX) */
    bool no_syncookies;      /* a full backlog drops SYNs instead of answering with SYN cookies */
};

/* A new connection from a listener, already ESTABLISHED. */
typedef void (*sp_tcp_accept_cb)(struct sp_tcp *listener, struct sp_tcp *conn);

struct sp_tcp_callbacks {
    /* Active open finished: 0 (ESTABLISHED) or an error: SP_ECONNREFUSED (a reset, or an ICMP port
     * or protocol unreachable), SP_ENOROUTE (an ICMP network or host unreachable, time exceeded),
     * SP_EMALFORMED (an ICMP parameter problem), SP_ETIMEDOUT. After an error on_close follows. */
    void (*on_connect)(struct sp_tcp *conn, int status);
    /* Data can be read with sp_tcp_recv, or the peer's FIN arrived (sp_tcp_recv returns 0). */
    void (*on_readable)(struct sp_tcp *conn);
    /* Sent data was acknowledged (sp_tcp_send_space grew), or our FIN was: the state is then
     * FIN-WAIT-2 or TIME-WAIT and everything sent has been delivered. */
    void (*on_writable)(struct sp_tcp *conn);
    /* The connection is gone: 0 after an orderly close in both directions, SP_ECONNRESET,
     * SP_ECONNREFUSED, SP_ETIMEDOUT (or the soft error that explains the timeout, see
     * sp_tcp_get_soft_error) otherwise. The handle is freed when this returns. */
    void (*on_close)(struct sp_tcp *conn, int status);
};

/* Listens on port of the interface's address with at most `backlog` handshakes in progress
 * (<= 0: the interface's sp_tcp_config.backlog). When they are all taken, a SYN is answered with
 * a SYN cookie (RFC 4987) unless the interface turned them off, else dropped. 0 and *out, or
 * SP_EADDRINUSE / SP_ENOBUFS / SP_EINVAL. */
int sp_tcp_listen(struct sp_iface *iface, uint16_t port, int backlog, sp_tcp_accept_cb cb, void *data,
                  struct sp_tcp **out);

/* Opens a connection to ip:port (host order) from an ephemeral port; sends the SYN at once.
 * 0 and *out, or SP_EINVAL / SP_ENOBUFS / SP_EADDRINUSE (no free port). */
int sp_tcp_connect(struct sp_iface *iface, uint32_t ip, uint16_t port, const struct sp_tcp_callbacks *cbs,
                   void *data, struct sp_tcp **out);

void sp_tcp_set_callbacks(struct sp_tcp *conn, const struct sp_tcp_callbacks *cbs, void *data);
void *sp_tcp_get_data(const struct sp_tcp *conn);
void sp_tcp_set_data(struct sp_tcp *conn, void *data);

/* Queues up to len bytes for sending; returns how many were taken (possibly fewer: wait for
 * on_writable), SP_EAGAIN when the send buffer is full, SP_ENOBUFS when the interface's buffer
 * budget (sp_tcp_config.mem_max) has no room for any of it, SP_ESTATE after shutdown or before
 * the connection is established, SP_ENOTCONN when it is gone. */
long sp_tcp_send(struct sp_tcp *conn, const void *data, size_t len);
/* Bytes sp_tcp_send would take now (the buffer's free space, less when the interface's buffer
 * budget is short). */
size_t sp_tcp_send_space(const struct sp_tcp *conn);
/* Bytes queued but not yet acknowledged by the peer. */
size_t sp_tcp_send_pending(const struct sp_tcp *conn);

/* Copies up to cap received bytes into buf: the count, 0 at end of stream (the peer's FIN was
 * read), SP_EAGAIN when nothing is waiting, SP_ECONNRESET / SP_ENOTCONN when it is gone. */
long sp_tcp_recv(struct sp_tcp *conn, void *buf, size_t cap);
/* Bytes waiting to be read. */
size_t sp_tcp_recv_pending(const struct sp_tcp *conn);

/* Sends a FIN after the queued data (half-close); receiving continues. */
int sp_tcp_shutdown(struct sp_tcp *conn);
/* Releases the handle: a listener stops, a connection finishes gracefully in the background
 * (FIN after queued data), or is reset when received data was left unread (RFC 2525 2.17).
 * Data that arrives after the close is lost too: the peer gets a reset (RFC 1122 4.2.2.13). */
void sp_tcp_close(struct sp_tcp *conn);
/* Releases the handle at once, sending RST (with ACK) when synchronized: an abortive close, what
 * SO_LINGER {on, 0 s} asks of a socket's close. */
void sp_tcp_abort(struct sp_tcp *conn);

/* Nagle's algorithm (RFC 896) is on by default; turning it off sends what it held back at once.
 * On a listener: the setting of the connections it creates from then on (TCP_NODELAY). */
void sp_tcp_set_nodelay(struct sp_tcp *conn, bool nodelay);
bool sp_tcp_get_nodelay(const struct sp_tcp *conn);

/* Buffer sizes in bytes (SO_RCVBUF, SO_SNDBUF), clamped to [SP_TCP_BUF_MIN, SP_TCP_BUF_MAX];
 * the interface's sp_tcp_config.rcvbuf / sndbuf by default. They are limits: memory is taken as
 * data fills a buffer, within the interface's sp_tcp_config.mem_max. The receive buffer bounds
 * the window we offer. On a listener: the sizes of the connections it creates from then on
 * (their window scale follows, RFC 7323 2.2). On a connection: resized in place, data kept;
 * SP_EINVAL when the new size cannot hold what is buffered or (receive) would take back window
 * already offered (RFC 9293 3.8.6). A connection's window scale is fixed by its SYN, so a receive
 * buffer set later beyond 65535 << scale is not offered whole; SP_ENOTCONN once the connection is
 * gone. */
int sp_tcp_set_rcvbuf(struct sp_tcp *conn, uint32_t bytes);
int sp_tcp_set_sndbuf(struct sp_tcp *conn, uint32_t bytes);
uint32_t sp_tcp_get_rcvbuf(const struct sp_tcp *conn);
uint32_t sp_tcp_get_sndbuf(const struct sp_tcp *conn);

/* SACK (RFC 2018) and timestamps (RFC 7323) are offered in our SYNs and accepted in the peer's
 * by default; these turn either off for the connections the interface opens from then on (a
 * benchmark compares with and without). */
void sp_tcp_set_sack(struct sp_iface *iface, bool on);
void sp_tcp_set_timestamps(struct sp_iface *iface, bool on);

/* Keepalive (RFC 1122 4.2.3.6), off by default: once nothing has come from the peer for idle_s
 * seconds while nothing of ours is waiting for an acknowledgment, a probe goes every interval_s
 * seconds; after `count` probes without an answer the connection is reset and on_close reports
 * SP_ETIMEDOUT (or the soft error that explains it, sp_tcp_get_soft_error). The idle time counts
 * from the last segment the peer sent, or from the call that turned keepalive on if that is later
 * (a change while on keeps counting from the peer's last segment). idle_s 0 turns it off; otherwise idle_s and interval_s are
 * 1..SP_TCP_KEEPALIVE_MAX_S and count 1..255, else SP_EINVAL. On a listener: the setting of the
 * connections it creates from then on. 0, SP_EINVAL, or SP_ENOTCONN once the connection is gone. */
int sp_tcp_set_keepalive(struct sp_tcp *conn, uint32_t idle_s, uint32_t interval_s, uint32_t count);
/* idle 0 when off. Any pointer may be NULL. */
void sp_tcp_get_keepalive(const struct sp_tcp *conn, uint32_t *idle_s, uint32_t *interval_s, uint32_t *count);

/* ICMP errors (RFC 1122 4.2.3.9, RFC 5927). Before the connection is synchronized an open fails
 * on an ICMP error about its SYN or SYN-ACK (an active one says so through on_connect). Afterwards an ICMP error never ends the
 * connection: it is kept as its soft error, SP_ENOROUTE (network or host unreachable, time
 * exceeded), SP_ECONNREFUSED (port or protocol unreachable) or SP_EMALFORMED (parameter problem),
 * which this returns until the peer acknowledges new data (0 when there is none), and which
 * on_close reports instead of SP_ETIMEDOUT if the connection times out. */
int sp_tcp_get_soft_error(const struct sp_tcp *conn);
/* Path MTU discovery (RFC 1191): segments leave with DF set; an ICMP Fragmentation Needed about
 * one lowers the connection's path MTU, and with it the most it puts in a segment (its effective
 * MSS, never above the peer's MSS option). Both only ever go down, never below SP_TCP_PMTU_MIN. */
uint16_t sp_tcp_get_path_mtu(const struct sp_tcp *conn);
uint16_t sp_tcp_get_mss(const struct sp_tcp *conn);

enum sp_tcp_state sp_tcp_get_state(const struct sp_tcp *conn);
const char *sp_tcp_state_name(enum sp_tcp_state s);
void sp_tcp_get_peer(const struct sp_tcp *conn, uint32_t *ip, uint16_t *port);
uint16_t sp_tcp_local_port(const struct sp_tcp *conn);

/* How many listeners and connections of the interface are in each state, indexed by enum
 * sp_tcp_state (counts[SP_TCP_LISTEN] counts the listeners): what the operator's gauges show. */
void sp_tcp_count_by_state(const struct sp_iface *iface, unsigned counts[SP_TCP_STATE_COUNT]);

#endif
