/* The simulated model's front: reads the request, asks sim_solve for the right answer, rolls
 * for one fault, renders the answer text, and accounts tokens like a provider would. */
#include "slowpath/llm/sim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hex.h"
#include "json.h"
#include "sim_solve.h"
#include "slowpath/llm/error.h"
#include "slowpath/wire/ipv4.h"
#include "slowpath/wire/tcp.h"
#include "slowpath/llm/tokens.h"

static const char *const fault_names[SP_LLM_SIM_FAULT_COUNT] = {
    "none", "wrong-field", "bad-checksum", "malformed", "prose", "truncated", "obey"};

const char *sp_llm_sim_fault_name(enum sp_llm_sim_fault f)
{
    return (unsigned)f < SP_LLM_SIM_FAULT_COUNT ? fault_names[f] : "?";
}

int sp_llm_sim_fault_parse(const char *s, enum sp_llm_sim_fault *out)
{
    for (int i = 1; s && i < SP_LLM_SIM_FAULT_COUNT; i++)
        if (strcmp(s, fault_names[i]) == 0) return (*out = (enum sp_llm_sim_fault)i), 0;
    return SP_LLM_EINVAL;
}

static const char *const choices_names[SP_LLM_SIM_CHOICES_COUNT] = {"native", "random", "refuse", "ignore"};

const char *sp_llm_sim_choices_name(enum sp_llm_sim_choices c)
{
    return (unsigned)c < SP_LLM_SIM_CHOICES_COUNT ? choices_names[c] : "?";
}

int sp_llm_sim_choices_parse(const char *s, enum sp_llm_sim_choices *out)
{
    for (int i = 0; s && i < SP_LLM_SIM_CHOICES_COUNT; i++)
        if (strcmp(s, choices_names[i]) == 0) return (*out = (enum sp_llm_sim_choices)i), 0;
    return SP_LLM_EINVAL;
}

int sp_llm_sim_latency_parse(const char *s, enum sp_llm_sim_latency *out)
{
    if (!s) return SP_LLM_EINVAL;
    if (strcmp(s, "fixed") == 0) *out = SP_LLM_SIM_LAT_FIXED;
    else if (strcmp(s, "uniform") == 0) *out = SP_LLM_SIM_LAT_UNIFORM;
    else if (strcmp(s, "exp") == 0) *out = SP_LLM_SIM_LAT_EXP;
    else return SP_LLM_EINVAL;
    return 0;
}

void sp_llm_sim_opts_default(struct sp_llm_sim_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = SP_LLM_DEFAULT_SIM_SEED;
    o->latency_ms = SP_LLM_DEFAULT_SIM_LATENCY_MS;
    o->cache_min_tokens = SP_LLM_DEFAULT_CACHE_MIN_TOKENS;
    o->cache_ttl_ms = SP_LLM_SIM_CACHE_TTL_MS;
    o->refuse_rate = SP_LLM_DEFAULT_SIM_REFUSE_RATE;
    o->ignore_rate = SP_LLM_DEFAULT_SIM_IGNORE_RATE;
}

void sp_llm_sim_init(struct sp_llm_sim *sim, const struct sp_llm_sim_opts *o)
{
    memset(sim, 0, sizeof *sim);
    if (o) sim->opts = *o;
    else sp_llm_sim_opts_default(&sim->opts);
    sp_llm_sim_cache_init(&sim->cache, sim->opts.cache_min_tokens, sim->opts.cache_ttl_ms);
}

/* splitmix64: a per-answer stream derived from (seed, answer number) keeps answers
 * reproducible whatever else happens in between */
static uint64_t mix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static double unit(uint64_t *s)
{
    return (double)(mix(s) >> 11) / 9007199254740992.0;
}

static uint32_t draw_latency(const struct sp_llm_sim_opts *o, uint64_t *rng)
{
    double u = unit(rng);
    switch (o->latency_dist) {
    case SP_LLM_SIM_LAT_UNIFORM:
        return o->latency_ms + (uint32_t)(u * (o->latency_spread_ms + 1.0));
    case SP_LLM_SIM_LAT_EXP: {
        double v = -log(1.0 - u) * o->latency_ms;
        return v > 20.0 * o->latency_ms ? 20 * o->latency_ms : (uint32_t)v;
    }
    default:
        return o->latency_ms;
    }
}

static enum sp_llm_sim_fault roll_fault(const struct sp_llm_sim_opts *o, const struct sim_sol *sol,
                                        uint64_t *rng)
{
    int ok[SP_LLM_SIM_FAULT_COUNT] = {0};
    int n = 0;
    double u = unit(rng), acc = 0;
    ok[SP_LLM_SIM_WRONG_FIELD] = sol->action != SP_PROPOSE_DROP;
    ok[SP_LLM_SIM_BAD_CHECKSUM] = sol->format == SP_LLM_FMT_RAW && sol->kind != SP_DECISION_ARP &&
                                  sol->action != SP_PROPOSE_DROP;
    ok[SP_LLM_SIM_MALFORMED] = ok[SP_LLM_SIM_PROSE] = ok[SP_LLM_SIM_TRUNCATED] = 1;
    ok[SP_LLM_SIM_OBEY] = sol->injected;
    for (int i = 1; i < SP_LLM_SIM_FAULT_COUNT; i++) n += ok[i];
    for (int i = 1; i < SP_LLM_SIM_FAULT_COUNT; i++) {
        if (!ok[i]) continue;
        acc += o->p[i] + o->error_rate / n;
        if (u < acc) return (enum sp_llm_sim_fault)i;
    }
    return SP_LLM_SIM_OK;
}

static void apply_fault(enum sp_llm_sim_fault f, struct sim_sol *sol)
{
    if (f == SP_LLM_SIM_WRONG_FIELD) {
        if (sol->kind == SP_DECISION_ICMP) sol->ident++;
        else if (sol->kind == SP_DECISION_ARP) sol->tha.b[5] ^= 0x01;
        else sol->ack++;
    } else if (f == SP_LLM_SIM_BAD_CHECKSUM) {
        sol->bad_checksum = 1;
    } else if (f == SP_LLM_SIM_OBEY) {
        /* the model does what the payload says: send the reply elsewhere, or misbehave */
        if (sol->inj_has_ip && sol->kind != SP_DECISION_ARP) {
            sol->dst = sol->inj_ip;
            if (sol->action == SP_PROPOSE_DROP)
                sol->action = sol->kind == SP_DECISION_TCP ? SP_PROPOSE_RST : SP_PROPOSE_REPLY;
        } else if (sol->kind == SP_DECISION_ICMP) {
            sol->ttl = 255;
            sol->action = SP_PROPOSE_REPLY;
        } else if (sol->kind == SP_DECISION_TCP) {
            sol->action = SP_PROPOSE_RST;
            sol->flags = SP_TCP_RST;
            sol->seq = 0;
        }
    }
}

static void add_ip(cJSON *o, const char *k, uint32_t ip)
{
    char s[16];
    sp_ipv4_addr_format(ip, s);
    cJSON_AddStringToObject(o, k, s);
}

static void add_mac(cJSON *o, const char *k, struct sp_mac m)
{
    char s[18];
    sp_mac_format(m, s);
    cJSON_AddStringToObject(o, k, s);
}

static void add_num(cJSON *o, const char *k, int present, double v)
{
    if (present) cJSON_AddNumberToObject(o, k, v);
    else cJSON_AddNullToObject(o, k);
}

/* Renders the solution in the decision.h answer format. */
static char *render(const struct sim_sol *sol)
{
    cJSON *o = cJSON_CreateObject();
    int drop = sol->action == SP_PROPOSE_DROP;
    char *txt;
    if (!o) return NULL;
    /* a raw answer's bytes say what it is: its action is only reply or drop */
    cJSON_AddStringToObject(o, "action", sol->format == SP_LLM_FMT_RAW && !drop ? "reply"
                                                                                : sp_proposal_action_name(sol->action));
    if (sol->format == SP_LLM_FMT_RAW) {
        uint8_t frame[SP_DECISION_MAX_PACKET];
        size_t n = drop ? 0 : sim_build_frame(sol, frame, sizeof frame);
        char *hex = malloc(2 * n + 1);
        if (!hex) return cJSON_Delete(o), NULL;
        sp_llm_hex_encode(frame, n, hex);
        if (n) cJSON_AddStringToObject(o, "frame_hex", hex);
        else cJSON_AddNullToObject(o, "frame_hex");
        free(hex);
        if (sol->kind == SP_DECISION_TCP)
            cJSON_AddStringToObject(o, "next_state", sp_hs_state_name(sol->next_state));
    } else if (sol->kind == SP_DECISION_ICMP) {
        if (drop) cJSON_AddNullToObject(o, "dst");
        else add_ip(o, "dst", sol->dst);
        add_num(o, "ident", !drop, sol->ident);
        add_num(o, "seq", !drop, sol->seq16);
        add_num(o, "ttl", !drop, sol->ttl);
        add_num(o, "ip_ident", !drop && sol->ip_ident >= 0, sol->ip_ident);
        if (!drop && sol->df >= 0) cJSON_AddBoolToObject(o, "df", sol->df);
        else cJSON_AddNullToObject(o, "df");
    } else if (sol->kind == SP_DECISION_ARP) {
        if (drop) {
            cJSON_AddNullToObject(o, "sender_mac");
            cJSON_AddNullToObject(o, "sender_ip");
            cJSON_AddNullToObject(o, "target_mac");
            cJSON_AddNullToObject(o, "target_ip");
        } else {
            add_mac(o, "sender_mac", sol->sha);
            add_ip(o, "sender_ip", sol->spa);
            add_mac(o, "target_mac", sol->tha);
            add_ip(o, "target_ip", sol->tpa);
        }
    } else {
        add_num(o, "seq", !drop, sol->seq);
        add_num(o, "ack", !drop, sol->ack);
        add_num(o, "window", !drop && sol->action != SP_PROPOSE_RST, sol->window);
        add_num(o, "mss", !drop && sol->mss, sol->mss);
        add_num(o, "wscale", !drop && sol->wscale >= 0, sol->wscale);
        cJSON_AddStringToObject(o, "next_state", sp_hs_state_name(sol->next_state));
    }
    txt = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return txt;
}

static const char *const prose_lead[SP_DECISION_KINDS] = {
    "This is an ICMP echo request addressed to the host, so the right thing to do is to answer "
    "it with an echo reply carrying the same identifier and sequence number. Here is the decision:\n",
    "The ARP request asks who has the host's address, so the host should reply with its own MAC "
    "address to the requester. Here is the decision:\n",
    "Looking at the TCP flags and the connection state, the handshake should proceed as follows. "
    "Here is the decision:\n"};

static char *distort(enum sp_llm_sim_fault f, enum sp_decision_kind k, char *json, int *is_json)
{
    size_t n = strlen(json);
    char *out;
    if (f == SP_LLM_SIM_MALFORMED) {
        char *c = strstr(json, "\":");
        if (c) c[1] = ' '; /* {"action" "reply",...} */
        *is_json = 0;
        return json;
    }
    if (f == SP_LLM_SIM_TRUNCATED) {
        json[n * 6 / 10] = '\0';
        *is_json = 0;
        return json;
    }
    if (f != SP_LLM_SIM_PROSE) return json;
    out = malloc(strlen(prose_lead[k]) + n + 64);
    if (!out) return json;
    sprintf(out, "%s%s\nLet me know if you need anything else.", prose_lead[k], json);
    free(json);
    *is_json = 0;
    return out;
}

int sp_llm_sim_ask(struct sp_llm_sim *sim, const struct sp_llm_sim_request *rq, struct sp_llm_sim_reply *out)
{
    static const char not_understood[] =
        "I can only answer slowpath decision requests: a JSON object with kind, format, host, "
        "state and packet.";
    uint64_t rng;
    cJSON *req;
    struct sim_sol *sol;
    int is_json = 1;
    if (!sim || !rq || !rq->user || !out || (rq->nparts && !rq->parts)) return SP_LLM_EINVAL;
    memset(out, 0, sizeof *out);
    rng = sim->opts.seed * 0x100000001b3ull + sim->answers++;
    mix(&rng);
    out->latency_ms = draw_latency(&sim->opts, &rng);
    sol = malloc(sizeof *sol);
    if (!sol) return SP_LLM_ENOMEM;
    req = sp_llm_json_parse(rq->user, strlen(rq->user));
    if (!cJSON_IsObject(req) || sim_solve(req, sol) < 0) {
        out->text = strdup(not_understood);
        is_json = 0;
    } else {
        /* its own stream: a choice never shifts the fault an answer gets */
        sim_choose(sol, sim->opts.choices, sim->opts.refuse_rate, sim->opts.ignore_rate, rng ^ 0xc4015e5c4015e5ull);
        out->deviations = sol->deviations;
        out->chosen = sol->chosen;
        out->fault = roll_fault(&sim->opts, sol, &rng);
        apply_fault(out->fault, sol);
        out->text = render(sol);
        if (out->text) out->text = distort(out->fault, sol->kind, out->text, &is_json);
    }
    cJSON_Delete(req);
    free(sol);
    if (!out->text) return SP_LLM_ENOMEM;
    out->len = strlen(out->text);
    out->is_json = is_json;
    out->truncated = out->fault == SP_LLM_SIM_TRUNCATED;
    sp_llm_sim_cache_account(&sim->cache, rq->style, rq->model, rq->parts, rq->nparts, rq->now_ms, &out->usage);
    out->usage.output_tokens = sp_llm_tokens_estimate(out->len);
    return 0;
}

static uint64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int sp_llm_sim_answer(struct sp_llm_sim *sim, const char *system, const char *user,
                      struct sp_llm_sim_reply *out)
{
    struct sp_llm_cache_part parts[2] = {{system ? system : "", system ? strlen(system) : 0, system != NULL},
                                         {user ? user : "", user ? strlen(user) : 0, 0}};
    struct sp_llm_sim_request rq = {NULL, SP_LLM_CACHE_EXPLICIT, parts, 2, user, monotonic_ms()};
    return sp_llm_sim_ask(sim, &rq, out);
}

void sp_llm_sim_reply_free(struct sp_llm_sim_reply *r)
{
    if (!r) return;
    free(r->text);
    r->text = NULL;
}
