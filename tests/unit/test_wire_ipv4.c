/* IPv4 header view and repr, address and prefix text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slowpath/error.h"
#include "slowpath/wire/ipv4.h"
#include "support.h"

/* A Linux ping 192.0.2.1 -> 192.0.2.2 (84 bytes, DF, id 0xbeef), from scapy. */
static const char PING_IP[] =
    "45000054beef40004001f7b5c0000201c0000202"
    "0800c580123400016d5e4f6600000000a1b2030000000000"
    "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637";
/* A non-first fragment: tos 0x10, MF, offset 185*8, ttl 63, UDP, 8 bytes of payload. */
static const char FRAG_IP[] = "4510001c111120b93f11c5f3c0000201c0000202 7878787878787878";
/* A header with a router-alert option (IHL 6) carrying UDP 1000 -> 2000 "ra". */
static const char OPT_IP[] = "46000022000100000111a0c2c0000201c0000202 94040000 03e807d0000afdbc 7261";

static int load(const char *hex, uint8_t *buf, size_t cap)
{
    int n = sp_test_hex(hex, buf, cap);
    assert_true(n > 0);
    return n;
}

static void test_parse_captured_ping(void **state)
{
    (void)state;
    uint8_t b[128];
    int n = load(PING_IP, b, sizeof b);
    assert_int_equal(n, 84);
    struct sp_ipv4_view v;
    assert_int_equal(sp_ipv4_view_init(&v, b, (size_t)n), 0);
    assert_int_equal(sp_ipv4_version(&v), 4);
    assert_int_equal(sp_ipv4_hdr_len(&v), 20);
    assert_int_equal(sp_ipv4_total_len(&v), 84);
    assert_int_equal(sp_ipv4_checksum(&v), 0xf7b5);
    assert_true(sp_ipv4_checksum_ok(&v));
    assert_ptr_equal(sp_ipv4_payload(&v), b + 20);
    assert_int_equal(sp_ipv4_payload_len(&v), 64);

    struct sp_ipv4_repr r;
    assert_int_equal(sp_ipv4_repr_parse(&v, &r), 0);
    assert_int_equal(r.src, 0xc0000201);
    assert_int_equal(r.dst, 0xc0000202);
    assert_int_equal(r.protocol, SP_IP_PROTO_ICMP);
    assert_int_equal(r.ttl, 64);
    assert_int_equal(r.tos, 0);
    assert_int_equal(r.ident, 0xbeef);
    assert_true(r.dont_frag);
    assert_false(r.more_frags);
    assert_int_equal(r.frag_offset, 0);
    assert_int_equal(r.payload_len, 64);
    assert_int_equal(sp_ipv4_repr_buffer_len(&r), 84);

    /* Emitting the repr rebuilds the captured header byte for byte. */
    uint8_t out[20];
    sp_ipv4_repr_emit(&r, out);
    assert_memory_equal(out, b, 20);
}

static void test_fragment_round_trip(void **state)
{
    (void)state;
    uint8_t b[64];
    int n = load(FRAG_IP, b, sizeof b);
    struct sp_ipv4_view v;
    struct sp_ipv4_repr r;
    assert_int_equal(sp_ipv4_view_init(&v, b, (size_t)n), 0);
    assert_true(sp_ipv4_mf(&v));
    assert_false(sp_ipv4_df(&v));
    assert_int_equal(sp_ipv4_frag_offset(&v), 1480);
    assert_int_equal(sp_ipv4_repr_parse(&v, &r), 0);
    assert_int_equal(r.tos, 0x10);
    assert_int_equal(r.ttl, 63);
    assert_int_equal(r.protocol, SP_IP_PROTO_UDP);
    assert_int_equal(r.ident, 0x1111);
    assert_true(r.more_frags);
    assert_false(r.dont_frag);
    assert_int_equal(r.frag_offset, 1480);
    assert_int_equal(r.payload_len, 8);
    uint8_t out[20];
    sp_ipv4_repr_emit(&r, out);
    assert_memory_equal(out, b, 20);
}

static void test_emit_then_parse(void **state)
{
    (void)state;
    struct sp_ipv4_repr r = {.src = 0xcb007101, .dst = 0xc6336402, .protocol = SP_IP_PROTO_TCP, .ttl = 255,
                             .tos = 0xb8, .ident = 0xffff, .dont_frag = true, .more_frags = true,
                             .frag_offset = 65528, .payload_len = 100};
    uint8_t b[120] = {0};
    sp_ipv4_repr_emit(&r, b);
    struct sp_ipv4_view v;
    struct sp_ipv4_repr back;
    assert_int_equal(sp_ipv4_view_init(&v, b, sizeof b), 0);
    assert_int_equal(sp_ipv4_repr_parse(&v, &back), 0);
    assert_int_equal(back.src, r.src);
    assert_int_equal(back.dst, r.dst);
    assert_int_equal(back.protocol, r.protocol);
    assert_int_equal(back.ttl, r.ttl);
    assert_int_equal(back.tos, r.tos);
    assert_int_equal(back.ident, r.ident);
    assert_true(back.dont_frag);
    assert_true(back.more_frags);
    assert_int_equal(back.frag_offset, 65528);
    assert_int_equal(back.payload_len, 100);
    assert_int_equal(b[0], 0x45);
    assert_int_equal(sp_ipv4_total_len(&v), 120);
}

static void test_options_are_skipped(void **state)
{
    (void)state;
    uint8_t b[64];
    int n = load(OPT_IP, b, sizeof b);
    struct sp_ipv4_view v;
    struct sp_ipv4_repr r;
    assert_int_equal(sp_ipv4_view_init(&v, b, (size_t)n), 0);
    assert_int_equal(sp_ipv4_hdr_len(&v), 24);
    assert_true(sp_ipv4_checksum_ok(&v)); /* the checksum covers the options */
    assert_int_equal(sp_ipv4_repr_parse(&v, &r), 0);
    assert_int_equal(r.payload_len, 10);
    assert_ptr_equal(sp_ipv4_payload(&v), b + 24);
    assert_int_equal(sp_ipv4_payload(&v)[0], 0x03);
    b[21] = 0x05; /* corrupt an option byte: the checksum no longer verifies */
    assert_false(sp_ipv4_checksum_ok(&v));
    assert_int_equal(sp_ipv4_repr_parse(&v, &r), SP_ECHECKSUM);
}

static void test_ethernet_padding_is_ignored(void **state)
{
    (void)state;
    uint8_t b[46] = {0};
    int n = load(FRAG_IP, b, sizeof b);
    assert_int_equal(n, 28);
    struct sp_ipv4_view v;
    assert_int_equal(sp_ipv4_view_init(&v, b, sizeof b), 0);
    assert_int_equal(v.len, 46);
    assert_int_equal(sp_ipv4_payload_len(&v), 8);
}

static int init_modified(size_t off, uint8_t val, size_t len)
{
    uint8_t b[128];
    load(PING_IP, b, sizeof b);
    b[off] = val;
    struct sp_ipv4_view v;
    return sp_ipv4_view_init(&v, b, len);
}

static void test_view_errors(void **state)
{
    (void)state;
    assert_int_equal(init_modified(0, 0x45, 0), SP_ETRUNCATED);
    assert_int_equal(init_modified(0, 0x45, 19), SP_ETRUNCATED);
    assert_int_equal(init_modified(0, 0x65, 84), SP_EUNSUPPORTED); /* version 6 */
    assert_int_equal(init_modified(0, 0x05, 84), SP_EUNSUPPORTED); /* version 0 */
    assert_int_equal(init_modified(0, 0x44, 84), SP_EMALFORMED);   /* IHL 4 */
    assert_int_equal(init_modified(0, 0x40, 84), SP_EMALFORMED);   /* IHL 0 */
    assert_int_equal(init_modified(0, 0x46, 20), SP_EMALFORMED);   /* IHL 6 beyond a 20-byte buffer */
    assert_int_equal(init_modified(0, 0x4f, 59), SP_EMALFORMED);   /* IHL 15 needs 60 bytes */
    assert_int_equal(init_modified(3, 19, 84), SP_EMALFORMED);     /* total length < header */
    assert_int_equal(init_modified(3, 0, 84), SP_EMALFORMED);      /* total length 0 */
    assert_int_equal(init_modified(3, 85, 84), SP_ETRUNCATED);     /* total length > buffer */
    assert_int_equal(init_modified(0, 0x45, 83), SP_ETRUNCATED);   /* buffer one short of total */
    assert_int_equal(init_modified(3, 20, 84), 0);                 /* header only is fine */
}

static void test_bad_checksum(void **state)
{
    (void)state;
    uint8_t b[128];
    int n = load(PING_IP, b, sizeof b);
    struct sp_ipv4_view v;
    struct sp_ipv4_repr r;
    b[8] = 63; /* TTL changed without updating the checksum */
    assert_int_equal(sp_ipv4_view_init(&v, b, (size_t)n), 0);
    assert_false(sp_ipv4_checksum_ok(&v));
    assert_int_equal(sp_ipv4_repr_parse(&v, &r), SP_ECHECKSUM);
    b[8] = 64;
    b[11] ^= 1; /* the checksum field itself */
    assert_int_equal(sp_ipv4_repr_parse(&v, &r), SP_ECHECKSUM);
    b[11] ^= 1;
    b[30] ^= 0xff; /* payload bytes are not covered */
    assert_int_equal(sp_ipv4_repr_parse(&v, &r), 0);
}

static void test_addr_parse(void **state)
{
    (void)state;
    uint32_t a = 0;
    assert_int_equal(sp_ipv4_addr_parse("192.0.2.2", &a), 0);
    assert_int_equal(a, 0xc0000202);
    assert_int_equal(sp_ipv4_addr_parse("0.0.0.0", &a), 0);
    assert_int_equal(a, 0);
    assert_int_equal(sp_ipv4_addr_parse("255.255.255.255", &a), 0);
    assert_int_equal(a, 0xffffffff);
    assert_int_equal(sp_ipv4_addr_parse("203.0.113.10", &a), 0);
    assert_int_equal(a, 0xcb00710a);

    static const char *const bad[] = {
        "256.0.0.1", "1.2.3.256", "1.2.3", "1.2.3.4.5", "1.2.3.4 ", " 1.2.3.4", "1.2.3.4x", "1..3.4",
        ".1.2.3", "1.2.3.", "01.2.3.4", "1.2.3.00", "1.2.3.0004", "1.2.3.-4", "+1.2.3.4", "0x1.2.3.4",
        "1.2.3.4/24", "1,2,3,4", "", "1.2.3.4\n", "99999999999.1.1.1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a = 0x12345678;
        assert_int_equal(sp_ipv4_addr_parse(bad[i], &a), SP_EINVAL);
        assert_int_equal(a, 0x12345678);
    }
    assert_int_equal(sp_ipv4_addr_parse(NULL, &a), SP_EINVAL);
}

static void test_cidr_parse(void **state)
{
    (void)state;
    uint32_t a = 0;
    uint8_t p = 0;
    assert_int_equal(sp_ipv4_cidr_parse("192.0.2.2/24", &a, &p), 0);
    assert_int_equal(a, 0xc0000202);
    assert_int_equal(p, 24);
    assert_int_equal(sp_ipv4_cidr_parse("198.51.100.7/32", &a, &p), 0);
    assert_int_equal(p, 32);
    assert_int_equal(sp_ipv4_cidr_parse("203.0.113.0/1", &a, &p), 0);
    assert_int_equal(p, 1);
    assert_int_equal(sp_ipv4_netmask(24), 0xffffff00);
    assert_int_equal(sp_ipv4_netmask(32), 0xffffffff);
    assert_int_equal(sp_ipv4_netmask(1), 0x80000000);

    static const char *const bad[] = {
        "192.0.2.2", "192.0.2.2/", "192.0.2.2/0", "192.0.2.2/33", "192.0.2.2/024", "192.0.2.2/-1",
        "192.0.2.2/24x", "192.0.2.2/24 ", "192.0.2.2 /24", "192.0.2/24", "256.0.2.2/24", "/24",
        "192.0.2.2/100", "192.0.2.2//24", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a = 7, p = 7;
        assert_int_equal(sp_ipv4_cidr_parse(bad[i], &a, &p), SP_EINVAL);
        assert_int_equal(a, 7);
        assert_int_equal(p, 7);
    }
}

static void test_addr_format(void **state)
{
    (void)state;
    char t[16];
    sp_ipv4_addr_format(0xc0000202, t);
    assert_string_equal(t, "192.0.2.2");
    sp_ipv4_addr_format(0xffffffff, t);
    assert_string_equal(t, "255.255.255.255");
    sp_ipv4_addr_format(0, t);
    assert_string_equal(t, "0.0.0.0");
    uint32_t back;
    sp_ipv4_addr_format(0xcb00710a, t);
    assert_int_equal(sp_ipv4_addr_parse(t, &back), 0);
    assert_int_equal(back, 0xcb00710a);
}

/* Bytes the caller may not change, as a decider's proposal is: static const, so they sit in
 * read-only memory where any write through the view (or the repr's parse) would fault, and the
 * compiler would refuse a view that asked for them writable. */
static const uint8_t RO_FRAG[] = {
    0x45, 0x10, 0x00, 0x1c, 0x11, 0x11, 0x20, 0xb9, 0x3f, 0x11, 0xc5, 0xf3,
    0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, 0x78, 0x78, 0x78, 0x78,
    0x78, 0x78, 0x78, 0x78,
};

static void test_view_of_read_only_bytes(void **state)
{
    (void)state;
    struct sp_ipv4_view v;
    assert_int_equal(sp_ipv4_view_init(&v, RO_FRAG, sizeof RO_FRAG), 0);
    assert_int_equal(sp_ipv4_total_len(&v), 28);
    assert_true(sp_ipv4_mf(&v));
    assert_int_equal(sp_ipv4_frag_offset(&v), 185 * 8);
    assert_true(sp_ipv4_checksum_ok(&v));
    /* The payload is where it lies in the caller's bytes, not in a copy. */
    assert_ptr_equal(sp_ipv4_payload(&v), RO_FRAG + 20);
    assert_int_equal(sp_ipv4_payload_len(&v), 8);
    struct sp_ipv4_repr r;
    assert_int_equal(sp_ipv4_repr_parse(&v, &r), 0);
    assert_int_equal(r.src, 0xc0000201);
    assert_int_equal(r.protocol, SP_IP_PROTO_UDP);
    assert_int_equal(r.payload_len, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_of_read_only_bytes),
        cmocka_unit_test(test_parse_captured_ping),
        cmocka_unit_test(test_fragment_round_trip),
        cmocka_unit_test(test_emit_then_parse),
        cmocka_unit_test(test_options_are_skipped),
        cmocka_unit_test(test_ethernet_padding_is_ignored),
        cmocka_unit_test(test_view_errors),
        cmocka_unit_test(test_bad_checksum),
        cmocka_unit_test(test_addr_parse),
        cmocka_unit_test(test_cidr_parse),
        cmocka_unit_test(test_addr_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
