#include "netfmt.h"

#include <stdio.h>
#include <string.h>

int sp_llm_ip4_parse(const char *s, uint8_t out[4])
{
    for (int i = 0; i < 4; i++) {
        unsigned v = 0, digits = 0;
        while (*s >= '0' && *s <= '9') {
            v = v * 10 + (unsigned)(*s++ - '0');
            if (++digits > 3 || v > 255) return -1;
        }
        if (!digits) return -1;
        out[i] = (uint8_t)v;
        if (i < 3 && *s++ != '.') return -1;
    }
    return *s ? -1 : 0;
}

static int hexv(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int sp_llm_mac_parse(const char *s, uint8_t out[6])
{
    for (int i = 0; i < 6; i++) {
        int h = hexv(s[0]), l = h < 0 ? -1 : hexv(s[1]);
        if (h < 0 || l < 0) return -1;
        out[i] = (uint8_t)(h << 4 | l);
        s += 2;
        if (i < 5 && *s++ != ':') return -1;
    }
    return *s ? -1 : 0;
}

void sp_llm_ip4_fmt(const uint8_t ip[4], char out[16])
{
    snprintf(out, 16, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
}

void sp_llm_mac_fmt(const uint8_t m[6], char out[18])
{
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

long sp_llm_hex_decode(const char *s, uint8_t *out, size_t cap)
{
    size_t n = strlen(s);
    if (n % 2 || n / 2 > cap) return -1;
    for (size_t i = 0; i < n / 2; i++) {
        int h = hexv(s[2 * i]), l = hexv(s[2 * i + 1]);
        if (h < 0 || l < 0) return -1;
        out[i] = (uint8_t)(h << 4 | l);
    }
    return (long)(n / 2);
}

void sp_llm_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[in[i] >> 4];
        out[2 * i + 1] = d[in[i] & 15];
    }
    out[2 * n] = '\0';
}

uint32_t sp_llm_csum_partial(const uint8_t *buf, size_t n, uint32_t sum)
{
    size_t i;
    for (i = 0; i + 1 < n; i += 2) sum += (uint32_t)(buf[i] << 8 | buf[i + 1]);
    if (i < n) sum += (uint32_t)buf[i] << 8;
    return sum;
}

uint16_t sp_llm_csum(const uint8_t *buf, size_t n, uint32_t sum)
{
    sum = sp_llm_csum_partial(buf, n, sum);
    while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}
