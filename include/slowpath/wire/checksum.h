/* The Internet checksum (RFC 1071) and its incremental update (RFC 1624). */
#ifndef SLOWPATH_WIRE_CHECKSUM_H
#define SLOWPATH_WIRE_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds the 16-bit big-endian words of buf to a running 32-bit sum (odd trailing byte padded with
 * zero). Sums can be chained across buffers only when every buffer but the last has even length. */
uint32_t sp_csum_add(uint32_t sum, const void *buf, size_t len);

/* Folds a running sum to 16 bits (end-around carry), without complementing. */
uint16_t sp_csum_fold(uint32_t sum);

/* The checksum field value: the one's complement of the folded sum. */
static inline uint16_t sp_csum_finish(uint32_t sum) { return (uint16_t)~sp_csum_fold(sum); }

/* One-shot checksum of a buffer: sp_csum_finish(sp_csum_add(0, buf, len)). */
uint16_t sp_csum(const void *buf, size_t len);

/* The IPv4 pseudo-header sum for UDP and TCP (RFC 768, RFC 9293 3.1); addresses in host order. */
uint32_t sp_csum_pseudo_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

/* RFC 1624 eqn. 3: the new checksum after one 16-bit word of the covered data changes from
 * old_word to new_word, without summing the data again: HC' = ~(~HC + ~m + m'). */
uint16_t sp_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word);

/* Same for a 32-bit field (two words), e.g. an IPv4 address. */
uint16_t sp_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val);

#endif
