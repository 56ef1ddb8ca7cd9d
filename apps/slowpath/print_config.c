#include "print_config.h"

#include "slowpath/wire/ipv4.h"

static void addr(FILE *out, const char *name, uint32_t ip)
{
    fprintf(out, "%s: %u.%u.%u.%u", name, ip >> 24, (ip >> 16) & 255, (ip >> 8) & 255, ip & 255);
}

static void device(const struct sp_options *o, FILE *out)
{
    if (o->tap)
        fprintf(out, "tap: %s\n", o->tap);
    if (o->tun)
        fprintf(out, "tun: %s\n", o->tun);
    for (int i = 0; i < o->nreplay; i++)
        fprintf(out, "replay: %s\n", o->replay[i]);
    if (!o->tap && !o->tun && !o->nreplay)
        fprintf(out, "tap: (none)\n");
    if (o->ip) {
        addr(out, "ip", o->ip);
        fprintf(out, "/%u\n", o->prefix_len);
    } else {
        fprintf(out, "ip: (none)\n");
    }
    if (o->gateway) {
        addr(out, "gw", o->gateway);
        fputc('\n', out);
    }
    char mac[18];
    sp_mac_format(o->mac, mac);
    fprintf(out, "mac: %s\n", o->mac_set || o->ip ? mac : "(02:53:50 + the address's low 24 bits)");
    fprintf(out, "mtu: %u\n", o->mtu ? o->mtu : 1500);
    fprintf(out, "services: echo %s, discard %s, http %s\n", o->tcp_echo ? "on" : "off", o->discard ? "on" : "off",
            o->http ? "on" : "off");
    if (o->pcap)
        fprintf(out, "pcap: %s\n", o->pcap);
}

static void decisions(const struct sp_options *o, FILE *out)
{
    fprintf(out, "delegate:");
    for (int k = 0; k < SP_DECISION_KINDS; k++)
        fprintf(out, "%s%s=%s", k ? "," : " ", sp_decision_kind_name((enum sp_decision_kind)k),
                sp_decision_mode_name(o->delegate[k]));
    fputc('\n', out);
    fprintf(out, "on_invalid: %s\n", o->on_invalid == SP_INVALID_DROP ? "drop" : "fallback");
    fprintf(out, "prompt_format: %s\n", sp_llm_format_name(o->prompt_format));
    if (o->trace)
        fprintf(out, "trace: %s\n", o->trace);
    fprintf(out, "decision_timeout_ms: %u\n", o->llm.timeout_ms + SP_DECISION_TIMEOUT_MARGIN_MS);
}

void app_print_config(const struct sp_options *o, FILE *out)
{
    device(o, out);
    decisions(o, out);
    sp_llm_config_print(&o->llm, o->llm_url_source, out);
    fprintf(out, "log_format: %s\n", app_log_format_name(o->log_format));
    fprintf(out, "metrics: %s%s\n", o->metrics ? o->metrics : "(off)", o->metrics && o->metrics_any ? " (any address)" : "");
    fflush(out);
}
