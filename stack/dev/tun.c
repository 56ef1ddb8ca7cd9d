/* TUN device: IP datagrams to and from a Linux TUN interface through /dev/net/tun (IFF_TUN |
 * IFF_NO_PI, so every read or write is exactly one datagram with no link header and no
 * packet-info prefix). The set-up of the original experiment: a point-to-point link with no ARP,
 * the kernel on one end and the stack on the other. The device says so with SP_LINK_RAW_IP. */
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "slowpath/device.h"
#include "slowpath/error.h"
#include "slowpath/wire/ipv4.h"

struct tun_dev {
    struct sp_device dev;
    int fd;
};

static int tun_recv(struct sp_device *dev, uint8_t *buf, size_t cap)
{
    struct tun_dev *t = (struct tun_dev *)dev;
    for (;;) {
        /* One datagram per read, cut to the buffer's size by the driver. */
        ssize_t n = read(t->fd, buf, cap);
        if (n > 0)
            return (int)n;
        if (n == 0)
            return SP_EAGAIN;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return SP_EAGAIN;
        return SP_EIO;
    }
}

/* As on the TAP: a full transmit path loses the datagram (SP_EAGAIN); the protocols above recover. */
static int tun_send(struct sp_device *dev, const uint8_t *pkt, size_t len)
{
    struct tun_dev *t = (struct tun_dev *)dev;
    if (len > dev->mtu)
        return SP_EMSGSIZE;
    if (len < SP_IPV4_MIN_HDR_LEN)
        return SP_EINVAL;
    for (;;) {
        ssize_t n = write(t->fd, pkt, len);
        if (n == (ssize_t)len)
            return 0;
        if (n >= 0)
            return SP_EIO;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
            return SP_EAGAIN;
        if (errno == EMSGSIZE)
            return SP_EMSGSIZE;
        if (errno == EINVAL)
            return SP_EINVAL; /* the kernel found no IP version it knows in the first byte */
        return SP_EIO;
    }
}

static int tun_fd(const struct sp_device *dev)
{
    return ((const struct tun_dev *)dev)->fd;
}

static void tun_close(struct sp_device *dev)
{
    struct tun_dev *t = (struct tun_dev *)dev;
    if (t->fd >= 0)
        close(t->fd);
    free(t);
}

static const struct sp_device_ops tun_ops = {
    .recv = tun_recv,
    .send = tun_send,
    .fd = tun_fd,
    .close = tun_close,
};

struct sp_device *sp_tun_open(const char *name, uint16_t mtu, char *err, size_t errlen)
{
    char dummy[1];
    if (!err) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    if (!name || name[0] == '\0') {
        snprintf(err, errlen, "tun: no interface name given");
        return NULL;
    }
    if (strlen(name) >= IFNAMSIZ) {
        snprintf(err, errlen, "tun name '%s' is longer than %d characters", name, IFNAMSIZ - 1);
        return NULL;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open /dev/net/tun: %s", strerror(errno));
        return NULL;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        /* EINVAL here usually means NAME exists as a TAP (or another kind of device). */
        snprintf(err, errlen, "TUNSETIFF %s (tun): %s", name, strerror(errno));
        close(fd);
        return NULL;
    }
    struct tun_dev *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "tun %s: out of memory", name);
        close(fd);
        return NULL;
    }
    t->fd = fd;
    t->dev.ops = &tun_ops;
    t->dev.name = "tun";
    t->dev.mtu = mtu;
    t->dev.link = SP_LINK_RAW_IP;
    return &t->dev;
}
