/* fuzz_pcap_replay: the capture reader behind --replay. The input is a pcap file: it is written to
 * a temporary file and opened with sp_pcap_replay_open, and its frames are read through the
 * interface (sp_iface_poll_device, ten milliseconds apart) into the fuzz host, as the daemon
 * replays a capture, until the end, a damaged record, or FZ_MAX_RECORDS frames.
 *
 * Invariants: a file the reader refuses is refused with a reason; frames never longer than the
 * device's buffer; and everything fuzz_frames checks of what the stack sends in answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz_host.h"
#include "slowpath/error.h"
#include "slowpath/opts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void remove_file(void)
{
    unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int fd = -1;
    if (fd < 0) {
        const char *dir = getenv("TMPDIR");
        snprintf(path, sizeof path, "%s/sp-fuzz-pcap-XXXXXX", dir && strlen(dir) < 32 ? dir : "/tmp");
        fd = mkstemp(path);
        if (fd < 0)
            fz_die("mkstemp %s", path);
        atexit(remove_file);
    }
    if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
        fz_die("writing %s", path);

    char err[256] = "";
    struct sp_device *replay = sp_pcap_replay_open(path, SP_MAX_MTU, err, sizeof err);
    if (!replay) {
        if (!err[0])
            fz_die("a capture refused without a reason");
        return 0;
    }
    struct fz_host *h = fz_host_new(replay);
    for (int n = 0; n < FZ_MAX_RECORDS; n++) {
        fz_host_advance(h, fz_host_now(h) + 10);
        int rc = sp_iface_poll_device(fz_host_iface(h), fz_host_now(h), 1);
        if (rc < 0) {
            if (rc != SP_EOF && rc != SP_EIO)
                fz_die("the replay device gave %d", rc);
            break;
        }
        if (rc == 0)
            fz_die("a replay device with nothing ready before its end");
    }
    fz_host_finish(h);
    fz_host_free(h);
    return 0;
}
