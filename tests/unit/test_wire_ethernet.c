/* Ethernet II header view and repr, MAC address text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slowpath/error.h"
#include "slowpath/wire/ethernet.h"
#include "support.h"

/* A Linux ping 192.0.2.1 -> 192.0.2.2 as captured on the wire (built with scapy). */
static const char PING_FRAME[] =
    "020000000002 020000000001 0800"
    "45000054beef40004001f7b5c0000201c0000202"
    "0800c580123400016d5e4f6600000000a1b2030000000000"
    "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637";

static const struct sp_mac MAC1 = {{0x02, 0, 0, 0, 0, 0x01}};
static const struct sp_mac MAC2 = {{0x02, 0, 0, 0, 0, 0x02}};

static void test_view_of_captured_frame(void **state)
{
    (void)state;
    uint8_t f[128];
    int n = sp_test_hex(PING_FRAME, f, sizeof f);
    assert_int_equal(n, 98);
    struct sp_eth_view v;
    assert_int_equal(sp_eth_view_init(&v, f, (size_t)n), 0);
    assert_true(sp_mac_eq(sp_eth_dst(&v), MAC2));
    assert_true(sp_mac_eq(sp_eth_src(&v), MAC1));
    assert_int_equal(sp_eth_type(&v), SP_ETHERTYPE_IPV4);
    assert_ptr_equal(sp_eth_payload(&v), f + 14);
    assert_int_equal(sp_eth_payload_len(&v), 84);

    struct sp_eth_repr r;
    sp_eth_repr_parse(&v, &r);
    assert_true(sp_mac_eq(r.dst, MAC2));
    assert_true(sp_mac_eq(r.src, MAC1));
    assert_int_equal(r.ethertype, 0x0800);
    assert_int_equal(sp_eth_repr_buffer_len(&r), 14);
}

static void test_view_length_check(void **state)
{
    (void)state;
    uint8_t f[14] = {0};
    struct sp_eth_view v;
    assert_int_equal(sp_eth_view_init(&v, f, 0), SP_ETRUNCATED);
    assert_int_equal(sp_eth_view_init(&v, f, 13), SP_ETRUNCATED);
    assert_int_equal(sp_eth_view_init(&v, f, 14), 0);
    assert_int_equal(sp_eth_payload_len(&v), 0);
}

static void test_emit_round_trip(void **state)
{
    (void)state;
    struct sp_eth_repr r = {.src = MAC1, .dst = sp_mac_broadcast, .ethertype = SP_ETHERTYPE_ARP};
    uint8_t out[14], want[14];
    sp_eth_repr_emit(&r, out);
    assert_int_equal(sp_test_hex("ffffffffffff 020000000001 0806", want, sizeof want), 14);
    assert_memory_equal(out, want, 14);
    struct sp_eth_view v;
    struct sp_eth_repr back;
    assert_int_equal(sp_eth_view_init(&v, out, sizeof out), 0);
    sp_eth_repr_parse(&v, &back);
    assert_true(sp_mac_eq(back.src, r.src));
    assert_true(sp_mac_is_broadcast(back.dst));
    assert_int_equal(back.ethertype, r.ethertype);
}

static void test_mac_constants(void **state)
{
    (void)state;
    assert_true(sp_mac_is_broadcast(sp_mac_broadcast));
    assert_true(sp_mac_is_multicast(sp_mac_broadcast));
    assert_false(sp_mac_is_broadcast(sp_mac_zero));
    for (int i = 0; i < 6; i++) {
        assert_int_equal(sp_mac_broadcast.b[i], 0xff);
        assert_int_equal(sp_mac_zero.b[i], 0);
    }
}

static void test_mac_parse_accepts(void **state)
{
    (void)state;
    struct sp_mac m;
    assert_int_equal(sp_mac_parse("02:00:00:00:00:01", &m), 0);
    assert_true(sp_mac_eq(m, MAC1));
    assert_int_equal(sp_mac_parse("02:AB:cd:Ef:90:7f", &m), 0);
    const struct sp_mac want = {{0x02, 0xab, 0xcd, 0xef, 0x90, 0x7f}};
    assert_true(sp_mac_eq(m, want));
    /* Globally administered unicast is fine too. */
    assert_int_equal(sp_mac_parse("00:16:3e:12:34:56", &m), 0);
}

static void test_mac_parse_rejects(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "01:00:5e:00:00:01",      /* multicast */
        "ff:ff:ff:ff:ff:ff",      /* broadcast */
        "00:00:00:00:00:00",      /* all zero */
        "03:00:00:00:00:01",      /* group bit set */
        "02:00:00:00:00",         /* five groups */
        "02:00:00:00:00:01:02",   /* seven groups */
        "02:00:00:00:00:01:",     /* trailing separator */
        "02:00:00:00:00:011",     /* trailing digit */
        "2:00:00:00:00:01",       /* short group */
        "02-00-00-00-00-01",      /* wrong separator */
        "0200.0000.0001",
        "02:00:00:00:00:0g",
        " 02:00:00:00:00:01",
        "02:00:00:00:00:01 ",
        "02::00:00:00:00:01",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sp_mac m = MAC2;
        assert_int_equal(sp_mac_parse(bad[i], &m), SP_EINVAL);
        assert_true(sp_mac_eq(m, MAC2)); /* untouched on failure */
    }
    struct sp_mac m;
    assert_int_equal(sp_mac_parse(NULL, &m), SP_EINVAL);
}

/* What a packet may carry: the host check is left out, the syntax is as strict. */
static void test_mac_parse_any(void **state)
{
    (void)state;
    struct sp_mac m;
    assert_int_equal(sp_mac_parse_any("ff:ff:ff:ff:ff:ff", &m), 0);
    assert_true(sp_mac_is_broadcast(m));
    assert_int_equal(sp_mac_parse_any("00:00:00:00:00:00", &m), 0);
    assert_true(sp_mac_eq(m, sp_mac_zero));
    assert_int_equal(sp_mac_parse_any("01:00:5E:00:00:fb", &m), 0);
    const struct sp_mac mcast = {{0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}};
    assert_true(sp_mac_eq(m, mcast));
    assert_int_equal(sp_mac_parse_any("02:00:00:00:00:01", &m), 0);
    assert_true(sp_mac_eq(m, MAC1));
    static const char *const bad[] = {
        "02:00:00:00:00", "02:00:00:00:00:01:02", "02:00:00:00:00:01:", "02:00:00:00:00:011",
        "2:00:00:00:00:01", "02-00-00-00-00-01", "02:00:00:00:00:0g", " 02:00:00:00:00:01",
        "02:00:00:00:00:01 ", "02::00:00:00:00:01", "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m = MAC2;
        assert_int_equal(sp_mac_parse_any(bad[i], &m), SP_EINVAL);
        assert_true(sp_mac_eq(m, MAC2));
    }
    assert_int_equal(sp_mac_parse_any(NULL, &m), SP_EINVAL);
    assert_int_equal(sp_mac_parse_any("02:00:00:00:00:01", NULL), SP_EINVAL);
}

static void test_mac_format(void **state)
{
    (void)state;
    char text[18];
    const struct sp_mac m = {{0x02, 0xab, 0x0c, 0xef, 0x00, 0xff}};
    sp_mac_format(m, text);
    assert_string_equal(text, "02:ab:0c:ef:00:ff");
    struct sp_mac back;
    assert_int_equal(sp_mac_parse(text, &back), 0);
    assert_true(sp_mac_eq(back, m));
    sp_mac_format(sp_mac_broadcast, text);
    assert_string_equal(text, "ff:ff:ff:ff:ff:ff");
}

/* Bytes the caller may not change, as a decider's proposal is: static const, so they sit in
 * read-only memory where any write through the view (or the repr's parse) would fault, and the
 * compiler would refuse a view that asked for them writable. */
static const uint8_t RO_FRAME[] = {
    0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x02, 0x00, /* ARP from here */
    0x00, 0x00, 0x00, 0x01, 0xc0, 0x00, 0x02, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0xc0, 0x00, 0x02, 0x02,
};

static void test_view_of_read_only_bytes(void **state)
{
    (void)state;
    struct sp_eth_view v;
    assert_int_equal(sp_eth_view_init(&v, RO_FRAME, sizeof RO_FRAME), 0);
    assert_true(sp_mac_eq(sp_eth_dst(&v), MAC2));
    assert_true(sp_mac_eq(sp_eth_src(&v), MAC1));
    assert_int_equal(sp_eth_type(&v), SP_ETHERTYPE_ARP);
    /* A view of the payload is a view of the same bytes: the layers above need no copy either. */
    assert_ptr_equal(sp_eth_payload(&v), RO_FRAME + SP_ETH_HDR_LEN);
    assert_int_equal(sp_eth_payload_len(&v), 28);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_view_of_read_only_bytes),
        cmocka_unit_test(test_view_of_captured_frame),
        cmocka_unit_test(test_view_length_check),
        cmocka_unit_test(test_emit_round_trip),
        cmocka_unit_test(test_mac_constants),
        cmocka_unit_test(test_mac_parse_accepts),
        cmocka_unit_test(test_mac_parse_rejects),
        cmocka_unit_test(test_mac_parse_any),
        cmocka_unit_test(test_mac_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
