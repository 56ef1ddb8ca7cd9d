/* Wiring the LLM decider into the daemon (see decisions.h). */
#include "decisions.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "slowpath/device.h"
#include "slowpath/llm/error.h"

/* The trace names each answer's frame as the --pcap capture numbers it. */
static enum sp_llm_frame_numbers frame_numbers(const struct sp_options *o)
{
    int dirs = sp_options_pcap_dirs(o);
    if (!dirs)
        return SP_LLM_FRAMES_NONE;
    return dirs & SP_PCAP_RX ? SP_LLM_FRAMES_ALL : SP_LLM_FRAMES_SENT;
}

/* The client's notices (the breaker opening) are events of the daemon's log. */
static void log_notice(void *data, const char *line)
{
    (void)data;
    if (strncmp(line, "slowpath: ", 10) == 0)
        line += 10;
    app_log(APP_LOG_WARNING, NULL, 0, "%s", line);
}

int app_decisions_start(struct app_decisions *d, uv_loop_t *loop, struct sp_iface *iface,
                        const struct sp_options *o, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    if (!o->any_delegated)
        return 0;
    d->iface = iface;
    int rc = sp_llm_client_init(loop, &d->client, &o->llm);
    if (rc < 0) {
        snprintf(err, errlen, "cannot start the LLM client: %s", sp_llm_strerror(rc));
        return -1;
    }
    d->client_up = true;
    sp_llm_client_set_log(&d->client, log_notice, NULL);
    if (o->trace) {
        d->trace = fopen(o->trace, "w");
        if (!d->trace) {
            snprintf(err, errlen, "cannot open --trace '%s': %s", o->trace, strerror(errno));
            return -1;
        }
    }
    struct sp_llm_decider_opts dopts = {
        .loop = loop,
        .iface = iface,
        .client = &d->client,
        .format = o->prompt_format,
        .provider = sp_llm_provider_kind_name(o->llm.provider),
        .model = o->llm.provider == SP_LLM_PROVIDER_SIM ? "sim" : o->llm.model,
        .trace = d->trace,
        .frames = frame_numbers(o),
    };
    d->decider = sp_llm_decider_new(&dopts, err, errlen);
    if (!d->decider)
        return -1;
    sp_iface_set_invalid_policy(iface, o->on_invalid);
    sp_iface_set_authority(iface, o->authority);
    sp_iface_set_decision_timeout(iface, (sp_time_t)o->llm.timeout_ms + SP_DECISION_TIMEOUT_MARGIN_MS);
    for (int k = 0; k < SP_DECISION_KINDS; k++)
        if (o->delegate[k] != SP_DECIDE_NATIVE)
            sp_llm_decider_install(d->decider, (enum sp_decision_kind)k, o->delegate[k]);
    return 0;
}

static void on_close_timer_closed(uv_handle_t *h) { (void)h; }

static void on_close_timer(uv_timer_t *t)
{
    struct app_decisions *d = t->data;
    sp_llm_client_close(&d->client, NULL);
    uv_close((uv_handle_t *)t, on_close_timer_closed);
}

void app_decisions_stop(struct app_decisions *d, uv_loop_t *loop)
{
    if (!d->client_up || d->client_closing)
        return;
    d->client_closing = true;
    /* Not from here: stop may be called from inside the stack (a --connect that finished), and
     * closing completes decisions, which re-enters the interface. */
    uv_timer_init(loop, &d->close_timer);
    d->close_timer.data = d;
    uv_timer_start(&d->close_timer, on_close_timer, 0, 0);
}

unsigned app_decisions_inflight(const struct app_decisions *d)
{
    return d->client_up && !d->client_closing ? sp_llm_client_inflight(&d->client) : 0;
}

void app_decisions_print(const struct app_decisions *d, FILE *out)
{
    if (!d->decider)
        return;
    sp_llm_decider_print_stats(d->decider, out);
    const struct sp_llm_client_stats *c = sp_llm_client_stats(&d->client);
    fprintf(out,
            "  llm client: asks %llu, ok %llu, failed %llu, busy %llu, breaker rejects %llu, retries %llu, "
            "timeouts %llu, tokens in %llu out %llu cache write %llu cache read %llu\n",
            (unsigned long long)c->asks, (unsigned long long)c->ok, (unsigned long long)c->failed,
            (unsigned long long)c->busy, (unsigned long long)c->breaker_rejects, (unsigned long long)c->retries,
            (unsigned long long)c->timeouts, (unsigned long long)c->input_tokens, (unsigned long long)c->output_tokens,
            (unsigned long long)c->cache_write_tokens, (unsigned long long)c->cache_read_tokens);
    fflush(out);
}

void app_decisions_free(struct app_decisions *d)
{
    if (d->client_up && !d->client_closing) { /* the daemon never ran its loop */
        d->client_closing = true;
        sp_llm_client_close(&d->client, NULL);
    }
    for (int k = 0; d->decider && k < SP_DECISION_KINDS; k++) /* nobody left to ask */
        sp_iface_set_decider(d->iface, (enum sp_decision_kind)k, SP_DECIDE_NATIVE, NULL);
    sp_llm_decider_free(d->decider);
    d->decider = NULL;
    if (d->trace)
        fclose(d->trace);
    d->trace = NULL;
}
