/* fuzz_decision_parse: a model's answer through the strict decision parser
 * (sp_llm_proposal_parse) for each kind and format, and what it parses to through the stack's
 * validator, against a fixed request of that kind, in both authorities.
 *
 * Input: a selector byte, then the answer's text. selector % 6 picks the kind (/ 2: icmp, arp,
 * tcp) and the format (% 2: structured, raw), so that '0'..'5' make readable seed files.
 *
 * Invariants: a typed result (0 or a known SP_LLM_E* code), bad_field terminated, and a parsed
 * proposal that keeps the parser's promises: an action the kind's schema has, a state that exists,
 * icmp and arp in CLOSED, raw bytes inside the decision's own buffer; the validator then gives a
 * verdict that exists. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_build.h"
#include "fuzz_host.h"
#include "slowpath/decide.h"
#include "slowpath/llm/decision.h"
#include "slowpath/llm/error.h"
#include "slowpath/opts.h"
#include "slowpath/wire/arp.h"
#include "slowpath/wire/icmp.h"
#include "slowpath/wire/ipv4.h"
#include "slowpath/wire/tcp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct sp_decision_request reqs[SP_DECISION_KINDS];
static uint8_t packets[SP_DECISION_KINDS][SP_MAX_FRAME], natives[SP_DECISION_KINDS][SP_MAX_FRAME];

static void fail(const char *what)
{
    fprintf(stderr, "fuzz invariant broken: %s\n", what);
    abort();
}

/* The request's common part: us, the peer, the kind. */
static void common(struct sp_decision_request *r, enum sp_decision_kind k, uint8_t proto)
{
    memset(r, 0, sizeof *r);
    r->id = 1;
    r->kind = k;
    r->mode = SP_DECIDE_DELEGATE;
    r->flow = (struct sp_flow){.protocol = proto, .local_ip = FZ_IP_US, .remote_ip = FZ_IP_PEER};
    r->our_mac = FZ_MAC_US;
    r->our_ip = FZ_IP_US;
    r->ttl = SP_DEFAULT_TTL;
    r->hs_state = SP_HS_CLOSED;
    r->native_wscale = -1;
}

/* A datagram from src to dst carrying l4 (len bytes) into out; its length. */
static size_t datagram(uint8_t *out, uint32_t src, uint32_t dst, uint8_t proto, const uint8_t *l4, size_t len,
                       struct sp_ipv4_repr *ip)
{
    *ip = (struct sp_ipv4_repr){.src = src, .dst = dst, .protocol = proto, .ttl = SP_DEFAULT_TTL,
                                .payload_len = (uint16_t)len};
    sp_ipv4_repr_emit(ip, out);
    memcpy(out + SP_IPV4_MIN_HDR_LEN, l4, len);
    return SP_IPV4_MIN_HDR_LEN + len;
}

/* A ping from the peer, an ARP request for us, a SYN to a listener: what the stack asks about. */
static void make_requests(void)
{
    uint8_t l4[256], f[SP_MAX_FRAME];
    struct sp_ipv4_repr ip;
    const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};

    struct sp_decision_request *r = &reqs[SP_DECISION_ICMP];
    common(r, SP_DECISION_ICMP, SP_IP_PROTO_ICMP);
    size_t n = fz_build_icmp_echo(l4, 7, 1, data, sizeof data);
    r->packet_len = datagram(packets[0], FZ_IP_PEER, FZ_IP_US, SP_IP_PROTO_ICMP, l4, n, &r->ip);
    r->packet = packets[0];
    struct sp_icmp_view iv;
    sp_icmp_view_init(&iv, packets[0] + SP_IPV4_MIN_HDR_LEN, n);
    sp_icmp_repr_parse(&iv, &r->icmp);
    struct sp_icmp_repr reply = r->icmp;
    reply.type = SP_ICMP_ECHO_REPLY;
    sp_icmp_repr_emit(&reply, l4);
    r->native_len = datagram(natives[0], FZ_IP_US, FZ_IP_PEER, SP_IP_PROTO_ICMP, l4, n, &ip);
    r->native = natives[0];
    r->flow.remote_port = 7;

    r = &reqs[SP_DECISION_ARP];
    common(r, SP_DECISION_ARP, 0);
    r->packet_len = fz_build_arp(packets[1], SP_ARP_OP_REQUEST, sp_mac_broadcast, FZ_MAC_PEER, FZ_IP_PEER,
                                 sp_mac_zero, FZ_IP_US);
    r->packet = packets[1];
    r->arp = (struct sp_arp_repr){.op = SP_ARP_OP_REQUEST, .sha = FZ_MAC_PEER, .spa = FZ_IP_PEER, .tpa = FZ_IP_US};
    n = fz_build_arp(f, SP_ARP_OP_REPLY, FZ_MAC_PEER, FZ_MAC_US, FZ_IP_US, FZ_MAC_PEER, FZ_IP_PEER);
    memcpy(f + 6, FZ_MAC_US.b, 6); /* the reply is ours */
    memcpy(natives[1], f, n);
    r->native = natives[1];
    r->native_len = n;

    r = &reqs[SP_DECISION_TCP];
    common(r, SP_DECISION_TCP, SP_IP_PROTO_TCP);
    struct sp_tcp_repr syn = {.src_port = 40000, .dst_port = 80, .seq = 1000, .flags = SP_TCP_SYN, .window = 65535,
                              .mss = 1460, .wscale = 7};
    n = sp_tcp_repr_buffer_len(&syn);
    sp_tcp_repr_emit(&syn, FZ_IP_PEER, FZ_IP_US, l4);
    r->packet_len = datagram(packets[2], FZ_IP_PEER, FZ_IP_US, SP_IP_PROTO_TCP, l4, n, &r->ip);
    r->packet = packets[2];
    r->tcp = syn;
    r->tcp.payload = NULL;
    r->flow.local_port = 80;
    r->flow.remote_port = 40000;
    r->hs_state = SP_HS_LISTEN;
    r->iss = 5000;
    r->native_window = r->max_window = 65535;
    r->native_mss = r->max_mss = 1460;
    r->native_wscale = 7;
    struct sp_tcp_repr synack = {.src_port = 80, .dst_port = 40000, .seq = 5000, .ack = 1001,
                                 .flags = SP_TCP_SYN | SP_TCP_ACK, .window = 65535, .mss = 1460, .wscale = 7};
    n = sp_tcp_repr_buffer_len(&synack);
    sp_tcp_repr_emit(&synack, FZ_IP_US, FZ_IP_PEER, l4);
    r->native_len = datagram(natives[2], FZ_IP_US, FZ_IP_PEER, SP_IP_PROTO_TCP, l4, n, &ip);
    r->native = natives[2];
}

static bool known_error(int rc)
{
    return strcmp(sp_llm_errname(rc), "SP_LLM_E?") != 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        make_requests();
        ready = true;
    }
    if (size < 1)
        return 0;
    enum sp_decision_kind k = (enum sp_decision_kind)(data[0] % 6 / 2);
    enum sp_llm_format f = (enum sp_llm_format)(data[0] % 2);
    /* The text in a buffer of exactly its size: nothing past len may be read. */
    char *text = malloc(size - 1 ? size - 1 : 1);
    if (!text)
        return 0;
    memcpy(text, data + 1, size - 1);
    static struct sp_llm_decision d;
    int rc = sp_llm_proposal_parse(k, f, text, size - 1, &d);
    if (rc > 0 || (rc < 0 && !known_error(rc)))
        fail("an unknown result code");
    if (!memchr(d.bad_field, 0, sizeof d.bad_field))
        fail("bad_field not terminated");
    if (rc == 0) {
        const struct sp_decision_proposal *p = &d.proposal;
        if ((unsigned)p->action > SP_PROPOSE_RST || (unsigned)p->next_state > SP_HS_CLOSED)
            fail("an action or state that does not exist");
        if (p->raw != (f == SP_LLM_FMT_RAW))
            fail("the proposal's form is not the format's");
        if (p->raw && p->action != SP_PROPOSE_REPLY && p->action != SP_PROPOSE_DROP)
            fail("a raw answer with an action its schema does not have");
        if (!p->raw && k != SP_DECISION_TCP && p->action != SP_PROPOSE_REPLY && p->action != SP_PROPOSE_DROP)
            fail("an icmp or arp answer with a tcp action");
        if (!p->raw && k == SP_DECISION_TCP && p->action == SP_PROPOSE_REPLY)
            fail("a structured tcp answer saying reply");
        if (k != SP_DECISION_TCP && p->next_state != SP_HS_CLOSED)
            fail("an icmp or arp answer with a handshake state");
        if (p->raw && p->action == SP_PROPOSE_REPLY &&
            (p->raw_bytes != d.raw || p->raw_len > sizeof d.raw))
            fail("raw bytes outside the decision's buffer");
        for (int a = SP_AUTHORITY_EXACT; a <= SP_AUTHORITY_LEGAL; a++) {
            reqs[k].authority = (enum sp_authority)a;
            enum sp_verdict v = sp_validate_proposal(&reqs[k], p);
            if ((unsigned)v >= SP_VERDICT_COUNT)
                fail("a verdict that does not exist");
            if (getenv("SP_FUZZ_TRACE"))
                fprintf(stderr, "%s %s: %s\n", sp_decision_kind_name(k), sp_authority_name((enum sp_authority)a),
                        sp_verdict_name(v));
        }
    } else if (getenv("SP_FUZZ_TRACE")) {
        fprintf(stderr, "%s (%s)\n", sp_llm_errname(rc), d.bad_field);
    }
    free(text);
    return 0;
}
