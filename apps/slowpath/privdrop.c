/* --user (see privdrop.h). */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int sp_user_lookup(const char *name, struct sp_user *u, char *err, size_t errlen)
{
    errno = 0;
    struct passwd *pw = getpwnam(name);
    if (!pw) {
        /* Not a name: perhaps a numeric uid. */
        char *end;
        errno = 0;
        unsigned long id = strtoul(name, &end, 10);
        if (*name && !*end && errno == 0 && id == (uid_t)id)
            pw = getpwuid((uid_t)id);
    }
    if (!pw) {
        snprintf(err, errlen, "--user '%s': no such user", name);
        return -1;
    }
    if (pw->pw_uid == 0) {
        snprintf(err, errlen, "--user '%s' is uid 0, which keeps every privilege: name an unprivileged user", name);
        return -1;
    }
    u->name = name;
    u->uid = pw->pw_uid;
    u->gid = pw->pw_gid;
    return 0;
}

/* Empties the ambient, permitted, effective and inheritable capability sets. The change of uid
 * away from 0 already does so unless securebits say otherwise (SECBIT_KEEP_CAPS,
 * SECBIT_NO_SETUID_FIXUP), and a process started as the user may have been handed some (a
 * service manager's AmbientCapabilities): done explicitly, it holds in every case. */
static int drop_capabilities(char *err, size_t errlen)
{
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
        snprintf(err, errlen, "cannot clear the ambient capabilities: %s", strerror(errno));
        return -1;
    }
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capset, &hdr, data) < 0) {
        snprintf(err, errlen, "cannot drop the capabilities: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* The capability sets as the kernel reports them: all of CapInh, CapPrm, CapEff and CapAmb must
 * be zero. */
static int check_no_capabilities(char *err, size_t errlen)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) {
        snprintf(err, errlen, "cannot read /proc/self/status to check the capabilities: %s", strerror(errno));
        return -1;
    }
    char line[256];
    int seen = 0, rc = 0;
    static const char *const sets[] = {"CapInh:", "CapPrm:", "CapEff:", "CapAmb:"};
    while (fgets(line, sizeof line, f)) {
        for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
            size_t n = strlen(sets[i]);
            if (strncmp(line, sets[i], n) != 0)
                continue;
            seen++;
            unsigned long long v = strtoull(line + n, NULL, 16);
            if (v != 0 && rc == 0) {
                snprintf(err, errlen, "capabilities left after dropping root: %s %llx", sets[i], v);
                rc = -1;
            }
        }
    }
    fclose(f);
    if (rc == 0 && seen < 3) { /* CapAmb is missing before Linux 4.3 */
        snprintf(err, errlen, "cannot find the capability sets in /proc/self/status");
        rc = -1;
    }
    return rc;
}

int sp_user_become(const struct sp_user *u, char *err, size_t errlen)
{
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;
    if (getresuid(&ruid, &euid, &suid) < 0 || getresgid(&rgid, &egid, &sgid) < 0) {
        snprintf(err, errlen, "--user: cannot read our ids: %s", strerror(errno));
        return -1;
    }
    bool already = ruid == u->uid && euid == u->uid && suid == u->uid && rgid == u->gid && egid == u->gid &&
                   sgid == u->gid;
    if (!already) {
        /* The bounding set too, while CAP_SETPCAP is still ours: nothing exec'd later could get
         * a capability back from a file. */
        for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++)
            if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EPERM) {
                snprintf(err, errlen, "--user %s: cannot drop capability %d from the bounding set: %s", u->name, cap,
                         strerror(errno));
                return -1;
            }
        /* Groups first: once the uid is the user's, changing them is no longer allowed. */
        if (setgroups(0, NULL) < 0) {
            snprintf(err, errlen, "--user %s: cannot clear the supplementary groups: %s%s", u->name, strerror(errno),
                     errno == EPERM ? " (switching users needs root)" : "");
            return -1;
        }
        if (setresgid(u->gid, u->gid, u->gid) < 0) {
            snprintf(err, errlen, "--user %s: setresgid(%u): %s", u->name, (unsigned)u->gid, strerror(errno));
            return -1;
        }
        if (setresuid(u->uid, u->uid, u->uid) < 0) {
            snprintf(err, errlen, "--user %s: setresuid(%u): %s", u->name, (unsigned)u->uid, strerror(errno));
            return -1;
        }
    }
    if (drop_capabilities(err, errlen) < 0)
        return -1;
    /* No later exec may gain privileges either (set-user-ID binaries, file capabilities). */
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        snprintf(err, errlen, "cannot set no_new_privs: %s", strerror(errno));
        return -1;
    }
    /* For good: neither id can come back (the saved ids were replaced too). */
    if (setresuid((uid_t)-1, 0, (uid_t)-1) == 0 || (u->gid != 0 && setresgid((gid_t)-1, 0, (gid_t)-1) == 0)) {
        snprintf(err, errlen, "--user %s: root could be regained after the switch", u->name);
        return -1;
    }
    if (getuid() != u->uid || geteuid() != u->uid || getgid() != u->gid || getegid() != u->gid) {
        snprintf(err, errlen, "--user %s: still running as uid %u gid %u", u->name, (unsigned)geteuid(),
                 (unsigned)getegid());
        return -1;
    }
    if (check_no_capabilities(err, errlen) < 0)
        return -1;
    return 0;
}
