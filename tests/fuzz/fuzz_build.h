/* Frames for the fuzz seeds and harnesses, built with the wire layer: what the peer (192.0.2.1)
 * or a far host behind the gateway sends to us. Each returns the frame's length (padded to the
 * Ethernet minimum); buffers hold SP_MAX_FRAME bytes. */
#ifndef SP_FUZZ_BUILD_H
#define SP_FUZZ_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "slowpath/wire/ethernet.h"

size_t fz_build_arp(uint8_t *f, uint16_t op, struct sp_mac eth_dst, struct sp_mac sha, uint32_t spa,
                    struct sp_mac tha, uint32_t tpa);
/* An IPv4 datagram (or one fragment of one: payload is the fragment's bytes at offset off) from
 * src to us; the source MAC is the peer's on-link, the gateway's otherwise. */
size_t fz_build_ipv4(uint8_t *f, uint32_t src, uint32_t dst, uint8_t proto, uint16_t ident, uint16_t off,
                     bool more, const uint8_t *payload, size_t len);
/* An echo request's ICMP message (header and data) into buf; its length. */
size_t fz_build_icmp_echo(uint8_t *buf, uint16_t ident, uint16_t seq, const uint8_t *data, size_t len);
size_t fz_build_ping(uint8_t *f, uint32_t src, uint16_t ident, uint16_t seq, size_t data_len);
size_t fz_build_udp(uint8_t *f, uint32_t src, uint16_t sport, uint16_t dport, const void *data, size_t len);
/* mss 0: no option; wscale < 0: none. */
size_t fz_build_tcp(uint8_t *f, uint32_t src, uint16_t sport, uint16_t dport, uint32_t seq, uint32_t ack,
                    uint8_t flags, uint16_t win, uint16_t mss, int8_t wscale, const void *data, size_t len);

#endif
