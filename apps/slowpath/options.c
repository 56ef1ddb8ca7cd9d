#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slowpath/device.h"
#include "slowpath/error.h"
#include "slowpath/wire/ipv4.h"

enum {
    OPT_TAP = 256, OPT_REPLAY, OPT_IP, OPT_GW, OPT_MAC, OPT_MTU, OPT_PCAP, OPT_DROP, OPT_CORRUPT,
    OPT_SEED, OPT_STATS, OPT_NO_ECHO, OPT_NO_DISCARD, OPT_NO_HTTP, OPT_CONNECT, OPT_SEND,
    OPT_DELEGATE, OPT_ON_INVALID, OPT_PROMPT_FORMAT, OPT_TRACE, OPT_LLM, OPT_USER,
};

static const struct option long_opts[] = {
    {"tap", required_argument, NULL, OPT_TAP},
    {"replay", required_argument, NULL, OPT_REPLAY},
    {"ip", required_argument, NULL, OPT_IP},
    {"gw", required_argument, NULL, OPT_GW},
    {"mac", required_argument, NULL, OPT_MAC},
    {"mtu", required_argument, NULL, OPT_MTU},
    {"pcap", required_argument, NULL, OPT_PCAP},
    {"drop-chance", required_argument, NULL, OPT_DROP},
    {"corrupt-chance", required_argument, NULL, OPT_CORRUPT},
    {"seed", required_argument, NULL, OPT_SEED},
    {"stats", no_argument, NULL, OPT_STATS},
    {"user", required_argument, NULL, OPT_USER},
    {"no-echo", no_argument, NULL, OPT_NO_ECHO},
    {"no-discard", no_argument, NULL, OPT_NO_DISCARD},
    {"no-http", no_argument, NULL, OPT_NO_HTTP},
    {"connect", required_argument, NULL, OPT_CONNECT},
    {"send", required_argument, NULL, OPT_SEND},
    {"delegate", required_argument, NULL, OPT_DELEGATE},
    {"on-invalid", required_argument, NULL, OPT_ON_INVALID},
    {"prompt-format", required_argument, NULL, OPT_PROMPT_FORMAT},
    {"trace", required_argument, NULL, OPT_TRACE},
    /* handed to sp_llm_config_set by name */
    {"llm", required_argument, NULL, OPT_LLM},
    {"llm-url", required_argument, NULL, OPT_LLM},
    {"model", required_argument, NULL, OPT_LLM},
    {"llm-timeout", required_argument, NULL, OPT_LLM},
    {"llm-max-inflight", required_argument, NULL, OPT_LLM},
    {"llm-retries", required_argument, NULL, OPT_LLM},
    {"llm-stream", required_argument, NULL, OPT_LLM},
    {"llm-seed", required_argument, NULL, OPT_LLM},
    {"llm-latency-ms", required_argument, NULL, OPT_LLM},
    {"llm-error-rate", required_argument, NULL, OPT_LLM},
    {"llm-cache-min-tokens", required_argument, NULL, OPT_LLM},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void sp_options_usage(const char *prog)
{
    printf("usage: %s (--tap NAME | --replay IN.pcap ...) --ip ADDR/PREFIX [options]\n"
           "\n"
           "A user-space TCP/IP host on a TAP device (or replaying a capture).\n"
           "\n"
           "  --tap NAME            attach to TAP interface NAME (IFF_TAP, no packet info)\n"
           "  --replay FILE         take frames from a pcap as if they arrived, then exit 0;\n"
           "                        repeatable: the captures are replayed in order\n"
           "  --ip ADDR/PREFIX      our address, e.g. 192.0.2.2/24\n"
           "  --gw ADDR             next hop for off-link destinations (default: none)\n"
           "  --mac MAC             our MAC (default 02:53:50 + the low 24 bits of the address)\n"
           "  --mtu N               IP MTU, 576..1500 (default 1500)\n"
           "  --pcap FILE           write frames to FILE (both directions on a TAP; what we\n"
           "                        send when replaying)\n"
           "  --drop-chance P       drop each frame with probability P (0..1), both ways\n"
           "  --corrupt-chance P    flip one bit of each IPv4 datagram with probability P, both\n"
           "                        ways (what no checksum covers is left alone)\n"
           "  --seed N              seed of the fault injector and of the stack's secret\n"
           "  --no-echo             no echo service (UDP and TCP port 7)\n"
           "  --no-discard          no discard service (TCP port 9)\n"
           "  --no-http             no HTTP status page (TCP port 80)\n"
           "  --connect HOST:PORT   open a TCP connection, send --send FILE (default: an HTTP\n"
           "                        GET), print what comes back to stdout, exit when closed\n"
           "  --send FILE           the bytes --connect sends\n"
           "  --stats               print the counters on exit\n"
           "  --user NAME           once the TAP, the pcap and the trace are open, run as user\n"
           "                        NAME (and its primary group, no other groups) with no\n"
           "                        capabilities, for good\n"
           "  -v, --verbose         log to stderr (twice: every drop)\n"
           "  -h, --help            this text\n"
           "\n"
           "Decisions handed to a model:\n"
           "  --delegate KIND=MODE[,KIND=MODE]  KIND icmp|arp|tcp, MODE native (default), llm\n"
           "                        (the model answers, every proposal validated) or shadow (native\n"
           "                        answers, the model is asked and graded); repeatable\n"
           "  --on-invalid fallback|drop  an invalid proposal, a timeout or an error: send the\n"
           "                        native answer (default) or nothing\n"
           "  --prompt-format structured|raw  parsed fields in, a JSON decision out (default); or\n"
           "                        the packet's bytes in hex in, the reply's bytes out\n"
           "  --trace FILE          one JSON line per decision (time, kind, flow, verdict, action,\n"
           "                        latency, tokens, pcap frame, ...)\n"
           "%s"
           "\n"
           "  --llm-timeout also sets how long the stack waits for a proposal, plus %d ms)\n"
           "\n"
           "Signals: SIGINT/SIGTERM exit cleanly (pcap flushed); SIGUSR1 prints the counters\n"
           "(and per-kind decision accuracy and latency).\n",
           prog, sp_llm_config_usage, SP_DECISION_TIMEOUT_MARGIN_MS);
}

static int parse_chance(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0.0 && v <= 1.0))
        return -1;
    *out = v;
    return 0;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s == '-' || *s == '\0')
        return -1;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || *end || v > max)
        return -1;
    *out = v;
    return 0;
}

/* "icmp=llm,arp=shadow" */
static int parse_delegate(const char *arg, enum sp_decision_mode *modes)
{
    char buf[128];
    if (strlen(arg) >= sizeof buf)
        return -1;
    strcpy(buf, arg);
    char *save = NULL;
    int n = 0;
    for (char *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save), n++) {
        char *eq = strchr(item, '=');
        if (!eq)
            return -1;
        *eq = '\0';
        enum sp_decision_kind kind;
        if (sp_decision_kind_parse(item, &kind) < 0)
            return -1;
        const char *m = eq + 1;
        enum sp_decision_mode mode;
        if (strcmp(m, "native") == 0)
            mode = SP_DECIDE_NATIVE;
        else if (strcmp(m, "llm") == 0)
            mode = SP_DECIDE_DELEGATE;
        else if (strcmp(m, "shadow") == 0)
            mode = SP_DECIDE_SHADOW;
        else
            return -1;
        modes[kind] = mode;
    }
    return n > 0 ? 0 : -1;
}

/* sp_llm_config's messages start with "slowpath: "; main adds that itself. */
static void copy_llm_err(char *err, size_t errlen, const char *msg)
{
    if (strncmp(msg, "slowpath: ", 10) == 0)
        msg += 10;
    snprintf(err, errlen, "%s", msg);
}

int sp_options_parse(struct sp_options *o, int argc, char **argv, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->udp_echo = o->tcp_echo = o->discard = o->http = true;
    bool have_ip = false;
    uint64_t u;
    char lerr[512];
    sp_llm_config_init(&o->llm);
    optind = 1;
    opterr = 0;
    int c, li = -1;
    while ((c = getopt_long(argc, argv, ":vh", long_opts, &li)) != -1) {
        switch (c) {
        case OPT_TAP:
            o->tap = optarg;
            break;
        case OPT_REPLAY:
            if (o->nreplay == SP_MAX_REPLAY) {
                snprintf(err, errlen, "too many --replay files (at most %d)", SP_MAX_REPLAY);
                return -1;
            }
            o->replay[o->nreplay++] = optarg;
            break;
        case OPT_IP:
            if (sp_ipv4_cidr_parse(optarg, &o->ip, &o->prefix_len) < 0) {
                snprintf(err, errlen, "bad --ip '%s': expected ADDR/PREFIX such as 192.0.2.2/24", optarg);
                return -1;
            }
            have_ip = true;
            break;
        case OPT_GW:
            if (sp_ipv4_addr_parse(optarg, &o->gateway) < 0) {
                snprintf(err, errlen, "bad --gw '%s': expected an IPv4 address", optarg);
                return -1;
            }
            break;
        case OPT_MAC:
            if (sp_mac_parse(optarg, &o->mac) < 0) {
                snprintf(err, errlen, "bad --mac '%s': expected a unicast MAC such as 02:00:00:00:00:02", optarg);
                return -1;
            }
            o->mac_set = true;
            break;
        case OPT_MTU:
            if (parse_u64(optarg, 1500, &u) < 0 || u < 576) {
                snprintf(err, errlen, "bad --mtu '%s': expected 576..1500", optarg);
                return -1;
            }
            o->mtu = (uint16_t)u;
            break;
        case OPT_PCAP:
            o->pcap = optarg;
            break;
        case OPT_DROP:
        case OPT_CORRUPT:
            if (parse_chance(optarg, c == OPT_DROP ? &o->drop_chance : &o->corrupt_chance) < 0) {
                snprintf(err, errlen, "bad --%s '%s': expected a probability 0..1",
                         c == OPT_DROP ? "drop-chance" : "corrupt-chance", optarg);
                return -1;
            }
            break;
        case OPT_SEED:
            if (parse_u64(optarg, UINT64_MAX, &o->seed) < 0) {
                snprintf(err, errlen, "bad --seed '%s': expected a non-negative integer", optarg);
                return -1;
            }
            o->seed_set = true;
            break;
        case OPT_STATS:
            o->stats_on_exit = true;
            break;
        case OPT_USER:
            o->user = optarg;
            break;
        case OPT_NO_ECHO:
            o->udp_echo = o->tcp_echo = false;
            break;
        case OPT_NO_DISCARD:
            o->discard = false;
            break;
        case OPT_NO_HTTP:
            o->http = false;
            break;
        case OPT_CONNECT:
            o->connect = optarg;
            break;
        case OPT_SEND:
            o->send_file = optarg;
            break;
        case OPT_DELEGATE:
            if (parse_delegate(optarg, o->delegate) < 0) {
                snprintf(err, errlen,
                         "bad --delegate '%s': expected KIND=MODE[,KIND=MODE] with KIND icmp, arp or tcp and MODE "
                         "native, llm or shadow",
                         optarg);
                return -1;
            }
            break;
        case OPT_ON_INVALID:
            if (strcmp(optarg, "fallback") == 0)
                o->on_invalid = SP_INVALID_FALLBACK;
            else if (strcmp(optarg, "drop") == 0)
                o->on_invalid = SP_INVALID_DROP;
            else {
                snprintf(err, errlen, "bad --on-invalid '%s': expected fallback or drop", optarg);
                return -1;
            }
            break;
        case OPT_PROMPT_FORMAT:
            if (sp_llm_format_parse(optarg, &o->prompt_format) < 0) {
                snprintf(err, errlen, "bad --prompt-format '%s': expected structured or raw", optarg);
                return -1;
            }
            break;
        case OPT_TRACE:
            o->trace = optarg;
            break;
        case OPT_LLM:
            if (sp_llm_config_set(&o->llm, long_opts[li].name, optarg, lerr, sizeof lerr) < 0) {
                copy_llm_err(err, errlen, lerr);
                return -1;
            }
            break;
        case 'v':
            o->verbose++;
            break;
        case 'h':
            sp_options_usage(argv[0]);
            return 1;
        case ':':
            snprintf(err, errlen, "option '%s' needs a value", argv[optind - 1]);
            return -1;
        default:
            snprintf(err, errlen, "unknown option '%s' (try --help)", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        snprintf(err, errlen, "unexpected argument '%s' (try --help)", argv[optind]);
        return -1;
    }
    if (!o->tap == !o->nreplay) {
        snprintf(err, errlen, "give exactly one of --tap NAME or --replay FILE");
        return -1;
    }
    if (!have_ip) {
        snprintf(err, errlen, "missing --ip ADDR/PREFIX");
        return -1;
    }
    if (o->send_file && !o->connect) {
        snprintf(err, errlen, "--send needs --connect HOST:PORT");
        return -1;
    }
    for (int k = 0; k < SP_DECISION_KINDS; k++)
        if (o->delegate[k] != SP_DECIDE_NATIVE)
            o->any_delegated = true;
    /* The model is only set up (and a key only needed) when something is handed to it. */
    if (o->any_delegated && sp_llm_config_finish(&o->llm, lerr, sizeof lerr) < 0) {
        copy_llm_err(err, errlen, lerr);
        return -1;
    }
    if (!o->mac_set) {
        o->mac = (struct sp_mac){{0x02, 0x53, 0x50, (uint8_t)(o->ip >> 16), (uint8_t)(o->ip >> 8), (uint8_t)o->ip}};
    }
    return 0;
}

int sp_options_pcap_dirs(const struct sp_options *o)
{
    if (!o->pcap)
        return 0;
    return o->tap ? SP_PCAP_RX | SP_PCAP_TX : SP_PCAP_TX;
}
