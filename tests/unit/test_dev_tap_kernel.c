/* The TAP device against the real kernel. Argument checks run anywhere; the frame exchange needs
 * root and runs in a private network namespace made with unshare(CLONE_NEWNET), which vanishes
 * with this process: the kernel's ARP request is answered through sp_device_send and its echo
 * reply read back through sp_device_recv. Skipped when not root. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "slowpath/device.h"
#include "slowpath/error.h"

#define TAP_NAME "sptest0"
static const uint8_t PEER_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t PEER_IP[4] = {192, 0, 2, 2};
static const uint8_t HOST_IP[4] = {192, 0, 2, 1};

static void test_open_errors(void **state)
{
    (void)state;
    char err[128] = "";
    assert_null(sp_tap_open("a-name-much-too-long-for-ifnamsiz", 1500, err, sizeof(err)));
    assert_non_null(strstr(err, "a-name-much-too-long-for-ifnamsiz"));
    assert_non_null(strstr(err, "longer than 15"));
    assert_null(sp_tap_open("", 1500, err, sizeof(err)));
    assert_non_null(strstr(err, "no interface name"));
    assert_null(sp_tap_open(NULL, 1500, NULL, 0)); /* no err buffer: still no crash */
}

static uint16_t csum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Gives the interface 192.0.2.1/24, brings it up and returns its MAC. */
static void configure_host(uint8_t mac[6])
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    assert_true(s >= 0);
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    strcpy(ifr.ifr_name, TAP_NAME);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    sin->sin_family = AF_INET;
    memcpy(&sin->sin_addr, HOST_IP, 4);
    assert_int_equal(ioctl(s, SIOCSIFADDR, &ifr), 0);
    inet_pton(AF_INET, "255.255.255.0", &sin->sin_addr);
    assert_int_equal(ioctl(s, SIOCSIFNETMASK, &ifr), 0);
    assert_int_equal(ioctl(s, SIOCGIFFLAGS, &ifr), 0);
    ifr.ifr_flags |= IFF_UP;
    assert_int_equal(ioctl(s, SIOCSIFFLAGS, &ifr), 0);
    assert_int_equal(ioctl(s, SIOCGIFHWADDR, &ifr), 0);
    memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
    close(s);
}

/* An echo request from PEER to HOST: 14 + 20 + 8 + 16 bytes. */
static size_t build_echo_request(uint8_t *f, const uint8_t host_mac[6])
{
    memset(f, 0, 58);
    memcpy(f, host_mac, 6);
    memcpy(f + 6, PEER_MAC, 6);
    put16(f + 12, 0x0800);
    uint8_t *ip = f + 14;
    ip[0] = 0x45;
    put16(ip + 2, 44);
    put16(ip + 4, 0x1234);
    ip[8] = 64;
    ip[9] = 1;
    memcpy(ip + 12, PEER_IP, 4);
    memcpy(ip + 16, HOST_IP, 4);
    put16(ip + 10, csum(ip, 20));
    uint8_t *icmp = ip + 20;
    icmp[0] = 8;
    put16(icmp + 4, 0xbeef); /* id */
    put16(icmp + 6, 7);      /* seq */
    for (int i = 0; i < 16; i++)
        icmp[8 + i] = (uint8_t)('a' + i);
    put16(icmp + 2, csum(icmp, 24));
    return 58;
}

/* Turns the kernel's ARP request for PEER_IP (in f) into our reply. */
static size_t build_arp_reply(uint8_t *f)
{
    uint8_t *a = f + 14;
    memcpy(f, f + 6, 6);
    memcpy(f + 6, PEER_MAC, 6);
    put16(a + 6, 2);
    memcpy(a + 18, a + 8, 10);
    memcpy(a + 8, PEER_MAC, 6);
    memcpy(a + 14, PEER_IP, 4);
    return 42;
}

static void test_exchange_with_kernel(void **state)
{
    (void)state;
    if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0) {
        print_message("needs root for a private network namespace: skipped\n");
        skip();
    }
    char err[128] = "";
    struct sp_device *dev = sp_tap_open(TAP_NAME, 1500, err, sizeof(err));
    if (!dev)
        fail_msg("sp_tap_open: %s", err);
    assert_string_equal(dev->name, "tap");
    int fd = sp_device_fd(dev);
    assert_true(fd >= 0);
    uint8_t buf[1514];
    assert_int_equal(sp_device_recv(dev, buf, sizeof(buf)), SP_EAGAIN);
    memset(buf, 0, sizeof(buf));
    assert_int_equal(sp_device_send(dev, buf, 1515), SP_EMSGSIZE);
    assert_int_equal(sp_device_send(dev, buf, 10), SP_EINVAL); /* shorter than Ethernet */

    uint8_t host_mac[6];
    configure_host(host_mac);
    uint8_t req[64];
    size_t req_len = build_echo_request(req, host_mac);
    assert_int_equal(sp_device_send(dev, req, req_len), 0);

    /* The kernel asks who PEER_IP is, then answers the ping. Other frames (IPv6 router
     * solicitations and the like) are skipped. The poll timeout only guards against a hang. */
    int answered_arp = 0, got_reply = 0;
    for (int rounds = 0; rounds < 100 && !got_reply; rounds++) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 5000) <= 0)
            fail_msg("no frame from the kernel (arp answered: %d)", answered_arp);
        int n = sp_device_recv(dev, buf, sizeof(buf));
        if (n == SP_EAGAIN)
            continue;
        assert_true(n >= 14);
        if (n >= 42 && buf[12] == 0x08 && buf[13] == 0x06 && buf[21] == 1 &&
            memcmp(buf + 38, PEER_IP, 4) == 0) {
            assert_memory_equal(buf + 6, host_mac, 6);
            size_t len = build_arp_reply(buf);
            assert_int_equal(sp_device_send(dev, buf, len), 0);
            answered_arp = 1;
        } else if (n >= 58 && buf[12] == 0x08 && buf[13] == 0x00 && buf[23] == 1 && buf[34] == 0) {
            assert_memory_equal(buf, PEER_MAC, 6);
            assert_memory_equal(buf + 6, host_mac, 6);
            assert_memory_equal(buf + 26, HOST_IP, 4);
            assert_memory_equal(buf + 30, PEER_IP, 4);
            assert_memory_equal(buf + 38, req + 38, 20); /* id, seq and payload echoed */
            assert_int_equal(csum(buf + 14, 20), 0);
            assert_int_equal(csum(buf + 34, 24), 0);
            got_reply = 1;
        }
    }
    assert_true(answered_arp);
    assert_true(got_reply);

    /* A frame longer than the buffer is cut to it: send another ping, read its reply into 20. */
    req[14 + 5] = 0x35; /* another IP id */
    put16(req + 14 + 10, 0);
    put16(req + 14 + 10, csum(req + 14, 20));
    assert_int_equal(sp_device_send(dev, req, req_len), 0);
    int truncated = 0;
    for (int rounds = 0; rounds < 100 && !truncated; rounds++) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        if (poll(&pfd, 1, 5000) <= 0)
            fail_msg("no second echo reply");
        memset(buf, 0xee, sizeof(buf));
        int n = sp_device_recv(dev, buf, 20);
        if (n == SP_EAGAIN)
            continue;
        assert_int_equal(n, 20);
        assert_int_equal(buf[20], 0xee);
        truncated = buf[12] == 0x08 && buf[13] == 0x00 && memcmp(buf, PEER_MAC, 6) == 0;
    }
    assert_true(truncated);
    sp_device_close(dev);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_exchange_with_kernel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
