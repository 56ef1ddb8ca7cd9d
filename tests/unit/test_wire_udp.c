/* UDP view and repr: a captured datagram, round trips, checksum rules and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slowpath/error.h"
#include "slowpath/wire/checksum.h"
#include "slowpath/wire/udp.h"
#include "support.h"

#define SRC_IP 0xc0000201u /* 192.0.2.1 */
#define DST_IP 0xc0000202u /* 192.0.2.2 */

/* 192.0.2.1:40001 -> 192.0.2.2:7 "hello, slowpath" (the UDP part), from scapy. */
static const char HELLO[] = "9c4100070017cdad 68656c6c6f2c20736c6f7770617468";

static void test_parse_captured_datagram(void **state)
{
    (void)state;
    uint8_t b[32];
    int n = sp_test_hex(HELLO, b, sizeof b);
    assert_int_equal(n, 23);
    struct sp_udp_view v;
    assert_int_equal(sp_udp_view_init(&v, b, (size_t)n), 0);
    assert_int_equal(sp_udp_src_port(&v), 40001);
    assert_int_equal(sp_udp_dst_port(&v), 7);
    assert_int_equal(sp_udp_length(&v), 23);
    assert_int_equal(sp_udp_checksum(&v), 0xcdad);
    struct sp_udp_repr r;
    assert_int_equal(sp_udp_repr_parse(&v, SRC_IP, DST_IP, &r), 0);
    assert_int_equal(r.src_port, 40001);
    assert_int_equal(r.dst_port, 7);
    assert_ptr_equal(r.payload, b + 8);
    assert_int_equal(r.payload_len, 15);
    assert_memory_equal(r.payload, "hello, slowpath", 15);
    assert_int_equal(sp_udp_repr_buffer_len(&r), 23);
}

static void test_emit_matches_capture(void **state)
{
    (void)state;
    uint8_t want[32], out[32];
    sp_test_hex(HELLO, want, sizeof want);
    struct sp_udp_repr r = {.src_port = 40001, .dst_port = 7, .payload = (const uint8_t *)"hello, slowpath",
                            .payload_len = 15};
    memset(out, 0xee, sizeof out);
    sp_udp_repr_emit(&r, SRC_IP, DST_IP, out);
    assert_memory_equal(out, want, 23);
}

static void test_echo_reply_built_in_place(void **state)
{
    (void)state;
    uint8_t b[32];
    sp_test_hex(HELLO, b, sizeof b);
    struct sp_udp_view v;
    struct sp_udp_repr r;
    assert_int_equal(sp_udp_view_init(&v, b, 23), 0);
    assert_int_equal(sp_udp_repr_parse(&v, SRC_IP, DST_IP, &r), 0);
    struct sp_udp_repr reply = {.src_port = r.dst_port, .dst_port = r.src_port, .payload = r.payload,
                                .payload_len = r.payload_len};
    sp_udp_repr_emit(&reply, DST_IP, SRC_IP, b); /* payload aliases b + 8 */
    assert_int_equal(sp_get16(b), 7);
    assert_int_equal(sp_get16(b + 2), 40001);
    assert_memory_equal(b + 8, "hello, slowpath", 15);
    /* Swapping both ports and addresses leaves the sum, so the checksum, unchanged. */
    assert_int_equal(sp_get16(b + 6), 0xcdad);
    assert_int_equal(sp_udp_repr_parse(&v, DST_IP, SRC_IP, &r), 0);
}

static void test_zero_checksum_is_sent_as_ffff(void **state)
{
    (void)state;
    /* Pick a payload word equal to the checksum of the datagram with a zero payload word: the
     * one's complement sum becomes 0xffff and the computed checksum 0. */
    uint8_t pay[2] = {0, 0}, out[10];
    struct sp_udp_repr r = {.src_port = 1234, .dst_port = 5678, .payload = pay, .payload_len = 2};
    sp_udp_repr_emit(&r, SRC_IP, DST_IP, out);
    uint16_t c = sp_get16(out + 6);
    sp_put16(pay, c);
    sp_udp_repr_emit(&r, SRC_IP, DST_IP, out);
    assert_int_equal(sp_get16(out + 6), 0xffff);
    struct sp_udp_view v;
    struct sp_udp_repr back;
    assert_int_equal(sp_udp_view_init(&v, out, sizeof out), 0);
    assert_int_equal(sp_udp_repr_parse(&v, SRC_IP, DST_IP, &back), 0);
    assert_int_equal(back.payload_len, 2);
}

static void test_checksum_rules(void **state)
{
    (void)state;
    uint8_t b[32];
    sp_test_hex(HELLO, b, sizeof b);
    struct sp_udp_view v;
    struct sp_udp_repr r;
    assert_int_equal(sp_udp_view_init(&v, b, 23), 0);
    /* Wrong addresses in the pseudo-header. */
    assert_int_equal(sp_udp_repr_parse(&v, SRC_IP, 0xc0000203, &r), SP_ECHECKSUM);
    /* A corrupted payload byte, including the odd last one. */
    b[22] ^= 0x80;
    assert_int_equal(sp_udp_repr_parse(&v, SRC_IP, DST_IP, &r), SP_ECHECKSUM);
    /* A zero checksum means none was computed: accepted as is. */
    sp_put16(b + 6, 0);
    assert_int_equal(sp_udp_repr_parse(&v, SRC_IP, DST_IP, &r), 0);
    assert_int_equal(r.payload_len, 15);
}

static void test_trailing_bytes_beyond_length(void **state)
{
    (void)state;
    /* The IP layer may hand over more bytes than the UDP length (padding): the length field rules
     * both the payload and what the checksum covers. */
    uint8_t b[40];
    memset(b, 0xaa, sizeof b);
    sp_test_hex(HELLO, b, sizeof b);
    struct sp_udp_view v;
    struct sp_udp_repr r;
    assert_int_equal(sp_udp_view_init(&v, b, sizeof b), 0);
    assert_int_equal(sp_udp_payload_len(&v), 15);
    assert_int_equal(sp_udp_repr_parse(&v, SRC_IP, DST_IP, &r), 0);
    assert_int_equal(r.payload_len, 15);
}

static void test_view_errors(void **state)
{
    (void)state;
    uint8_t b[32];
    sp_test_hex(HELLO, b, sizeof b);
    struct sp_udp_view v;
    assert_int_equal(sp_udp_view_init(&v, b, 0), SP_ETRUNCATED);
    assert_int_equal(sp_udp_view_init(&v, b, 7), SP_ETRUNCATED);
    assert_int_equal(sp_udp_view_init(&v, b, 22), SP_EMALFORMED); /* length 23 > buffer */
    sp_put16(b + 4, 7);
    assert_int_equal(sp_udp_view_init(&v, b, 23), SP_EMALFORMED); /* length < header */
    sp_put16(b + 4, 0);
    assert_int_equal(sp_udp_view_init(&v, b, 23), SP_EMALFORMED);
    sp_put16(b + 4, 8);
    assert_int_equal(sp_udp_view_init(&v, b, 23), 0);
    assert_int_equal(sp_udp_payload_len(&v), 0);
}

static void test_port_zero_destination(void **state)
{
    (void)state;
    uint8_t out[16];
    struct sp_udp_repr r = {.src_port = 40001, .dst_port = 0, .payload = (const uint8_t *)"x", .payload_len = 1};
    sp_udp_repr_emit(&r, SRC_IP, DST_IP, out);
    struct sp_udp_view v;
    struct sp_udp_repr back;
    assert_int_equal(sp_udp_view_init(&v, out, 9), 0);
    assert_int_equal(sp_udp_repr_parse(&v, SRC_IP, DST_IP, &back), SP_EMALFORMED);
    /* Source port 0 is allowed (RFC 768: "no reply expected"). */
    r.src_port = 0, r.dst_port = 9;
    sp_udp_repr_emit(&r, SRC_IP, DST_IP, out);
    assert_int_equal(sp_udp_repr_parse(&v, SRC_IP, DST_IP, &back), 0);
    assert_int_equal(back.src_port, 0);
}

/* Bytes the caller may not change, as a decider's proposal is: static const, so they sit in
 * read-only memory where any write through the view (or the repr's parse) would fault, and the
 * compiler would refuse a view that asked for them writable. */
static const uint8_t RO_HELLO[] = {
    0x9c, 0x41, 0x00, 0x07, 0x00, 0x17, 0xcd, 0xad, 0x68, 0x65, 0x6c, 0x6c,
    0x6f, 0x2c, 0x20, 0x73, 0x6c, 0x6f, 0x77, 0x70, 0x61, 0x74, 0x68,
};

static void test_view_of_read_only_bytes(void **state)
{
    (void)state;
    struct sp_udp_view v;
    assert_int_equal(sp_udp_view_init(&v, RO_HELLO, sizeof RO_HELLO), 0);
    assert_int_equal(sp_udp_dst_port(&v), 7);
    assert_ptr_equal(sp_udp_payload(&v), RO_HELLO + SP_UDP_HDR_LEN);
    struct sp_udp_repr r;
    assert_int_equal(sp_udp_repr_parse(&v, SRC_IP, DST_IP, &r), 0); /* checksum verified */
    assert_ptr_equal(r.payload, RO_HELLO + SP_UDP_HDR_LEN);
    assert_int_equal(r.payload_len, 15);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_of_read_only_bytes),
        cmocka_unit_test(test_parse_captured_datagram),
        cmocka_unit_test(test_emit_matches_capture),
        cmocka_unit_test(test_echo_reply_built_in_place),
        cmocka_unit_test(test_zero_checksum_is_sent_as_ffff),
        cmocka_unit_test(test_checksum_rules),
        cmocka_unit_test(test_trailing_bytes_beyond_length),
        cmocka_unit_test(test_view_errors),
        cmocka_unit_test(test_port_zero_destination),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
