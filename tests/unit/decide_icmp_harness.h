/* The echo exchange the ICMP decision tests share (test_decide_icmp*.c): the peer's ping and the
 * native reply, and helpers to feed and expect them. Definitions in decide_icmp_harness.c. */
#ifndef SP_DECIDE_ICMP_HARNESS_H
#define SP_DECIDE_ICMP_HARNESS_H

#include "decide_harness.h"

#define PING_IDENT 0xbeef
#define PING_SEQ 7
#define PING_DATA_LEN 18
#define EVIL_IP 0xcb007109u /* 203.0.113.9 */

/* scapy Ether()/IP(src="192.0.2.1", dst="192.0.2.2", id=0x1234, ttl=64)/ICMP(type=8, id=0xbeef,
 * seq=7)/b"slowpath-ping-data" and the native reply, as hex. */
extern const char h_icmp_ping_hex[];
extern const char h_icmp_pong_hex[];

void rx_ping_seq(struct harness *h, sp_time_t now, uint16_t seq);

void rx_ping(struct harness *h, sp_time_t now);

/* The next frame is the native reply, byte for byte. */
void expect_pong(struct harness *h);

struct sp_decision_proposal good_structured(void);

/* Rewrites both checksums of a raw echo reply datagram after a test edited it. */
void fix_sums(uint8_t *d, size_t len);

/* A raw proposal: the native reply's bytes, copied into buf for a test to edit. */
struct sp_decision_proposal raw_from_native(const struct fake_req *r, uint8_t *buf);

#endif
