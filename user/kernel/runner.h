/* SPDX-License-Identifier: MIT */
/*
 * runner - start COMMAND held at the gate: forked, privileges dropped, blocked on
 * a pipe until the tracer knows its pid; then released to exec.
 */
#ifndef BMT_RUNNER_H
#define BMT_RUNNER_H

#include <sys/types.h>

struct privilege_creds;

struct runner {
	pid_t pid;
	int gate_fd; /* write end: one byte releases the child */
	int err_fd;  /* read end: the child's exec errno, or EOF once exec succeeded */
};

/*
 * Fork COMMAND held at the gate, as cr with no capability left (privilege__drop_all; a
 * failure there is reported by runner__release as the exec's would be). sigmask is restored
 * in the child before exec (bmtrace blocks the signals it reads through signalfd). 0 or
 * -errno.
 */
int runner__spawn(struct runner *r, char *const argv[], const struct privilege_creds *cr,
		  const void *sigmask);

/*
 * Release the child. Returns 0 once it has exec'd, or the exec's errno (the child then
 * exits 127 for ENOENT, else 126), or a negative errno when the gate failed.
 */
int runner__release(struct runner *r);

#endif /* BMT_RUNNER_H */
