/* Several captures replayed one after another as one device. */
#ifndef SP_APP_REPLAY_SEQ_H
#define SP_APP_REPLAY_SEQ_H

#include "slowpath/device.h"

/* Opens paths[0] at once (so a bad first file fails early); the others when their turn comes. */
struct sp_device *sp_replay_seq_open(const char *const *paths, int n, uint16_t mtu, char *err, size_t errlen);

#endif
