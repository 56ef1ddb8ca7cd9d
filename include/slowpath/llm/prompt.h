/* The per-decision user message: a struct sp_decision_request (what the stack hands out) turned
 * into the one JSON object decision.h lays out, for a kind and a format, with the flow's state
 * from the context cache. Everything that varies between decisions is here; the system prompt
 * and schema stay static (sp_llm_prompt_for), so provider prompt caches hit.
 *
 * Injection safety: bytes that came off the wire (payloads, whole packets in raw mode) enter the
 * message only as lower-case hex inside "payload_hex" / "packet_hex"; every other value is a
 * number, an address printed by us, or a fixed name. */
#ifndef SLOWPATH_LLM_PROMPT_H
#define SLOWPATH_LLM_PROMPT_H

#include "slowpath/layer_llm.h"

#include <stddef.h>
#include <stdint.h>

#include "slowpath/decide.h"
#include "slowpath/llm/cache.h"
#include "slowpath/llm/decision.h"

/* Room for the largest message: a 1514-byte packet as hex plus the state of a flow. */
#define SP_LLM_PROMPT_MAX 16384

/* The context-cache key of a request's flow (the remote side is the source). */
struct sp_llm_flow_key sp_llm_flow_key_of_request(const struct sp_decision_request *req);

/* A short human label of the flow for traces: "icmp 192.0.2.1>192.0.2.2 id=48879",
 * "arp 192.0.2.1>192.0.2.2", "tcp 192.0.2.1:40000>192.0.2.2:80". Returns the length. */
size_t sp_llm_flow_label(const struct sp_decision_request *req, char *out, size_t cap);

/* The "state" object: the handshake facts the stack knows (tcp: {"tcp_state":..,"iss":N}) first,
 * then the cached flow's summary and recent exchanges (flow may be NULL for a new flow).
 * Returns the length, or SP_LLM_ETOOBIG / SP_LLM_ENOMEM. */
int sp_llm_prompt_state(const struct sp_decision_request *req, const struct sp_llm_flow *flow, char *out,
                        size_t cap);

/* The user message. state is the JSON text of the "state" object (NULL: {}). Returns the
 * length (out is NUL-terminated), or SP_LLM_ETOOBIG when it does not fit, SP_LLM_EINVAL for a
 * request whose packet does not match its kind. */
int sp_llm_prompt_user(const struct sp_decision_request *req, enum sp_llm_format fmt, const char *state,
                       char *out, size_t cap);

/* A compact one-line description of the request for the context cache ("echo id=1 seq=7 len=18",
 * "who-has 192.0.2.2 tell 192.0.2.1", "S seq=1000 ack=0 in LISTEN"). Returns the length. */
size_t sp_llm_prompt_question(const struct sp_decision_request *req, char *out, size_t cap);

/* A compact one-line description of a parsed proposal of a kind for the context cache, rebuilt
 * from its fields (never the model's own text): "reply dst=192.0.2.1 ident=1 seq=7 ttl=64",
 * "reply frame_hex[60 bytes]", "syn_ack seq=.. ack=.. win=.. mss=.. ws=.. next=SYN-RECEIVED". */
size_t sp_llm_prompt_answer(enum sp_decision_kind kind, const struct sp_decision_proposal *p, char *out,
                            size_t cap);

#endif
