/* TUN device: IP datagrams to and from a Linux TUN interface through /dev/net/tun (IFF_TUN |
 * IFF_NO_PI, so every read or write is exactly one datagram with no link header and no
 * packet-info prefix). The set-up of the original experiment: a point-to-point link with no ARP,
 * the kernel on one end and the stack on the other. The device says so with SP_LINK_RAW_IP. */
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "slowpath/device.h"
#include "slowpath/error.h"
#include "slowpath/wire/ipv4.h"
#include "tun_fd.h"

struct tun_dev {
    struct sp_device dev;
    int fd;
};

static int tun_recv(struct sp_device *dev, uint8_t *buf, size_t cap)
{
    struct tun_dev *t = (struct tun_dev *)dev;
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    int n = sp_tun_fd_read(t->fd, &iov, 1);
    return n == 0 ? SP_EAGAIN : n;
}

/* As on the TAP: a full transmit path loses the datagram (SP_EAGAIN); the protocols above recover.
 * The kernel's EINVAL (SP_EINVAL) means it found no IP version it knows in the first byte. */
static int tun_send(struct sp_device *dev, const uint8_t *pkt, size_t len)
{
    struct tun_dev *t = (struct tun_dev *)dev;
    if (len > dev->mtu)
        return SP_EMSGSIZE;
    if (len < SP_IPV4_MIN_HDR_LEN)
        return SP_EINVAL;
    struct iovec iov = {.iov_base = (void *)pkt, .iov_len = len};
    return sp_tun_fd_write(t->fd, &iov, 1, len);
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
    char ifname[IFNAMSIZ];
    int fd = sp_tun_fd_attach("tun", name, IFF_TUN | IFF_NO_PI, ifname, err, errlen);
    if (fd < 0)
        return NULL;
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
