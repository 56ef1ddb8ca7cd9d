/* TCP view and repr: a captured Linux SYN, option emit order and alignment, option parsing rules
 * and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slowpath/error.h"
#include "slowpath/wire/checksum.h"
#include "slowpath/wire/ipv4.h"
#include "slowpath/wire/tcp.h"
#include "support.h"

#define CLIENT_IP 0xc0000201u /* 192.0.2.1 */
#define SERVER_IP 0xc0000202u /* 192.0.2.2 */

/* Linux-style SYN 192.0.2.1:40000 -> 192.0.2.2:80 with MSS 1460, SACK_PERM, TS, NOP, WS 7 (the
 * TCP part, from scapy). */
static const char SYN[] = "9c4000501122334400000000a002faf04d340000"
                          "020405b4 0402 080aabcdef1200000000 01 030307";
/* The SYN-ACK slowpath emits: MSS, NOP WS, NOP NOP SACK_PERM, NOP NOP TS (scapy, same options). */
static const char SYNACK[] = "00509c40a0b0c0d011223345b012ffffd0860000"
                             "020405b4 01030307 01010402 0101080a01020304abcdef12";
/* 192.0.2.2:7 -> 192.0.2.1:40000 PSH|ACK "echo me", no options. */
static const char DATA[] = "00079c40000003e8000007d0501804002c820000 6563686f206d65";

/* Builds a 20-byte header from 192.0.2.1:1000 -> 192.0.2.2:2000 with the given options (hex,
 * a multiple of 4 bytes), and a correct checksum. Returns the segment length. */
static size_t build(uint8_t *buf, size_t cap, const char *opts_hex)
{
    uint8_t opts[40];
    int olen = sp_test_hex(opts_hex, opts, sizeof opts);
    assert_true(olen >= 0 && olen % 4 == 0);
    size_t len = SP_TCP_MIN_HDR_LEN + (size_t)olen;
    assert_true(len <= cap);
    memset(buf, 0, len);
    sp_put16(buf, 1000);
    sp_put16(buf + 2, 2000);
    sp_put32(buf + 4, 1);
    buf[12] = (uint8_t)(len / 4 << 4);
    buf[13] = SP_TCP_SYN;
    sp_put16(buf + 14, 1024);
    memcpy(buf + 20, opts, (size_t)olen);
    uint32_t sum = sp_csum_pseudo_ipv4(CLIENT_IP, SERVER_IP, SP_IP_PROTO_TCP, (uint16_t)len);
    sp_put16(buf + 16, sp_csum_finish(sp_csum_add(sum, buf, len)));
    return len;
}

static int parse_opts(const char *opts_hex, struct sp_tcp_repr *r)
{
    uint8_t b[60];
    size_t len = build(b, sizeof b, opts_hex);
    struct sp_tcp_view v;
    assert_int_equal(sp_tcp_view_init(&v, b, len), 0);
    return sp_tcp_repr_parse(&v, CLIENT_IP, SERVER_IP, r);
}

static void test_parse_captured_syn(void **state)
{
    (void)state;
    uint8_t b[64];
    int n = sp_test_hex(SYN, b, sizeof b);
    assert_int_equal(n, 40);
    struct sp_tcp_view v;
    assert_int_equal(sp_tcp_view_init(&v, b, (size_t)n), 0);
    assert_int_equal(sp_tcp_src_port(&v), 40000);
    assert_int_equal(sp_tcp_dst_port(&v), 80);
    assert_int_equal(sp_tcp_hdr_len(&v), 40);
    assert_int_equal(sp_tcp_flags(&v), SP_TCP_SYN);
    assert_int_equal(sp_tcp_checksum(&v), 0x4d34);
    assert_int_equal(sp_tcp_payload_len(&v), 0);
    struct sp_tcp_repr r;
    assert_int_equal(sp_tcp_repr_parse(&v, CLIENT_IP, SERVER_IP, &r), 0);
    assert_int_equal(r.src_port, 40000);
    assert_int_equal(r.dst_port, 80);
    assert_int_equal(r.seq, 0x11223344);
    assert_int_equal(r.ack, 0);
    assert_int_equal(r.flags, SP_TCP_SYN);
    assert_int_equal(r.window, 64240);
    assert_int_equal(r.mss, 1460);
    assert_int_equal(r.wscale, 7);
    assert_true(r.sack_perm);
    assert_true(r.has_timestamp);
    assert_int_equal(r.ts_val, 0xabcdef12);
    assert_int_equal(r.ts_ecr, 0);
    assert_int_equal(r.payload_len, 0);
    /* The pseudo-header binds the addresses. */
    assert_int_equal(sp_tcp_repr_parse(&v, CLIENT_IP, 0xc0000203, &r), SP_ECHECKSUM);
}

static void test_emit_synack_with_all_options(void **state)
{
    (void)state;
    struct sp_tcp_repr r = {.src_port = 80, .dst_port = 40000, .seq = 0xa0b0c0d0, .ack = 0x11223345,
                            .flags = SP_TCP_SYN | SP_TCP_ACK, .window = 65535, .mss = 1460, .wscale = 7,
                            .sack_perm = true, .has_timestamp = true, .ts_val = 0x01020304,
                            .ts_ecr = 0xabcdef12};
    assert_int_equal(sp_tcp_repr_header_len(&r), 44);
    assert_int_equal(sp_tcp_repr_buffer_len(&r), 44);
    uint8_t out[64], want[64];
    assert_int_equal(sp_test_hex(SYNACK, want, sizeof want), 44);
    memset(out, 0xee, sizeof out);
    sp_tcp_repr_emit(&r, SERVER_IP, CLIENT_IP, out);
    assert_memory_equal(out, want, 44);

    struct sp_tcp_view v;
    struct sp_tcp_repr back;
    assert_int_equal(sp_tcp_view_init(&v, out, 44), 0);
    assert_int_equal(sp_tcp_repr_parse(&v, SERVER_IP, CLIENT_IP, &back), 0);
    assert_int_equal(back.seq, r.seq);
    assert_int_equal(back.ack, r.ack);
    assert_int_equal(back.flags, r.flags);
    assert_int_equal(back.window, r.window);
    assert_int_equal(back.mss, 1460);
    assert_int_equal(back.wscale, 7);
    assert_true(back.sack_perm);
    assert_true(back.has_timestamp);
    assert_int_equal(back.ts_val, 0x01020304);
    assert_int_equal(back.ts_ecr, 0xabcdef12);
}

static void test_emit_option_subsets_stay_aligned(void **state)
{
    (void)state;
    /* Each combination: header length a multiple of 4, and every option parses back. */
    for (int mask = 0; mask < 16; mask++) {
        struct sp_tcp_repr r = {.src_port = 1, .dst_port = 2, .flags = SP_TCP_SYN, .wscale = -1};
        if (mask & 1) r.mss = 536;
        if (mask & 2) r.wscale = 0;
        if (mask & 4) r.sack_perm = true;
        if (mask & 8) r.has_timestamp = true, r.ts_val = 99, r.ts_ecr = 0;
        size_t hl = sp_tcp_repr_header_len(&r);
        assert_int_equal(hl % 4, 0);
        assert_int_equal(hl, 20 + (mask & 1 ? 4 : 0) + (mask & 2 ? 4 : 0) + (mask & 4 ? 4 : 0) + (mask & 8 ? 12 : 0));
        uint8_t out[64];
        sp_tcp_repr_emit(&r, CLIENT_IP, SERVER_IP, out);
        struct sp_tcp_view v;
        struct sp_tcp_repr back;
        assert_int_equal(sp_tcp_view_init(&v, out, hl), 0);
        assert_int_equal(sp_tcp_hdr_len(&v), hl);
        assert_int_equal(sp_tcp_repr_parse(&v, CLIENT_IP, SERVER_IP, &back), 0);
        assert_int_equal(back.mss, r.mss);
        assert_int_equal(back.wscale, r.wscale);
        assert_int_equal(back.sack_perm, r.sack_perm);
        assert_int_equal(back.has_timestamp, r.has_timestamp);
        assert_int_equal(back.ts_val, r.ts_val);
    }
}

static void test_data_segment_round_trip(void **state)
{
    (void)state;
    uint8_t want[64], out[64];
    int n = sp_test_hex(DATA, want, sizeof want);
    assert_int_equal(n, 27);
    struct sp_tcp_repr r = {.src_port = 7, .dst_port = 40000, .seq = 1000, .ack = 2000,
                            .flags = SP_TCP_PSH | SP_TCP_ACK, .window = 1024, .wscale = -1,
                            .payload = (const uint8_t *)"echo me", .payload_len = 7};
    sp_tcp_repr_emit(&r, SERVER_IP, CLIENT_IP, out);
    assert_memory_equal(out, want, 27);

    struct sp_tcp_view v;
    struct sp_tcp_repr back;
    assert_int_equal(sp_tcp_view_init(&v, want, 27), 0);
    assert_int_equal(sp_tcp_repr_parse(&v, SERVER_IP, CLIENT_IP, &back), 0);
    assert_int_equal(back.mss, 0);
    assert_int_equal(back.wscale, -1);
    assert_false(back.sack_perm);
    assert_false(back.has_timestamp);
    assert_ptr_equal(back.payload, want + 20);
    assert_int_equal(back.payload_len, 7);

    /* Payload already in place (aliasing): emitting again changes nothing. */
    back.payload = want + 20;
    sp_tcp_repr_emit(&back, SERVER_IP, CLIENT_IP, want);
    assert_memory_equal(out, want, 27);

    /* Payload that must move forward over itself because options were added in front of it. */
    uint8_t big[80];
    memcpy(big + 20, "echo me", 7);
    r.payload = big + 20;
    r.has_timestamp = true;
    r.ts_val = 5;
    sp_tcp_repr_emit(&r, SERVER_IP, CLIENT_IP, big);
    assert_memory_equal(big + 32, "echo me", 7);
    assert_int_equal(sp_tcp_view_init(&v, big, 39), 0);
    assert_int_equal(sp_tcp_repr_parse(&v, SERVER_IP, CLIENT_IP, &back), 0);
    assert_int_equal(back.payload_len, 7);
    assert_memory_equal(back.payload, "echo me", 7);
}

static void test_wscale_is_clamped(void **state)
{
    (void)state;
    struct sp_tcp_repr r;
    assert_int_equal(parse_opts("01 030314", &r), 0);
    assert_int_equal(r.wscale, 14);
    assert_int_equal(parse_opts("01 03030f", &r), 0);
    assert_int_equal(r.wscale, 14);
    assert_int_equal(parse_opts("01 0303ff", &r), 0);
    assert_int_equal(r.wscale, 14);
    assert_int_equal(parse_opts("01 03030e", &r), 0);
    assert_int_equal(r.wscale, 14);
    assert_int_equal(parse_opts("01 030300", &r), 0);
    assert_int_equal(r.wscale, 0);
}

static void test_unknown_options_are_skipped(void **state)
{
    (void)state;
    struct sp_tcp_repr r;
    /* Kind 30 (MPTCP) length 6, then MSS; kind 254 (experimental) length 2, then SACK_PERM. */
    assert_int_equal(parse_opts("1e06aabbccdd 020405b4 fe02 0402 0000", &r), 0);
    assert_int_equal(r.mss, 1460);
    assert_true(r.sack_perm);
    assert_int_equal(r.wscale, -1);
}

static void test_parse_sack_blocks(void **state)
{
    (void)state;
    struct sp_tcp_repr r;
    assert_int_equal(parse_opts("0101 050a 0000000100000002", &r), 0);
    assert_int_equal(r.sack_n, 1);
    assert_int_equal(r.sack[0].left, 1);
    assert_int_equal(r.sack[0].right, 2);
    /* Four blocks fill the 40 bytes with two NOPs: the most one header can carry. */
    assert_int_equal(parse_opts("0101 0522 0000000a0000000b 0000000c0000000d 0000000e0000000f 0000001000000011", &r), 0);
    assert_int_equal(r.sack_n, 4);
    assert_int_equal(r.sack[3].left, 0x10);
    assert_int_equal(r.sack[3].right, 0x11);
    /* Three blocks after a timestamp, as Linux sends them; the blocks are taken as written (an
     * inverted or old block is the connection's to judge, RFC 2883). */
    assert_int_equal(parse_opts("0101080a0000006400000032 0101051a 0000000500000001 0000000100000002 0000000300000004", &r), 0);
    assert_true(r.has_timestamp);
    assert_int_equal(r.ts_val, 100);
    assert_int_equal(r.sack_n, 3);
    assert_int_equal(r.sack[0].left, 5);
    assert_int_equal(r.sack[0].right, 1);
    /* No option: no blocks. */
    assert_int_equal(parse_opts("01010101", &r), 0);
    assert_int_equal(r.sack_n, 0);
}

static void test_emit_sack_blocks(void **state)
{
    (void)state;
    struct sp_tcp_repr r = {.src_port = 80, .dst_port = 40000, .seq = 1, .ack = 1000, .flags = SP_TCP_ACK,
                            .window = 100, .wscale = -1, .sack_n = 2,
                            .sack = {{3000, 4000}, {1500, 2000}}};
    /* NOP NOP SACK(2 blocks): 4 + 16 bytes. */
    assert_int_equal(sp_tcp_repr_header_len(&r), 40);
    uint8_t out[80], want[40];
    sp_tcp_repr_emit(&r, SERVER_IP, CLIENT_IP, out);
    assert_int_equal(sp_test_hex("01010512 00000bb800000fa0 000005dc000007d0", want, sizeof want), 20);
    assert_memory_equal(out + 20, want, 20);
    struct sp_tcp_view v;
    struct sp_tcp_repr back;
    assert_int_equal(sp_tcp_view_init(&v, out, 40), 0);
    assert_int_equal(sp_tcp_repr_parse(&v, SERVER_IP, CLIENT_IP, &back), 0);
    assert_int_equal(back.sack_n, 2);
    assert_int_equal(back.sack[0].left, 3000);
    assert_int_equal(back.sack[1].right, 2000);

    /* With a timestamp only three of four blocks fit (12 + 4 + 3 * 8 = 40 bytes). */
    r.has_timestamp = true;
    r.ts_val = 7;
    r.ts_ecr = 9;
    r.sack_n = 4;
    r.sack[2] = (struct sp_tcp_sack_block){5000, 6000};
    r.sack[3] = (struct sp_tcp_sack_block){7000, 8000};
    assert_int_equal(sp_tcp_repr_header_len(&r), 60);
    sp_tcp_repr_emit(&r, SERVER_IP, CLIENT_IP, out);
    assert_int_equal(sp_tcp_view_init(&v, out, 60), 0);
    assert_int_equal(sp_tcp_repr_parse(&v, SERVER_IP, CLIENT_IP, &back), 0);
    assert_int_equal(back.ts_ecr, 9);
    assert_int_equal(back.sack_n, 3);
    assert_int_equal(back.sack[2].left, 5000);

    /* Without one, all four (4 + 32 bytes). */
    r.has_timestamp = false;
    assert_int_equal(sp_tcp_repr_header_len(&r), 56);
    /* A SYN's options leave room for two: MSS, WS, SACK_PERM and TS take 24 of the 40 bytes. */
    r.mss = 1460;
    r.wscale = 7;
    r.sack_perm = true;
    r.has_timestamp = true;
    assert_int_equal(sp_tcp_repr_header_len(&r), 20 + 24 + 4 + 8);
    /* Payload follows the blocks. */
    r.mss = 0;
    r.wscale = -1;
    r.sack_perm = false;
    r.sack_n = 1;
    r.payload = (const uint8_t *)"abc";
    r.payload_len = 3;
    assert_int_equal(sp_tcp_repr_buffer_len(&r), 20 + 12 + 12 + 3);
    sp_tcp_repr_emit(&r, SERVER_IP, CLIENT_IP, out);
    assert_int_equal(sp_tcp_view_init(&v, out, 47), 0);
    assert_int_equal(sp_tcp_repr_parse(&v, SERVER_IP, CLIENT_IP, &back), 0);
    assert_int_equal(back.sack_n, 1);
    assert_int_equal(back.payload_len, 3);
    assert_memory_equal(back.payload, "abc", 3);
}

static void test_end_of_options_stops_parsing(void **state)
{
    (void)state;
    struct sp_tcp_repr r;
    /* Whatever follows END is padding, even bytes that would be malformed options. */
    assert_int_equal(parse_opts("020405b4 00 02ffff", &r), 0);
    assert_int_equal(r.mss, 1460);
    assert_int_equal(parse_opts("00 020405b4 010101", &r), 0);
    assert_int_equal(r.mss, 0);
    assert_int_equal(parse_opts("01010101", &r), 0);
}

static void test_bad_option_lengths(void **state)
{
    (void)state;
    struct sp_tcp_repr r;
    static const char *const bad[] = {
        "020305b4",                      /* MSS length 3 */
        "020505b4 00000000",             /* MSS length 5 */
        "03040700",                      /* WS length 4 */
        "01030207",                      /* WS length 2 */
        "04030000",                      /* SACK_PERM length 3 */
        "080811111111 22220000",         /* TS length 8 */
        "080b1111111122222222 00",       /* TS length 11 */
        "0502",                          /* SACK without a block */
        "0509 0000000100000002 000000",  /* SACK with a block and a byte */
        "050b 0000000100000002 000000",  /* SACK with a block and three bytes */
        "0506 00000001",                 /* SACK with half a block */
        "050a 00000001",                 /* SACK overrunning the header */
        "1e010000",                      /* unknown, length 1 */
        "1e000000",                      /* unknown, length 0 (would never advance) */
        "1e0a0000",                      /* unknown, overruns the header */
        "0101 020405b4 08",              /* TS kind in the last byte, no length */
        "01010101 0101 0204",            /* MSS cut off by the end of the header */
        "010101 1e",                     /* a kind with no length byte at the end */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t b[60];
        size_t len;
        /* Pad to a multiple of 4 with NOPs in front where needed so build() accepts it. */
        char hex[128];
        uint8_t tmp[40];
        int n = sp_test_hex(bad[i], tmp, sizeof tmp);
        assert_true(n > 0);
        size_t pad = (4 - (size_t)n % 4) % 4;
        strcpy(hex, "");
        for (size_t k = 0; k < pad; k++) strcat(hex, "01");
        strcat(hex, bad[i]);
        len = build(b, sizeof b, hex);
        struct sp_tcp_view v;
        assert_int_equal(sp_tcp_view_init(&v, b, len), 0);
        if (sp_tcp_repr_parse(&v, CLIENT_IP, SERVER_IP, &r) != SP_EMALFORMED) fail_msg("options %s not refused", bad[i]);
    }
}

static void test_view_errors(void **state)
{
    (void)state;
    uint8_t b[64];
    sp_test_hex(SYN, b, sizeof b);
    struct sp_tcp_view v;
    assert_int_equal(sp_tcp_view_init(&v, b, 0), SP_ETRUNCATED);
    assert_int_equal(sp_tcp_view_init(&v, b, 19), SP_ETRUNCATED);
    assert_int_equal(sp_tcp_view_init(&v, b, 39), SP_EMALFORMED); /* data offset 10 > 39 bytes */
    assert_int_equal(sp_tcp_view_init(&v, b, 40), 0);
    b[12] = 0x40; /* data offset 4 */
    assert_int_equal(sp_tcp_view_init(&v, b, 40), SP_EMALFORMED);
    b[12] = 0x00;
    assert_int_equal(sp_tcp_view_init(&v, b, 40), SP_EMALFORMED);
    b[12] = 0xf0; /* 60 bytes of header in 40 */
    assert_int_equal(sp_tcp_view_init(&v, b, 40), SP_EMALFORMED);
    b[12] = 0x50;
    assert_int_equal(sp_tcp_view_init(&v, b, 20), 0);
}

static void test_bad_checksum(void **state)
{
    (void)state;
    uint8_t b[64];
    int n = sp_test_hex(SYN, b, sizeof b);
    struct sp_tcp_view v;
    struct sp_tcp_repr r;
    assert_int_equal(sp_tcp_view_init(&v, b, (size_t)n), 0);
    b[39] = 8; /* window scale 7 -> 8 */
    assert_int_equal(sp_tcp_repr_parse(&v, CLIENT_IP, SERVER_IP, &r), SP_ECHECKSUM);
    b[39] = 7;
    b[17] ^= 0x01;
    assert_int_equal(sp_tcp_repr_parse(&v, CLIENT_IP, SERVER_IP, &r), SP_ECHECKSUM);
}

static void test_sequence_comparisons_wrap(void **state)
{
    (void)state;
    assert_true(sp_seq_lt(0xfffffff0u, 0x10));
    assert_true(sp_seq_gt(0x10, 0xfffffff0u));
    assert_true(sp_seq_le(5, 5));
    assert_true(sp_seq_ge(5, 5));
    assert_false(sp_seq_lt(5, 5));
    assert_true(sp_seq_lt(0, 0x7fffffff));
}

/* Bytes the caller may not change, as a decider's proposal is: static const, so they sit in
 * read-only memory where any write through the view (or the repr's parse) would fault, and the
 * compiler would refuse a view that asked for them writable. */
static const uint8_t RO_SYN[] = {
    0x9c, 0x40, 0x00, 0x50, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x00,
    0x60, 0x02, 0xfa, 0xf0, 0x38, 0x3b, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, /* MSS 1460 */
};

static void test_view_of_read_only_bytes(void **state)
{
    (void)state;
    struct sp_tcp_view v;
    assert_int_equal(sp_tcp_view_init(&v, RO_SYN, sizeof RO_SYN), 0);
    assert_int_equal(sp_tcp_hdr_len(&v), 24);
    assert_int_equal(sp_tcp_flags(&v), SP_TCP_SYN);
    assert_ptr_equal(sp_tcp_payload(&v), RO_SYN + sizeof RO_SYN);
    assert_int_equal(sp_tcp_payload_len(&v), 0);
    struct sp_tcp_repr r;
    assert_int_equal(sp_tcp_repr_parse(&v, CLIENT_IP, SERVER_IP, &r), 0); /* checksum verified */
    assert_int_equal(r.src_port, 40000);
    assert_int_equal(r.seq, 0x11223344);
    assert_int_equal(r.mss, 1460);
    assert_int_equal(r.wscale, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_of_read_only_bytes),
        cmocka_unit_test(test_parse_captured_syn),
        cmocka_unit_test(test_emit_synack_with_all_options),
        cmocka_unit_test(test_emit_option_subsets_stay_aligned),
        cmocka_unit_test(test_data_segment_round_trip),
        cmocka_unit_test(test_wscale_is_clamped),
        cmocka_unit_test(test_unknown_options_are_skipped),
        cmocka_unit_test(test_parse_sack_blocks),
        cmocka_unit_test(test_emit_sack_blocks),
        cmocka_unit_test(test_end_of_options_stops_parsing),
        cmocka_unit_test(test_bad_option_lengths),
        cmocka_unit_test(test_view_errors),
        cmocka_unit_test(test_bad_checksum),
        cmocka_unit_test(test_sequence_comparisons_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
