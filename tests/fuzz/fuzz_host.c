/* The host of the stateful fuzz targets (fuzz_host.h): the checking device, the repairs, the
 * application and the clock. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_host.h"
#include "slowpath/error.h"
#include "slowpath/opts.h"
#include "slowpath/tcp.h"
#include "slowpath/udp.h"
#include "slowpath/wire/arp.h"
#include "slowpath/wire/checksum.h"
#include "slowpath/wire/icmp.h"
#include "slowpath/wire/ipv4.h"
#include "slowpath/wire/tcp.h"
#include "slowpath/wire/udp.h"
#include "tcp_internal.h"
#include "tcp_services.h"
#include "udp_echo.h"

void fz_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("fuzz invariant broken: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* --- Records ------------------------------------------------------------------------------------ */

bool fz_next_record(const uint8_t **p, size_t *n, struct fz_record *r)
{
    if (*n < FZ_REC_HDR)
        return false;
    const uint8_t *b = *p;
    r->fix = b[0];
    r->op = b[1];
    r->dt = sp_get16(b + 2);
    size_t len = sp_get16(b + 4);
    size_t left = *n - FZ_REC_HDR;
    r->len = len < left ? len : left;
    r->data = b + FZ_REC_HDR;
    *p = b + FZ_REC_HDR + r->len;
    *n = left - r->len;
    return true;
}

size_t fz_put_record(uint8_t *out, size_t at, size_t cap, uint8_t fix, uint8_t op, uint16_t dt,
                     const uint8_t *data, size_t len)
{
    if (len > 0xffff || at + FZ_REC_HDR + len > cap)
        return 0;
    out[at] = fix;
    out[at + 1] = op;
    sp_put16(out + at + 2, dt);
    sp_put16(out + at + 4, (uint16_t)len);
    if (len)
        memcpy(out + at + FZ_REC_HDR, data, len);
    return at + FZ_REC_HDR + len;
}

/* --- What the stack sent: flows (for FZ_FIX_SEQ) and fragments ------------------------------- */

/* What the stack last said on a TCP flow: the end of what it sent and what it acknowledged. */
struct fz_flow {
    bool used, has_ack, has_peer_ack;
    uint16_t lport, rport;
    uint32_t rip;
    uint32_t snd_end, rcv_nxt;
    uint32_t peer_ack; /* the last ack the input sent on the flow */
};
#define FZ_FLOWS 16

/* A datagram we sent in fragments, put back together to check its transport checksum. Offsets
 * are multiples of 8, so coverage is kept per 8-byte block. */
struct fz_reasm {
    bool used;
    uint32_t dst;
    uint8_t proto;
    uint16_t ident;
    int32_t total; /* payload length once the last fragment was seen, else -1 */
    uint8_t have[65536 / 8 / 8];
    uint8_t data[65536];
};
#define FZ_REASM_SLOTS 4

/* The largest MSS the peer announced on a flow in a SYN it sent us (536 for a SYN without the
 * option, RFC 9293 3.7.1): no segment of ours may carry more text. The largest of all the SYNs
 * seen, as the stack may have taken any of them; a floor of 64 as the stack's (tcp_input.c). */
struct fz_peer_mss {
    bool used;
    uint16_t lport, rport;
    uint32_t rip;
    uint16_t mss;
};

/* One host at a time (libFuzzer runs inputs one after the other): the checker's state is static,
 * reset by fz_host_new, so that 256 KiB of fragment buffers are not allocated per input. */
static struct {
    struct fz_flow flows[FZ_FLOWS];
    unsigned next_flow;
    struct fz_reasm reasm[FZ_REASM_SLOTS];
    unsigned next_reasm;
    struct fz_peer_mss mss[FZ_FLOWS];
    unsigned next_mss;
    /* A super-segment the stack handed over, completed, and one wire segment cut from it by us
     * and by the wire helpers (compared): 64 KB each, so static like the fragment buffers. */
    uint8_t whole[SP_OFFLOAD_MAX_FRAME], piece[SP_MAX_FRAME], helper[SP_MAX_FRAME];
} chk;

static struct fz_flow *flow_find(uint16_t lport, uint32_t rip, uint16_t rport)
{
    for (unsigned i = 0; i < FZ_FLOWS; i++) {
        struct fz_flow *f = &chk.flows[i];
        if (f->used && f->lport == lport && f->rip == rip && f->rport == rport)
            return f;
    }
    return NULL;
}

static void flow_note(uint32_t rip, const struct sp_tcp_repr *t)
{
    struct fz_flow *f = flow_find(t->src_port, rip, t->dst_port);
    uint32_t end = t->seq + (uint32_t)t->payload_len + !!(t->flags & SP_TCP_SYN) + !!(t->flags & SP_TCP_FIN);
    if (!f) {
        f = &chk.flows[chk.next_flow++ % FZ_FLOWS];
        *f = (struct fz_flow){.used = true, .lport = t->src_port, .rport = t->dst_port, .rip = rip, .snd_end = end};
    }
    /* A SYN starts the flow's sequence space afresh (a new connection on the same ports). */
    if ((t->flags & SP_TCP_SYN) || sp_seq_gt(end, f->snd_end))
        f->snd_end = end;
    if (t->flags & SP_TCP_ACK) {
        f->has_ack = true;
        f->rcv_nxt = t->ack;
    }
}

static const struct fz_peer_mss *mss_find(uint16_t lport, uint32_t rip, uint16_t rport)
{
    for (unsigned i = 0; i < FZ_FLOWS; i++) {
        const struct fz_peer_mss *m = &chk.mss[i];
        if (m->used && m->lport == lport && m->rip == rip && m->rport == rport)
            return m;
    }
    return NULL;
}

/* A frame going in: a TCP SYN's MSS option is noted, read here from the raw bytes (not with the
 * stack's own parser, which is what is being checked). Any bytes are safe. */
static void note_incoming(const uint8_t *f, size_t len)
{
    if (len < SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN || sp_get16(f + 12) != SP_ETHERTYPE_IPV4)
        return;
    const uint8_t *d = f + SP_ETH_HDR_LEN;
    size_t dlen = len - SP_ETH_HDR_LEN, hl = (size_t)(d[0] & 0xf) * 4;
    if ((d[0] >> 4) != 4 || d[9] != SP_IP_PROTO_TCP || hl < SP_IPV4_MIN_HDR_LEN ||
        hl + SP_TCP_MIN_HDR_LEN > dlen || (sp_get16(d + 6) & (SP_IPV4_FLAG_MF | SP_IPV4_FRAG_MASK)))
        return;
    const uint8_t *t = d + hl;
    size_t thl = (size_t)(t[12] >> 4) * 4;
    if (!(t[13] & SP_TCP_SYN) || thl < SP_TCP_MIN_HDR_LEN || hl + thl > dlen)
        return;
    uint16_t mss = 536;
    for (size_t i = SP_TCP_MIN_HDR_LEN; i < thl;) {
        if (t[i] == 0)
            break;
        if (t[i] == 1) {
            i++;
            continue;
        }
        if (i + 1 >= thl || t[i + 1] < 2 || i + t[i + 1] > thl)
            break;
        if (t[i] == 2 && t[i + 1] == 4) {
            mss = sp_get16(t + i + 2);
            break;
        }
        i += t[i + 1];
    }
    if (mss < 64)
        mss = 64;
    uint16_t lport = sp_get16(t + 2), rport = sp_get16(t);
    uint32_t rip = sp_get32(d + 12);
    struct fz_peer_mss *m = (struct fz_peer_mss *)mss_find(lport, rip, rport);
    if (!m) {
        m = &chk.mss[chk.next_mss++ % FZ_FLOWS];
        *m = (struct fz_peer_mss){.used = true, .lport = lport, .rport = rport, .rip = rip, .mss = mss};
    } else if (mss > m->mss) {
        m->mss = mss;
    }
}

/* --- The checks ------------------------------------------------------------------------------- */

static bool dst_forbidden(uint32_t dst)
{
    /* RFC 1122 3.2.1.3: nobody, ourselves, loopback, broadcasts and groups never get our replies
     * (the application here never sends to them either). */
    uint32_t directed = (FZ_IP_US & 0xffffff00u) | 0xffu;
    return dst == 0 || dst == FZ_IP_US || dst == SP_IPV4_BROADCAST || dst == directed || sp_ipv4_is_multicast(dst) ||
           (dst >> 24) == 127;
}

static void check_icmp(uint32_t dst, const uint8_t *p, size_t len)
{
    struct sp_icmp_view v;
    struct sp_icmp_repr r;
    if (sp_icmp_view_init(&v, p, len) < 0)
        fz_die("ICMP message of %zu bytes does not parse", len);
    if (sp_icmp_repr_parse(&v, &r) < 0)
        fz_die("ICMP checksum wrong (type %u)", sp_icmp_type(&v));
    if (r.type == SP_ICMP_ECHO_REPLY && r.code == 0)
        return;
    if (r.type != SP_ICMP_DEST_UNREACH || (r.code != SP_ICMP_UNREACH_PROTOCOL && r.code != SP_ICMP_UNREACH_PORT))
        fz_die("ICMP type %u code %u is not one slowpath sends", r.type, r.code);
    /* An error quotes the datagram it is about, which was sent to us by the error's addressee. */
    if (r.data_len < SP_IPV4_MIN_HDR_LEN || (r.data[0] >> 4) != 4)
        fz_die("ICMP error quotes %zu bytes, not an IPv4 header", r.data_len);
    size_t qhl = (size_t)(r.data[0] & 0xf) * 4;
    if (qhl < SP_IPV4_MIN_HDR_LEN || qhl > r.data_len || r.data_len > qhl + SP_ICMP_ERROR_QUOTE)
        fz_die("ICMP error quote of %zu bytes with a %zu-byte header", r.data_len, qhl);
    if (sp_get32(r.data + 12) != dst || sp_get32(r.data + 16) != FZ_IP_US)
        fz_die("ICMP error about a datagram that was not from its addressee to us");
    if (sp_get16(r.data + 6) & SP_IPV4_FRAG_MASK)
        fz_die("ICMP error about a fragment that is not the first (RFC 1122 3.2.2)");
    if (r.data[9] == SP_IP_PROTO_ICMP && r.data_len > qhl && sp_icmp_is_error(r.data[qhl]))
        fz_die("ICMP error about an ICMP error (RFC 1122 3.2.2)");
}

static void check_l4(uint8_t proto, uint32_t dst, const uint8_t *p, size_t len)
{
    switch (proto) {
    case SP_IP_PROTO_ICMP:
        check_icmp(dst, p, len);
        break;
    case SP_IP_PROTO_UDP: {
        struct sp_udp_view v;
        struct sp_udp_repr r;
        if (sp_udp_view_init(&v, p, len) < 0 || sp_udp_length(&v) != len)
            fz_die("UDP datagram of %zu bytes does not parse or has a wrong length", len);
        if (sp_udp_checksum(&v) == 0)
            fz_die("UDP datagram sent without a checksum");
        if (sp_udp_repr_parse(&v, FZ_IP_US, dst, &r) < 0 || r.src_port == 0)
            fz_die("UDP checksum wrong or port 0");
        break;
    }
    case SP_IP_PROTO_TCP: {
        struct sp_tcp_view v;
        struct sp_tcp_repr r;
        if (sp_tcp_view_init(&v, p, len) < 0)
            fz_die("TCP segment of %zu bytes does not parse", len);
        int err = sp_tcp_repr_parse(&v, FZ_IP_US, dst, &r);
        if (err < 0)
            fz_die("TCP segment: %s", sp_strerror(err));
        if (r.src_port == 0 || r.dst_port == 0)
            fz_die("TCP segment with port 0");
        if ((r.flags & SP_TCP_SYN) && (r.flags & (SP_TCP_RST | SP_TCP_FIN)))
            fz_die("TCP flags 0x%02x: SYN with RST or FIN", r.flags);
        if (r.flags & (SP_TCP_URG | SP_TCP_ECE | SP_TCP_CWR))
            fz_die("TCP flags 0x%02x: slowpath sends no URG, ECE or CWR", r.flags);
        if ((r.flags & SP_TCP_RST) && r.payload_len)
            fz_die("TCP RST carrying %zu bytes", r.payload_len);
        if (!(r.flags & SP_TCP_RST) && !(r.flags & SP_TCP_ACK) && !(r.flags & SP_TCP_SYN))
            fz_die("TCP segment without SYN, ACK or RST (flags 0x%02x)", r.flags);
        if (!(r.flags & SP_TCP_SYN) && (r.mss || r.wscale >= 0))
            fz_die("TCP options MSS / window scale outside a SYN");
        const struct fz_peer_mss *m = mss_find(r.src_port, dst, r.dst_port);
        if (m && r.payload_len > m->mss)
            fz_die("TCP segment %u>%u with %zu bytes of text, the peer's MSS is %u", r.src_port, r.dst_port,
                   r.payload_len, m->mss);
        flow_note(dst, &r);
        break;
    }
    default:
        fz_die("IP protocol %u is not one slowpath sends", proto);
    }
}

static void check_fragment(const struct sp_ipv4_view *v, const struct sp_ipv4_repr *ip)
{
    size_t off = ip->frag_offset, n = ip->payload_len;
    if (ip->dont_frag)
        fz_die("fragment with DF set");
    if (n == 0 || (ip->more_frags && n % 8) || off + n > 65535 - SP_IPV4_MIN_HDR_LEN)
        fz_die("fragment at %zu of %zu bytes (more %d)", off, n, ip->more_frags);
    struct fz_reasm *s = NULL;
    for (unsigned i = 0; i < FZ_REASM_SLOTS && !s; i++) {
        struct fz_reasm *c = &chk.reasm[i];
        if (c->used && c->dst == ip->dst && c->proto == ip->protocol && c->ident == ip->ident)
            s = c;
    }
    if (!s) {
        /* An older one that never completed (lost at a full ARP queue, say) makes room. */
        s = &chk.reasm[chk.next_reasm++ % FZ_REASM_SLOTS];
        s->used = true;
        s->dst = ip->dst;
        s->proto = ip->protocol;
        s->ident = ip->ident;
        s->total = -1;
        memset(s->have, 0, sizeof s->have);
    }
    const uint8_t *p = sp_ipv4_payload(v);
    for (size_t b = off / 8; b * 8 < off + n; b++) {
        size_t from = b * 8, to = from + 8 < off + n ? from + 8 : off + n;
        if (s->have[b / 8] & (1u << (b % 8))) {
            if (memcmp(s->data + from, p + (from - off), to - from) != 0)
                fz_die("two fragments of datagram %u disagree at byte %zu", ip->ident, from);
        } else {
            memcpy(s->data + from, p + (from - off), to - from);
            s->have[b / 8] |= (uint8_t)(1u << (b % 8));
        }
    }
    if (!ip->more_frags) {
        if (s->total >= 0 && (size_t)s->total != off + n)
            fz_die("datagram %u ends twice, at %d and %zu", ip->ident, s->total, off + n);
        s->total = (int32_t)(off + n);
    }
    if (s->total < 0)
        return;
    for (size_t b = 0; b * 8 < (size_t)s->total; b++)
        if (!(s->have[b / 8] & (1u << (b % 8))))
            return;
    s->used = false;
    check_l4(s->proto, s->dst, s->data, (size_t)s->total);
}

static void check_ipv4(const struct sp_eth_repr *eth, const uint8_t *f, size_t len)
{
    struct sp_ipv4_view v;
    struct sp_ipv4_repr ip;
    int err = sp_ipv4_view_init(&v, f + SP_ETH_HDR_LEN, len - SP_ETH_HDR_LEN);
    if (err < 0)
        fz_die("IPv4 datagram does not parse: %s", sp_strerror(err));
    if (sp_ipv4_hdr_len(&v) != SP_IPV4_MIN_HDR_LEN)
        fz_die("IPv4 header of %zu bytes: slowpath sends no options", sp_ipv4_hdr_len(&v));
    if (sp_ipv4_repr_parse(&v, &ip) < 0)
        fz_die("IPv4 header checksum wrong");
    size_t want = SP_ETH_HDR_LEN + sp_ipv4_total_len(&v);
    if (len != (want < SP_ETH_MIN_FRAME ? SP_ETH_MIN_FRAME : want))
        fz_die("frame of %zu bytes carries a %u-byte datagram", len, sp_ipv4_total_len(&v));
    for (size_t i = want; i < len; i++)
        if (f[i])
            fz_die("non-zero padding after the datagram");
    if (ip.src != FZ_IP_US)
        fz_die("IPv4 source %08x is not ours", ip.src);
    if (dst_forbidden(ip.dst))
        fz_die("IPv4 datagram to %08x", ip.dst);
    if (ip.ttl == 0)
        fz_die("IPv4 datagram with TTL 0");
    if (!sp_mac_is_host(eth->dst))
        fz_die("unicast datagram to a group or zero MAC");
    if (ip.more_frags || ip.frag_offset)
        check_fragment(&v, &ip);
    else
        check_l4(ip.protocol, ip.dst, sp_ipv4_payload(&v), sp_ipv4_payload_len(&v));
}

static void check_arp(const struct sp_eth_repr *eth, const uint8_t *f, size_t len)
{
    struct sp_arp_view v;
    struct sp_arp_repr a;
    if (len != SP_ETH_MIN_FRAME)
        fz_die("ARP frame of %zu bytes, not padded to %d", len, SP_ETH_MIN_FRAME);
    if (sp_arp_view_init(&v, f + SP_ETH_HDR_LEN, len - SP_ETH_HDR_LEN) < 0 || sp_arp_repr_parse(&v, &a) < 0)
        fz_die("ARP packet does not parse");
    for (size_t i = SP_ETH_HDR_LEN + SP_ARP_LEN; i < len; i++)
        if (f[i])
            fz_die("non-zero padding after the ARP packet");
    if (!sp_mac_eq(a.sha, FZ_MAC_US) || a.spa != FZ_IP_US)
        fz_die("ARP packet that does not speak for us");
    if (a.op == SP_ARP_OP_REQUEST) {
        if (!sp_mac_is_broadcast(eth->dst) && !sp_mac_is_host(eth->dst))
            fz_die("ARP request to a group MAC");
        if (a.tpa != FZ_IP_US && dst_forbidden(a.tpa)) /* our own: the gratuitous announcement */
            fz_die("ARP request for %08x", a.tpa);
    } else {
        if (!sp_mac_is_host(eth->dst) || !sp_mac_eq(eth->dst, a.tha))
            fz_die("ARP reply not sent to the asker's MAC");
        /* 0.0.0.0 is a prober's (RFC 5227 2.1.1), who must hear of us. */
        if (a.tpa != 0 && dst_forbidden(a.tpa))
            fz_die("ARP reply to %08x", a.tpa);
    }
}

/* SP_FUZZ_TRACE=1 in the environment: one line per frame sent and the counters at the end, to
 * see what an input does (fuzz_frames crash-input). */
static int trace = -1;

static bool tracing(void)
{
    if (trace < 0)
        trace = getenv("SP_FUZZ_TRACE") != NULL;
    return trace;
}

static void trace_frame(const uint8_t *f, size_t len, sp_time_t now)
{
    fprintf(stderr, "  %8llu sent %4zu bytes type %04x", (unsigned long long)now, len, sp_get16(f + 12));
    if (sp_get16(f + 12) == SP_ETHERTYPE_IPV4 && len >= 54) {
        const uint8_t *ip = f + SP_ETH_HDR_LEN, *l4 = ip + (ip[0] & 0xf) * 4;
        fprintf(stderr, " proto %u to %08x", ip[9], sp_get32(ip + 16));
        if (ip[9] == SP_IP_PROTO_TCP && l4 + 20 <= f + len)
            fprintf(stderr, " %u>%u flags %02x seq %u ack %u win %u", sp_get16(l4), sp_get16(l4 + 2), l4[13],
                    sp_get32(l4 + 4), sp_get32(l4 + 8), sp_get16(l4 + 14));
        if (ip[9] == SP_IP_PROTO_ICMP)
            fprintf(stderr, " icmp type %u code %u", l4[0], l4[1]);
    }
    fputc('\n', stderr);
}

static void check_frame(const uint8_t *f, size_t len)
{
    struct sp_eth_view v;
    struct sp_eth_repr eth;
    if (len < SP_ETH_MIN_FRAME || len > SP_MAX_FRAME || sp_eth_view_init(&v, f, len) < 0)
        fz_die("frame of %zu bytes", len);
    sp_eth_repr_parse(&v, &eth);
    if (!sp_mac_eq(eth.src, FZ_MAC_US))
        fz_die("frame from a MAC that is not ours");
    switch (eth.ethertype) {
    case SP_ETHERTYPE_ARP:
        check_arp(&eth, f, len);
        break;
    case SP_ETHERTYPE_IPV4:
        check_ipv4(&eth, f, len);
        break;
    default:
        fz_die("ethertype 0x%04x", eth.ethertype);
    }
}

/* --- Offloaded frames ------------------------------------------------------------------------- */

/* A one's-complement sum of big-endian 16-bit words (RFC 1071), our own rather than the wire
 * layer's, so that the partial checksums the stack leaves, the segments cut here and the ones the
 * wire helpers cut are held against a sum computed another way. Folded, not complemented. */
static uint16_t own_sum(uint64_t sum, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        sum += (uint32_t)p[n - 1] << 8;
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

static uint16_t own_pseudo(const uint8_t *ip, uint8_t proto, size_t l4_len)
{
    uint8_t ph[12];
    memcpy(ph, ip + 12, 8);
    ph[8] = 0;
    ph[9] = proto;
    sp_put16(ph + 10, (uint16_t)l4_len);
    return own_sum(0, ph, sizeof ph);
}

/* A frame the stack handed over with metadata (the device has offloads): the metadata must say
 * what the frame is, as a kernel taking it through IFF_VNET_HDR would read it; then the frame is
 * completed and cut here into the wire frames it stands for, each checked as a plain frame, and
 * the wire helpers (stack/wire/offload.c) must cut it byte for byte the same way. */
static void check_offloaded(uint32_t offloads, const uint8_t *f, size_t len, const struct sp_frame_meta *m)
{
    if (m->flags & ~SP_FRAME_NEEDS_CSUM)
        fz_die("frame sent with metadata flags 0x%02x (only NEEDS_CSUM means anything on send)", m->flags);
    if (m->gso_type != SP_GSO_NONE && m->gso_type != SP_GSO_TCPV4)
        fz_die("frame sent with gso_type %u", m->gso_type);
    if ((m->gso_type == SP_GSO_TCPV4 && !(offloads & SP_OFFLOAD_TSO4)) ||
        ((m->flags & SP_FRAME_NEEDS_CSUM) && !(offloads & SP_OFFLOAD_CSUM)))
        fz_die("frame sent with an offload the device does not have (gso %u, flags 0x%02x)", m->gso_type, m->flags);
    if (!sp_offload_pending(m)) {
        check_frame(f, len);
        return;
    }
    /* The kernel segments only what has its checksum left partial (virtio-net 5.1.6.2). */
    if (m->gso_type != SP_GSO_NONE && !(m->flags & SP_FRAME_NEEDS_CSUM))
        fz_die("super-segment without a partial checksum");
    if (len < SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN || len > SP_OFFLOAD_MAX_FRAME ||
        sp_get16(f + 12) != SP_ETHERTYPE_IPV4)
        fz_die("offloaded frame of %zu bytes", len);
    const uint8_t *d = f + SP_ETH_HDR_LEN;
    size_t total = sp_get16(d + 2), want_len = SP_ETH_HDR_LEN + total;
    if (want_len < SP_ETH_MIN_FRAME)
        want_len = SP_ETH_MIN_FRAME;
    if (d[0] != 0x45 || total < SP_IPV4_MIN_HDR_LEN || len != want_len)
        fz_die("offloaded frame of %zu bytes: IPv4 byte 0x%02x, total length %zu", len, d[0], total);
    if (sp_get16(d + 6) & (SP_IPV4_FLAG_MF | SP_IPV4_FRAG_MASK))
        fz_die("offloaded frame that is a fragment");
    uint8_t proto = d[9];
    size_t l4_len = total - SP_IPV4_MIN_HDR_LEN, field = proto == SP_IP_PROTO_TCP ? 16 : 6;
    if (proto != SP_IP_PROTO_TCP && proto != SP_IP_PROTO_UDP)
        fz_die("partial checksum on IP protocol %u", proto);
    if (m->csum_start != SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN || m->csum_offset != field ||
        l4_len < (proto == SP_IP_PROTO_TCP ? SP_TCP_MIN_HDR_LEN : SP_UDP_HDR_LEN))
        fz_die("partial checksum at %u + %u for protocol %u (%zu bytes)", m->csum_start, m->csum_offset, proto, l4_len);
    uint16_t want = own_pseudo(d, proto, l4_len), have = sp_get16(d + SP_IPV4_MIN_HDR_LEN + field);
    /* 0x0000 and 0xffff are the same one's-complement number. */
    if (have != want && !((have == 0 || have == 0xffff) && (want == 0 || want == 0xffff)))
        fz_die("partial checksum %04x, the pseudo-header sums to %04x", have, want);
    /* Completed as the kernel does: the sum from csum_start on, the field counted as it stands. */
    memcpy(chk.whole, f, len);
    uint8_t *l4 = chk.whole + SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN;
    uint16_t c = (uint16_t)~own_sum(0, l4, l4_len);
    sp_put16(l4 + field, proto == SP_IP_PROTO_UDP && c == 0 ? 0xffff : c);
    if (m->gso_type == SP_GSO_NONE) {
        check_frame(chk.whole, len);
        return;
    }

    if (proto != SP_IP_PROTO_TCP)
        fz_die("TCPv4 super-segment carrying IP protocol %u", proto);
    size_t thl = (size_t)(l4[12] >> 4) * 4, hdr = SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN + thl;
    if (thl < SP_TCP_MIN_HDR_LEN || thl > l4_len)
        fz_die("super-segment with a %zu-byte TCP header in %zu bytes", thl, l4_len);
    if (m->hdr_len != hdr)
        fz_die("super-segment with hdr_len %u, its headers are %zu bytes", m->hdr_len, hdr);
    size_t text = l4_len - thl;
    if (text == 0 || m->gso_size == 0 || hdr + m->gso_size > SP_MAX_FRAME)
        fz_die("super-segment of %zu bytes of text in pieces of %u (headers %zu)", text, m->gso_size, hdr);
    if (l4[13] & (SP_TCP_SYN | SP_TCP_RST))
        fz_die("super-segment with TCP flags 0x%02x", l4[13]);
    const struct fz_peer_mss *pm = mss_find(sp_get16(l4), sp_get32(d + 16), sp_get16(l4 + 2));
    if (pm && m->gso_size > pm->mss)
        fz_die("super-segment cut into %u-byte pieces, the peer's MSS is %u", m->gso_size, pm->mss);

    struct sp_offload_cut cut;
    if (sp_offload_cut_init(&cut, chk.whole, len, m) < 0)
        fz_die("the wire helpers refuse a super-segment the checker takes");
    uint16_t ident = sp_get16(d + 4);
    uint32_t seq = sp_get32(l4 + 4);
    unsigned i = 0;
    for (size_t off = 0; off < text; off += m->gso_size, i++) {
        size_t n = text - off < m->gso_size ? text - off : m->gso_size, plen = hdr + n;
        bool last = off + n == text;
        uint8_t *p = chk.piece, *pip = p + SP_ETH_HDR_LEN, *pt = pip + SP_IPV4_MIN_HDR_LEN;
        memcpy(p, chk.whole, hdr);
        memcpy(p + hdr, chk.whole + hdr + off, n);
        sp_put16(pip + 2, (uint16_t)(plen - SP_ETH_HDR_LEN));
        sp_put16(pip + 4, (uint16_t)(ident + i));
        sp_put16(pip + 10, 0);
        sp_put16(pip + 10, (uint16_t)~own_sum(0, pip, SP_IPV4_MIN_HDR_LEN));
        sp_put32(pt + 4, seq + (uint32_t)off);
        /* FIN and PSH belong to the end of the text, CWR to its start (as Linux's GSO). */
        if (!last)
            pt[13] &= (uint8_t)~(SP_TCP_FIN | SP_TCP_PSH);
        if (i > 0)
            pt[13] &= (uint8_t)~SP_TCP_CWR;
        sp_put16(pt + 16, 0);
        size_t seg_len = plen - SP_ETH_HDR_LEN - SP_IPV4_MIN_HDR_LEN;
        sp_put16(pt + 16, (uint16_t)~own_sum(own_pseudo(pip, SP_IP_PROTO_TCP, seg_len), pt, seg_len));
        int hn = sp_offload_cut_next(&cut, chk.helper, sizeof chk.helper);
        if (hn < 0 || (size_t)hn != plen || memcmp(chk.helper, p, plen) != 0)
            fz_die("the wire helpers cut piece %u of a super-segment differently (%d bytes, ours %zu)", i, hn, plen);
        /* The wire pads a short last piece to the Ethernet minimum. */
        if (plen < SP_ETH_MIN_FRAME) {
            memset(p + plen, 0, SP_ETH_MIN_FRAME - plen);
            plen = SP_ETH_MIN_FRAME;
        }
        check_frame(p, plen);
    }
    if (sp_offload_cut_next(&cut, chk.helper, sizeof chk.helper) != 0)
        fz_die("the wire helpers cut more than %u pieces", i);
    if (i != sp_offload_frames(chk.whole, len, m))
        fz_die("sp_offload_frames counts %u pieces, there are %u", sp_offload_frames(chk.whole, len, m), i);
}

/* --- The host --------------------------------------------------------------------------------- */

static void check_tcp(const struct fz_host *h);

struct fz_conn {
    struct fz_host *h;
    struct sp_tcp *c;
    bool autoread;
};

struct fz_host {
    struct sp_device dev;      /* the checking device the interface sends through */
    uint32_t offloads;         /* the device's SP_OFFLOAD_x: records then carry metadata */
    struct sp_device *source;  /* where it reads from, or NULL */
    bool tx_full;              /* the device refuses what it is given, as a full ring does */
    struct sp_iface *iface;
    sp_time_t now;
    struct sp_udp_socket udp_echo, udp_app;
    struct sp_tcp_services *svc;
    struct sp_tcp *manual;
    struct fz_conn conns[FZ_SLOTS];
};

static int dev_recv(struct sp_device *dev, uint8_t *buf, size_t cap)
{
    struct fz_host *h = dev->data;
    int n = h->source ? sp_device_recv(h->source, buf, cap) : SP_EAGAIN;
    if (n > 0)
        note_incoming(buf, (size_t)n);
    return n;
}

static int dev_recv_meta(struct sp_device *dev, uint8_t *buf, size_t cap, struct sp_frame_meta *meta)
{
    struct fz_host *h = dev->data;
    int n = h->source ? sp_device_recv_meta(h->source, buf, cap, meta) : SP_EAGAIN;
    if (n > 0)
        note_incoming(buf, (size_t)n);
    return n;
}

static int dev_send(struct sp_device *dev, const uint8_t *frame, size_t len)
{
    struct fz_host *h = dev->data;
    if (tracing())
        trace_frame(frame, len, h->iface ? sp_iface_now(h->iface) : h->now);
    check_frame(frame, len);
    return h->tx_full ? SP_EAGAIN : 0;
}

static void dev_close(struct sp_device *dev)
{
    (void)dev; /* part of the host */
}

static int dev_send_meta(struct sp_device *dev, const uint8_t *frame, size_t len, const struct sp_frame_meta *meta)
{
    struct fz_host *h = dev->data;
    if (tracing()) {
        trace_frame(frame, len, h->iface ? sp_iface_now(h->iface) : h->now);
        if (meta)
            fprintf(stderr, "           meta flags %02x gso %u size %u hdr %u csum %u+%u\n", meta->flags, meta->gso_type,
                    meta->gso_size, meta->hdr_len, meta->csum_start, meta->csum_offset);
    }
    if (meta)
        check_offloaded(h->offloads, frame, len, meta);
    else
        check_frame(frame, len);
    return h->tx_full ? SP_EAGAIN : 0;
}

static const struct sp_device_ops dev_ops = {.recv = dev_recv, .send = dev_send, .close = dev_close};
/* With offloads: the metadata ops, as a TAP with IFF_VNET_HDR has them. */
static const struct sp_device_ops dev_ops_offload = {
    .recv = dev_recv, .send = dev_send, .close = dev_close, .recv_meta = dev_recv_meta, .send_meta = dev_send_meta};

/* The application's connections: the input decides what they do; a readable one reads only when
 * its slot says so (else its window closes). */
static void conn_readable(struct sp_tcp *c)
{
    struct fz_conn *fc = sp_tcp_get_data(c);
    uint8_t buf[4096];
    if (fc && fc->c == c && fc->autoread)
        while (sp_tcp_recv(c, buf, sizeof buf) > 0) {
        }
}

static void conn_closed(struct sp_tcp *c, int status)
{
    (void)status;
    struct fz_conn *fc = sp_tcp_get_data(c);
    if (fc && fc->c == c)
        fc->c = NULL;
}

static const struct sp_tcp_callbacks conn_cbs = {.on_readable = conn_readable, .on_close = conn_closed};

static void manual_accept(struct sp_tcp *l, struct sp_tcp *c)
{
    struct fz_host *h = sp_tcp_get_data(l);
    for (unsigned i = 0; i < FZ_SLOTS; i++)
        if (!h->conns[i].c) {
            h->conns[i].c = c;
            sp_tcp_set_callbacks(c, &conn_cbs, &h->conns[i]);
            return;
        }
    sp_tcp_abort(c); /* every slot busy: the application refuses it */
}

static void udp_app_recv(struct sp_udp_socket *sock, uint32_t src_ip, uint16_t src_port, const uint8_t *data,
                         size_t len)
{
    (void)sock, (void)src_ip, (void)src_port, (void)data, (void)len;
}

struct fz_host *fz_host_new(struct sp_device *source)
{
    return fz_host_new_offload(source, 0);
}

struct fz_host *fz_host_new_offload(struct sp_device *source, uint32_t offloads)
{
    struct fz_host *h = calloc(1, sizeof *h);
    if (!h)
        fz_die("out of memory");
    /* Only the flags: the fragment buffers are written before they are read. */
    memset(chk.flows, 0, sizeof chk.flows);
    memset(chk.mss, 0, sizeof chk.mss);
    for (unsigned i = 0; i < FZ_REASM_SLOTS; i++)
        chk.reasm[i].used = false;
    h->dev = (struct sp_device){.ops = offloads ? &dev_ops_offload : &dev_ops, .name = "fuzz", .mtu = SP_MAX_MTU,
                                .data = h, .offloads = offloads};
    h->offloads = offloads;
    h->source = source;
    h->now = FZ_T0;
    for (unsigned i = 0; i < FZ_SLOTS; i++)
        h->conns[i] = (struct fz_conn){.h = h, .autoread = true};
    struct sp_iface_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.mac = FZ_MAC_US;
    cfg.ip = FZ_IP_US;
    cfg.prefix_len = 24;
    cfg.gateway = FZ_IP_GW;
    cfg.secret = 0x0123456789abcdefull; /* fixed: an input must replay the same way */
    h->iface = sp_iface_new(&cfg, &h->dev, FZ_T0);
    if (!h->iface)
        fz_die("sp_iface_new failed");
    char err[128];
    struct sp_tcp_services_opts so = {.echo = true, .discard = true, .http = true};
    if (sp_udp_echo_start(h->iface, &h->udp_echo) < 0 || sp_udp_bind(h->iface, &h->udp_app, 0, udp_app_recv) < 0 ||
        !(h->svc = sp_tcp_services_start(h->iface, &so, err, sizeof err)) ||
        sp_tcp_listen(h->iface, FZ_PORT_MANUAL, 4, manual_accept, h, &h->manual) < 0)
        fz_die("starting the services failed");
    return h;
}

void fz_host_free(struct fz_host *h)
{
    if (tracing()) {
        const struct sp_stats *st = sp_iface_stats(h->iface);
        for (int i = 0; i < SP_STAT_COUNT; i++)
            if (st->v[i])
                fprintf(stderr, "  %s %llu\n", sp_stat_name((enum sp_stat)i), (unsigned long long)st->v[i]);
    }
    sp_tcp_services_stop(h->svc);
    sp_udp_close(&h->udp_echo);
    sp_udp_close(&h->udp_app);
    sp_iface_free(h->iface);
    sp_device_close(h->source);
    free(h);
}

struct sp_iface *fz_host_iface(const struct fz_host *h) { return h->iface; }
sp_time_t fz_host_now(const struct fz_host *h) { return h->now; }

void fz_host_advance(struct fz_host *h, sp_time_t now)
{
    sp_time_t last = SP_TIME_NEVER;
    unsigned repeats = 0;
    for (unsigned i = 0; i < 100000; i++) {
        sp_time_t at = sp_iface_poll_at(h->iface);
        if (at > now)
            break;
        if (at < h->now)
            at = h->now; /* overdue: the edge runs it at once */
        /* Polling must move the next deadline on; one that stays put would spin the loop edge,
         * which re-arms its timer at sp_iface_poll_at after every poll. */
        if (at == last && ++repeats > 16)
            fz_die("sp_iface_poll_at stays at %llu after polling there", (unsigned long long)at);
        if (at != last)
            repeats = 0;
        last = at;
        h->now = at;
        sp_iface_poll(h->iface, at);
        check_tcp(h);
    }
    h->now = now;
    sp_iface_set_now(h->iface, now);
}

void fz_host_finish(struct fz_host *h)
{
    fz_host_advance(h, h->now + 20 * 60 * 1000);
}

/* --- Repairs -------------------------------------------------------------------------------- */

void fz_fix_ipv4(uint8_t *d, size_t len)
{
    if (len < SP_IPV4_MIN_HDR_LEN || (d[0] >> 4) != 4)
        return;
    size_t hl = (size_t)(d[0] & 0xf) * 4;
    if (hl < SP_IPV4_MIN_HDR_LEN || hl > len)
        return;
    sp_put16(d + 10, 0);
    sp_put16(d + 10, sp_csum(d, hl));
    size_t total = sp_get16(d + 2);
    if (total < hl || total > len || (sp_get16(d + 6) & (SP_IPV4_FLAG_MF | SP_IPV4_FRAG_MASK)))
        return;
    uint8_t *p = d + hl;
    size_t n = total - hl;
    uint32_t pseudo = sp_csum_pseudo_ipv4(sp_get32(d + 12), sp_get32(d + 16), d[9], (uint16_t)n);
    switch (d[9]) {
    case SP_IP_PROTO_TCP:
        if (n >= SP_TCP_MIN_HDR_LEN) {
            sp_put16(p + 16, 0);
            sp_put16(p + 16, sp_csum_finish(sp_csum_add(pseudo, p, n)));
        }
        break;
    case SP_IP_PROTO_UDP:
        if (n >= SP_UDP_HDR_LEN) {
            sp_put16(p + 6, 0);
            uint16_t c = sp_csum_finish(sp_csum_add(pseudo, p, n));
            sp_put16(p + 6, c ? c : 0xffff);
        }
        break;
    case SP_IP_PROTO_ICMP:
        if (n >= 4) {
            sp_put16(p + 2, 0);
            sp_put16(p + 2, sp_csum(p, n));
        }
        break;
    default:
        break;
    }
}

static bool ip_broadcast(uint32_t a)
{
    return a == SP_IPV4_BROADCAST || a == ((FZ_IP_US & 0xffffff00u) | 0xffu);
}

static void fix_addr(uint8_t *f, size_t len)
{
    if (len < SP_ETH_HDR_LEN)
        return;
    if (memcmp(f, sp_mac_broadcast.b, 6) != 0)
        memcpy(f, FZ_MAC_US.b, 6);
    uint16_t type = sp_get16(f + 12);
    if (type == SP_ETHERTYPE_ARP && len >= SP_ETH_HDR_LEN + SP_ARP_LEN)
        sp_put32(f + SP_ETH_HDR_LEN + 24, FZ_IP_US);
    if (type == SP_ETHERTYPE_IPV4 && len >= SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN &&
        !ip_broadcast(sp_get32(f + SP_ETH_HDR_LEN + 16)))
        sp_put32(f + SP_ETH_HDR_LEN + 16, FZ_IP_US);
}

static void fix_tcp(uint8_t *f, size_t len, uint8_t fix)
{
    if (len < SP_ETH_HDR_LEN + SP_IPV4_MIN_HDR_LEN || sp_get16(f + 12) != SP_ETHERTYPE_IPV4)
        return;
    uint8_t *d = f + SP_ETH_HDR_LEN;
    size_t hl = (size_t)(d[0] & 0xf) * 4;
    if (d[9] != SP_IP_PROTO_TCP || hl < SP_IPV4_MIN_HDR_LEN || SP_ETH_HDR_LEN + hl + SP_TCP_MIN_HDR_LEN > len)
        return;
    uint8_t *t = d + hl;
    struct fz_flow *fl = flow_find(sp_get16(t + 2), sp_get32(d + 12), sp_get16(t));
    if (!fl)
        return;
    if ((fix & FZ_FIX_SEQ) && fl->has_ack)
        sp_put32(t + 4, fl->rcv_nxt);
    if ((fix & FZ_FIX_ACK) && (t[13] & SP_TCP_ACK))
        sp_put32(t + 8, fl->snd_end);
    if ((fix & FZ_FIX_DUP) && fl->has_peer_ack && (t[13] & SP_TCP_ACK))
        sp_put32(t + 8, fl->peer_ack);
    if (t[13] & SP_TCP_ACK) {
        fl->has_peer_ack = true;
        fl->peer_ack = sp_get32(t + 8);
    }
}

/* --- The stack's own state ---------------------------------------------------------------------- */

/* What every connection must keep true whatever arrives (as test_tcp_fuzz checks on one
 * connection): the send sequence space in order, buffers within their capacity, out-of-order
 * ranges sorted, disjoint and ahead of what was received in order; listeners within their
 * backlog, connections within the table. */
static void check_tcp(const struct fz_host *h)
{
    const struct sp_tcp_stack *tcp = h->iface->tcp;
    unsigned n = 0;
    for (const struct sp_tcp *c = tcp->all; c; c = c->all_next) {
        if (++n > SP_TCP_MAX_CONNS)
            fz_die("more connections than the table holds");
        if (c->dead)
            continue;
        if (!sp_seq_le(c->snd_una, c->snd_nxt) || !sp_seq_le(c->snd_nxt, c->snd_max))
            fz_die("TCP %u>%u: snd_una %u, snd_nxt %u, snd_max %u out of order", c->local_port, c->remote_port,
                   c->snd_una, c->snd_nxt, c->snd_max);
        if (c->rcv.len > c->rcv.cap || c->snd.len > c->snd.cap)
            fz_die("TCP %u>%u: a buffer holds more than its capacity", c->local_port, c->remote_port);
        /* A SYN's text waits as a range right at RCV.NXT until ESTABLISHED (tcp_syntext.c); any
         * other range lies strictly ahead, or it would have been taken in. */
        bool syn_text_waits = c->syn_text && (c->state == SP_TCP_SYN_RECEIVED || c->state == SP_TCP_SYN_SENT);
        if (c->syn_text && !syn_text_waits)
            fz_die("TCP %u>%u: a SYN's text still waits in %s", c->local_port, c->remote_port,
                   sp_tcp_state_name(c->state));
        for (unsigned i = 0; i < c->ooo.n; i++)
            if (!sp_seq_lt(c->ooo.r[i].start, c->ooo.r[i].end) ||
                !(sp_seq_gt(c->ooo.r[i].start, c->rcv_nxt) || (i == 0 && syn_text_waits && c->ooo.r[0].start == c->rcv_nxt)) ||
                (i && !sp_seq_gt(c->ooo.r[i].start, c->ooo.r[i - 1].end)))
                fz_die("TCP %u>%u: out-of-order range %u [%u, %u) with rcv_nxt %u (%s, syn_text %d)", c->local_port,
                       c->remote_port, i, c->ooo.r[i].start, c->ooo.r[i].end, c->rcv_nxt, sp_tcp_state_name(c->state),
                       (int)c->syn_text);
    }
    if (n != tcp->nconns)
        fz_die("%u connections listed, %u counted", n, tcp->nconns);
    for (const struct sp_tcp *l = tcp->listeners; l; l = l->hnext)
        if (l->pending > l->backlog)
            fz_die("listener %u: %u handshakes pending, backlog %u", l->local_port, l->pending, l->backlog);
}

/* --- Stepping --------------------------------------------------------------------------------- */

void fz_meta_parse(const uint8_t *b, struct sp_frame_meta *m)
{
    *m = (struct sp_frame_meta){.flags = b[0], .gso_type = b[1], .gso_size = sp_get16(b + 2),
                                .hdr_len = sp_get16(b + 4), .csum_start = sp_get16(b + 6),
                                .csum_offset = sp_get16(b + 8)};
}

/* FZ_FIX_CSUM on a frame with metadata: the metadata made to describe the frame, so that large
 * segments reach established connections. A TCP or UDP datagram gets its offsets, a TCP
 * super-segment its header length and a gso_size if it had none (UDP is never one), and the
 * checksum the flags call for: the pseudo-header's sum with NEEDS_CSUM, else the whole one. */
static void fix_meta(uint8_t *f, size_t len, struct sp_frame_meta *m)
{
    if (len <= SP_ETH_HDR_LEN || sp_get16(f + 12) != SP_ETHERTYPE_IPV4)
        return;
    uint8_t *d = f + SP_ETH_HDR_LEN;
    size_t dlen = len - SP_ETH_HDR_LEN;
    fz_fix_ipv4(d, dlen);
    if (dlen < SP_IPV4_MIN_HDR_LEN || (d[0] >> 4) != 4)
        return;
    size_t hl = (size_t)(d[0] & 0xf) * 4, total = sp_get16(d + 2);
    if (hl < SP_IPV4_MIN_HDR_LEN || total < hl || total > dlen ||
        (sp_get16(d + 6) & (SP_IPV4_FLAG_MF | SP_IPV4_FRAG_MASK)))
        return;
    uint8_t *l4 = d + hl;
    size_t l4_len = total - hl;
    if (d[9] == SP_IP_PROTO_TCP && l4_len >= SP_TCP_MIN_HDR_LEN) {
        m->csum_offset = SP_TCP_CSUM_OFFSET;
        if (m->gso_type != SP_GSO_NONE) {
            m->gso_type = SP_GSO_TCPV4;
            m->hdr_len = (uint16_t)(SP_ETH_HDR_LEN + hl + (size_t)(l4[12] >> 4) * 4);
            if (m->gso_size == 0)
                m->gso_size = 1448;
        }
    } else if (d[9] == SP_IP_PROTO_UDP && l4_len >= SP_UDP_HDR_LEN) {
        m->csum_offset = 6;
        m->gso_type = SP_GSO_NONE;
    } else {
        return;
    }
    m->csum_start = (uint16_t)(SP_ETH_HDR_LEN + hl);
    if (m->flags & SP_FRAME_NEEDS_CSUM)
        sp_put16(l4 + m->csum_offset,
                 sp_csum_fold(sp_csum_pseudo_ipv4(sp_get32(d + 12), sp_get32(d + 16), d[9], (uint16_t)l4_len)));
}

/* A record on a host with offloads: its bytes are metadata, then the frame (fuzz_host.h). */
static void step_meta(struct fz_host *h, const struct fz_record *r)
{
    if (r->len < FZ_META_LEN)
        return;
    struct sp_frame_meta meta;
    fz_meta_parse(r->data, &meta);
    size_t len = r->len - FZ_META_LEN;
    if (len == 0)
        return;
    uint8_t *f = malloc(len); /* exactly the frame's size, so that reading past it is caught */
    if (!f)
        fz_die("out of memory");
    memcpy(f, r->data + FZ_META_LEN, len);
    if (r->fix & FZ_FIX_ADDR)
        fix_addr(f, len);
    if (r->fix & (FZ_FIX_ACK | FZ_FIX_SEQ | FZ_FIX_DUP))
        fix_tcp(f, len, r->fix);
    if (r->fix & FZ_FIX_CSUM)
        fix_meta(f, len, &meta);
    note_incoming(f, len);
    sp_iface_ingress_meta(h->iface, h->now, f, len, &meta);
    free(f);
}

void fz_host_step(struct fz_host *h, const struct fz_record *r)
{
    fz_host_advance(h, h->now + r->dt);
    if (tracing())
        fprintf(stderr, "%8llu record fix %02x op %02x len %zu\n", (unsigned long long)h->now, r->fix, r->op,
                r->len);
    if (h->offloads) {
        step_meta(h, r);
    } else if (r->len) {
        /* A copy of exactly the frame's size, so that reading past it is caught. */
        uint8_t *f = malloc(r->len);
        if (!f)
            fz_die("out of memory");
        memcpy(f, r->data, r->len);
        if (r->fix & FZ_FIX_ADDR)
            fix_addr(f, r->len);
        if (r->fix & (FZ_FIX_ACK | FZ_FIX_SEQ | FZ_FIX_DUP))
            fix_tcp(f, r->len, r->fix);
        if ((r->fix & FZ_FIX_CSUM) && r->len > SP_ETH_HDR_LEN && sp_get16(f + 12) == SP_ETHERTYPE_IPV4)
            fz_fix_ipv4(f + SP_ETH_HDR_LEN, r->len - SP_ETH_HDR_LEN);
        note_incoming(f, r->len);
        sp_iface_ingress(h->iface, h->now, f, r->len);
        free(f);
    }
    fz_host_op(h, r->op);
    check_tcp(h);
}

static uint8_t pattern[70000];

void fz_host_op(struct fz_host *h, uint8_t op)
{
    static const size_t recv_sizes[4] = {1, 100, 4096, 1 << 20};
    static const size_t send_sizes[4] = {1, 536, 4000, 70000};
    static const size_t udp_sizes[4] = {1, 100, 1472, 3000};
    unsigned kind = op & 7, slot = (op >> 3) & 7, var = op >> 6;
    struct fz_conn *fc = &h->conns[slot];
    struct sp_tcp *c = fc->c;
    if (!pattern[1])
        for (size_t i = 0; i < sizeof pattern; i++)
            pattern[i] = (uint8_t)(i * 7 + (i >> 8) + 1);
    switch (kind) {
    case FZ_OP_SET: {
        /* slot names the setting, variant the connection; an empty one means the listener. */
        struct sp_tcp *t = h->conns[var].c ? h->conns[var].c : h->manual;
        switch (slot) {
        case 1: sp_tcp_set_nodelay(t, true); break;
        case 2: sp_tcp_set_nodelay(t, false); break;
        case 3: sp_tcp_set_rcvbuf(t, SP_TCP_BUF_MIN); break;
        case 4: sp_tcp_set_rcvbuf(t, 1u << 20); break;
        case 5: sp_tcp_set_sndbuf(t, SP_TCP_BUF_MIN); break;
        case 6: h->conns[var].autoread = !h->conns[var].autoread; break;
        case 7: h->tx_full = !h->tx_full; break;
        default: break;
        }
        break;
    }
    case FZ_OP_RECV:
        if (c) {
            static uint8_t buf[65536];
            size_t want = recv_sizes[var], got = 0;
            long n;
            while (got < want && (n = sp_tcp_recv(c, buf, want - got < sizeof buf ? want - got : sizeof buf)) > 0)
                got += (size_t)n;
        }
        break;
    case FZ_OP_SEND:
        if (c)
            sp_tcp_send(c, pattern, send_sizes[var]);
        break;
    case FZ_OP_SHUTDOWN:
        if (c)
            sp_tcp_shutdown(c);
        break;
    case FZ_OP_CLOSE:
    case FZ_OP_ABORT:
        if (c) {
            fc->c = NULL; /* the handle is the stack's from here on */
            if (kind == FZ_OP_CLOSE)
                sp_tcp_close(c);
            else
                sp_tcp_abort(c);
        }
        break;
    case FZ_OP_CONNECT:
        if (!c) {
            static const uint16_t ports[4] = {80, 7, FZ_PORT_MANUAL, 80};
            /* The handle is stored before the SYN goes out, so a close inside the call finds it. */
            sp_tcp_connect(h->iface, var == 3 ? FZ_IP_FAR : FZ_IP_PEER, ports[var], &conn_cbs, fc, &fc->c);
        }
        break;
    case FZ_OP_UDP:
        sp_udp_send(&h->udp_app, slot == 7 ? FZ_IP_FAR : FZ_IP_PEER, 7, pattern, udp_sizes[var]);
        break;
    default:
        break;
    }
}
