/* Pcap writer: wraps any device and records the frames of the chosen directions to a pcap file.
 * Received frames are recorded as delivered to the caller (after truncation to its buffer); sent
 * frames are recorded before they are handed to the inner device, so the capture shows what the
 * stack transmitted even if the inner device then loses the frame. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "slowpath/device.h"
#include "slowpath/error.h"

#define WRITER_SNAPLEN 65535

struct writer_dev {
    struct sp_device dev;
    struct sp_device *inner;
    pcap_t *dead;
    pcap_dumper_t *dumper;
    int dirs;
    uint64_t count;
    char name[64];
};

static const struct sp_device_ops writer_ops;

static struct writer_dev *writer_of(const struct sp_device *dev)
{
    if (!dev || dev->ops != &writer_ops)
        return NULL;
    return (struct writer_dev *)dev;
}

static void writer_record(struct writer_dev *w, const uint8_t *frame, size_t len)
{
    struct pcap_pkthdr hdr;
    memset(&hdr, 0, sizeof(hdr));
    /* A capture's timestamps are the one place wall-clock time belongs. */
    gettimeofday(&hdr.ts, NULL);
    hdr.len = (bpf_u_int32)len;
    hdr.caplen = (bpf_u_int32)(len < WRITER_SNAPLEN ? len : WRITER_SNAPLEN);
    pcap_dump((u_char *)w->dumper, &hdr, frame);
    w->count++;
}

static int writer_recv(struct sp_device *dev, uint8_t *buf, size_t cap)
{
    struct writer_dev *w = writer_of(dev);
    int n = sp_device_recv(w->inner, buf, cap);
    if (n >= 0 && (w->dirs & SP_PCAP_RX))
        writer_record(w, buf, (size_t)n);
    return n;
}

static int writer_send(struct sp_device *dev, const uint8_t *frame, size_t len)
{
    struct writer_dev *w = writer_of(dev);
    if (w->dirs & SP_PCAP_TX)
        writer_record(w, frame, len);
    return sp_device_send(w->inner, frame, len);
}

static int writer_fd(const struct sp_device *dev)
{
    return sp_device_fd(writer_of(dev)->inner);
}

static void writer_close(struct sp_device *dev)
{
    struct writer_dev *w = writer_of(dev);
    pcap_dump_close(w->dumper); /* flushes */
    pcap_close(w->dead);
    sp_device_close(w->inner);
    free(w);
}

static const struct sp_device_ops writer_ops = {
    .recv = writer_recv,
    .send = writer_send,
    .fd = writer_fd,
    .close = writer_close,
};

/* The capture's link type is what the inner device carries. DLT_RAW goes into the file as
 * LINKTYPE_RAW (101), which every reader takes as bare IP. */
static int writer_dlt(const struct sp_device *inner)
{
    return inner->link == SP_LINK_RAW_IP ? DLT_RAW : DLT_EN10MB;
}

struct sp_device *sp_pcap_writer_open(struct sp_device *inner, const char *path, int dirs,
                                      char *err, size_t errlen)
{
    char dummy[1];
    if (!err) {
        err = dummy;
        errlen = sizeof(dummy);
    }
    if (!inner || !path) {
        snprintf(err, errlen, "pcap writer: no inner device or no file given");
        return NULL;
    }
    if (dirs == 0 || (dirs & ~(SP_PCAP_RX | SP_PCAP_TX)) != 0) {
        snprintf(err, errlen, "pcap writer: directions must be SP_PCAP_RX and/or SP_PCAP_TX, not %d",
                 dirs);
        return NULL;
    }
    struct writer_dev *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "pcap writer %s: out of memory", path);
        return NULL;
    }
    w->dead = pcap_open_dead(writer_dlt(inner), WRITER_SNAPLEN);
    if (!w->dead) {
        snprintf(err, errlen, "pcap writer %s: pcap_open_dead failed", path);
        free(w);
        return NULL;
    }
    w->dumper = pcap_dump_open(w->dead, path);
    if (!w->dumper) {
        snprintf(err, errlen, "cannot write pcap %s: %s", path, pcap_geterr(w->dead));
        pcap_close(w->dead);
        free(w);
        return NULL;
    }
    w->inner = inner;
    w->dirs = dirs;
    snprintf(w->name, sizeof(w->name), "pcap-writer(%s)", inner->name ? inner->name : "?");
    w->dev.ops = &writer_ops;
    w->dev.name = w->name;
    w->dev.mtu = inner->mtu;
    w->dev.link = inner->link;
    return &w->dev;
}

void sp_pcap_writer_flush(struct sp_device *dev)
{
    struct writer_dev *w = writer_of(dev);
    if (w)
        pcap_dump_flush(w->dumper);
}

uint64_t sp_pcap_writer_count(const struct sp_device *dev)
{
    struct writer_dev *w = writer_of(dev);
    return w ? w->count : 0;
}
