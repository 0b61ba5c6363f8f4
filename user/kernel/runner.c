// SPDX-License-Identifier: MIT
/* runner - start COMMAND held at a gate, as the right user (see runner.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>
#include "privilege.h"
#include "runner.h"

static void child(int gate, int errw, char *const argv[], const struct privilege_creds *cr,
		  const sigset_t *mask)
{
	int e = 0;
	char c;

	sigprocmask(SIG_SETMASK, mask, NULL);
	if (privilege__drop_all(cr))
		e = errno;
	/* held here until the tracer follows this pid; EOF means bmtrace gave up */
	if (read(gate, &c, 1) != 1)
		_exit(125);
	close(gate);
	if (!e) {
		execvp(argv[0], argv);
		e = errno;
	}
	if (write(errw, &e, sizeof(e)) < 0) {
		/* nothing left to tell anyone */
	}
	_exit(e == ENOENT ? 127 : 126);
}

int runner__spawn(struct runner *r, char *const argv[], const struct privilege_creds *cr,
		  const void *sigmask)
{
	int gate[2], errp[2];

	if (pipe2(gate, O_CLOEXEC))
		return -errno;
	if (pipe2(errp, O_CLOEXEC)) {
		close(gate[0]);
		close(gate[1]);
		return -errno;
	}
	r->pid = fork();
	if (r->pid < 0) {
		int e = errno;

		close(gate[0]);
		close(gate[1]);
		close(errp[0]);
		close(errp[1]);
		return -e;
	}
	if (!r->pid) {
		close(gate[1]);
		close(errp[0]);
		child(gate[0], errp[1], argv, cr, sigmask);
	}
	close(gate[0]);
	close(errp[1]);
	r->gate_fd = gate[1];
	r->err_fd = errp[0];
	return 0;
}

int runner__release(struct runner *r)
{
	int e = 0;
	ssize_t n;

	n = write(r->gate_fd, "", 1);
	close(r->gate_fd);
	r->gate_fd = -1;
	if (n != 1) {
		close(r->err_fd);
		return -EPIPE;
	}
	do
		n = read(r->err_fd, &e, sizeof(e));
	while (n < 0 && errno == EINTR);
	close(r->err_fd);
	r->err_fd = -1;
	return n == sizeof(e) ? e : 0;
}
