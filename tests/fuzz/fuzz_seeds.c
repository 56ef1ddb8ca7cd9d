/* fuzz_seeds SHARED_DIR CORPUS_DIR OUT_DIR: writes the seeds the fuzz targets start from, made at
 * build time so that no third-party file is copied into the tree:
 *   OUT/frames/       our scenarios (ARP, ping, fragments, UDP echo, TCP to every service, active
 *                     opens, timers) and every capture of SHARED/corpus/pcap, as it is and aimed at
 *                     us (addresses and checksums repaired), in fuzz_frames' record format; and
 *                     the raw Ethernet frames of CORPUS/frames_raw (kept from before the harness);
 *   OUT/decisions/    the scenarios and captures again, behind fuzz_decisions' configuration, with
 *                     decision records (native, raw, errors, refusals, synchronous answers);
 *   OUT/pcap_replay/  the scenarios as pcap files (the shared captures are read where they are).
 * A missing shared folder only means fewer seeds. */
#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_build.h"
#include "fuzz_decide.h"
#include "fuzz_host.h"
#include "slowpath/opts.h"
#include "slowpath/wire/arp.h"
#include "slowpath/wire/ipv4.h"
#include "slowpath/wire/tcp.h"
#include "slowpath/wire/udp.h"

#define MAX_RECS 64
#define PEER_ISN 1000u
#define EPHEMERAL 49152 /* the first port an active open takes (SP_TCP_EPHEMERAL_FIRST) */

struct rec {
    uint8_t fix, op;
    uint16_t dt;
    uint16_t len;
    uint8_t data[SP_MAX_FRAME];
};

struct scenario {
    char name[96];
    unsigned n;
    struct rec r[MAX_RECS];
};

static const char *out_dir;
static unsigned written;

static void die(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_seeds: %s: %s\n", what, detail);
    exit(1);
}

static void mkdir_p(const char *path)
{
    if (mkdir(path, 0755) < 0 && errno != EEXIST)
        die("mkdir", path);
}

static void write_file(const char *target, const char *name, const uint8_t *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", out_dir, target);
    mkdir_p(path);
    snprintf(path, sizeof path, "%s/%s/%s", out_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
        die("write", path);
    written++;
}

static struct rec *add(struct scenario *s, uint8_t fix, uint8_t op, uint16_t dt)
{
    if (s->n == MAX_RECS)
        die("scenario too long", s->name);
    struct rec *r = &s->r[s->n++];
    memset(r, 0, sizeof *r);
    r->fix = fix;
    r->op = op;
    r->dt = dt;
    return r;
}

static void frame(struct scenario *s, uint8_t fix, uint8_t op, uint16_t dt, const uint8_t *f, size_t len)
{
    struct rec *r = add(s, fix, op, dt);
    r->len = (uint16_t)len;
    memcpy(r->data, f, len);
}

static void op(struct scenario *s, uint8_t o, uint16_t dt)
{
    add(s, 0, o, dt);
}

/* The peer's segment to us: seq relative to its ISN, ack aimed by FZ_FIX_ACK. */
static void seg(struct scenario *s, uint32_t src, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags,
                const char *data, uint8_t o, uint16_t dt)
{
    uint8_t f[SP_MAX_FRAME];
    bool syn = flags & SP_TCP_SYN;
    size_t n = fz_build_tcp(f, src, sport, dport, PEER_ISN + seq, 0, flags, 65535, syn ? 1460 : 0, syn ? 7 : -1,
                            data, data ? strlen(data) : 0);
    frame(s, FZ_FIX_ACK | FZ_FIX_CSUM, o, dt, f, n);
}

static void arp_request(struct scenario *s, uint16_t dt)
{
    uint8_t f[SP_MAX_FRAME];
    size_t n = fz_build_arp(f, SP_ARP_OP_REQUEST, sp_mac_broadcast, FZ_MAC_PEER, FZ_IP_PEER, sp_mac_zero, FZ_IP_US);
    frame(s, 0, 0, dt, f, n);
}

static void arp_reply(struct scenario *s, struct sp_mac mac, uint32_t ip, uint16_t dt)
{
    uint8_t f[SP_MAX_FRAME];
    size_t n = fz_build_arp(f, SP_ARP_OP_REPLY, FZ_MAC_US, mac, ip, FZ_MAC_US, FZ_IP_US);
    frame(s, 0, 0, dt, f, n);
}

/* A handshake to port with our first data, as the peer at sport. */
static void handshake(struct scenario *s, uint16_t sport, uint16_t port)
{
    arp_request(s, 0);
    seg(s, FZ_IP_PEER, sport, port, 0, SP_TCP_SYN, NULL, 0, 10);
    seg(s, FZ_IP_PEER, sport, port, 1, SP_TCP_ACK, NULL, 0, 10);
}

/* Fragments of one datagram from the peer, in the order given by `order` (offsets in 8s). */
static void fragments(struct scenario *s, uint8_t proto, const uint8_t *dgram, size_t len, size_t chunk,
                      bool reverse)
{
    uint8_t f[SP_MAX_FRAME];
    size_t count = (len + chunk - 1) / chunk;
    for (size_t k = 0; k < count; k++) {
        size_t i = reverse ? count - 1 - k : k;
        size_t off = i * chunk, n = len - off < chunk ? len - off : chunk;
        size_t fl = fz_build_ipv4(f, FZ_IP_PEER, FZ_IP_US, proto, 0x4242, (uint16_t)off, off + n < len,
                                  dgram + off, n);
        frame(s, 0, 0, 5, f, fl);
    }
}

static void scenarios(void (*emit)(const struct scenario *))
{
    static struct scenario s;
    uint8_t f[SP_MAX_FRAME], buf[4000];

#define BEGIN(label) (memset(&s, 0, sizeof s), snprintf(s.name, sizeof s.name, "%s", label))
    BEGIN("arp-ping");
    arp_request(&s, 0);
    frame(&s, 0, 0, 10, f, fz_build_ping(f, FZ_IP_PEER, 7, 1, 56));
    frame(&s, 0, 0, 1000, f, fz_build_ping(f, FZ_IP_PEER, 7, 2, 56));
    emit(&s);

    BEGIN("ping-learns-sender");
    frame(&s, 0, 0, 0, f, fz_build_ping(f, FZ_IP_PEER, 9, 1, 0));
    frame(&s, 0, 0, 1, f, fz_build_ping(f, FZ_IP_FAR, 9, 2, 1400));
    arp_reply(&s, FZ_MAC_GW, FZ_IP_GW, 100);
    emit(&s);

    for (int rev = 0; rev < 2; rev++) {
        BEGIN(rev ? "ping-fragments-reversed" : "ping-fragments");
        arp_request(&s, 0);
        uint8_t data[3000];
        memset(data, 0x5a, sizeof data);
        size_t n = fz_build_icmp_echo(buf, 3, 1, data, sizeof data);
        fragments(&s, SP_IP_PROTO_ICMP, buf, n, 1480, rev);
        emit(&s);
    }

    BEGIN("udp-echo-and-unreachable");
    arp_request(&s, 0);
    frame(&s, 0, 0, 1, f, fz_build_udp(f, FZ_IP_PEER, 40000, 7, "ping\n", 5));
    frame(&s, 0, 0, 1, f, fz_build_udp(f, FZ_IP_PEER, 40000, 9, "x", 1));
    frame(&s, 0, 0, 1, f, fz_build_udp(f, FZ_IP_PEER, 40000, 5353, NULL, 0));
    frame(&s, 0, 0, 1, f, fz_build_udp(f, (FZ_IP_US & 0xffffff00u) | 0xff, 40000, 7, "b", 1));
    emit(&s);

    BEGIN("udp-echo-fragmented");
    arp_request(&s, 0);
    {
        uint8_t data[2000];
        memset(data, 0x33, sizeof data);
        uint8_t dgram[2100];
        struct sp_udp_repr u = {.src_port = 40001, .dst_port = 7, .payload = data, .payload_len = sizeof data};
        sp_udp_repr_emit(&u, FZ_IP_PEER, FZ_IP_US, dgram);
        fragments(&s, SP_IP_PROTO_UDP, dgram, SP_UDP_HDR_LEN + sizeof data, 1000, false);
    }
    emit(&s);

    BEGIN("tcp-echo");
    handshake(&s, 40002, 7);
    seg(&s, FZ_IP_PEER, 40002, 7, 1, SP_TCP_ACK | SP_TCP_PSH, "hello\n", 0, 10);
    seg(&s, FZ_IP_PEER, 40002, 7, 7, SP_TCP_ACK, NULL, 0, 50);
    seg(&s, FZ_IP_PEER, 40002, 7, 7, SP_TCP_ACK | SP_TCP_FIN, NULL, 0, 10);
    seg(&s, FZ_IP_PEER, 40002, 7, 8, SP_TCP_ACK, NULL, 0, 10);
    emit(&s);

    BEGIN("tcp-http");
    handshake(&s, 40003, 80);
    seg(&s, FZ_IP_PEER, 40003, 80, 1, SP_TCP_ACK | SP_TCP_PSH, "GET / HTTP/1.1\r\nHost: 192.0.2.2\r\n\r\n", 0, 10);
    seg(&s, FZ_IP_PEER, 40003, 80, 36, SP_TCP_ACK, NULL, 0, 10);
    seg(&s, FZ_IP_PEER, 40003, 80, 36, SP_TCP_ACK | SP_TCP_FIN, NULL, 0, 10);
    emit(&s);

    BEGIN("tcp-http-bad-request");
    handshake(&s, 40004, 80);
    seg(&s, FZ_IP_PEER, 40004, 80, 1, SP_TCP_ACK, "POST /x HTTP/1.0\r\n\r\n", 0, 10);
    seg(&s, FZ_IP_PEER, 40004, 80, 21, SP_TCP_ACK, NULL, 0, 10);
    emit(&s);

    BEGIN("tcp-discard-reset");
    handshake(&s, 40005, 9);
    memset(buf, 'd', 1000);
    buf[1000] = 0;
    seg(&s, FZ_IP_PEER, 40005, 9, 1, SP_TCP_ACK, (const char *)buf, 0, 10);
    seg(&s, FZ_IP_PEER, 40005, 9, 1001, SP_TCP_RST, NULL, 0, 10);
    emit(&s);

    BEGIN("tcp-manual");
    handshake(&s, 40006, FZ_PORT_MANUAL);
    op(&s, fz_op(FZ_OP_SEND, 0, 2), 1);
    seg(&s, FZ_IP_PEER, 40006, FZ_PORT_MANUAL, 1, SP_TCP_ACK, "abc", fz_op(FZ_OP_RECV, 0, 1), 20);
    op(&s, fz_op(FZ_OP_SHUTDOWN, 0, 0), 1);
    seg(&s, FZ_IP_PEER, 40006, FZ_PORT_MANUAL, 4, SP_TCP_ACK | SP_TCP_FIN, NULL, fz_op(FZ_OP_CLOSE, 0, 0), 20);
    emit(&s);

    BEGIN("tcp-manual-window");
    op(&s, fz_op(FZ_OP_SET, 3, 0), 0); /* the listener's receive buffer: the smallest */
    handshake(&s, 40007, FZ_PORT_MANUAL);
    op(&s, fz_op(FZ_OP_SET, 6, 0), 0); /* stop reading */
    memset(buf, 'w', 1460);
    buf[1460] = 0;
    for (uint32_t k = 0; k < 3; k++)
        seg(&s, FZ_IP_PEER, 40007, FZ_PORT_MANUAL, 1 + k * 1460, SP_TCP_ACK, (const char *)buf, 0, 1);
    op(&s, fz_op(FZ_OP_RECV, 0, 3), 500);
    seg(&s, FZ_IP_PEER, 40007, FZ_PORT_MANUAL, 1 + 3 * 1460, SP_TCP_ACK, NULL, fz_op(FZ_OP_ABORT, 0, 0), 10);
    emit(&s);

    BEGIN("tcp-manual-out-of-order");
    handshake(&s, 40008, FZ_PORT_MANUAL);
    seg(&s, FZ_IP_PEER, 40008, FZ_PORT_MANUAL, 101, SP_TCP_ACK, "later", 0, 1);
    seg(&s, FZ_IP_PEER, 40008, FZ_PORT_MANUAL, 301, SP_TCP_ACK | SP_TCP_FIN, "last", 0, 1);
    memset(buf, 'o', 100);
    buf[100] = 0;
    seg(&s, FZ_IP_PEER, 40008, FZ_PORT_MANUAL, 1, SP_TCP_ACK, (const char *)buf, 0, 1);
    op(&s, fz_op(FZ_OP_SEND, 0, 3), 1);
    op(&s, fz_op(FZ_OP_CLOSE, 0, 0), 3000);
    emit(&s);

    BEGIN("tcp-fast-retransmit");
    handshake(&s, 40011, FZ_PORT_MANUAL);
    op(&s, fz_op(FZ_OP_SEND, 0, 3), 1);
    for (int k = 0; k < 4; k++) { /* three duplicates of the handshake's ACK, then one more */
        uint8_t f2[SP_MAX_FRAME];
        size_t n2 = fz_build_tcp(f2, FZ_IP_PEER, 40011, FZ_PORT_MANUAL, PEER_ISN + 1, 0, SP_TCP_ACK, 65535, 0, -1,
                                 NULL, 0);
        frame(&s, FZ_FIX_DUP | FZ_FIX_CSUM, 0, 5, f2, n2);
    }
    seg(&s, FZ_IP_PEER, 40011, FZ_PORT_MANUAL, 1, SP_TCP_ACK, NULL, 0, 5);
    emit(&s);

    BEGIN("tcp-connect");
    op(&s, fz_op(FZ_OP_CONNECT, 0, 0), 0);
    arp_reply(&s, FZ_MAC_PEER, FZ_IP_PEER, 5);
    seg(&s, FZ_IP_PEER, 80, EPHEMERAL, 0, SP_TCP_SYN | SP_TCP_ACK, NULL, fz_op(FZ_OP_SEND, 0, 1), 5);
    seg(&s, FZ_IP_PEER, 80, EPHEMERAL, 1, SP_TCP_ACK | SP_TCP_PSH, "HTTP/1.1 200 OK\r\n\r\n", 0, 5);
    seg(&s, FZ_IP_PEER, 80, EPHEMERAL, 20, SP_TCP_ACK | SP_TCP_FIN, NULL, fz_op(FZ_OP_CLOSE, 0, 0), 5);
    emit(&s);

    BEGIN("tcp-connect-far-refused");
    op(&s, fz_op(FZ_OP_CONNECT, 1, 3), 0);
    arp_reply(&s, FZ_MAC_GW, FZ_IP_GW, 5);
    seg(&s, FZ_IP_FAR, 80, EPHEMERAL, 0, SP_TCP_RST | SP_TCP_ACK, NULL, 0, 5);
    emit(&s);

    BEGIN("tcp-connect-retries");
    op(&s, fz_op(FZ_OP_CONNECT, 2, 1), 0);
    arp_reply(&s, FZ_MAC_PEER, FZ_IP_PEER, 5);
    op(&s, 0, 60000);
    seg(&s, FZ_IP_PEER, 7, EPHEMERAL, 0, SP_TCP_SYN | SP_TCP_ACK, NULL, fz_op(FZ_OP_SEND, 2, 3), 5000);
    op(&s, 0, 30000);
    emit(&s);

    BEGIN("tcp-closed-port");
    arp_request(&s, 0);
    seg(&s, FZ_IP_PEER, 40009, 1234, 0, SP_TCP_SYN, NULL, 0, 1);
    seg(&s, FZ_IP_PEER, 40009, FZ_PORT_MANUAL, 0, SP_TCP_ACK, NULL, 0, 1);
    emit(&s);

    BEGIN("udp-from-the-application");
    op(&s, fz_op(FZ_OP_UDP, 0, 2), 0);
    op(&s, fz_op(FZ_OP_UDP, 0, 3), 0);
    arp_reply(&s, FZ_MAC_PEER, FZ_IP_PEER, 10);
    op(&s, fz_op(FZ_OP_UDP, 7, 1), 10);
    arp_reply(&s, FZ_MAC_GW, FZ_IP_GW, 10);
    emit(&s);

    BEGIN("device-full");
    op(&s, fz_op(FZ_OP_SET, 7, 0), 0);
    handshake(&s, 40010, 7);
    seg(&s, FZ_IP_PEER, 40010, 7, 1, SP_TCP_ACK, "lost", fz_op(FZ_OP_SET, 7, 0), 10);
    op(&s, 0, 2000);
    emit(&s);
#undef BEGIN
}

/* --- fuzz_frames ------------------------------------------------------------------------------ */

static size_t serialize(const struct scenario *s, uint8_t *out, size_t cap, size_t at)
{
    for (unsigned i = 0; i < s->n; i++) {
        const struct rec *r = &s->r[i];
        at = fz_put_record(out, at, cap, r->fix, r->op, r->dt, r->data, r->len);
        if (!at)
            die("seed too big", s->name);
    }
    return at;
}

static uint8_t big[1 << 20];

static void emit_frames(const struct scenario *s)
{
    char name[128];
    snprintf(name, sizeof name, "%s.bin", s->name);
    write_file("frames", name, big, serialize(s, big, sizeof big, 0));
}

/* --- fuzz_decisions --------------------------------------------------------------------------- */

/* A scenario with a decision record after every frame (or an armed one before it). */
static void emit_decided(const struct scenario *s, const char *variant, const uint8_t cfg[FZD_CONFIG],
                         uint8_t mode, bool arm, bool after)
{
    size_t at = 0;
    memcpy(big, cfg, FZD_CONFIG);
    at = FZD_CONFIG;
    static const uint8_t material[1] = {0};
    for (unsigned i = 0; i < s->n; i++) {
        const struct rec *r = &s->r[i];
        if (arm && r->len)
            at = fz_put_record(big, at, sizeof big, FZD_FIX_DECISION | FZD_FIX_ARM, fzd_op(0, mode), 0, material, 1);
        at = fz_put_record(big, at, sizeof big, r->fix, r->op, r->dt, r->data, r->len);
        if (after && r->len)
            at = fz_put_record(big, at, sizeof big, FZD_FIX_DECISION, fzd_op(0, mode), 1, material, 1);
        if (!at)
            die("seed too big", s->name);
    }
    char name[160];
    snprintf(name, sizeof name, "%s-%s.bin", s->name, variant);
    write_file("decisions", name, big, at);
}

static void emit_decisions(const struct scenario *s)
{
    /* All three kinds delegated in exact and legal, shadowed, and delegated with the drop policy
     * and a short deadline; answered natively, raw, with an error, synchronously, or never. */
    uint8_t exact[FZD_CONFIG] = {0x15, 0x00, 0, 0}, legal[FZD_CONFIG] = {0x15, 0x01, 0, 0};
    uint8_t shadow[FZD_CONFIG] = {0x2a, 0x00, 0, 0}, drop[FZD_CONFIG] = {0x15, 0x02 | 2 << 2, 0, 0};
    emit_decided(s, "exact-native", exact, FZD_NATIVE, false, true);
    emit_decided(s, "legal-native", legal, FZD_NATIVE, false, true);
    emit_decided(s, "exact-raw", exact, FZD_NATIVE_RAW, false, true);
    emit_decided(s, "legal-patched", legal, FZD_PATCHED, false, true);
    emit_decided(s, "exact-sync", exact, FZD_NATIVE, true, false);
    emit_decided(s, "shadow-native", shadow, FZD_NATIVE, false, true);
    emit_decided(s, "drop-error", drop, FZD_ERROR, false, true);
    emit_decided(s, "drop-timeout", drop, FZD_NATIVE, false, false);
    emit_decided(s, "legal-refuse", legal, FZD_ERROR, true, false);
    /* Delegated, then native half-way with the requests still parked. */
    size_t at = FZD_CONFIG;
    memcpy(big, exact, FZD_CONFIG);
    static const uint8_t native_now[2] = {0, 0};
    for (unsigned i = 0; i < s->n; i++) {
        const struct rec *r = &s->r[i];
        if (i == s->n / 2)
            at = fz_put_record(big, at, sizeof big, FZD_FIX_DECISION | FZD_FIX_CONFIG, 0, 0, native_now, 2);
        at = fz_put_record(big, at, sizeof big, r->fix, r->op, r->dt, r->data, r->len);
        if (!at)
            die("seed too big", s->name);
    }
    char name[160];
    snprintf(name, sizeof name, "%s-exact-then-native.bin", s->name);
    write_file("decisions", name, big, at);
}

/* --- fuzz_pcap_replay ------------------------------------------------------------------------- */

static void put32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void emit_pcap(const struct scenario *s)
{
    size_t at = 24;
    uint32_t ms = 0;
    put32le(big, 0xa1b2c3d4);
    big[4] = 2, big[5] = 0, big[6] = 4, big[7] = 0; /* version 2.4 */
    memset(big + 8, 0, 8);
    put32le(big + 16, 65535);
    put32le(big + 20, DLT_EN10MB);
    for (unsigned i = 0; i < s->n; i++) {
        const struct rec *r = &s->r[i];
        ms += r->dt;
        if (!r->len)
            continue;
        put32le(big + at, ms / 1000);
        put32le(big + at + 4, ms % 1000 * 1000);
        put32le(big + at + 8, r->len);
        put32le(big + at + 12, r->len);
        memcpy(big + at + 16, r->data, r->len);
        at += 16 + r->len;
    }
    char name[128];
    snprintf(name, sizeof name, "%s.pcap", s->name);
    write_file("pcap_replay", name, big, at);
}

static void emit_all(const struct scenario *s)
{
    emit_frames(s);
    emit_decisions(s);
    emit_pcap(s);
}

/* --- Offloads ------------------------------------------------------------------------------------ */

/* Seeds for a host with offloads (fuzz_host.h): every record's bytes are metadata, then the
 * frame, and a super-segment in is larger than struct rec holds, so these are written straight
 * into records. */
struct oseed {
    uint8_t out[1 << 18];
    size_t at;
    uint8_t first_fix; /* fuzz_frames' mode bit on the first record; 0 in fuzz_decisions */
    unsigned n;
};

static void orec(struct oseed *o, uint8_t fix, uint8_t op, uint16_t dt, const struct sp_frame_meta *m,
                 const uint8_t *f, size_t len)
{
    static uint8_t b[FZ_META_LEN + 65536];
    size_t blen = 0;
    if (f) {
        struct sp_frame_meta z = {0};
        if (!m)
            m = &z;
        b[0] = m->flags;
        b[1] = m->gso_type;
        sp_put16(b + 2, m->gso_size);
        sp_put16(b + 4, m->hdr_len);
        sp_put16(b + 6, m->csum_start);
        sp_put16(b + 8, m->csum_offset);
        memcpy(b + FZ_META_LEN, f, len);
        blen = FZ_META_LEN + len;
    }
    if (o->n++ == 0)
        fix |= o->first_fix;
    o->at = fz_put_record(o->out, o->at, sizeof o->out, fix, op, dt, b, blen);
    if (!o->at)
        die("offload seed too big", "");
}

/* The peer's segment to us (seq relative to its ISN; the ack aimed by FZ_FIX_ACK), with text of
 * any size: a super-segment when larger than a frame. mss 0: no SYN options. */
static void oseg(struct oseed *o, uint16_t sport, uint16_t dport, uint32_t seq, uint8_t flags, uint16_t win,
                 uint16_t mss, size_t text, const struct sp_frame_meta *m, uint8_t op, uint16_t dt)
{
    static uint8_t f[SP_ETH_HDR_LEN + 65536];
    size_t n = fz_build_tcp(f, FZ_IP_PEER, sport, dport, PEER_ISN + seq, 0, flags, win, mss, mss ? 7 : -1, NULL, 0);
    size_t hdr = SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN + (size_t)(f[SP_ETH_HDR_LEN + 32] >> 4) * 4;
    if (text) {
        for (size_t i = 0; i < text; i++)
            f[hdr + i] = (uint8_t)('a' + i % 26);
        n = hdr + text;
        sp_put16(f + SP_ETH_HDR_LEN + 2, (uint16_t)(n - SP_ETH_HDR_LEN)); /* checksums: FZ_FIX_CSUM */
    }
    orec(o, FZ_FIX_ACK | FZ_FIX_CSUM, op, dt, m, f, n);
}

static void ohandshake(struct oseed *o, uint16_t sport, uint16_t port, uint16_t win, uint16_t mss)
{
    uint8_t f[SP_MAX_FRAME];
    orec(o, 0, 0, 0, NULL, f,
         fz_build_arp(f, SP_ARP_OP_REQUEST, sp_mac_broadcast, FZ_MAC_PEER, FZ_IP_PEER, sp_mac_zero, FZ_IP_US));
    oseg(o, sport, port, 0, SP_TCP_SYN, win, mss, 0, NULL, 0, 10);
    oseg(o, sport, port, 1, SP_TCP_ACK, win, 0, 0, NULL, 0, 10);
}

static void offload_seeds(void)
{
    static struct oseed o;
    const struct sp_frame_meta partial = {.flags = SP_FRAME_NEEDS_CSUM, .gso_type = SP_GSO_TCPV4, .gso_size = 1448};
    const struct sp_frame_meta valid = {.flags = SP_FRAME_DATA_VALID, .gso_type = SP_GSO_TCPV4, .gso_size = 1448};
    const struct sp_frame_meta csum = {.flags = SP_FRAME_NEEDS_CSUM};
    for (int target = 0; target < 2; target++) {
        /* Written for fuzz_frames (the mode bit on the first record), then for fuzz_decisions behind
         * its configuration bit, natively and with every kind delegated and never answered. */
        static const uint8_t cfgs[2][FZD_CONFIG] = {{0x00, 0x00, FZD_CONFIG_OFFLOAD, 0},
                                                    {0x15, 0x02 | 2 << 2, FZD_CONFIG_OFFLOAD, 0}};
        for (int c = 0; c < (target ? 2 : 1); c++) {
            const char *dir = target ? "decisions" : "frames", *sfx = target ? (c ? "-drop.bin" : "-native.bin") : ".bin";
            char name[128];
#define OBEGIN()                                                                                                   \
    (memset(&o, 0, sizeof o), o.first_fix = target ? 0 : FZ_FRAMES_OFFLOAD, o.at = target ? FZD_CONFIG : 0,         \
     target ? (void)memcpy(o.out, cfgs[c], FZD_CONFIG) : (void)0)
#define OEMIT(label) (snprintf(name, sizeof name, "offload-%s%s", label, sfx), write_file(dir, name, o.out, o.at))

            /* A 30 KB super-segment in, its checksum partial, then one the kernel vouched for, read
             * by the application; the connection closed from both ends. */
            OBEGIN();
            ohandshake(&o, 41001, FZ_PORT_MANUAL, 65535, 1460);
            oseg(&o, 41001, FZ_PORT_MANUAL, 1, SP_TCP_ACK | SP_TCP_PSH, 65535, 0, 30000, &partial,
                 fz_op(FZ_OP_RECV, 0, 3), 1);
            oseg(&o, 41001, FZ_PORT_MANUAL, 30001, SP_TCP_ACK, 65535, 0, 20000, &valid, fz_op(FZ_OP_RECV, 0, 3), 1);
            oseg(&o, 41001, FZ_PORT_MANUAL, 50001, SP_TCP_ACK | SP_TCP_FIN, 65535, 0, 0, NULL,
                 fz_op(FZ_OP_CLOSE, 0, 0), 50);
            oseg(&o, 41001, FZ_PORT_MANUAL, 50002, SP_TCP_ACK, 65535, 0, 0, NULL, 0, 10);
            OEMIT("rx-super");

            /* The echo service returns a super-segment it received: TSO out of what came in. */
            OBEGIN();
            ohandshake(&o, 41002, 7, 65535, 1460);
            oseg(&o, 41002, 7, 1, SP_TCP_ACK, 65535, 0, 30000, &partial, 0, 1);
            for (unsigned k = 0; k < 4; k++)
                oseg(&o, 41002, 7, 30001, SP_TCP_ACK, 65535, 0, 0, NULL, 0, 20);
            OEMIT("echo-super");

            /* The application writes 100 KB: super-segments out as the peer's ACKs open cwnd. */
            OBEGIN();
            ohandshake(&o, 41003, FZ_PORT_MANUAL, 65535, 1460);
            orec(&o, 0, fz_op(FZ_OP_SEND, 0, 3), 1, NULL, NULL, 0);
            orec(&o, 0, fz_op(FZ_OP_SEND, 0, 3), 0, NULL, NULL, 0);
            for (unsigned k = 0; k < 8; k++)
                oseg(&o, 41003, FZ_PORT_MANUAL, 1, SP_TCP_ACK, 65535, 0, 0, NULL, 0, 20);
            oseg(&o, 41003, FZ_PORT_MANUAL, 1, SP_TCP_ACK | SP_TCP_FIN, 65535, 0, 0, NULL, fz_op(FZ_OP_CLOSE, 0, 0),
                 20);
            OEMIT("tx-100k");

            /* A small MSS and a window of two of its segments, which fit in one frame: what TSO
             * sends must still be cut to the peer's MSS; a UDP datagram with its checksum partial. */
            OBEGIN();
            ohandshake(&o, 41004, FZ_PORT_MANUAL, 9, 536); /* 9 << 7: 1152 bytes */
            orec(&o, 0, fz_op(FZ_OP_SEND, 0, 2), 1, NULL, NULL, 0);
            for (unsigned k = 0; k < 4; k++)
                oseg(&o, 41004, FZ_PORT_MANUAL, 1, SP_TCP_ACK, 9, 0, 0, NULL, 0, 20);
            {
                uint8_t f[SP_MAX_FRAME];
                orec(&o, FZ_FIX_CSUM, 0, 1, &csum, f, fz_build_udp(f, FZ_IP_PEER, 41005, 7, "partial", 7));
            }
            OEMIT("small-mss");
#undef OBEGIN
#undef OEMIT
        }
    }
}

/* --- Captures of the shared corpus ---------------------------------------------------------- */

static void from_pcap(const char *dir, const char *file)
{
    char path[512], err[PCAP_ERRBUF_SIZE];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    pcap_t *p = pcap_open_offline(path, err);
    if (!p) {
        fprintf(stderr, "fuzz_seeds: skipping %s: %s\n", path, err);
        return;
    }
    static struct scenario raw, aimed;
    memset(&raw, 0, sizeof raw);
    snprintf(raw.name, sizeof raw.name, "pcap-%.*s", (int)(strlen(file) - 5), file);
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t last_ms = 0;
    while (raw.n < MAX_RECS && pcap_next_ex(p, &h, &data) == 1) {
        uint64_t ms = (uint64_t)h->ts.tv_sec * 1000 + (uint64_t)h->ts.tv_usec / 1000;
        uint64_t dt = raw.n == 0 || ms < last_ms ? 0 : ms - last_ms;
        last_ms = ms;
        size_t len = h->caplen < SP_MAX_FRAME ? h->caplen : SP_MAX_FRAME;
        frame(&raw, 0, 0, (uint16_t)(dt > 65535 ? 65535 : dt), data, len);
    }
    pcap_close(p);
    aimed = raw;
    snprintf(aimed.name, sizeof aimed.name, "%s-aimed", raw.name);
    for (unsigned i = 0; i < aimed.n; i++)
        aimed.r[i].fix = FZ_FIX_ADDR | FZ_FIX_CSUM;
    emit_frames(&raw);
    emit_frames(&aimed);
    emit_decisions(&aimed);
}

static void each_file(const char *dir, const char *suffix, void (*fn)(const char *dir, const char *file))
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "fuzz_seeds: no %s (fewer seeds)\n", dir);
        return;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name), sl = strlen(suffix);
        if (n > sl && strcmp(e->d_name + n - sl, suffix) == 0)
            fn(dir, e->d_name);
    }
    closedir(d);
}

/* A raw Ethernet frame kept from before the harness: one record. */
static void from_raw_frame(const char *dir, const char *file)
{
    char path[512];
    uint8_t f[SP_MAX_FRAME];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        die("open", path);
    size_t n = fread(f, 1, sizeof f, fp);
    fclose(fp);
    static struct scenario s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "raw-%.*s", (int)(strlen(file) - 4), file);
    frame(&s, 0, 0, 0, f, n);
    emit_frames(&s);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: fuzz_seeds SHARED_DIR CORPUS_DIR OUT_DIR\n");
        return 2;
    }
    out_dir = argv[3];
    mkdir_p(out_dir);
    scenarios(emit_all);
    offload_seeds();
    char dir[512];
    snprintf(dir, sizeof dir, "%s/corpus/pcap", argv[1]);
    each_file(dir, ".pcap", from_pcap);
    snprintf(dir, sizeof dir, "%s/frames_raw", argv[2]);
    each_file(dir, ".bin", from_raw_frame);
    printf("fuzz_seeds: %u seeds in %s\n", written, out_dir);
    return 0;
}
