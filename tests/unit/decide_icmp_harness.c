/* The ICMP decision tests' echo exchange (decide_icmp_harness.h). */
#include "decide_icmp_harness.h"

#include "iface_internal.h"

/* The same exchange as test_iface_icmp.c: scapy Ether()/IP(src="192.0.2.1", dst="192.0.2.2",
 * id=0x1234, ttl=64)/ICMP(type=8, id=0xbeef, seq=7)/b"slowpath-ping-data" and the native reply
 * (our first IP identifier is 0 with a zero secret). */
const char h_icmp_ping_hex[] =
    "020000000002 020000000001 0800 4500002e123400004001e497c0000201c0000202"
    "08009a8cbeef0007 736c6f77706174682d70696e672d64617461";
const char h_icmp_pong_hex[] =
    "020000000001 020000000002 0800 4500002e000000004001f6cbc0000202c0000201"
    "0000a28cbeef0007 736c6f77706174682d70696e672d64617461";
void rx_ping_seq(struct harness *h, sp_time_t now, uint16_t seq)
{
    uint8_t f[H_FRAME_CAP];
    uint8_t data[PING_DATA_LEN];
    memcpy(data, "slowpath-ping-data", PING_DATA_LEN);
    size_t n = h_ping(f, H_IP_PEER, H_IP_US, PING_IDENT, seq, data, sizeof data);
    h_rx(h, now, f, n);
}

void rx_ping(struct harness *h, sp_time_t now)
{
    uint8_t f[H_FRAME_CAP];
    int n = sp_test_hex(h_icmp_ping_hex, f, sizeof f);
    assert_int_equal(n, 60);
    h_rx(h, now, f, (size_t)n);
}

/* The next frame is the native reply, byte for byte. */
void expect_pong(struct harness *h)
{
    uint8_t f[H_FRAME_CAP], want[H_FRAME_CAP];
    assert_int_equal(sp_test_hex(h_icmp_pong_hex, want, sizeof want), 60);
    assert_int_equal(h_take(h, f), 60);
    assert_memory_equal(f, want, 60);
}

struct sp_decision_proposal good_structured(void)
{
    return (struct sp_decision_proposal){.action = SP_PROPOSE_REPLY, .icmp_dst = H_IP_PEER,
                                         .icmp_ident = PING_IDENT, .icmp_seq = PING_SEQ, .icmp_ttl = 64};
}

/* Rewrites both checksums of a raw echo reply datagram after a test edited it. */
void fix_sums(uint8_t *d, size_t len)
{
    sp_put16(d + 10, 0);
    sp_put16(d + 10, sp_csum(d, 20));
    sp_put16(d + 22, 0);
    sp_put16(d + 22, sp_csum(d + 20, len - 20));
}

/* A raw proposal: the native reply's bytes, copied into buf for a test to edit. */
struct sp_decision_proposal raw_from_native(const struct fake_req *r, uint8_t *buf)
{
    memcpy(buf, r->req.native, r->req.native_len);
    return (struct sp_decision_proposal){.action = SP_PROPOSE_REPLY, .raw = true, .raw_bytes = buf,
                                         .raw_len = r->req.native_len};
}
