/* ICMP view and repr: a captured echo request, echo replies built in place, errors with MTU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slowpath/error.h"
#include "slowpath/wire/icmp.h"
#include "support.h"

/* The ICMP part of a Linux ping (id 0x1234, seq 1, 56 data bytes), from scapy. */
static const char ECHO_REQ[] =
    "0800c580123400016d5e4f6600000000a1b2030000000000"
    "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637";
/* Fragmentation needed, next-hop MTU 1280, quoting the ping's IP header and first 8 bytes. */
static const char FRAG_NEEDED[] =
    "0304184600000500 45000054beef40004001f7b5c0000201c0000202 0800c58012340001";

static void test_parse_captured_echo_request(void **state)
{
    (void)state;
    uint8_t b[64];
    int n = sp_test_hex(ECHO_REQ, b, sizeof b);
    assert_int_equal(n, 64);
    struct sp_icmp_view v;
    assert_int_equal(sp_icmp_view_init(&v, b, (size_t)n), 0);
    assert_int_equal(sp_icmp_type(&v), SP_ICMP_ECHO_REQUEST);
    assert_int_equal(sp_icmp_code(&v), 0);
    assert_int_equal(sp_icmp_checksum(&v), 0xc580);
    assert_true(sp_icmp_checksum_ok(&v));
    struct sp_icmp_repr r;
    assert_int_equal(sp_icmp_repr_parse(&v, &r), 0);
    assert_int_equal(r.type, SP_ICMP_ECHO_REQUEST);
    assert_int_equal(r.ident, 0x1234);
    assert_int_equal(r.seq, 1);
    assert_int_equal(r.mtu, 0);
    assert_ptr_equal(r.data, b + 8);
    assert_int_equal(r.data_len, 56);
    assert_int_equal(sp_icmp_repr_buffer_len(&r), 64);
}

static void test_echo_reply_built_in_place(void **state)
{
    (void)state;
    uint8_t b[64], orig[64];
    sp_test_hex(ECHO_REQ, b, sizeof b);
    memcpy(orig, b, sizeof b);
    struct sp_icmp_view v;
    struct sp_icmp_repr r;
    assert_int_equal(sp_icmp_view_init(&v, b, sizeof b), 0);
    assert_int_equal(sp_icmp_repr_parse(&v, &r), 0);
    r.type = SP_ICMP_ECHO_REPLY;
    sp_icmp_repr_emit(&r, b); /* data aliases b + 8 */
    /* Only the type and checksum change: 0xc580 + 0x0800 = 0xcd80. */
    assert_int_equal(b[0], 0);
    assert_int_equal(sp_get16(b + 2), 0xcd80);
    assert_memory_equal(b + 4, orig + 4, sizeof b - 4);
    assert_true(sp_icmp_checksum_ok(&v));
}

static void test_emit_from_overlapping_source(void **state)
{
    (void)state;
    /* The request sits 12 bytes into the buffer and the reply is written at its start: the data
     * moves down over bytes it came from. */
    uint8_t b[80], want[64];
    sp_test_hex(ECHO_REQ, b + 12, sizeof b - 12);
    sp_test_hex(ECHO_REQ, want, sizeof want);
    want[0] = 0;
    sp_put16(want + 2, 0xcd80);
    struct sp_icmp_repr r = {.type = SP_ICMP_ECHO_REPLY, .ident = 0x1234, .seq = 1, .data = b + 20, .data_len = 56};
    sp_icmp_repr_emit(&r, b);
    assert_memory_equal(b, want, sizeof want);
}

static void test_frag_needed_round_trip(void **state)
{
    (void)state;
    uint8_t want[64], quote[28], out[64];
    int n = sp_test_hex(FRAG_NEEDED, want, sizeof want);
    assert_int_equal(n, 36);
    memcpy(quote, want + 8, sizeof quote);
    struct sp_icmp_repr r = {.type = SP_ICMP_DEST_UNREACH, .code = SP_ICMP_UNREACH_FRAG_NEEDED, .mtu = 1280,
                             .ident = 0xaaaa, .seq = 0xbbbb, /* ignored for errors */
                             .data = quote, .data_len = sizeof quote};
    memset(out, 0xee, sizeof out);
    sp_icmp_repr_emit(&r, out);
    assert_memory_equal(out, want, 36);

    struct sp_icmp_view v;
    struct sp_icmp_repr back;
    assert_int_equal(sp_icmp_view_init(&v, out, 36), 0);
    assert_int_equal(sp_icmp_repr_parse(&v, &back), 0);
    assert_int_equal(back.type, SP_ICMP_DEST_UNREACH);
    assert_int_equal(back.code, SP_ICMP_UNREACH_FRAG_NEEDED);
    assert_int_equal(back.mtu, 1280);
    assert_int_equal(back.ident, 0);
    assert_int_equal(back.seq, 0);
    assert_int_equal(back.data_len, 28);
    assert_memory_equal(back.data, quote, 28);
    assert_true(sp_icmp_is_error(back.type));
    assert_false(sp_icmp_is_error(SP_ICMP_ECHO_REQUEST));
}

static void test_port_unreachable_has_zero_unused_field(void **state)
{
    (void)state;
    uint8_t quote[28], out[64];
    memset(quote, 0x5a, sizeof quote);
    memset(out, 0xee, sizeof out);
    struct sp_icmp_repr r = {.type = SP_ICMP_DEST_UNREACH, .code = SP_ICMP_UNREACH_PORT, .mtu = 1500,
                             .data = quote, .data_len = sizeof quote};
    sp_icmp_repr_emit(&r, out);
    assert_int_equal(out[0], 3);
    assert_int_equal(out[1], 3);
    assert_int_equal(sp_get32(out + 4), 0);
    struct sp_icmp_view v;
    struct sp_icmp_repr back;
    assert_int_equal(sp_icmp_view_init(&v, out, 36), 0);
    assert_int_equal(sp_icmp_repr_parse(&v, &back), 0);
    assert_int_equal(back.mtu, 0);
}

static void test_odd_length_data(void **state)
{
    (void)state;
    const uint8_t data[3] = {0xab, 0xcd, 0xef};
    uint8_t out[11];
    struct sp_icmp_repr r = {.type = SP_ICMP_ECHO_REQUEST, .ident = 7, .seq = 0xffff, .data = data, .data_len = 3};
    sp_icmp_repr_emit(&r, out);
    /* 0x0800 + 0x0007 + 0xffff + 0xabcd + 0xef00 folds to 0xa2d5; checksum 0x5d2a. */
    assert_int_equal(sp_get16(out + 2), 0x5d2a);
    struct sp_icmp_view v;
    struct sp_icmp_repr back;
    assert_int_equal(sp_icmp_view_init(&v, out, sizeof out), 0);
    assert_int_equal(sp_icmp_repr_parse(&v, &back), 0);
    assert_int_equal(back.seq, 0xffff);
    assert_int_equal(back.data_len, 3);
    assert_memory_equal(back.data, data, 3);
}

/* A quote of one of our TCP segments (1500 bytes with DF, 192.0.2.2:7 -> 198.51.100.2:50000,
 * sequence number 123456), as a router sends it back with Fragmentation Needed. */
static const char TCP_QUOTE[] = "450005dc12344000400600 00c0000202c6336402 0007c350 0001e240";

static void test_quote_of_a_tcp_segment(void **state)
{
    (void)state;
    uint8_t b[64];
    int n = sp_test_hex(TCP_QUOTE, b, sizeof b);
    assert_int_equal(n, 28);
    struct sp_icmp_quote q;
    assert_int_equal(sp_icmp_quote_parse(b, (size_t)n, &q), 0);
    assert_int_equal(q.src, 0xc0000202);
    assert_int_equal(q.dst, 0xc6336402);
    assert_int_equal(q.protocol, 6);
    assert_true(q.dont_frag);
    assert_int_equal(q.total_len, 1500);
    assert_int_equal(q.hdr_len, 20);
    assert_int_equal(q.src_port, 7);
    assert_int_equal(q.dst_port, 50000);
    assert_int_equal(q.seq, 123456);
    /* The ping FRAG_NEEDED quotes: ICMP, so no sequence number. */
    uint8_t f[64];
    sp_test_hex(FRAG_NEEDED, f, sizeof f);
    assert_int_equal(sp_icmp_quote_parse(f + 8, 28, &q), 0);
    assert_int_equal(q.protocol, 1);
    assert_int_equal(q.seq, 0);
    assert_int_equal(q.total_len, 84);
}

static void test_quote_with_ip_options_and_bad_quotes(void **state)
{
    (void)state;
    uint8_t b[64], o[64];
    sp_test_hex(TCP_QUOTE, b, sizeof b);
    /* IHL 6: four bytes of options (NOPs) before the TCP header. */
    memcpy(o, b, 20);
    o[0] = 0x46;
    memset(o + 20, 1, 4);
    memcpy(o + 24, b + 20, 8);
    struct sp_icmp_quote q;
    assert_int_equal(sp_icmp_quote_parse(o, 32, &q), 0);
    assert_int_equal(q.hdr_len, 24);
    assert_int_equal(q.src_port, 7);
    assert_int_equal(q.seq, 123456);
    assert_int_equal(sp_icmp_quote_parse(o, 31, &q), SP_ETRUNCATED);   /* 7 bytes of TCP */
    assert_int_equal(sp_icmp_quote_parse(b, 27, &q), SP_ETRUNCATED);
    assert_int_equal(sp_icmp_quote_parse(b, 19, &q), SP_ETRUNCATED);
    b[0] = 0x65;
    assert_int_equal(sp_icmp_quote_parse(b, 28, &q), SP_EUNSUPPORTED);
    b[0] = 0x44;
    assert_int_equal(sp_icmp_quote_parse(b, 28, &q), SP_EMALFORMED);
    b[0] = 0x45;
    b[7] = 0x10;   /* fragment offset 128: no transport header here */
    assert_int_equal(sp_icmp_quote_parse(b, 28, &q), SP_EMALFORMED);
}

static void test_errors(void **state)
{
    (void)state;
    uint8_t b[64];
    sp_test_hex(ECHO_REQ, b, sizeof b);
    struct sp_icmp_view v;
    struct sp_icmp_repr r;
    assert_int_equal(sp_icmp_view_init(&v, b, 0), SP_ETRUNCATED);
    assert_int_equal(sp_icmp_view_init(&v, b, 7), SP_ETRUNCATED);
    assert_int_equal(sp_icmp_view_init(&v, b, 8), 0);
    assert_int_equal(sp_icmp_data_len(&v), 0);
    assert_int_equal(sp_icmp_repr_parse(&v, &r), SP_ECHECKSUM); /* the data is missing */
    assert_int_equal(sp_icmp_view_init(&v, b, sizeof b), 0);
    b[63] ^= 0x01;
    assert_false(sp_icmp_checksum_ok(&v));
    assert_int_equal(sp_icmp_repr_parse(&v, &r), SP_ECHECKSUM);
}

/* Bytes the caller may not change, as a decider's proposal is: static const, so they sit in
 * read-only memory where any write through the view (or the repr's parse) would fault, and the
 * compiler would refuse a view that asked for them writable. */
static const uint8_t RO_ECHO[] = {
    0x08, 0x00, 0x06, 0xfa, 0x12, 0x34, 0x00, 0x01, 0x70, 0x69, 0x6e, 0x67, /* "ping" */
};

static void test_view_of_read_only_bytes(void **state)
{
    (void)state;
    struct sp_icmp_view v;
    assert_int_equal(sp_icmp_view_init(&v, RO_ECHO, sizeof RO_ECHO), 0);
    assert_int_equal(sp_icmp_type(&v), SP_ICMP_ECHO_REQUEST);
    assert_true(sp_icmp_checksum_ok(&v));
    assert_ptr_equal(sp_icmp_data(&v), RO_ECHO + SP_ICMP_HDR_LEN);
    struct sp_icmp_repr r;
    assert_int_equal(sp_icmp_repr_parse(&v, &r), 0);
    assert_int_equal(r.ident, 0x1234);
    assert_int_equal(r.seq, 1);
    assert_ptr_equal(r.data, RO_ECHO + SP_ICMP_HDR_LEN);
    assert_int_equal(r.data_len, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_of_read_only_bytes),
        cmocka_unit_test(test_parse_captured_echo_request),
        cmocka_unit_test(test_echo_reply_built_in_place),
        cmocka_unit_test(test_emit_from_overlapping_source),
        cmocka_unit_test(test_frag_needed_round_trip),
        cmocka_unit_test(test_port_unreachable_has_zero_unused_field),
        cmocka_unit_test(test_odd_length_data),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_quote_of_a_tcp_segment),
        cmocka_unit_test(test_quote_with_ip_options_and_bad_quotes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
