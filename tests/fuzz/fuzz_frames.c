/* fuzz_frames: the frame path, stateful. One input is a sequence of frames with time steps and
 * application steps between them (fuzz_host.h has the format), played against a host with UDP and
 * TCP echo, discard, HTTP, a listener whose connections the input drives, and active opens. Every
 * frame the stack sends must parse back with the wire layer with correct checksums; nothing may
 * crash, leak, trip a sanitizer or spin the timers. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The first record's fix picks the device: with offloads or without (fuzz_host.h). */
    struct fz_host *h = fz_host_new_offload(NULL, size && (data[0] & FZ_FRAMES_OFFLOAD) ? FZ_OFFLOADS : 0);
    struct fz_record r;
    for (unsigned i = 0; i < FZ_MAX_RECORDS && fz_next_record(&data, &size, &r); i++)
        fz_host_step(h, &r);
    fz_host_finish(h);
    fz_host_free(h);
    return 0;
}
