/* Private: the simulated model's reasoning. Turns a decision request into the correct answer
 * (struct sim_sol), and a solution into reply bytes for raw mode. It speaks the stack's
 * vocabulary (kinds, actions, handshake states, addresses in host order) but reads and writes
 * the raw bytes itself: see sim_build_frame. */
#ifndef SP_LLM_SIM_SOLVE_H
#define SP_LLM_SIM_SOLVE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "slowpath/decide.h"
#include "slowpath/llm/decision.h"
#include "slowpath/llm/sim.h"
#include "slowpath/wire/ethernet.h"

struct sim_host {
    struct sp_mac mac;
    uint32_t ip;
    uint8_t ttl;
    uint16_t mss, window;
    int wscale; /* -1: none */
};

struct sim_sol {
    enum sp_decision_kind kind;
    enum sp_llm_format format;
    enum sp_authority authority;   /* as the request says (exact when it does not) */
    enum sp_proposal_action action; /* raw answers say "reply" for any action but drop */
    /* icmp / ip */
    uint32_t src, dst;
    uint8_t ttl;
    int32_t ip_ident;              /* -1: the stack's own (structured null; raw 0) */
    int df;                        /* -1: the stack's own (structured null; raw set) */
    uint16_t ident, seq16;
    uint8_t payload[SP_DECISION_MAX_PACKET];
    size_t payload_len;
    /* arp */
    struct sp_mac sha, tha;
    uint32_t spa, tpa;
    /* tcp */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint16_t window, mss;
    int wscale;
    uint8_t flags; /* SP_TCP_* */
    enum sp_hs_state next_state;
    /* tcp: the situation, for choices */
    enum sp_hs_state hs_state;
    uint8_t seg_flags;
    uint32_t seg_seq, seg_ack;
    uint16_t max_window, max_mss;  /* legal limits (the host's own when the request gives none) */
    uint16_t mtu;                  /* legal icmp: a DF reply must fit (0: unknown, DF never set) */
    int wscale_offered;
    int host_wscale;
    /* what a legal choice departed from the native answer in (sim_choose) */
    uint32_t deviations;
    struct sp_decision_chosen chosen;
    /* faults */
    int bad_checksum;
    /* an instruction found in the payload */
    int injected;
    int inj_has_ip;
    uint32_t inj_ip;
};

/* Fill sol from the parsed user message; 0, or -1 when the request is not understood. */
int sim_solve(const cJSON *req, struct sim_sol *sol);

/* In legal authority, departs from the native answer in sol as `choices` says, drawing from a
 * stream seeded by `seed`; records what departed in sol->deviations and sol->chosen. Exact
 * requests are left alone. */
void sim_choose(struct sim_sol *sol, enum sp_llm_sim_choices choices, double refuse_rate, double ignore_rate,
                uint64_t seed);

/* Raw reply bytes of sol (IPv4 datagram or Ethernet frame); returns the length or 0. */
size_t sim_build_frame(const struct sim_sol *sol, uint8_t *out, size_t cap);

#endif
