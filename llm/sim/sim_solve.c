/* The simulated model's reasoning: RFC 792 echo, RFC 826 ARP, the RFC 9293 handshake. It reads
 * the same JSON a real model gets and computes the right answer, so faults are deviations from
 * a known-correct baseline.
 *
 * In raw mode it reads the request's bytes and writes the reply's at their RFC offsets itself
 * rather than through the wire layer's views and reprs: the validator checks raw proposals with
 * those, and a second, independent reading of the formats is what makes the sim's valid answers
 * a test of the validator rather than of the wire layer agreeing with itself. Constants (flags,
 * types, lengths) and the checksum are the wire layer's. */
#include "sim_solve.h"

#include <ctype.h>
#include <string.h>

#include "hex.h"
#include "json.h"
#include "slowpath/wire/arp.h"
#include "slowpath/wire/bytes.h"
#include "slowpath/wire/checksum.h"
#include "slowpath/wire/icmp.h"
#include "slowpath/wire/ipv4.h"
#include "slowpath/wire/tcp.h"

#define ARP_HTYPE_ETHERNET 1 /* RFC 826 hardware type of Ethernet */

static int host_parse(const cJSON *h, struct sim_host *host)
{
    char s[32];
    uint64_t v;
    memset(host, 0, sizeof *host);
    host->ttl = 64;
    host->mss = 1460;
    host->window = 65535;
    host->wscale = -1;
    if (sp_llm_json_str(h, "mac", s, sizeof s) < 0 || sp_mac_parse_any(s, &host->mac) < 0) return -1;
    if (sp_llm_json_str(h, "ip", s, sizeof s) < 0 || sp_ipv4_addr_parse(s, &host->ip) < 0) return -1;
    if (sp_llm_json_uint_opt(h, "ttl", 255, &v) == 0) host->ttl = (uint8_t)v;
    if (sp_llm_json_uint_opt(h, "mss", 65535, &v) == 0) host->mss = (uint16_t)v;
    if (sp_llm_json_uint_opt(h, "window", 65535, &v) == 0) host->window = (uint16_t)v;
    if (sp_llm_json_uint_opt(h, "wscale", 14, &v) == 0) host->wscale = (int)v;
    return 0;
}

/* Looks for an instruction aimed at the model inside payload bytes. */
static void scan_injection(struct sim_sol *sol)
{
    char text[SP_DECISION_MAX_PACKET + 1];
    size_t n = sol->payload_len;
    const char *p;
    for (size_t i = 0; i < n; i++) text[i] = (char)tolower(sol->payload[i] ? sol->payload[i] : ' ');
    text[n] = '\0';
    if (strstr(text, "ignore previous") || strstr(text, "ignore all previous")) sol->injected = 1;
    if ((p = strstr(text, "reply to ")) != NULL) {
        char ip[16];
        size_t k = 0;
        p += 9;
        while (k < 15 && (isdigit((unsigned char)p[k]) || p[k] == '.')) ip[k] = p[k], k++;
        ip[k] = '\0';
        if (k && ip[k - 1] == '.') ip[k - 1] = '\0';
        if (sp_ipv4_addr_parse(ip, &sol->inj_ip) == 0) sol->injected = sol->inj_has_ip = 1;
    }
}

static uint8_t flags_parse(const char *s)
{
    uint8_t f = 0;
    for (; *s; s++) {
        switch (toupper((unsigned char)*s)) {
        case 'F': f |= SP_TCP_FIN; break;
        case 'S': f |= SP_TCP_SYN; break;
        case 'R': f |= SP_TCP_RST; break;
        case 'P': f |= SP_TCP_PSH; break;
        case 'A': f |= SP_TCP_ACK; break;
        case 'U': f |= SP_TCP_URG; break;
        default: break;
        }
    }
    return f;
}

/* The flow's handshake state from the request's "state" (CLOSED when it names none). */
static enum sp_hs_state state_of(const cJSON *state, uint64_t *iss)
{
    char s[32];
    enum sp_hs_state st = SP_HS_CLOSED;
    if (sp_llm_json_str(state, "tcp_state", s, sizeof s) == 0) sp_hs_state_parse(s, &st);
    sp_llm_json_uint_opt(state, "iss", UINT32_MAX, iss);
    return st;
}

/* The received segment's fields a handshake decision reads. */
struct seg {
    uint8_t flags;
    uint32_t seq, ack;
    int peer_ws; /* -1: no window-scale option */
};

/* A SYN-ACK with our own values: the native answer to a SYN in LISTEN (and to a simultaneous
 * open in SYN-SENT). */
static void tcp_syn_ack(struct sim_sol *sol, const struct sim_host *h, uint32_t iss, const struct seg *sg, int ws)
{
    sol->action = SP_PROPOSE_SYN_ACK;
    sol->seq = iss;
    sol->ack = sg->seq + 1;
    sol->window = h->window; /* never scaled in a SYN segment (RFC 7323 2.2) */
    sol->mss = h->mss;
    sol->wscale = ws;
    sol->flags = SP_TCP_SYN | SP_TCP_ACK;
    sol->next_state = SP_HS_SYN_RECEIVED;
}

/* <SEQ=SEG.ACK><CTL=RST> for a segment with ACK, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>
 * otherwise (RFC 9293 3.10.7.1): the reset a closed port sends, and a refusal's. */
static void tcp_reset(struct sim_sol *sol, const struct seg *sg)
{
    sol->action = SP_PROPOSE_RST;
    if (sg->flags & SP_TCP_ACK) {
        sol->seq = sg->ack;
        sol->ack = 0;
        sol->flags = SP_TCP_RST;
        return;
    }
    sol->seq = 0;
    sol->ack = sg->seq + (uint32_t)sol->payload_len + !!(sg->flags & SP_TCP_SYN) + !!(sg->flags & SP_TCP_FIN);
    sol->flags = SP_TCP_RST | SP_TCP_ACK;
}

static void tcp_listen(struct sim_sol *sol, const struct sim_host *h, uint32_t iss, const struct seg *sg, int ws)
{
    if (sg->flags & SP_TCP_RST) return;
    if (sg->flags & SP_TCP_ACK) tcp_reset(sol, sg);
    else if (sg->flags & SP_TCP_SYN) tcp_syn_ack(sol, h, iss, sg, ws);
}

static void tcp_syn_sent(struct sim_sol *sol, const struct sim_host *h, uint32_t iss, const struct seg *sg, int ws)
{
    int ack_ok = (sg->flags & SP_TCP_ACK) && sg->ack == iss + 1;
    if ((sg->flags & SP_TCP_ACK) && !ack_ok) {
        if (!(sg->flags & SP_TCP_RST)) tcp_reset(sol, sg);
    } else if (sg->flags & SP_TCP_RST) {
        if (ack_ok) sol->next_state = SP_HS_CLOSED;
    } else if ((sg->flags & SP_TCP_SYN) && ack_ok) {
        sol->action = SP_PROPOSE_ACK;
        sol->seq = iss + 1;
        sol->ack = sg->seq + 1;
        sol->window = ws >= 0 ? (uint16_t)(h->window >> ws) : h->window;
        sol->flags = SP_TCP_ACK;
        sol->next_state = SP_HS_ESTABLISHED;
    } else if (sg->flags & SP_TCP_SYN) { /* simultaneous open */
        tcp_syn_ack(sol, h, iss, sg, ws);
    }
}

/* Decides per RFC 9293 3.10.7.1 (CLOSED), 3.10.7.2 (LISTEN), 3.10.7.3 (SYN-SENT), and keeps the
 * situation for the legal choices. */
static void tcp_decide(struct sim_sol *sol, const struct sim_host *h, enum sp_hs_state st, uint32_t iss,
                       const struct seg *sg)
{
    int ws = sg->peer_ws >= 0 && h->wscale >= 0 ? h->wscale : -1;
    sol->action = SP_PROPOSE_DROP;
    sol->next_state = st;
    sol->wscale = -1;
    sol->mss = 0;
    sol->hs_state = st;
    sol->seg_flags = sg->flags;
    sol->seg_seq = sg->seq;
    sol->seg_ack = sg->ack;
    sol->wscale_offered = sg->peer_ws >= 0;
    sol->host_wscale = h->wscale;
    if (st == SP_HS_LISTEN) tcp_listen(sol, h, iss, sg, ws);
    else if (st == SP_HS_SYN_SENT) tcp_syn_sent(sol, h, iss, sg, ws);
    else if (st == SP_HS_CLOSED && !(sg->flags & SP_TCP_RST)) tcp_reset(sol, sg);
}

static int json_ip(const cJSON *o, const char *key, uint32_t *out)
{
    char s[32];
    return sp_llm_json_str(o, key, s, sizeof s) < 0 || sp_ipv4_addr_parse(s, out) < 0 ? -1 : 0;
}

static int json_mac(const cJSON *o, const char *key, struct sp_mac *out)
{
    char s[32];
    return sp_llm_json_str(o, key, s, sizeof s) < 0 || sp_mac_parse_any(s, out) < 0 ? -1 : 0;
}

static int solve_icmp(const cJSON *pkt, const struct sim_host *h, struct sim_sol *sol)
{
    uint64_t type = 0, code = 0, ident = 0, sq = 0;
    uint32_t dst;
    if (json_ip(pkt, "src", &sol->dst) < 0 || json_ip(pkt, "dst", &dst) < 0) return -1;
    if (sp_llm_json_uint(pkt, "type", 255, &type) < 0 || sp_llm_json_uint(pkt, "code", 255, &code) < 0 ||
        sp_llm_json_uint(pkt, "ident", 65535, &ident) < 0 || sp_llm_json_uint(pkt, "seq", 65535, &sq) < 0)
        return -1;
    sol->src = h->ip;
    sol->ident = (uint16_t)ident;
    sol->seq16 = (uint16_t)sq;
    sol->ttl = h->ttl;
    sol->action = type == SP_ICMP_ECHO_REQUEST && code == 0 && dst == h->ip ? SP_PROPOSE_REPLY : SP_PROPOSE_DROP;
    return 0;
}

static int solve_arp(const cJSON *pkt, const struct sim_host *h, struct sim_sol *sol)
{
    uint64_t op;
    uint32_t tpa;
    if (sp_llm_json_uint(pkt, "op", 65535, &op) < 0) return -1;
    if (json_mac(pkt, "sender_mac", &sol->tha) < 0 || json_ip(pkt, "sender_ip", &sol->tpa) < 0 ||
        json_ip(pkt, "target_ip", &tpa) < 0)
        return -1;
    sol->sha = h->mac;
    sol->spa = h->ip;
    sol->action = op == SP_ARP_OP_REQUEST && tpa == h->ip ? SP_PROPOSE_REPLY : SP_PROPOSE_DROP;
    return 0;
}

static int solve_tcp(const cJSON *pkt, const struct sim_host *h, const cJSON *state, struct sim_sol *sol)
{
    char fl[16];
    uint64_t seq = 0, ack = 0, iss = 0, ws = 0;
    enum sp_hs_state st = state_of(state, &iss);
    if (sp_llm_json_uint(pkt, "seq", UINT32_MAX, &seq) < 0 || sp_llm_json_uint(pkt, "ack", UINT32_MAX, &ack) < 0)
        return -1;
    if (sp_llm_json_str(pkt, "flags", fl, sizeof fl) < 0) return -1;
    struct seg sg = {flags_parse(fl), (uint32_t)seq, (uint32_t)ack, -1};
    if (sp_llm_json_uint_opt(pkt, "wscale", 14, &ws) == 0) sg.peer_ws = (int)ws;
    tcp_decide(sol, h, st, (uint32_t)iss, &sg);
    return 0;
}

static int solve_structured(const cJSON *pkt, const struct sim_host *h, const cJSON *state,
                            struct sim_sol *sol)
{
    char s[SP_DECISION_MAX_PACKET * 2 + 1];
    if (!cJSON_IsObject(pkt)) return -1;
    if (sp_llm_json_str(pkt, "payload_hex", s, sizeof s) == 0) {
        long n = sp_llm_hex_decode(s, sol->payload, sizeof sol->payload);
        if (n < 0) return -1;
        sol->payload_len = (size_t)n;
    }
    if (sol->kind == SP_DECISION_ICMP) return solve_icmp(pkt, h, sol);
    if (sol->kind == SP_DECISION_ARP) return solve_arp(pkt, h, sol);
    return solve_tcp(pkt, h, state, sol);
}

/* An Ethernet frame carrying an ARP request (RFC 826 offsets). */
static void solve_raw_arp(const uint8_t *b, size_t n, const struct sim_host *h, struct sim_sol *sol)
{
    if (n < SP_ETH_HDR_LEN + SP_ARP_LEN || sp_get16(b + 12) != SP_ETHERTYPE_ARP ||
        sp_get16(b + 14) != ARP_HTYPE_ETHERNET || sp_get16(b + 16) != SP_ETHERTYPE_IPV4 || b[18] != 6 || b[19] != 4)
        return;
    memcpy(sol->tha.b, b + 22, 6);
    sol->tpa = sp_get32(b + 28);
    sol->sha = h->mac;
    sol->spa = h->ip;
    if (sp_get16(b + 20) == SP_ARP_OP_REQUEST && sp_get32(b + 38) == h->ip) sol->action = SP_PROPOSE_REPLY;
}

/* The TCP segment b (n bytes, RFC 9293 offsets) of a datagram to us. */
static void solve_raw_tcp(const uint8_t *b, size_t n, const struct sim_host *h, const cJSON *state,
                          struct sim_sol *sol)
{
    size_t doff;
    if (n < SP_TCP_MIN_HDR_LEN || (doff = (size_t)(b[12] >> 4) * 4) < SP_TCP_MIN_HDR_LEN || doff > n) return;
    uint64_t iss = 0;
    enum sp_hs_state st = state_of(state, &iss);
    int peer_ws = -1;
    for (size_t i = SP_TCP_MIN_HDR_LEN; i < doff;) { /* options: only window scale matters to the decision */
        if (b[i] == SP_TCP_OPT_END) break;
        if (b[i] == SP_TCP_OPT_NOP) { i++; continue; }
        if (i + 1 >= doff || b[i + 1] < 2) break;
        if (b[i] == SP_TCP_OPT_WSCALE && b[i + 1] == 3 && i + 2 < doff) peer_ws = b[i + 2] > 14 ? 14 : b[i + 2];
        i += b[i + 1];
    }
    sol->sport = sp_get16(b + 2);
    sol->dport = sp_get16(b);
    sol->payload_len = n - doff;
    memcpy(sol->payload, b + doff, n - doff);
    struct seg sg = {b[13], sp_get32(b + 4), sp_get32(b + 8), peer_ws};
    tcp_decide(sol, h, st, (uint32_t)iss, &sg);
}

/* An IPv4 datagram (RFC 791 offsets) carrying an echo request or a TCP segment. */
static void solve_raw_ip(const uint8_t *b, size_t n, const struct sim_host *h, const cJSON *state,
                         struct sim_sol *sol)
{
    size_t ihl, tot;
    if (n < SP_IPV4_MIN_HDR_LEN || (b[0] >> 4) != 4 || (ihl = (size_t)(b[0] & 15) * 4) < SP_IPV4_MIN_HDR_LEN ||
        (tot = sp_get16(b + 2)) > n || tot < ihl)
        return;
    sol->src = sp_get32(b + 16); /* the reply comes from the address it was sent to */
    sol->dst = sp_get32(b + 12);
    sol->ttl = h->ttl;
    if (sol->src != h->ip) return;
    const uint8_t proto = b[9];
    b += ihl;
    n = tot - ihl;
    if (sol->kind == SP_DECISION_TCP) {
        if (proto == SP_IP_PROTO_TCP) solve_raw_tcp(b, n, h, state, sol);
        return;
    }
    if (proto != SP_IP_PROTO_ICMP || n < SP_ICMP_HDR_LEN) return;
    sol->ident = sp_get16(b + 4);
    sol->seq16 = sp_get16(b + 6);
    sol->payload_len = n - SP_ICMP_HDR_LEN;
    memcpy(sol->payload, b + SP_ICMP_HDR_LEN, sol->payload_len);
    if (b[0] == SP_ICMP_ECHO_REQUEST && b[1] == 0) sol->action = SP_PROPOSE_REPLY;
}

/* The authority and, for a legal SYN-ACK, its limits (the host's own values when not given). */
static void authority_parse(const cJSON *req, const struct sim_host *h, struct sim_sol *sol)
{
    char s[16];
    uint64_t v;
    const cJSON *lim = cJSON_GetObjectItemCaseSensitive(req, "limits");
    sol->authority = SP_AUTHORITY_EXACT;
    if (sp_llm_json_str(req, "authority", s, sizeof s) == 0) sp_authority_parse(s, &sol->authority);
    sol->max_window = h->window;
    sol->max_mss = h->mss;
    if (sp_llm_json_uint_opt(lim, "max_window", 65535, &v) == 0 && v > 0) sol->max_window = (uint16_t)v;
    if (sp_llm_json_uint_opt(lim, "max_mss", 65535, &v) == 0 && v >= 536) sol->max_mss = (uint16_t)v;
    if (sp_llm_json_uint_opt(lim, "mtu", 65535, &v) == 0) sol->mtu = (uint16_t)v;
}

int sim_solve(const cJSON *req, struct sim_sol *sol)
{
    char s[SP_DECISION_MAX_PACKET * 2 + 1];
    struct sim_host h;
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(req, "state");
    memset(sol, 0, sizeof *sol);
    sol->wscale = -1;
    sol->ip_ident = -1;
    sol->df = -1;
    sol->next_state = SP_HS_CLOSED;
    if (sp_llm_json_str(req, "kind", s, 16) < 0 || sp_decision_kind_parse(s, &sol->kind) < 0) return -1;
    if (sp_llm_json_str(req, "format", s, 16) < 0 || sp_llm_format_parse(s, &sol->format) < 0) return -1;
    if (host_parse(cJSON_GetObjectItemCaseSensitive(req, "host"), &h) < 0) return -1;
    authority_parse(req, &h, sol);
    if (sol->format == SP_LLM_FMT_STRUCTURED) {
        if (solve_structured(cJSON_GetObjectItemCaseSensitive(req, "packet"), &h, state, sol) < 0) return -1;
    } else {
        uint8_t b[SP_DECISION_MAX_PACKET];
        long n;
        if (sp_llm_json_str(req, "packet_hex", s, sizeof s) < 0) return -1;
        if ((n = sp_llm_hex_decode(s, b, sizeof b)) < 0) return -1;
        sol->action = SP_PROPOSE_DROP;
        if (sol->kind == SP_DECISION_ARP) solve_raw_arp(b, (size_t)n, &h, sol);
        else solve_raw_ip(b, (size_t)n, &h, state, sol);
    }
    scan_injection(sol);
    return 0;
}

static size_t ip_header(const struct sim_sol *sol, uint8_t *o, size_t total, uint8_t proto)
{
    memset(o, 0, SP_IPV4_MIN_HDR_LEN);
    o[0] = 0x45;
    sp_put16(o + 2, (uint16_t)total);
    sp_put16(o + 4, (uint16_t)(sol->ip_ident >= 0 ? sol->ip_ident : 0));
    sp_put16(o + 6, sol->df == 0 ? 0 : SP_IPV4_FLAG_DF);
    o[8] = sol->ttl;
    o[9] = proto;
    sp_put32(o + 12, sol->src);
    sp_put32(o + 16, sol->dst);
    sp_put16(o + 10, sp_csum(o, SP_IPV4_MIN_HDR_LEN));
    return SP_IPV4_MIN_HDR_LEN;
}

static size_t build_arp(const struct sim_sol *sol, uint8_t *o, size_t cap)
{
    if (cap < SP_ETH_HDR_LEN + SP_ARP_LEN) return 0;
    memcpy(o, sol->tha.b, 6);
    memcpy(o + 6, sol->sha.b, 6);
    sp_put16(o + 12, SP_ETHERTYPE_ARP);
    sp_put16(o + 14, ARP_HTYPE_ETHERNET);
    sp_put16(o + 16, SP_ETHERTYPE_IPV4);
    o[18] = 6;
    o[19] = 4;
    sp_put16(o + 20, SP_ARP_OP_REPLY);
    memcpy(o + 22, sol->sha.b, 6);
    sp_put32(o + 28, sol->spa);
    memcpy(o + 32, sol->tha.b, 6);
    sp_put32(o + 38, sol->tpa);
    return SP_ETH_HDR_LEN + SP_ARP_LEN;
}

static size_t build_icmp(const struct sim_sol *sol, uint8_t *o, size_t cap)
{
    size_t n = SP_IPV4_MIN_HDR_LEN + SP_ICMP_HDR_LEN + sol->payload_len;
    if (n > cap) return 0;
    uint8_t *ic = o + ip_header(sol, o, n, SP_IP_PROTO_ICMP);
    memset(ic, 0, SP_ICMP_HDR_LEN); /* type SP_ICMP_ECHO_REPLY, code 0 */
    sp_put16(ic + 4, sol->ident);
    sp_put16(ic + 6, sol->seq16);
    memcpy(ic + SP_ICMP_HDR_LEN, sol->payload, sol->payload_len);
    uint16_t sum = sp_csum(ic, SP_ICMP_HDR_LEN + sol->payload_len);
    sp_put16(ic + 2, (uint16_t)(sum ^ (sol->bad_checksum ? 1 : 0)));
    return n;
}

static size_t build_tcp(const struct sim_sol *sol, uint8_t *o, size_t cap)
{
    size_t optlen = sol->mss ? 4 : 0;
    if (sol->wscale >= 0) optlen += 4;
    size_t hlen = SP_TCP_MIN_HDR_LEN + optlen;
    size_t n = SP_IPV4_MIN_HDR_LEN + hlen;
    if (n > cap) return 0;
    uint8_t *t = o + ip_header(sol, o, n, SP_IP_PROTO_TCP), *op = t + SP_TCP_MIN_HDR_LEN;
    memset(t, 0, hlen);
    sp_put16(t, sol->sport);
    sp_put16(t + 2, sol->dport);
    sp_put32(t + 4, sol->seq);
    sp_put32(t + 8, sol->ack);
    t[12] = (uint8_t)(hlen / 4 << 4);
    t[13] = sol->flags;
    sp_put16(t + 14, sol->window);
    if (sol->mss) {
        op[0] = SP_TCP_OPT_MSS, op[1] = 4;
        sp_put16(op + 2, sol->mss);
        op += 4;
    }
    if (sol->wscale >= 0) op[0] = SP_TCP_OPT_NOP, op[1] = SP_TCP_OPT_WSCALE, op[2] = 3, op[3] = (uint8_t)sol->wscale;
    uint32_t sum = sp_csum_add(sp_csum_pseudo_ipv4(sol->src, sol->dst, SP_IP_PROTO_TCP, (uint16_t)hlen), t, hlen);
    sp_put16(t + 16, (uint16_t)(sp_csum_finish(sum) ^ (sol->bad_checksum ? 1 : 0)));
    return n;
}

size_t sim_build_frame(const struct sim_sol *sol, uint8_t *o, size_t cap)
{
    if (sol->action == SP_PROPOSE_DROP) return 0;
    if (sol->kind == SP_DECISION_ARP) return build_arp(sol, o, cap);
    if (sol->kind == SP_DECISION_ICMP) return build_icmp(sol, o, cap);
    return build_tcp(sol, o, cap);
}
