/* The validator for ARP replies: only for our address, with our MAC (never another host's), to
 * the asker. There is nothing else to choose; legal authority also allows not answering. */

#include "validate_internal.h"

static enum sp_verdict check_fields(const struct sp_decision_request *req, const struct sp_arp_repr *a)
{
    if (!sp_mac_eq(a->sha, req->our_mac))
        return SP_VERDICT_MAC;
    if (a->spa != req->our_ip)
        return SP_VERDICT_ADDRESS;
    if (!sp_mac_eq(a->tha, req->arp.sha) || a->tpa != req->arp.spa)
        return SP_VERDICT_TARGET;
    return SP_VERDICT_VALID;
}

static enum sp_verdict parse_raw(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                 struct sp_arp_repr *a)
{
    /* An Ethernet frame: header and ARP, padded to the 60-byte minimum or not. */
    if (!p->raw_bytes || p->raw_len < SP_ETH_HDR_LEN + SP_ARP_LEN || p->raw_len > SP_ETH_MIN_FRAME)
        return SP_VERDICT_MALFORMED;
    struct sp_eth_view ev;
    if (sp_eth_view_init(&ev, p->raw_bytes, p->raw_len) < 0)
        return SP_VERDICT_MALFORMED;
    struct sp_eth_repr eth;
    sp_eth_repr_parse(&ev, &eth);
    if (eth.ethertype != SP_ETHERTYPE_ARP)
        return SP_VERDICT_HEADER;
    struct sp_arp_view av;
    if (sp_arp_view_init(&av, sp_eth_payload(&ev), sp_eth_payload_len(&ev)) < 0 || sp_arp_repr_parse(&av, a) < 0)
        return SP_VERDICT_MALFORMED;
    if (a->op != SP_ARP_OP_REPLY)
        return SP_VERDICT_HEADER;
    if (!sp_mac_eq(eth.src, req->our_mac))
        return SP_VERDICT_MAC;
    if (!sp_mac_eq(eth.dst, req->arp.sha))
        return SP_VERDICT_TARGET;
    return SP_VERDICT_VALID;
}

enum sp_verdict sp_validate_arp(const struct sp_decision_request *req, const struct sp_decision_proposal *p,
                                struct sp_decision_built *built)
{
    if (p->action == SP_PROPOSE_DROP && req->authority == SP_AUTHORITY_LEGAL) {
        /* Silence only makes us unreachable, which is ours to choose; it misleads nobody. */
        if (built)
            built->action = SP_PROPOSE_DROP;
        return SP_VERDICT_VALID;
    }
    if (p->action != SP_PROPOSE_REPLY)
        return SP_VERDICT_ACTION;
    struct sp_arp_repr a = p->arp;
    if (p->raw) {
        enum sp_verdict v = parse_raw(req, p, &a);
        if (v != SP_VERDICT_VALID)
            return v;
    }
    enum sp_verdict v = check_fields(req, &a);
    if (v != SP_VERDICT_VALID)
        return v;
    if (built) {
        /* Built from the request and us, which the checks proved equal to the proposal. */
        built->action = SP_PROPOSE_REPLY;
        built->arp = (struct sp_arp_repr){
            .op = SP_ARP_OP_REPLY, .sha = req->our_mac, .spa = req->our_ip, .tha = req->arp.sha, .tpa = req->arp.spa,
        };
    }
    return SP_VERDICT_VALID;
}

uint32_t sp_deviations_arp(const struct sp_decision_request *req, const struct sp_decision_built *built,
                           struct sp_decision_chosen *chosen)
{
    (void)req;
    chosen->action = built->action;
    return built->action == SP_PROPOSE_DROP ? SP_DEV(SILENCE) : 0;
}
