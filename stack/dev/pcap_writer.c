/* Pcap writer: wraps any device and records the frames of the chosen directions to a pcap file.
 * Received frames are recorded as delivered to the caller (after truncation to its buffer); sent
 * frames are recorded before they are handed to the inner device, so the capture shows what the
 * stack transmitted even if the inner device then loses the frame.
 *
 * Offloaded frames (device.h) are recorded as the wire carries them: a super-segment as the
 * MSS-sized segments it stands for, a partial checksum filled in, so that a capture reads like any
 * other. The frame count is of recorded frames. */
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "slowpath/device.h"
#include "slowpath/error.h"
#include "slowpath/wire/offload.h"

#define WRITER_SNAPLEN 65535

struct writer_dev {
    struct sp_device dev;
    struct sp_device *inner;
    pcap_t *dead;
    pcap_dumper_t *dumper;
    int dirs;
    uint64_t count;
    uint8_t *scratch;       /* offloads: the wire frames cut from one offloaded frame */
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

/* A frame with offload metadata: the wire frames it stands for. One that cannot be cut is
 * recorded as it is, so that nothing the stack exchanged goes missing from the capture. */
static void writer_record_meta(struct writer_dev *w, const uint8_t *frame, size_t len, const struct sp_frame_meta *m)
{
    if (!sp_offload_pending(m) || !w->scratch) {
        writer_record(w, frame, len);
        return;
    }
    if (m->gso_type != SP_GSO_NONE) {
        struct sp_offload_cut cut;
        if (sp_offload_cut_init(&cut, frame, len, m) == 0) {
            int n;
            while ((n = sp_offload_cut_next(&cut, w->scratch, SP_OFFLOAD_MAX_FRAME)) > 0)
                writer_record(w, w->scratch, (size_t)n);
            return;
        }
    } else if (len <= SP_OFFLOAD_MAX_FRAME) {
        struct sp_frame_meta done = *m;
        memcpy(w->scratch, frame, len);
        if (sp_offload_csum_complete(w->scratch, len, &done) == 0) {
            writer_record(w, w->scratch, len);
            return;
        }
    }
    writer_record(w, frame, len);
}

static int writer_recv_meta(struct sp_device *dev, uint8_t *buf, size_t cap, struct sp_frame_meta *m)
{
    struct writer_dev *w = writer_of(dev);
    int n = sp_device_recv_meta(w->inner, buf, cap, m);
    if (n >= 0 && (w->dirs & SP_PCAP_RX))
        writer_record_meta(w, buf, (size_t)n, m);
    return n;
}

static int writer_send_meta(struct sp_device *dev, const uint8_t *frame, size_t len, const struct sp_frame_meta *m)
{
    struct writer_dev *w = writer_of(dev);
    if (w->dirs & SP_PCAP_TX)
        writer_record_meta(w, frame, len, m);
    return sp_device_send_meta(w->inner, frame, len, m);
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
    free(w->scratch);
    free(w);
}

static const struct sp_device_ops writer_ops = {
    .recv = writer_recv,
    .send = writer_send,
    .fd = writer_fd,
    .close = writer_close,
    .recv_meta = writer_recv_meta,
    .send_meta = writer_send_meta,
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
    if (inner->offloads) {
        w->scratch = malloc(SP_OFFLOAD_MAX_FRAME);
        if (!w->scratch) {
            snprintf(err, errlen, "pcap writer %s: out of memory", path);
            pcap_dump_close(w->dumper);
            pcap_close(w->dead);
            free(w);
            return NULL;
        }
    }
    w->inner = inner;
    w->dirs = dirs;
    snprintf(w->name, sizeof(w->name), "pcap-writer(%s)", inner->name ? inner->name : "?");
    w->dev.ops = &writer_ops;
    w->dev.name = w->name;
    w->dev.mtu = inner->mtu;
    w->dev.link = inner->link;
    w->dev.offloads = inner->offloads;
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
