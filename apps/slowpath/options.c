#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "slowpath/device.h"
#include "slowpath/error.h"
#include "slowpath/opts.h"
#include "slowpath/wire/ipv4.h"

enum {
    OPT_TAP = 256, OPT_REPLAY, OPT_IP, OPT_GW, OPT_MAC, OPT_MTU, OPT_PCAP, OPT_DROP, OPT_CORRUPT,
    OPT_SEED, OPT_STATS, OPT_NO_OFFLOAD, OPT_NO_ECHO, OPT_NO_DISCARD, OPT_NO_HTTP, OPT_CONNECT, OPT_SEND,
    OPT_DELEGATE, OPT_ON_INVALID, OPT_PROMPT_FORMAT, OPT_TRACE, OPT_LLM, OPT_NO_SACK, OPT_NO_TIMESTAMPS,
    OPT_KEEPALIVE, OPT_AUTHORITY, OPT_USER, OPT_STAY,
    OPT_TCP_MAX_CONNS, OPT_TCP_MAX_TIMEWAIT, OPT_TCP_BACKLOG, OPT_TCP_RCVBUF, OPT_TCP_SNDBUF, OPT_TCP_MEM,
    OPT_TCP_SYNCOOKIES,
    /* the operator's side */
    OPT_LOG_FORMAT, OPT_METRICS, OPT_METRICS_ANY, OPT_PRINT_CONFIG,
    OPT_TUN,
};

static const struct option long_opts[] = {
    {"tap", required_argument, NULL, OPT_TAP},
    {"tun", required_argument, NULL, OPT_TUN},
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
    {"no-offload", no_argument, NULL, OPT_NO_OFFLOAD},
    {"no-echo", no_argument, NULL, OPT_NO_ECHO},
    {"no-discard", no_argument, NULL, OPT_NO_DISCARD},
    {"no-http", no_argument, NULL, OPT_NO_HTTP},
    {"no-sack", no_argument, NULL, OPT_NO_SACK},
    {"no-timestamps", no_argument, NULL, OPT_NO_TIMESTAMPS},
    {"connect", required_argument, NULL, OPT_CONNECT},
    {"send", required_argument, NULL, OPT_SEND},
    {"stay", no_argument, NULL, OPT_STAY},
    {"tcp-keepalive", required_argument, NULL, OPT_KEEPALIVE},
    {"tcp-max-conns", required_argument, NULL, OPT_TCP_MAX_CONNS},
    {"tcp-max-timewait", required_argument, NULL, OPT_TCP_MAX_TIMEWAIT},
    {"tcp-backlog", required_argument, NULL, OPT_TCP_BACKLOG},
    {"tcp-rcvbuf", required_argument, NULL, OPT_TCP_RCVBUF},
    {"tcp-sndbuf", required_argument, NULL, OPT_TCP_SNDBUF},
    {"tcp-mem", required_argument, NULL, OPT_TCP_MEM},
    {"tcp-syncookies", required_argument, NULL, OPT_TCP_SYNCOOKIES},
    {"delegate", required_argument, NULL, OPT_DELEGATE},
    {"on-invalid", required_argument, NULL, OPT_ON_INVALID},
    {"prompt-format", required_argument, NULL, OPT_PROMPT_FORMAT},
    {"trace", required_argument, NULL, OPT_TRACE},
    {"authority", required_argument, NULL, OPT_AUTHORITY},
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
    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
    {"metrics", required_argument, NULL, OPT_METRICS},
    {"metrics-any", no_argument, NULL, OPT_METRICS_ANY},
    {"print-config", no_argument, NULL, OPT_PRINT_CONFIG},
    {"llm-sim-choices", required_argument, NULL, OPT_LLM},
    {"llm-sim-refuse-rate", required_argument, NULL, OPT_LLM},
    {"llm-sim-ignore-rate", required_argument, NULL, OPT_LLM},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

void sp_options_usage(const char *prog)
{
    printf("usage: %s (--tap NAME | --tun NAME | --replay IN.pcap ...) --ip ADDR/PREFIX [options]\n"
           "\n"
           "A user-space TCP/IP host on a TAP device (or a TUN device, or replaying a capture).\n"
           "\n"
           "  --tap NAME            attach to TAP interface NAME (IFF_TAP, no packet info)\n"
           "  --tun NAME            attach to TUN interface NAME (IFF_TUN, no packet info): bare IP,\n"
           "                        a point-to-point link without ARP; the capture is raw IP\n"
           "  --replay FILE         take frames from a pcap as if they arrived, then exit 0;\n"
           "                        repeatable: the captures are replayed in order; link type\n"
           "                        Ethernet (1) or raw IP (12, 101, 228), one kind per run\n"
           "  --ip ADDR/PREFIX      our address, e.g. 192.0.2.2/24\n"
           "  --gw ADDR             next hop for off-link destinations (default: none)\n"
           "  --mac MAC             our MAC (default 02:53:50 + the low 24 bits of the address)\n"
           "  --mtu N               IP MTU, 576..1500 (default 1500)\n"
           "  --pcap FILE           write frames to FILE (both directions on a TAP or TUN; what\n"
           "                        we send when replaying)\n"
           "  --drop-chance P       drop each frame with probability P (0..1), both ways\n"
           "  --corrupt-chance P    flip one bit of each IPv4 datagram with probability P, both\n"
           "                        ways (what no checksum covers is left alone)\n"
           "  --seed N              seed of the fault injector and of the stack's secret\n"
           "  --no-offload          open the TAP without virtio-net offloads (TCP super-segments\n"
           "                        and partial checksums): one frame per read and write\n"
           "  --no-echo             no echo service (UDP and TCP port 7)\n"
           "  --no-discard          no discard service (TCP port 9)\n"
           "  --no-http             no HTTP status page (TCP port 80)\n"
           "  --no-sack             TCP without selective acknowledgments (RFC 2018)\n"
           "  --no-timestamps       TCP without timestamps (RFC 7323)\n"
           "  --connect HOST:PORT   open a TCP connection, send --send FILE (default: an HTTP\n"
           "                        GET), print what comes back to stdout, exit when closed\n"
           "  --send FILE           the bytes --connect sends\n"
           "  --stay                with --connect: keep running as a host once the connection\n"
           "                        is done (a failed one still exits 1)\n"
           "  --tcp-keepalive IDLE_S[,INTVL_S[,COUNT]]  TCP keepalive (RFC 1122) on the services'\n"
           "                        connections and --connect's: a probe after IDLE_S s without a\n"
           "                        segment from the peer, then every INTVL_S s (default %d); COUNT\n"
           "                        unanswered probes (default %d) reset the connection (default: off)\n"
           "\n"
           "TCP limits and sizes (BYTES may end in k, m or g: KiB, MiB, GiB):\n"
           "  --tcp-max-conns N     connections at once, TIME-WAIT not included (default %u)\n"
           "  --tcp-max-timewait N  connections remembered in TIME-WAIT, 48 bytes each (default %u)\n"
           "  --tcp-backlog N       handshakes in progress per listener (default %u)\n"
           "  --tcp-rcvbuf BYTES    receive buffer per connection, the largest window offered\n"
           "                        (default %u; %u..%u)\n"
           "  --tcp-sndbuf BYTES    send buffer per connection (default %u; same range)\n"
           "  --tcp-mem BYTES       what all connection buffers together may hold (default %llu);\n"
           "                        buffers take memory only as data fills them\n"
           "  --tcp-syncookies on|off  answer SYNs beyond a full backlog with SYN cookies\n"
           "                        (RFC 4987; default on) or drop them\n"
           "\n"
           "  --stats               print the counters on exit\n"
           "  --user NAME           once the TAP, the pcap and the trace are open, run as user\n"
           "                        NAME (and its primary group, no other groups) with no\n"
           "                        capabilities, for good\n"
           "  -v, --verbose         log to stderr (twice: every drop)\n"
           "  --log-format text|json  one event a line on stderr: text (default; under systemd with\n"
           "                        the journal's priority prefix) or JSON {\"time\",\"level\",\"msg\",...}\n"
           "  --metrics ADDR:PORT   serve Prometheus metrics at http://ADDR:PORT/metrics (loopback\n"
           "                        only, e.g. 127.0.0.1:9464; port 0: any free one, logged)\n"
           "  --metrics-any         allow --metrics on a non-loopback address\n"
           "  --print-config        print the effective configuration (never a key) and exit\n"
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
           "  --authority exact|legal  what a proposal may be: exact (default), the native answer\n"
           "                        itself; legal, any answer the RFCs allow, whose choices the stack\n"
           "                        adopts (an echo reply's TTL, IP ident and DF; a SYN-ACK's ISS,\n"
           "                        window, MSS and window scale; refusing or ignoring); a reply\n"
           "                        still goes only to the asker, from our addresses\n"
           "  --trace FILE          one JSON line per decision (time, kind, flow, verdict, action,\n"
           "                        latency, tokens, pcap frame, ...)\n"
           "%s"
           "\n"
           "  --llm-timeout also sets how long the stack waits for a proposal, plus %d ms)\n"
           "\n"
           "Signals: SIGINT/SIGTERM exit cleanly (pcap flushed); SIGUSR1 prints the counters\n"
           "(and per-kind decision accuracy and latency).\n",
           prog, SP_TCP_KEEPALIVE_INTVL_S, SP_TCP_KEEPALIVE_COUNT, SP_TCP_MAX_CONNS, SP_TCP_MAX_TIMEWAIT,
           SP_TCP_DEFAULT_BACKLOG, SP_TCP_RCV_BUF, SP_TCP_BUF_MIN, SP_TCP_BUF_MAX, SP_TCP_SND_BUF,
           (unsigned long long)SP_TCP_MEM_MAX, sp_llm_config_usage, SP_DECISION_TIMEOUT_MARGIN_MS);
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

/* "IDLE[,INTVL[,COUNT]]" in seconds; what is left out takes the defaults of opts.h. */
static int parse_keepalive(const char *arg, struct sp_options *o)
{
    uint64_t v[3] = {0, SP_TCP_KEEPALIVE_INTVL_S, SP_TCP_KEEPALIVE_COUNT};
    const uint64_t max[3] = {SP_TCP_KEEPALIVE_MAX_S, SP_TCP_KEEPALIVE_MAX_S, 255};
    char buf[64];
    size_t n = strlen(arg);
    /* strtok_r would skip empty fields: "1,,2" is refused here, not read as "1,2" */
    if (n == 0 || n >= sizeof buf || arg[0] == ',' || arg[n - 1] == ',' || strstr(arg, ",,"))
        return -1;
    strcpy(buf, arg);
    char *save = NULL, *item = strtok_r(buf, ",", &save);
    for (int i = 0; item; i++, item = strtok_r(NULL, ",", &save))
        if (i == 3 || parse_u64(item, max[i], &v[i]) < 0 || v[i] == 0)
            return -1;
    o->ka_idle_s = (uint32_t)v[0];
    o->ka_intvl_s = (uint32_t)v[1];
    o->ka_count = (uint32_t)v[2];
    return 0;
}

/* A count or a size: digits, optionally k, m or g (binary multiples), 1..max. */
static int parse_size(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s < '0' || *s > '9')
        return -1;
    unsigned long long v = strtoull(s, &end, 10);
    unsigned shift = 0;
    if (*end && !end[1]) {
        const char *units = "kKmMgG", *u = strchr(units, *end);
        if (!u)
            return -1;
        shift = 10 * (unsigned)(1 + (u - units) / 2);
        end++;
    }
    if (errno || *end || v == 0 || v > (max >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

static int parse_tcp_option(struct sp_options *o, int opt, const char *name, const char *arg, char *err,
                            size_t errlen)
{
    bool bytes = opt == OPT_TCP_RCVBUF || opt == OPT_TCP_SNDBUF || opt == OPT_TCP_MEM;
    uint64_t min = opt == OPT_TCP_RCVBUF || opt == OPT_TCP_SNDBUF ? SP_TCP_BUF_MIN : 1;
    uint64_t max = opt == OPT_TCP_MEM ? 1ull << 48 : bytes ? SP_TCP_BUF_MAX : 1u << 24;
    uint64_t v;
    if (parse_size(arg, max, &v) < 0 || v < min) {
        snprintf(err, errlen, "bad --%s '%s': expected %s%llu..%llu", name, arg,
                 bytes ? "a size in bytes (a k, m or g suffix multiplies by 2^10, 2^20, 2^30) " : "",
                 (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    switch (opt) {
    case OPT_TCP_MAX_CONNS: o->tcp.max_conns = (uint32_t)v; break;
    case OPT_TCP_MAX_TIMEWAIT: o->tcp.max_timewait = (uint32_t)v; break;
    case OPT_TCP_BACKLOG: o->tcp.backlog = (uint32_t)v; break;
    case OPT_TCP_RCVBUF: o->tcp.rcvbuf = (uint32_t)v; break;
    case OPT_TCP_SNDBUF: o->tcp.sndbuf = (uint32_t)v; break;
    default: o->tcp.mem_max = v; break;
    }
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

static void default_mac(struct sp_options *o)
{
    if (!o->mac_set)
        o->mac = (struct sp_mac){{0x02, 0x53, 0x50, (uint8_t)(o->ip >> 16), (uint8_t)(o->ip >> 8), (uint8_t)o->ip}};
}

/* --print-config shows what would run, so it asks for no device and no key: the URL and model
 * get their defaults as they would, and the key is only reported as set or not. */
static int finish_for_print(struct sp_options *o, char *err, size_t errlen)
{
    char lerr[512];
    if (!!o->tap + !!o->tun + !!o->nreplay > 1) {
        snprintf(err, errlen, "give at most one of --tap NAME, --tun NAME or --replay FILE");
        return -1;
    }
    for (int k = 0; k < SP_DECISION_KINDS; k++)
        if (o->delegate[k] != SP_DECIDE_NATIVE)
            o->any_delegated = true;
    if (sp_llm_config_resolve(&o->llm, &o->llm_url_source, lerr, sizeof lerr) < 0) {
        copy_llm_err(err, errlen, lerr);
        return -1;
    }
    default_mac(o);
    return 0;
}

int sp_options_parse(struct sp_options *o, int argc, char **argv, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->udp_echo = o->tcp_echo = o->discard = o->http = true;
    o->offload = true;
    o->tcp_sack = o->tcp_timestamps = true;
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
        case OPT_TUN:
            o->tun = optarg;
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
        case OPT_NO_OFFLOAD:
            o->offload = false;
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
        case OPT_NO_SACK:
            o->tcp_sack = false;
            break;
        case OPT_NO_TIMESTAMPS:
            o->tcp_timestamps = false;
            break;
        case OPT_CONNECT:
            o->connect = optarg;
            break;
        case OPT_SEND:
            o->send_file = optarg;
            break;
        case OPT_STAY:
            o->stay = true;
            break;
        case OPT_KEEPALIVE:
            if (parse_keepalive(optarg, o) < 0) {
                snprintf(err, errlen, "bad --tcp-keepalive '%s': expected IDLE_S[,INTVL_S[,COUNT]], seconds 1..%d "
                         "and a count 1..255", optarg, SP_TCP_KEEPALIVE_MAX_S);
                return -1;
            }
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
        case OPT_TCP_SYNCOOKIES:
            if (strcmp(optarg, "on") != 0 && strcmp(optarg, "off") != 0) {
                snprintf(err, errlen, "bad --tcp-syncookies '%s': expected on or off", optarg);
                return -1;
            }
            o->tcp.no_syncookies = strcmp(optarg, "off") == 0;
            break;
        case OPT_TCP_MAX_CONNS:
        case OPT_TCP_MAX_TIMEWAIT:
        case OPT_TCP_BACKLOG:
        case OPT_TCP_RCVBUF:
        case OPT_TCP_SNDBUF:
        case OPT_TCP_MEM:
            if (parse_tcp_option(o, c, long_opts[li].name, optarg, err, errlen) < 0)
                return -1;
            break;
        case OPT_AUTHORITY:
            if (sp_authority_parse(optarg, &o->authority) < 0) {
                snprintf(err, errlen, "bad --authority '%s': expected exact or legal", optarg);
                return -1;
            }
            break;
        case OPT_LLM:
            if (sp_llm_config_set(&o->llm, long_opts[li].name, optarg, lerr, sizeof lerr) < 0) {
                copy_llm_err(err, errlen, lerr);
                return -1;
            }
            break;
        case OPT_LOG_FORMAT:
            if (app_log_format_parse(optarg, &o->log_format) < 0) {
                snprintf(err, errlen, "bad --log-format '%s': expected text or json", optarg);
                return -1;
            }
            break;
        case OPT_METRICS:
            o->metrics = optarg;
            break;
        case OPT_METRICS_ANY:
            o->metrics_any = true;
            break;
        case OPT_PRINT_CONFIG:
            o->print_config = true;
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
    if (o->metrics && app_metrics_parse_addr(o->metrics, o->metrics_any, &o->metrics_addr, err, errlen) < 0)
        return -1;
    if (o->print_config)
        return finish_for_print(o, err, errlen);
    if (!!o->tap + !!o->tun + !!o->nreplay != 1) {
        snprintf(err, errlen, "give exactly one of --tap NAME, --tun NAME or --replay FILE");
        return -1;
    }
    if (o->tun && o->delegate[SP_DECISION_ARP] != SP_DECIDE_NATIVE) {
        snprintf(err, errlen, "--delegate arp=%s: a TUN carries no ARP, so there is no ARP decision to hand out",
                 sp_decision_mode_name(o->delegate[SP_DECISION_ARP]));
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
    if (o->stay && !o->connect) {
        snprintf(err, errlen, "--stay needs --connect HOST:PORT");
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
    default_mac(o);
    return 0;
}

int sp_options_pcap_dirs(const struct sp_options *o)
{
    if (!o->pcap)
        return 0;
    return o->tap || o->tun ? SP_PCAP_RX | SP_PCAP_TX : SP_PCAP_TX;
}
