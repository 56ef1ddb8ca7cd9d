/* UDP: sockets bound to ports, delivery by callback, port unreachable for closed ports. */
#include <string.h>

#include "iface_internal.h"

static struct sp_udp_socket *udp_lookup(struct sp_iface *iface, uint16_t port)
{
    for (struct sp_udp_socket *s = iface->udp_sockets; s; s = s->next)
        if (s->port == port)
            return s;
    return NULL;
}

int sp_udp_bind(struct sp_iface *iface, struct sp_udp_socket *sock, uint16_t port, sp_udp_recv_cb cb)
{
    if (!iface || !sock || sock->iface)  /* already bound: close it first */
        return SP_EINVAL;
    if (port == 0) {
        /* The next free port of the dynamic range, wrapping once around it. */
        for (unsigned tries = 0; tries < 65536 - SP_UDP_EPHEMERAL_FIRST && port == 0; tries++) {
            uint16_t p = iface->udp_next_ephemeral;
            iface->udp_next_ephemeral = p == 65535 ? SP_UDP_EPHEMERAL_FIRST : (uint16_t)(p + 1);
            if (!udp_lookup(iface, p))
                port = p;
        }
        if (port == 0)
            return SP_EADDRINUSE;
    } else if (udp_lookup(iface, port)) {
        return SP_EADDRINUSE;
    }
    sock->iface = iface;
    sock->port = port;
    sock->recv_cb = cb;
    sock->next = iface->udp_sockets;
    iface->udp_sockets = sock;
    return 0;
}

void sp_udp_close(struct sp_udp_socket *sock)
{
    if (!sock || !sock->iface)
        return;
    for (struct sp_udp_socket **pp = &sock->iface->udp_sockets; *pp; pp = &(*pp)->next) {
        if (*pp == sock) {
            *pp = sock->next;
            break;
        }
    }
    sock->iface = NULL;
}

int sp_udp_send(struct sp_udp_socket *sock, uint32_t dst_ip, uint16_t dst_port, const void *data, size_t len)
{
    if (!sock || !sock->iface || dst_port == 0)
        return SP_EINVAL;
    if (len > 65535 - SP_IPV4_MIN_HDR_LEN - SP_UDP_HDR_LEN)
        return SP_EMSGSIZE;
    struct sp_iface *iface = sock->iface;
    struct sp_ip_packet pkt;
    memset(&pkt, 0, sizeof pkt);
    pkt.ip.src = iface->cfg.ip;
    pkt.ip.dst = dst_ip;
    pkt.ip.protocol = SP_IP_PROTO_UDP;
    pkt.kind = SP_L4_UDP;
    pkt.l4.udp = (struct sp_udp_repr){
        .src_port = sock->port, .dst_port = dst_port, .payload = data, .payload_len = len,
    };
    int rc = sp_ip_output(iface, iface->now, &pkt);
    if (rc == 0)
        sp_count(iface, SP_STAT_udp_tx);
    return rc;
}

void sp_udp_input(struct sp_iface *iface, sp_time_t now, const struct sp_ipv4_repr *ip,
                  const uint8_t *hdr, size_t hdr_len, const uint8_t *buf, size_t len)
{
    struct sp_udp_view v;
    int err = sp_udp_view_init(&v, buf, len);
    if (err < 0) {
        sp_drop(iface, err == SP_ETRUNCATED ? SP_STAT_drop_udp_truncated : SP_STAT_drop_udp_malformed, NULL);
        return;
    }
    struct sp_udp_repr udp;
    err = iface->rx_csum_ok ? sp_udp_repr_parse_unchecked(&v, &udp) : sp_udp_repr_parse(&v, ip->src, ip->dst, &udp);
    if (err < 0) {
        sp_drop(iface, err == SP_ECHECKSUM ? SP_STAT_drop_udp_bad_checksum : SP_STAT_drop_udp_malformed, NULL);
        return;
    }
    sp_count(iface, SP_STAT_udp_rx);
    struct sp_udp_socket *s = udp_lookup(iface, udp.dst_port);
    if (!s) {
        sp_drop(iface, SP_STAT_drop_udp_no_port, NULL);
        sp_icmp_send_unreachable(iface, now, SP_ICMP_UNREACH_PORT, ip, hdr, hdr_len, buf, len);
        return;
    }
    if (s->recv_cb)
        s->recv_cb(s, ip->src, udp.src_port, udp.payload, udp.payload_len);
    else
        sp_drop(iface, SP_STAT_drop_udp_rx_dropped, NULL);
}
