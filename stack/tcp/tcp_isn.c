/* Initial sequence numbers per RFC 6528: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), M a clock ticking every 4 microseconds and F SipHash-2-4 keyed by the interface's
 * secret, so that neighbouring connections cannot guess each other's numbers. */
#include "tcp_internal.h"

static inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);                                  \
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                                     \
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                                     \
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);                                  \
    } while (0)

static uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

uint64_t sp_siphash24(uint64_t k0, uint64_t k1, const uint8_t *data, size_t len)
{
    uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
    size_t full = len & ~(size_t)7;
    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = load_le64(data + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t last = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < (len & 7); i++)
        last |= (uint64_t)data[full + i] << (8 * i);
    v3 ^= last;
    SIPROUND;
    SIPROUND;
    v0 ^= last;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

uint32_t sp_tcp_isn(uint64_t secret, sp_time_t now, uint32_t lip, uint16_t lport, uint32_t rip, uint16_t rport)
{
    uint8_t id[12];
    sp_put32(id, lip);
    sp_put16(id + 4, lport);
    sp_put32(id + 6, rip);
    sp_put16(id + 10, rport);
    /* Two 64-bit keys from the one secret: the second is a fixed mix so they differ. */
    uint64_t h = sp_siphash24(secret, rotl(secret, 29) ^ 0x9e3779b97f4a7c15ull, id, sizeof id);
    return (uint32_t)(now * 250u) + (uint32_t)h;
}
