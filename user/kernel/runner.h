/* SPDX-License-Identifier: MIT */
/*
 * runner - start COMMAND held at the gate: forked, privileges dropped, blocked on
 * a pipe until the tracer knows its pid; then released to exec.
 */
#ifndef BMT_RUNNER_H
#define BMT_RUNNER_H

#include <stddef.h>
#include <sys/types.h>

/* Who COMMAND runs as. uid == (uid_t)-1: as bmtrace itself. */
struct runner_creds {
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	int ngroups;
	char *name; /* USER / LOGNAME */
	char *home; /* HOME */
};

/*
 * The identity to drop to: -u USER when user is set, else the sudo caller (SUDO_UID,
 * SUDO_GID, and that user's groups), else none. 0, or -EINVAL with a reason in err.
 */
int runner__resolve_creds(const char *user, struct runner_creds *cr, char *err, size_t errlen);
void runner__free_creds(struct runner_creds *cr);

struct runner {
	pid_t pid;
	int gate_fd; /* write end: one byte releases the child */
	int err_fd;  /* read end: the child's exec errno, or EOF once exec succeeded */
};

/*
 * Fork COMMAND held at the gate. sigmask is restored in the child before exec (bmtrace
 * blocks the signals it reads through signalfd). 0 or -errno.
 */
int runner__spawn(struct runner *r, char *const argv[], const struct runner_creds *cr,
		  const void *sigmask);

/*
 * Release the child. Returns 0 once it has exec'd, or the exec's errno (the child then
 * exits 127 for ENOENT, else 126), or a negative errno when the gate failed.
 */
int runner__release(struct runner *r);

#endif /* BMT_RUNNER_H */
