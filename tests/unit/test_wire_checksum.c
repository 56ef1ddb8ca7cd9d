/* The Internet checksum: RFC 1071 and RFC 1624 worked examples, odd lengths, chaining, and the
 * IPv4 pseudo-header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slowpath/wire/checksum.h"
#include "support.h"

/* A deliberately plain reference: 16-bit words, one at a time. */
static uint16_t naive_fold(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1) sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static void test_rfc1071_example(void **state)
{
    (void)state;
    uint8_t b[8];
    assert_int_equal(sp_test_hex("00 01 f2 03 f4 f5 f6 f7", b, sizeof b), 8);
    assert_int_equal(sp_csum_fold(sp_csum_add(0, b, 8)), 0xddf2);
    assert_int_equal(sp_csum(b, 8), 0x220d);
    /* Chained over two even-length pieces: the same sum. */
    assert_int_equal(sp_csum_fold(sp_csum_add(sp_csum_add(0, b, 2), b + 2, 6)), 0xddf2);
    assert_int_equal(sp_csum_finish(sp_csum_add(sp_csum_add(0, b, 4), b + 4, 4)), 0x220d);
}

static void test_odd_length_pads_with_zero(void **state)
{
    (void)state;
    uint8_t b[4] = {0x01, 0x02, 0x03, 0x00};
    assert_int_equal(sp_csum_fold(sp_csum_add(0, b, 3)), 0x0402);
    assert_int_equal(sp_csum(b, 3), 0xfbfd);
    assert_int_equal(sp_csum(b, 3), sp_csum(b, 4));
    assert_int_equal(sp_csum_fold(sp_csum_add(0, b, 1)), 0x0100);
    assert_int_equal(sp_csum(b, 0), 0xffff);
}

static void test_matches_naive_sum_for_every_length(void **state)
{
    (void)state;
    uint8_t b[301];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof b; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (uint8_t)(x >> 16);
    }
    for (size_t len = 0; len <= sizeof b; len++) {
        assert_int_equal(sp_csum_fold(sp_csum_add(0, b, len)), naive_fold(b, len));
        /* From an odd start address too: no alignment assumption. */
        if (len < sizeof b) assert_int_equal(sp_csum_fold(sp_csum_add(0, b + 1, len)), naive_fold(b + 1, len));
    }
}

static void test_carries_fold_end_around(void **state)
{
    (void)state;
    uint8_t ff[1000];
    memset(ff, 0xff, sizeof ff);
    assert_int_equal(sp_csum_fold(sp_csum_add(0, ff, sizeof ff)), 0xffff);
    assert_int_equal(sp_csum(ff, sizeof ff), 0x0000);
    assert_int_equal(sp_csum_fold(0x1ffff), 0x0001);
    assert_int_equal(sp_csum_fold(0xffffffffu), 0xffff);
    assert_int_equal(sp_csum_fold(0), 0);
    /* A large starting sum still chains: fold(0xfffffff0) = 0xfff0, plus 0xffff is 0xfff0 again. */
    assert_int_equal(sp_csum_fold(sp_csum_add(0xfffffff0u, ff, 2)), 0xfff0);
}

static void test_rfc1624_example(void **state)
{
    (void)state;
    /* Data summing to 0x22d0 (checksum 0xdd2f) with one word 0x5555 that becomes 0x3285. */
    uint8_t b[4];
    assert_int_equal(sp_test_hex("5555 cd7a", b, sizeof b), 4);
    assert_int_equal(sp_csum(b, 4), 0xdd2f);
    assert_int_equal(sp_csum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
    assert_int_equal(sp_test_hex("3285 cd7a", b, sizeof b), 4);
    assert_int_equal(sp_csum(b, 4), 0x0000);
}

static void test_update_matches_recompute_on_ipv4_header(void **state)
{
    (void)state;
    uint8_t h[20];
    assert_int_equal(sp_test_hex("45000054beef40004001f7b5c0000201c0000202", h, sizeof h), 20);
    assert_int_equal(sp_csum(h, 20), 0);
    /* TTL 64 -> 63: the ttl/protocol word changes from 0x4001 to 0x3f01. */
    uint16_t c = sp_csum_update16(0xf7b5, 0x4001, 0x3f01);
    h[8] = 63;
    h[10] = h[11] = 0;
    assert_int_equal(c, sp_csum(h, 20));
    h[10] = (uint8_t)(c >> 8);
    h[11] = (uint8_t)c;
    /* Destination 192.0.2.2 -> 198.51.100.7. */
    uint16_t c2 = sp_csum_update32(c, 0xc0000202, 0xc6336407);
    h[16] = 198, h[17] = 51, h[18] = 100, h[19] = 7;
    h[10] = h[11] = 0;
    assert_int_equal(c2, sp_csum(h, 20));
    /* A no-op update leaves the checksum alone. */
    assert_int_equal(sp_csum_update16(0x1234, 0xabcd, 0xabcd), 0x1234);
}

static void test_pseudo_header(void **state)
{
    (void)state;
    /* UDP 192.0.2.1:40001 -> 192.0.2.2:7 "hello, slowpath", from scapy. */
    uint8_t u[23];
    assert_int_equal(sp_test_hex("9c4100070017cdad68656c6c6f2c20736c6f7770617468", u, sizeof u), 23);
    uint32_t ps = sp_csum_pseudo_ipv4(0xc0000201, 0xc0000202, 17, 23);
    assert_int_equal(sp_csum_fold(ps), 0x842c);
    assert_int_equal(sp_csum_finish(sp_csum_add(ps, u, sizeof u)), 0);
    /* Swapping the addresses sums the same; a different protocol does not. */
    assert_int_equal(sp_csum_fold(sp_csum_pseudo_ipv4(0xc0000202, 0xc0000201, 17, 23)), 0x842c);
    assert_int_not_equal(sp_csum_finish(sp_csum_add(sp_csum_pseudo_ipv4(0xc0000201, 0xc0000202, 6, 23), u, 23)), 0);
    /* Extreme values fold without loss. */
    assert_int_equal(sp_csum_fold(sp_csum_pseudo_ipv4(0xffffffff, 0xffffffff, 0xff, 0xffff)),
                     naive_fold((const uint8_t[]){0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0xff, 0xff, 0xff}, 12));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1071_example),
        cmocka_unit_test(test_odd_length_pads_with_zero),
        cmocka_unit_test(test_matches_naive_sum_for_every_length),
        cmocka_unit_test(test_carries_fold_end_around),
        cmocka_unit_test(test_rfc1624_example),
        cmocka_unit_test(test_update_matches_recompute_on_ipv4_header),
        cmocka_unit_test(test_pseudo_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
