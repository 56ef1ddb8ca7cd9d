/* --print-config: the configuration the daemon would run with, one "name: value" line each, so an
 * operator or a test can check defaults and overrides without a device or a request. */
#ifndef SP_APP_PRINT_CONFIG_H
#define SP_APP_PRINT_CONFIG_H

#include <stdio.h>

#include "options.h"

void app_print_config(const struct sp_options *o, FILE *out);

#endif
