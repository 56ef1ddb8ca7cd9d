/* ARP for IPv4 over Ethernet (RFC 826). Other hardware or protocol types are unsupported. */
#ifndef SLOWPATH_WIRE_ARP_H
#define SLOWPATH_WIRE_ARP_H

#include <stddef.h>
#include <stdint.h>

#include "slowpath/wire/bytes.h"
#include "slowpath/wire/ethernet.h"

#define SP_ARP_LEN 28
#define SP_ARP_OP_REQUEST 1
#define SP_ARP_OP_REPLY 2

/* Read-only, like every view (ipv4.h says why). */
struct sp_arp_view {
    const uint8_t *buf;
    size_t len;
};

/* Fails with SP_ETRUNCATED when shorter than the 8-byte fixed part plus the addresses its hlen and
 * plen announce. */
int sp_arp_view_init(struct sp_arp_view *v, const uint8_t *buf, size_t len);

static inline uint16_t sp_arp_htype(const struct sp_arp_view *v) { return sp_get16(v->buf); }
static inline uint16_t sp_arp_ptype(const struct sp_arp_view *v) { return sp_get16(v->buf + 2); }
static inline uint8_t sp_arp_hlen(const struct sp_arp_view *v) { return v->buf[4]; }
static inline uint8_t sp_arp_plen(const struct sp_arp_view *v) { return v->buf[5]; }
static inline uint16_t sp_arp_op(const struct sp_arp_view *v) { return sp_get16(v->buf + 6); }

struct sp_arp_repr {
    uint16_t op;
    struct sp_mac sha;  /* sender hardware address */
    uint32_t spa;       /* sender protocol address, host order */
    struct sp_mac tha;
    uint32_t tpa;
};

/* SP_EUNSUPPORTED unless Ethernet/IPv4 (htype 1, ptype 0x0800, hlen 6, plen 4); SP_EMALFORMED for
 * an operation other than request or reply. */
int sp_arp_repr_parse(const struct sp_arp_view *v, struct sp_arp_repr *r);
static inline size_t sp_arp_repr_buffer_len(const struct sp_arp_repr *r) { (void)r; return SP_ARP_LEN; }
void sp_arp_repr_emit(const struct sp_arp_repr *r, uint8_t *buf);

#endif
