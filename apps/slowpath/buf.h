/* A growable text buffer for what the daemon writes in one piece (a log line, a metrics page):
 * appends never fail outright; running out of memory is remembered and checked once at the end. */
#ifndef SP_APP_BUF_H
#define SP_APP_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct app_buf {
    char *p;      /* NUL-terminated while len > 0 */
    size_t len, cap;
    bool failed;  /* an append ran out of memory: the content is incomplete */
};

void app_buf_printf(struct app_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void app_buf_put(struct app_buf *b, const char *s, size_t n);
/* s as a JSON string, quotes included (control characters as \u00XX; other bytes as they are). */
void app_buf_json_str(struct app_buf *b, const char *s);
void app_buf_free(struct app_buf *b);

#endif
