/* Command-line options of the slowpath daemon. */
#ifndef SP_APP_OPTIONS_H
#define SP_APP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/socket.h>

#include "log.h"
#include "slowpath/decide.h"
#include "slowpath/tcp.h"
#include "slowpath/llm/config.h"
#include "slowpath/llm/decision.h"
#include "slowpath/wire/ethernet.h"

#define SP_MAX_REPLAY 16
/* The stack waits this much longer than --llm-timeout, so the client's own deadline (a "timeout"
 * verdict with the model's usage) normally comes first. */
#define SP_DECISION_TIMEOUT_MARGIN_MS 100

struct sp_options {
    const char *tap;
    const char *tun;                                   /* --tun NAME: raw IP, no ARP */
    const char *replay[SP_MAX_REPLAY];  /* --replay, in order */
    int nreplay;
    uint32_t ip;
    uint8_t prefix_len;
    uint32_t gateway;
    struct sp_mac mac;
    bool mac_set;
    uint16_t mtu;
    const char *pcap;
    double drop_chance;
    double corrupt_chance;
    uint64_t seed;
    bool seed_set;
    int verbose;
    bool stats_on_exit;
    const char *user;                                  /* --user NAME: drop root once all is open */
    bool offload;           /* virtio-net offloads on the TAP (--no-offload: off) */
    bool udp_echo;
    bool tcp_echo;
    bool discard;
    bool http;
    bool tcp_sack;                                     /* --no-sack turns SACK off (RFC 2018) */
    bool tcp_timestamps;                               /* --no-timestamps: RFC 7323 timestamps */
    struct sp_tcp_config tcp;  /* --tcp-*: limits and sizes; 0 fields take opts.h's defaults */
    const char *connect;
    const char *send_file;
    bool stay;   /* --stay: a host that fetched something keeps answering (the virtual LAN demo) */
    /* --tcp-keepalive IDLE_S[,INTVL_S,COUNT]: keepalive on the services' connections (0: off) */
    uint32_t ka_idle_s, ka_intvl_s, ka_count;
    /* Decisions handed to a model. */
    enum sp_decision_mode delegate[SP_DECISION_KINDS]; /* --delegate KIND=MODE (native by default) */
    bool any_delegated;                                /* some kind is llm or shadow */
    enum sp_invalid_policy on_invalid;                 /* --on-invalid fallback|drop */
    enum sp_llm_format prompt_format;                  /* --prompt-format structured|raw */
    enum sp_authority authority;                       /* --authority exact|legal */
    const char *trace;                                 /* --trace FILE */
    struct sp_llm_config llm;                          /* --llm*, --model; finished when delegating */
    const char *llm_url_source;                        /* where llm.url came from (--print-config) */
    /* The operator's side. */
    enum app_log_format log_format;                    /* --log-format text|json */
    const char *metrics;                               /* --metrics ADDR:PORT */
    bool metrics_any;                                  /* --metrics-any: any address, not only loopback */
    struct sockaddr_storage metrics_addr;              /* parsed --metrics */
    bool print_config;                                 /* --print-config: print the configuration, exit 0 */
};

/* Parses argv. Returns 0 to run (or, with print_config set, to print the configuration: then
 * neither a device nor an address is needed, nor an API key), 1 when --help was printed, or -1
 * after writing one clear line to err. */
int sp_options_parse(struct sp_options *o, int argc, char **argv, char *err, size_t errlen);
void sp_options_usage(const char *prog);
/* What --pcap records: 0 without it; received and sent frames on a TAP or TUN (SP_PCAP_RX | SP_PCAP_TX);
 * only what we send in a replay, whose input is a capture already. */
int sp_options_pcap_dirs(const struct sp_options *o);

#endif
