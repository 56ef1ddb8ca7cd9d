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
    if (sp_device_send(iface->dev, f, len) < 0) {
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
static void arp_reply_to(struct sp_iface *iface, const struct sp_arp_repr *req)
{
    struct sp_arp_repr reply = {
        .op = SP_ARP_OP_REPLY, .sha = iface->cfg.mac, .spa = iface->cfg.ip,
        .tha = req->sha, .tpa = req->spa,
    };
    sp_count(iface, SP_STAT_arp_tx_reply);
    arp_emit(iface, &reply, req->sha);
}

void sp_arp_input(struct sp_iface *iface, sp_time_t now, const struct sp_eth_repr *eth, uint8_t *buf, size_t len)
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
    /* A sender that claims a broadcast or multicast MAC, or our own address, is never learned. */
    if (sp_mac_is_multicast(arp.sha) || sp_mac_eq(arp.sha, iface->cfg.mac) ||
        arp.spa == iface->cfg.ip || sp_iface_is_broadcast(iface, arp.spa) || sp_ipv4_is_multicast(arp.spa)) {
        sp_drop(iface, SP_STAT_drop_arp_bad_sender, NULL);
        return;
    }
    (void)eth;
    bool for_us = arp.tpa == iface->cfg.ip;
    /* RFC 826's merge: refresh a known sender always; add it only when the packet is for us. A
     * sender address of 0.0.0.0 (an RFC 5227 probe) is not an address to learn. */
    if (arp.spa != 0)
        sp_neigh_update(iface, now, arp.spa, arp.sha, for_us);
    if (!for_us) {
        sp_drop(iface, SP_STAT_drop_arp_not_for_us, NULL);
        return;
    }
    if (arp.op == SP_ARP_OP_REQUEST)
        arp_reply_to(iface, &arp);
}
