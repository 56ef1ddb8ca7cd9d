/* UDP echo (RFC 862) on port 7. */
#ifndef SP_APP_UDP_ECHO_H
#define SP_APP_UDP_ECHO_H

#include "slowpath/udp.h"

int sp_udp_echo_start(struct sp_iface *iface, struct sp_udp_socket *sock);

#endif
