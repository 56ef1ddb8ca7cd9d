#include "replay_seq.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "slowpath/error.h"

struct replay_seq {
    struct sp_device base;   /* first: the device pointer is the struct pointer */
    struct sp_device *cur;
    const char *const *paths;
    int n, next;
    bool failed;             /* a capture could not be used: the replay ends in an error, always */
};

static const char *link_name(enum sp_link link)
{
    return link == SP_LINK_RAW_IP ? "raw IP" : "Ethernet";
}

static int seq_recv(struct sp_device *dev, uint8_t *buf, size_t cap)
{
    struct replay_seq *s = (struct replay_seq *)dev;
    /* Sticky: the error may come after frames of the same batch were taken, and the batch then
     * reports those; the next read must fail again rather than go on with the next capture. */
    if (s->failed)
        return SP_EIO;
    for (;;) {
        int len = s->cur ? sp_device_recv(s->cur, buf, cap) : SP_EOF;
        if (len != SP_EOF)
            return len;
        sp_device_close(s->cur);
        s->cur = NULL;
        if (s->next == s->n)
            return SP_EOF;
        char err[256];
        const char *path = s->paths[s->next++];
        s->cur = sp_pcap_replay_open(path, s->base.mtu, err, sizeof err);
        if (!s->cur) {
            app_log(APP_LOG_ERROR, NULL, 0, "%s", err);
            s->failed = true;
            return SP_EIO;
        }
        /* The interface was built for the first capture's link: with or without ARP. */
        if (s->cur->link != s->base.link) {
            app_log(APP_LOG_ERROR, NULL, 0,
                    "%s: link type %s differs from the first capture's (%s); replay each kind in a run of its own",
                    path, link_name(s->cur->link), link_name(s->base.link));
            sp_device_close(s->cur);
            s->cur = NULL;
            s->failed = true;
            return SP_EIO;
        }
    }
}

static int seq_send(struct sp_device *dev, const uint8_t *frame, size_t len)
{
    (void)dev, (void)frame, (void)len;
    return 0; /* a replay has no wire to send on; a pcap writer outside records what was sent */
}

static void seq_close(struct sp_device *dev)
{
    struct replay_seq *s = (struct replay_seq *)dev;
    sp_device_close(s->cur);
    free(s);
}

static const struct sp_device_ops seq_ops = {.recv = seq_recv, .send = seq_send, .close = seq_close};

struct sp_device *sp_replay_seq_open(const char *const *paths, int n, uint16_t mtu, char *err, size_t errlen)
{
    struct replay_seq *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->cur = sp_pcap_replay_open(paths[0], mtu, err, errlen);
    if (!s->cur) {
        free(s);
        return NULL;
    }
    s->base = (struct sp_device){.ops = &seq_ops, .name = "replay", .mtu = mtu, .link = s->cur->link};
    s->paths = paths;
    s->n = n;
    s->next = 1;
    return &s->base;
}
