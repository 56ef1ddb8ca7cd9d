/* The LLM decider's fixture, shared by the test_llm_decider*.c programs: a real interface on the
 * memory device behind a pcap writer, the in-process sim through the real client on a real uv
 * loop, a trace file; and the trace read back as JSON lines. Definitions in
 * llm_decider_harness.c (part of the test-support library). */
#ifndef SP_LLM_DECIDER_HARNESS_H
#define SP_LLM_DECIDER_HARNESS_H

#include <cjson/cJSON.h>
#include <uv.h>

#include "iface_harness.h"
#include "slowpath/decide.h"
#include "slowpath/llm/client.h"
#include "slowpath/llm/config.h"
#include "slowpath/llm/decider.h"
#include "slowpath/tcp.h"
#include "slowpath/wire/tcp.h"

#define PING_IDENT 0xbeef
#define PING_DATA "slowpath-ping-data"
#define PING_LEN 18

struct fx {
    uv_loop_t loop;
    struct sp_device *mem, *dev;
    struct sp_iface *iface;
    sp_llm_client client;
    sp_llm_decider *dec;
    char trace_path[64];
    char pcap_path[64];
    FILE *trace;
    int closed;
};

struct fx_opts {
    enum sp_llm_format format;
    double error_rate;
    uint32_t latency_ms;
    uint32_t max_inflight;
    enum sp_invalid_policy policy;
    sp_time_t stack_timeout;
    int pcap_dirs;                       /* 0: SP_PCAP_TX, as in a replay */
    bool unnumbered;                     /* the decider is told there is no capture */
    enum sp_authority authority;
    enum sp_llm_sim_choices choices;     /* the sim's, in legal */
    double refuse_rate, ignore_rate;
};

#define MAX_LINES 64
struct lines {
    int n;
    cJSON *v[MAX_LINES];
};

/* Opens the fixture as o says (the gratuitous ARP, frame 1, already taken). */
struct fx *fx_open(const struct fx_opts *o);

/* Closes the client (running the loop until it has), the decider, interface and device. */
void fx_close(struct fx *f);

sp_time_t fx_now(struct fx *f);

void fx_rx(struct fx *f, const uint8_t *frame, size_t len);

void fx_ping(struct fx *f, uint16_t ident, uint16_t seq, const char *data);

/* Runs the loop until the client has nothing in flight (bounded: the sim answers on the next turns). */
void fx_settle(struct fx *f);

/* Frames the stack sent, not yet taken. */
size_t fx_pending(struct fx *f);

/* Takes the next frame and checks it is the echo reply to (ident, seq) carrying data. */
void expect_echo_reply(struct fx *f, uint16_t ident, uint16_t seq, const char *data);

/* The trace file's lines, each parsed (whole lines only: the trace flushes per line). */
void read_trace(struct fx *f, struct lines *l);

void free_lines(struct lines *l);

const char *str_of(const cJSON *o, const char *k);

double num_of(const cJSON *o, const char *k);

/* Every key of the documented trace format is present with its type. */
void check_shape(const cJSON *o, const char *kind, const char *mode, const char *format);

/* Sends the peer's segment r (from 192.0.2.1) to us. */
void fx_tcp(struct fx *f, const struct sp_tcp_repr *r);

/* A listener's accept callback for tests that only need the handshake answered. */
void fx_on_accept(struct sp_tcp *listener, struct sp_tcp *conn);

#endif
