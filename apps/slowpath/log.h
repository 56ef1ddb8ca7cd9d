/* The daemon's log: one event a line on stderr.
 *   text  "slowpath: LEVEL: message" for a terminal; under systemd (stderr is the journal, as
 *         $JOURNAL_STREAM says) "<N>message", the syslog priority prefix journald reads, without
 *         the name journald records itself. The message says everything; fields are for JSON;
 *   json  {"time":"2026-01-02T03:04:05.678Z","level":"info","msg":"...", fields...} for scripts.
 * Each line is written with one call, so lines never interleave. */
#ifndef SP_APP_LOG_H
#define SP_APP_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum app_log_format { APP_LOG_TEXT, APP_LOG_JSON };
enum app_log_level { APP_LOG_ERROR, APP_LOG_WARNING, APP_LOG_INFO, APP_LOG_DEBUG };

/* A field of an event: a string, or a number written bare in JSON. */
struct app_log_field {
    const char *key;
    const char *value;
    bool number;
};

int app_log_format_parse(const char *name, enum app_log_format *out); /* 0 or -1 */
const char *app_log_format_name(enum app_log_format f);                /* "text", "json" */

/* Picks the format (text until called) and looks whether stderr is the journal. */
void app_log_setup(enum app_log_format fmt);
enum app_log_format app_log_get_format(void);

/* One event: the message from fmt, then the fields. */
void app_log(enum app_log_level level, const struct app_log_field *fields, size_t nfields, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Now as ISO-8601 UTC with milliseconds ("2026-01-02T03:04:05.678Z"), as events carry it. */
void app_log_time(char out[32]);

#endif
