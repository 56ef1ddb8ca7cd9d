#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool reserve(struct app_buf *b, size_t extra)
{
    if (b->failed)
        return false;
    if (b->len + extra + 1 <= b->cap)
        return true;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        b->failed = true;
        return false;
    }
    b->p = p;
    b->cap = cap;
    return true;
}

void app_buf_put(struct app_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void app_buf_printf(struct app_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void app_buf_json_str(struct app_buf *b, const char *s)
{
    app_buf_put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            char esc[2] = {'\\', (char)*p};
            app_buf_put(b, esc, 2);
        } else if (*p == '\n') {
            app_buf_put(b, "\\n", 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            app_buf_printf(b, "\\u%04x", *p);
        } else {
            app_buf_put(b, (const char *)p, 1);
        }
    }
    app_buf_put(b, "\"", 1);
}

void app_buf_free(struct app_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}
