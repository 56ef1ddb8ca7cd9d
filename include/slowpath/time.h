/* Time in slowpath is an argument: milliseconds on a monotonic clock owned by the loop edge. */
#ifndef SLOWPATH_TIME_H
#define SLOWPATH_TIME_H

#include "slowpath/layer_stack.h"

#include <stdint.h>

typedef uint64_t sp_time_t;           /* milliseconds */
#define SP_TIME_NEVER UINT64_MAX      /* "no timer needed" from a poll_at() */

static inline sp_time_t sp_time_min(sp_time_t a, sp_time_t b) { return a < b ? a : b; }

#endif
