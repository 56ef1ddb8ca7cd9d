/* The --stats / SIGUSR1 dump as one JSON event (--log-format json): the same figures as the text
 * dump, so a script reads them without parsing columns. */
#ifndef SP_APP_STATS_JSON_H
#define SP_APP_STATS_JSON_H

#include <stdio.h>

#include "decisions.h"
#include "slowpath/iface.h"

void app_stats_json(const struct sp_iface *iface, const struct app_decisions *d, FILE *out);

#endif
