/* UDP sockets: bind a port, receive datagrams by callback, send to any address. */
#ifndef SLOWPATH_UDP_H
#define SLOWPATH_UDP_H

#include "slowpath/layer_stack.h"

#include <stddef.h>
#include <stdint.h>

struct sp_iface;
struct sp_udp_socket;

/* Called for each datagram delivered to the socket; data is valid only during the call. */
typedef void (*sp_udp_recv_cb)(struct sp_udp_socket *sock, uint32_t src_ip, uint16_t src_port,
                               const uint8_t *data, size_t len);

struct sp_udp_socket {
    void *data;                      /* free for the owner */
    /* private */
    struct sp_iface *iface;
    uint16_t port;
    sp_udp_recv_cb recv_cb;
    struct sp_udp_socket *next;
};

/* Binds sock to port (0: an ephemeral port). sock must be zeroed or closed (SP_EINVAL when it is
 * bound already). SP_EADDRINUSE when the port is taken. */
int sp_udp_bind(struct sp_iface *iface, struct sp_udp_socket *sock, uint16_t port, sp_udp_recv_cb cb);
/* Sends one datagram (fragmented when larger than the MTU allows). 0, SP_EMSGSIZE above 65507
 * bytes, SP_ENOROUTE, or SP_ENOBUFS when the ARP queue is full. */
int sp_udp_send(struct sp_udp_socket *sock, uint32_t dst_ip, uint16_t dst_port, const void *data, size_t len);
void sp_udp_close(struct sp_udp_socket *sock);

#endif
