/* Decision points: protocol decisions the stack can hand to someone else (an LLM), without
 * knowing who. The stack names the decisions (ICMP echo reply, ARP reply, TCP handshake); for each
 * kind the application installs a decider and a mode:
 *
 *   native   the stack answers at once (the default; no decider is asked);
 *   delegate the stack parks the triggering packet in a bounded pending table (keyed by flow and
 *            request, repeats coalesced, with a deadline that poll_at honours) and asks the decider;
 *            the decider later calls sp_decision_complete with a proposal, which the validator
 *            checks before anything is emitted; an invalid proposal, an error or a timeout is
 *            handled by the policy (fall back to the native answer, or drop);
 *   shadow   the stack answers natively at once and still asks; the answer is validated and graded
 *            against the native one when it arrives, and never emitted.
 *
 * The validator is protocol knowledge and lives in the stack: every proposal passes the same
 * checks as the fast path, whoever made it. No invalid proposal ever reaches the device. */
#ifndef SLOWPATH_DECIDE_H
#define SLOWPATH_DECIDE_H

#include "slowpath/layer_stack.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slowpath/time.h"
#include "slowpath/wire/arp.h"
#include "slowpath/wire/ethernet.h"
#include "slowpath/wire/icmp.h"
#include "slowpath/wire/ipv4.h"
#include "slowpath/wire/tcp.h"

struct sp_iface;

enum sp_decision_kind { SP_DECISION_ICMP, SP_DECISION_ARP, SP_DECISION_TCP, SP_DECISION_KINDS };
enum sp_decision_mode { SP_DECIDE_NATIVE, SP_DECIDE_DELEGATE, SP_DECIDE_SHADOW };
enum sp_invalid_policy { SP_INVALID_FALLBACK, SP_INVALID_DROP };

/* What makes a proposal valid. The safety rules never change with it (a reply goes only to the
 * asker, only from our addresses, carries no bytes the request did not, within rate limits);
 * the authority says what is acceptable beyond them:
 *   exact  the proposal equals what the native stack would send (the model imitates);
 *   legal  the RFCs allow it, and the stack adopts what the model chose:
 *          icmp  an echo reply (identifier, sequence and data echo the request, RFC 792) with the
 *                model's TTL (1-255), IP identification and DF; or no answer;
 *          arp   a reply for our address with our MAC only; or no answer;
 *          tcp   SYN in LISTEN: accept (SYN-ACK with the model's ISS, window 1..max_window, MSS
 *                536..max_mss, window scale 0-14 only if the peer offered one), refuse (RST,
 *                RFC 9293 3.10.7.2) or ignore; SYN to a closed port (hs_state CLOSED): refuse
 *                (RST, as native) or ignore; SYN-ACK in SYN-SENT: accept (ACK) or refuse (RST).
 *          The connection then runs with the model's ISS, MSS and window scale. */
enum sp_authority { SP_AUTHORITY_EXACT, SP_AUTHORITY_LEGAL };
const char *sp_authority_name(enum sp_authority a);             /* "exact", "legal" */
int sp_authority_parse(const char *name, enum sp_authority *out); /* 0 or SP_EINVAL */

const char *sp_decision_kind_name(enum sp_decision_kind k);   /* "icmp", "arp", "tcp" */
int sp_decision_kind_parse(const char *name, enum sp_decision_kind *out); /* 0 or SP_EINVAL */
const char *sp_decision_mode_name(enum sp_decision_mode m);   /* "native", "llm", "shadow" */

/* The handshake states a TCP decision starts from or proposes. */
enum sp_hs_state { SP_HS_LISTEN, SP_HS_SYN_SENT, SP_HS_SYN_RECEIVED, SP_HS_ESTABLISHED, SP_HS_CLOSED };
const char *sp_hs_state_name(enum sp_hs_state s);             /* "LISTEN", "SYN-SENT", ... */
int sp_hs_state_parse(const char *name, enum sp_hs_state *out);  /* 0 or SP_EINVAL */

/* A flow: protocol, addresses (host order) and ports, or the ICMP identifier in `remote_port`. */
struct sp_flow {
    uint8_t protocol;          /* SP_IP_PROTO_*, or 0 for ARP */
    uint32_t local_ip, remote_ip;
    uint16_t local_port, remote_port;
};

/* What the stack hands out. Pointers are valid only during the decide call: a decider that needs
 * them later copies them (the triggering packet is at most SP_DECISION_MAX_PACKET bytes). */
#define SP_DECISION_MAX_PACKET 1514
struct sp_decision_request {
    uint64_t id;                   /* unique per request; sp_decision_complete names it */
    enum sp_decision_kind kind;
    enum sp_decision_mode mode;    /* delegate or shadow */
    enum sp_authority authority;   /* what the validator will accept (the interface's setting) */
    struct sp_flow flow;
    sp_time_t asked_at;            /* the stack's time when it asked: the `now` for a decider that
                                    * completes from inside decide */
    sp_time_t deadline;            /* the stack gives up (timeout verdict) at this time */
    /* Who we are: what a reply must carry. */
    struct sp_mac our_mac;
    uint32_t our_ip;
    uint8_t ttl;
    uint16_t mtu;                  /* our link's MTU: a reply with DF set must fit in it */
    /* The triggering packet: an IPv4 datagram (icmp, tcp) or an Ethernet frame (arp). */
    const uint8_t *packet;
    size_t packet_len;
    /* The same packet parsed. */
    struct sp_ipv4_repr ip;        /* icmp, tcp */
    struct sp_icmp_repr icmp;      /* icmp: an echo request */
    struct sp_arp_repr arp;        /* arp: a request for our address */
    struct sp_tcp_repr tcp;        /* tcp: a SYN (LISTEN) or SYN-ACK (SYN-SENT) */
    /* tcp: where the handshake stands (CLOSED: a SYN to a port nobody listens on), our ISN
     * (chosen by the stack, RFC 6528) and what the native stack would advertise; in legal, the
     * bounds of what a proposal may choose: the largest initial window our receive buffer can
     * honour (unscaled, as on a SYN-ACK; in SYN-SENT the largest window field the ACK may carry,
     * scaled as that ACK is) and the largest MSS our MTU allows. */
    enum sp_hs_state hs_state;
    uint32_t iss;
    uint16_t native_window, native_mss;
    int8_t native_wscale;
    uint16_t max_window, max_mss;
    /* The native answer, same framing as packet (shadow grading; what fallback sends). */
    const uint8_t *native;
    size_t native_len;
};

enum sp_proposal_action { SP_PROPOSE_DROP, SP_PROPOSE_REPLY, SP_PROPOSE_SYN_ACK, SP_PROPOSE_ACK, SP_PROPOSE_RST };
const char *sp_proposal_action_name(enum sp_proposal_action a); /* "drop","reply","syn_ack","ack","rst" */

/* What a decider proposes. Structured proposals give fields and the stack builds bytes and
 * checksums; raw proposals give the reply's bytes (same framing as the request's packet) and
 * are parsed by the wire layer, then compared field by field. Either way the stack emits a reply
 * it built itself from the request and the checked fields (payloads always come from the
 * request), so the device only ever sees stack-made frames.
 * action: icmp and arp REPLY; tcp SYN_ACK (LISTEN + SYN: accept), ACK (SYN-SENT + SYN-ACK:
 * accept), or RST (refuse, and where RFC 9293 answers with one: an ACK to a listener, an
 * unacceptable ACK in SYN-SENT, a SYN to a closed port). A raw proposal may say REPLY for any
 * kind (its flags say the rest). DROP (ignore: no answer at all) is valid only in legal
 * authority (a SYN in LISTEN, a SYN to a closed port, an echo request, an ARP request; never a
 * SYN-ACK in SYN-SENT); in exact a decider that wants silence gets the policy.
 * Fields a structured proposal may leave to the stack: icmp_ip_ident < 0 and icmp_df < 0 mean
 * "as native" (legal; in exact they are ignored and native's values go out).
 * next_state, per answer: SYN_ACK SYN-RECEIVED; ACK ESTABLISHED; RST to a SYN in LISTEN LISTEN
 * (the listener stays), to a SYN to a closed port CLOSED, to a SYN-ACK in SYN-SENT CLOSED (the
 * connect fails, SP_ECONNREFUSED); DROP: not checked. */
struct sp_decision_proposal {
    enum sp_proposal_action action;
    bool raw;
    const uint8_t *raw_bytes;
    size_t raw_len;
    /* icmp structured */
    uint32_t icmp_dst;
    uint16_t icmp_ident, icmp_seq;
    uint8_t icmp_ttl;
    int32_t icmp_ip_ident;         /* the reply's IP identification, -1: as native */
    int8_t icmp_df;                /* the reply's DF bit (0 or 1), -1: as native */
    /* arp structured */
    struct sp_arp_repr arp;
    /* tcp (structured; for raw only next_state). On an ACK, mss and wscale are ignored (options
     * belong on a SYN); on a RST only tcp_seq counts, and tcp_ack too where the RST carries ACK
     * (the answer to a SYN: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, RFC 9293 3.10.7.1). In
     * legal, a SYN-ACK's tcp_seq is the ISS the connection adopts. */
    uint32_t tcp_seq, tcp_ack;
    uint16_t tcp_window, tcp_mss;  /* mss 0: no option; else 536..native_mss (legal: max_mss) */
    int8_t tcp_wscale;             /* -1: no option */
    enum sp_hs_state next_state;
};

/* Why a proposal was refused; SP_VERDICT_VALID when it was not. */
#define SP_VERDICT_MAP(X)                                                                   \
    X(VALID, "valid")                                                                       \
    X(ACTION, "invalid:action")       /* drop, or an action the situation does not allow */ \
    X(MALFORMED, "invalid:malformed") /* raw bytes the wire layer refuses */                \
    X(CHECKSUM, "invalid:checksum")                                                         \
    X(ADDRESS, "invalid:address")     /* IP addresses not swapped / not ours */             \
    X(IDENT, "invalid:ident")                                                               \
    X(SEQUENCE, "invalid:sequence")                                                         \
    X(PAYLOAD, "invalid:payload")                                                           \
    X(HEADER, "invalid:header")       /* TTL, type, code, flags, options, lengths */        \
    X(MAC, "invalid:mac")                                                                   \
    X(TARGET, "invalid:target")                                                             \
    X(TRANSITION, "invalid:transition")                                                     \
    X(ACK, "invalid:ack")                                                                   \
    X(WINDOW, "invalid:window")                                                             \
    X(MSS, "invalid:mss")                                                                   \
    X(DATA, "invalid:data")           /* data on a SYN-ACK */

enum sp_verdict {
#define SP_VERDICT_ENUM(name, text) SP_VERDICT_##name,
    SP_VERDICT_MAP(SP_VERDICT_ENUM)
#undef SP_VERDICT_ENUM
    SP_VERDICT_COUNT
};
const char *sp_verdict_name(enum sp_verdict v);

/* What the stack did with a completed decision. */
enum sp_decision_action { SP_ACTION_LLM, SP_ACTION_FALLBACK, SP_ACTION_DROP, SP_ACTION_SHADOW };
const char *sp_decision_action_name(enum sp_decision_action a); /* "llm","fallback","drop","shadow" */

/* The fields in which an emitted answer departed from what native would have sent (legal
 * authority only; exact never departs). SILENCE: the model chose not to answer where native
 * would have; ACTION: it answered another way (a RST where native accepts). */
#define SP_DEVIATION_MAP(X) \
    X(ACTION, "action")     \
    X(SILENCE, "silence")   \
    X(TTL, "ttl")           \
    X(IP_IDENT, "ip_ident") \
    X(DF, "df")             \
    X(ISS, "iss")           \
    X(WINDOW, "window")     \
    X(MSS, "mss")           \
    X(WSCALE, "wscale")

enum sp_deviation {
#define SP_DEVIATION_ENUM(name, text) SP_DEVIATION_##name,
    SP_DEVIATION_MAP(SP_DEVIATION_ENUM)
#undef SP_DEVIATION_ENUM
    SP_DEVIATION_COUNT
};
const char *sp_deviation_name(enum sp_deviation d); /* "action", "ttl", ... */

/* The values the stack adopted, for the fields named in `deviations` (a trace writes them as
 * {"iss":..,"window":..}). Filled for the answer given: icmp ttl, df, ip_ident (the stack's next
 * identification when the model left it, so IP_IDENT departs only when the model's differs from
 * it); tcp SYN-ACK iss, window, mss, wscale; tcp ACK window; wscale -1 where there is none. */
struct sp_decision_chosen {
    enum sp_proposal_action action;
    uint8_t ttl, df;
    uint16_t ip_ident;
    uint32_t iss;
    uint16_t window, mss;
    int8_t wscale;
};

struct sp_decision_outcome {
    uint64_t id;
    enum sp_decision_kind kind;
    enum sp_verdict verdict;       /* of the proposal; VALID for an error or timeout */
    int error;                     /* 0, SP_ETIMEDOUT, the decider's error, or SP_ECLOSED when the
                                    * stack abandoned the request (its connection went away) */
    enum sp_decision_action action;
    bool matches_native;           /* shadow: the proposal equals the native answer (legal: it is
                                    * valid and departs from it in no field but the IP
                                    * identification, which is each datagram's own) */
    bool emitted;                  /* a frame went to the device */
    /* The emitted answer's frame, numbered (1 = the first) among the frames the stack exchanged
     * with its device (sp_iface_frame_count): frame_sent counts the frames it sent, frame_any the
     * frames it received and sent, in order. A capture wrapping the device numbers its frames the
     * first way when it records only what is sent, the second when it records both directions.
     * 0 when no frame went out for it (nothing emitted, or the answer waits for its next hop's
     * address and goes out later). */
    uint64_t frame_sent, frame_any;
    /* legal authority, a valid proposal: bit (1u << SP_DEVIATION_x) per field that departed from
     * native, with the adopted values in `chosen`; otherwise both are zero. */
    uint32_t deviations;
    struct sp_decision_chosen chosen;
};

/* The decider: asked for each delegated or shadowed decision. `decide` returns 0 when it will
 * call sp_decision_complete later (possibly from inside the call), or a negative error: the
 * stack then applies the policy at once. A request the decider completes gets its outcome back
 * from sp_decision_complete; `outcome` (optional) is told only of the endings the stack starts
 * itself, after it acted: the deadline passed (SP_ETIMEDOUT), the request was abandoned because
 * its connection went away (SP_ECLOSED), or decide refused it (its error). Each request ends
 * once, and so is reported once, one way or the other. */
struct sp_decider {
    int (*decide)(void *ctx, const struct sp_decision_request *req);
    void (*outcome)(void *ctx, const struct sp_decision_outcome *out);
    void *ctx;
};

/* Installs the decider and mode for a kind (decider may be NULL for native). A non-native mode
 * without a decider, or for a kind whose protocol module cannot park requests (tcp until the TCP
 * module registers), stays native. Requests already parked keep the mode they were asked in. */
void sp_iface_set_decider(struct sp_iface *iface, enum sp_decision_kind kind, enum sp_decision_mode mode,
                          const struct sp_decider *decider);
void sp_iface_set_invalid_policy(struct sp_iface *iface, enum sp_invalid_policy policy);
/* The authority of every kind's decisions asked afterwards (default SP_AUTHORITY_EXACT). */
void sp_iface_set_authority(struct sp_iface *iface, enum sp_authority authority);
/* How long a parked request waits for its proposal before the timeout verdict (default
 * SP_DECISION_TIMEOUT_MS; 0 is taken as 1 ms). Applies to requests parked afterwards. */
void sp_iface_set_decision_timeout(struct sp_iface *iface, sp_time_t ms);

/* Completes request `id` with a proposal (error 0) or an error (proposal NULL; SP_ETIMEDOUT is
 * counted as a timeout, anything else as an error). Returns 0 once the stack acted, whatever the
 * verdict, with what it did in *out (out may be NULL; the outcome callback is not called for
 * it). Unknown, timed-out or already completed ids are ignored: SP_EINVAL, *out untouched (the
 * stack ended that request itself and told the outcome callback). May be called from inside
 * decide. */
int sp_decision_complete(struct sp_iface *iface, sp_time_t now, uint64_t id, int error,
                         const struct sp_decision_proposal *proposal, struct sp_decision_outcome *out);

/* Per-kind counters of decisions: the one count of them (a decider that prints statistics derives
 * its figures from these). asked: decide calls; joined: repeats of a parked request (delegate:
 * nothing sent; shadow: answered natively again); pending_full / too_big: answered natively
 * without asking; valid / invalid and verdicts[]: graded proposals; timeouts / errors / cancelled:
 * requests ended without a proposal (cancelled: abandoned because their connection went away,
 * SP_ECLOSED); then what delegate mode did: emitted_llm (valid proposals carried out: sent, or
 * in legal a chosen silence, which is sent nothing), fallback, dropped
 * (cancelled ones included); shadow_match / shadow_mismatch: shadow grades, one per shadow request
 * ended (an invalid proposal, an error or a timeout is a mismatch). Every request asked and ended
 * is counted once in valid, invalid, timeouts, errors or cancelled. */
struct sp_decision_stats {
    uint64_t asked, joined, pending_full, too_big, valid, invalid, timeouts, errors, cancelled;
    uint64_t emitted_llm, fallback, dropped, shadow_match, shadow_mismatch;
    uint64_t verdicts[SP_VERDICT_COUNT];
    uint64_t deviations[SP_DEVIATION_COUNT]; /* legal: valid proposals that departed, per field */
};
const struct sp_decision_stats *sp_iface_decision_stats(const struct sp_iface *iface, enum sp_decision_kind k);

/* The validator alone (what sp_decision_complete runs): checks a proposal against the request. */
enum sp_verdict sp_validate_proposal(const struct sp_decision_request *req, const struct sp_decision_proposal *p);

#endif
