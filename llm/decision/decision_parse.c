/* Strict parser from model text straight to the stack's proposal (struct sp_decision_proposal).
 * It checks shape only (keys, JSON types, ranges, syntax of addresses and hex, with the wire
 * layer's address parsers); the stack's validator judges the content. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "hex.h"
#include "json.h"
#include "slowpath/llm/decision.h"
#include "slowpath/llm/error.h"
#include "slowpath/wire/ethernet.h"
#include "slowpath/wire/ipv4.h"

struct ctx {
    const cJSON *obj;
    struct sp_llm_decision *a;
    struct sp_decision_proposal *p;
};

static int fail(struct ctx *c, const char *field, int err)
{
    snprintf(c->a->bad_field, sizeof c->a->bad_field, "%s", field);
    return err;
}

/* The member, which must exist; NULL (and *err = 0) when it is JSON null. */
static const cJSON *member(struct ctx *c, const char *name, int *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->obj, name);
    *err = 0;
    if (!v) {
        *err = fail(c, name, SP_LLM_EMISSING_FIELD);
        return NULL;
    }
    return cJSON_IsNull(v) ? NULL : v;
}

static int get_uint(struct ctx *c, const char *name, uint64_t max, uint64_t *out)
{
    int err;
    if (!member(c, name, &err)) return err ? err : fail(c, name, SP_LLM_EMISSING_FIELD);
    if ((err = sp_llm_json_uint(c->obj, name, max, out)) < 0) return fail(c, name, err);
    return 0;
}

/* 1 when null, 0 when set, < 0 on error */
static int get_uint_nullable(struct ctx *c, const char *name, uint64_t max, uint64_t *out)
{
    int err;
    if (!member(c, name, &err)) return err ? err : 1;
    if ((err = sp_llm_json_uint(c->obj, name, max, out)) < 0) return fail(c, name, err);
    return 0;
}

/* 1 when null, 0 when set (*out 0 or 1), < 0 on error */
static int get_bool_nullable(struct ctx *c, const char *name, int *out)
{
    int err;
    const cJSON *v = member(c, name, &err);
    if (!v) return err ? err : 1;
    if (!cJSON_IsBool(v)) return fail(c, name, SP_LLM_EFIELD_TYPE);
    *out = cJSON_IsTrue(v);
    return 0;
}

static const char *get_str(struct ctx *c, const char *name, int *err)
{
    const cJSON *v = member(c, name, err);
    if (*err) return NULL;
    if (!v) {
        *err = fail(c, name, SP_LLM_EMISSING_FIELD);
        return NULL;
    }
    if (!cJSON_IsString(v)) {
        *err = fail(c, name, SP_LLM_EFIELD_TYPE);
        return NULL;
    }
    return v->valuestring;
}

static int get_ip(struct ctx *c, const char *name, uint32_t *out)
{
    int err;
    const char *s = get_str(c, name, &err);
    if (!s) return err;
    return sp_ipv4_addr_parse(s, out) == 0 ? 0 : fail(c, name, SP_LLM_EFIELD_RANGE);
}

/* Any address: which one a reply may carry is the validator's question, not the parser's. */
static int get_mac(struct ctx *c, const char *name, struct sp_mac *out)
{
    int err;
    const char *s = get_str(c, name, &err);
    if (!s) return err;
    return sp_mac_parse_any(s, out) == 0 ? 0 : fail(c, name, SP_LLM_EFIELD_RANGE);
}

static int check_keys(struct ctx *c, const char *const *allowed)
{
    const cJSON *it, *prev;
    cJSON_ArrayForEach(it, c->obj) {
        int ok = 0;
        for (const char *const *a = allowed; *a; a++)
            if (it->string && strcmp(it->string, *a) == 0) ok = 1;
        if (!ok) return fail(c, it->string ? it->string : "", SP_LLM_EUNKNOWN_FIELD);
        for (prev = c->obj->child; prev != it; prev = prev->next)
            if (strcmp(prev->string, it->string) == 0) /* duplicate key: ambiguous */
                return fail(c, it->string, SP_LLM_EUNKNOWN_FIELD);
    }
    return 0;
}

static int parse_action(struct ctx *c, enum sp_decision_kind k, enum sp_llm_format f)
{
    int err;
    const char *s = get_str(c, "action", &err);
    if (!s) return err;
    bool tcp_fields = k == SP_DECISION_TCP && f == SP_LLM_FMT_STRUCTURED;
    if (strcmp(s, "drop") == 0) c->p->action = SP_PROPOSE_DROP;
    else if (strcmp(s, "reply") == 0 && !tcp_fields) c->p->action = SP_PROPOSE_REPLY;
    else if (tcp_fields && strcmp(s, "syn_ack") == 0) c->p->action = SP_PROPOSE_SYN_ACK;
    else if (tcp_fields && strcmp(s, "ack") == 0) c->p->action = SP_PROPOSE_ACK;
    else if (tcp_fields && strcmp(s, "rst") == 0) c->p->action = SP_PROPOSE_RST;
    else return fail(c, "action", SP_LLM_EBAD_ENUM);
    return 0;
}

static int parse_next_state(struct ctx *c)
{
    int err;
    const char *s = get_str(c, "next_state", &err);
    if (!s) return err;
    if (sp_hs_state_parse(s, &c->p->next_state) < 0) return fail(c, "next_state", SP_LLM_EBAD_ENUM);
    return 0;
}

/* What a legal echo reply may choose of its IP header; null leaves it to the stack (-1). */
static int parse_icmp_ip(struct ctx *c)
{
    uint64_t v;
    int df, rc;
    if ((rc = get_uint_nullable(c, "ip_ident", 65535, &v)) < 0) return rc;
    c->p->icmp_ip_ident = rc ? -1 : (int32_t)v;
    if ((rc = get_bool_nullable(c, "df", &df)) < 0) return rc;
    c->p->icmp_df = rc ? -1 : (int8_t)df;
    return 0;
}

static int parse_icmp(struct ctx *c)
{
    uint64_t v;
    int err;
    if ((err = get_ip(c, "dst", &c->p->icmp_dst)) < 0) return err;
    if ((err = get_uint(c, "ident", 65535, &v)) < 0) return err;
    c->p->icmp_ident = (uint16_t)v;
    if ((err = get_uint(c, "seq", 65535, &v)) < 0) return err;
    c->p->icmp_seq = (uint16_t)v;
    if ((err = get_uint(c, "ttl", 255, &v)) < 0) return err;
    if (v == 0) return fail(c, "ttl", SP_LLM_EFIELD_RANGE);
    c->p->icmp_ttl = (uint8_t)v;
    return parse_icmp_ip(c);
}

static int parse_arp(struct ctx *c)
{
    int err;
    if ((err = get_mac(c, "sender_mac", &c->p->arp.sha)) < 0) return err;
    if ((err = get_ip(c, "sender_ip", &c->p->arp.spa)) < 0) return err;
    if ((err = get_mac(c, "target_mac", &c->p->arp.tha)) < 0) return err;
    return get_ip(c, "target_ip", &c->p->arp.tpa);
}

static int parse_tcp(struct ctx *c)
{
    uint64_t v = 0;
    int rc;
    if ((rc = get_uint(c, "seq", UINT32_MAX, &v)) < 0) return rc;
    c->p->tcp_seq = (uint32_t)v;
    if ((rc = get_uint(c, "ack", UINT32_MAX, &v)) < 0) return rc;
    c->p->tcp_ack = (uint32_t)v;
    if (c->p->action == SP_PROPOSE_RST) { /* a RST's window is meaningless: null allowed */
        if ((rc = get_uint_nullable(c, "window", 65535, &v)) < 0) return rc;
        c->p->tcp_window = rc ? 0 : (uint16_t)v;
    } else {
        if ((rc = get_uint(c, "window", 65535, &v)) < 0) return rc;
        c->p->tcp_window = (uint16_t)v;
    }
    if ((rc = get_uint_nullable(c, "mss", 65535, &v)) < 0) return rc;
    if (rc == 0 && v == 0) return fail(c, "mss", SP_LLM_EFIELD_RANGE);
    c->p->tcp_mss = rc ? 0 : (uint16_t)v;
    if ((rc = get_uint_nullable(c, "wscale", 14, &v)) < 0) return rc;
    c->p->tcp_wscale = rc ? -1 : (int8_t)v;
    return 0;
}

static int parse_raw(struct ctx *c)
{
    int err;
    long n;
    const char *s = get_str(c, "frame_hex", &err);
    if (!s) return err;
    n = sp_llm_hex_decode(s, c->a->raw, sizeof c->a->raw);
    if (n <= 0) return fail(c, "frame_hex", SP_LLM_EBAD_HEX);
    c->p->raw_len = (size_t)n;
    return 0;
}

static const char *const keys_icmp[] = {"action", "dst", "ident", "seq", "ttl", "ip_ident", "df", NULL};
static const char *const keys_arp[] = {"action", "sender_mac", "sender_ip", "target_mac", "target_ip", NULL};
static const char *const keys_tcp[] = {"action", "seq", "ack", "window", "mss", "wscale", "next_state", NULL};
static const char *const keys_raw[] = {"action", "frame_hex", NULL};
static const char *const keys_raw_tcp[] = {"action", "frame_hex", "next_state", NULL};

/* What an answer says before its fields are read: nothing to send, no TCP options, and for a
 * raw answer where its bytes will be. */
static void blank(struct sp_llm_decision *out, enum sp_decision_kind k, enum sp_llm_format f)
{
    memset(out, 0, sizeof *out);
    struct sp_decision_proposal *p = &out->proposal;
    p->action = SP_PROPOSE_DROP;
    p->tcp_wscale = -1;
    p->icmp_ip_ident = -1;
    p->icmp_df = -1;
    p->next_state = SP_HS_CLOSED;
    if (f == SP_LLM_FMT_RAW) {
        p->raw = true;
        p->raw_bytes = out->raw;
    } else if (k == SP_DECISION_ARP) {
        p->arp.op = SP_ARP_OP_REPLY;
    }
}

static int parse_fields(struct ctx *c, enum sp_decision_kind k, enum sp_llm_format f)
{
    bool tcp = k == SP_DECISION_TCP;
    int err;
    if (f == SP_LLM_FMT_RAW) err = check_keys(c, tcp ? keys_raw_tcp : keys_raw);
    else err = check_keys(c, k == SP_DECISION_ICMP ? keys_icmp : k == SP_DECISION_ARP ? keys_arp : keys_tcp);
    if (!err) err = parse_action(c, k, f);
    if (!err && tcp) err = parse_next_state(c);
    if (err || c->p->action == SP_PROPOSE_DROP) return err;
    if (f == SP_LLM_FMT_RAW) return parse_raw(c);
    if (k == SP_DECISION_ICMP) return parse_icmp(c);
    if (k == SP_DECISION_ARP) return parse_arp(c);
    return parse_tcp(c);
}

int sp_llm_proposal_parse(enum sp_decision_kind k, enum sp_llm_format f, const char *text, size_t len,
                          struct sp_llm_decision *out)
{
    if (!out) return SP_LLM_EINVAL;
    blank(out, k, f);
    if (!text || (unsigned)k >= SP_DECISION_KINDS || (unsigned)f >= SP_LLM_FMT_COUNT)
        return SP_LLM_EINVAL;
    cJSON *j = sp_llm_json_parse(text, len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return SP_LLM_ENOT_JSON;
    }
    struct ctx c = {.obj = j, .a = out, .p = &out->proposal};
    int err = parse_fields(&c, k, f);
    cJSON_Delete(j);
    return err;
}
