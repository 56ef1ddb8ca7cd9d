/* The LLM decider's fixture (llm_decider_harness.h). */
#include "llm_decider_harness.h"

#include <unistd.h>

#include "slowpath/llm/trace.h"
#include "slowpath/wire/tcp.h"

static void on_client_closed(sp_llm_client *c) { ((struct fx *)c->data)->closed = 1; }

struct fx *fx_open(const struct fx_opts *o)
{
    struct fx *f = test_calloc(1, sizeof *f);
    char err[256];
    assert_int_equal(uv_loop_init(&f->loop), 0);
    f->mem = sp_mem_open(SP_MAX_MTU, H_DEPTH);
    assert_non_null(f->mem);
    strcpy(f->pcap_path, "/tmp/sp-decider-XXXXXX");
    int fd = mkstemp(f->pcap_path);
    assert_true(fd >= 0);
    close(fd);
    int dirs = o->pcap_dirs ? o->pcap_dirs : SP_PCAP_TX;
    f->dev = sp_pcap_writer_open(f->mem, f->pcap_path, dirs, err, sizeof err);
    assert_non_null(f->dev);
    struct sp_iface_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.mac = H_MAC_US;
    cfg.ip = H_IP_US;
    cfg.prefix_len = 24;
    uv_update_time(&f->loop);
    f->iface = sp_iface_new(&cfg, f->dev, uv_now(&f->loop));
    assert_non_null(f->iface);
    uint8_t fr[H_FRAME_CAP];
    assert_int_equal(sp_mem_take(f->mem, fr, sizeof fr), SP_ETH_MIN_FRAME); /* gratuitous ARP: frame 1 */

    struct sp_llm_config lc;
    sp_llm_config_init(&lc);
    lc.sim.seed = 7;
    lc.sim.error_rate = o->error_rate;
    lc.sim.latency_ms = o->latency_ms;
    lc.sim.choices = o->choices;
    lc.sim.refuse_rate = o->refuse_rate;
    lc.sim.ignore_rate = o->ignore_rate;
    if (o->max_inflight)
        lc.max_inflight = o->max_inflight;
    assert_int_equal(sp_llm_config_finish(&lc, err, sizeof err), 0);
    assert_int_equal(sp_llm_client_init(&f->loop, &f->client, &lc), 0);
    f->client.data = f;

    strcpy(f->trace_path, "/tmp/sp-trace-XXXXXX");
    fd = mkstemp(f->trace_path);
    assert_true(fd >= 0);
    f->trace = fdopen(fd, "w");
    assert_non_null(f->trace);
    struct sp_llm_decider_opts dopts = {
        .loop = &f->loop, .iface = f->iface, .client = &f->client, .format = o->format,
        .provider = "sim", .model = NULL, .trace = f->trace,
        .frames = o->unnumbered ? SP_LLM_FRAMES_NONE : dirs & SP_PCAP_RX ? SP_LLM_FRAMES_ALL : SP_LLM_FRAMES_SENT,
    };
    f->dec = sp_llm_decider_new(&dopts, err, sizeof err);
    assert_non_null(f->dec);
    sp_iface_set_invalid_policy(f->iface, o->policy);
    sp_iface_set_authority(f->iface, o->authority);
    sp_iface_set_decision_timeout(f->iface, o->stack_timeout ? o->stack_timeout : 10000);
    return f;
}

void fx_close(struct fx *f)
{
    sp_llm_client_close(&f->client, on_client_closed);
    while (!f->closed)
        uv_run(&f->loop, UV_RUN_ONCE);
    sp_llm_decider_free(f->dec);
    sp_iface_free(f->iface);
    sp_device_close(f->dev);
    uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(uv_loop_close(&f->loop), 0);
    fclose(f->trace);
    unlink(f->trace_path);
    unlink(f->pcap_path);
    test_free(f);
}

sp_time_t fx_now(struct fx *f)
{
    uv_update_time(&f->loop);
    return uv_now(&f->loop);
}

void fx_rx(struct fx *f, const uint8_t *frame, size_t len)
{
    assert_int_equal(sp_mem_inject(f->mem, frame, len), 0);
    assert_int_equal(sp_iface_poll_device(f->iface, fx_now(f), 16), 1);
}

void fx_ping(struct fx *f, uint16_t ident, uint16_t seq, const char *data)
{
    uint8_t fr[H_FRAME_CAP];
    size_t n = h_ping(fr, H_IP_PEER, H_IP_US, ident, seq, (const uint8_t *)data, strlen(data));
    fx_rx(f, fr, n);
}

/* Runs the loop until the client has nothing in flight (bounded: the sim answers on the next turns). */
void fx_settle(struct fx *f)
{
    for (int i = 0; i < 1000 && sp_llm_client_inflight(&f->client); i++)
        uv_run(&f->loop, UV_RUN_ONCE);
    assert_int_equal(sp_llm_client_inflight(&f->client), 0);
}

size_t fx_pending(struct fx *f) { return sp_mem_pending_tx(f->mem); }

/* Takes the next frame and checks it is the echo reply to (ident, seq) carrying data. */
void expect_echo_reply(struct fx *f, uint16_t ident, uint16_t seq, const char *data)
{
    uint8_t fr[H_FRAME_CAP];
    int n = sp_mem_take(f->mem, fr, sizeof fr);
    assert_true(n > 0);
    struct h_ip_out o;
    h_parse_ip(fr, (size_t)n, &o);
    assert_int_equal(o.ip.src, H_IP_US);
    assert_int_equal(o.ip.dst, H_IP_PEER);
    assert_int_equal(o.ip.protocol, SP_IP_PROTO_ICMP);
    struct sp_icmp_view v;
    struct sp_icmp_repr r;
    assert_int_equal(sp_icmp_view_init(&v, o.payload, o.payload_len), 0);
    assert_int_equal(sp_icmp_repr_parse(&v, &r), 0); /* checksum verified */
    assert_int_equal(r.type, SP_ICMP_ECHO_REPLY);
    assert_int_equal(r.ident, ident);
    assert_int_equal(r.seq, seq);
    assert_int_equal(r.data_len, strlen(data));
    assert_memory_equal(r.data, data, r.data_len);
}

/* --- The trace, read back --------------------------------------------------------------------- */

void read_trace(struct fx *f, struct lines *l)
{
    char buf[4096];
    FILE *in = fopen(f->trace_path, "r");
    assert_non_null(in);
    l->n = 0;
    while (fgets(buf, sizeof buf, in)) {
        size_t len = strlen(buf);
        assert_true(len > 0 && buf[len - 1] == '\n'); /* whole lines only: flushed per line */
        assert_true(l->n < MAX_LINES);
        l->v[l->n] = cJSON_Parse(buf);
        assert_non_null(l->v[l->n]);
        l->n++;
    }
    fclose(in);
}

void free_lines(struct lines *l)
{
    for (int i = 0; i < l->n; i++)
        cJSON_Delete(l->v[i]);
    l->n = 0;
}

const char *str_of(const cJSON *o, const char *k)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    assert_true(cJSON_IsString(x));
    return x->valuestring;
}

double num_of(const cJSON *o, const char *k)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    assert_true(cJSON_IsNumber(x));
    return x->valuedouble;
}

/* Every key of the documented trace format is present with its type. */
void check_shape(const cJSON *o, const char *kind, const char *mode, const char *format)
{
    const char *t = str_of(o, "time");
    assert_int_equal(strlen(t), 24); /* 2025-01-31T12:00:00.123Z */
    assert_int_equal(t[10], 'T');
    assert_int_equal(t[23], 'Z');
    assert_true(num_of(o, "id") >= 1);
    assert_string_equal(str_of(o, "kind"), kind);
    assert_string_equal(str_of(o, "mode"), mode);
    assert_string_equal(str_of(o, "format"), format);
    assert_string_equal(str_of(o, "provider"), "sim");
    assert_string_equal(str_of(o, "model"), "sim");
    assert_true(num_of(o, "latency_ms") >= 0);
    assert_true(num_of(o, "tokens_in") >= 0);
    assert_true(num_of(o, "tokens_out") >= 0);
    assert_true(num_of(o, "tokens_cached") >= 0);
    str_of(o, "verdict");
    str_of(o, "action");
    const cJSON *fr = cJSON_GetObjectItemCaseSensitive(o, "frame");
    assert_true(cJSON_IsNull(fr) || cJSON_IsNumber(fr));
    assert_true(strchr(str_of(o, "flow"), ' ') != NULL);
}

/* Sends the peer's segment r (from 192.0.2.1) to us. */
void fx_tcp(struct fx *f, const struct sp_tcp_repr *r)
{
    uint8_t fr[H_FRAME_CAP], seg[64];
    size_t sl = sp_tcp_repr_buffer_len(r);
    sp_tcp_repr_emit(r, H_IP_PEER, H_IP_US, seg);
    struct sp_ipv4_repr ip = h_ip(H_IP_PEER, H_IP_US, SP_IP_PROTO_TCP, sl);
    fx_rx(f, fr, h_ip_frame(fr, &ip, seg, sl));
}

/* A listener's accept callback for tests that only need the handshake answered. */
void fx_on_accept(struct sp_tcp *listener, struct sp_tcp *conn)
{
    (void)listener;
    (void)conn;
}
