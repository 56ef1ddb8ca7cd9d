/* Private to the TCP module (tcp_*.c): connection state, buffers and the calls between files. */
#ifndef SP_TCP_INTERNAL_H
#define SP_TCP_INTERNAL_H

#include "iface_internal.h"
#include "slowpath/tcp.h"
#include "tcp_sack.h"   /* SACK (tcp_sack.c) */
#include "tcp_ts.h"     /* timestamps (tcp_ts.c) */

/* --- Byte rings (tcp_ring.c) ---------------------------------------------------------------- */

/* The bytes every ring of a stack holds, against its budget (sp_tcp_config.mem_max). */
struct sp_tcp_mem {
    uint64_t used, max;
};

/* `len` bytes start at `head`; a receive ring also holds out-of-order bytes in its free space at
 * their offset past the in-order data. `cap` is the buffer size the connection was given (what
 * windows and send space are counted against); memory is taken as data arrives: `size` bytes are
 * allocated (0 to cap), and positions wrap at `size`. */
struct sp_tcp_ring {
    uint8_t *buf;
    uint32_t cap, size, head, len;
    struct sp_tcp_mem *mem;
};

/* A ring of capacity cap that allocates nothing yet; its memory is counted in mem. */
void sp_tcp_ring_init(struct sp_tcp_ring *r, uint32_t cap, struct sp_tcp_mem *mem);
void sp_tcp_ring_free(struct sp_tcp_ring *r);
/* Makes room for the first `need` bytes from head (need <= cap), keeping the first `keep`
 * (data and out-of-order bytes past it); allocation grows by doubling. SP_ENOBUFS (the budget or
 * malloc) leaves the ring as it was. */
int sp_tcp_ring_reserve(struct sp_tcp_ring *r, uint32_t need, uint32_t keep);
/* Bytes that can be added after the data now: within cap, and within the memory reserve could
 * get from the budget. */
uint32_t sp_tcp_ring_room(const struct sp_tcp_ring *r);
/* A new capacity, keeping the first `keep` bytes from head (data and out-of-order bytes past it;
 * keep <= both capacities); SP_ENOBUFS leaves the ring as it was. */
int sp_tcp_ring_resize(struct sp_tcp_ring *r, uint32_t cap, uint32_t keep);
static inline uint32_t sp_tcp_ring_free_space(const struct sp_tcp_ring *r) { return r->cap - r->len; }
/* Copies n bytes to offset `off` past the end of the data (len + off + n <= size, see
 * sp_tcp_ring_reserve); no commit. */
void sp_tcp_ring_write_at(struct sp_tcp_ring *r, uint32_t off, const uint8_t *data, uint32_t n);
/* Makes n bytes written past the end part of the data. */
static inline void sp_tcp_ring_commit(struct sp_tcp_ring *r, uint32_t n) { r->len += n; }
/* Copies n bytes starting at offset off of the data into out (off + n <= len). */
void sp_tcp_ring_peek(const struct sp_tcp_ring *r, uint32_t off, uint8_t *out, uint32_t n);
void sp_tcp_ring_consume(struct sp_tcp_ring *r, uint32_t n);

struct sp_tcp;
/* Memory for receive-buffer bytes up to `end` past the in-order data (end <= the window); 0, or
 * SP_ENOBUFS counted as drop_tcp_no_memory (the segment is dropped, the peer resends). */
int sp_tcp_rcv_reserve(struct sp_tcp *c, uint32_t end);
/* Memory for n more bytes in the send buffer (n <= its free space): how many fit, n unless the
 * budget is short (counted as drop_tcp_no_memory). */
uint32_t sp_tcp_snd_reserve(struct sp_tcp *c, uint32_t n);

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
    struct sp_tcp *all_next, *all_prev; /* every live connection */
    struct sp_tcp *touch_next;     /* touched in this stack entry (tcp_timers.c) */
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
    bool syncookie;                /* made from a SYN cookie: the handshake gave no RTT sample */
    bool touched;                  /* on the stack's touched list */
    bool output_pending;           /* its output waits for the end of a batch (tcp_batch.c) */
    uint8_t snd_wscale, rcv_wscale;
    uint8_t dupacks;
    uint8_t retries;
    int close_status;

    uint32_t local_ip, remote_ip;
    uint16_t local_port, remote_port;

    /* send sequence space (RFC 9293 3.3.1) */
    uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
    uint32_t snd_buf_seq;          /* sequence number of the first byte in snd */
    uint16_t mss;                  /* the most we put in one segment (less the TSopt, when on) */
    uint32_t cwnd, ssthresh, recover;
    /* receive sequence space */
    uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge of the window we advertised */
    uint32_t rfin_seq;
    uint32_t unacked_bytes;        /* received since our last ACK (delayed ACK) */

    struct sp_tcp_ring snd, rcv;
    struct sp_tcp_ooo ooo;
    struct sp_tcp_sack sack;       /* RFC 2018, 2883, 6675 (tcp_sack.c) */
    struct sp_tcp_ts ts;           /* RFC 7323 (tcp_ts.c) */

    /* timers, SP_TIME_NEVER when off; an entry point that changes one touches the connection */
    sp_time_t rtx_at, ack_at, close_at; /* close_at: TIME-WAIT / FIN-WAIT-2 / SYN-RECEIVED limit */
    sp_time_t heap_at;             /* the deadline the timer heap holds for it */
    uint32_t heap_i;               /* its place in the heap plus one; 0: not in it */
    uint32_t rto;                  /* ms */
    uint32_t srtt8, rttvar8;       /* ms * 8; srtt8 == 0: no sample yet */
    uint32_t rtt_seq;
    sp_time_t rtt_start;

    /* a parked SYN-ACK (SYN-SENT): its ISN (repeats join) and when it arrived (the RTT sample) */
    uint32_t deciding_isn;
    sp_time_t deciding_at;
    uint16_t syn_window, syn_mss;  /* syn_custom: SYN-ACK window and MSS option (0: none) */

    /* listeners */
    uint32_t backlog, pending;
    sp_time_t cookie_at;           /* the last SYN cookie sent (SP_TIME_NEVER: none) */
    uint32_t rcvbuf, sndbuf;       /* buffer sizes (a listener's: of its connections) */
    sp_tcp_accept_cb accept_cb;
    struct sp_tcp_callbacks cb;

    /* --- text on a SYN (tcp_syntext.c) --- */
    bool syn_text;                 /* a SYN's text waits at RCV.NXT for ESTABLISHED */

    /* --- ICMP errors and the path MTU (tcp_icmp.c) --- */
    int soft_err;                  /* the last soft error (SP_E*); 0: none since new data was acked */
    uint16_t pmtu;                 /* path MTU a Fragmentation Needed gave; 0: the interface's */
    bool pmtu_no_df;               /* the path is narrower than SP_TCP_PMTU_MIN: no DF */

    /* --- keepalive (tcp_keepalive.c) --- */
    uint32_t ka_idle_ms;           /* 0: off */
    uint32_t ka_intvl_ms;
    uint8_t ka_count;              /* unanswered probes before giving up */
    uint8_t ka_probes;             /* sent since the peer was last heard from */
    sp_time_t ka_heard;            /* when an acceptable segment last came from the peer */
};

typedef int (*sp_tcp_output_fn)(void *ctx, sp_time_t now, struct sp_ip_packet *pkt);

/* --- Compact TIME-WAIT (tcp_timewait.c) ------------------------------------------------------ */

#define SP_TCP_TW_NONE 0           /* no entry: index 0 is never used, so zeroed chains are empty */

/* What is left of a connection in TIME-WAIT once the application has let go of it: enough to
 * acknowledge the peer's FIN again and to judge a new SYN on the same pair (RFC 9293 3.6.1,
 * RFC 6191). Entries sit in one array and link by index. */
struct sp_tcp_tw {
    uint32_t remote_ip;
    uint16_t remote_port, local_port;
    uint32_t snd_nxt, rcv_nxt;
    uint32_t ts_recent;            /* ts_ok: the peer's latest timestamp (RFC 7323 5.3) */
    uint16_t window;               /* the window field of our ACKs, as last advertised */
    bool ts_ok;                    /* timestamps were in use on the connection */
    sp_time_t expires;
    uint32_t hnext;                /* hash chain */
    uint32_t prev, next;           /* the expiry list, oldest first; next: also the free list */
};

struct sp_tcp_tw_table {
    struct sp_tcp_tw *e;           /* max + 1 entries, reserved at once, touched as they are used */
    uint32_t *bucket;              /* heads of the hash chains, mask + 1 of them */
    uint32_t mask, max;
    uint32_t used;                 /* entries ever taken, 1.. (index 0 is SP_TCP_TW_NONE); the
                                    * ones above it were never touched */
    uint32_t count;                /* entries in TIME-WAIT now */
    uint32_t free, oldest, newest;
};

struct sp_tcp_stack {
    struct sp_iface *iface;
    sp_tcp_output_fn output;
    void *output_ctx;
    struct sp_tcp_config cfg;      /* the interface's, defaults filled in */
    struct sp_tcp **hash;          /* connections by 4-tuple, hash_mask + 1 chains */
    uint32_t hash_mask;
    uint64_t hash_key;             /* keys the hashes, so a peer cannot aim at one chain */
    struct sp_tcp_tw_table tw;
    struct sp_tcp_mem mem;
    struct sp_tcp *listeners;
    struct sp_tcp *all;
    struct sp_tcp *reap;
    struct sp_tcp **heap;          /* connections with a timer, by deadline (tcp_timers.c) */
    uint32_t heap_len;
    struct sp_tcp *touched;        /* whose deadlines to take again when the stack is left */
    unsigned nconns;
    /* A SYN that ends a TIME-WAIT: the new connection's ISS must lie above iss_floor, the old
     * SND.NXT (RFC 9293 3.6.1, RFC 6191). Set while sp_tcp_input handles that SYN. */
    bool iss_floor_set;
    uint32_t iss_floor;
    unsigned depth;                /* nesting of stack entry points: free only at depth 0 */
    bool batching;                 /* in a batch of received frames (tcp_batch.c) */
    uint16_t next_port;
    bool sack_off, ts_off;         /* sp_tcp_set_sack / sp_tcp_set_timestamps turned them off */
    sp_time_t challenge_second;    /* the second challenge_count refers to */
    unsigned challenge_count;
    uint8_t seg_buf[SP_TCP_TSO_MAX];  /* the text of the segment being sent: an MSS, or with TSO
                                       * a super-segment's (tcp_output.c) */
    /* The segment being processed by sp_tcp_input (its bytes, for a parked decision's copy). */
    const struct sp_ipv4_repr *rx_ip;
    const uint8_t *rx_seg;
    size_t rx_seg_len;
};

/* Replaces how segments leave (tests capture them); NULL restores sp_ip_output. */
void sp_tcp_set_output(struct sp_tcp_stack *tcp, sp_tcp_output_fn fn, void *ctx);

/* tcp_stack.c */
/* The smallest window shift that lets a receive buffer of rcvbuf bytes be offered whole (RFC 7323
 * 2.2). */
uint8_t sp_tcp_wscale_for(uint32_t rcvbuf);
/* Hash chains for a table of n entries: a power of two near n. */
uint32_t sp_tcp_hash_chains(uint32_t n);
/* A keyed hash of a 4-tuple (our address is the interface's). */
uint32_t sp_tcp_hash4(const struct sp_tcp_stack *tcp, uint32_t rip, uint16_t rport, uint16_t lport);
/* A connection with buffers of rcvbuf / sndbuf bytes and the window scale they need; NULL (not
 * counted) when the table is full or memory is short. */
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
/* sp_tcp_emit with the DF bit as given (sp_tcp_emit sets it: RFC 1191 path MTU discovery). */
int sp_tcp_emit_df(struct sp_tcp_stack *tcp, sp_time_t now, uint32_t src, uint32_t dst, struct sp_tcp_repr *r,
                   bool dont_frag);
/* sp_tcp_emit_df of a segment whose text may exceed one frame: a super-segment the device (or
 * sp_ip_output) cuts into segments of gso_size bytes of text (0: an ordinary segment). */
int sp_tcp_emit_gso(struct sp_tcp_stack *tcp, sp_time_t now, uint32_t src, uint32_t dst, struct sp_tcp_repr *r,
                    bool dont_frag, uint16_t gso_size);

/* tcp_output.c: the most text one output may carry: c->mss, or with TSO a super-segment's worth
 * of whole MSS-sized segments. */
uint32_t sp_tcp_seg_max(const struct sp_tcp *c);

/* tcp_batch.c: sp_tcp_output, or while a batch is in progress at its end (a pure duplicate ACK
 * still goes at once). */
void sp_tcp_output_later(struct sp_tcp *c, sp_time_t now);

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
/* <SEQ=seq><ACK=RCV.NXT><CTL=ACK> without text: a keepalive probe (seq SND.NXT - 1). */
void sp_tcp_send_ack_at(struct sp_tcp *c, sp_time_t now, uint32_t seq);
/* Retransmits one segment at snd_una (fast retransmit, partial ACK). */
void sp_tcp_retransmit_first(struct sp_tcp *c, sp_time_t now);
/* One segment at seq (inside the send buffer, or its FIN) of at most max octets of sequence space
 * and an MSS of text, for SACK loss recovery; new data past SND.MAX moves SND.NXT and SND.MAX.
 * Returns the sequence space sent, 0 when there was nothing to send. */
uint32_t sp_tcp_send_at(struct sp_tcp *c, sp_time_t now, uint32_t seq, uint32_t max);
void sp_tcp_timers(struct sp_tcp *c, sp_time_t now);
sp_time_t sp_tcp_conn_poll_at(const struct sp_tcp *c);
void sp_tcp_rtt_sample(struct sp_tcp *c, uint32_t rtt_ms);
void sp_tcp_enter_time_wait(struct sp_tcp *c, sp_time_t now);

/* tcp_syntext.c: text on a SYN or SYN-ACK (RFC 9293 3.10.7.2, 3.10.7.3) */
/* After sp_tcp_take_syn_options: keeps what fits of seg's text at RCV.NXT, unacknowledged. */
void sp_tcp_syn_text_queue(struct sp_tcp *c, const struct sp_tcp_repr *seg);
/* Once ESTABLISHED: the kept text joins the stream (RCV.NXT moves, an ACK is due). True when it
 * made data readable. */
bool sp_tcp_syn_text_deliver(struct sp_tcp *c);

/* tcp_icmp.c: ICMP errors (RFC 1122 4.2.3.9, RFC 5927) and the path MTU (RFC 1191);
 * sp_tcp_icmp_input is declared in iface_internal.h for icmp.c. */
/* What a connection that gives up after its retransmissions reports: its soft error if it has
 * one (a router's unreachable explains the silence better), else SP_ETIMEDOUT. */
int sp_tcp_timeout_error(const struct sp_tcp *c);

/* tcp_keepalive.c: keepalive (RFC 1122 4.2.3.6) */
/* A connection made by listener l takes its keepalive settings. */
void sp_tcp_keepalive_inherit(struct sp_tcp *c, const struct sp_tcp *l);
/* An acceptable segment came from the peer: it is alive, the idle time starts again. */
void sp_tcp_keepalive_heard(struct sp_tcp *c, sp_time_t now);
/* When the next probe, or giving up, is due; SP_TIME_NEVER when keepalive has nothing to do. */
sp_time_t sp_tcp_keepalive_at(const struct sp_tcp *c);
/* Sends the probe that is due, or ends the connection after ka_count unanswered ones. */
void sp_tcp_keepalive_timer(struct sp_tcp *c, sp_time_t now);

/* tcp_timers.c: the connections' deadlines in a min-heap. */
int sp_tcp_timers_init(struct sp_tcp_stack *tcp);
void sp_tcp_timers_free(struct sp_tcp_stack *tcp);
/* c's timers may have changed in this stack entry: its deadline is taken again when the outermost
 * entry leaves. Every entry point that works on a connection calls it. */
void sp_tcp_touch(struct sp_tcp *c);
void sp_tcp_timers_settle(struct sp_tcp_stack *tcp);
void sp_tcp_timers_remove(struct sp_tcp *c);
/* The connection with the earliest deadline when it is due by now, taken out of the heap (touch
 * it to put it back); NULL when none is due. */
struct sp_tcp *sp_tcp_timers_due(struct sp_tcp_stack *tcp, sp_time_t now);
static inline sp_time_t sp_tcp_timers_next(const struct sp_tcp_stack *tcp)
{
    return tcp->heap_len ? tcp->heap[0]->heap_at : SP_TIME_NEVER;
}

/* tcp_timewait.c */
int sp_tcp_tw_init(struct sp_tcp_stack *tcp);
void sp_tcp_tw_free(struct sp_tcp_stack *tcp);
/* c is in TIME-WAIT and released by the application: its compact entry takes over and the
 * connection is finished (its table slot and buffers go back). */
void sp_tcp_tw_adopt(struct sp_tcp *c, sp_time_t now);
struct sp_tcp_tw *sp_tcp_tw_lookup(const struct sp_tcp_stack *tcp, uint32_t rip, uint16_t rport, uint16_t lport);
/* A segment for entry tw, answered as TIME-WAIT does. False when it is a SYN that may open a new
 * connection on the pair: the entry is gone and tcp->iss_floor is set; the caller hands the SYN
 * to the listener. */
bool sp_tcp_tw_input(struct sp_tcp_stack *tcp, struct sp_tcp_tw *tw, sp_time_t now, const struct sp_tcp_repr *seg);
void sp_tcp_tw_poll(struct sp_tcp_stack *tcp, sp_time_t now);
static inline sp_time_t sp_tcp_tw_poll_at(const struct sp_tcp_stack *tcp)
{
    return tcp->tw.oldest == SP_TCP_TW_NONE ? SP_TIME_NEVER : tcp->tw.e[tcp->tw.oldest].expires;
}

/* tcp_syncookie.c: SYN cookies (RFC 4987) for a listener whose backlog is full. */
/* The ISS that is the cookie for a SYN from rip:rport to lport at `now`, with the peer's MSS and
 * window scale (-1: none) and ours (what the SYN-ACK offers) folded in. */
uint32_t sp_tcp_cookie_make(const struct sp_tcp_stack *tcp, sp_time_t now, uint32_t rip, uint16_t rport,
                            uint16_t lport, uint32_t peer_isn, uint16_t mss, int8_t wscale, uint8_t our_wscale);
/* A SYN that found listener l's backlog full: a cookie SYN-ACK (counted), or a counted drop when
 * cookies are off or the handshake is delegated. */
void sp_tcp_backlog_full(struct sp_tcp *l, sp_time_t now, const struct sp_ipv4_repr *ip, const struct sp_tcp_repr *seg);
/* An ACK to listener l that matches no connection: true when it completed a cookie handshake
 * (the connection is made and the segment processed by it), false when the caller should answer
 * it as LISTEN does (a reset). A cookie that fails while cookies are in use is counted. */
bool sp_tcp_cookie_ack(struct sp_tcp *l, sp_time_t now, const struct sp_ipv4_repr *ip, const struct sp_tcp_repr *seg);

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
