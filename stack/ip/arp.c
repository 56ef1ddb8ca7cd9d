/* ARP (RFC 826): answer requests for our address, learn senders, ask for next hops. */
#include <string.h>

#include "iface_internal.h"

static int arp_emit(struct sp_iface *iface, const struct sp_arp_repr *arp, struct sp_mac dst)
{
    uint8_t *f = iface->tx_buf;
    struct sp_eth_repr eth = {.src = iface->cfg.mac, .dst = dst, .ethertype = SP_ETHERTYPE_ARP};
    sp_eth_repr_emit(&eth, f);
    sp_arp_repr_emit(arp, f + SP_ETH_HDR_LEN);
    size_t len = SP_ETH_HDR_LEN + SP_ARP_LEN;
    memset(f + len, 0, SP_ETH_MIN_FRAME - len); /* pad to the Ethernet minimum */
    len = SP_ETH_MIN_FRAME;
    if (sp_iface_send_frame(iface, f, len) < 0) {
        sp_count(iface, SP_STAT_tx_errors);
        return SP_EIO;
    }
    sp_count(iface, SP_STAT_tx_frames);
    iface->stats.v[SP_STAT_tx_bytes] += len;
    return 0;
}

int sp_arp_send_request(struct sp_iface *iface, uint32_t target)
{
    struct sp_arp_repr arp = {
        .op = SP_ARP_OP_REQUEST, .sha = iface->cfg.mac, .spa = iface->cfg.ip,
        .tha = sp_mac_zero, .tpa = target,
    };
    sp_count(iface, SP_STAT_arp_tx_request);
    return arp_emit(iface, &arp, sp_mac_broadcast);
}

int sp_arp_send_gratuitous(struct sp_iface *iface)
{
    /* A request for our own address (RFC 5227 announcement): caches update, nobody answers. */
    struct sp_arp_repr arp = {
        .op = SP_ARP_OP_REQUEST, .sha = iface->cfg.mac, .spa = iface->cfg.ip,
        .tha = sp_mac_zero, .tpa = iface->cfg.ip,
    };
    sp_count(iface, SP_STAT_arp_tx_gratuitous);
    return arp_emit(iface, &arp, sp_mac_broadcast);
}

/* The native answer to a request for our address: our MAC, to the asker. */
static struct sp_arp_repr arp_native_reply(const struct sp_iface *iface, const struct sp_arp_repr *req)
{
    return (struct sp_arp_repr){
        .op = SP_ARP_OP_REPLY, .sha = iface->cfg.mac, .spa = iface->cfg.ip, .tha = req->sha, .tpa = req->spa,
    };
}

static int arp_reply_to(struct sp_iface *iface, const struct sp_arp_repr *req)
{
    struct sp_arp_repr reply = arp_native_reply(iface, req);
    sp_count(iface, SP_STAT_arp_tx_reply);
    return arp_emit(iface, &reply, req->sha);
}

/* --- The reply as a decision point ----------------------------------------------------------- */

static int arp_send_native(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e)
{
    (void)now;
    return arp_reply_to(iface, &e->req.arp);
}

static int arp_send_proposal(struct sp_iface *iface, sp_time_t now, struct sp_decision_entry *e,
                             const struct sp_decision_proposal *p, const struct sp_decision_built *built)
{
    (void)now;
    (void)e;
    (void)p;
    sp_count(iface, SP_STAT_arp_tx_reply);
    return arp_emit(iface, &built->arp, built->arp.tha);
}

const struct sp_decision_ops sp_arp_decision_ops = {
    .send_native = arp_send_native,
    .send_proposal = arp_send_proposal,
};

/* Writes an Ethernet frame carrying arp, padded to the minimum; returns its length. */
static size_t arp_frame(uint8_t *f, struct sp_mac src, struct sp_mac dst, const struct sp_arp_repr *arp)
{
    struct sp_eth_repr eth = {.src = src, .dst = dst, .ethertype = SP_ETHERTYPE_ARP};
    sp_eth_repr_emit(&eth, f);
    sp_arp_repr_emit(arp, f + SP_ETH_HDR_LEN);
    memset(f + SP_ETH_HDR_LEN + SP_ARP_LEN, 0, SP_ETH_MIN_FRAME - SP_ETH_HDR_LEN - SP_ARP_LEN);
    return SP_ETH_MIN_FRAME;
}

/* Parks the request and asks; a repeat from the same (sender IP, sender MAC) waits with it. */
static void arp_decide(struct sp_iface *iface, sp_time_t now, const struct sp_eth_repr *eth,
                       const struct sp_arp_repr *arp)
{
    struct sp_flow flow = {.protocol = 0, .local_ip = iface->cfg.ip, .remote_ip = arp->spa};
    uint64_t identity = 0;
    for (int i = 0; i < 6; i++)
        identity = identity << 8 | arp->sha.b[i];
    struct sp_decision_entry *e;
    switch (sp_decision_open(iface, now, SP_DECISION_ARP, &flow, identity, SP_ETH_MIN_FRAME, &e)) {
    case SP_DECISION_ANSWER:
        arp_reply_to(iface, arp);
        return;
    case SP_DECISION_WAIT:
        return;
    case SP_DECISION_PARK:
        break;
    }
    e->req.arp = *arp;
    e->req.packet_len = arp_frame(e->packet, eth->src, eth->dst, arp);
    struct sp_arp_repr reply = arp_native_reply(iface, arp);
    e->req.native_len = arp_frame(e->native, iface->cfg.mac, arp->sha, &reply);
    sp_decision_ask(iface, now, e);
}

void sp_arp_input(struct sp_iface *iface, sp_time_t now, const struct sp_eth_repr *eth, const uint8_t *buf, size_t len)
{
    sp_count(iface, SP_STAT_arp_rx);
    struct sp_arp_view v;
    if (sp_arp_view_init(&v, buf, len) < 0) {
        sp_drop(iface, SP_STAT_drop_arp_truncated, NULL);
        return;
    }
    struct sp_arp_repr arp;
    int err = sp_arp_repr_parse(&v, &arp);
    if (err == SP_EUNSUPPORTED) {
        sp_drop(iface, SP_STAT_drop_arp_unsupported, NULL);
        return;
    }
    if (err < 0) {
        sp_drop(iface, SP_STAT_drop_arp_malformed, NULL);
        return;
    }
    /* A sender that claims no station's MAC (zero, broadcast, a group), ours, or an address no
     * station has (ours, a broadcast, a group, loopback: RFC 1122 3.2.1.3, as for IPv4 sources)
     * is never learned nor answered. The Ethernet source was checked, but ARP's sender need not be
     * the same. */
    if (!sp_mac_is_host(arp.sha) || sp_mac_eq(arp.sha, iface->cfg.mac) || arp.spa == iface->cfg.ip ||
        sp_iface_is_broadcast(iface, arp.spa) || sp_ipv4_is_multicast(arp.spa) || (arp.spa >> 24) == 127) {
        sp_drop(iface, SP_STAT_drop_arp_bad_sender, NULL);
        return;
    }
    bool for_us = arp.tpa == iface->cfg.ip;
    /* RFC 826's merge: refresh a known sender always; add it only when the packet is for us. A
     * sender address of 0.0.0.0 (an RFC 5227 probe) is not an address to learn. */
    if (arp.spa != 0)
        sp_neigh_update(iface, now, arp.spa, arp.sha, for_us);
    if (!for_us) {
        sp_drop(iface, SP_STAT_drop_arp_not_for_us, NULL);
        return;
    }
    if (arp.op != SP_ARP_OP_REQUEST)
        return;
    if (!sp_decision_is_native(iface, SP_DECISION_ARP)) {
        arp_decide(iface, now, eth, &arp);
        return;
    }
    arp_reply_to(iface, &arp);
}
