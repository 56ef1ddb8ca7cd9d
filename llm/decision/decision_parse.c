/* Strict parser from model text to a typed proposal. It checks shape only (keys, JSON types,
 * ranges, syntax of addresses and hex); the validator of issue 5 judges the content. */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "netfmt.h"
#include "slowpath/llm/decision.h"
#include "slowpath/llm/error.h"

struct ctx {
    const cJSON *obj;
    struct sp_llm_proposal *p;
};

static int fail(struct ctx *c, const char *field, int err)
{
    snprintf(c->p->bad_field, sizeof c->p->bad_field, "%s", field);
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

static int get_ip(struct ctx *c, const char *name, uint8_t out[4])
{
    int err;
    const char *s = get_str(c, name, &err);
    if (!s) return err;
    return sp_llm_ip4_parse(s, out) == 0 ? 0 : fail(c, name, SP_LLM_EFIELD_RANGE);
}

static int get_mac(struct ctx *c, const char *name, uint8_t out[6])
{
    int err;
    const char *s = get_str(c, name, &err);
    if (!s) return err;
    return sp_llm_mac_parse(s, out) == 0 ? 0 : fail(c, name, SP_LLM_EFIELD_RANGE);
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

static int parse_action(struct ctx *c, enum sp_llm_kind k, enum sp_llm_format f)
{
    int err;
    const char *s = get_str(c, "action", &err);
    if (!s) return err;
    if (strcmp(s, "drop") == 0) c->p->action = SP_LLM_ACT_DROP;
    else if (strcmp(s, "reply") == 0 && (k != SP_LLM_KIND_TCP || f == SP_LLM_FMT_RAW))
        c->p->action = SP_LLM_ACT_REPLY;
    else if (k == SP_LLM_KIND_TCP && f == SP_LLM_FMT_STRUCTURED && strcmp(s, "syn_ack") == 0)
        c->p->action = SP_LLM_ACT_SYN_ACK;
    else if (k == SP_LLM_KIND_TCP && f == SP_LLM_FMT_STRUCTURED && strcmp(s, "ack") == 0)
        c->p->action = SP_LLM_ACT_ACK;
    else if (k == SP_LLM_KIND_TCP && f == SP_LLM_FMT_STRUCTURED && strcmp(s, "rst") == 0)
        c->p->action = SP_LLM_ACT_RST;
    else return fail(c, "action", SP_LLM_EBAD_ENUM);
    return 0;
}

static int parse_next_state(struct ctx *c)
{
    int err;
    const char *s = get_str(c, "next_state", &err);
    if (!s) return err;
    if (sp_llm_tcp_state_parse(s, &c->p->next_state) < 0) return fail(c, "next_state", SP_LLM_EBAD_ENUM);
    return 0;
}

static int parse_icmp(struct ctx *c)
{
    uint64_t v;
    int err;
    if ((err = get_ip(c, "dst", c->p->dst)) < 0) return err;
    if ((err = get_uint(c, "ident", 65535, &v)) < 0) return err;
    c->p->ident = (uint16_t)v;
    if ((err = get_uint(c, "seq", 65535, &v)) < 0) return err;
    c->p->seq16 = (uint16_t)v;
    if ((err = get_uint(c, "ttl", 255, &v)) < 0) return err;
    if (v == 0) return fail(c, "ttl", SP_LLM_EFIELD_RANGE);
    c->p->ttl = (uint8_t)v;
    return 0;
}

static int parse_arp(struct ctx *c)
{
    int err;
    if ((err = get_mac(c, "sender_mac", c->p->sender_mac)) < 0) return err;
    if ((err = get_ip(c, "sender_ip", c->p->sender_ip)) < 0) return err;
    if ((err = get_mac(c, "target_mac", c->p->target_mac)) < 0) return err;
    return get_ip(c, "target_ip", c->p->target_ip);
}

static int parse_tcp(struct ctx *c)
{
    uint64_t v = 0;
    int rc;
    if ((rc = get_uint(c, "seq", UINT32_MAX, &v)) < 0) return rc;
    c->p->seq = (uint32_t)v;
    if ((rc = get_uint(c, "ack", UINT32_MAX, &v)) < 0) return rc;
    c->p->ack = (uint32_t)v;
    if (c->p->action == SP_LLM_ACT_RST) { /* a RST's window is meaningless: null allowed */
        if ((rc = get_uint_nullable(c, "window", 65535, &v)) < 0) return rc;
        c->p->window = rc ? 0 : (uint16_t)v;
    } else {
        if ((rc = get_uint(c, "window", 65535, &v)) < 0) return rc;
        c->p->window = (uint16_t)v;
    }
    if ((rc = get_uint_nullable(c, "mss", 65535, &v)) < 0) return rc;
    if (rc == 0 && v == 0) return fail(c, "mss", SP_LLM_EFIELD_RANGE);
    c->p->mss = rc ? 0 : (uint16_t)v;
    if ((rc = get_uint_nullable(c, "wscale", 14, &v)) < 0) return rc;
    c->p->wscale = rc ? -1 : (int8_t)v;
    return 0;
}

static int parse_raw(struct ctx *c)
{
    int err;
    long n;
    const char *s = get_str(c, "frame_hex", &err);
    if (!s) return err;
    n = sp_llm_hex_decode(s, c->p->frame, sizeof c->p->frame);
    if (n <= 0) return fail(c, "frame_hex", SP_LLM_EBAD_HEX);
    c->p->frame_len = (size_t)n;
    return 0;
}

static const char *const keys_icmp[] = {"action", "dst", "ident", "seq", "ttl", NULL};
static const char *const keys_arp[] = {"action", "sender_mac", "sender_ip", "target_mac", "target_ip", NULL};
static const char *const keys_tcp[] = {"action", "seq", "ack", "window", "mss", "wscale", "next_state", NULL};
static const char *const keys_raw[] = {"action", "frame_hex", NULL};
static const char *const keys_raw_tcp[] = {"action", "frame_hex", "next_state", NULL};

int sp_llm_proposal_parse(enum sp_llm_kind k, enum sp_llm_format f, const char *text, size_t len,
                          struct sp_llm_proposal *out)
{
    struct ctx c;
    cJSON *j;
    int err;
    int tcp = k == SP_LLM_KIND_TCP;
    if (!out) return SP_LLM_EINVAL;
    memset(out, 0, sizeof *out);
    out->wscale = -1;
    if (!text || (unsigned)k >= SP_LLM_KIND_COUNT || (unsigned)f >= SP_LLM_FMT_COUNT)
        return SP_LLM_EINVAL;
    out->kind = k;
    out->format = f;
    j = sp_llm_json_parse(text, len);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        return SP_LLM_ENOT_JSON;
    }
    c.obj = j;
    c.p = out;
    if (f == SP_LLM_FMT_RAW) err = check_keys(&c, tcp ? keys_raw_tcp : keys_raw);
    else err = check_keys(&c, k == SP_LLM_KIND_ICMP ? keys_icmp : k == SP_LLM_KIND_ARP ? keys_arp : keys_tcp);
    if (!err) err = parse_action(&c, k, f);
    if (!err && tcp) err = parse_next_state(&c);
    if (!err && out->action != SP_LLM_ACT_DROP) {
        if (f == SP_LLM_FMT_RAW) err = parse_raw(&c);
        else if (k == SP_LLM_KIND_ICMP) err = parse_icmp(&c);
        else if (k == SP_LLM_KIND_ARP) err = parse_arp(&c);
        else err = parse_tcp(&c);
    }
    cJSON_Delete(j);
    return err;
}
