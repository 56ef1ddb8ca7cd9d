#include "udp_echo.h"

static void echo_recv(struct sp_udp_socket *sock, uint32_t src_ip, uint16_t src_port, const uint8_t *data,
                      size_t len)
{
    /* Errors (no route, ARP queue full) are counted by the stack; echo has nobody to tell. */
    (void)sp_udp_send(sock, src_ip, src_port, data, len);
}

int sp_udp_echo_start(struct sp_iface *iface, struct sp_udp_socket *sock)
{
    return sp_udp_bind(iface, sock, 7, echo_recv);
}
