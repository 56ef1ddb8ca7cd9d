/* The interface on a raw-IP link (a TUN device, a capture made on one): datagrams with no link
 * header, a point-to-point link with the kernel (or whoever) on the other end.
 *
 * The rest of the stack keeps working on Ethernet frames, so that ICMP, UDP, TCP, fragmentation
 * and the decision points stay one code path for both links. The difference is kept at the two
 * places where frames cross the device boundary, here:
 *   in:  a datagram goes to IPv4 input as if it came from no station (an all-zero source MAC),
 *        so nothing is learned into the neighbour cache;
 *   out: the frame the stack built loses its Ethernet header and any padding; the datagram's own
 *        total length says where it ends.
 * The invariant: no ARP on such a link. The interface sends no gratuitous ARP, resolves no next
 * hop (neigh.c sends at once), routes every destination through the one peer (ipv4.c), and the
 * send path below refuses whatever is not an IPv4 datagram, counted, in case a future caller
 * forgets. Counters stay honest: rx_bytes and tx_bytes count the datagrams' bytes. */
#include <string.h>

#include "iface_internal.h"

void sp_raw_input(struct sp_iface *iface, sp_time_t now, const uint8_t *pkt, size_t len)
{
    /* No link header to check: the IPv4 view's checks are the first ones (a datagram of
     * another IP version is counted drop_ip_bad_version there). */
    struct sp_eth_repr none = {.src = sp_mac_zero, .dst = iface->cfg.mac, .ethertype = SP_ETHERTYPE_IPV4};
    sp_ipv4_input(iface, now, &none, pkt, len);
}

/* The datagram inside a frame the stack built, or NULL when it carries none. */
static const uint8_t *raw_datagram(const uint8_t *frame, size_t len, size_t *dlen)
{
    struct sp_eth_view eth;
    struct sp_ipv4_view ip;
    if (sp_eth_view_init(&eth, frame, len) < 0 || sp_eth_type(&eth) != SP_ETHERTYPE_IPV4 ||
        sp_ipv4_view_init(&ip, sp_eth_payload(&eth), sp_eth_payload_len(&eth)) < 0)
        return NULL;
    *dlen = sp_ipv4_total_len(&ip);
    return sp_eth_payload(&eth);
}

int sp_raw_send(struct sp_iface *iface, const uint8_t *frame, size_t len)
{
    size_t dlen;
    const uint8_t *d = raw_datagram(frame, len, &dlen);
    if (!d) {
        sp_drop(iface, SP_STAT_drop_raw_not_ipv4, "a raw-IP link carries IPv4 datagrams only");
        return SP_EINVAL;
    }
    iface->frames.sent++;
    return sp_device_send(iface->dev, d, dlen);
}

size_t sp_iface_wire_len(const struct sp_iface *iface, const uint8_t *frame, size_t len)
{
    size_t dlen;
    if (sp_iface_has_arp(iface) || !raw_datagram(frame, len, &dlen))
        return len;
    return dlen;
}
