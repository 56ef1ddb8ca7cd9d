/* The daemon's TCP services on the callback socket API: echo (RFC 862), discard (RFC 863), a
 * small HTTP/1.1 status page, and the --connect client. Each keeps back-pressure: it reads only
 * what it can queue for sending, so a slow reader closes the sender's window instead of growing
 * memory here. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "slowpath/error.h"
#include "slowpath/tcp.h"
#include "slowpath/wire/ipv4.h"
#include "tcp_services.h"

#define COPY_CHUNK 16384
#define HTTP_REQ_MAX 4096

struct sp_tcp_services {
    struct sp_iface *iface;
    struct sp_tcp_services_opts opts;
    struct sp_tcp *echo, *discard, *http;
    struct sp_tcp *client;
    struct http_conn *http_conns;       /* open HTTP exchanges, freed at stop */
    FILE *send_fp;
    bool send_eof, peer_eof, client_done;
    size_t pending_len, pending_off;    /* client bytes read from the file, not yet queued */
    uint8_t pending[COPY_CHUNK];
};

/* --- echo ------------------------------------------------------------------------------------ */

static void echo_pump(struct sp_tcp *c)
{
    uint8_t buf[COPY_CHUNK];
    for (;;) {
        size_t room = sp_tcp_send_space(c);
        if (room == 0)
            return;   /* on_writable resumes; meanwhile our receive window fills and closes */
        long n = sp_tcp_recv(c, buf, room < sizeof buf ? room : sizeof buf);
        if (n == 0) {
            sp_tcp_close(c);   /* everything echoed: FIN after the queued data */
            return;
        }
        if (n < 0) {
            if (n != SP_EAGAIN)
                sp_tcp_abort(c);
            return;
        }
        sp_tcp_send(c, buf, (size_t)n);
    }
}

static void echo_readable(struct sp_tcp *c)
{
    echo_pump(c);
}

static const struct sp_tcp_callbacks echo_cbs = {
    .on_readable = echo_readable,
    .on_writable = echo_readable,
};

static void echo_accept(struct sp_tcp *l, struct sp_tcp *c)
{
    (void)l;
    sp_tcp_set_callbacks(c, &echo_cbs, NULL);
}

/* --- discard --------------------------------------------------------------------------------- */

static void discard_readable(struct sp_tcp *c)
{
    uint8_t buf[COPY_CHUNK];
    long n;
    while ((n = sp_tcp_recv(c, buf, sizeof buf)) > 0) {
    }
    if (n == 0)
        sp_tcp_close(c);
}

static const struct sp_tcp_callbacks discard_cbs = {.on_readable = discard_readable};

static void discard_accept(struct sp_tcp *l, struct sp_tcp *c)
{
    (void)l;
    sp_tcp_set_callbacks(c, &discard_cbs, NULL);
}

/* --- HTTP ------------------------------------------------------------------------------------ */

struct http_conn {
    struct sp_tcp_services *svc;
    struct sp_tcp *conn;
    struct http_conn *prev, *next;
    size_t req_len;
    bool responded;
    char *resp;
    size_t resp_len, resp_off;
    char req[HTTP_REQ_MAX + 1];
};

static void http_free(struct http_conn *h)
{
    if (h->prev)
        h->prev->next = h->next;
    else
        h->svc->http_conns = h->next;
    if (h->next)
        h->next->prev = h->prev;
    free(h->resp);
    free(h);
}

static void http_drain(struct sp_tcp *c)
{
    uint8_t buf[1024];
    while (sp_tcp_recv(c, buf, sizeof buf) > 0) {
    }
}

/* Queues what fits; once the whole response is queued the handle is closed (FIN follows). */
static void http_flush(struct sp_tcp *c, struct http_conn *h)
{
    while (h->resp_off < h->resp_len) {
        long n = sp_tcp_send(c, h->resp + h->resp_off, h->resp_len - h->resp_off);
        if (n <= 0)
            return;
        h->resp_off += (size_t)n;
    }
    http_drain(c);
    sp_tcp_set_data(c, NULL);
    http_free(h);
    sp_tcp_close(c);
}

static char *http_page(const struct sp_iface *iface, size_t *len)
{
    size_t cap = 256 + (size_t)SP_STAT_COUNT * 48;
    char *page = malloc(cap);
    if (!page)
        return NULL;
    const struct sp_iface_config *cfg = sp_iface_config(iface);
    char ip[16];
    sp_ipv4_addr_format(cfg->ip, ip);
    size_t n = (size_t)snprintf(page, cap, "slowpath %s\n\ncounters:\n", ip);
    const struct sp_stats *st = sp_iface_stats(iface);
    for (int i = 0; i < SP_STAT_COUNT && n < cap; i++)
        if (st->v[i])
            n += (size_t)snprintf(page + n, cap - n, "%s %llu\n", sp_stat_name((enum sp_stat)i),
                                  (unsigned long long)st->v[i]);
    *len = n < cap ? n : cap - 1;
    return page;
}

static void http_respond(struct sp_tcp *c, struct http_conn *h, int code, const char *reason,
                         const char *body, size_t body_len, bool head)
{
    char hdr[256];
    int hl = snprintf(hdr, sizeof hdr,
                      "HTTP/1.1 %d %s\r\nServer: slowpath\r\nContent-Type: text/plain\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      code, reason, body_len);
    size_t total = (size_t)hl + (head ? 0 : body_len);
    h->resp = malloc(total);
    if (!h->resp) {
        sp_tcp_set_data(c, NULL);
        http_free(h);
        sp_tcp_abort(c);
        return;
    }
    memcpy(h->resp, hdr, (size_t)hl);
    if (!head)
        memcpy(h->resp + hl, body, body_len);
    h->resp_len = total;
    h->responded = true;
    http_flush(c, h);
}

static void http_handle(struct sp_tcp *c, struct http_conn *h)
{
    char method[16], path[256], version[16];
    h->req[h->req_len] = 0;
    if (sscanf(h->req, "%15s %255s %15s", method, path, version) != 3 || strncmp(version, "HTTP/1.", 7) != 0) {
        static const char msg[] = "bad request\n";
        http_respond(c, h, 400, "Bad Request", msg, sizeof msg - 1, false);
        return;
    }
    bool head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0) {
        static const char msg[] = "method not allowed\n";
        http_respond(c, h, 405, "Method Not Allowed", msg, sizeof msg - 1, false);
        return;
    }
    if (strcmp(path, "/") != 0 && strcmp(path, "/index.txt") != 0) {
        static const char msg[] = "not found\n";
        http_respond(c, h, 404, "Not Found", msg, sizeof msg - 1, head);
        return;
    }
    size_t len = 0;
    char *page = http_page(h->svc->iface, &len);
    if (!page) {
        static const char msg[] = "out of memory\n";
        http_respond(c, h, 500, "Internal Server Error", msg, sizeof msg - 1, head);
        return;
    }
    http_respond(c, h, 200, "OK", page, len, head);
    free(page);
}

static void http_readable(struct sp_tcp *c)
{
    struct http_conn *h = sp_tcp_get_data(c);
    if (!h)
        return;
    if (h->responded) {
        http_drain(c);
        return;
    }
    long n = sp_tcp_recv(c, h->req + h->req_len, HTTP_REQ_MAX - h->req_len);
    if (n > 0) {
        h->req_len += (size_t)n;
        h->req[h->req_len] = 0;
        if (strstr(h->req, "\r\n\r\n") || strstr(h->req, "\n\n")) {
            http_handle(c, h);
        } else if (h->req_len == HTTP_REQ_MAX || memchr(h->req, 0, h->req_len)) {
            static const char msg[] = "bad request\n";
            http_respond(c, h, 400, "Bad Request", msg, sizeof msg - 1, false);
        }
        return;
    }
    if (n == 0) {   /* the client gave up before a complete request */
        sp_tcp_set_data(c, NULL);
        http_free(h);
        sp_tcp_close(c);
    }
}

static void http_writable(struct sp_tcp *c)
{
    struct http_conn *h = sp_tcp_get_data(c);
    if (h && h->responded)
        http_flush(c, h);
}

static void http_closed(struct sp_tcp *c, int status)
{
    (void)status;
    struct http_conn *h = sp_tcp_get_data(c);
    if (h)
        http_free(h);
}

static const struct sp_tcp_callbacks http_cbs = {
    .on_readable = http_readable,
    .on_writable = http_writable,
    .on_close = http_closed,
};

static void http_accept(struct sp_tcp *l, struct sp_tcp *c)
{
    struct http_conn *h = calloc(1, sizeof *h);
    if (!h) {
        sp_tcp_abort(c);
        return;
    }
    h->svc = sp_tcp_get_data(l);
    h->conn = c;
    h->next = h->svc->http_conns;
    if (h->next)
        h->next->prev = h;
    h->svc->http_conns = h;
    sp_tcp_set_callbacks(c, &http_cbs, h);
}

/* --- the --connect client -------------------------------------------------------------------- */

/* --tcp-keepalive: on a listener it carries over to every connection it accepts. */
static int keepalive_on(struct sp_tcp_services *svc, struct sp_tcp *t)
{
    const struct sp_tcp_services_opts *o = &svc->opts;
    return o->ka_idle_s ? sp_tcp_set_keepalive(t, o->ka_idle_s, o->ka_intvl_s, o->ka_count) : 0;
}

static void client_finish(struct sp_tcp_services *svc, int status)
{
    if (svc->client_done)
        return;
    svc->client_done = true;
    if (svc->client) {
        struct sp_tcp *c = svc->client;
        svc->client = NULL;
        if (status == 0)
            sp_tcp_close(c);
        else
            sp_tcp_abort(c);
    }
    if (svc->opts.on_connect_done)
        svc->opts.on_connect_done(svc->opts.data, status);
}

/* Done when our FIN is acknowledged (everything was delivered) and the peer has closed too. */
static void client_check_done(struct sp_tcp_services *svc, struct sp_tcp *c)
{
    enum sp_tcp_state st = sp_tcp_get_state(c);
    bool our_fin_acked = st == SP_TCP_FIN_WAIT_2 || st == SP_TCP_TIME_WAIT;
    if (our_fin_acked && svc->peer_eof)
        client_finish(svc, 0);
}

static void client_pump(struct sp_tcp_services *svc, struct sp_tcp *c)
{
    while (!svc->send_eof) {
        if (svc->pending_off == svc->pending_len) {
            svc->pending_off = 0;
            svc->pending_len = svc->send_fp ? fread(svc->pending, 1, sizeof svc->pending, svc->send_fp) : 0;
            if (svc->pending_len == 0) {
                if (svc->send_fp && ferror(svc->send_fp)) {
                    client_finish(svc, SP_EIO);
                    return;
                }
                svc->send_eof = true;
                sp_tcp_shutdown(c);
                break;
            }
        }
        long n = sp_tcp_send(c, svc->pending + svc->pending_off, svc->pending_len - svc->pending_off);
        if (n <= 0)
            return;
        svc->pending_off += (size_t)n;
    }
    client_check_done(svc, c);
}

static void client_connected(struct sp_tcp *c, int status)
{
    struct sp_tcp_services *svc = sp_tcp_get_data(c);
    if (status < 0)
        return;   /* on_close reports it */
    client_pump(svc, c);
}

static void client_readable(struct sp_tcp *c)
{
    struct sp_tcp_services *svc = sp_tcp_get_data(c);
    uint8_t buf[COPY_CHUNK];
    long n;
    while ((n = sp_tcp_recv(c, buf, sizeof buf)) > 0)
        fwrite(buf, 1, (size_t)n, stdout);
    if (n == 0 && !svc->peer_eof) {
        svc->peer_eof = true;
        fflush(stdout);
        client_check_done(svc, c);
    }
}

static void client_writable(struct sp_tcp *c)
{
    struct sp_tcp_services *svc = sp_tcp_get_data(c);
    client_pump(svc, c);
}

static void client_closed(struct sp_tcp *c, int status)
{
    struct sp_tcp_services *svc = sp_tcp_get_data(c);
    svc->client = NULL;
    client_finish(svc, status);
}

static const struct sp_tcp_callbacks client_cbs = {
    .on_connect = client_connected,
    .on_readable = client_readable,
    .on_writable = client_writable,
    .on_close = client_closed,
};

static int client_start(struct sp_tcp_services *svc, char *err, size_t errlen)
{
    const char *spec = svc->opts.connect;
    const char *colon = strrchr(spec, ':');
    char host[64];
    uint32_t ip;
    char *end;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || (size_t)(colon - spec) >= sizeof host || *end || port < 1 || port > 65535) {
        snprintf(err, errlen, "--connect %s: expected IPV4:PORT", spec);
        return SP_EINVAL;
    }
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = 0;
    if (sp_ipv4_addr_parse(host, &ip) < 0) {
        snprintf(err, errlen, "--connect %s: bad IPv4 address", spec);
        return SP_EINVAL;
    }
    if (svc->opts.send_file) {
        svc->send_fp = fopen(svc->opts.send_file, "rb");
        if (!svc->send_fp) {
            snprintf(err, errlen, "--send %s: %s", svc->opts.send_file, strerror(errno));
            return SP_EINVAL;
        }
    } else {
        svc->pending_len = (size_t)snprintf((char *)svc->pending, sizeof svc->pending,
                                            "GET / HTTP/1.1\r\nHost: %s\r\nUser-Agent: slowpath\r\n"
                                            "Connection: close\r\n\r\n", host);
    }
    int rc = sp_tcp_connect(svc->iface, ip, (uint16_t)port, &client_cbs, svc, &svc->client);
    if (rc == 0)
        rc = keepalive_on(svc, svc->client);
    if (rc < 0) {
        snprintf(err, errlen, "--connect %s: %s", spec, sp_strerror(rc));
        return rc;
    }
    return 0;
}

/* --- life cycle ------------------------------------------------------------------------------ */

static int listen_on(struct sp_tcp_services *svc, uint16_t port, sp_tcp_accept_cb cb, struct sp_tcp **out,
                     char *err, size_t errlen)
{
    int rc = sp_tcp_listen(svc->iface, port, 0, cb, svc, out);
    if (rc == 0)
        rc = keepalive_on(svc, *out);
    if (rc < 0)
        snprintf(err, errlen, "TCP port %u: %s", port, sp_strerror(rc));
    return rc;
}

struct sp_tcp_services *sp_tcp_services_start(struct sp_iface *iface, const struct sp_tcp_services_opts *opts,
                                              char *err, size_t errlen)
{
    struct sp_tcp_services *svc = calloc(1, sizeof *svc);
    if (!svc) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    svc->iface = iface;
    svc->opts = *opts;
    if ((opts->echo && listen_on(svc, 7, echo_accept, &svc->echo, err, errlen) < 0) ||
        (opts->discard && listen_on(svc, 9, discard_accept, &svc->discard, err, errlen) < 0) ||
        (opts->http && listen_on(svc, 80, http_accept, &svc->http, err, errlen) < 0) ||
        (opts->connect && client_start(svc, err, errlen) < 0)) {
        sp_tcp_services_stop(svc);
        return NULL;
    }
    return svc;
}

void sp_tcp_services_stop(struct sp_tcp_services *svc)
{
    if (!svc)
        return;
    sp_tcp_close(svc->echo);
    sp_tcp_close(svc->discard);
    sp_tcp_close(svc->http);
    while (svc->http_conns) {
        struct http_conn *h = svc->http_conns;
        sp_tcp_set_callbacks(h->conn, NULL, NULL);
        sp_tcp_abort(h->conn);
        http_free(h);
    }
    if (svc->client) {
        struct sp_tcp *c = svc->client;
        svc->client = NULL;
        sp_tcp_set_callbacks(c, NULL, NULL);
        sp_tcp_abort(c);
    }
    if (svc->send_fp)
        fclose(svc->send_fp);
    free(svc);
}
