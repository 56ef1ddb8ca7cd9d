/* The decision contract between slowpath and a model (shared with the decider, issue 5).
 *
 * A model answers one protocol decision per request. The system prompt is static per kind and
 * format (sp_llm_decision_system_prompt), so provider prompt caches hit; everything that varies
 * is in the user message, one JSON object with keys in this order:
 *
 *   {"kind":"icmp"|"arp"|"tcp", "format":"structured"|"raw",
 *    "host":{"mac":"02:00:00:00:00:01","ip":"192.0.2.1","ttl":64,
 *            "mss":1460,"window":65535,"wscale":7},          -- who "we" are
 *    "state":{...},                                           -- flow state (context cache)
 *    "packet":{...}            (structured)  or  "packet_hex":"4500..."  (raw)}
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
 * tcp "state": {"tcp_state":"LISTEN"|"SYN-SENT","iss":N} (iss: our initial sequence number; in
 * SYN-SENT the SYN we sent carried seq = iss).
 *
 * Answers (one JSON object, nothing else; every key present, null where it does not apply, so
 * the schemas are valid for OpenAI strict mode):
 *   icmp structured {"action":"reply"|"drop","dst":ip,"ident":N,"seq":N,"ttl":N}
 *   arp  structured {"action":"reply"|"drop","sender_mac":mac,"sender_ip":ip,
 *                    "target_mac":mac,"target_ip":ip}
 *   tcp  structured {"action":"syn_ack"|"ack"|"rst"|"drop","seq":N,"ack":N,"window":N,
 *                    "mss":N|null,"wscale":N|null,"next_state":S}
 *   raw (any kind)  {"action":"reply"|"drop","frame_hex":hex}       icmp/tcp: IPv4, arp: Ethernet
 *                   tcp raw adds "next_state":S
 * with S one of "LISTEN","SYN-SENT","SYN-RECEIVED","ESTABLISHED","CLOSED". For "drop" the other
 * fields may be null or absent (next_state is still required for tcp). The parser is strict:
 * unknown keys, missing keys, wrong JSON types, out-of-range numbers and bad hex/addresses are
 * typed errors, and the proposal names the offending field. Parsing proves shape only: whether
 * a proposal is safe is the validator's job (issue 5). */
#ifndef SLOWPATH_LLM_DECISION_H
#define SLOWPATH_LLM_DECISION_H

#include "slowpath/layer_llm.h"

#include <stddef.h>
#include <stdint.h>

enum sp_llm_kind { SP_LLM_KIND_ICMP = 0, SP_LLM_KIND_ARP, SP_LLM_KIND_TCP, SP_LLM_KIND_COUNT };
enum sp_llm_format { SP_LLM_FMT_STRUCTURED = 0, SP_LLM_FMT_RAW, SP_LLM_FMT_COUNT };
enum sp_llm_action { SP_LLM_ACT_DROP = 0, SP_LLM_ACT_REPLY, SP_LLM_ACT_SYN_ACK, SP_LLM_ACT_ACK,
                     SP_LLM_ACT_RST };
enum sp_llm_tcp_state { SP_LLM_TCP_NONE = 0, SP_LLM_TCP_LISTEN, SP_LLM_TCP_SYN_SENT,
                        SP_LLM_TCP_SYN_RECEIVED, SP_LLM_TCP_ESTABLISHED, SP_LLM_TCP_CLOSED };

#define SP_LLM_MAX_FRAME 1514 /* bytes of a raw reply (Ethernet MTU frame) */

/* A parsed model answer. Addresses are in network byte order as bytes. */
struct sp_llm_proposal {
    enum sp_llm_kind kind;
    enum sp_llm_format format;
    enum sp_llm_action action;
    /* icmp structured */
    uint8_t dst[4];
    uint16_t ident, seq16;
    uint8_t ttl;
    /* arp structured */
    uint8_t sender_mac[6], target_mac[6];
    uint8_t sender_ip[4], target_ip[4];
    /* tcp structured */
    uint32_t seq, ack;
    uint16_t window;
    uint16_t mss;       /* 0: no MSS option */
    int8_t wscale;      /* -1: no window-scale option, else 0..14 */
    enum sp_llm_tcp_state next_state;
    /* raw */
    uint8_t frame[SP_LLM_MAX_FRAME];
    size_t frame_len;
    /* on a parse error: the field at fault ("" when the whole text is) */
    char bad_field[24];
};

const char *sp_llm_kind_name(enum sp_llm_kind k);          /* "icmp" ... */
const char *sp_llm_format_name(enum sp_llm_format f);      /* "structured" / "raw" */
int sp_llm_kind_parse(const char *s, enum sp_llm_kind *out);         /* 0 or SP_LLM_EINVAL */
int sp_llm_format_parse(const char *s, enum sp_llm_format *out);
const char *sp_llm_action_name(enum sp_llm_action a);      /* "drop","reply","syn_ack","ack","rst" */
const char *sp_llm_tcp_state_name(enum sp_llm_tcp_state s);/* "LISTEN" ... ; "" for NONE */
int sp_llm_tcp_state_parse(const char *s, enum sp_llm_tcp_state *out);

/* Static per kind+format (NULL for out-of-range arguments). The schema is JSON Schema text of
 * an object, usable both as an Anthropic tool input_schema and as OpenAI's
 * response_format.json_schema.schema (strict: all keys required, additionalProperties false);
 * the name ("icmp_structured", ...) is the tool / json_schema name. */
const char *sp_llm_decision_schema(enum sp_llm_kind k, enum sp_llm_format f);
const char *sp_llm_decision_schema_name(enum sp_llm_kind k, enum sp_llm_format f);
const char *sp_llm_decision_system_prompt(enum sp_llm_kind k, enum sp_llm_format f);

/* Strictly parses model text into *out. Returns 0, or SP_LLM_ENOT_JSON (not exactly one JSON
 * object: prose, markdown fences, truncation, trailing text), SP_LLM_EUNKNOWN_FIELD,
 * SP_LLM_EMISSING_FIELD, SP_LLM_EFIELD_TYPE, SP_LLM_EFIELD_RANGE, SP_LLM_EBAD_HEX, SP_LLM_EBAD_ENUM
 * (unknown action/state, or an action that does not fit the kind), SP_LLM_EINVAL. */
int sp_llm_proposal_parse(enum sp_llm_kind k, enum sp_llm_format f, const char *text, size_t len,
                          struct sp_llm_proposal *out);

#endif
