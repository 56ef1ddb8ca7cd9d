/* Writing a worked example into the static prefix: the reference answer (the sim's solver
 * without faults, with the example's legal choices), the request as the user message carries it,
 * in legal how the answer departs from native, in raw format the checksums worked out, and why.
 * The situations themselves are prefix_examples.c's. */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "hex.h"
#include "prefix_internal.h"
#include "slowpath/llm/error.h"
#include "slowpath/llm/prompt.h"
#include "slowpath/llm/sim.h"

/* The reference answer: the sim's solver, with every fault rate at zero and, in legal, the
 * example's choices (a random one accepts: refusing and ignoring have examples of their own). */
int sp_llm_example_answer(const struct sp_llm_example *ex, const char *user, struct sp_llm_sim_reply *r)
{
    struct sp_llm_sim *sim = malloc(sizeof *sim);
    struct sp_llm_sim_opts o;
    int rc;
    memset(r, 0, sizeof *r);
    if (!sim) return SP_LLM_ENOMEM;
    sp_llm_sim_opts_default(&o);
    o.seed = ex->seed;
    o.choices = ex->choices;
    o.refuse_rate = o.ignore_rate = 0;
    sp_llm_sim_init(sim, &o);
    rc = sp_llm_sim_answer(sim, NULL, user, r);
    free(sim);
    if (rc == 0 && !r->is_json) {
        sp_llm_sim_reply_free(r);
        rc = SP_LLM_EINVAL;
    }
    return rc;
}

/* --- Legal: how the answer departs from the native one ------------------------------------ */

static void note_icmp(struct sp_llm_text *t, const struct sp_llm_example *ex, const struct sp_llm_sim_reply *r)
{
    const struct sp_decision_chosen *c = &r->chosen;
    sp_llm_text_addf(t, "it answers with TTL %u (host.ttl %u is the stack's own)", c->ttl, ex->req.ttl);
    if (r->deviations & (1u << SP_DEVIATION_IP_IDENT)) sp_llm_text_addf(t, ", IP identification %u", c->ip_ident);
    else sp_llm_text_add(t, ", the stack's IP identification");
    if (r->deviations & (1u << SP_DEVIATION_DF)) sp_llm_text_addf(t, " and DF %s", c->df ? "set" : "clear");
    else sp_llm_text_add(t, " and the stack's DF bit");
    sp_llm_text_add(t, "; ident, seq and data still echo the request");
}

static void note_syn_ack(struct sp_llm_text *t, const struct sp_llm_example *ex, const struct sp_llm_sim_reply *r)
{
    const struct sp_decision_request *q = &ex->req;
    const struct sp_decision_chosen *c = &r->chosen;
    sp_llm_text_addf(t, "it accepts with its own ISS %u as seq (state.iss %u is the stack's), window %u "
                        "(1..limits.max_window %u), ",
                     c->iss, q->iss, c->window, q->max_window);
    if (c->mss) sp_llm_text_addf(t, "mss %u (536..limits.max_mss %u), ", c->mss, q->max_mss);
    else sp_llm_text_add(t, "no MSS option (mss null), ");
    if (c->wscale >= 0) sp_llm_text_addf(t, "wscale %d (0..14: the SYN offered scaling)", c->wscale);
    else if (q->tcp.wscale >= 0) sp_llm_text_add(t, "no window scale (null: allowed even when offered)");
    else sp_llm_text_add(t, "wscale null (the SYN offered no scaling)");
    sp_llm_text_addf(t, "; ack = the SYN's seq + 1 = %u is fixed", q->tcp.seq + 1);
}

static void note_ack(struct sp_llm_text *t, const struct sp_llm_example *ex, const struct sp_llm_sim_reply *r)
{
    sp_llm_text_addf(t, "it accepts with window %u (1..limits.max_window %u; host.window %u is the stack's); seq = "
                        "state.iss + 1 and ack = its seq + 1 are fixed",
                     r->chosen.window, ex->req.max_window, ex->req.native_window);
}

static void note_refusal(struct sp_llm_text *t, const struct sp_llm_example *ex)
{
    const struct sp_decision_request *q = &ex->req;
    if (q->hs_state == SP_HS_SYN_SENT)
        sp_llm_text_addf(t, "it refuses the connection it asked for: rst with seq = the segment's ack %u; "
                            "next_state CLOSED",
                         q->tcp.ack);
    else
        sp_llm_text_addf(t, "it refuses the connection: rst with seq 0 and ack = the SYN's seq + 1 = %u, a "
                            "reset with the ACK bit; next_state %s (the listener stays)",
                         q->tcp.seq + 1, sp_hs_state_name(q->hs_state));
}

static void note_silence(struct sp_llm_text *t, const struct sp_llm_example *ex)
{
    sp_llm_text_add(t, "it ignores the request: drop, nothing is sent");
    if (ex->req.kind == SP_DECISION_TCP)
        sp_llm_text_addf(t, "; next_state %s (the peer may retransmit and ask again)",
                         sp_hs_state_name(ex->req.hs_state));
}

/* "Legal choice: ...": what the sim reports it chose, in words. */
static void write_legal_note(struct sp_llm_text *t, const struct sp_llm_example *ex, const struct sp_llm_sim_reply *r)
{
    sp_llm_text_add(t, "Legal choice: ");
    if (r->deviations & (1u << SP_DEVIATION_SILENCE)) note_silence(t, ex);
    else if (r->deviations & (1u << SP_DEVIATION_ACTION)) note_refusal(t, ex);
    else if (ex->req.kind == SP_DECISION_ICMP && r->chosen.action == SP_PROPOSE_REPLY) note_icmp(t, ex, r);
    else if (r->chosen.action == SP_PROPOSE_SYN_ACK && r->deviations) note_syn_ack(t, ex, r);
    else if (r->chosen.action == SP_PROPOSE_ACK && r->deviations) note_ack(t, ex, r);
    else sp_llm_text_add(t, "none here: the native answer is the one legal authority allows too");
    sp_llm_text_add(t, ".\n");
}

/* "4500+0054+...=2a3b4, folded 2+a3b4=a3b6, checksum 5c49": the header sum of a raw answer, worked
 * out, since the checksum is where models go wrong. */
static void write_ip_checksum(struct sp_llm_text *t, const uint8_t *d, size_t n)
{
    uint32_t sum = 0, folded;
    if (n < SP_IPV4_MIN_HDR_LEN) return;
    sp_llm_text_add(t, "IPv4 header checksum: ");
    for (int i = 0; i < SP_IPV4_MIN_HDR_LEN; i += 2) {
        uint32_t word = i == 10 ? 0 : (uint32_t)(d[i] << 8 | d[i + 1]);
        sum += word;
        sp_llm_text_addf(t, "%s%04x", i ? "+" : "", word);
    }
    folded = sum;
    while (folded >> 16) folded = (folded & 0xffff) + (folded >> 16);
    sp_llm_text_addf(t, " = %x, folded %04x, complement %04x.", sum, folded, (~folded) & 0xffff);
}

static void write_l4_checksum(struct sp_llm_text *t, enum sp_decision_kind k, const uint8_t *d, size_t n)
{
    size_t l4 = n > SP_IPV4_MIN_HDR_LEN ? n - SP_IPV4_MIN_HDR_LEN : 0;
    if (k == SP_DECISION_ICMP && l4 >= 8)
        sp_llm_text_addf(t, " ICMP checksum %02x%02x over the %zu-byte ICMP message.", d[22], d[23], l4);
    else if (k == SP_DECISION_TCP && l4 >= 20)
        sp_llm_text_addf(t, " TCP checksum %02x%02x over the pseudo-header and the %zu-byte segment.", d[36],
                         d[37], l4);
}

static void write_checksums(struct sp_llm_text *t, enum sp_decision_kind k, const char *answer)
{
    cJSON *j = cJSON_Parse(answer);
    const char *hex = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "frame_hex"));
    uint8_t d[SP_DECISION_MAX_PACKET];
    long n = hex ? sp_llm_hex_decode(hex, d, sizeof d) : -1;
    if (n >= SP_IPV4_MIN_HDR_LEN) {
        sp_llm_text_add(t, "Checksums: ");
        write_ip_checksum(t, d, (size_t)n);
        write_l4_checksum(t, k, d, (size_t)n);
        sp_llm_text_add(t, "\n");
    }
    cJSON_Delete(j);
}

static int write_one(struct sp_llm_text *t, enum sp_decision_kind k, enum sp_llm_format f, struct sp_llm_example *ex,
                     char *user, unsigned n)
{
    char state[256];
    struct sp_llm_sim_reply r;
    int rc;
    if (sp_llm_prompt_state(&ex->req, NULL, state, sizeof state) < 0 ||
        sp_llm_prompt_user(&ex->req, f, state, user, SP_LLM_PROMPT_MAX) < 0)
        return SP_LLM_EINVAL;
    if ((rc = sp_llm_example_answer(ex, user, &r)) < 0) return rc;
    sp_llm_text_addf(t, "\n## Example %u: %s\nRequest: %s\nAnswer: %s\n", n, ex->title, user, r.text);
    if (f == SP_LLM_FMT_RAW && k != SP_DECISION_ARP) write_checksums(t, k, r.text);
    if (ex->req.authority == SP_AUTHORITY_LEGAL) {
        sp_llm_text_addf(t, "Why (the native answer): %s.\n", ex->why);
        write_legal_note(t, ex, &r);
    } else {
        sp_llm_text_addf(t, "Why: %s.\n", ex->why);
    }
    sp_llm_sim_reply_free(&r);
    return t->oom ? SP_LLM_ENOMEM : 0;
}

int sp_llm_prefix_write_example(struct sp_llm_text *t, enum sp_decision_kind k, enum sp_llm_format f,
                                enum sp_authority a, unsigned i, unsigned n)
{
    struct sp_llm_example *ex = malloc(sizeof *ex);
    char *user = malloc(SP_LLM_PROMPT_MAX);
    int rc = SP_LLM_ENOMEM;
    if ((unsigned)k >= SP_DECISION_KINDS || (unsigned)f >= SP_LLM_FMT_COUNT || (unsigned)a >= SP_LLM_AUTHORITIES)
        rc = SP_LLM_EINVAL;
    else if (ex && user) {
        sp_llm_example_fill(k, a, i, ex);
        rc = write_one(t, k, f, ex, user, n);
    }
    free(ex);
    free(user);
    return rc;
}
