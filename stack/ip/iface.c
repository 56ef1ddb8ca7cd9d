/* The interface: life cycle, the Ethernet demultiplexer, timers and the drop path. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iface_internal.h"
#include "slowpath/wire/offload.h"

void sp_count(struct sp_iface *iface, enum sp_stat stat)
{
    iface->stats.v[stat]++;
}

void sp_log(struct sp_iface *iface, enum sp_log_level level, const char *fmt, ...)
{
    if (!iface->cfg.log || level > iface->cfg.log_level)
        return;
    char line[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    iface->cfg.log(iface->cfg.log_data, level, line);
}

void sp_drop(struct sp_iface *iface, enum sp_stat reason, const char *detail)
{
    iface->stats.v[reason]++;
    sp_log(iface, SP_LOG_DEBUG, "drop %s%s%s", sp_stat_name(reason), detail ? ": " : "", detail ? detail : "");
}

bool sp_iface_is_broadcast(const struct sp_iface *iface, uint32_t addr)
{
    uint32_t mask = sp_ipv4_netmask(iface->cfg.prefix_len);
    if (addr == SP_IPV4_BROADCAST)
        return true;
    /* The directed broadcast of our subnet; a /31 or /32 has none (RFC 3021). */
    return iface->cfg.prefix_len < 31 && addr == ((iface->cfg.ip & mask) | ~mask);
}

struct sp_iface *sp_iface_new(const struct sp_iface_config *cfg, struct sp_device *dev, sp_time_t now)
{
    if (!cfg || !dev || cfg->prefix_len < 1 || cfg->prefix_len > 32 || cfg->ip == 0 ||
        sp_mac_is_multicast(cfg->mac))
        return NULL;
    struct sp_iface *iface = calloc(1, sizeof *iface);
    if (!iface)
        return NULL;
    iface->cfg = *cfg;
    iface->dev = dev;
    iface->mtu = cfg->mtu ? cfg->mtu : dev->mtu;
    if (iface->mtu > SP_MAX_MTU)
        iface->mtu = SP_MAX_MTU;     /* the ARP queue's slots hold frames of this size */
    if (iface->mtu < 576) {      /* every IPv4 host must take 576-byte datagrams (RFC 791) */
        free(iface);
        return NULL;
    }
    iface->now = now;
    /* Identifiers start at a keyed offset so two runs do not emit the same sequence. */
    iface->next_ip_ident = (uint16_t)(cfg->secret ^ (cfg->secret >> 16) ^ (cfg->secret >> 32));
    iface->udp_next_ephemeral = SP_UDP_EPHEMERAL_FIRST;
    iface->icmp_err_tokens = SP_ICMP_ERROR_BURST;
    iface->icmp_err_refill = now;
    sp_neigh_init(&iface->neigh);
    if (sp_decision_init(iface) < 0) {
        free(iface);
        return NULL;
    }
    iface->offloads = dev->offloads;
    if (sp_iface_tso(iface)) {
        iface->rx_big = malloc(SP_OFFLOAD_MAX_FRAME);
        iface->tso_buf = malloc(SP_OFFLOAD_MAX_FRAME);
        if (!iface->rx_big || !iface->tso_buf) {
            free(iface->rx_big);
            free(iface->tso_buf);
            sp_decision_free(iface);
            free(iface);
            return NULL;
        }
    } else if (iface->offloads & SP_OFFLOAD_TSO4) {
        /* Super-segments may come in even if we cannot send them. */
        iface->rx_big = malloc(SP_OFFLOAD_MAX_FRAME);
        if (!iface->rx_big) {
            sp_decision_free(iface);
            free(iface);
            return NULL;
        }
    }
    iface->reasm = calloc(SP_REASM_SLOTS, sizeof *iface->reasm);
    iface->tcp = sp_tcp_stack_new(iface);
    if (!iface->reasm || !iface->tcp) {
        sp_iface_free(iface);
        return NULL;
    }
    sp_reasm_init(iface);
    if (sp_iface_has_arp(iface)) /* a raw-IP link has no ARP to announce on (link_raw.c) */
        sp_arp_send_gratuitous(iface);
    return iface;
}

void sp_iface_free(struct sp_iface *iface)
{
    if (!iface)
        return;
    if (iface->tcp)
        sp_tcp_stack_free(iface->tcp);
    free(iface->reasm);
    free(iface->rx_big);
    free(iface->tso_buf);
    sp_decision_free(iface);
    free(iface);
}

void sp_iface_ingress(struct sp_iface *iface, sp_time_t now, const uint8_t *frame, size_t len)
{
    iface->now = now;
    sp_count(iface, SP_STAT_rx_frames);
    iface->stats.v[SP_STAT_rx_bytes] += len;
    if (!sp_iface_has_arp(iface)) {
        sp_raw_input(iface, now, frame, len);
        return;
    }

    struct sp_eth_view eth;
    if (sp_eth_view_init(&eth, frame, len) < 0) {
        sp_drop(iface, SP_STAT_drop_eth_truncated, NULL);
        return;
    }
    struct sp_eth_repr repr;
    sp_eth_repr_parse(&eth, &repr);
    if (!sp_mac_eq(repr.dst, iface->cfg.mac) && !sp_mac_is_broadcast(repr.dst)) {
        sp_drop(iface, SP_STAT_drop_eth_not_for_us, NULL);
        return;
    }
    /* No station sends from an all-zero or group address: such a frame has nobody to answer,
     * and learning its source would send our replies to 00:00:00:00:00:00 or to a group. ARP and
     * IPv4 may then take the source as a neighbour's. */
    if (!sp_mac_is_host(repr.src)) {
        sp_drop(iface, SP_STAT_drop_eth_bad_src_mac, NULL);
        return;
    }
    switch (repr.ethertype) {
    case SP_ETHERTYPE_ARP:
        sp_arp_input(iface, now, &repr, sp_eth_payload(&eth), sp_eth_payload_len(&eth));
        break;
    case SP_ETHERTYPE_IPV4:
        sp_ipv4_input(iface, now, &repr, sp_eth_payload(&eth), sp_eth_payload_len(&eth));
        break;
    default:
        sp_drop(iface, SP_STAT_drop_eth_unknown_type, NULL);
        break;
    }
}

void sp_iface_ingress_meta(struct sp_iface *iface, sp_time_t now, const uint8_t *frame, size_t len,
                          const struct sp_frame_meta *meta)
{
    if (!meta || (meta->flags == 0 && meta->gso_type == SP_GSO_NONE)) {
        sp_iface_ingress(iface, now, frame, len);
        return;
    }
    /* Only what the device was allowed to give: a TCPv4 super-segment with TSO4, a vouched-for
     * checksum with CSUM. A super-segment is then one large segment for TCP. */
    bool gso_ok = meta->gso_type == SP_GSO_NONE ||
                  (meta->gso_type == SP_GSO_TCPV4 && (iface->offloads & SP_OFFLOAD_TSO4));
    if (!gso_ok || !(iface->offloads & SP_OFFLOAD_CSUM)) {
        iface->now = now;
        sp_count(iface, SP_STAT_rx_frames);
        sp_drop(iface, SP_STAT_drop_offload_bad_meta, NULL);
        return;
    }
    if (meta->gso_type != SP_GSO_NONE)
        sp_count(iface, SP_STAT_rx_super_segments);
    /* NEEDS_CSUM: the data came from the host's memory, never over a wire (a driver's
     * CHECKSUM_PARTIAL); DATA_VALID: the kernel checked it. Neither needs our check. */
    iface->rx_csum_ok = (meta->flags & (SP_FRAME_NEEDS_CSUM | SP_FRAME_DATA_VALID)) != 0;
    if (iface->rx_csum_ok)
        sp_count(iface, SP_STAT_rx_csum_offloaded);
    sp_iface_ingress(iface, now, frame, len);
    iface->rx_csum_ok = false;
}

int sp_iface_poll_device(struct sp_iface *iface, sp_time_t now, int max_frames)
{
    uint8_t *buf = iface->rx_big ? iface->rx_big : iface->rx_buf;
    size_t cap = iface->rx_big ? SP_OFFLOAD_MAX_FRAME : sizeof iface->rx_buf;
    int n = 0;
    sp_tcp_batch_begin(iface->tcp);
    while (n < max_frames) {
        struct sp_frame_meta meta;
        int len = sp_device_recv_meta(iface->dev, buf, cap, &meta);
        if (len == SP_EAGAIN)
            break;
        if (len < 0) {
            sp_tcp_batch_end(iface->tcp, now);
            return n > 0 ? n : len;
        }
        /* Counted as the capture around the device records them: a super-segment as its pieces. */
        iface->frames.received += meta.gso_type == SP_GSO_NONE ? 1 : sp_offload_frames(buf, (size_t)len, &meta);
        if (meta.flags == 0 && meta.gso_type == SP_GSO_NONE)
            sp_iface_ingress(iface, now, buf, (size_t)len);   /* a wire frame: the short way */
        else
            sp_iface_ingress_meta(iface, now, buf, (size_t)len, &meta);
        n++;
    }
    sp_tcp_batch_end(iface->tcp, now);
    return n;
}

void sp_iface_poll(struct sp_iface *iface, sp_time_t now)
{
    iface->now = now;
    sp_neigh_poll(iface, now);
    sp_reasm_poll(iface, now);
    sp_tcp_poll(iface->tcp, now);
    sp_decision_poll(iface, now);
}

sp_time_t sp_iface_poll_at(const struct sp_iface *iface)
{
    sp_time_t t = sp_neigh_poll_at(iface);
    t = sp_time_min(t, sp_reasm_poll_at(iface));
    t = sp_time_min(t, sp_decision_poll_at(iface));
    return sp_time_min(t, sp_tcp_poll_at(iface->tcp));
}

int sp_iface_send_frame(struct sp_iface *iface, const uint8_t *frame, size_t len)
{
    if (!sp_iface_has_arp(iface))
        return sp_raw_send(iface, frame, len);
    iface->frames.sent++;
    return sp_device_send(iface->dev, frame, len);
}

int sp_iface_send_frame_meta(struct sp_iface *iface, const uint8_t *frame, size_t len,
                             const struct sp_frame_meta *meta, unsigned frames)
{
    iface->frames.sent += frames;
    return sp_device_send_meta(iface->dev, frame, len, meta);
}

struct sp_frame_count sp_iface_frame_count(const struct sp_iface *iface) { return iface->frames; }
const struct sp_stats *sp_iface_stats(const struct sp_iface *iface) { return &iface->stats; }
const struct sp_iface_config *sp_iface_config(const struct sp_iface *iface) { return &iface->cfg; }
struct sp_device *sp_iface_device(const struct sp_iface *iface) { return iface->dev; }
sp_time_t sp_iface_now(const struct sp_iface *iface) { return iface->now; }
void sp_iface_set_now(struct sp_iface *iface, sp_time_t now) { iface->now = now; }
