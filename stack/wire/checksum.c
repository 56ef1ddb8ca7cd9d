/* The Internet checksum (RFC 1071) and its incremental update (RFC 1624). */
#include "slowpath/wire/checksum.h"

#include <string.h>

#include "slowpath/wire/bytes.h"

/* Folds a 64-bit one's complement accumulator to 32 bits. Because 2^16 = 1 (mod 0xffff), adding
 * the high half to the low half keeps the one's complement sum, so the result can be chained. */
static uint32_t fold64(uint64_t acc)
{
    while (acc >> 32)
        acc = (acc & 0xffffffffu) + (acc >> 32);
    return (uint32_t)acc;
}

uint32_t sp_csum_add(uint32_t sum, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    uint64_t acc = 0;
    /* RFC 1071 2(B): the one's complement sum does not depend on byte order, so the words are
     * added as the CPU loads them, 8 bytes a step with no byte swapping, and the folded 16-bit
     * result is turned into network order once at the end. Each step adds less than 2^33: the
     * 64-bit accumulator cannot overflow below 2^31 steps (16 GiB). */
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        acc += (w & 0xffffffffu) + (w >> 32);
        p += 8;
        len -= 8;
    }
    if (len >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        acc += w;
        p += 4;
        len -= 4;
    }
    if (len >= 2) {
        uint16_t w;
        memcpy(&w, p, 2);
        acc += w;
        p += 2;
        len -= 2;
    }
    if (len) {
        uint8_t pad[2] = {p[0], 0}; /* odd trailing byte, padded with a zero byte */
        uint16_t w;
        memcpy(&w, pad, 2);
        acc += w;
    }
    uint32_t f = fold64(acc);
    f = (f & 0xffff) + (f >> 16);   /* at most 0x1fffe */
    f = (f & 0xffff) + (f >> 16);   /* at most 0xffff */
    uint16_t native = (uint16_t)f;
    uint8_t b[2];
    memcpy(b, &native, 2);
    return fold64((uint64_t)sum + (uint32_t)((b[0] << 8) | b[1]));
}

uint16_t sp_csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}

uint16_t sp_csum(const void *buf, size_t len)
{
    return sp_csum_finish(sp_csum_add(0, buf, len));
}

uint32_t sp_csum_pseudo_ipv4(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len)
{
    uint64_t acc = (uint64_t)(src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + proto + len;
    return fold64(acc);
}

uint16_t sp_csum_update16(uint16_t csum, uint16_t old_word, uint16_t new_word)
{
    /* RFC 1624 eqn. 3. Unlike eqn. 2 (RFC 1141) it never turns a checksum whose data sums to
     * +0 into 0xffff. */
    uint32_t sum = (uint32_t)(uint16_t)~csum + (uint16_t)~old_word + new_word;
    return (uint16_t)~sp_csum_fold(sum);
}

uint16_t sp_csum_update32(uint16_t csum, uint32_t old_val, uint32_t new_val)
{
    csum = sp_csum_update16(csum, (uint16_t)(old_val >> 16), (uint16_t)(new_val >> 16));
    return sp_csum_update16(csum, (uint16_t)old_val, (uint16_t)new_val);
}
