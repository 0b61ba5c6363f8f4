// modules: privilege
// SPDX-License-Identifier: MIT
/*
 * privilege: the message naming every missing capability, built from a given effective set
 * and mode; SUDO_UID/SUDO_GID parsed, bad values refused with a reason; -u resolved; the
 * effective set read as /proc says it is. As root, also both drops, in a forked child.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "privilege.h"

#define BIT(cap) (1ull << (cap))
#define TRACE (BIT(CAP_BPF) | BIT(CAP_PERFMON))
#define SUDO_ADVICE ": run it with sudo, or replay a recorded trace with 'bmtrace report'"

/* The check's verdict for eff in need: "" when nothing is missing, else its line. */
static const char *verdict(uint64_t eff, const struct privilege_need *need)
{
	static char err[512];
	int rc;

	strcpy(err, "untouched");
	rc = privilege__check(eff, need, err, sizeof(err));
	if (!rc) {
		assert_string_equal(err, "untouched");
		return "";
	}
	assert_int_equal(rc, -EPERM);
	return err;
}

static void test_check_tracing(void **state)
{
	struct privilege_need need = { .euid = 0 };

	assert_string_equal(verdict(~0ull, &need), "");
	assert_string_equal(verdict(TRACE, &need), "");
	/* the kernel's bpf_capable() and perfmon_capable(): CAP_SYS_ADMIN stands for both */
	assert_string_equal(verdict(BIT(CAP_SYS_ADMIN), &need), "");
	assert_string_equal(verdict(~0ull & ~TRACE & ~BIT(CAP_SYS_ADMIN), &need),
			    "missing capabilities CAP_BPF (to load BPF programs), CAP_PERFMON (to "
			    "attach them to tracepoints)" SUDO_ADVICE);
	assert_string_equal(verdict(BIT(CAP_PERFMON), &need),
			    "missing capability CAP_BPF (to load BPF programs)" SUDO_ADVICE);
	need.tracefs = -ENODEV;
	assert_string_equal(verdict(TRACE, &need),
			    "missing capability CAP_SYS_ADMIN (to mount tracefs, which is not "
			    "mounted)" SUDO_ADVICE);
	assert_string_equal(verdict(BIT(CAP_SYS_ADMIN), &need), "");
	/* mounted without the tracepoint: not a capability, the tracer says so */
	need.tracefs = -ENOENT;
	assert_string_equal(verdict(TRACE, &need), "");
}

/* nobody with nothing, and tracefs closed to it: all three in one line. */
static void test_check_nobody(void **state)
{
	struct privilege_need need = { .tracefs = -EACCES, .euid = 65534 };

	assert_string_equal(verdict(0, &need),
			    "missing capabilities CAP_BPF (to load BPF programs), CAP_PERFMON (to "
			    "attach them to tracepoints), CAP_DAC_READ_SEARCH (to look into "
			    "/sys/kernel/tracing, closed to uid 65534)" SUDO_ADVICE);
	assert_string_equal(verdict(TRACE | BIT(CAP_DAC_READ_SEARCH), &need),
			    "missing capability CAP_DAC_READ_SEARCH (to look into "
			    "/sys/kernel/tracing, closed to uid 65534)" SUDO_ADVICE);
}

/* Under sudo: switching to the user and giving it the files; a shared reason said once. */
static void test_check_user(void **state)
{
	struct privilege_need need = { .user = "nobody", .switch_user = 1, .give_files = 1 };
	uint64_t all = TRACE | BIT(CAP_SETUID) | BIT(CAP_SETGID) | BIT(CAP_CHOWN);

	assert_string_equal(verdict(all, &need), "");
	assert_string_equal(verdict(TRACE, &need),
			    "missing capabilities CAP_SETUID, CAP_SETGID (to switch to user "
			    "nobody), CAP_CHOWN (to give nobody the output files)" SUDO_ADVICE);
	assert_string_equal(verdict(all & ~BIT(CAP_SETGID), &need),
			    "missing capability CAP_SETGID (to switch to user nobody)" SUDO_ADVICE);
	/* -p under sudo: no switch; no output file: nothing to give */
	need.switch_user = 0;
	assert_string_equal(
	    verdict(TRACE, &need),
	    "missing capability CAP_CHOWN (to give nobody the output files)" SUDO_ADVICE);
	need.give_files = 0;
	assert_string_equal(verdict(TRACE, &need), "");
	/* nobody else: neither asked for */
	need = (struct privilege_need){ .switch_user = 1, .give_files = 1 };
	assert_string_equal(verdict(TRACE, &need), "");
}

/* serve --user keeps CAP_BPF itself: CAP_SYS_ADMIN does not stand for it there. */
static void test_check_serve(void **state)
{
	struct privilege_need need = { .user = "nobody", .switch_user = 1, .serve = 1 };
	uint64_t admin = BIT(CAP_SYS_ADMIN) | BIT(CAP_SETUID) | BIT(CAP_SETGID);

	assert_string_equal(
	    verdict(admin, &need),
	    "missing capability CAP_BPF (the one capability kept after --user): run "
	    "it as root");
	assert_string_equal(verdict(admin | BIT(CAP_BPF), &need), "");
	assert_string_equal(
	    verdict(0, &need),
	    "missing capabilities CAP_BPF (to load BPF programs), CAP_PERFMON (to "
	    "attach them to tracepoints), CAP_SETUID, CAP_SETGID (to switch to user "
	    "nobody): run it as root");
	need.user = NULL; /* without --user, CAP_SYS_ADMIN is enough */
	assert_string_equal(verdict(BIT(CAP_SYS_ADMIN), &need), "");
}

/* A short buffer: cut, terminated, still refused. */
static void test_check_short_buffer(void **state)
{
	struct privilege_need need = {
	    .user = "nobody", .switch_user = 1, .give_files = 1, .tracefs = -EACCES, .euid = 65534};
	char err[24];

	memset(err, 'x', sizeof(err));
	assert_int_equal(privilege__check(0, &need, err, sizeof(err)), -EPERM);
	assert_string_equal(err, "missing capabilities CA");
}

static void test_parse_sudo(void **state)
{
	static const struct {
		const char *uid, *gid;
		const char *why;
	} bad[] = {
		{ "abc", "1000", "SUDO_UID=abc is not a numeric id; pass -u USER" },
		{ "", NULL, "SUDO_UID= is not a numeric id; pass -u USER" },
		{ "-1", NULL, "SUDO_UID=-1 is not a numeric id; pass -u USER" },
		{ " 1000", NULL, "SUDO_UID= 1000 is not a numeric id; pass -u USER" },
		{ "+1000", NULL, "SUDO_UID=+1000 is not a numeric id; pass -u USER" },
		{ "1000x", NULL, "SUDO_UID=1000x is not a numeric id; pass -u USER" },
		{ "4294967295", NULL, "SUDO_UID=4294967295 is not a numeric id; pass -u USER" },
		{ "99999999999999999999", NULL,
		  "SUDO_UID=99999999999999999999 is not a numeric id; pass -u USER" },
		{ "1000", "", "SUDO_GID= is not a numeric id; pass -u USER" },
		{ "1000", "staff", "SUDO_GID=staff is not a numeric id; pass -u USER" },
	};
	char err[128];
	uid_t uid;
	gid_t gid;

	assert_int_equal(privilege__parse_sudo("1000", "1001", &uid, &gid, err, sizeof(err)), 0);
	assert_int_equal(uid, 1000);
	assert_int_equal(gid, 1001);
	assert_int_equal(privilege__parse_sudo("0", "0", &uid, &gid, err, sizeof(err)), 0);
	assert_int_equal(uid, 0);
	assert_int_equal(gid, 0);
	assert_int_equal(privilege__parse_sudo("4294967294", NULL, &uid, &gid, err, sizeof(err)),
			 0);
	assert_int_equal(uid, 4294967294u);
	assert_int_equal(gid, (gid_t)-1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(
		    privilege__parse_sudo(bad[i].uid, bad[i].gid, &uid, &gid, err, sizeof(err)),
		    -EINVAL);
		assert_string_equal(err, bad[i].why);
	}
}

/* -u by name and by uid; an unknown name refused; the user's groups resolved up front. */
static void test_resolve_user(void **state)
{
	struct passwd *pw = getpwuid(0);
	struct privilege_creds cr;
	char err[128] = "";
	int in_own = 0;

	assert_non_null(pw);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(privilege__resolve(i ? "0" : pw->pw_name, &cr, err, sizeof(err)),
				 0);
		assert_int_equal(cr.uid, 0);
		assert_int_equal(cr.gid, pw->pw_gid);
		assert_string_equal(cr.name, pw->pw_name);
		assert_string_equal(cr.home, pw->pw_dir);
		assert_true(cr.ngroups >= 1);
		for (int g = 0; g < cr.ngroups; g++)
			in_own |= cr.groups[g] == pw->pw_gid;
		assert_true(in_own);
		privilege__free(&cr);
		assert_int_equal(cr.uid, (uid_t)-1);
	}
	assert_int_equal(privilege__resolve("bmt-no-such-user", &cr, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "-u bmt-no-such-user: no such user");
	assert_int_equal(cr.uid, (uid_t)-1);
	privilege__free(&cr);
}

/* SUDO_UID/SUDO_GID count only for uid 0 (a user cannot make bmtrace act for another). */
static void test_resolve_sudo(void **state)
{
	struct privilege_creds cr;
	char err[128] = "";
	uid_t lone = 54321; /* a uid without a passwd entry */

	setenv("SUDO_UID", "abc", 1);
	setenv("SUDO_GID", "1", 1);
	if (geteuid()) {
		assert_int_equal(privilege__resolve(NULL, &cr, err, sizeof(err)), 0);
		assert_int_equal(cr.uid, (uid_t)-1);
		privilege__free(&cr);
		unsetenv("SUDO_UID");
		unsetenv("SUDO_GID");
		skip();
	}
	assert_int_equal(privilege__resolve(NULL, &cr, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "SUDO_UID=abc is not a numeric id; pass -u USER");
	privilege__free(&cr);
	setenv("SUDO_UID", "0", 1); /* sudo from root: nothing to drop */
	assert_int_equal(privilege__resolve(NULL, &cr, err, sizeof(err)), 0);
	assert_int_equal(cr.uid, (uid_t)-1);
	privilege__free(&cr);
	if (!getpwuid(lone)) {
		setenv("SUDO_UID", "54321", 1);
		setenv("SUDO_GID", "54322", 1);
		assert_int_equal(privilege__resolve(NULL, &cr, err, sizeof(err)), 0);
		assert_int_equal(cr.uid, lone);
		assert_int_equal(cr.gid, 54322);
		assert_int_equal(cr.ngroups, 0);
		assert_null(cr.name);
		privilege__free(&cr);
	}
	unsetenv("SUDO_UID");
	unsetenv("SUDO_GID");
	assert_int_equal(privilege__resolve(NULL, &cr, err, sizeof(err)), 0);
	assert_int_equal(cr.uid, (uid_t)-1);
	privilege__free(&cr);
}

/* The value of "name:" in /proc/self/status, as hex. */
static uint64_t status_hex(const char *name)
{
	char line[256];
	size_t len = strlen(name);
	uint64_t v = ~0ull;
	FILE *f = fopen("/proc/self/status", "r");

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, name, len) && line[len] == ':')
			v = strtoull(line + len + 1, NULL, 16);
	fclose(f);
	return v;
}

static void test_effective(void **state)
{
	assert_int_equal(privilege__effective(), status_hex("CapEff"));
}

/* As root, in a child: run drop (0: privilege__drop_all as nobody, 1: keep_bpf), then check. */
static int dropped_child(int keep_bpf)
{
	struct privilege_creds cr;
	struct passwd *pw = getpwnam("nobody");
	char err[128];
	gid_t groups[8];
	uid_t r, e, s;
	gid_t rg, eg, sg;
	int n, rc;

	if (!pw || privilege__resolve("nobody", &cr, err, sizeof(err)))
		return 2;
	rc = keep_bpf ? privilege__keep_bpf("nobody", err, sizeof(err)) : privilege__drop_all(&cr);
	if (rc || getresuid(&r, &e, &s) || getresgid(&rg, &eg, &sg))
		return 3;
	if (r != pw->pw_uid || e != r || s != r || rg != pw->pw_gid || eg != rg || sg != rg)
		return 4;
	n = getgroups(8, groups);
	if (n != cr.ngroups || (n > 0 && memcmp(groups, cr.groups, n * sizeof(*groups))))
		return 5;
	if (status_hex("CapEff") != (keep_bpf ? BIT(CAP_BPF) : 0) ||
	    status_hex("CapPrm") != (keep_bpf ? BIT(CAP_BPF) : 0) || status_hex("CapInh") ||
	    status_hex("CapAmb") || status_hex("CapBnd") == 0)
		return 6;
	if (!keep_bpf && (strcmp(getenv("USER"), "nobody") || strcmp(getenv("HOME"), pw->pw_dir)))
		return 7;
	return 0;
}

static void test_drops(void **state)
{
	if (geteuid() || !getpwnam("nobody"))
		skip();
	for (int keep_bpf = 0; keep_bpf < 2; keep_bpf++) {
		int st;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (!pid)
			_exit(dropped_child(keep_bpf));
		assert_int_equal(waitpid(pid, &st, 0), pid);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_tracing),      cmocka_unit_test(test_check_nobody),
	    cmocka_unit_test(test_check_user),	       cmocka_unit_test(test_check_serve),
	    cmocka_unit_test(test_check_short_buffer), cmocka_unit_test(test_parse_sudo),
	    cmocka_unit_test(test_resolve_user),       cmocka_unit_test(test_resolve_sudo),
	    cmocka_unit_test(test_effective),	       cmocka_unit_test(test_drops),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
