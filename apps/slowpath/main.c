/* The slowpath daemon: one virtual host on a TAP or TUN device (or a replayed capture), driven by one
 * libuv loop. The loop edge (slowpath/edge.h) owns the clock, reads the TAP, and keeps the one
 * timer at sp_iface_poll_at() whatever gave the stack work (a frame, a timer, an LLM answer, a
 * replayed frame); the daemon only feeds the replay. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <uv.h>

#include "decisions.h"
#include "log.h"
#include "metrics.h"
#include "metrics_text.h"
#include "options.h"
#include "print_config.h"
#include "privdrop.h"
#include "slowpath/device.h"
#include "slowpath/edge.h"
#include "slowpath/error.h"
#include "slowpath/iface.h"
#include "slowpath/opts.h"
#include "slowpath/tcp.h"
#include "replay_seq.h"
#include "stats_json.h"
#include "tcp_services.h"
#include "udp_echo.h"

struct app {
    struct sp_options opt;
    struct sp_user user;        /* --user, looked up before anything is opened */
    uv_loop_t *loop;
    struct sp_device *base;     /* TAP or replay */
    struct sp_device *dev;      /* outermost wrapper: what the stack talks to */
    struct sp_iface *iface;
    struct sp_udp_socket udp_echo;
    struct sp_tcp_services *tcp;
    struct app_decisions decisions;
    struct sp_edge *edge;
    struct app_metrics *metrics;  /* --metrics */
    uv_idle_t replay_idle;
    uv_timer_t replay_drain;    /* after the captures: waits for the model's last answers */
    uv_signal_t sig_int, sig_term, sig_usr1;
    int exit_code;
    bool stopping;
};

static void log_line(void *data, enum sp_log_level level, const char *line)
{
    (void)data;
    app_log(level == SP_LOG_ERROR ? APP_LOG_ERROR : level == SP_LOG_INFO ? APP_LOG_INFO : APP_LOG_DEBUG, NULL, 0,
            "%s", line);
}

static void print_stats(const struct app *a, FILE *out)
{
    if (app_log_get_format() == APP_LOG_JSON) {
        app_stats_json(a->iface, &a->decisions, out);
        return;
    }
    const struct sp_stats *s = sp_iface_stats(a->iface);
    fprintf(out, "slowpath counters:\n");
    for (int i = 0; i < SP_STAT_COUNT; i++)
        if (s->v[i])
            fprintf(out, "  %-28s %llu\n", sp_stat_name((enum sp_stat)i), (unsigned long long)s->v[i]);
    app_decisions_print(&a->decisions, out);
    fflush(out);
}

static void close_cb(uv_handle_t *h) { (void)h; }

static void app_stop(struct app *a, int code)
{
    if (a->stopping)
        return;
    a->stopping = true;
    a->exit_code = code;
    sp_edge_close(a->edge);
    a->edge = NULL;  /* its memory goes with its close callbacks */
    app_metrics_stop(a->metrics);
    a->metrics = NULL;
    uv_handle_t *handles[] = {
        (uv_handle_t *)&a->replay_idle, (uv_handle_t *)&a->replay_drain,
        (uv_handle_t *)&a->sig_int, (uv_handle_t *)&a->sig_term, (uv_handle_t *)&a->sig_usr1,
    };
    /* Handles never initialised still have a NULL loop (the app struct starts zeroed). */
    for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++)
        if (handles[i]->loop && !uv_is_closing(handles[i]))
            uv_close(handles[i], close_cb);
    app_decisions_stop(&a->decisions, a->loop);
}

static void on_device_error(void *data, int err)
{
    struct app *a = data;
    app_log(APP_LOG_ERROR, NULL, 0, "device read failed: %s", sp_strerror(err));
    app_stop(a, 1);
}

#define REPLAY_DRAIN_MS 5

static void on_replay_drain(uv_timer_t *t)
{
    struct app *a = t->data;
    if (app_decisions_inflight(&a->decisions) == 0)
        app_stop(a, 0);
}

/* Replay: one batch of frames per loop turn until the captures are done, then exit 0 once the
 * model answered every decision asked (checked on a timer rather than by spinning). The edge
 * re-arms the stack's timer after each turn. */
static void on_replay_idle(uv_idle_t *h)
{
    struct app *a = h->data;
    int n = sp_iface_poll_device(a->iface, sp_edge_now(a->edge), SP_EDGE_RX_BATCH);
    if (n == SP_EOF) {
        if (app_decisions_inflight(&a->decisions) == 0) {
            app_stop(a, 0);
            return;
        }
        uv_idle_stop(h);
        uv_timer_init(a->loop, &a->replay_drain);
        a->replay_drain.data = a;
        uv_timer_start(&a->replay_drain, on_replay_drain, REPLAY_DRAIN_MS, REPLAY_DRAIN_MS);
        return;
    }
    if (n < 0) {
        app_log(APP_LOG_ERROR, NULL, 0, "replay failed: %s", sp_strerror(n));
        app_stop(a, 1);
    }
}

static void on_signal(uv_signal_t *s, int signum)
{
    struct app *a = s->data;
    if (signum == SIGUSR1) {
        print_stats(a, stderr);
        return;
    }
    if (a->opt.verbose)
        app_log(APP_LOG_INFO, NULL, 0, "%s, exiting", strsignal(signum));
    app_stop(a, 0);
}

static void on_connect_done(void *data, int status)
{
    struct app *a = data;
    if (status < 0)
        app_log(APP_LOG_ERROR, NULL, 0, "--connect %s: %s", a->opt.connect, sp_strerror(status));
    /* --stay: the fetch was one thing this host did; it goes on answering until a signal. */
    if (status < 0 || !a->opt.stay)
        app_stop(a, status < 0 ? 1 : 0);
    else if (a->opt.verbose)
        app_log(APP_LOG_INFO, NULL, 0, "--connect %s: done, staying up", a->opt.connect);
}

static int open_devices(struct app *a, char *err, size_t errlen)
{
    uint16_t mtu = a->opt.mtu ? a->opt.mtu : 1500;
    if (a->opt.tap)
        a->base = sp_tap_open_offload(a->opt.tap, mtu, a->opt.offload, err, errlen);
    else if (a->opt.tun)
        a->base = sp_tun_open(a->opt.tun, mtu, err, errlen);
    else
        a->base = sp_replay_seq_open(a->opt.replay, a->opt.nreplay, mtu, err, errlen);
    if (!a->base)
        return -1;
    a->dev = a->base;
    /* --tun is refused this at parse time; a raw-IP capture only says what it is once open. */
    if (a->base->link == SP_LINK_RAW_IP && a->opt.delegate[SP_DECISION_ARP] != SP_DECIDE_NATIVE) {
        snprintf(err, errlen, "--delegate arp=%s: %s carries raw IP without ARP, so there is no ARP decision",
                 sp_decision_mode_name(a->opt.delegate[SP_DECISION_ARP]), a->opt.tun ? a->opt.tun : "the capture");
        return -1;
    }
    if (a->opt.drop_chance > 0 || a->opt.corrupt_chance > 0) {
        struct sp_fault_opts fo = {a->opt.drop_chance, a->opt.corrupt_chance, a->opt.seed};
        struct sp_device *f = sp_fault_open(a->dev, &fo);
        if (!f) {
            snprintf(err, errlen, "cannot set up fault injection: out of memory");
            return -1;
        }
        a->dev = f;
    }
    if (a->opt.pcap) {
        /* Outermost, so the capture holds what the stack sent before any injected fault. */
        int dirs = sp_options_pcap_dirs(&a->opt);
        struct sp_device *w = sp_pcap_writer_open(a->dev, a->opt.pcap, dirs, err, errlen);
        if (!w)
            return -1;
        a->dev = w;
    }
    return 0;
}

static uint64_t pick_secret(const struct sp_options *o)
{
    if (o->seed_set)
        return o->seed * 0x9e3779b97f4a7c15ull + 1;
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, 0) != (ssize_t)sizeof s)
        s = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
    return s;
}

/* --- Metrics (--metrics): the page is rendered on the loop, at the moment of the request. --- */

static void render_metrics(void *data, struct app_buf *page)
{
    struct app *a = data;
    struct app_metrics_src src = {
        .iface = a->iface,
        .decider = a->decisions.decider,
        .client = a->decisions.client_up ? &a->decisions.client : NULL,
        .version = SLOWPATH_VERSION,
    };
    app_metrics_render(&src, page);
}

static int start_metrics(struct app *a)
{
    char err[256], bound[80];
    if (!a->opt.metrics)
        return 0;
    if (app_metrics_start(a->loop, &a->opt.metrics_addr, render_metrics, a, &a->metrics, bound, sizeof bound, err,
                          sizeof err) < 0) {
        app_log(APP_LOG_ERROR, NULL, 0, "%s", err);
        return -1;
    }
    /* Said always: the operator asked for a listener, and with port 0 this is where it is. */
    char url[112];
    snprintf(url, sizeof url, "http://%s/metrics", bound);
    struct app_log_field f[] = {{"url", url, false}};
    app_log(APP_LOG_INFO, f, 1, "metrics on %s", url);
    return 0;
}

static int app_run(struct app *a)
{
    char err[256] = "";
    a->loop = uv_default_loop();
    if (open_devices(a, err, sizeof err) < 0) {
        app_log(APP_LOG_ERROR, NULL, 0, "%s", err);
        return 1;
    }
    struct sp_iface_config cfg = {
        .mac = a->opt.mac, .ip = a->opt.ip, .prefix_len = a->opt.prefix_len, .gateway = a->opt.gateway,
        .mtu = a->opt.mtu, .secret = pick_secret(&a->opt),
        .log = a->opt.verbose ? log_line : NULL, .log_data = a,
        .log_level = a->opt.verbose > 1 ? SP_LOG_DEBUG : SP_LOG_INFO, .tcp = a->opt.tcp,
    };
    uv_update_time(a->loop);
    a->iface = sp_iface_new(&cfg, a->dev, uv_now(a->loop));
    if (!a->iface) {
        app_log(APP_LOG_ERROR, NULL, 0, "cannot create the interface (bad address or out of memory)");
        return 1;
    }
    sp_tcp_set_sack(a->iface, a->opt.tcp_sack);
    sp_tcp_set_timestamps(a->iface, a->opt.tcp_timestamps);
    if (a->opt.udp_echo && sp_udp_echo_start(a->iface, &a->udp_echo) < 0) {
        app_log(APP_LOG_ERROR, NULL, 0, "cannot start UDP echo");
        return 1;
    }
    struct sp_tcp_services_opts topts = {
        .echo = a->opt.tcp_echo, .discard = a->opt.discard, .http = a->opt.http,
        .connect = a->opt.connect, .send_file = a->opt.send_file,
        .ka_idle_s = a->opt.ka_idle_s, .ka_intvl_s = a->opt.ka_intvl_s, .ka_count = a->opt.ka_count,
        .on_connect_done = on_connect_done, .data = a,
    };
    a->tcp = sp_tcp_services_start(a->iface, &topts, err, sizeof err);
    if (!a->tcp) {
        app_log(APP_LOG_ERROR, NULL, 0, "%s", err);
        return 1;
    }
    /* After the services: the TCP module must be registered before a tcp decider is installed. */
    if (app_decisions_start(&a->decisions, a->loop, a->iface, &a->opt, err, sizeof err) < 0) {
        app_log(APP_LOG_ERROR, NULL, 0, "%s", err);
        return 1;
    }
    /* Everything that needs privileges is open now (the TAP, the pcap, the trace, --send's file):
     * the rest runs as the user. */
    if (a->opt.user) {
        if (sp_user_become(&a->user, err, sizeof err) < 0) {
            fprintf(stderr, "slowpath: %s\n", err);
            return 1;
        }
        if (a->opt.verbose)
            fprintf(stderr, "slowpath: running as user %s (uid %u, gid %u), no capabilities\n", a->user.name,
                    (unsigned)a->user.uid, (unsigned)a->user.gid);
    }

    /* The edge polls the TAP; a replay has no fd and is fed by the idle handle. */
    struct sp_edge_opts eopts = {.on_error = on_device_error, .data = a};
    int rc = sp_edge_open(a->loop, a->iface, &eopts, &a->edge);
    if (rc < 0) {
        app_log(APP_LOG_ERROR, NULL, 0, "cannot poll the device: %s", sp_strerror(rc));
        return 1;
    }
    if (!a->opt.tap && !a->opt.tun) {
        uv_idle_init(a->loop, &a->replay_idle);
        a->replay_idle.data = a;
        uv_idle_start(&a->replay_idle, on_replay_idle);
    }
    uv_signal_t *sigs[] = {&a->sig_int, &a->sig_term, &a->sig_usr1};
    int signums[] = {SIGINT, SIGTERM, SIGUSR1};
    for (int i = 0; i < 3; i++) {
        uv_signal_init(a->loop, sigs[i]);
        sigs[i]->data = a;
        uv_signal_start(sigs[i], on_signal, signums[i]);
    }
    if (start_metrics(a) < 0)
        return 1;
    if (a->opt.verbose) {
        char mac[18];
        sp_mac_format(a->opt.mac, mac);
        const char *dev = a->opt.tap ? a->opt.tap : a->opt.tun ? a->opt.tun : a->opt.replay[0];
        uint32_t off = a->base->offloads;
        const char *offloads = (off & SP_OFFLOAD_TSO4) && (off & SP_OFFLOAD_CSUM) ? "csum,tso4"
                             : (off & SP_OFFLOAD_CSUM)                            ? "csum"
                                                                                  : "none";
        if (a->base->link == SP_LINK_RAW_IP) {
            struct app_log_field f[] = {{"device", dev, false}, {"link", "raw-ip", false}};
            app_log(APP_LOG_INFO, f, 2, "up on %s, raw IP (no ARP)", dev);
        } else {
            struct app_log_field f[] = {{"device", dev, false}, {"mac", mac, false}, {"offloads", offloads, false}};
            app_log(APP_LOG_INFO, f, 3, "up on %s, mac %s, offloads %s", dev, mac, offloads);
        }
    }
    uv_run(a->loop, UV_RUN_DEFAULT);
    return a->exit_code;
}

static void app_cleanup(struct app *a)
{
    if (a->tcp)
        sp_tcp_services_stop(a->tcp);
    if (a->iface && a->opt.stats_on_exit)
        print_stats(a, stderr);
    sp_udp_close(&a->udp_echo);
    app_decisions_free(&a->decisions);
    sp_edge_close(a->edge); /* still open only when the loop never ran */
    a->edge = NULL;
    sp_iface_free(a->iface);
    sp_device_close(a->dev);   /* closes the wrapped devices too; flushes the pcap */
    if (a->loop) {
        uv_run(a->loop, UV_RUN_NOWAIT);
        uv_loop_close(a->loop);
    }
}

int main(int argc, char **argv)
{
    static struct app a;
    char err[256];
    int rc = sp_options_parse(&a.opt, argc, argv, err, sizeof err);
    if (rc == 1)
        return 0;
    if (rc < 0) {
        fprintf(stderr, "slowpath: %s\n", err);
        return 2;
    }
    if (a.opt.print_config) {
        app_print_config(&a.opt, stdout);
        return 0;
    }
    app_log_setup(a.opt.log_format);
    /* Before anything is opened: a mistyped user must not leave a half-started daemon. */
    if (a.opt.user && sp_user_lookup(a.opt.user, &a.user, err, sizeof err) < 0) {
        fprintf(stderr, "slowpath: %s\n", err);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    rc = app_run(&a);
    app_cleanup(&a);
    return rc;
}
