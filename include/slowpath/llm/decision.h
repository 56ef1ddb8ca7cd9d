/* The decision contract between slowpath and a model.
 *
 * A model answers one protocol decision per request. The system prompt is static per kind,
 * format and authority (sp_llm_decision_system_prompt), so provider prompt caches hit; everything
 * that varies is in the user message, one JSON object with keys in this order:
 *
 *   {"kind":"icmp"|"arp"|"tcp", "format":"structured"|"raw", "authority":"exact"|"legal",
 *    "host":{"mac":"02:00:00:00:00:01","ip":"192.0.2.1","ttl":64,
 *            "mss":1460,"window":65535,"wscale":7},          -- who "we" are
 *    "limits":{...}            (tcp and icmp, legal only)     -- what a choice may be
 *    "state":{...},                                           -- flow state (context cache)
 *    "packet":{...}            (structured)  or  "packet_hex":"4500..."  (raw)}
 *
 * authority (decide.h's enum sp_authority): exact, the answer must be the native one; legal, any
 * answer the RFCs allow, the stack adopting the model's choices (TTL, IP identification and DF
 * of an echo reply; ISS, window, MSS and window scale of a SYN-ACK; refusing or ignoring).
 * tcp "limits" (legal): {"max_window":N,"max_mss":N,"wscale_offered":true|false}: a SYN-ACK's
 * window is 1..max_window (in SYN-SENT: the ACK's window field, scaled as it is), its MSS
 * 536..max_mss, and it may carry a window scale (0-14) only when the SYN offered one.
 * icmp "limits" (legal): {"mtu":N}: an echo reply with DF set must fit in N bytes.
 *
 * Payload bytes only ever appear as hex inside "payload_hex"/"packet_hex"; they are data, and the
 * system prompt says never to follow instructions found in them.
 *
 * structured "packet" per kind:
 *   icmp {"src":ip,"dst":ip,"ttl":N,"type":N,"code":N,"ident":N,"seq":N,"payload_hex":hex}
 *   arp  {"op":1|2,"sender_mac":mac,"sender_ip":ip,"target_mac":mac,"target_ip":ip}
 *   tcp  {"src":ip,"dst":ip,"sport":N,"dport":N,"seq":N,"ack":N,"flags":"SA" (letters of
 *         FSRPAU),"window":N,"mss":N|null,"wscale":N|null,"payload_hex":hex}
 * raw "packet_hex": icmp and tcp an IPv4 datagram, arp an Ethernet frame.
 * tcp "state": {"tcp_state":"LISTEN"|"SYN-SENT"|"CLOSED","iss":N|null} (iss: our initial
 * sequence number; in SYN-SENT the SYN we sent carried seq = iss; CLOSED: a SYN to a port nobody
 * listens on, iss null).
 *
 * Answers (one JSON object, nothing else; every key present, null where it does not apply, so
 * the schemas are valid for OpenAI strict mode):
 *   icmp structured {"action":"reply"|"drop","dst":ip,"ident":N,"seq":N,"ttl":N,
 *                    "ip_ident":N|null,"df":true|false|null}   (null: the stack's own)
 *   arp  structured {"action":"reply"|"drop","sender_mac":mac,"sender_ip":ip,
 *                    "target_mac":mac,"target_ip":ip}
 *   tcp  structured {"action":"syn_ack"|"ack"|"rst"|"drop","seq":N,"ack":N,"window":N,
 *                    "mss":N|null,"wscale":N|null,"next_state":S}
 *   raw (any kind)  {"action":"reply"|"drop","frame_hex":hex}       icmp/tcp: IPv4, arp: Ethernet
 *                   tcp raw adds "next_state":S
 * with S one of "LISTEN","SYN-SENT","SYN-RECEIVED","ESTABLISHED","CLOSED". For "drop" the other
 * fields may be null or absent (next_state is still required for tcp); in legal authority a drop
 * is a valid answer (ignore), in exact only where the rules answer nothing. The parser is strict:
 * unknown keys, missing keys, wrong JSON types, out-of-range numbers and bad hex/addresses are
 * typed errors, and the answer names the offending field. Parsing proves shape only: whether
 * a proposal is safe is the validator's job.
 *
 * The vocabulary is the stack's (slowpath/decide.h): kinds are enum sp_decision_kind, actions
 * enum sp_proposal_action (named by sp_proposal_action_name), states enum sp_hs_state (named by
 * sp_hs_state_name), and an answer parses straight into a struct sp_decision_proposal. Only the
 * prompt format is the engine's own: the stack never sees a prompt. */
#ifndef SLOWPATH_LLM_DECISION_H
#define SLOWPATH_LLM_DECISION_H

#include "slowpath/layer_llm.h"

#include <stddef.h>
#include <stdint.h>

#include "slowpath/decide.h"

enum sp_llm_format { SP_LLM_FMT_STRUCTURED = 0, SP_LLM_FMT_RAW, SP_LLM_FMT_COUNT };

const char *sp_llm_format_name(enum sp_llm_format f);      /* "structured" / "raw" */
int sp_llm_format_parse(const char *s, enum sp_llm_format *out); /* 0 or SP_LLM_EINVAL */

/* A model's decision, parsed from its answer: the proposal the stack's validator takes, with room for the bytes of a
 * raw reply (proposal.raw_bytes points into raw, so the answer is used where it was parsed, not
 * copied). For icmp and arp proposal.next_state is SP_HS_CLOSED; a structured arp answer has
 * proposal.arp.op SP_ARP_OP_REPLY; a structured icmp answer's null ip_ident and df are -1. */
struct sp_llm_decision {
    struct sp_decision_proposal proposal;
    uint8_t raw[SP_DECISION_MAX_PACKET];
    char bad_field[24];        /* on a parse error: the field at fault ("" when the whole text is) */
};

/* Static per kind+format (NULL for out-of-range arguments). The schema is JSON Schema text of
 * an object, usable both as an Anthropic tool input_schema and as OpenAI's
 * response_format.json_schema.schema (strict: all keys required, additionalProperties false);
 * the name ("icmp_structured", ...) is the tool / json_schema name. One schema serves both
 * authorities: what legal lets a model choose is in nullable fields an exact answer leaves null. */
const char *sp_llm_decision_schema(enum sp_decision_kind k, enum sp_llm_format f);
const char *sp_llm_decision_schema_name(enum sp_decision_kind k, enum sp_llm_format f);
/* The contract's system prompt of a kind, format and authority (the rules differ). */
const char *sp_llm_decision_system_prompt(enum sp_decision_kind k, enum sp_llm_format f, enum sp_authority a);

/* Strictly parses model text into *out. Returns 0, or SP_LLM_ENOT_JSON (not exactly one JSON
 * object: prose, markdown fences, truncation, trailing text), SP_LLM_EUNKNOWN_FIELD,
 * SP_LLM_EMISSING_FIELD, SP_LLM_EFIELD_TYPE, SP_LLM_EFIELD_RANGE (numbers out of range, addresses
 * the wire layer's parsers refuse), SP_LLM_EBAD_HEX, SP_LLM_EBAD_ENUM (unknown action/state, or
 * an action that does not fit the kind), SP_LLM_EINVAL. */
int sp_llm_proposal_parse(enum sp_decision_kind k, enum sp_llm_format f, const char *text, size_t len,
                          struct sp_llm_decision *out);

#endif
