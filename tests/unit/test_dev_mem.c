/* The in-memory device: frames in order, bounded queues, truncation, EAGAIN when empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "slowpath/device.h"
#include "slowpath/error.h"

/* A frame of `len` bytes whose every byte is `tag`, so frames are told apart by content. */
static void fill(uint8_t *buf, size_t len, uint8_t tag)
{
    memset(buf, tag, len);
}

static void test_rx_in_order_then_eagain(void **state)
{
    (void)state;
    struct sp_device *dev = sp_mem_open(1500, 4);
    assert_non_null(dev);
    assert_int_equal(sp_device_fd(dev), -1);
    assert_int_equal(dev->mtu, 1500);
    assert_string_equal(dev->name, "mem");

    uint8_t f[64], buf[1514];
    for (int i = 0; i < 3; i++) {
        fill(f, (size_t)(20 + i), (uint8_t)(0xa0 + i));
        assert_int_equal(sp_mem_inject(dev, f, (size_t)(20 + i)), 0);
    }
    for (int i = 0; i < 3; i++) {
        memset(buf, 0, sizeof(buf));
        assert_int_equal(sp_device_recv(dev, buf, sizeof(buf)), 20 + i);
        fill(f, (size_t)(20 + i), (uint8_t)(0xa0 + i));
        assert_memory_equal(buf, f, (size_t)(20 + i));
        assert_int_equal(buf[20 + i], 0); /* nothing written past the frame */
    }
    assert_int_equal(sp_device_recv(dev, buf, sizeof(buf)), SP_EAGAIN);
    assert_int_equal(sp_device_recv(dev, buf, sizeof(buf)), SP_EAGAIN);
    sp_device_close(dev);
}

static void test_rx_bound_and_wraparound(void **state)
{
    (void)state;
    struct sp_device *dev = sp_mem_open(100, 3);
    assert_non_null(dev);
    uint8_t f[114], buf[114];
    /* Cycle through the ring several times so head and tail wrap. */
    for (int round = 0; round < 4; round++) {
        for (int i = 0; i < 3; i++) {
            fill(f, 30, (uint8_t)(round * 3 + i));
            assert_int_equal(sp_mem_inject(dev, f, 30), 0);
        }
        fill(f, 30, 0xff);
        assert_int_equal(sp_mem_inject(dev, f, 30), SP_ENOBUFS);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(sp_device_recv(dev, buf, sizeof(buf)), 30);
            fill(f, 30, (uint8_t)(round * 3 + i));
            assert_memory_equal(buf, f, 30);
        }
        assert_int_equal(sp_device_recv(dev, buf, sizeof(buf)), SP_EAGAIN);
    }
    sp_device_close(dev);
}

static void test_frame_size_limits(void **state)
{
    (void)state;
    struct sp_device *dev = sp_mem_open(100, 2);
    assert_non_null(dev);
    uint8_t f[200], buf[200];
    fill(f, sizeof(f), 0x5a);
    /* mtu + 14 is the largest frame; one byte more is refused both ways. */
    assert_int_equal(sp_mem_inject(dev, f, 115), SP_EMSGSIZE);
    assert_int_equal(sp_device_send(dev, f, 115), SP_EMSGSIZE);
    assert_int_equal(sp_mem_inject(dev, f, 114), 0);
    assert_int_equal(sp_device_send(dev, f, 114), 0);
    assert_int_equal(sp_device_recv(dev, buf, sizeof(buf)), 114);
    assert_int_equal(sp_mem_take(dev, buf, sizeof(buf)), 114);
    assert_memory_equal(buf, f, 114);
    /* An empty frame is still a frame. */
    assert_int_equal(sp_mem_inject(dev, f, 0), 0);
    assert_int_equal(sp_device_recv(dev, buf, sizeof(buf)), 0);
    assert_int_equal(sp_device_recv(dev, buf, sizeof(buf)), SP_EAGAIN);
    sp_device_close(dev);
}

static void test_truncation_to_buffer(void **state)
{
    (void)state;
    struct sp_device *dev = sp_mem_open(1500, 2);
    assert_non_null(dev);
    uint8_t f[60], buf[16];
    for (size_t i = 0; i < sizeof(f); i++)
        f[i] = (uint8_t)i;
    assert_int_equal(sp_mem_inject(dev, f, sizeof(f)), 0);
    assert_int_equal(sp_device_send(dev, f, sizeof(f)), 0);
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(sp_device_recv(dev, buf, 10), 10);
    assert_memory_equal(buf, f, 10);
    assert_int_equal(buf[10], 0xee);
    /* The rest of a truncated frame is gone: the next recv is empty, not the tail. */
    assert_int_equal(sp_device_recv(dev, buf, sizeof(buf)), SP_EAGAIN);
    assert_int_equal(sp_mem_take(dev, buf, 16), 16);
    assert_memory_equal(buf, f, 16);
    assert_int_equal(sp_mem_pending_tx(dev), 0);
    sp_device_close(dev);
}

static void test_tx_queue(void **state)
{
    (void)state;
    struct sp_device *dev = sp_mem_open(1500, 2);
    assert_non_null(dev);
    uint8_t f[40], buf[1514];
    assert_int_equal(sp_mem_take(dev, buf, sizeof(buf)), SP_EAGAIN);
    assert_int_equal(sp_mem_pending_tx(dev), 0);
    fill(f, sizeof(f), 1);
    assert_int_equal(sp_device_send(dev, f, sizeof(f)), 0);
    fill(f, sizeof(f), 2);
    assert_int_equal(sp_device_send(dev, f, 20), 0);
    assert_int_equal(sp_mem_pending_tx(dev), 2);
    assert_int_equal(sp_device_send(dev, f, 20), SP_ENOBUFS);
    assert_int_equal(sp_mem_pending_tx(dev), 2);

    assert_int_equal(sp_mem_take(dev, buf, sizeof(buf)), 40);
    fill(f, 40, 1);
    assert_memory_equal(buf, f, 40);
    assert_int_equal(sp_mem_pending_tx(dev), 1);
    assert_int_equal(sp_mem_take(dev, buf, sizeof(buf)), 20);
    fill(f, 20, 2);
    assert_memory_equal(buf, f, 20);
    assert_int_equal(sp_mem_take(dev, buf, sizeof(buf)), SP_EAGAIN);
    /* Sent frames never show up on the receive side. */
    assert_int_equal(sp_device_recv(dev, buf, sizeof(buf)), SP_EAGAIN);
    sp_device_close(dev);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    assert_null(sp_mem_open(1500, 0));
    uint8_t buf[4] = {0};
    /* The mem helpers refuse devices that are not memory devices. */
    struct sp_device *dev = sp_mem_open(1500, 1);
    struct sp_fault_opts opts = {0, 0, 1};
    struct sp_device *wrapped = sp_fault_open(dev, &opts);
    assert_non_null(wrapped);
    assert_int_equal(sp_mem_inject(wrapped, buf, sizeof(buf)), SP_EINVAL);
    assert_int_equal(sp_mem_take(wrapped, buf, sizeof(buf)), SP_EINVAL);
    assert_int_equal(sp_mem_pending_tx(wrapped), 0);
    assert_int_equal(sp_mem_inject(NULL, buf, sizeof(buf)), SP_EINVAL);
    sp_device_close(wrapped);
    sp_device_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rx_in_order_then_eagain),
        cmocka_unit_test(test_rx_bound_and_wraparound),
        cmocka_unit_test(test_frame_size_limits),
        cmocka_unit_test(test_truncation_to_buffer),
        cmocka_unit_test(test_tx_queue),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
