/* tap_host: the slowpath stack embedded in a program of its own. One IPv4 host on a TAP device,
 * driven by the program's own libuv loop through the loop edge: it answers ARP and ping (the
 * stack does that by itself) and echoes UDP on port 7. SIGINT or SIGTERM stop it; it then prints
 * a few counters.
 *
 *   cc -o tap_host tap_host.c $(pkg-config --cflags --libs slowpath)
 *   ip tuntap add dev tap0 mode tap && ip addr add 192.0.2.1/24 dev tap0 && ip link set tap0 up
 *   ./tap_host tap0 192.0.2.2/24 &  ping 192.0.2.2
 */
/* libuv's headers want POSIX types (pthread_rwlock_t) that strict C11 hides. */
#define _DEFAULT_SOURCE

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include <uv.h>

#include <slowpath/device.h>
#include <slowpath/edge.h>
#include <slowpath/error.h>
#include <slowpath/iface.h>
#include <slowpath/udp.h>
#include <slowpath/wire/ipv4.h>

static void echo(struct sp_udp_socket *sock, uint32_t src_ip, uint16_t src_port, const uint8_t *data, size_t len)
{
    sp_udp_send(sock, src_ip, src_port, data, len);
}

struct host {
    struct sp_edge *edge;
    uv_signal_t sigint, sigterm;
};

static void on_signal(uv_signal_t *s, int signum)
{
    struct host *h = s->data;
    (void)signum;
    /* Closing the edge and the signal handles leaves the loop with nothing to wait for. */
    sp_edge_close(h->edge);
    h->edge = NULL;
    uv_close((uv_handle_t *)&h->sigint, NULL);
    uv_close((uv_handle_t *)&h->sigterm, NULL);
}

int main(int argc, char **argv)
{
    char err[256];
    struct sp_iface_config cfg = {.prefix_len = 0};
    if (argc != 3 || sp_ipv4_cidr_parse(argv[2], &cfg.ip, &cfg.prefix_len) < 0) {
        fprintf(stderr, "usage: %s TAP ADDR/PREFIX   (e.g. tap0 192.0.2.2/24)\n", argv[0]);
        return 2;
    }
    /* A locally administered MAC; a secret that keys ISNs and IP identifiers. */
    cfg.mac = (struct sp_mac){{0x02, 0x00, 0x00, (uint8_t)(cfg.ip >> 16), (uint8_t)(cfg.ip >> 8), (uint8_t)cfg.ip}};
    if (getrandom(&cfg.secret, sizeof cfg.secret, 0) != (ssize_t)sizeof cfg.secret)
        cfg.secret = 0x5eed;

    struct sp_device *dev = sp_tap_open(argv[1], 1500, err, sizeof err);
    if (!dev) {
        fprintf(stderr, "tap_host: %s\n", err);
        return 1;
    }
    uv_loop_t *loop = uv_default_loop();
    uv_update_time(loop);
    struct sp_iface *iface = sp_iface_new(&cfg, dev, uv_now(loop));
    struct sp_udp_socket udp = {0};
    struct host h = {0};
    int rc = iface ? sp_udp_bind(iface, &udp, 7, echo) : SP_EINVAL;
    if (rc == 0)
        rc = sp_edge_open(loop, iface, NULL, &h.edge);
    if (rc < 0) {
        fprintf(stderr, "tap_host: %s\n", sp_strerror(rc));
        sp_iface_free(iface);
        sp_device_close(dev);
        return 1;
    }
    uv_signal_init(loop, &h.sigint);
    uv_signal_init(loop, &h.sigterm);
    h.sigint.data = h.sigterm.data = &h;
    uv_signal_start(&h.sigint, on_signal, SIGINT);
    uv_signal_start(&h.sigterm, on_signal, SIGTERM);
    printf("tap_host: up on %s as %s\n", argv[1], argv[2]);
    fflush(stdout);

    uv_run(loop, UV_RUN_DEFAULT);

    const struct sp_stats *st = sp_iface_stats(iface);
    printf("tap_host: %llu frames in, %llu out, %llu echo replies, %llu UDP echoed\n",
           (unsigned long long)st->v[SP_STAT_rx_frames], (unsigned long long)st->v[SP_STAT_tx_frames],
           (unsigned long long)st->v[SP_STAT_icmp_echo_tx], (unsigned long long)st->v[SP_STAT_udp_tx]);
    sp_udp_close(&udp);
    sp_iface_free(iface);
    sp_device_close(dev);
    uv_loop_close(loop);
    return 0;
}
