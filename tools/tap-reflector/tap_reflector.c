/* tap-reflector --tap NAME --ip A.B.C.D --mac MAC
 *
 * The limit of the TAP path: a tight loop (ppoll, read, write; no libuv, no stack) that answers
 * ARP requests for --ip and ICMP echo requests to --ip by rewriting each request in place into its
 * reply, fixing checksums incrementally (RFC 1624). A benchmark runs it where the slowpath daemon
 * would run to learn how fast the bare TAP device can go. It checks the IPv4 header checksum but
 * not the ICMP one: a request with a bad ICMP checksum gets a reply with a bad one, which the
 * sender drops. Exits on SIGINT or SIGTERM and prints its counters to stderr. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define ETH_LEN 14
#define ARP_LEN 28
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_ARP 0x0806
#define REPLY_TTL 64

struct reflector {
    int fd;
    uint8_t mac[6];
    uint8_t ip[4];
    unsigned long long arp_replies, echo_replies, ignored, write_errors;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m') for one 16-bit word changing from m to m'. */
static uint16_t csum_update(uint16_t hc, uint16_t m, uint16_t m_new)
{
    uint32_t sum = (uint32_t)(uint16_t)~hc + (uint16_t)~m + m_new;
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static uint16_t csum(const uint8_t *p, size_t len)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2)
        sum += get16(p + i);
    if (len & 1)
        sum += (uint32_t)p[len - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

static void swap_bytes(uint8_t *a, uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t t = a[i];
        a[i] = b[i];
        b[i] = t;
    }
}

/* Ethernet: the reply goes back to the sender, from us. */
static void eth_turn_around(const struct reflector *r, uint8_t *f)
{
    memcpy(f, f + 6, 6);
    memcpy(f + 6, r->mac, 6);
}

/* Returns the reply length, or 0 when the frame is not an ARP request for our address. */
static size_t reflect_arp(const struct reflector *r, uint8_t *f, size_t len)
{
    uint8_t *a = f + ETH_LEN;
    if (len < ETH_LEN + ARP_LEN)
        return 0;
    if (get16(a) != 1 || get16(a + 2) != ETHERTYPE_IPV4 || a[4] != 6 || a[5] != 4)
        return 0;
    if (get16(a + 6) != 1 || memcmp(a + 24, r->ip, 4) != 0)
        return 0;
    put16(a + 6, 2);
    memcpy(a + 18, a + 8, 10);  /* target hw + proto address := sender's */
    memcpy(a + 8, r->mac, 6);   /* sender hw := us */
    memcpy(a + 14, r->ip, 4);   /* sender proto := us */
    eth_turn_around(r, f);
    return ETH_LEN + ARP_LEN;
}

/* Returns the reply length, or 0 when the frame is not an echo request to our address. */
static size_t reflect_icmp_echo(const struct reflector *r, uint8_t *f, size_t len)
{
    uint8_t *ip = f + ETH_LEN;
    if (len < ETH_LEN + 20 || (ip[0] >> 4) != 4)
        return 0;
    size_t ihl = (size_t)(ip[0] & 0x0f) * 4;
    size_t total = get16(ip + 2);
    if (ihl < 20 || total < ihl + 8 || ETH_LEN + total > len)
        return 0;
    if (ip[9] != 1 || memcmp(ip + 16, r->ip, 4) != 0 || (get16(ip + 6) & 0x3fff) != 0)
        return 0; /* not ICMP, not ours, or a fragment */
    if (csum(ip, ihl) != 0)
        return 0;
    uint8_t *icmp = ip + ihl;
    if (icmp[0] != 8 || icmp[1] != 0)
        return 0;

    /* Swapping source and destination leaves the header sum as it was; only TTL changes it. */
    swap_bytes(ip + 12, ip + 16, 4);
    uint16_t old_ttl_proto = get16(ip + 8);
    ip[8] = REPLY_TTL;
    put16(ip + 10, csum_update(get16(ip + 10), old_ttl_proto, get16(ip + 8)));
    icmp[0] = 0; /* echo reply */
    put16(icmp + 2, csum_update(get16(icmp + 2), 0x0800, 0x0000));
    eth_turn_around(r, f);
    return ETH_LEN + total; /* without the Ethernet padding of the request */
}

static size_t reflect(const struct reflector *r, uint8_t *f, size_t len)
{
    static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (len < ETH_LEN)
        return 0;
    int to_us = memcmp(f, r->mac, 6) == 0;
    switch (get16(f + 12)) {
    case ETHERTYPE_ARP:
        return (to_us || memcmp(f, bcast, 6) == 0) ? reflect_arp(r, f, len) : 0;
    case ETHERTYPE_IPV4:
        return to_us ? reflect_icmp_echo(r, f, len) : 0;
    default:
        return 0;
    }
}

static int tap_attach(const char *name)
{
    if (strlen(name) >= IFNAMSIZ) {
        fprintf(stderr, "tap-reflector: tap name '%s' is too long\n", name);
        return -1;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "tap-reflector: cannot open /dev/net/tun: %s\n", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr, "tap-reflector: TUNSETIFF %s: %s\n", name, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char extra;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &extra) != 6)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: tap-reflector --tap NAME --ip A.B.C.D --mac XX:XX:XX:XX:XX:XX\n");
}

/* Drains every waiting frame, answering what is ours. Returns -1 on a read error. */
static int drain(struct reflector *r, uint8_t *buf, size_t cap)
{
    for (;;) {
        ssize_t n = read(r->fd, buf, cap);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0;
            fprintf(stderr, "tap-reflector: read: %s\n", strerror(errno));
            return -1;
        }
        size_t out = reflect(r, buf, (size_t)n);
        if (out == 0) {
            r->ignored++;
            continue;
        }
        if (get16(buf + 12) == ETHERTYPE_ARP)
            r->arp_replies++;
        else
            r->echo_replies++;
        if (write(r->fd, buf, out) != (ssize_t)out)
            r->write_errors++;
    }
}

int main(int argc, char **argv)
{
    const char *tap = NULL, *ip = NULL, *mac = NULL;
    for (int i = 1; i < argc; i++) {
        if (i + 1 < argc && strcmp(argv[i], "--tap") == 0)
            tap = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--ip") == 0)
            ip = argv[++i];
        else if (i + 1 < argc && strcmp(argv[i], "--mac") == 0)
            mac = argv[++i];
        else {
            usage();
            return 2;
        }
    }
    struct reflector r;
    memset(&r, 0, sizeof(r));
    if (!tap || !ip || !mac) {
        usage();
        return 2;
    }
    if (inet_pton(AF_INET, ip, r.ip) != 1) {
        fprintf(stderr, "tap-reflector: bad --ip '%s'\n", ip);
        return 2;
    }
    if (parse_mac(mac, r.mac) != 0) {
        fprintf(stderr, "tap-reflector: bad --mac '%s'\n", mac);
        return 2;
    }

    /* Signals stay blocked except inside ppoll, so a stop request can never be missed between
     * the check and the wait. */
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGTERM);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    r.fd = tap_attach(tap);
    if (r.fd < 0)
        return 1;
    fprintf(stderr, "tap-reflector: answering for %s (%s) on %s\n", ip, mac, tap);

    static uint8_t buf[65536];
    int rc = 0;
    while (!stop_requested) {
        struct pollfd pfd = {.fd = r.fd, .events = POLLIN};
        int n = ppoll(&pfd, 1, NULL, &waitmask);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "tap-reflector: poll: %s\n", strerror(errno));
            rc = 1;
            break;
        }
        if (drain(&r, buf, sizeof(buf)) < 0) {
            rc = 1;
            break;
        }
    }
    fprintf(stderr, "tap-reflector: %llu arp replies, %llu echo replies, %llu ignored, "
                    "%llu write errors\n",
            r.arp_replies, r.echo_replies, r.ignored, r.write_errors);
    close(r.fd);
    return rc;
}
