/* The daemon's TCP services: echo (7), discard (9), a small HTTP/1.1 responder (80) and an
 * active-open client (--connect HOST:PORT). */
#ifndef SP_APP_TCP_SERVICES_H
#define SP_APP_TCP_SERVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "slowpath/iface.h"

struct sp_tcp_services_opts {
    bool echo;                 /* TCP echo on port 7 */
    bool discard;              /* discard on port 9 */
    bool http;                 /* HTTP/1.1 on port 80: a page with the host's counters */
    const char *connect;       /* "HOST:PORT" to open actively, or NULL */
    const char *send_file;     /* with connect: file whose bytes are sent, then FIN; NULL: a GET */
    uint32_t ka_idle_s, ka_intvl_s, ka_count; /* keepalive on every connection (sp_tcp_set_keepalive);
                                               * ka_idle_s 0: off */
    void (*on_connect_done)(void *data, int status); /* the active-open client has finished */
    void *data;
};

struct sp_tcp_services;

/* Starts the chosen services; NULL with a one-line reason in err on failure. */
struct sp_tcp_services *sp_tcp_services_start(struct sp_iface *iface, const struct sp_tcp_services_opts *opts,
                                              char *err, size_t errlen);
void sp_tcp_services_stop(struct sp_tcp_services *svc);

#endif
