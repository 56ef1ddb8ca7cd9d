/* TAP device: frames to and from a Linux TAP interface through /dev/net/tun (IFF_TAP | IFF_NO_PI,
 * so every read or write is exactly one Ethernet frame without a packet-info prefix). */
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

struct tap_dev {
    struct sp_device dev;
    int fd;
    char ifname[IFNAMSIZ];
};

static int tap_recv(struct sp_device *dev, uint8_t *buf, size_t cap)
{
    struct tap_dev *t = (struct tap_dev *)dev;
    for (;;) {
        /* The tun driver hands out one frame per read and cuts it to the buffer's size. */
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

/* A full transmit path (EAGAIN, ENOBUFS) gives SP_EAGAIN and the frame is lost: like a NIC with a
 * full ring, we do not queue or retry here; the protocols above recover by retransmission. */
static int tap_send(struct sp_device *dev, const uint8_t *frame, size_t len)
{
    struct tap_dev *t = (struct tap_dev *)dev;
    if (len > sp_device_max_frame(dev))
        return SP_EMSGSIZE;
    for (;;) {
        ssize_t n = write(t->fd, frame, len);
        if (n == (ssize_t)len)
            return 0;
        if (n >= 0)
            return SP_EIO; /* the driver takes whole frames; a short write is a fault */
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
            return SP_EAGAIN;
        if (errno == EMSGSIZE)
            return SP_EMSGSIZE;
        if (errno == EINVAL)
            return SP_EINVAL; /* shorter than an Ethernet header */
        return SP_EIO;
    }
}

static int tap_fd(const struct sp_device *dev)
{
    return ((const struct tap_dev *)dev)->fd;
}

static void tap_close(struct sp_device *dev)
{
    struct tap_dev *t = (struct tap_dev *)dev;
    if (t->fd >= 0)
        close(t->fd);
    free(t);
}

static const struct sp_device_ops tap_ops = {
    .recv = tap_recv,
    .send = tap_send,
    .fd = tap_fd,
    .close = tap_close,
};

struct sp_device *sp_tap_open(const char *name, uint16_t mtu, char *err, size_t errlen)
{
    char dummy[1];
    if (!err) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    if (!name || name[0] == '\0') {
        snprintf(err, errlen, "tap: no interface name given");
        return NULL;
    }
    if (strlen(name) >= IFNAMSIZ) {
        snprintf(err, errlen, "tap name '%s' is longer than %d characters", name, IFNAMSIZ - 1);
        return NULL;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open /dev/net/tun: %s", strerror(errno));
        return NULL;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof(ifr));
    ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
    memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        snprintf(err, errlen, "TUNSETIFF %s: %s", name, strerror(errno));
        close(fd);
        return NULL;
    }
    struct tap_dev *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "tap %s: out of memory", name);
        close(fd);
        return NULL;
    }
    t->fd = fd;
    memcpy(t->ifname, ifr.ifr_name, sizeof(t->ifname));
    t->ifname[IFNAMSIZ - 1] = '\0';
    t->dev.ops = &tap_ops;
    t->dev.name = "tap";
    t->dev.mtu = mtu;
    return &t->dev;
}
