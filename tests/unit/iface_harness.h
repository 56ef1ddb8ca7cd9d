/* A scenario harness for the interface tests: one interface on a memory device, frames built with
 * the wire layer and fed in at explicit times, and what the stack sends taken back and parsed.
 * The helpers live in iface_harness.c, part of the test-support library every test program links. */
#ifndef SP_IFACE_HARNESS_H
#define SP_IFACE_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slowpath/device.h"
#include "slowpath/error.h"
#include "slowpath/iface.h"
#include "slowpath/opts.h"
#include "slowpath/stats.h"
#include "slowpath/udp.h"
#include "slowpath/wire/arp.h"
#include "slowpath/wire/checksum.h"
#include "slowpath/wire/ethernet.h"
#include "slowpath/wire/icmp.h"
#include "slowpath/wire/ipv4.h"
#include "slowpath/wire/udp.h"
#include "support.h"

/* The test network: us at 192.0.2.2/24, the peer at 192.0.2.1. */
#define H_IP_US 0xc0000202u
#define H_IP_PEER 0xc0000201u
#define H_IP_BCAST 0xc00002ffu
#define H_MAC_US ((struct sp_mac){{0x02, 0, 0, 0, 0, 0x02}})
#define H_MAC_PEER ((struct sp_mac){{0x02, 0, 0, 0, 0, 0x01}})
#define H_T0 1000u /* the interface is created at this time */
#define H_DEPTH 512 /* device queue depth: more than any test sends between takes */
#define H_FRAME_CAP SP_MAX_FRAME

struct harness {
    struct sp_device *dev;
    struct sp_iface *iface;
};

/* Opens the device and interface at H_T0 and, unless keep_announce, discards the gratuitous ARP. */
struct harness *h_open_ex(bool keep_announce);

struct harness *h_open(void);

void h_close(struct harness *h);

int h_setup(void **state);

int h_teardown(void **state);

uint64_t h_stat(const struct harness *h, enum sp_stat s);

/* Feeds one frame through the memory device at `now`. */
void h_rx(struct harness *h, sp_time_t now, const uint8_t *frame, size_t len);

size_t h_pending(const struct harness *h);

/* Takes the next sent frame (there must be one) into f; returns its length. */
size_t h_take(struct harness *h, uint8_t *f);

void h_drain(struct harness *h);

void h_assert_silent(const struct harness *h);

/* --- Building frames --------------------------------------------------------------------------- */

/* Ethernet header at f; returns SP_ETH_HDR_LEN. */
size_t h_eth(uint8_t *f, struct sp_mac src, struct sp_mac dst, uint16_t type);

/* Zero-pads a frame to the Ethernet minimum, as a NIC does. */
size_t h_pad(uint8_t *f, size_t len);

size_t h_arp(uint8_t *f, struct sp_mac eth_dst, uint16_t op, struct sp_mac sha, uint32_t spa,
             struct sp_mac tha, uint32_t tpa);

/* Who has `tpa`? asked by (sha, spa), broadcast. */
size_t h_arp_request(uint8_t *f, struct sp_mac sha, uint32_t spa, uint32_t tpa);

/* The peer's answer to our request. */
size_t h_arp_reply(uint8_t *f, struct sp_mac sha, uint32_t spa);

/* A frame from the peer's MAC to ours carrying an IP datagram: ip (payload_len included) is
 * emitted, then payload is copied after the header. */
size_t h_ip_frame(uint8_t *f, const struct sp_ipv4_repr *ip, const uint8_t *payload, size_t len);

struct sp_ipv4_repr h_ip(uint32_t src, uint32_t dst, uint8_t proto, size_t payload_len);

/* Writes an ICMP echo request into buf; returns its length. */
size_t h_icmp_echo(uint8_t *buf, uint8_t type, uint16_t ident, uint16_t seq, const uint8_t *data,
                   size_t len);

size_t h_ping(uint8_t *f, uint32_t src, uint32_t dst, uint16_t ident, uint16_t seq,
              const uint8_t *data, size_t len);

size_t h_udp_dgram(uint8_t *buf, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
                   const uint8_t *data, size_t len);

size_t h_udp(uint8_t *f, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
             const uint8_t *data, size_t len);

/* Recomputes the IP header checksum after a test edited the header of the frame at f. */
void h_ip_refresh_checksum(uint8_t *f);

/* --- Reading what the stack sent -------------------------------------------------------------- */

struct h_ip_out {
    struct sp_eth_repr eth;
    struct sp_ipv4_view v;
    struct sp_ipv4_repr ip;
    const uint8_t *payload;
    size_t payload_len;
};

/* Parses a sent IPv4 frame, asserting the header is well formed with a valid checksum and that the
 * frame is no longer than it must be (header + payload, padded to the minimum only). */
void h_parse_ip(uint8_t *f, size_t len, struct h_ip_out *o);

/* Takes the next frame and parses it as an IPv4 frame to the peer. */
void h_take_ip(struct harness *h, uint8_t *f, struct h_ip_out *o);

/* Parses a sent ARP frame (always padded to 60 bytes). */
void h_parse_arp(const uint8_t *frame, size_t len, struct sp_eth_repr *eth, struct sp_arp_repr *arp);

/* Takes the next frame and asserts it is our broadcast request for tpa. */
void h_expect_arp_request(struct harness *h, uint32_t tpa);

/* The peer's MAC becomes known at `now` (by a request it sends for our address); the reply is
 * taken and discarded. */
void h_learn_peer(struct harness *h, sp_time_t now);

/* A pattern of len bytes that differs with seed, so reordered or shifted data shows. */
void h_fill(uint8_t *buf, size_t len, unsigned seed);

#endif
