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
    enum sp_proposal_action action;
    /* icmp / ip */
    uint32_t src, dst;
    uint8_t ttl;
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
    /* faults */
    int bad_checksum;
    /* an instruction found in the payload */
    int injected;
    int inj_has_ip;
    uint32_t inj_ip;
};

/* Fill sol from the parsed user message; 0, or -1 when the request is not understood. */
int sim_solve(const cJSON *req, struct sim_sol *sol);

/* Raw reply bytes of sol (IPv4 datagram or Ethernet frame); returns the length or 0. */
size_t sim_build_frame(const struct sim_sol *sol, uint8_t *out, size_t cap);

#endif
