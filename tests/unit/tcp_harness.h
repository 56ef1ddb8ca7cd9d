/* Scenario harness for the TCP tests, in the style of smoltcp's tcp.rs tests: feed one segment at
 * time T, then assert the exact segment(s) the stack answered. No device path: segments go
 * straight into sp_tcp_input and leave through the TCP output hook, captured as reprs.
 * Sequence numbers in the helpers are relative: the peer's to PEER_ISN, ours to the ISS we
 * learned from our first SYN or SYN-ACK. The helpers live in tcp_harness.c,
 * part of the test-support library every test program links. */
#ifndef SP_TCP_HARNESS_H
#define SP_TCP_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slowpath/device.h"
#include "slowpath/error.h"
#include "slowpath/iface.h"
#include "slowpath/tcp.h"
#include "tcp_internal.h"

#define US_IP 0xc0000202u      /* 192.0.2.2 */
#define PEER_IP 0xc0000201u    /* 192.0.2.1 */
#define US_PORT 80
#define PEER_PORT 40000
#define PEER_ISN 1000000u
#define T0 10000u
#define MAX_OUT 256
#define TH_BUF 65536           /* the buffer sizes the scenarios run with (th_open_cfg) */
#define OUR_MSS 1460

struct out_seg {
    struct sp_ipv4_repr ip;
    struct sp_tcp_repr tcp;
    uint8_t data[2048];
};

struct th {
    struct sp_device *dev;
    struct sp_iface *iface;
    struct sp_tcp *listener;
    struct sp_tcp *conn;        /* the accepted or connecting connection */
    uint32_t iss;               /* ours */
    sp_time_t now;
    unsigned nout, taken;
    struct out_seg out[MAX_OUT];
    /* events */
    int accepts, readable, writable, connected, closed;
    int connect_status, close_status;
    bool auto_read;             /* on_readable reads everything into rx */
    size_t rx_len;
    uint8_t rx[200000];
};

int th_capture(void *ctx, sp_time_t now, struct sp_ip_packet *pkt);

void th_on_readable(struct sp_tcp *c);
void th_on_writable(struct sp_tcp *c);
void th_on_connect(struct sp_tcp *c, int status);
void th_on_close(struct sp_tcp *c, int status);

/* The callbacks every connection of the harness gets (they count into struct th). */
extern const struct sp_tcp_callbacks th_cbs;

void th_on_accept(struct sp_tcp *l, struct sp_tcp *c);

/* An interface on a memory device whose TCP output is captured; listening on US_PORT when
 * backlog >= 0. */
/* The TCP configuration the scenarios run with: 64 KiB buffers whatever opts.h says (the windows
 * the tests expect are written for them), everything else opts.h's. */
struct sp_tcp_config th_tcp_cfg(void);

/* An interface on a memory device whose TCP output is captured, with TCP configured by tc (NULL:
 * th_tcp_cfg()); listening on US_PORT when backlog >= 0. */
struct th *th_open_cfg(int backlog, const struct sp_tcp_config *tc);

struct th *th_open_backlog(int backlog);

/* poll_at comes from the stack's timer heap; it must equal the earliest deadline of every
 * connection and TIME-WAIT entry, scanned: checked after every step the harness takes, so an
 * entry point that changed timers without touching its connection fails its scenario. */
void th_check_poll_at(struct th *t);
struct th *th_open(void);

void th_close(struct th *t);

/* --- feeding segments ------------------------------------------------------------------------ */

struct seg_opts {
    uint16_t mss;       /* 0: none */
    int8_t wscale;      /* -1: none */
    bool sack_perm, ts;
    uint16_t sport, dport;
    bool corrupt;
};
#define NO_OPTS ((struct seg_opts){.wscale = -1})

/* Sends one segment from the peer at time now; seq relative to PEER_ISN, ack relative to our ISS. */
void th_send_ex(struct th *t, sp_time_t now, uint8_t flags, uint32_t seq, uint32_t ack,
                uint16_t win, const void *data, size_t len, struct seg_opts o);

void th_send(struct th *t, sp_time_t now, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t win,
             const void *data, size_t len);

/* Runs the timers up to `now` the way the loop does: at every poll_at on the way. */
void th_advance(struct th *t, sp_time_t now);

/* --- asserting what went out ------------------------------------------------------------------ */

struct out_seg *th_take(struct th *t);

/* The next segment: exact flags, seq relative to our ISS, ack relative to PEER_ISN (when ACK is
 * set), payload length; window checked when win >= 0. */
struct out_seg *th_expect(struct th *t, uint8_t flags, uint32_t seq, uint32_t ack, long win,
                          size_t len);

void th_expect_nothing(struct th *t);

uint64_t th_stat(struct th *t, enum sp_stat s);

/* --- common openings ---------------------------------------------------------------------------- */

/* SYN from the peer (MSS 1460, WS 7 unless opts given) -> our SYN-ACK, learning our ISS. */
struct out_seg *th_syn(struct th *t, sp_time_t now, struct seg_opts o);

/* A full passive open at T0 with the peer's window `win` (WS 0 so the window is unscaled). */
void th_establish_win(struct th *t, uint16_t win);
void th_establish(struct th *t);

void th_fill(uint8_t *buf, size_t len, unsigned seed);

#endif
