/* Pcap writer and pcap replay: frames written through pcap_writer(mem) read back unchanged through
 * pcap_replay; direction filtering; frame count; a real capture from the shared corpus; errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support.h"
#include <pcap/pcap.h>

#include "slowpath/device.h"
#include "slowpath/error.h"

struct tmpfile {
    char path[64];
};

static void tmp_make(struct tmpfile *t)
{
    snprintf(t->path, sizeof(t->path), "/tmp/sp-test-dev-pcap-XXXXXX");
    int fd = mkstemp(t->path);
    assert_true(fd >= 0);
    close(fd);
}

static void frame_of(uint8_t *f, size_t len, uint8_t tag)
{
    for (size_t i = 0; i < len; i++)
        f[i] = (uint8_t)(tag + i);
}

/* Reads every frame of a capture: asserts lengths/contents against frame_of(tags[i]) and EOF. */
static void expect_replay(const char *path, const uint8_t *tags, const size_t *lens, size_t n)
{
    char err[256] = "";
    struct sp_device *r = sp_pcap_replay_open(path, 1500, err, sizeof(err));
    assert_non_null(r);
    assert_int_equal(sp_device_fd(r), -1);
    uint8_t buf[1514], want[1514];
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(sp_device_recv(r, buf, sizeof(buf)), (int)lens[i]);
        frame_of(want, lens[i], tags[i]);
        assert_memory_equal(buf, want, lens[i]);
    }
    assert_int_equal(sp_device_recv(r, buf, sizeof(buf)), SP_EOF);
    assert_int_equal(sp_device_recv(r, buf, sizeof(buf)), SP_EOF);
    sp_device_close(r);
}

/* Through pcap_writer(mem, dirs): inject rx frames 1,2 and send tx frame 3; rx frame 4. */
static uint64_t run_writer(const char *path, int dirs)
{
    char err[256] = "";
    struct sp_device *mem = sp_mem_open(1500, 8);
    assert_non_null(mem);
    struct sp_device *w = sp_pcap_writer_open(mem, path, dirs, err, sizeof(err));
    assert_non_null(w);
    assert_string_equal(w->name, "pcap-writer(mem)");
    assert_int_equal(w->mtu, 1500);
    assert_int_equal(sp_device_fd(w), -1);
    assert_int_equal(sp_pcap_writer_count(w), 0);

    uint8_t f[1514], buf[1514];
    frame_of(f, 60, 0x10);
    assert_int_equal(sp_mem_inject(mem, f, 60), 0);
    frame_of(f, 1514, 0x20);
    assert_int_equal(sp_mem_inject(mem, f, 1514), 0);
    assert_int_equal(sp_device_recv(w, buf, sizeof(buf)), 60);
    assert_int_equal(sp_device_recv(w, buf, sizeof(buf)), 1514);
    frame_of(f, 42, 0x30);
    assert_int_equal(sp_device_send(w, f, 42), 0);
    assert_int_equal(sp_mem_pending_tx(mem), 1); /* the frame went on to the inner device */
    frame_of(f, 99, 0x40);
    assert_int_equal(sp_mem_inject(mem, f, 99), 0);
    assert_int_equal(sp_device_recv(w, buf, sizeof(buf)), 99);
    /* Nothing waiting: not a frame, not recorded. */
    assert_int_equal(sp_device_recv(w, buf, sizeof(buf)), SP_EAGAIN);
    sp_pcap_writer_flush(w);
    uint64_t count = sp_pcap_writer_count(w);
    sp_device_close(w); /* closes mem too (ASan would see a leak otherwise) */
    return count;
}

static void test_roundtrip_both_directions(void **state)
{
    (void)state;
    struct tmpfile t;
    tmp_make(&t);
    assert_int_equal(run_writer(t.path, SP_PCAP_RX | SP_PCAP_TX), 4);
    const uint8_t tags[] = {0x10, 0x20, 0x30, 0x40};
    const size_t lens[] = {60, 1514, 42, 99};
    expect_replay(t.path, tags, lens, 4);
    unlink(t.path);
}

static void test_rx_only(void **state)
{
    (void)state;
    struct tmpfile t;
    tmp_make(&t);
    assert_int_equal(run_writer(t.path, SP_PCAP_RX), 3);
    const uint8_t tags[] = {0x10, 0x20, 0x40};
    const size_t lens[] = {60, 1514, 99};
    expect_replay(t.path, tags, lens, 3);
    unlink(t.path);
}

static void test_tx_only(void **state)
{
    (void)state;
    struct tmpfile t;
    tmp_make(&t);
    assert_int_equal(run_writer(t.path, SP_PCAP_TX), 1);
    const uint8_t tags[] = {0x30};
    const size_t lens[] = {42};
    expect_replay(t.path, tags, lens, 1);
    unlink(t.path);
}

static void test_flush_makes_frames_visible(void **state)
{
    (void)state;
    struct tmpfile t;
    tmp_make(&t);
    char err[256] = "";
    struct sp_device *w = sp_pcap_writer_open(sp_mem_open(1500, 2), t.path, SP_PCAP_TX, err,
                                              sizeof(err));
    assert_non_null(w);
    uint8_t f[64];
    frame_of(f, 64, 0x77);
    assert_int_equal(sp_device_send(w, f, 64), 0);
    sp_pcap_writer_flush(w);
    /* Readable while the writer is still open. */
    const uint8_t tags[] = {0x77};
    const size_t lens[] = {64};
    expect_replay(t.path, tags, lens, 1);
    sp_device_close(w);
    unlink(t.path);
}

static void test_replay_truncates_to_buffer_and_discards_sends(void **state)
{
    (void)state;
    struct tmpfile t;
    tmp_make(&t);
    assert_int_equal(run_writer(t.path, SP_PCAP_RX), 3);
    char err[256] = "";
    struct sp_device *r = sp_pcap_replay_open(t.path, 1500, err, sizeof(err));
    assert_non_null(r);
    uint8_t buf[32], want[60];
    assert_int_equal(sp_device_recv(r, buf, 32), 32);
    frame_of(want, 60, 0x10);
    assert_memory_equal(buf, want, 32);
    assert_int_equal(sp_device_send(r, want, 60), 0);
    sp_device_close(r);
    unlink(t.path);
}

static void test_replay_shared_icmp_ping(void **state)
{
    (void)state;
    char path[1024];
    sp_test_shared_path(path, sizeof(path), "corpus/pcap/zeek-icmp__icmp-ping.pcap");
    if (access(path, R_OK) != 0) {
        print_message("shared corpus not found at %s\n", path);
        skip();
    }
    char err[256] = "";
    struct sp_device *r = sp_pcap_replay_open(path, 1500, err, sizeof(err));
    assert_non_null(r);
    /* The first request, as the capture has it: 00:10:db:00:00:00 <- c8:bc:c8:00:00:00, and the
     * capture's own addresses (not ours: this file is only read). */
    const uint8_t head[] = {0x00, 0x10, 0xdb, 0x00, 0x00, 0x00, 0xc8, 0xbc, 0xc8, 0x00, 0x00, 0x00};
    const uint8_t addrs[] = {10, 0, 0, 1, 74, 125, 225, 99};
    uint8_t buf[1514];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(sp_device_recv(r, buf, sizeof(buf)), 98);
        if (i == 0) {
            assert_memory_equal(buf, head, sizeof(head));
            assert_memory_equal(buf + 26, addrs, sizeof(addrs));
        }
        assert_int_equal(buf[12], 0x08); /* IPv4 */
        assert_int_equal(buf[13], 0x00);
        assert_int_equal(buf[23], 1);                  /* ICMP */
        assert_int_equal(buf[34], i % 2 == 0 ? 8 : 0); /* request, reply, request, reply */
    }
    assert_int_equal(sp_device_recv(r, buf, sizeof(buf)), SP_EOF);
    sp_device_close(r);
}

static void test_replay_missing_file(void **state)
{
    (void)state;
    char err[256] = "";
    assert_null(sp_pcap_replay_open("/nonexistent/sp-no-such.pcap", 1500, err, sizeof(err)));
    assert_non_null(strstr(err, "cannot open pcap /nonexistent/sp-no-such.pcap"));
    assert_null(strchr(err, '\n'));
}

/* Ethernet and raw IP are read (test_dev_rawip.c has the raw-IP ones); any other link is refused. */
static void test_replay_unsupported_link(void **state)
{
    (void)state;
    struct tmpfile t;
    tmp_make(&t);
    pcap_t *dead = pcap_open_dead(DLT_LINUX_SLL, 65535);
    assert_non_null(dead);
    pcap_dumper_t *d = pcap_dump_open(dead, t.path);
    assert_non_null(d);
    pcap_dump_close(d);
    pcap_close(dead);

    char err[256] = "";
    assert_null(sp_pcap_replay_open(t.path, 1500, err, sizeof(err)));
    char want[64];
    snprintf(want, sizeof(want), "unsupported link type %d", DLT_LINUX_SLL);
    assert_non_null(strstr(err, want));
    unlink(t.path);
}

static void test_replay_not_a_pcap(void **state)
{
    (void)state;
    struct tmpfile t;
    tmp_make(&t);
    FILE *fp = fopen(t.path, "w");
    assert_non_null(fp);
    fputs("this is not a capture file at all", fp);
    fclose(fp);
    char err[256] = "";
    assert_null(sp_pcap_replay_open(t.path, 1500, err, sizeof(err)));
    assert_non_null(strstr(err, "cannot open pcap"));
    unlink(t.path);
}

static void test_writer_errors(void **state)
{
    (void)state;
    char err[256] = "";
    struct sp_device *mem = sp_mem_open(1500, 1);
    assert_non_null(mem);
    /* On failure the caller keeps the inner device. */
    assert_null(sp_pcap_writer_open(mem, "/nonexistent/dir/out.pcap", SP_PCAP_RX, err,
                                    sizeof(err)));
    assert_non_null(strstr(err, "cannot write pcap /nonexistent/dir/out.pcap"));
    assert_null(sp_pcap_writer_open(mem, "/tmp/unused.pcap", 0, err, sizeof(err)));
    assert_non_null(strstr(err, "directions"));
    assert_null(sp_pcap_writer_open(mem, "/tmp/unused.pcap", 4, err, sizeof(err)));
    assert_int_equal(sp_pcap_writer_count(mem), 0); /* not a writer */
    sp_pcap_writer_flush(mem);                      /* ignored, not a crash */
    sp_device_close(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_both_directions),
        cmocka_unit_test(test_rx_only),
        cmocka_unit_test(test_tx_only),
        cmocka_unit_test(test_flush_makes_frames_visible),
        cmocka_unit_test(test_replay_truncates_to_buffer_and_discards_sends),
        cmocka_unit_test(test_replay_shared_icmp_ping),
        cmocka_unit_test(test_replay_missing_file),
        cmocka_unit_test(test_replay_unsupported_link),
        cmocka_unit_test(test_replay_not_a_pcap),
        cmocka_unit_test(test_writer_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
