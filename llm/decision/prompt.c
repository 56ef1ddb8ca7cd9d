/* The user message of a decision, built from the stack's request. Written with a bounded
 * appender into a caller's buffer: no allocation per decision, and a message that would not fit
 * is an error rather than a truncated (and so different) question. */
#include "slowpath/llm/prompt.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hex.h"
#include "slowpath/llm/error.h"
#include "slowpath/wire/bytes.h"
#include "slowpath/wire/ethernet.h"
#include "slowpath/wire/ipv4.h"
#include "slowpath/wire/tcp.h"

struct out {
    char *buf;
    size_t cap, len;
    bool overflow;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    if (o->overflow)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= o->cap - o->len) {
        o->overflow = true;
        o->buf[o->len] = '\0';
        return;
    }
    o->len += (size_t)n;
}

/* Bytes as hex, straight into the buffer (a packet is up to 3 KB of hex). */
static void put_hex(struct out *o, const uint8_t *p, size_t n)
{
    if (o->overflow)
        return;
    if (o->cap - o->len < 2 * n + 1) {
        o->overflow = true;
        return;
    }
    sp_llm_hex_encode(p, n, o->buf + o->len);
    o->len += 2 * n;
}

static void ip_str(uint32_t a, char s[16]) { sp_ipv4_addr_format(a, s); }

struct sp_llm_flow_key sp_llm_flow_key_of_request(const struct sp_decision_request *req)
{
    uint8_t remote[4], local[4]; /* the cache keys flows by address bytes in network order */
    sp_put32(remote, req->flow.remote_ip);
    sp_put32(local, req->flow.local_ip);
    switch (req->kind) {
    case SP_DECISION_ARP:
        return sp_llm_flow_key_arp(remote);
    case SP_DECISION_TCP:
        return sp_llm_flow_key_tcp(remote, req->flow.remote_port, local, req->flow.local_port);
    default:
        return sp_llm_flow_key_icmp(remote, local, req->flow.remote_port);
    }
}

size_t sp_llm_flow_label(const struct sp_decision_request *req, char *buf, size_t cap)
{
    char r[16], l[16];
    struct out o = {buf, cap, 0, false};
    ip_str(req->flow.remote_ip, r);
    ip_str(req->flow.local_ip, l);
    if (req->kind == SP_DECISION_TCP)
        put(&o, "tcp %s:%u>%s:%u", r, req->flow.remote_port, l, req->flow.local_port);
    else if (req->kind == SP_DECISION_ARP)
        put(&o, "arp %s>%s", r, l);
    else
        put(&o, "icmp %s>%s id=%u", r, l, req->flow.remote_port);
    return o.len;
}

int sp_llm_prompt_state(const struct sp_decision_request *req, const struct sp_llm_flow *flow, char *buf,
                        size_t cap)
{
    struct out o = {buf, cap, 0, false};
    if (!cap)
        return SP_LLM_ETOOBIG;
    buf[0] = '\0';
    put(&o, "{");
    if (req->kind == SP_DECISION_TCP && req->hs_state == SP_HS_CLOSED) /* no connection, no ISS */
        put(&o, "\"tcp_state\":\"%s\",\"iss\":null,", sp_hs_state_name(req->hs_state));
    else if (req->kind == SP_DECISION_TCP)
        put(&o, "\"tcp_state\":\"%s\",\"iss\":%lu,", sp_hs_state_name(req->hs_state), (unsigned long)req->iss);
    if (flow) {
        char *s = sp_llm_flow_state_json(flow); /* {"summary":..,"recent":[..]} */
        if (!s)
            return SP_LLM_ENOMEM;
        put(&o, "%s", s + 1);                   /* spliced after our own keys */
        free(s);
    } else {
        put(&o, "\"summary\":\"\",\"recent\":[]}");
    }
    return o.overflow ? SP_LLM_ETOOBIG : (int)o.len;
}

static void put_host(struct out *o, const struct sp_decision_request *req)
{
    char mac[18], ip[16];
    sp_mac_format(req->our_mac, mac);
    ip_str(req->our_ip, ip);
    put(o, "\"host\":{\"mac\":\"%s\",\"ip\":\"%s\",\"ttl\":%u,", mac, ip, req->ttl);
    if (req->kind == SP_DECISION_TCP) {
        put(o, "\"mss\":%u,\"window\":%u,", req->native_mss, req->native_window);
        if (req->native_wscale >= 0)
            put(o, "\"wscale\":%d}", req->native_wscale);
        else
            put(o, "\"wscale\":null}");
    } else {
        /* Not part of an ICMP or ARP decision: null rather than a made-up number. */
        put(o, "\"mss\":null,\"window\":null,\"wscale\":null}");
    }
}

/* What a legal answer may choose that the request alone does not say: a SYN-ACK's or ACK's
 * bounds, the MTU a DF echo reply must fit. An exact answer chooses nothing, so has no limits. */
static void put_limits(struct out *o, const struct sp_decision_request *req)
{
    if (req->authority != SP_AUTHORITY_LEGAL)
        return;
    if (req->kind == SP_DECISION_TCP)
        put(o, ",\"limits\":{\"max_window\":%u,\"max_mss\":%u,\"wscale_offered\":%s}", req->max_window,
            req->max_mss, req->tcp.wscale >= 0 ? "true" : "false");
    else if (req->kind == SP_DECISION_ICMP)
        put(o, ",\"limits\":{\"mtu\":%u}", req->mtu);
}

static void tcp_flags(uint8_t f, char out[8])
{
    static const struct { uint8_t bit; char c; } order[] = {
        {SP_TCP_FIN, 'F'}, {SP_TCP_SYN, 'S'}, {SP_TCP_RST, 'R'}, {SP_TCP_PSH, 'P'}, {SP_TCP_ACK, 'A'}, {SP_TCP_URG, 'U'},
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (f & order[i].bit)
            out[n++] = order[i].c;
    out[n] = '\0';
}

static int put_structured(struct out *o, const struct sp_decision_request *req)
{
    char s[16], d[16];
    switch (req->kind) {
    case SP_DECISION_ICMP:
        ip_str(req->ip.src, s);
        ip_str(req->ip.dst, d);
        put(o, "\"packet\":{\"src\":\"%s\",\"dst\":\"%s\",\"ttl\":%u,\"type\":%u,\"code\":%u,\"ident\":%u,\"seq\":%u,"
               "\"payload_hex\":\"",
            s, d, req->ip.ttl, req->icmp.type, req->icmp.code, req->icmp.ident, req->icmp.seq);
        if (req->icmp.data_len && !req->icmp.data)
            return SP_LLM_EINVAL;
        put_hex(o, req->icmp.data, req->icmp.data_len);
        put(o, "\"}");
        return 0;
    case SP_DECISION_ARP: {
        char sm[18], tm[18];
        sp_mac_format(req->arp.sha, sm);
        sp_mac_format(req->arp.tha, tm);
        ip_str(req->arp.spa, s);
        ip_str(req->arp.tpa, d);
        put(o, "\"packet\":{\"op\":%u,\"sender_mac\":\"%s\",\"sender_ip\":\"%s\",\"target_mac\":\"%s\",\"target_ip\":\"%s\"}",
            req->arp.op, sm, s, tm, d);
        return 0;
    }
    case SP_DECISION_TCP: {
        char fl[8];
        const struct sp_tcp_repr *t = &req->tcp;
        ip_str(req->ip.src, s);
        ip_str(req->ip.dst, d);
        tcp_flags(t->flags, fl);
        put(o, "\"packet\":{\"src\":\"%s\",\"dst\":\"%s\",\"sport\":%u,\"dport\":%u,\"seq\":%lu,\"ack\":%lu,"
               "\"flags\":\"%s\",\"window\":%u,",
            s, d, t->src_port, t->dst_port, (unsigned long)t->seq, (unsigned long)t->ack, fl, t->window);
        if (t->mss)
            put(o, "\"mss\":%u,", t->mss);
        else
            put(o, "\"mss\":null,");
        if (t->wscale >= 0)
            put(o, "\"wscale\":%d,", t->wscale);
        else
            put(o, "\"wscale\":null,");
        put(o, "\"payload_hex\":\"");
        if (t->payload_len && !t->payload)
            return SP_LLM_EINVAL;
        put_hex(o, t->payload, t->payload_len);
        put(o, "\"}");
        return 0;
    }
    default:
        return SP_LLM_EINVAL;
    }
}

int sp_llm_prompt_user(const struct sp_decision_request *req, enum sp_llm_format fmt, const char *state, char *buf,
                       size_t cap)
{
    struct out o = {buf, cap, 0, false};
    if (!req || !buf || !cap || req->kind >= SP_DECISION_KINDS || fmt >= SP_LLM_FMT_COUNT)
        return SP_LLM_EINVAL;
    buf[0] = '\0';
    put(&o, "{\"kind\":\"%s\",\"format\":\"%s\",\"authority\":\"%s\",", sp_decision_kind_name(req->kind),
        sp_llm_format_name(fmt), sp_authority_name(req->authority));
    put_host(&o, req);
    put_limits(&o, req);
    put(&o, ",\"state\":%s,", state && *state ? state : "{}");
    if (fmt == SP_LLM_FMT_RAW) {
        if (!req->packet || !req->packet_len)
            return SP_LLM_EINVAL;
        put(&o, "\"packet_hex\":\"");
        put_hex(&o, req->packet, req->packet_len);
        put(&o, "\"");
    } else {
        int rc = put_structured(&o, req);
        if (rc < 0)
            return rc;
    }
    put(&o, "}");
    return o.overflow ? SP_LLM_ETOOBIG : (int)o.len;
}

size_t sp_llm_prompt_question(const struct sp_decision_request *req, char *buf, size_t cap)
{
    struct out o = {buf, cap, 0, false};
    char s[16], d[16];
    if (!cap)
        return 0;
    buf[0] = '\0';
    switch (req->kind) {
    case SP_DECISION_ICMP:
        put(&o, "echo id=%u seq=%u len=%zu", req->icmp.ident, req->icmp.seq, req->icmp.data_len);
        break;
    case SP_DECISION_ARP:
        ip_str(req->arp.tpa, d);
        ip_str(req->arp.spa, s);
        put(&o, "who-has %s tell %s", d, s);
        break;
    default: {
        char fl[8];
        tcp_flags(req->tcp.flags, fl);
        put(&o, "%s seq=%lu ack=%lu len=%zu in %s", fl, (unsigned long)req->tcp.seq, (unsigned long)req->tcp.ack,
            req->tcp.payload_len, sp_hs_state_name(req->hs_state));
        break;
    }
    }
    return o.len;
}

size_t sp_llm_prompt_answer(enum sp_decision_kind kind, const struct sp_decision_proposal *p, char *buf,
                            size_t cap)
{
    struct out o = {buf, cap, 0, false};
    char a[16], b[16], m1[18], m2[18];
    if (!cap)
        return 0;
    buf[0] = '\0';
    put(&o, "%s", sp_proposal_action_name(p->action));
    if (p->action == SP_PROPOSE_DROP) {
        /* nothing else to say */
    } else if (p->raw) {
        put(&o, " frame_hex[%zu bytes]", p->raw_len);
    } else if (kind == SP_DECISION_ICMP) {
        ip_str(p->icmp_dst, a);
        put(&o, " dst=%s ident=%u seq=%u ttl=%u", a, p->icmp_ident, p->icmp_seq, p->icmp_ttl);
        if (p->icmp_ip_ident >= 0)
            put(&o, " ip_ident=%ld", (long)p->icmp_ip_ident);
        if (p->icmp_df >= 0)
            put(&o, " df=%d", p->icmp_df);
    } else if (kind == SP_DECISION_ARP) {
        sp_mac_format(p->arp.sha, m1);
        sp_mac_format(p->arp.tha, m2);
        ip_str(p->arp.spa, a);
        ip_str(p->arp.tpa, b);
        put(&o, " %s is-at %s to %s/%s", a, m1, b, m2);
    } else {
        put(&o, " seq=%lu ack=%lu win=%u mss=%u ws=%d", (unsigned long)p->tcp_seq, (unsigned long)p->tcp_ack,
            p->tcp_window, p->tcp_mss, p->tcp_wscale);
    }
    if (kind == SP_DECISION_TCP)
        put(&o, " next=%s", sp_hs_state_name(p->next_state));
    return o.len;
}
