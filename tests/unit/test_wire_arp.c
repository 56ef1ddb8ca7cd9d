/* ARP view and repr: a captured request, round trips, and every refusal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slowpath/error.h"
#include "slowpath/wire/arp.h"
#include "support.h"

/* "Who has 192.0.2.2? Tell 192.0.2.1", padded to the 60-byte Ethernet minimum (scapy). */
static const char ARP_FRAME[] =
    "ffffffffffff 020000000001 0806"
    "0001 0800 06 04 0001 020000000001 c0000201 000000000000 c0000202"
    "000000000000000000000000000000000000";

static const struct sp_mac MAC1 = {{0x02, 0, 0, 0, 0, 0x01}};
static const struct sp_mac MAC2 = {{0x02, 0, 0, 0, 0, 0x02}};

static void test_parse_captured_request(void **state)
{
    (void)state;
    uint8_t f[64];
    assert_int_equal(sp_test_hex(ARP_FRAME, f, sizeof f), 60);
    struct sp_arp_view v;
    /* The ARP payload of a minimum frame is 46 bytes: trailing padding is fine. */
    assert_int_equal(sp_arp_view_init(&v, f + 14, 46), 0);
    assert_int_equal(sp_arp_htype(&v), 1);
    assert_int_equal(sp_arp_ptype(&v), 0x0800);
    assert_int_equal(sp_arp_hlen(&v), 6);
    assert_int_equal(sp_arp_plen(&v), 4);
    assert_int_equal(sp_arp_op(&v), SP_ARP_OP_REQUEST);
    struct sp_arp_repr r;
    assert_int_equal(sp_arp_repr_parse(&v, &r), 0);
    assert_int_equal(r.op, SP_ARP_OP_REQUEST);
    assert_true(sp_mac_eq(r.sha, MAC1));
    assert_int_equal(r.spa, 0xc0000201);
    assert_true(sp_mac_eq(r.tha, sp_mac_zero));
    assert_int_equal(r.tpa, 0xc0000202);

    /* Emitting the parsed request gives back the same 28 bytes. */
    uint8_t out[SP_ARP_LEN];
    assert_int_equal(sp_arp_repr_buffer_len(&r), 28);
    sp_arp_repr_emit(&r, out);
    assert_memory_equal(out, f + 14, SP_ARP_LEN);
}

static void test_reply_round_trip(void **state)
{
    (void)state;
    struct sp_arp_repr r = {.op = SP_ARP_OP_REPLY, .sha = MAC2, .spa = 0xc0000202, .tha = MAC1, .tpa = 0xc0000201};
    uint8_t out[SP_ARP_LEN], want[SP_ARP_LEN];
    sp_arp_repr_emit(&r, out);
    assert_int_equal(sp_test_hex("0001 0800 06 04 0002 020000000002 c0000202 020000000001 c0000201", want,
                                 sizeof want), 28);
    assert_memory_equal(out, want, SP_ARP_LEN);
    struct sp_arp_view v;
    struct sp_arp_repr back;
    assert_int_equal(sp_arp_view_init(&v, out, sizeof out), 0);
    assert_int_equal(sp_arp_repr_parse(&v, &back), 0);
    assert_int_equal(back.op, SP_ARP_OP_REPLY);
    assert_true(sp_mac_eq(back.sha, MAC2));
    assert_true(sp_mac_eq(back.tha, MAC1));
    assert_int_equal(back.spa, 0xc0000202);
    assert_int_equal(back.tpa, 0xc0000201);
}

static void test_truncated(void **state)
{
    (void)state;
    uint8_t b[64] = {0};
    struct sp_arp_view v;
    assert_int_equal(sp_test_hex("0001 0800 06 04 0001 020000000001 c0000201 000000000000 c0000202", b, sizeof b), 28);
    assert_int_equal(sp_arp_view_init(&v, b, 0), SP_ETRUNCATED);
    assert_int_equal(sp_arp_view_init(&v, b, 7), SP_ETRUNCATED);
    assert_int_equal(sp_arp_view_init(&v, b, 8), SP_ETRUNCATED);
    assert_int_equal(sp_arp_view_init(&v, b, 27), SP_ETRUNCATED);
    assert_int_equal(sp_arp_view_init(&v, b, 28), 0);
    /* The lengths come from the packet: hlen 14 needs 8 + 2*14 + 2*4 = 44 bytes. */
    b[4] = 14;
    assert_int_equal(sp_arp_view_init(&v, b, 43), SP_ETRUNCATED);
    assert_int_equal(sp_arp_view_init(&v, b, 44), 0);
    /* Maximal lengths never read past the buffer. */
    b[4] = 255, b[5] = 255;
    assert_int_equal(sp_arp_view_init(&v, b, sizeof b), SP_ETRUNCATED);
}

static int parse_modified(size_t off, uint8_t val, size_t len)
{
    uint8_t b[64] = {0};
    assert_int_equal(sp_test_hex("0001 0800 06 04 0001 020000000001 c0000201 000000000000 c0000202", b, sizeof b), 28);
    b[off] = val;
    struct sp_arp_view v;
    struct sp_arp_repr r;
    int err = sp_arp_view_init(&v, b, len);
    if (err) return err;
    return sp_arp_repr_parse(&v, &r);
}

static void test_unsupported_and_malformed(void **state)
{
    (void)state;
    assert_int_equal(parse_modified(4, 14, 44), SP_EUNSUPPORTED);   /* hlen 14 */
    assert_int_equal(parse_modified(5, 16, 52), SP_EUNSUPPORTED);   /* plen 16 (IPv6-sized) */
    assert_int_equal(parse_modified(1, 6, 28), SP_EUNSUPPORTED);    /* htype 6 (IEEE 802) */
    assert_int_equal(parse_modified(2, 0x86, 28), SP_EUNSUPPORTED); /* ptype 0x86dd-ish */
    assert_int_equal(parse_modified(7, 0, 28), SP_EMALFORMED);      /* op 0 */
    assert_int_equal(parse_modified(7, 3, 28), SP_EMALFORMED);      /* op 3 (RARP request) */
    assert_int_equal(parse_modified(6, 1, 28), SP_EMALFORMED);      /* op 0x0101 */
    assert_int_equal(parse_modified(7, 2, 28), 0);                  /* op 2 is a reply */
}

/* Bytes the caller may not change, as a decider's proposal is: static const, so they sit in
 * read-only memory where any write through the view (or the repr's parse) would fault, and the
 * compiler would refuse a view that asked for them writable. */
static const uint8_t RO_REQUEST[] = {
    0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00,
    0x00, 0x01, 0xc0, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xc0, 0x00, 0x02, 0x02,
};

static void test_view_of_read_only_bytes(void **state)
{
    (void)state;
    struct sp_arp_view v;
    assert_int_equal(sp_arp_view_init(&v, RO_REQUEST, sizeof RO_REQUEST), 0);
    assert_int_equal(sp_arp_op(&v), SP_ARP_OP_REQUEST);
    struct sp_arp_repr r;
    assert_int_equal(sp_arp_repr_parse(&v, &r), 0);
    assert_true(sp_mac_eq(r.sha, MAC1));
    assert_int_equal(r.spa, 0xc0000201);
    assert_int_equal(r.tpa, 0xc0000202);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_of_read_only_bytes),
        cmocka_unit_test(test_parse_captured_request),
        cmocka_unit_test(test_reply_round_trip),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_unsupported_and_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
