/* TAP device: frames to and from a Linux TAP interface through /dev/net/tun (IFF_TAP | IFF_NO_PI,
 * so every read or write is exactly one Ethernet frame without a packet-info prefix).
 *
 * With offloads (sp_tap_open_offload), the TAP is opened with IFF_VNET_HDR: every read and write
 * starts with a struct virtio_net_hdr, and TUNSETOFFLOAD tells the kernel we take partial
 * checksums and TCPv4 super-segments, so one read or write moves up to 64 KB of a TCP stream.
 * The header's fields are in the host's byte order (legacy virtio, the tun default). */
#include <stdbool.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include "slowpath/device.h"
#include "slowpath/error.h"
#include "slowpath/wire/offload.h"
#include "tun_fd.h"

struct tap_dev {
    struct sp_device dev;
    int fd;
    bool vnet;      /* IFF_VNET_HDR: a virtio_net_hdr leads every frame */
    char ifname[IFNAMSIZ];
};

static int tap_recv(struct sp_device *dev, uint8_t *buf, size_t cap);

static void meta_from_vnet(const struct virtio_net_hdr *h, struct sp_frame_meta *m)
{
    *m = (struct sp_frame_meta){0};
    if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
        m->flags |= SP_FRAME_NEEDS_CSUM;
    if (h->flags & VIRTIO_NET_HDR_F_DATA_VALID)
        m->flags |= SP_FRAME_DATA_VALID;
    /* The ECN bit only says the first segment may carry CWR: the segment is TCPv4 all the same.
     * Any other type was never enabled; the stack drops it, counted. */
    uint8_t type = h->gso_type & (uint8_t)~VIRTIO_NET_HDR_GSO_ECN;
    m->gso_type = type == VIRTIO_NET_HDR_GSO_NONE ? SP_GSO_NONE : type == VIRTIO_NET_HDR_GSO_TCPV4 ? SP_GSO_TCPV4 : 0xff;
    m->gso_size = h->gso_size;
    m->hdr_len = h->hdr_len;
    m->csum_start = h->csum_start;
    m->csum_offset = h->csum_offset;
}

static void vnet_from_meta(const struct sp_frame_meta *m, struct virtio_net_hdr *h)
{
    memset(h, 0, sizeof *h);
    if (!m)
        return;
    if (m->flags & SP_FRAME_NEEDS_CSUM) {
        h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
        h->csum_start = m->csum_start;
        h->csum_offset = m->csum_offset;
    }
    if (m->gso_type == SP_GSO_TCPV4) {
        h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
        h->gso_size = m->gso_size;
        h->hdr_len = m->hdr_len;
    }
}

static int tap_recv_meta(struct sp_device *dev, uint8_t *buf, size_t cap, struct sp_frame_meta *meta)
{
    struct tap_dev *t = (struct tap_dev *)dev;
    if (!t->vnet) {
        *meta = (struct sp_frame_meta){0};
        return tap_recv(dev, buf, cap);
    }
    struct virtio_net_hdr h;
    struct iovec iov[2] = {{.iov_base = &h, .iov_len = sizeof h}, {.iov_base = buf, .iov_len = cap}};
    int n = sp_tun_fd_read(t->fd, iov, 2);
    if (n < 0)
        return n;
    if (n <= (int)sizeof h)
        return SP_EAGAIN;
    /* Most frames (ARP, ICMP, small TCP) carry a zero header: keep their path short. */
    if (h.flags == 0 && h.gso_type == VIRTIO_NET_HDR_GSO_NONE)
        *meta = (struct sp_frame_meta){0};
    else
        meta_from_vnet(&h, meta);
    return n - (int)sizeof h;
}

static int tap_recv(struct sp_device *dev, uint8_t *buf, size_t cap)
{
    struct tap_dev *t = (struct tap_dev *)dev;
    if (t->vnet) {
        /* A caller without metadata gets wire-valid checksums; a super-segment stays whole (a
         * valid, if large, TCP segment). */
        struct sp_frame_meta m;
        int n = tap_recv_meta(dev, buf, cap, &m);
        if (n > 0 && sp_offload_csum_complete(buf, (size_t)n, &m) < 0)
            return SP_EAGAIN;
        return n;
    }
    struct iovec iov = {.iov_base = buf, .iov_len = cap};
    int n = sp_tun_fd_read(t->fd, &iov, 1);
    return n == 0 ? SP_EAGAIN : n;
}

/* A full transmit path (EAGAIN, ENOBUFS) gives SP_EAGAIN and the frame is lost: like a NIC with a
 * full ring, we do not queue or retry here; the protocols above recover by retransmission. */
static int tap_send_meta(struct sp_device *dev, const uint8_t *frame, size_t len, const struct sp_frame_meta *m)
{
    struct tap_dev *t = (struct tap_dev *)dev;
    static const struct virtio_net_hdr plain;   /* all zero: a frame as the wire carries it */
    struct virtio_net_hdr h;
    const struct virtio_net_hdr *hp = &plain;
    if (sp_offload_pending(m)) {
        if (!t->vnet)
            return SP_EINVAL;
        if (len > (m->gso_type != SP_GSO_NONE ? SP_OFFLOAD_MAX_FRAME : sp_device_max_frame(dev)))
            return SP_EMSGSIZE;
        vnet_from_meta(m, &h);
        hp = &h;
    } else if (len > sp_device_max_frame(dev)) {
        return SP_EMSGSIZE;
    }
    struct iovec iov[2] = {{.iov_base = (void *)hp, .iov_len = sizeof h}, {.iov_base = (void *)frame, .iov_len = len}};
    /* The kernel's EINVAL (SP_EINVAL): shorter than an Ethernet header. */
    return t->vnet ? sp_tun_fd_write(t->fd, iov, 2, sizeof h + len) : sp_tun_fd_write(t->fd, iov + 1, 1, len);
}

static int tap_send(struct sp_device *dev, const uint8_t *frame, size_t len)
{
    return tap_send_meta(dev, frame, len, NULL);
}

static int tap_fd(const struct sp_device *dev)
{
    return ((const struct tap_dev *)dev)->fd;
}

static void tap_close(struct sp_device *dev)
{
    struct tap_dev *t = (struct tap_dev *)dev;
    if (t->fd >= 0) {
        /* The TAP may outlive us (a persistent one): leave it as a plain reader finds it. */
        if (t->vnet)
            ioctl(t->fd, TUNSETOFFLOAD, 0UL);
        close(t->fd);
    }
    free(t);
}

static const struct sp_device_ops tap_ops = {
    .recv = tap_recv,
    .send = tap_send,
    .fd = tap_fd,
    .close = tap_close,
    .recv_meta = tap_recv_meta,
    .send_meta = tap_send_meta,
};

/* Asks for IFF_VNET_HDR and then for the offloads, the most first; false when the kernel refuses
 * the header itself (the caller then opens a plain TAP). */
static bool enable_offloads(int fd, uint32_t *offloads)
{
    int hdr = (int)sizeof(struct virtio_net_hdr);
    if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
        return false;
    *offloads = 0;
    if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)(TUN_F_CSUM | TUN_F_TSO4)) == 0)
        *offloads = SP_OFFLOAD_CSUM | SP_OFFLOAD_TSO4;
    else if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)TUN_F_CSUM) == 0)
        *offloads = SP_OFFLOAD_CSUM;
    return true;
}

struct sp_device *sp_tap_open(const char *name, uint16_t mtu, char *err, size_t errlen)
{
    return sp_tap_open_offload(name, mtu, false, err, errlen);
}

static int tap_attach(const char *name, bool vnet, char *ifname, char *err, size_t errlen)
{
    return sp_tun_fd_attach("tap", name, (short)(IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0)), ifname, err,
                            errlen);
}

struct sp_device *sp_tap_open_offload(const char *name, uint16_t mtu, bool offload, char *err, size_t errlen)
{
    char dummy[1];
    if (!err) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    char ifname[IFNAMSIZ];
    uint32_t offloads = 0;
    bool vnet = offload;
    int fd = tap_attach(name, vnet, ifname, err, errlen);
    if (fd >= 0 && vnet && !enable_offloads(fd, &offloads)) {
        close(fd);   /* no virtio header here: a plain TAP does the same work, slower */
        vnet = false;
        fd = tap_attach(name, false, ifname, err, errlen);
    }
    if (fd < 0 && vnet) {
        vnet = false;
        fd = tap_attach(name, false, ifname, err, errlen);
    }
    if (fd < 0)
        return NULL;
    if (!vnet)
        ioctl(fd, TUNSETOFFLOAD, 0UL);   /* a persistent TAP may keep an earlier user's offloads */
    struct tap_dev *t = calloc(1, sizeof(*t));
    if (!t) {
        snprintf(err, errlen, "tap %s: out of memory", name);
        close(fd);
        return NULL;
    }
    t->fd = fd;
    t->vnet = vnet;
    t->dev.offloads = offloads;
    memcpy(t->ifname, ifname, sizeof(t->ifname));
    t->dev.ops = &tap_ops;
    t->dev.name = "tap";
    t->dev.mtu = mtu;
    return &t->dev;
}
