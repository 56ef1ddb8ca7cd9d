/* The sim's choices in legal authority. The solver gives the native answer; here the sim departs
 * from it the way a model with legal authority may: only in the fields the RFCs leave to the
 * sender, only within the limits the request gives, and refusing or ignoring only where decide.h
 * says that is an answer. What it departed in is recorded in the stack's own terms (deviation
 * bits and struct sp_decision_chosen), so a test can hold the stack's account against it. */
#include <string.h>

#include "sim_solve.h"
#include "slowpath/wire/icmp.h"
#include "slowpath/wire/ipv4.h"
#include "slowpath/wire/tcp.h"

#define MSS_MIN 536  /* RFC 9293 3.7.1: the default every host accepts */
#define WSCALE_MAX 14 /* RFC 7323 2.3 */

/* splitmix64: its own stream, so choosing never shifts the fault rolls of an answer. */
static uint64_t draw(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t below(uint64_t *s, uint32_t n) { return n ? (uint32_t)(draw(s) % n) : 0; }
static double unit(uint64_t *s) { return (double)(draw(s) >> 11) / 9007199254740992.0; }

static void depart(struct sim_sol *sol, enum sp_deviation d) { sol->deviations |= 1u << d; }

/* A SYN the host may turn away: in LISTEN (refuse or ignore) or at a closed port (ignore; its
 * native answer is the refusal already). */
static int syn_in(const struct sim_sol *sol, enum sp_hs_state st)
{
    return sol->kind == SP_DECISION_TCP && sol->hs_state == st && (sol->seg_flags & SP_TCP_SYN) &&
           !(sol->seg_flags & (SP_TCP_ACK | SP_TCP_RST));
}

static int may_ignore(const struct sim_sol *sol)
{
    if (sol->kind != SP_DECISION_TCP) return sol->action == SP_PROPOSE_REPLY;
    return (syn_in(sol, SP_HS_LISTEN) && sol->action == SP_PROPOSE_SYN_ACK) ||
           (syn_in(sol, SP_HS_CLOSED) && sol->action == SP_PROPOSE_RST);
}

/* Refusing means a RST where the native answer accepts: a SYN in LISTEN, a SYN-ACK in SYN-SENT. */
static int may_refuse(const struct sim_sol *sol)
{
    return sol->kind == SP_DECISION_TCP &&
           ((syn_in(sol, SP_HS_LISTEN) && sol->action == SP_PROPOSE_SYN_ACK) ||
            (sol->hs_state == SP_HS_SYN_SENT && sol->action == SP_PROPOSE_ACK));
}

static void ignore(struct sim_sol *sol)
{
    sol->action = SP_PROPOSE_DROP;
    if (sol->kind == SP_DECISION_TCP) sol->next_state = sol->hs_state; /* nothing happened */
    depart(sol, SP_DEVIATION_SILENCE);
}

/* The reset of RFC 9293 3.10.7: <SEQ=SEG.ACK><CTL=RST> to a SYN-ACK (the attempt is abandoned),
 * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> to a SYN (the listener stays). */
static void refuse(struct sim_sol *sol)
{
    int to_syn_ack = sol->hs_state == SP_HS_SYN_SENT;
    sol->action = SP_PROPOSE_RST;
    sol->seq = to_syn_ack ? sol->seg_ack : 0;
    sol->ack = to_syn_ack ? 0 : sol->seg_seq + 1 + (uint32_t)sol->payload_len;
    sol->flags = to_syn_ack ? SP_TCP_RST : SP_TCP_RST | SP_TCP_ACK;
    sol->window = 0;
    sol->mss = 0;
    sol->wscale = -1;
    sol->next_state = to_syn_ack ? SP_HS_CLOSED : sol->hs_state;
    depart(sol, SP_DEVIATION_ACTION);
}

/* An echo reply's IP header: any TTL that reaches the asker, any identification, either DF (set
 * only when the reply fits the MTU). A quarter of the time each of ident and DF is left to the
 * stack (null), which is an answer too. */
static void choose_icmp(struct sim_sol *sol, uint64_t *s)
{
    uint8_t native_ttl = sol->ttl;
    sol->ttl = (uint8_t)(1 + below(s, 255));
    if (sol->ttl != native_ttl) depart(sol, SP_DEVIATION_TTL);
    if (below(s, 4)) {
        sol->ip_ident = (int32_t)below(s, 65536);
        depart(sol, SP_DEVIATION_IP_IDENT);
    }
    if (below(s, 4)) {
        sol->df = (int)below(s, 2);
        /* a DF datagram is never fragmented, so it must fit the link (a reassembled ping may not) */
        if (SP_IPV4_MIN_HDR_LEN + SP_ICMP_HDR_LEN + sol->payload_len > sol->mtu) sol->df = 0;
        depart(sol, SP_DEVIATION_DF);
    }
}

/* The ACK ending our own open: its window field is ours, 1..max_window (scaled as it is). */
static void choose_ack(struct sim_sol *sol, uint64_t *s)
{
    uint16_t native_window = sol->window;
    sol->window = (uint16_t)(1 + below(s, sol->max_window ? sol->max_window : 1));
    if (sol->window != native_window) depart(sol, SP_DEVIATION_WINDOW);
}

/* A SYN-ACK's own values: any ISS, a window 1..max_window, an MSS 536..max_mss or none, and a
 * window scale 0-14 or none when the SYN offered scaling (none otherwise: RFC 7323 1.3). */
static void choose_syn_ack(struct sim_sol *sol, uint64_t *s)
{
    uint32_t native_iss = sol->seq;
    uint16_t native_window = sol->window, native_mss = sol->mss;
    int native_ws = sol->wscale;
    sol->seq = (uint32_t)draw(s);
    sol->window = (uint16_t)(1 + below(s, sol->max_window ? sol->max_window : 1));
    sol->mss = 0;
    if (below(s, 10) && sol->max_mss >= MSS_MIN) /* one in ten: no MSS option */
        sol->mss = (uint16_t)(MSS_MIN + below(s, sol->max_mss - MSS_MIN + 1u));
    sol->wscale = -1;
    if (sol->wscale_offered) {
        uint32_t w = below(s, WSCALE_MAX + 2);
        sol->wscale = w > WSCALE_MAX ? -1 : (int)w;
    }
    if (sol->seq != native_iss) depart(sol, SP_DEVIATION_ISS);
    if (sol->window != native_window) depart(sol, SP_DEVIATION_WINDOW);
    if (sol->mss != native_mss) depart(sol, SP_DEVIATION_MSS);
    if (sol->wscale != native_ws) depart(sol, SP_DEVIATION_WSCALE);
}

/* The values of what was chosen, for the fields decide.h's struct names. */
static void record(struct sim_sol *sol)
{
    struct sp_decision_chosen *c = &sol->chosen;
    memset(c, 0, sizeof *c);
    c->action = sol->action;
    c->ttl = sol->ttl;
    c->df = sol->df > 0;
    c->ip_ident = (uint16_t)(sol->ip_ident >= 0 ? sol->ip_ident : 0);
    c->iss = sol->seq;
    c->window = sol->window;
    c->mss = sol->mss;
    c->wscale = (int8_t)sol->wscale;
}

static void choose_random(struct sim_sol *sol, double refuse_rate, double ignore_rate, uint64_t *s)
{
    double u = unit(s);
    if (may_ignore(sol) && u < ignore_rate) ignore(sol);
    else if (may_refuse(sol) && u >= ignore_rate && u < ignore_rate + refuse_rate) refuse(sol);
    else if (sol->kind == SP_DECISION_ICMP && sol->action == SP_PROPOSE_REPLY) choose_icmp(sol, s);
    else if (syn_in(sol, SP_HS_LISTEN) && sol->action == SP_PROPOSE_SYN_ACK) choose_syn_ack(sol, s);
    else if (sol->hs_state == SP_HS_SYN_SENT && sol->action == SP_PROPOSE_ACK) choose_ack(sol, s);
}

void sim_choose(struct sim_sol *sol, enum sp_llm_sim_choices choices, double refuse_rate, double ignore_rate,
                uint64_t seed)
{
    uint64_t s = seed;
    sol->deviations = 0;
    if (sol->authority != SP_AUTHORITY_LEGAL) return;
    switch (choices) {
    case SP_LLM_SIM_CHOOSE_RANDOM:
        choose_random(sol, refuse_rate, ignore_rate, &s);
        break;
    case SP_LLM_SIM_CHOOSE_REFUSE:
        if (may_refuse(sol)) refuse(sol);
        break;
    case SP_LLM_SIM_CHOOSE_IGNORE:
        if (may_ignore(sol)) ignore(sol);
        break;
    default:
        break;
    }
    record(sol);
}
