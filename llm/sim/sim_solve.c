/* The simulated model's reasoning: RFC 792 echo, RFC 826 ARP, the RFC 9293 handshake. It reads
 * the same JSON a real model gets and computes the right answer, so faults are deviations from
 * a known-correct baseline. */
#include "sim_solve.h"

#include <ctype.h>
#include <string.h>

#include "json.h"
#include "netfmt.h"

#define F_FIN 0x01
#define F_SYN 0x02
#define F_RST 0x04
#define F_PSH 0x08
#define F_ACK 0x10
#define F_URG 0x20

static int host_parse(const cJSON *h, struct sim_host *host)
{
    char s[32];
    uint64_t v;
    memset(host, 0, sizeof *host);
    host->ttl = 64;
    host->mss = 1460;
    host->window = 65535;
    host->wscale = -1;
    if (sp_llm_json_str(h, "mac", s, sizeof s) < 0 || sp_llm_mac_parse(s, host->mac) < 0) return -1;
    if (sp_llm_json_str(h, "ip", s, sizeof s) < 0 || sp_llm_ip4_parse(s, host->ip) < 0) return -1;
    if (sp_llm_json_uint_opt(h, "ttl", 255, &v) == 0) host->ttl = (uint8_t)v;
    if (sp_llm_json_uint_opt(h, "mss", 65535, &v) == 0) host->mss = (uint16_t)v;
    if (sp_llm_json_uint_opt(h, "window", 65535, &v) == 0) host->window = (uint16_t)v;
    if (sp_llm_json_uint_opt(h, "wscale", 14, &v) == 0) host->wscale = (int)v;
    return 0;
}

/* Looks for an instruction aimed at the model inside payload bytes. */
static void scan_injection(struct sim_sol *sol)
{
    char text[SP_LLM_MAX_FRAME + 1];
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
        if (sp_llm_ip4_parse(ip, sol->inj_ip) == 0) sol->injected = sol->inj_has_ip = 1;
    }
}

static uint8_t flags_parse(const char *s)
{
    uint8_t f = 0;
    for (; *s; s++) {
        switch (toupper((unsigned char)*s)) {
        case 'F': f |= F_FIN; break;
        case 'S': f |= F_SYN; break;
        case 'R': f |= F_RST; break;
        case 'P': f |= F_PSH; break;
        case 'A': f |= F_ACK; break;
        case 'U': f |= F_URG; break;
        default: break;
        }
    }
    return f;
}

/* seg_* are the received segment's fields; decides per RFC 9293 3.10.7.2/3.10.7.3 */
static void tcp_decide(struct sim_sol *sol, const struct sim_host *h, enum sp_llm_tcp_state st,
                       uint32_t iss, uint8_t fl, uint32_t seg_seq, uint32_t seg_ack, int peer_ws)
{
    int ws = peer_ws >= 0 && h->wscale >= 0 ? h->wscale : -1;
    sol->action = SP_LLM_ACT_DROP;
    sol->next_state = st ? st : SP_LLM_TCP_CLOSED;
    sol->wscale = -1;
    sol->mss = 0;
    if (st == SP_LLM_TCP_LISTEN) {
        if (fl & F_RST) return;
        if (fl & F_ACK) {
            sol->action = SP_LLM_ACT_RST;
            sol->seq = seg_ack;
            sol->ack = 0;
            sol->flags = F_RST;
        } else if (fl & F_SYN) {
            sol->action = SP_LLM_ACT_SYN_ACK;
            sol->seq = iss;
            sol->ack = seg_seq + 1;
            sol->window = h->window; /* never scaled in a SYN segment (RFC 7323 2.2) */
            sol->mss = h->mss;
            sol->wscale = ws;
            sol->flags = F_SYN | F_ACK;
            sol->next_state = SP_LLM_TCP_SYN_RECEIVED;
        }
    } else if (st == SP_LLM_TCP_SYN_SENT) {
        int ack_ok = (fl & F_ACK) && seg_ack == iss + 1;
        if ((fl & F_ACK) && !ack_ok) {
            if (fl & F_RST) return;
            sol->action = SP_LLM_ACT_RST;
            sol->seq = seg_ack;
            sol->flags = F_RST;
        } else if (fl & F_RST) {
            if (ack_ok) sol->next_state = SP_LLM_TCP_CLOSED;
        } else if ((fl & F_SYN) && ack_ok) {
            sol->action = SP_LLM_ACT_ACK;
            sol->seq = iss + 1;
            sol->ack = seg_seq + 1;
            sol->window = ws >= 0 ? (uint16_t)(h->window >> ws) : h->window;
            sol->flags = F_ACK;
            sol->next_state = SP_LLM_TCP_ESTABLISHED;
        } else if (fl & F_SYN) { /* simultaneous open */
            sol->action = SP_LLM_ACT_SYN_ACK;
            sol->seq = iss;
            sol->ack = seg_seq + 1;
            sol->window = h->window;
            sol->mss = h->mss;
            sol->wscale = ws;
            sol->flags = F_SYN | F_ACK;
            sol->next_state = SP_LLM_TCP_SYN_RECEIVED;
        }
    }
}

static int solve_structured(const cJSON *pkt, const struct sim_host *h, const cJSON *state,
                            struct sim_sol *sol)
{
    char s[SP_LLM_MAX_FRAME * 2 + 1];
    uint64_t v, seq = 0, ack = 0, iss = 0, ws = 0;
    uint8_t dst[4];
    if (!cJSON_IsObject(pkt)) return -1;
    if (sp_llm_json_str(pkt, "payload_hex", s, sizeof s) == 0) {
        long n = sp_llm_hex_decode(s, sol->payload, sizeof sol->payload);
        if (n < 0) return -1;
        sol->payload_len = (size_t)n;
    }
    if (sol->kind == SP_LLM_KIND_ICMP) {
        uint64_t type = 0, code = 0, ident = 0, sq = 0;
        if (sp_llm_json_str(pkt, "src", s, sizeof s) < 0 || sp_llm_ip4_parse(s, sol->dst) < 0) return -1;
        if (sp_llm_json_str(pkt, "dst", s, sizeof s) < 0 || sp_llm_ip4_parse(s, dst) < 0) return -1;
        if (sp_llm_json_uint(pkt, "type", 255, &type) < 0 || sp_llm_json_uint(pkt, "code", 255, &code) < 0 ||
            sp_llm_json_uint(pkt, "ident", 65535, &ident) < 0 || sp_llm_json_uint(pkt, "seq", 65535, &sq) < 0)
            return -1;
        memcpy(sol->src, h->ip, 4);
        sol->ident = (uint16_t)ident;
        sol->seq16 = (uint16_t)sq;
        sol->ttl = h->ttl;
        sol->action = type == 8 && code == 0 && memcmp(dst, h->ip, 4) == 0 ? SP_LLM_ACT_REPLY : SP_LLM_ACT_DROP;
    } else if (sol->kind == SP_LLM_KIND_ARP) {
        uint8_t tpa[4];
        if (sp_llm_json_uint(pkt, "op", 65535, &v) < 0) return -1;
        if (sp_llm_json_str(pkt, "sender_mac", s, sizeof s) < 0 || sp_llm_mac_parse(s, sol->tha) < 0) return -1;
        if (sp_llm_json_str(pkt, "sender_ip", s, sizeof s) < 0 || sp_llm_ip4_parse(s, sol->tpa) < 0) return -1;
        if (sp_llm_json_str(pkt, "target_ip", s, sizeof s) < 0 || sp_llm_ip4_parse(s, tpa) < 0) return -1;
        memcpy(sol->sha, h->mac, 6);
        memcpy(sol->spa, h->ip, 4);
        sol->action = v == 1 && memcmp(tpa, h->ip, 4) == 0 ? SP_LLM_ACT_REPLY : SP_LLM_ACT_DROP;
    } else {
        enum sp_llm_tcp_state st = SP_LLM_TCP_NONE;
        if (sp_llm_json_str(state, "tcp_state", s, 32) == 0) sp_llm_tcp_state_parse(s, &st);
        sp_llm_json_uint_opt(state, "iss", UINT32_MAX, &iss);
        if (sp_llm_json_uint(pkt, "seq", UINT32_MAX, &seq) < 0 || sp_llm_json_uint(pkt, "ack", UINT32_MAX, &ack) < 0)
            return -1;
        if (sp_llm_json_str(pkt, "flags", s, 16) < 0) return -1;
        int peer_ws = sp_llm_json_uint_opt(pkt, "wscale", 14, &ws) == 0 ? (int)ws : -1;
        tcp_decide(sol, h, st, (uint32_t)iss, flags_parse(s), (uint32_t)seq, (uint32_t)ack, peer_ws);
    }
    return 0;
}

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static int solve_raw(const uint8_t *b, size_t n, const struct sim_host *h, const cJSON *state,
                     struct sim_sol *sol)
{
    sol->action = SP_LLM_ACT_DROP;
    if (sol->kind == SP_LLM_KIND_ARP) {
        /* Ethernet II + ARP for IPv4 over Ethernet */
        if (n < 42 || rd16(b + 12) != 0x0806 || rd16(b + 14) != 1 || rd16(b + 16) != 0x0800 ||
            b[18] != 6 || b[19] != 4)
            return 0;
        memcpy(sol->tha, b + 22, 6);
        memcpy(sol->tpa, b + 28, 4);
        memcpy(sol->sha, h->mac, 6);
        memcpy(sol->spa, h->ip, 4);
        if (rd16(b + 20) == 1 && memcmp(b + 38, h->ip, 4) == 0) sol->action = SP_LLM_ACT_REPLY;
        return 0;
    }
    size_t ihl, tot;
    if (n < 20 || (b[0] >> 4) != 4 || (ihl = (size_t)(b[0] & 15) * 4) < 20 ||
        (tot = rd16(b + 2)) > n || tot < ihl)
        return 0;
    memcpy(sol->src, b + 16, 4); /* the reply comes from the address it was sent to */
    memcpy(sol->dst, b + 12, 4);
    sol->ttl = h->ttl;
    if (memcmp(b + 16, h->ip, 4) != 0) return 0;
    const uint8_t proto = b[9];
    b += ihl;
    n = tot - ihl;
    if (sol->kind == SP_LLM_KIND_ICMP) {
        if (proto != 1 || n < 8) return 0;
        sol->ident = rd16(b + 4);
        sol->seq16 = rd16(b + 6);
        sol->payload_len = n - 8;
        memcpy(sol->payload, b + 8, n - 8);
        if (b[0] == 8 && b[1] == 0) sol->action = SP_LLM_ACT_REPLY;
        return 0;
    }
    size_t doff;
    if (proto != 6 || n < 20 || (doff = (size_t)(b[12] >> 4) * 4) < 20 || doff > n) return 0;
    char s[32];
    enum sp_llm_tcp_state st = SP_LLM_TCP_NONE;
    uint64_t iss = 0;
    int peer_ws = -1;
    if (sp_llm_json_str(state, "tcp_state", s, sizeof s) == 0) sp_llm_tcp_state_parse(s, &st);
    sp_llm_json_uint_opt(state, "iss", UINT32_MAX, &iss);
    for (size_t i = 20; i < doff;) { /* options: only window scale matters to the decision */
        if (b[i] == 0) break;
        if (b[i] == 1) { i++; continue; }
        if (i + 1 >= doff || b[i + 1] < 2) break;
        if (b[i] == 3 && b[i + 1] == 3 && i + 2 < doff) peer_ws = b[i + 2] > 14 ? 14 : b[i + 2];
        i += b[i + 1];
    }
    sol->sport = rd16(b + 2);
    sol->dport = rd16(b);
    sol->payload_len = n - doff;
    memcpy(sol->payload, b + doff, n - doff);
    tcp_decide(sol, h, st, (uint32_t)iss, b[13], rd32(b + 4), rd32(b + 8), peer_ws);
    if (sol->action != SP_LLM_ACT_DROP) sol->action = SP_LLM_ACT_REPLY; /* raw has reply|drop */
    return 0;
}

int sim_solve(const cJSON *req, struct sim_sol *sol)
{
    char s[SP_LLM_MAX_FRAME * 2 + 1];
    struct sim_host h;
    const cJSON *state = cJSON_GetObjectItemCaseSensitive(req, "state");
    memset(sol, 0, sizeof *sol);
    sol->wscale = -1;
    if (sp_llm_json_str(req, "kind", s, 16) < 0 || sp_llm_kind_parse(s, &sol->kind) < 0) return -1;
    if (sp_llm_json_str(req, "format", s, 16) < 0 || sp_llm_format_parse(s, &sol->format) < 0) return -1;
    if (host_parse(cJSON_GetObjectItemCaseSensitive(req, "host"), &h) < 0) return -1;
    if (sol->format == SP_LLM_FMT_STRUCTURED) {
        if (solve_structured(cJSON_GetObjectItemCaseSensitive(req, "packet"), &h, state, sol) < 0) return -1;
    } else {
        static const size_t cap = SP_LLM_MAX_FRAME;
        uint8_t b[SP_LLM_MAX_FRAME];
        long n;
        if (sp_llm_json_str(req, "packet_hex", s, sizeof s) < 0) return -1;
        if ((n = sp_llm_hex_decode(s, b, cap)) < 0) return -1;
        if (solve_raw(b, (size_t)n, &h, state, sol) < 0) return -1;
    }
    scan_injection(sol);
    return 0;
}

static void wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void wr32(uint8_t *p, uint32_t v) { wr16(p, (uint16_t)(v >> 16)); wr16(p + 2, (uint16_t)v); }

static size_t ip_header(const struct sim_sol *sol, uint8_t *o, size_t total, uint8_t proto)
{
    memset(o, 0, 20);
    o[0] = 0x45;
    wr16(o + 2, (uint16_t)total);
    wr16(o + 6, 0x4000); /* DF */
    o[8] = sol->ttl;
    o[9] = proto;
    memcpy(o + 12, sol->src, 4);
    memcpy(o + 16, sol->dst, 4);
    wr16(o + 10, sp_llm_csum(o, 20, 0));
    return 20;
}

size_t sim_build_frame(const struct sim_sol *sol, uint8_t *o, size_t cap)
{
    if (sol->action == SP_LLM_ACT_DROP) return 0;
    if (sol->kind == SP_LLM_KIND_ARP) {
        if (cap < 42) return 0;
        memcpy(o, sol->tha, 6);
        memcpy(o + 6, sol->sha, 6);
        wr16(o + 12, 0x0806);
        wr16(o + 14, 1);
        wr16(o + 16, 0x0800);
        o[18] = 6;
        o[19] = 4;
        wr16(o + 20, 2);
        memcpy(o + 22, sol->sha, 6);
        memcpy(o + 28, sol->spa, 4);
        memcpy(o + 32, sol->tha, 6);
        memcpy(o + 38, sol->tpa, 4);
        return 42;
    }
    if (sol->kind == SP_LLM_KIND_ICMP) {
        size_t n = 28 + sol->payload_len;
        if (n > cap) return 0;
        ip_header(sol, o, n, 1);
        uint8_t *ic = o + 20;
        memset(ic, 0, 8);
        wr16(ic + 4, sol->ident);
        wr16(ic + 6, sol->seq16);
        memcpy(ic + 8, sol->payload, sol->payload_len);
        wr16(ic + 2, (uint16_t)(sp_llm_csum(ic, 8 + sol->payload_len, 0) ^ (sol->bad_checksum ? 1 : 0)));
        return n;
    }
    size_t optlen = sol->mss ? 4 : 0;
    if (sol->wscale >= 0) optlen += 4;
    size_t n = 40 + optlen;
    if (n > cap) return 0;
    ip_header(sol, o, n, 6);
    uint8_t *t = o + 20, *op = t + 20;
    memset(t, 0, 20 + optlen);
    wr16(t, sol->sport);
    wr16(t + 2, sol->dport);
    wr32(t + 4, sol->seq);
    wr32(t + 8, sol->ack);
    t[12] = (uint8_t)((20 + optlen) / 4 << 4);
    t[13] = sol->flags;
    wr16(t + 14, sol->window);
    if (sol->mss) {
        op[0] = 2, op[1] = 4;
        wr16(op + 2, sol->mss);
        op += 4;
    }
    if (sol->wscale >= 0) op[0] = 1, op[1] = 3, op[2] = 3, op[3] = (uint8_t)sol->wscale;
    uint8_t pseudo[12];
    memcpy(pseudo, sol->src, 4);
    memcpy(pseudo + 4, sol->dst, 4);
    pseudo[8] = 0;
    pseudo[9] = 6;
    wr16(pseudo + 10, (uint16_t)(20 + optlen));
    uint32_t sum = sp_llm_csum_partial(pseudo, 12, 0);
    wr16(t + 16, (uint16_t)(sp_llm_csum(t, 20 + optlen, sum) ^ (sol->bad_checksum ? 1 : 0)));
    return n;
}
