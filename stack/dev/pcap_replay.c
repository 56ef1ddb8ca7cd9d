/* Pcap replay device: the frames of a capture file arrive as if from the wire, in file order,
 * then SP_EOF. Sent frames are discarded (send succeeds), so a stack can run against a capture.
 * The file's link type becomes the device's: Ethernet, or raw IP for a capture made on a TUN. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slowpath/device.h"
#include "slowpath/error.h"

struct replay_dev {
    struct sp_device dev;
    pcap_t *pcap;
    int at_end; /* once SP_EOF, always SP_EOF */
};

static int replay_recv(struct sp_device *dev, uint8_t *buf, size_t cap)
{
    struct replay_dev *r = (struct replay_dev *)dev;
    if (r->at_end)
        return SP_EOF;
    struct pcap_pkthdr *hdr;
    const u_char *data;
    int rc = pcap_next_ex(r->pcap, &hdr, &data);
    if (rc == 1) {
        size_t n = hdr->caplen < cap ? hdr->caplen : cap;
        if (n > 0)
            memcpy(buf, data, n);
        return (int)n;
    }
    if (rc == PCAP_ERROR_BREAK) {
        r->at_end = 1;
        return SP_EOF;
    }
    /* A damaged record (e.g. a file cut short mid-frame) ends the replay. */
    r->at_end = 1;
    return SP_EIO;
}

static int replay_send(struct sp_device *dev, const uint8_t *frame, size_t len)
{
    (void)dev;
    (void)frame;
    (void)len;
    return 0;
}

static int replay_fd(const struct sp_device *dev)
{
    (void)dev;
    return -1;
}

static void replay_close(struct sp_device *dev)
{
    struct replay_dev *r = (struct replay_dev *)dev;
    pcap_close(r->pcap);
    free(r);
}

static const struct sp_device_ops replay_ops = {
    .recv = replay_recv,
    .send = replay_send,
    .fd = replay_fd,
    .close = replay_close,
};

/* libpcap reports a file's LINKTYPE_RAW (101) as DLT_RAW, which is 12 here (and the number some
 * writers put in the file itself); DLT_IPV4 (228) is raw IP that may only be IPv4. */
static int replay_link(int dlt, enum sp_link *out)
{
    switch (dlt) {
    case DLT_EN10MB:
        *out = SP_LINK_ETHERNET;
        return 0;
    case 12:
    case 101:
    case 228:
        *out = SP_LINK_RAW_IP;
        return 0;
    default:
        return SP_EUNSUPPORTED;
    }
}

struct sp_device *sp_pcap_replay_open(const char *path, uint16_t mtu, char *err, size_t errlen)
{
    char dummy[1];
    if (!err) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    if (!path) {
        snprintf(err, errlen, "pcap replay: no file given");
        return NULL;
    }
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    pcap_t *p = pcap_open_offline(path, pcap_err);
    if (!p) {
        snprintf(err, errlen, "cannot open pcap %s: %s", path, pcap_err);
        return NULL;
    }
    enum sp_link link;
    if (replay_link(pcap_datalink(p), &link) < 0) {
        snprintf(err, errlen,
                 "%s: unsupported link type %d (only Ethernet, 1; raw IP, 12 or 101; IPv4, 228)",
                 path, pcap_datalink(p));
        pcap_close(p);
        return NULL;
    }
    struct replay_dev *r = calloc(1, sizeof(*r));
    if (!r) {
        snprintf(err, errlen, "pcap replay %s: out of memory", path);
        pcap_close(p);
        return NULL;
    }
    r->pcap = p;
    r->dev.ops = &replay_ops;
    r->dev.name = "pcap-replay";
    r->dev.mtu = mtu;
    r->dev.link = link;
    return &r->dev;
}
