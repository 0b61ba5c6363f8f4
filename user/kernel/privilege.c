// SPDX-License-Identifier: MIT
/* privilege - whom bmtrace acts for, its capabilities, and dropping them (see privilege.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include "privilege.h"

/* A decimal id, digits only, below (uid_t)-1 (which means "unchanged" to setresuid). */
static int parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	return *end || errno || *out >= (unsigned long)(uid_t)-1 ? -EINVAL : 0;
}

int privilege__parse_sudo(const char *sudo_uid, const char *sudo_gid, uid_t *uid, gid_t *gid,
			  char *err, size_t errlen)
{
	unsigned long id;

	if (parse_id(sudo_uid, &id)) {
		snprintf(err, errlen, "SUDO_UID=%s is not a numeric id; pass -u USER", sudo_uid);
		return -EINVAL;
	}
	*uid = id;
	*gid = (gid_t)-1;
	if (!sudo_gid)
		return 0;
	if (parse_id(sudo_gid, &id)) {
		snprintf(err, errlen, "SUDO_GID=%s is not a numeric id; pass -u USER", sudo_gid);
		return -EINVAL;
	}
	*gid = id;
	return 0;
}

static int fill_from_passwd(const struct passwd *pw, gid_t gid, struct privilege_creds *cr)
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

int privilege__resolve(const char *user, struct privilege_creds *cr, char *err, size_t errlen)
{
	const char *sudo_uid = getenv("SUDO_UID"), *sudo_gid = getenv("SUDO_GID");
	struct passwd *pw;
	unsigned long id;
	uid_t uid;
	gid_t gid;
	int rc;

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
	rc = privilege__parse_sudo(sudo_uid, sudo_gid, &uid, &gid, err, errlen);
	if (rc || !uid)
		return rc; /* sudo from root: nothing to drop */
	pw = getpwuid(uid);
	if (!pw) {
		/* a uid without a passwd entry: drop to it with its sudo gid and no groups */
		cr->uid = uid;
		cr->gid = gid != (gid_t)-1 ? gid : uid;
		return 0;
	}
	return fill_from_passwd(pw, gid != (gid_t)-1 ? gid : pw->pw_gid, cr);
}

void privilege__free(struct privilege_creds *cr)
{
	free(cr->groups);
	free(cr->name);
	free(cr->home);
	memset(cr, 0, sizeof(*cr));
	cr->uid = (uid_t)-1;
}

uint64_t privilege__effective(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = {};

	if (syscall(SYS_capget, &hdr, d))
		return 0;
	return (uint64_t)d[1].effective << 32 | d[0].effective;
}

struct missing {
	const char *cap;
	const char *why; /* the same text for several in a row: said once, after the last */
};

/* "missing capabilities A, B (why), C (why): what to do" */
static int say_missing(const struct missing *m, int n, int serve, char *err, size_t errlen)
{
	size_t len = (size_t)snprintf(err, errlen, "missing capabilit%s ", n > 1 ? "ies" : "y");

	for (int i = 0; i < n && len < errlen; i++) {
		int last = i + 1 == n || m[i + 1].why != m[i].why;

		len += (size_t)snprintf(err + len, errlen - len, "%s%s%s%s%s", m[i].cap,
					last ? " (" : "", last ? m[i].why : "", last ? ")" : "",
					i + 1 < n ? ", " : "");
	}
	if (len < errlen)
		snprintf(err + len, errlen - len, ": %s",
			 serve ? "run it as root" :
				 "run it with sudo, or replay a recorded trace with 'bmtrace report'");
	return -EPERM;
}

static int has(uint64_t set, unsigned int cap)
{
	return !!(set & 1ull << cap);
}

/* Measured on Linux 6.18 with unprivileged_bpf_disabled=2 (README, "Requirements"). */
int privilege__check(uint64_t eff, const struct privilege_need *need, char *err, size_t errlen)
{
	char become[160], give[160], closed[96];
	int n = 0, admin = has(eff, CAP_SYS_ADMIN), other = !!need->user;
	struct missing m[8];

	if (!admin && !has(eff, CAP_BPF))
		m[n++] = (struct missing){ "CAP_BPF", "to load BPF programs" };
	else if (need->serve && other && need->switch_user && !has(eff, CAP_BPF))
		m[n++] = (struct missing){ "CAP_BPF", "the one capability kept after --user" };
	if (!admin && !has(eff, CAP_PERFMON))
		m[n++] = (struct missing){ "CAP_PERFMON", "to attach them to tracepoints" };
	if (need->tracefs == -ENODEV && !admin)
		m[n++] = (struct missing){ "CAP_SYS_ADMIN",
					   "to mount tracefs, which is not mounted" };
	snprintf(closed, sizeof(closed), "to look into /sys/kernel/tracing, closed to uid %u",
		 (unsigned int)need->euid);
	if (need->tracefs == -EACCES)
		m[n++] = (struct missing){ "CAP_DAC_READ_SEARCH", closed };
	snprintf(become, sizeof(become), "to switch to user %s", need->user);
	if (other && need->switch_user && !has(eff, CAP_SETUID))
		m[n++] = (struct missing){ "CAP_SETUID", become };
	if (other && need->switch_user && !has(eff, CAP_SETGID))
		m[n++] = (struct missing){ "CAP_SETGID", become };
	snprintf(give, sizeof(give), "to give %s the output files", need->user);
	if (other && need->give_files && !has(eff, CAP_CHOWN))
		m[n++] = (struct missing){ "CAP_CHOWN", give };
	return n ? say_missing(m, n, need->serve, err, errlen) : 0;
}

/*
 * This thread's capability sets from now on: permitted and effective exactly keep,
 * inheritable and ambient empty; the bounding set as it is. 0 or -1 with errno.
 */
static int set_caps(uint64_t keep)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2] = { { (uint32_t)keep, (uint32_t)keep, 0 },
					       { (uint32_t)(keep >> 32), (uint32_t)(keep >> 32), 0 } };

	if (syscall(SYS_capset, &hdr, d))
		return -1;
	return prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) ? -1 : 0;
}

/*
 * Become cr for good with the capabilities in keep and no other: groups, gids, then uids
 * (PR_SET_KEEPCAPS holds the permitted set across the uid change when keep asks for any;
 * else a uid other than 0 loses it there), then the sets.
 */
static int become(const struct privilege_creds *cr, uint64_t keep)
{
	if (prctl(PR_SET_KEEPCAPS, (unsigned long)(keep != 0), 0, 0, 0) || setgroups(cr->ngroups, cr->groups) ||
	    setresgid(cr->gid, cr->gid, cr->gid) || setresuid(cr->uid, cr->uid, cr->uid) ||
	    set_caps(keep))
		return -1;
	return prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) ? -1 : 0;
}

int privilege__drop_all(const struct privilege_creds *cr)
{
	if (cr->uid == (uid_t)-1)
		return set_caps(0);
	if (become(cr, 0))
		return -1;
	/* what a login as that user would set; nothing else in the environment changes */
	if (cr->name && (setenv("USER", cr->name, 1) || setenv("LOGNAME", cr->name, 1)))
		return -1;
	if (cr->home && setenv("HOME", cr->home, 1))
		return -1;
	return 0;
}

int privilege__keep_bpf(const char *user, char *err, size_t errlen)
{
	struct privilege_creds cr;
	int rc = privilege__resolve(user, &cr, err, errlen);

	if (!rc && become(&cr, 1ull << CAP_BPF)) {
		rc = -errno;
		snprintf(err, errlen, "-u %s: cannot drop privileges: %s", user, strerror(errno));
	} else if (rc == -ENOMEM) {
		snprintf(err, errlen, "out of memory");
	}
	privilege__free(&cr);
	return rc;
}

int privilege__give_fd(const struct privilege_creds *cr, int fd)
{
	if (cr->uid == (uid_t)-1)
		return 0;
	return fchown(fd, cr->uid, cr->gid) ? -errno : 0;
}
