/* The fault injector over a memory device: drop all / none, one-bit corruption inside the IPv4
 * datagram only (never the Ethernet header, trailer padding or an ARP frame: no checksum covers
 * them), the same decisions for the same seed, and the counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slowpath/device.h"
#include "slowpath/error.h"

#define N_FRAMES 32
#define FRAME_LEN 100
#define PADDING 10                              /* trailer bytes after the datagram */
#define DGRAM_END (FRAME_LEN - PADDING)         /* frame offset where the datagram ends */

/* A frame of patterned bytes that says IPv4 (ethertype 0x0800, version 4, a 20-byte header) with
 * a datagram of FRAME_LEN - 14 - PADDING bytes (its total-length field), followed by trailer
 * padding. */
static void frame_of(uint8_t *f, size_t len, uint8_t tag)
{
    for (size_t i = 0; i < len; i++)
        f[i] = (uint8_t)(tag ^ (i * 7));
    if (len >= 18) {
        f[12] = 0x08, f[13] = 0x00;
        f[14] = 0x45;
        f[16] = 0, f[17] = (uint8_t)(len - 14 - PADDING);
    }
}

/* Opens fault(mem) and returns both; mem stays owned by the fault device. */
static struct sp_device *open_fault(double drop, double corrupt, uint64_t seed,
                                    struct sp_device **mem_out)
{
    struct sp_device *mem = sp_mem_open(1500, N_FRAMES + 1);
    assert_non_null(mem);
    struct sp_fault_opts opts = {.drop_chance = drop, .corrupt_chance = corrupt, .seed = seed};
    struct sp_device *f = sp_fault_open(mem, &opts);
    assert_non_null(f);
    *mem_out = mem;
    return f;
}

/* Counts the bits that differ between two buffers; *first_byte gets the first differing byte. */
static int bit_diff(const uint8_t *a, const uint8_t *b, size_t len, size_t *first_byte)
{
    int bits = 0;
    *first_byte = len;
    for (size_t i = 0; i < len; i++) {
        uint8_t x = a[i] ^ b[i];
        if (x && *first_byte == len)
            *first_byte = i;
        while (x) {
            bits += x & 1;
            x >>= 1;
        }
    }
    return bits;
}

static void test_drop_all(void **state)
{
    (void)state;
    struct sp_device *mem;
    struct sp_device *f = open_fault(1.0, 0.0, 42, &mem);
    assert_string_equal(f->name, "fault(mem)");
    assert_int_equal(f->mtu, 1500);
    assert_int_equal(sp_device_fd(f), -1);
    uint8_t frame[FRAME_LEN], buf[1514];
    for (int i = 0; i < N_FRAMES; i++) {
        frame_of(frame, FRAME_LEN, (uint8_t)i);
        assert_int_equal(sp_mem_inject(mem, frame, FRAME_LEN), 0);
        assert_int_equal(sp_device_send(f, frame, FRAME_LEN), 0); /* looks sent */
    }
    /* Every frame is read and dropped; the caller just sees an empty device. */
    assert_int_equal(sp_device_recv(f, buf, sizeof(buf)), SP_EAGAIN);
    assert_int_equal(sp_mem_pending_tx(mem), 0);
    struct sp_fault_stats st;
    sp_fault_get_stats(f, &st);
    assert_int_equal(st.rx_dropped, N_FRAMES);
    assert_int_equal(st.tx_dropped, N_FRAMES);
    assert_int_equal(st.rx_corrupted, 0);
    assert_int_equal(st.tx_corrupted, 0);
    sp_device_close(f);
}

static void test_pass_all(void **state)
{
    (void)state;
    struct sp_device *mem;
    struct sp_device *f = open_fault(0.0, 0.0, 42, &mem);
    uint8_t frame[FRAME_LEN], buf[1514];
    for (int i = 0; i < N_FRAMES; i++) {
        frame_of(frame, FRAME_LEN, (uint8_t)i);
        assert_int_equal(sp_mem_inject(mem, frame, FRAME_LEN), 0);
        assert_int_equal(sp_device_send(f, frame, FRAME_LEN), 0);
    }
    for (int i = 0; i < N_FRAMES; i++) {
        frame_of(frame, FRAME_LEN, (uint8_t)i);
        assert_int_equal(sp_device_recv(f, buf, sizeof(buf)), FRAME_LEN);
        assert_memory_equal(buf, frame, FRAME_LEN);
        assert_int_equal(sp_mem_take(mem, buf, sizeof(buf)), FRAME_LEN);
        assert_memory_equal(buf, frame, FRAME_LEN);
    }
    assert_int_equal(sp_device_recv(f, buf, sizeof(buf)), SP_EAGAIN);
    struct sp_fault_stats st;
    sp_fault_get_stats(f, &st);
    assert_int_equal(st.rx_dropped + st.tx_dropped + st.rx_corrupted + st.tx_corrupted, 0);
    sp_device_close(f);
}

static void test_corrupt_flips_one_bit_past_ethernet(void **state)
{
    (void)state;
    struct sp_device *mem;
    struct sp_device *f = open_fault(0.0, 1.0, 7, &mem);
    uint8_t frame[FRAME_LEN], buf[1514];
    for (int i = 0; i < N_FRAMES; i++) {
        frame_of(frame, FRAME_LEN, (uint8_t)i);
        assert_int_equal(sp_mem_inject(mem, frame, FRAME_LEN), 0);
        assert_int_equal(sp_device_send(f, frame, FRAME_LEN), 0);
    }
    size_t first;
    for (int i = 0; i < N_FRAMES; i++) {
        frame_of(frame, FRAME_LEN, (uint8_t)i);
        assert_int_equal(sp_device_recv(f, buf, sizeof(buf)), FRAME_LEN);
        assert_int_equal(bit_diff(buf, frame, FRAME_LEN, &first), 1);
        assert_true(first >= 14 && first < DGRAM_END);
        assert_int_equal(sp_mem_take(mem, buf, sizeof(buf)), FRAME_LEN);
        assert_int_equal(bit_diff(buf, frame, FRAME_LEN, &first), 1);
        assert_true(first >= 14 && first < DGRAM_END);
    }
    /* The caller's transmit buffer is never modified: the fault works on a copy. */
    frame_of(buf, FRAME_LEN, 0x99);
    frame_of(frame, FRAME_LEN, 0x99);
    assert_int_equal(sp_device_send(f, buf, FRAME_LEN), 0);
    assert_memory_equal(buf, frame, FRAME_LEN);
    assert_int_equal(sp_mem_take(mem, buf, sizeof(buf)), FRAME_LEN);

    /* An ARP frame has no checksum to catch a flip: it passes untouched and is not counted. */
    frame_of(frame, 60, 0x33);
    frame[12] = 0x08, frame[13] = 0x06;
    assert_int_equal(sp_mem_inject(mem, frame, 60), 0);
    assert_int_equal(sp_device_recv(f, buf, sizeof(buf)), 60);
    assert_memory_equal(buf, frame, 60);
    assert_int_equal(sp_device_send(f, frame, 60), 0);
    assert_int_equal(sp_mem_take(mem, buf, sizeof(buf)), 60);
    assert_memory_equal(buf, frame, 60);

    /* A frame with nothing past the Ethernet header passes untouched and is not counted. */
    frame_of(frame, 14, 0x55);
    assert_int_equal(sp_mem_inject(mem, frame, 14), 0);
    assert_int_equal(sp_device_recv(f, buf, sizeof(buf)), 14);
    assert_memory_equal(buf, frame, 14);
    assert_int_equal(sp_device_send(f, frame, 14), 0);
    assert_int_equal(sp_mem_take(mem, buf, sizeof(buf)), 14);
    assert_memory_equal(buf, frame, 14);

    /* Nor does a datagram the IPv4 view refuses (its total length runs past the frame): the stack
     * drops it before looking at any checksum. */
    frame_of(frame, FRAME_LEN, 0x77);
    frame[16] = 0x01;
    assert_int_equal(sp_mem_inject(mem, frame, FRAME_LEN), 0);
    assert_int_equal(sp_device_recv(f, buf, sizeof(buf)), FRAME_LEN);
    assert_memory_equal(buf, frame, FRAME_LEN);
    assert_int_equal(sp_device_send(f, frame, FRAME_LEN), 0);
    assert_int_equal(sp_mem_take(mem, buf, sizeof(buf)), FRAME_LEN);
    assert_memory_equal(buf, frame, FRAME_LEN);

    struct sp_fault_stats st;
    sp_fault_get_stats(f, &st);
    assert_int_equal(st.rx_corrupted, N_FRAMES);
    assert_int_equal(st.tx_corrupted, N_FRAMES + 1);
    assert_int_equal(st.rx_dropped + st.tx_dropped, 0);
    sp_device_close(f);
}

/* Runs N_FRAMES each way through fault(mem) with chances 0.5 / 0.3 and records what came out. */
static void run_mixed(uint64_t seed, uint8_t *rx_out, int *rx_lens, uint8_t *tx_out, int *tx_lens,
                      struct sp_fault_stats *st)
{
    struct sp_device *mem;
    struct sp_device *f = open_fault(0.5, 0.3, seed, &mem);
    uint8_t frame[FRAME_LEN];
    for (int i = 0; i < N_FRAMES; i++) {
        frame_of(frame, FRAME_LEN, (uint8_t)i);
        assert_int_equal(sp_mem_inject(mem, frame, FRAME_LEN), 0);
        assert_int_equal(sp_device_send(f, frame, FRAME_LEN), 0);
    }
    for (int i = 0; i < N_FRAMES; i++) {
        rx_lens[i] = sp_device_recv(f, rx_out + i * FRAME_LEN, FRAME_LEN);
        tx_lens[i] = sp_mem_take(mem, tx_out + i * FRAME_LEN, FRAME_LEN);
    }
    sp_fault_get_stats(f, st);
    sp_device_close(f);
}

static void test_same_seed_same_decisions(void **state)
{
    (void)state;
    static uint8_t rx1[N_FRAMES * FRAME_LEN], tx1[N_FRAMES * FRAME_LEN];
    static uint8_t rx2[N_FRAMES * FRAME_LEN], tx2[N_FRAMES * FRAME_LEN];
    int rl1[N_FRAMES], tl1[N_FRAMES], rl2[N_FRAMES], tl2[N_FRAMES];
    struct sp_fault_stats s1, s2, s3;
    memset(rx1, 0, sizeof(rx1));
    memset(rx2, 0, sizeof(rx2));
    memset(tx1, 0, sizeof(tx1));
    memset(tx2, 0, sizeof(tx2));
    run_mixed(1234, rx1, rl1, tx1, tl1, &s1);
    run_mixed(1234, rx2, rl2, tx2, tl2, &s2);
    assert_memory_equal(rl1, rl2, sizeof(rl1));
    assert_memory_equal(tl1, tl2, sizeof(tl1));
    assert_memory_equal(rx1, rx2, sizeof(rx1));
    assert_memory_equal(tx1, tx2, sizeof(tx1));
    assert_memory_equal(&s1, &s2, sizeof(s1));
    /* With these chances some frames are dropped and some corrupted, but not all. */
    assert_true(s1.rx_dropped > 0 && s1.rx_dropped < N_FRAMES);
    assert_true(s1.tx_dropped > 0 && s1.tx_dropped < N_FRAMES);
    assert_true(s1.rx_corrupted > 0 && s1.tx_corrupted > 0);
    /* Counters agree with what came out. */
    int rx_got = 0, tx_got = 0;
    for (int i = 0; i < N_FRAMES; i++) {
        rx_got += rl1[i] == FRAME_LEN;
        tx_got += tl1[i] == FRAME_LEN;
    }
    assert_int_equal(rx_got, N_FRAMES - (int)s1.rx_dropped);
    assert_int_equal(tx_got, N_FRAMES - (int)s1.tx_dropped);
    /* Another seed makes other decisions. */
    run_mixed(99, rx2, rl2, tx2, tl2, &s3);
    assert_true(memcmp(rl1, rl2, sizeof(rl1)) != 0 || memcmp(tl1, tl2, sizeof(tl1)) != 0 ||
                memcmp(rx1, rx2, sizeof(rx1)) != 0 || memcmp(tx1, tx2, sizeof(tx1)) != 0);
}

static void test_errors_pass_through(void **state)
{
    (void)state;
    struct sp_device *mem;
    struct sp_device *f = open_fault(0.0, 0.0, 1, &mem);
    uint8_t buf[1600] = {0};
    assert_int_equal(sp_device_send(f, buf, 1515), SP_EMSGSIZE); /* inner refuses */
    sp_device_close(f);
}

static void test_bad_options(void **state)
{
    (void)state;
    struct sp_device *mem = sp_mem_open(1500, 1);
    struct sp_fault_opts bad_drop = {.drop_chance = 1.5, .corrupt_chance = 0, .seed = 0};
    struct sp_fault_opts bad_corrupt = {.drop_chance = 0, .corrupt_chance = -0.1, .seed = 0};
    /* On failure the caller keeps the inner device. */
    assert_null(sp_fault_open(mem, &bad_drop));
    assert_null(sp_fault_open(mem, &bad_corrupt));
    assert_null(sp_fault_open(mem, NULL));
    assert_null(sp_fault_open(NULL, &bad_drop));
    struct sp_fault_stats st;
    memset(&st, 0xff, sizeof(st));
    sp_fault_get_stats(mem, &st); /* not a fault device: zeros */
    assert_int_equal(st.rx_dropped + st.tx_dropped + st.rx_corrupted + st.tx_corrupted, 0);
    sp_device_close(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drop_all),
        cmocka_unit_test(test_pass_all),
        cmocka_unit_test(test_corrupt_flips_one_bit_past_ethernet),
        cmocka_unit_test(test_same_seed_same_decisions),
        cmocka_unit_test(test_errors_pass_through),
        cmocka_unit_test(test_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
