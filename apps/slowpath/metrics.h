/* The metrics endpoint: a small HTTP/1.1 server on the daemon's loop that answers GET /metrics
 * with the page a callback renders at that moment (404 for other paths). Loopback only unless the
 * operator allows otherwise: the counters say a lot about the host and its peers. */
#ifndef SP_APP_METRICS_H
#define SP_APP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>
#include <uv.h>

#include "buf.h"

/* Parses ADDR:PORT (an IPv4 address, [IPv6] or "localhost"; port 0: any free one). A
 * non-loopback address is refused unless any is set. 0, or -1 with one line in err. */
int app_metrics_parse_addr(const char *spec, bool any, struct sockaddr_storage *out, char *err, size_t errlen);

typedef void (*app_metrics_render_fn)(void *data, struct app_buf *page);

struct app_metrics;

/* Listens on addr. The bound address is written to bound (for port 0). 0, or -1 with err. */
int app_metrics_start(uv_loop_t *loop, const struct sockaddr_storage *addr, app_metrics_render_fn render, void *data,
                      struct app_metrics **out, char *bound, size_t boundlen, char *err, size_t errlen);

/* Closes the listener and every connection; memory goes with the close callbacks. NULL is fine. */
void app_metrics_stop(struct app_metrics *m);

#endif
