/* The /dev/net/tun plumbing the TAP and TUN devices share (tun_fd.h). */
#include "tun_fd.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "slowpath/error.h"

int sp_tun_fd_attach(const char *kind, const char *name, short flags, char *ifname, char *err, size_t errlen)
{
    if (!name || name[0] == '\0') {
        snprintf(err, errlen, "%s: no interface name given", kind);
        return -1;
    }
    if (strlen(name) >= IFNAMSIZ) {
        snprintf(err, errlen, "%s name '%s' is longer than %d characters", kind, name, IFNAMSIZ - 1);
        return -1;
    }
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open /dev/net/tun: %s", strerror(errno));
        return -1;
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = flags;
    memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        /* EINVAL here usually means NAME exists as the other kind of device. */
        snprintf(err, errlen, "TUNSETIFF %s (%s): %s", name, kind, strerror(errno));
        close(fd);
        return -1;
    }
    memcpy(ifname, ifr.ifr_name, IFNAMSIZ);
    ifname[IFNAMSIZ - 1] = '\0';
    return fd;
}

int sp_tun_fd_read(int fd, const struct iovec *iov, int iovcnt)
{
    for (;;) {
        ssize_t n = readv(fd, iov, iovcnt);
        if (n >= 0)
            return (int)n;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return SP_EAGAIN;
        return SP_EIO;
    }
}

int sp_tun_fd_write(int fd, const struct iovec *iov, int iovcnt, size_t want)
{
    for (;;) {
        ssize_t n = writev(fd, iov, iovcnt);
        if (n == (ssize_t)want)
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
            return SP_EINVAL;
        return SP_EIO;
    }
}
