/* A packetdrill script interpreter for slowpath's TCP, in virtual time. One script is parsed into
 * events (system calls, inbound `<` and expected outbound `>` segments); the runner feeds inbound
 * segments to sp_tcp_input, maps the system calls onto the callback API and checks every segment
 * the stack emits (captured through the TCP output hook) against the next `>` line.
 * Relaxed matching (the shared README): flags, relative seq/ack and payload length exactly;
 * window and options only in strict mode. Backtick shell lines, %{ }% assertions and socket
 * options are ignored (counted). Header-only: each test program links itself alone. */
#ifndef SP_TEST_PACKETDRILL_H
#define SP_TEST_PACKETDRILL_H

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slowpath/device.h"
#include "slowpath/error.h"
#include "slowpath/iface.h"
#include "slowpath/tcp.h"
#include "tcp_internal.h"

#define PD_US_IP 0xc0000202u     /* 192.0.2.2: slowpath */
#define PD_PEER_IP 0xc0000201u   /* 192.0.2.1: the script's remote end */
#define PD_LOCAL_PORT 8080       /* packetdrill binds the local socket here */
#define PD_PEER_PORT 40000
#define PD_PEER_ISN 1000000u     /* the remote ISN; script seq numbers are relative to it */
#define PD_T0 10000u             /* virtual ms at script time 0 */
#define PD_MAX_OUT 512
#define PD_MAX_FD 16
#define PD_MAX_ACCEPT 8

/* --- the script -------------------------------------------------------------------------------- */

enum pd_kind { PD_INBOUND, PD_OUTBOUND, PD_ICMP, PD_SYSCALL, PD_IGNORED };

struct pd_pkt {
    uint8_t flags;
    uint32_t seq, len, ack;
    bool has_ack, has_win, any_opts;
    uint32_t win;
    uint16_t mss;          /* 0: none */
    int wscale;            /* -1: none */
    bool sack_perm, ts;
    uint32_t ts_val, ts_ecr;
    uint8_t icmp_type, icmp_code;
    uint16_t icmp_mtu;
};

struct pd_event {
    int line;
    enum pd_kind kind;
    long time_us;
    struct pd_pkt pkt;
    char name[24];         /* syscall */
    char args[160];
    long ret;
    bool has_ret;
};

struct pd_script {
    long tolerance_us;
    int nevents;
    struct pd_event ev[256];
    char err[200];
};

static inline const char *pd_skip(const char *p)
{
    while (*p == ' ' || *p == '\t')
        p++;
    return p;
}

static inline bool pd_word(const char **pp, const char *w)
{
    size_t n = strlen(w);
    if (strncmp(*pp, w, n) != 0)
        return false;
    *pp = pd_skip(*pp + n);
    return true;
}

static inline int pd_flags(const char *tok, uint8_t *out)
{
    uint8_t f = 0;
    for (const char *c = tok; *c; c++) {
        switch (*c) {
        case 'S': f |= SP_TCP_SYN; break;
        case 'F': f |= SP_TCP_FIN; break;
        case 'R': f |= SP_TCP_RST; break;
        case 'P': f |= SP_TCP_PSH; break;
        case '.': f |= SP_TCP_ACK; break;
        case 'U': f |= SP_TCP_URG; break;
        case 'E': f |= SP_TCP_ECE; break;
        case 'W': f |= SP_TCP_CWR; break;
        case '-': break;
        default: return -1;
        }
    }
    *out = f;
    return 0;
}

/* <mss 1460,sackOK,nop,wscale 7,TS val 1 ecr 0,eol,sack 1:4001> or <...> */
static inline int pd_options(const char *p, struct pd_pkt *k)
{
    if (strncmp(p, "...", 3) == 0) {
        k->any_opts = true;
        return 0;
    }
    while (*p && *p != '>') {
        p = pd_skip(p);
        if (pd_word(&p, "mss"))
            k->mss = (uint16_t)strtoul(p, (char **)&p, 10);
        else if (pd_word(&p, "wscale"))
            k->wscale = (int)strtol(p, (char **)&p, 10);
        else if (pd_word(&p, "sackOK"))
            k->sack_perm = true;
        else if (pd_word(&p, "TS val")) {
            k->ts = true;
            k->ts_val = (uint32_t)strtoul(p, (char **)&p, 10);
            p = pd_skip(p);
            if (pd_word(&p, "ecr"))
                k->ts_ecr = (uint32_t)strtoul(p, (char **)&p, 10);
        } else if (pd_word(&p, "sack")) {
            /* SACK blocks: slowpath does not implement SACK, the blocks are not sent */
            while (*p && *p != ',' && *p != '>')
                p++;
        } else if (!pd_word(&p, "nop") && !pd_word(&p, "eol"))
            return -1;
        p = pd_skip(p);
        if (*p == ',')
            p++;
    }
    return 0;
}

struct pd_name {
    const char *name;
    int value;
};
static const struct pd_name pd_icmp_types[] = {
    {"echo_reply", 0}, {"unreachable", 3}, {"source_quench", 4}, {"redirect", 5}, {"echo_request", 8},
    {"time_exceeded", 11}, {"parameter_problem", 12}, {"timestamp_request", 13}, {"timestamp_reply", 14},
    {"information_request", 15}, {"information_reply", 16}, {"address_mask_request", 17},
    {"address_mask_reply", 18}, {NULL, 0}};
static const struct pd_name pd_unreach_codes[] = {
    {"net_unreachable", 0}, {"host_unreachable", 1}, {"protocol_unreachable", 2}, {"port_unreachable", 3},
    {"frag_needed", 4}, {"source_route_failed", 5}, {"net_unknown", 6}, {"host_unknown", 7},
    {"source_host_isolated", 8}, {"net_prohibited", 9}, {"host_prohibited", 10},
    {"net_unreachable_for_tos", 11}, {"host_unreachable_for_tos", 12}, {"packet_filtered", 13},
    {"precedence_violation", 14}, {"precedence_cutoff", 15}, {NULL, 0}};

static inline int pd_lookup(const struct pd_name *t, const char *tok, const char *num_prefix)
{
    for (; t->name; t++)
        if (strcmp(t->name, tok) == 0)
            return t->value;
    size_t n = strlen(num_prefix);
    if (strncmp(tok, num_prefix, n) == 0 && isdigit((unsigned char)tok[n]))
        return atoi(tok + n);
    return -1;
}

/* `icmp unreachable frag_needed mtu 1234`, `icmp echo_reply`, `icmp type_1 code_0` */
static inline int pd_parse_icmp(const char *p, struct pd_pkt *k)
{
    char t1[40] = "", t2[40] = "";
    unsigned mtu = 0;
    int n = sscanf(p, "%39s %39s mtu %u", t1, t2, &mtu);
    int type = pd_lookup(pd_icmp_types, t1, "type_");
    if (n < 1 || type < 0 || type > 255)
        return -1;
    int code = 0;
    if (n >= 2 && t2[0])
        code = pd_lookup(pd_unreach_codes, t2, "code_");
    if (code < 0 || code > 255)
        return -1;
    k->icmp_type = (uint8_t)type;
    k->icmp_code = (uint8_t)code;
    k->icmp_mtu = (uint16_t)mtu;
    return 0;
}

/* `S. 0:0(0) ack 1 win 65535 <mss 1460>` */
static inline int pd_parse_pkt(const char *p, struct pd_pkt *k)
{
    char tok[16];
    int used = 0;
    memset(k, 0, sizeof *k);
    k->wscale = -1;
    if (sscanf(p, "%15s%n", tok, &used) != 1 || pd_flags(tok, &k->flags) < 0)
        return -1;
    p = pd_skip(p + used);
    unsigned long start, end, len;
    if (sscanf(p, "%lu:%lu(%lu)%n", &start, &end, &len, &used) != 3 || end - start != len)
        return -1;
    k->seq = (uint32_t)start;
    k->len = (uint32_t)len;
    p = pd_skip(p + used);
    while (*p) {
        if (pd_word(&p, "ack")) {
            k->has_ack = true;
            k->ack = (uint32_t)strtoul(p, (char **)&p, 10);
        } else if (pd_word(&p, "win")) {
            k->has_win = true;
            k->win = (uint32_t)strtoul(p, (char **)&p, 10);
        } else if (*p == '<') {
            if (pd_options(p + 1, k) < 0)
                return -1;
            break;
        } else
            return -1;
        p = pd_skip(p);
    }
    return 0;
}

/* `name(args) = ret [ERRNO (text)]` */
static inline int pd_parse_syscall(const char *p, struct pd_event *e)
{
    size_t n = 0;
    while (isalnum((unsigned char)p[n]) || p[n] == '_')
        n++;
    if (n == 0 || n >= sizeof e->name || p[n] != '(')
        return -1;
    memcpy(e->name, p, n);
    e->name[n] = 0;
    const char *a = p + n + 1;
    int depth = 1;
    const char *q = a;
    for (; *q && depth; q++)
        depth += (*q == '(' || *q == '[' || *q == '{') - (*q == ')' || *q == ']' || *q == '}');
    if (depth)
        return -1;
    size_t alen = (size_t)(q - 1 - a);
    if (alen >= sizeof e->args)
        alen = sizeof e->args - 1;
    memcpy(e->args, a, alen);
    e->args[alen] = 0;
    q = pd_skip(q);
    if (*q == '=') {
        e->has_ret = true;
        e->ret = strtol(pd_skip(q + 1), NULL, 0);
    }
    return 0;
}

static inline long pd_parse_time(const char **pp, long prev_us, bool *ok)
{
    const char *p = *pp;
    bool rel = *p == '+';
    if (rel)
        p++;
    char *end;
    double s = strtod(p, &end);
    *ok = end != p;
    if (strncmp(end, "...", 3) == 0) /* a range (blocking call): its start */
        (void)strtod(end + 3, &end);
    *pp = pd_skip(end);
    long us = (long)(s * 1e6 + (s >= 0 ? 0.5 : -0.5));
    return rel ? prev_us + us : us;
}

/* Strips comments, reads options and events. 0, or -1 with s->err. */
static inline int pd_parse(const char *text, struct pd_script *s)
{
    memset(s, 0, sizeof *s);
    s->tolerance_us = 4000; /* packetdrill's default */
    long prev = 0;
    int lineno = 0;
    bool in_block = false;
    const char *p = text;
    char line[512];
    while (*p) {
        size_t n = strcspn(p, "\n");
        lineno++;
        size_t m = n < sizeof line - 1 ? n : sizeof line - 1;
        memcpy(line, p, m);
        line[m] = 0;
        p += n + (p[n] == '\n');
        /* block and line comments */
        char *c = line;
        char clean[512];
        size_t k = 0;
        while (*c) {
            if (in_block) {
                if (c[0] == '*' && c[1] == '/') {
                    in_block = false;
                    c += 2;
                } else
                    c++;
            } else if (c[0] == '/' && c[1] == '*') {
                in_block = true;
                c += 2;
            } else if (c[0] == '/' && c[1] == '/')
                break;
            else
                clean[k++] = *c++;
        }
        clean[k] = 0;
        const char *q = pd_skip(clean);
        if (!*q)
            continue;
        if (q[0] == '-' && q[1] == '-') {
            if (strncmp(q, "--tolerance_usecs=", 18) == 0)
                s->tolerance_us = atol(q + 18);
            continue;
        }
        if (s->nevents >= (int)(sizeof s->ev / sizeof s->ev[0])) {
            snprintf(s->err, sizeof s->err, "line %d: too many events", lineno);
            return -1;
        }
        struct pd_event *e = &s->ev[s->nevents];
        memset(e, 0, sizeof *e);
        e->line = lineno;
        bool ok;
        e->time_us = pd_parse_time(&q, prev, &ok);
        if (!ok) {
            snprintf(s->err, sizeof s->err, "line %d: no time: %s", lineno, q);
            return -1;
        }
        prev = e->time_us;
        int r = 0;
        if (*q == '`' || (q[0] == '%' && q[1] == '{'))
            e->kind = PD_IGNORED; /* shell commands and Python assertions of the original OS */
        else if (*q == '<' && strncmp(pd_skip(q + 1), "icmp", 4) == 0) {
            e->kind = PD_ICMP;
            r = pd_parse_icmp(pd_skip(pd_skip(q + 1) + 4), &e->pkt);
        } else if (*q == '<' || *q == '>') {
            e->kind = *q == '<' ? PD_INBOUND : PD_OUTBOUND;
            r = pd_parse_pkt(pd_skip(q + 1), &e->pkt);
        } else {
            e->kind = PD_SYSCALL;
            r = pd_parse_syscall(q, e);
        }
        if (r < 0) {
            snprintf(s->err, sizeof s->err, "line %d: cannot parse: %s", lineno, q);
            return -1;
        }
        s->nevents++;
    }
    return 0;
}

#endif
