/* Raw-IP devices: captures of link types 12, 101 (LINKTYPE_RAW) and 228 (IPv4) replay as raw-IP
 * devices with the datagrams unchanged; a pcap writer around a raw-IP device writes LINKTYPE_RAW;
 * a replay of mixed frames keeps its order; the fault injector flips bits inside the datagram
 * only, which starts the frame on such a link. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <pcap/pcap.h>

#include "slowpath/device.h"
#include "slowpath/error.h"
#include "slowpath/wire/checksum.h"
#include "slowpath/wire/ipv4.h"
#include "support.h"

static void tmp_make(char *path, size_t cap)
{
    snprintf(path, cap, "/tmp/sp-test-dev-rawip-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
}

/* A UDP datagram of `payload` bytes from 192.0.2.1 to 192.0.2.2 (only the IP header is valid). */
static size_t datagram(uint8_t *buf, size_t payload, uint8_t tag)
{
    struct sp_ipv4_repr ip = {
        .src = 0xc0000201u, .dst = 0xc0000202u, .protocol = SP_IP_PROTO_UDP, .ttl = 64,
        .payload_len = (uint16_t)payload, .ident = tag,
    };
    sp_ipv4_repr_emit(&ip, buf);
    for (size_t i = 0; i < payload; i++)
        buf[SP_IPV4_MIN_HDR_LEN + i] = (uint8_t)(tag + i);
    return SP_IPV4_MIN_HDR_LEN + payload;
}

/* Writes a classic pcap file by hand, so that the link type in it is exactly `linktype` (libpcap
 * itself writes DLT_RAW as 101, never 12). */
static void write_pcap(const char *path, uint32_t linktype, const uint8_t *const *pkts, const size_t *lens,
                       size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    uint32_t hdr[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, linktype};
    assert_int_equal(fwrite(hdr, sizeof hdr, 1, f), 1);
    for (size_t i = 0; i < n; i++) {
        uint32_t rec[4] = {1, (uint32_t)i, (uint32_t)lens[i], (uint32_t)lens[i]};
        assert_int_equal(fwrite(rec, sizeof rec, 1, f), 1);
        assert_int_equal(fwrite(pkts[i], lens[i], 1, f), 1);
    }
    fclose(f);
}

static uint32_t file_linktype(const char *path)
{
    uint32_t hdr[6] = {0};
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(hdr, sizeof hdr, 1, f), 1);
    fclose(f);
    return hdr[5];
}

static void replay_link(uint32_t linktype)
{
    char path[64];
    tmp_make(path, sizeof path);
    uint8_t a[64], b[1500];
    size_t la = datagram(a, 8, 1), lb = datagram(b, 1480, 2);
    const uint8_t *pkts[] = {a, b};
    size_t lens[] = {la, lb};
    write_pcap(path, linktype, pkts, lens, 2);

    char err[256] = "";
    struct sp_device *r = sp_pcap_replay_open(path, 1500, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->link, SP_LINK_RAW_IP);
    uint8_t buf[1514];
    assert_int_equal(sp_device_recv(r, buf, sizeof buf), (int)la);
    assert_memory_equal(buf, a, la);
    assert_int_equal(sp_device_recv(r, buf, sizeof buf), (int)lb);
    assert_memory_equal(buf, b, lb);
    assert_int_equal(sp_device_recv(r, buf, sizeof buf), SP_EOF);
    sp_device_close(r);
    unlink(path);
}

static void test_replay_linktype_raw_101(void **state)
{
    (void)state;
    replay_link(101);
}

static void test_replay_linktype_raw_12(void **state)
{
    (void)state;
    replay_link(12);
}

static void test_replay_linktype_ipv4_228(void **state)
{
    (void)state;
    replay_link(228);
}

static void test_replay_ethernet_is_ethernet(void **state)
{
    (void)state;
    char path[64];
    tmp_make(path, sizeof path);
    uint8_t f[60] = {0};
    const uint8_t *pkts[] = {f};
    size_t lens[] = {sizeof f};
    write_pcap(path, 1, pkts, lens, 1);
    struct sp_device *r = sp_pcap_replay_open(path, 1500, NULL, 0);
    assert_non_null(r);
    assert_int_equal(r->link, SP_LINK_ETHERNET);
    sp_device_close(r);
    unlink(path);
}

/* A writer around a raw-IP device: LINKTYPE_RAW in the file, the datagrams as they were, and the
 * capture replays as a raw-IP device again. */
static void test_writer_raw_roundtrip(void **state)
{
    (void)state;
    char path[64], err[256] = "";
    tmp_make(path, sizeof path);
    struct sp_device *mem = sp_mem_open(1500, 4);
    assert_non_null(mem);
    mem->link = SP_LINK_RAW_IP;
    struct sp_device *w = sp_pcap_writer_open(mem, path, SP_PCAP_RX | SP_PCAP_TX, err, sizeof err);
    assert_non_null(w);
    assert_int_equal(w->link, SP_LINK_RAW_IP);
    uint8_t in[64], out[200], buf[1514];
    size_t lin = datagram(in, 8, 3), lout = datagram(out, 150, 4);
    assert_int_equal(sp_mem_inject(mem, in, lin), 0);
    assert_int_equal(sp_device_recv(w, buf, sizeof buf), (int)lin);
    assert_int_equal(sp_device_send(w, out, lout), 0);
    sp_device_close(w);
    assert_int_equal(file_linktype(path), 101);

    struct sp_device *r = sp_pcap_replay_open(path, 1500, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(r->link, SP_LINK_RAW_IP);
    assert_int_equal(sp_device_recv(r, buf, sizeof buf), (int)lin);
    assert_memory_equal(buf, in, lin);
    assert_int_equal(sp_device_recv(r, buf, sizeof buf), (int)lout);
    assert_memory_equal(buf, out, lout);
    assert_int_equal(sp_device_recv(r, buf, sizeof buf), SP_EOF);
    sp_device_close(r);
    unlink(path);
}

/* On a raw-IP link the whole datagram is checksummed bytes: corruption lands in it (one bit, at
 * an offset below the total length), and a frame that is no IPv4 datagram is never touched. */
static void test_fault_raw_flips_inside_datagram(void **state)
{
    (void)state;
    struct sp_device *mem = sp_mem_open(1500, 64);
    assert_non_null(mem);
    mem->link = SP_LINK_RAW_IP;
    struct sp_fault_opts fo = {.drop_chance = 0, .corrupt_chance = 1, .seed = 7};
    struct sp_device *f = sp_fault_open(mem, &fo);
    assert_non_null(f);
    assert_int_equal(f->link, SP_LINK_RAW_IP);
    uint8_t pkt[100], padded[100], buf[1514];
    size_t len = datagram(pkt, 40, 5); /* 60 bytes; 10 bytes of trailer after it */
    memcpy(padded, pkt, len);
    memset(padded + len, 0xee, 10);
    for (int i = 0; i < 32; i++) {
        assert_int_equal(sp_device_send(f, padded, len + 10), 0);
        int n = sp_mem_take(mem, buf, sizeof buf);
        assert_int_equal(n, (int)len + 10);
        int bits = 0;
        for (size_t j = 0; j < len + 10; j++) {
            uint8_t x = buf[j] ^ padded[j];
            assert_true(x == 0 || j < len); /* the trailer is never corrupted */
            for (; x; x &= (uint8_t)(x - 1))
                bits++;
        }
        assert_int_equal(bits, 1);
    }
    uint8_t junk[30];
    memset(junk, 0x60, sizeof junk); /* version 6: not an IPv4 datagram */
    assert_int_equal(sp_device_send(f, junk, sizeof junk), 0);
    assert_int_equal(sp_mem_take(mem, buf, sizeof buf), (int)sizeof junk);
    assert_memory_equal(buf, junk, sizeof junk);
    struct sp_fault_stats st;
    sp_fault_get_stats(f, &st);
    assert_int_equal(st.tx_corrupted, 32);
    sp_device_close(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_linktype_raw_101),
        cmocka_unit_test(test_replay_linktype_raw_12),
        cmocka_unit_test(test_replay_linktype_ipv4_228),
        cmocka_unit_test(test_replay_ethernet_is_ethernet),
        cmocka_unit_test(test_writer_raw_roundtrip),
        cmocka_unit_test(test_fault_raw_flips_inside_datagram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
