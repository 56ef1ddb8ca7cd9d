/* Private: the simulated model's reasoning. Turns a decision request into the correct answer
 * (struct sim_sol), and a solution into reply bytes for raw mode. */
#ifndef SP_LLM_SIM_SOLVE_H
#define SP_LLM_SIM_SOLVE_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "slowpath/llm/decision.h"

struct sim_host {
    uint8_t mac[6], ip[4];
    uint8_t ttl;
    uint16_t mss, window;
    int wscale; /* -1: none */
};

struct sim_sol {
    enum sp_llm_kind kind;
    enum sp_llm_format format;
    enum sp_llm_action action;
    /* icmp / ip */
    uint8_t src[4], dst[4];
    uint8_t ttl;
    uint16_t ident, seq16;
    uint8_t payload[SP_LLM_MAX_FRAME];
    size_t payload_len;
    /* arp */
    uint8_t sha[6], spa[4], tha[6], tpa[4];
    /* tcp */
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint16_t window, mss;
    int wscale;
    uint8_t flags;
    enum sp_llm_tcp_state next_state;
    /* faults */
    int bad_checksum;
    /* an instruction found in the payload */
    int injected;
    int inj_has_ip;
    uint8_t inj_ip[4];
};

/* Fill sol from the parsed user message; 0, or -1 when the request is not understood. */
int sim_solve(const cJSON *req, struct sim_sol *sol);

/* Raw reply bytes of sol (IPv4 datagram or Ethernet frame); returns the length or 0. */
size_t sim_build_frame(const struct sim_sol *sol, uint8_t *out, size_t cap);

#endif
