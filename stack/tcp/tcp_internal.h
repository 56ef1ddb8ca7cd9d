/* Private to the TCP module (tcp_*.c): connection state, buffers and the calls between files. */
#ifndef SP_TCP_INTERNAL_H
#define SP_TCP_INTERNAL_H

#include "iface_internal.h"
#include "slowpath/tcp.h"

/* --- Byte rings (tcp_ring.c) ---------------------------------------------------------------- */

/* `len` bytes start at `head`; a receive ring also holds out-of-order bytes in its free space at
 * their offset past the in-order data. */
struct sp_tcp_ring {
    uint8_t *buf;
    uint32_t cap, head, len;
};

int sp_tcp_ring_init(struct sp_tcp_ring *r, uint32_t cap);
void sp_tcp_ring_free(struct sp_tcp_ring *r);
/* A new capacity, keeping the first `keep` bytes from head (data and out-of-order bytes past it;
 * keep <= both capacities); SP_ENOBUFS leaves the ring as it was. */
int sp_tcp_ring_resize(struct sp_tcp_ring *r, uint32_t cap, uint32_t keep);
static inline uint32_t sp_tcp_ring_free_space(const struct sp_tcp_ring *r) { return r->cap - r->len; }
/* Copies n bytes to offset `off` past the end of the data (off + n <= free space); no commit. */
void sp_tcp_ring_write_at(struct sp_tcp_ring *r, uint32_t off, const uint8_t *data, uint32_t n);
/* Makes n bytes written past the end part of the data. */
static inline void sp_tcp_ring_commit(struct sp_tcp_ring *r, uint32_t n) { r->len += n; }
/* Copies n bytes starting at offset off of the data into out (off + n <= len). */
void sp_tcp_ring_peek(const struct sp_tcp_ring *r, uint32_t off, uint8_t *out, uint32_t n);
void sp_tcp_ring_consume(struct sp_tcp_ring *r, uint32_t n);

/* Out-of-order ranges [start, end) in sequence space, sorted, disjoint and not adjacent. */
struct sp_tcp_ooo {
    uint8_t n;
    struct {
        uint32_t start, end;
    } r[SP_TCP_OOO_RANGES];
};
/* Records [start, end); false when it would need more ranges than we keep. */
bool sp_tcp_ooo_add(struct sp_tcp_ooo *o, uint32_t start, uint32_t end);
/* With in-order data now reaching rcv_nxt, returns the new rcv_nxt after absorbing every range
 * that starts at or before it. */
uint32_t sp_tcp_ooo_advance(struct sp_tcp_ooo *o, uint32_t rcv_nxt);

/* --- ISN (tcp_isn.c) ------------------------------------------------------------------------ */

uint64_t sp_siphash24(uint64_t k0, uint64_t k1, const uint8_t *data, size_t len);
/* RFC 6528: a 4 us clock plus a keyed hash of the connection's identity. */
uint32_t sp_tcp_isn(uint64_t secret, sp_time_t now, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport);

/* --- Connections ----------------------------------------------------------------------------- */

struct sp_tcp {
    void *data;
    struct sp_tcp_stack *stack;
    struct sp_tcp *hnext;          /* hash chain, or the listener list */
    struct sp_tcp *all_next;       /* every live connection (timers) */
    struct sp_tcp *reap_next;
    struct sp_tcp *listener;       /* SYN-RECEIVED from a passive open: the listener */
    enum sp_tcp_state state;
    bool passive;                  /* created by a listener */
    bool linked;                   /* in the hash table */
    bool dead;                     /* CLOSED: waiting to be freed */
    bool app_closed;               /* the application released the handle */
    bool nodelay;
    bool fin_queued;               /* shutdown: FIN follows the queued data */
    bool rfin;                     /* the peer's FIN was received in order */
    bool rfin_ooo;                 /* the peer's FIN arrived ahead of missing data */
    bool ack_now;                  /* an ACK must go out on the next output */
    bool ack_pure;                 /* ... as a segment of its own: a duplicate ACK must not be
                                    * hidden in data, or the sender cannot count it */
    bool syn_lost;                 /* a SYN was retransmitted (RFC 6298 5.7) */
    bool in_recovery;              /* fast recovery (RFC 6582) */
    bool rtt_timing;
    bool wscale_ok;
    bool probe;                    /* the next output may send one byte into a zero window */
    bool deciding;                 /* a handshake decision is parked with this connection as owner
                                    * (tcp_decide.c): nothing is sent for it until it completes */
    bool syn_custom;               /* our SYN-ACK carries syn_window / syn_mss (a proposal's) */
    uint8_t snd_wscale, rcv_wscale;
    uint8_t dupacks;
    uint8_t retries;
    int close_status;

    uint32_t local_ip, remote_ip;
    uint16_t local_port, remote_port;

    /* send sequence space (RFC 9293 3.3.1) */
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
    uint32_t snd_buf_seq;          /* sequence number of the first byte in snd */
    uint16_t mss;                  /* the most we put in one segment */
    uint32_t cwnd, ssthresh, recover;
    /* receive sequence space */
    uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge of the window we advertised */
    uint32_t rfin_seq;
    uint32_t unacked_bytes;        /* received since our last ACK (delayed ACK) */

    struct sp_tcp_ring snd, rcv;
    struct sp_tcp_ooo ooo;

    /* timers, SP_TIME_NEVER when off */
    sp_time_t rtx_at, ack_at, close_at; /* close_at: TIME-WAIT / FIN-WAIT-2 / SYN-RECEIVED limit */
    uint32_t rto;                  /* ms */
    uint32_t srtt8, rttvar8;       /* ms * 8; srtt8 == 0: no sample yet */
    uint32_t rtt_seq;
    sp_time_t rtt_start;

    /* a parked SYN-ACK (SYN-SENT): its ISN (repeats join) and when it arrived (the RTT sample) */
    uint32_t deciding_isn;
    sp_time_t deciding_at;
    uint16_t syn_window, syn_mss;  /* syn_custom: SYN-ACK window and MSS option (0: none) */

    /* listeners */
    uint16_t backlog, pending;
    uint32_t rcvbuf, sndbuf;       /* buffer sizes (a listener's: of its connections) */
    sp_tcp_accept_cb accept_cb;
    struct sp_tcp_callbacks cb;
};

typedef int (*sp_tcp_output_fn)(void *ctx, sp_time_t now, struct sp_ip_packet *pkt);

#define SP_TCP_HASH_SIZE 256

struct sp_tcp_stack {
    struct sp_iface *iface;
    sp_tcp_output_fn output;
    void *output_ctx;
    struct sp_tcp *hash[SP_TCP_HASH_SIZE];
    struct sp_tcp *listeners;
    struct sp_tcp *all;
    struct sp_tcp *reap;
    unsigned nconns;
    unsigned depth;                /* nesting of stack entry points: free only at depth 0 */
    uint16_t next_port;
    sp_time_t challenge_second;    /* the second challenge_count refers to */
    unsigned challenge_count;
    uint8_t seg_buf[SP_MAX_MTU];    /* the payload of the segment being sent: an MSS, under the MTU */
    /* The segment being processed by sp_tcp_input (its bytes, for a parked decision's copy). */
    const struct sp_ipv4_repr *rx_ip;
    const uint8_t *rx_seg;
    size_t rx_seg_len;
};

/* Replaces how segments leave (tests capture them); NULL restores sp_ip_output. */
void sp_tcp_set_output(struct sp_tcp_stack *tcp, sp_tcp_output_fn fn, void *ctx);

/* tcp_stack.c */
/* A connection with buffers of rcvbuf / sndbuf bytes and the window scale they need. */
struct sp_tcp *sp_tcp_conn_new(struct sp_tcp_stack *tcp, uint32_t rip, uint16_t rport, uint16_t lport,
                               uint32_t rcvbuf, uint32_t sndbuf);
struct sp_tcp *sp_tcp_lookup(struct sp_tcp_stack *tcp, uint32_t rip, uint16_t rport, uint16_t lport);
struct sp_tcp *sp_tcp_find_listener(struct sp_tcp_stack *tcp, uint16_t port);
/* CLOSED: unlinks, calls on_close(status) when the application still holds the handle, frees
 * later (at the end of the current stack entry). */
void sp_tcp_conn_finish(struct sp_tcp *c, int status);
void sp_tcp_enter(struct sp_tcp_stack *tcp);
void sp_tcp_leave(struct sp_tcp_stack *tcp);
/* The RST for a segment that has no connection (RFC 9293 3.10.7.1), ports swapped. */
void sp_tcp_reset_repr(const struct sp_tcp_repr *seg, struct sp_tcp_repr *r);
/* Sends an RST for a segment that has no connection (RFC 9293 3.10.7.1). */
void sp_tcp_send_reset_for(struct sp_tcp_stack *tcp, sp_time_t now, const struct sp_ipv4_repr *ip,
                           const struct sp_tcp_repr *seg);
int sp_tcp_emit(struct sp_tcp_stack *tcp, sp_time_t now, uint32_t src, uint32_t dst, struct sp_tcp_repr *r);

/* tcp_input.c */
void sp_tcp_conn_input(struct sp_tcp *c, sp_time_t now, const struct sp_tcp_repr *seg);
/* A SYN to a listener: a SYN-RECEIVED connection and its SYN-ACK (or a decision about it). */
void sp_tcp_listen_input(struct sp_tcp *l, sp_time_t now, const struct sp_ipv4_repr *ip, const struct sp_tcp_repr *seg);
/* The SYN-RECEIVED connection a SYN to listener l makes, before anything is sent; NULL (counted
 * drop) when the connection table is full. */
struct sp_tcp *sp_tcp_embryo_new(struct sp_tcp *l, const struct sp_ipv4_repr *ip, const struct sp_tcp_repr *seg);
/* Learns the peer's ISN, MSS, window and window scale from its SYN or SYN-ACK. */
void sp_tcp_take_syn_options(struct sp_tcp *c, const struct sp_tcp_repr *seg);
/* SYN-SENT: the acceptable SYN-ACK seg (arrived at `arrived`) makes the connection ESTABLISHED
 * and is acknowledged; ack_window >= 0 caps the window of that ACK (a proposal's). */
void sp_tcp_syn_sent_accept(struct sp_tcp *c, sp_time_t now, sp_time_t arrived, const struct sp_tcp_repr *seg,
                            long ack_window);

/* tcp_output.c */
uint32_t sp_tcp_rcv_wnd(const struct sp_tcp *c);
/* Sends what the windows, Nagle and pending ACKs allow. */
void sp_tcp_output(struct sp_tcp *c, sp_time_t now);
void sp_tcp_send_syn(struct sp_tcp *c, sp_time_t now);   /* SYN or SYN-ACK by state */
/* The SYN or SYN-ACK sp_tcp_send_syn sends now (no side effects). */
void sp_tcp_syn_repr(const struct sp_tcp *c, struct sp_tcp_repr *r);
/* A segment from c: ports, seq, flags, ack (with ACK) and the window we advertise now. */
void sp_tcp_init_repr(const struct sp_tcp *c, struct sp_tcp_repr *r, uint32_t seq, uint8_t flags);
void sp_tcp_send_ack(struct sp_tcp *c, sp_time_t now);
/* An ACK advertising at most `window` (the raw field; never more than sp_tcp_send_ack would). */
void sp_tcp_send_ack_window(struct sp_tcp *c, sp_time_t now, uint16_t window);
void sp_tcp_send_rst(struct sp_tcp *c, sp_time_t now);   /* <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK> */
/* Retransmits one segment at snd_una (fast retransmit, partial ACK). */
void sp_tcp_retransmit_first(struct sp_tcp *c, sp_time_t now);
void sp_tcp_timers(struct sp_tcp *c, sp_time_t now);
sp_time_t sp_tcp_conn_poll_at(const struct sp_tcp *c);
void sp_tcp_rtt_sample(struct sp_tcp *c, uint32_t rtt_ms);
void sp_tcp_enter_time_wait(struct sp_tcp *c, sp_time_t now);

/* tcp_decide.c: the handshake decision points (include/slowpath/decide.h, kind tcp). */
void sp_tcp_decide_init(struct sp_iface *iface);   /* registers the ops */
/* LISTEN, a valid SYN with backlog room, the kind not native: parks, joins, or answers natively. */
void sp_tcp_decide_syn(struct sp_tcp *l, sp_time_t now, const struct sp_ipv4_repr *ip, const struct sp_tcp_repr *seg);
/* SYN-SENT, an acceptable SYN-ACK while the kind is not native or a decision is parked. */
void sp_tcp_decide_syn_ack(struct sp_tcp *c, sp_time_t now, const struct sp_tcp_repr *seg);
/* A segment for a SYN-RECEIVED connection whose SYN is parked (nothing sent to the peer yet). */
void sp_tcp_decide_parked_input(struct sp_tcp *c, sp_time_t now, const struct sp_tcp_repr *seg);
/* A segment for a port nobody listens on: a SYN, the kind not native, is parked (or joins) and
 * true returned; false: the caller sends the native reset. */
bool sp_tcp_decide_closed(struct sp_tcp_stack *tcp, sp_time_t now, const struct sp_ipv4_repr *ip,
                          const struct sp_tcp_repr *seg);

static inline struct sp_iface *sp_tcp_iface(const struct sp_tcp *c) { return c->stack->iface; }

#endif
