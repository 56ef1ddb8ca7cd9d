/* What the TAP and TUN devices share (private to stack/dev): attaching to an interface through
 * /dev/net/tun, and one frame or datagram in or out of its descriptor with the kernel's errors
 * turned into the device API's. */
#ifndef SP_DEV_TUN_FD_H
#define SP_DEV_TUN_FD_H

#include <stddef.h>
#include <sys/uio.h>

/* Opens /dev/net/tun non-blocking and attaches to interface `name` with IFF flags `flags`; the
 * interface's name as the kernel took it goes to ifname (IFNAMSIZ bytes). Returns the descriptor,
 * or -1 with a one-line reason in err naming `kind` ("tap", "tun"). */
int sp_tun_fd_attach(const char *kind, const char *name, short flags, char *ifname, char *err, size_t errlen);

/* Reads one frame into iov: its length (0 when the driver had nothing), SP_EAGAIN or SP_EIO. The
 * driver hands out one frame per read and cuts it to the buffers' size. */
int sp_tun_fd_read(int fd, const struct iovec *iov, int iovcnt);

/* Writes one frame of `want` bytes from iov: 0, SP_EAGAIN when the kernel has no room (the frame
 * is lost, as on a NIC with a full ring), SP_EMSGSIZE, SP_EINVAL (the kernel refused what it
 * read), or SP_EIO (a short write: the driver takes whole frames). */
int sp_tun_fd_write(int fd, const struct iovec *iov, int iovcnt, size_t want);

#endif
