/* tcp-peer: the Linux end of bench/tcp_throughput.sh, and both ends of its veth reference.
 *
 * It exists because the peer must never be what limits a measurement: nc moves data through a
 * small buffer and a poll loop, and it cannot say when the last byte arrived. tcp-peer does
 * plain blocking 256 KiB writes or reads on a socket with 4 MiB buffers (set before connect or
 * listen, so the window scale the handshake announces can use them) and times one transfer on
 * CLOCK_MONOTONIC. The same program at both ends of a veth gives the reference a stack is
 * compared against, with the peer's costs identical on both sides of the comparison.
 *
 * Timing starts once the connection is established (connect or accept returned) and ends at the
 * other side's EOF. A sender shuts its side down after the last write and then waits for that
 * EOF, which a receiver sends only after reading everything: so both views end when all bytes
 * have been delivered, not when they were handed to the kernel.
 *
 * stdout gets one line, "BYTES SECONDS" (with --sum, "BYTES SECONDS SUM"), for scripts; anything
 * else goes to stderr. Linux only (SO_SNDBUFFORCE), no libuv: nothing here may cost more than
 * the system calls themselves. */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tcp_peer_sum.h"

struct peer_opts {
    int buf;          /* SO_SNDBUF and SO_RCVBUF, bytes */
    size_t chunk;     /* one write or read, bytes */
    int sum;          /* receivers: print a checksum of what arrived */
};

static void die(const char *what)
{
    fprintf(stderr, "tcp-peer: %s: %s\n", what, strerror(errno));
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The FORCE variants pass net.core.[rw]mem_max as root (the bench runs as root); without the
 * privilege the plain option still asks for what the limit allows. */
static void set_buffers(int fd, int bytes)
{
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) < 0 &&
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes) < 0)
        die("SO_SNDBUF");
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) < 0 &&
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes) < 0)
        die("SO_RCVBUF");
}

static struct addrinfo *resolve(const char *host, const char *port, int passive)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | (passive ? AI_PASSIVE : 0)};
    struct addrinfo *ai;
    int rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        fprintf(stderr, "tcp-peer: %s:%s: %s\n", host, port, gai_strerror(rc));
        exit(2);
    }
    return ai;
}

static int open_connected(const char *host, const char *port, const struct peer_opts *o)
{
    struct addrinfo *ai = resolve(host, port, 0);
    int fd = socket(ai->ai_family, ai->ai_socktype, 0);
    if (fd < 0)
        die("socket");
    set_buffers(fd, o->buf);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0)
        die("connect");
    freeaddrinfo(ai);
    return fd;
}

/* Listens, accepts one connection and closes the listener: one transfer per run. */
static int open_accepted(const char *addr, const char *port, const struct peer_opts *o)
{
    struct addrinfo *ai = resolve(addr, port, 1);
    int one = 1;
    int lfd = socket(ai->ai_family, ai->ai_socktype, 0);
    if (lfd < 0)
        die("socket");
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    set_buffers(lfd, o->buf);   /* inherited by the accepted socket */
    if (bind(lfd, ai->ai_addr, ai->ai_addrlen) < 0)
        die("bind");
    if (listen(lfd, 1) < 0)
        die("listen");
    freeaddrinfo(ai);
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0)
        die("accept");
    close(lfd);
    return fd;
}

/* Reads until EOF; returns the byte count and folds what came into *sum when sum != NULL. */
static uint64_t read_to_eof(int fd, char *buf, size_t chunk, struct tcp_peer_sum *sum)
{
    uint64_t total = 0;
    for (;;) {
        ssize_t n = read(fd, buf, chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("read");
        if (n == 0)
            return total;
        if (sum)
            tcp_peer_sum_add(sum, buf, (size_t)n);
        total += (uint64_t)n;
    }
}

static void write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            die("write");
        buf += n;
        len -= (size_t)n;
    }
}

/* Writes BYTES from one buffer over and over, then waits for the receiver's EOF. */
static void do_send(int fd, uint64_t bytes, const struct peer_opts *o, char *buf, double t0)
{
    for (size_t i = 0; i < o->chunk; i++)
        buf[i] = (char)(i * 2654435761u >> 24);   /* not all zeros: nothing may compress it */
    for (uint64_t left = bytes; left > 0;) {
        size_t n = left < o->chunk ? (size_t)left : o->chunk;
        write_all(fd, buf, n);
        left -= n;
    }
    if (shutdown(fd, SHUT_WR) < 0)
        die("shutdown");
    read_to_eof(fd, buf, o->chunk, NULL);   /* the receiver has everything once it closes */
    printf("%llu %.6f\n", (unsigned long long)bytes, now_s() - t0);
}

static void do_recv(int fd, const struct peer_opts *o, char *buf, double t0)
{
    struct tcp_peer_sum sum;
    tcp_peer_sum_init(&sum);
    uint64_t got = read_to_eof(fd, buf, o->chunk, o->sum ? &sum : NULL);
    double secs = now_s() - t0;
    if (o->sum)
        printf("%llu %.6f %016llx\n", (unsigned long long)got, secs,
               (unsigned long long)tcp_peer_sum_final(&sum));
    else
        printf("%llu %.6f\n", (unsigned long long)got, secs);
}

static int usage(void)
{
    fputs("usage: tcp-peer [--buf BYTES] [--chunk BYTES] [--sum] MODE ...\n"
          "  send HOST PORT BYTES         connect, write BYTES, wait for the peer to close\n"
          "  recv HOST PORT               connect, read until EOF\n"
          "  send-listen ADDR PORT BYTES  accept one connection, then as send\n"
          "  recv-listen ADDR PORT        accept one connection, then as recv\n"
          "  sum FILE                     print the --sum checksum of FILE\n"
          "--buf: SO_SNDBUF/SO_RCVBUF (default 4194304); --chunk: one write or read (default\n"
          "262144); --sum: receivers add a checksum of the bytes. stdout: BYTES SECONDS [SUM],\n"
          "timed from connection established to the other side's EOF.\n", stderr);
    return 2;
}

static int sum_file(const char *path, size_t chunk, char *buf)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die(path);
    struct tcp_peer_sum sum;
    tcp_peer_sum_init(&sum);
    uint64_t total = 0;
    size_t n;
    while ((n = fread(buf, 1, chunk, f)) > 0) {
        tcp_peer_sum_add(&sum, buf, n);
        total += n;
    }
    if (ferror(f))
        die(path);
    fclose(f);
    printf("%llu 0 %016llx\n", (unsigned long long)total, (unsigned long long)tcp_peer_sum_final(&sum));
    return 0;
}

int main(int argc, char **argv)
{
    struct peer_opts o = {.buf = 4 << 20, .chunk = 256 << 10, .sum = 0};
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--sum") == 0)
            o.sum = 1;
        else if (strcmp(argv[i], "--buf") == 0 && i + 1 < argc)
            o.buf = atoi(argv[++i]);
        else if (strcmp(argv[i], "--chunk") == 0 && i + 1 < argc)
            o.chunk = strtoul(argv[++i], NULL, 10);
        else
            return usage();
    }
    if (i >= argc || o.buf <= 0 || o.chunk == 0)
        return usage();
    const char *mode = argv[i];
    int nargs = argc - i - 1;
    char **a = argv + i + 1;
    char *buf = malloc(o.chunk);
    if (!buf)
        die("malloc");

    if (strcmp(mode, "sum") == 0 && nargs == 1)
        return sum_file(a[0], o.chunk, buf);
    int sender = strcmp(mode, "send") == 0 || strcmp(mode, "send-listen") == 0;
    int listener = strcmp(mode, "send-listen") == 0 || strcmp(mode, "recv-listen") == 0;
    if (!sender && strcmp(mode, "recv") != 0 && strcmp(mode, "recv-listen") != 0)
        return usage();
    if (nargs != (sender ? 3 : 2))
        return usage();

    int fd = listener ? open_accepted(a[0], a[1], &o) : open_connected(a[0], a[1], &o);
    double t0 = now_s();
    if (sender)
        do_send(fd, strtoull(a[2], NULL, 10), &o, buf, t0);
    else
        do_recv(fd, &o, buf, t0);
    close(fd);
    free(buf);
    return 0;
}
