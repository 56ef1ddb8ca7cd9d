#include "support.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

int sp_test_hex(const char *hex, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (; *hex; hex++) {
        if (isspace((unsigned char)*hex)) continue;
        int v = hexval((unsigned char)*hex);
        if (v < 0) return -1;
        if (hi < 0) {
            hi = v;
        } else {
            if (n >= cap) return -1;
            buf[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return hi < 0 ? (int)n : -1;
}

void sp_test_shared_path(char *out, size_t cap, const char *rel)
{
    const char *env = getenv("SP_SHARED");
    if (env && env[0]) {
        snprintf(out, cap, "%s/%s", env, rel);
        return;
    }
    /* This file is tests/unit/support.c of the checkout; ../shared sits beside the checkout. */
    const char *file = __FILE__;
    const char *tail = strstr(file, "tests/unit/support.c");
    int root_len = tail ? (int)(tail - file) : 0;
    snprintf(out, cap, "%.*s../shared/%s", root_len, file, rel);
}
