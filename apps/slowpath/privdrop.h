/* --user: no root after start-up. The daemon needs privileges only to open what it opens at
 * start (the TAP, unless a persistent one belongs to the user already; the pcap and trace files
 * wherever they are); the stack, the services and the model's HTTP client need none. So once
 * everything is open it becomes the user, for good. */
#ifndef SP_APP_PRIVDROP_H
#define SP_APP_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct sp_user {
    const char *name;
    uid_t uid;
    gid_t gid;   /* the user's primary group */
};

/* Looks NAME up in the user database (a name, or a numeric uid). Returns 0, or -1 after writing
 * one line to err: an unknown user, or uid 0 (which would keep every privilege). */
int sp_user_lookup(const char *name, struct sp_user *u, char *err, size_t errlen);

/* Becomes u for good: the capability bounding set emptied, supplementary groups cleared
 * (setgroups), real, effective and saved group and user ids set (setresgid, then setresuid), every
 * other capability set emptied (capset, ambient cleared) and no_new_privs set. Then checks that
 * root cannot be regained and that no capability is left (CapInh, CapPrm, CapEff and CapAmb in
 * /proc/self/status). A process already running as u (started by the user, with a TAP the user
 * owns) has no ids to change: it only gives up any capability it was handed, and is checked.
 * Returns 0, or -1 after writing one line to err; the daemon must then exit. */
int sp_user_become(const struct sp_user *u, char *err, size_t errlen);

#endif
