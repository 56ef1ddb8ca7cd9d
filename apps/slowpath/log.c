#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"

static enum app_log_format format = APP_LOG_TEXT;
static bool journal; /* stderr is journald's stream: priority prefixes instead of names */

static const char *const level_names[] = {"error", "warning", "info", "debug"};
static const int syslog_priority[] = {3, 4, 6, 7}; /* LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG */

int app_log_format_parse(const char *name, enum app_log_format *out)
{
    if (strcmp(name, "text") == 0)
        *out = APP_LOG_TEXT;
    else if (strcmp(name, "json") == 0)
        *out = APP_LOG_JSON;
    else
        return -1;
    return 0;
}

const char *app_log_format_name(enum app_log_format f) { return f == APP_LOG_JSON ? "json" : "text"; }

/* systemd sets JOURNAL_STREAM=DEVICE:INODE for a service whose stderr goes to the journal; a
 * program that inherited the variable but writes elsewhere sees another inode. */
static bool stderr_is_journal(void)
{
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void app_log_setup(enum app_log_format fmt)
{
    format = fmt;
    journal = stderr_is_journal();
}

enum app_log_format app_log_get_format(void) { return format; }

void app_log_time(char out[32])
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + n, 32 - n, ".%03dZ", (int)(ts.tv_nsec / 1000000));
}

static void json_field(struct app_buf *b, const struct app_log_field *f)
{
    app_buf_put(b, ",", 1);
    app_buf_json_str(b, f->key);
    app_buf_put(b, ":", 1);
    if (f->number && f->value && *f->value)
        app_buf_put(b, f->value, strlen(f->value));
    else
        app_buf_json_str(b, f->value ? f->value : "");
}

void app_log(enum app_log_level level, const struct app_log_field *fields, size_t nfields, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* One event, one line, whatever the message carried. */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    struct app_buf b = {0};
    if (format == APP_LOG_JSON) {
        char when[32];
        app_log_time(when);
        app_buf_printf(&b, "{\"time\":\"%s\",\"level\":\"%s\",\"msg\":", when, level_names[level]);
        app_buf_json_str(&b, msg);
        for (size_t i = 0; i < nfields; i++)
            json_field(&b, &fields[i]);
        app_buf_put(&b, "}\n", 2);
    } else {
        if (journal)
            app_buf_printf(&b, "<%d>%s", syslog_priority[level], msg);
        else
            app_buf_printf(&b, "slowpath: %s: %s", level_names[level], msg);
        app_buf_put(&b, "\n", 1);
    }
    if (!b.failed)
        fwrite(b.p, 1, b.len, stderr);
    else
        fprintf(stderr, "slowpath: %s: %s\n", level_names[level], msg); /* out of memory: still say it */
    fflush(stderr);
    app_buf_free(&b);
}
