// SPDX-License-Identifier: MIT
/* runner - start COMMAND held at a gate, as the right user (see runner.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include "runner.h"

static int fill_from_passwd(const struct passwd *pw, gid_t gid, struct runner_creds *cr)
{
	int n = 64;

	cr->uid = pw->pw_uid;
	cr->gid = gid;
	cr->name = strdup(pw->pw_name);
	cr->home = strdup(pw->pw_dir);
	if (!cr->name || !cr->home)
		return -ENOMEM;
	for (;;) {
		gid_t *g = realloc(cr->groups, n * sizeof(*g));

		if (!g)
			return -ENOMEM;
		cr->groups = g;
		if (getgrouplist(pw->pw_name, gid, g, &n) >= 0)
			break;
	}
	cr->ngroups = n;
	return 0;
}

static int parse_id(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	return !*s || *end || errno || *out >= (unsigned long)(uid_t)-1 ? -EINVAL : 0;
}

int runner__resolve_creds(const char *user, struct runner_creds *cr, char *err, size_t errlen)
{
	const char *sudo_uid = getenv("SUDO_UID"), *sudo_gid = getenv("SUDO_GID");
	struct passwd *pw;
	unsigned long id, gid;

	memset(cr, 0, sizeof(*cr));
	cr->uid = (uid_t)-1;
	if (user) {
		pw = parse_id(user, &id) ? getpwnam(user) : getpwuid(id);
		if (!pw) {
			snprintf(err, errlen, "-u %s: no such user", user);
			return -EINVAL;
		}
		return fill_from_passwd(pw, pw->pw_gid, cr);
	}
	if (!sudo_uid || geteuid())
		return 0;
	if (parse_id(sudo_uid, &id) || (sudo_gid && parse_id(sudo_gid, &gid))) {
		snprintf(err, errlen, "SUDO_UID/SUDO_GID are not numeric ids; pass -u USER");
		return -EINVAL;
	}
	if (!id)
		return 0; /* sudo from root: nothing to drop */
	pw = getpwuid(id);
	if (!pw) {
		/* a uid without a passwd entry: drop to it with its sudo gid and no groups */
		cr->uid = id;
		cr->gid = sudo_gid ? gid : id;
		return 0;
	}
	return fill_from_passwd(pw, sudo_gid ? (gid_t)gid : pw->pw_gid, cr);
}

void runner__free_creds(struct runner_creds *cr)
{
	free(cr->groups);
	free(cr->name);
	free(cr->home);
	memset(cr, 0, sizeof(*cr));
	cr->uid = (uid_t)-1;
}

/* In the child: become cr. Only async-signal-safe calls, and setenv (single-threaded). */
static int drop_privileges(const struct runner_creds *cr)
{
	if (cr->uid == (uid_t)-1)
		return 0;
	if (setgroups(cr->ngroups, cr->groups) || setresgid(cr->gid, cr->gid, cr->gid) ||
	    setresuid(cr->uid, cr->uid, cr->uid))
		return -1;
	/* what a login as that user would set; nothing else in the environment changes */
	if (cr->name && (setenv("USER", cr->name, 1) || setenv("LOGNAME", cr->name, 1)))
		return -1;
	if (cr->home && setenv("HOME", cr->home, 1))
		return -1;
	return 0;
}

/*
 * In the child: empty the ambient and inheritable capability sets, so COMMAND gains no
 * capability at exec from bmtrace's (a bmtrace given CAP_BPF, CAP_PERFMON and
 * CAP_DAC_READ_SEARCH as ambient capabilities of a user would pass them all on). A
 * root COMMAND still gets root's bounding set at exec, as it would without bmtrace.
 */
static int clear_inherited_caps(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return -1;
	if (syscall(SYS_capget, &hdr, d))
		return -1;
	d[0].inheritable = d[1].inheritable = 0;
	return syscall(SYS_capset, &hdr, d) ? -1 : 0;
}

static void child(int gate, int errw, char *const argv[], const struct runner_creds *cr,
		  const sigset_t *mask)
{
	int e = 0;
	char c;

	sigprocmask(SIG_SETMASK, mask, NULL);
	if (drop_privileges(cr) || clear_inherited_caps())
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

int runner__spawn(struct runner *r, char *const argv[], const struct runner_creds *cr,
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
