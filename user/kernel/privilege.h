/* SPDX-License-Identifier: MIT */
/*
 * privilege - the one module that reads or changes bmtrace's credentials: whom bmtrace acts
 * for (the sudo caller or -u USER), whether it holds the capabilities a mode needs (all the
 * missing ones named in one line), COMMAND's drop to that user with no capability left,
 * serve's drop keeping CAP_BPF alone, and giving files to the user by their descriptor.
 * Nothing else calls capget, capset, prctl, setres*id, setgroups or fchown.
 *
 * Both drops go through one path that states the sets it ends with (permitted and effective
 * exactly the ones kept, inheritable and ambient empty, the bounding set untouched): groups,
 * gids, uids, then capset. Raw system calls, not libcap-ng: that path is as short without
 * it, and COMMAND's drop runs in the child of a threaded process, where a library's hidden
 * per-thread state is one more thing to trust.
 */
#ifndef BMT_PRIVILEGE_H
#define BMT_PRIVILEGE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Whom bmtrace acts for. uid == (uid_t)-1: nobody else, bmtrace itself. */
struct privilege_creds {
	uid_t uid;
	gid_t gid;
	gid_t *groups; /* the supplementary groups, resolved before any fork */
	int ngroups;
	char *name;    /* USER / LOGNAME; NULL for a uid without a passwd entry */
	char *home;    /* HOME */
};

/*
 * SUDO_UID and SUDO_GID as sudo sets them (sudo_gid may be NULL): decimal ids, nothing else.
 * 0 with *uid and *gid ((gid_t)-1 without sudo_gid); -EINVAL with the reason in err.
 */
int privilege__parse_sudo(const char *sudo_uid, const char *sudo_gid, uid_t *uid, gid_t *gid,
			  char *err, size_t errlen);

/*
 * Whom to act for: -u USER (a name or a uid) when user is set; else, when bmtrace runs as
 * uid 0, the sudo caller (SUDO_UID, SUDO_GID, that user's groups; a uid without a passwd
 * entry gets its sudo gid and no groups); else nobody (cr->uid (uid_t)-1). 0, -ENOMEM, or
 * -EINVAL with a reason in err. Free cr with privilege__free, also after a failure.
 */
int privilege__resolve(const char *user, struct privilege_creds *cr, char *err, size_t errlen);
void privilege__free(struct privilege_creds *cr);

/* What a mode needs besides tracing itself; tracefs as the tracer found it. */
struct privilege_need {
	const char *user; /* the other user acted for, by name for the message; NULL: none */
	int switch_user;  /* become it (COMMAND's drop, serve --user): CAP_SETUID, CAP_SETGID */
	int give_files;   /* give it the output files: CAP_CHOWN */
	int serve;        /* serve: CAP_BPF is the one kept after --user; "run it as root" */
	/*
	 * 0 reachable; -EACCES mounted but closed to this process (CAP_DAC_READ_SEARCH);
	 * -ENODEV not mounted (mounting takes CAP_SYS_ADMIN); -ENOENT mounted without the
	 * tracepoint (not a privilege: the tracer says so).
	 */
	int tracefs;
	uid_t euid;       /* named when tracefs is closed to it */
};

/* This process's effective capability set, bit n for capability n; 0 when unreadable. */
uint64_t privilege__effective(void);

/*
 * Every capability in need and not in eff, named in one line in err with what each is for,
 * then what to do: -EPERM; 0 when none is missing. CAP_SYS_ADMIN stands for CAP_BPF and
 * CAP_PERFMON (the kernel's bpf_capable() and perfmon_capable()) except in serve --user,
 * which keeps CAP_BPF itself. Uid 0 alone is not enough: the capabilities are what count.
 */
int privilege__check(uint64_t eff, const struct privilege_need *need, char *err, size_t errlen);

/*
 * In COMMAND's forked child, before exec: become cr (real, effective and saved uid and gid,
 * its groups; USER, LOGNAME and HOME) unless cr->uid is (uid_t)-1, and empty every
 * capability set but the bounding one (effective, permitted, inheritable and ambient), so
 * COMMAND gains nothing at exec from bmtrace's. The bounding set stays: a root COMMAND
 * gets root's, as it would without bmtrace. No allocation, no NSS lookup (the child of a
 * threaded process). 0, or -1 with errno.
 */
int privilege__drop_all(const struct privilege_creds *cr);

/*
 * serve --user: become user (as -u resolves it, with its groups), keeping CAP_BPF alone,
 * permitted and effective (the traced set and counters live in BPF maps, and the kernel
 * refuses bpf(2) to unprivileged users); no inheritable or ambient capability. Threads
 * started before lose every capability. 0, or -errno with a reason in err.
 */
int privilege__keep_bpf(const char *user, char *err, size_t errlen);

/*
 * Give the file open at fd to cr's user and group, through the descriptor (never a path,
 * which could be swapped meanwhile). 0, also when cr->uid is (uid_t)-1; -errno.
 */
int privilege__give_fd(const struct privilege_creds *cr, int fd);

#endif /* BMT_PRIVILEGE_H */
