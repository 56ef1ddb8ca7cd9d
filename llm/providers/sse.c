#include "sse.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "slowpath/llm/error.h"

int sp_llm_sse_next(const char **p, const char *end, struct sp_llm_sse_event *ev)
{
    const char *s = *p;
    size_t cap = 0;
    int any = 0;
    memset(ev, 0, sizeof *ev);
    while (s < end) {
        const char *eol = memchr(s, '\n', (size_t)(end - s));
        const char *le = eol ? eol : end, *next = eol ? eol + 1 : end;
        size_t n;
        if (le > s && le[-1] == '\r') le--;
        n = (size_t)(le - s);
        if (n == 0) { /* blank line: dispatch if anything was read */
            s = next;
            if (any) break;
            continue;
        }
        any = 1;
        if (s[0] != ':') { /* ':' starts a comment line */
            const char *colon = memchr(s, ':', n);
            size_t fl = colon ? (size_t)(colon - s) : n;
            const char *v = colon ? colon + 1 : le;
            if (v < le && *v == ' ') v++;
            if (fl == 5 && memcmp(s, "event", 5) == 0) {
                size_t vl = (size_t)(le - v);
                if (vl >= sizeof ev->event) vl = sizeof ev->event - 1;
                memcpy(ev->event, v, vl);
                ev->event[vl] = '\0';
            } else if (fl == 4 && memcmp(s, "data", 4) == 0) {
                if (ev->data && sp_llm_buf_append(&ev->data, &ev->data_len, &cap, "\n", 1) < 0) goto oom;
                if (sp_llm_buf_append(&ev->data, &ev->data_len, &cap, v, (size_t)(le - v)) < 0) goto oom;
            } /* id:, retry: and unknown fields are ignored */
        }
        s = next;
    }
    *p = s;
    return any;
oom:
    free(ev->data);
    ev->data = NULL;
    return SP_LLM_ENOMEM;
}
