// modules: cgroup util
// SPDX-License-Identifier: MIT
/*
 * cgroup: v1 and v2 file handling on fake trees (a temp directory standing for "/", as
 * $BMTRACE_CGROUP_ROOT makes it): which hierarchy is chosen, where the run's cgroup goes, the
 * limit written, the peak and OOM kills read, and every way it can fail.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cgroup.h"
#include "util.h"

#define TAG 4242

static char root[PATH_MAX];

/* Write ROOT/rel (creating its directories). */
static void put(const char *rel, const char *text)
{
	char path[2 * PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* ROOT/rel's content ("" when missing). */
static char *get(const char *rel)
{
	char path[2 * PATH_MAX];
	char *s;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	s = util_read_file(path, NULL);
	return s ? s : strdup("");
}

static void assert_file(const char *rel, const char *want)
{
	char *s = get(rel);

	assert_string_equal(s, want);
	free(s);
}

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/bmt-cgroup-XXXXXX");
	return mkdtemp(root) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

#define MI_V2 "30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
#define MI_V1 "35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
#define MI_HYBRID                                                                                  \
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"                      \
	"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n" MI_V1               \
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n"

static struct cgroup *create_ok(uint64_t limit, const char *want_path)
{
	char err[256] = "", want[PATH_MAX + 64];
	struct cgroup *cg = NULL;

	assert_int_equal(cgroup__create(root, TAG, limit, &cg, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	snprintf(want, sizeof(want), "%s%s", root, want_path);
	assert_string_equal(cgroup__path(cg), want);
	return cg;
}

/* cgroup__create fails with rc, and its reason contains what. */
static void create_fails(int rc, const char *what)
{
	char err[512] = "";
	struct cgroup *cg = NULL;

	assert_int_equal(cgroup__create(root, TAG, BMT_CGROUP_NONE, &cg, err, sizeof(err)), rc);
	assert_null(cg);
	if (!strstr(err, what))
		fail_msg("reason '%s' does not say '%s'", err, what);
}

/* v2, bmtrace in a leaf: the run's cgroup is its sibling; limit, peak, oom_kill, swap. */
static void test_v2(void **state)
{
	struct bmt_cgroup st;
	struct cgroup *cg;

	put("proc/self/mountinfo", MI_V2);
	put("proc/self/cgroup", "0::/user.slice/session-1.scope\n");
	put("sys/fs/cgroup/user.slice/session-1.scope/cgroup.controllers", "cpu io memory pids\n");
	cg = create_ok(4ull << 30, "/sys/fs/cgroup/user.slice/bmtrace-4242");
	assert_file("sys/fs/cgroup/user.slice/bmtrace-4242/memory.max", "4294967296\n");
	assert_int_equal(cgroup__enter(cg, 777), 0);
	assert_file("sys/fs/cgroup/user.slice/bmtrace-4242/cgroup.procs", "777\n");

	/* the read fails while a file is missing */
	assert_int_equal(cgroup__read(cg, &st), -ENOENT);
	put("sys/fs/cgroup/user.slice/bmtrace-4242/memory.peak", "123456789\n");
	put("sys/fs/cgroup/user.slice/bmtrace-4242/memory.events",
	    "low 0\nhigh 0\nmax 31\noom 2\noom_kill 2\noom_group_kill 0\n");
	assert_int_equal(cgroup__read(cg, &st), 0);
	assert_int_equal(st.version, 2);
	assert_int_equal(st.peak_bytes, 123456789);
	assert_int_equal(st.limit_bytes, 4ull << 30);
	assert_int_equal(st.oom_kills, 2);
	assert_true(st.swap_peak_bytes == BMT_CGROUP_NONE);
	assert_true(st.memsw_peak_bytes == BMT_CGROUP_NONE);
	put("sys/fs/cgroup/user.slice/bmtrace-4242/memory.swap.peak", "8192\n");
	assert_int_equal(cgroup__read(cg, &st), 0);
	assert_int_equal(st.swap_peak_bytes, 8192);
	assert_string_equal(st.path, cgroup__path(cg));
	cgroup__free(cg);
}

/* v2 without a limit writes no memory.max; an oom_kill line missing is an error. */
static void test_v2_no_limit(void **state)
{
	struct bmt_cgroup st;
	struct cgroup *cg;
	struct stat sb;
	char path[2 * PATH_MAX];

	put("proc/self/mountinfo", MI_V2);
	put("proc/self/cgroup", "0::/a\n");
	put("sys/fs/cgroup/a/cgroup.controllers", "memory\n");
	cg = create_ok(BMT_CGROUP_NONE, "/sys/fs/cgroup/bmtrace-4242");
	snprintf(path, sizeof(path), "%s/memory.max", cgroup__path(cg));
	assert_int_equal(stat(path, &sb), -1);
	put("sys/fs/cgroup/bmtrace-4242/memory.peak", "1\n");
	put("sys/fs/cgroup/bmtrace-4242/memory.events", "oom 0\n");
	assert_int_equal(cgroup__read(cg, &st), -ENOENT);
	put("sys/fs/cgroup/bmtrace-4242/memory.peak", "junk\n");
	put("sys/fs/cgroup/bmtrace-4242/memory.events", "oom 0\noom_kill 0\n");
	assert_int_equal(cgroup__read(cg, &st), -EINVAL);
	assert_true(st.limit_bytes == BMT_CGROUP_NONE);
	cgroup__free(cg);
}

/* v2 in the root cgroup: the run's cgroup is the root's child, memory enabled there. */
static void test_v2_root(void **state)
{
	struct cgroup *cg;

	put("proc/self/mountinfo", MI_V2);
	put("proc/self/cgroup", "0::/\n");
	put("sys/fs/cgroup/cgroup.controllers", "cpu memory\n");
	put("sys/fs/cgroup/cgroup.subtree_control", "cpu\n");
	cg = create_ok(BMT_CGROUP_NONE, "/sys/fs/cgroup/bmtrace-4242");
	assert_file("sys/fs/cgroup/cgroup.subtree_control", "+memory");
	cgroup__free(cg);
	/* a stale cgroup of the same name is left alone */
	cg = create_ok(BMT_CGROUP_NONE, "/sys/fs/cgroup/bmtrace-4242.1");
	cgroup__free(cg);
}

/* v2 root without the controller, and no v1: a reason naming it. */
static void test_v2_no_memory(void **state)
{
	put("proc/self/mountinfo", MI_V2);
	put("proc/self/cgroup", "0::/\n");
	put("sys/fs/cgroup/cgroup.controllers", "cpu io\n");
	create_fails(-ENOENT, "has no memory controller");
	put("proc/self/cgroup", "0::/x.slice/y\n");
	put("sys/fs/cgroup/x.slice/y/cgroup.controllers", "cpu io\n");
	create_fails(-ENOENT, "memory controller is not enabled for bmtrace's cgroup /x.slice/y");
}

/* Hybrid (this project's machines): v2 mounted without memory, v1 memory chosen, nested. */
static void test_v1_hybrid(void **state)
{
	struct bmt_cgroup st;
	struct cgroup *cg;
	const char *dir = "sys/fs/cgroup/memory/process_api/abc/bmtrace-4242";
	char rel[256];

	put("proc/self/mountinfo", MI_HYBRID);
	put("proc/self/cgroup", "9:name=systemd:/\n4:memory:/process_api/abc\n1:cpu:/\n0::/\n");
	put("sys/fs/cgroup/unified/cgroup.controllers", "hugetlb\n");
	put("sys/fs/cgroup/memory/process_api/abc/tasks", "");
	cg = create_ok(128ull << 20, "/sys/fs/cgroup/memory/process_api/abc/bmtrace-4242");
	snprintf(rel, sizeof(rel), "%s/memory.limit_in_bytes", dir);
	assert_file(rel, "134217728\n");
	snprintf(rel, sizeof(rel), "%s/memory.max_usage_in_bytes", dir);
	put(rel, "134217728\n");
	snprintf(rel, sizeof(rel), "%s/memory.oom_control", dir);
	put(rel, "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
	assert_int_equal(cgroup__read(cg, &st), 0);
	assert_int_equal(st.version, 1);
	assert_int_equal(st.peak_bytes, 128ull << 20);
	assert_int_equal(st.oom_kills, 1);
	assert_true(st.memsw_peak_bytes == BMT_CGROUP_NONE);
	assert_true(st.swap_peak_bytes == BMT_CGROUP_NONE);
	snprintf(rel, sizeof(rel), "%s/memory.memsw.max_usage_in_bytes", dir);
	put(rel, "134479872\n");
	assert_int_equal(cgroup__read(cg, &st), 0);
	assert_int_equal(st.memsw_peak_bytes, 134479872);
	cgroup__free(cg);
}

/* Both usable: v2 wins. */
static void test_v2_preferred(void **state)
{
	struct cgroup *cg;

	put("proc/self/mountinfo", MI_V1 MI_V2);
	put("proc/self/cgroup", "4:memory:/\n0::/a\n");
	put("sys/fs/cgroup/a/cgroup.controllers", "memory\n");
	cg = create_ok(BMT_CGROUP_NONE, "/sys/fs/cgroup/bmtrace-4242");
	cgroup__free(cg);
}

/* v1 in a container: the mount's root is bmtrace's cgroup's ancestor; escaped mount points. */
static void test_v1_mount_root(void **state)
{
	struct cgroup *cg;

	put("proc/self/mountinfo", "35 31 0:32 /docker/c1 /sys/fs/cgroup/mem\\040ory rw - cgroup "
				   "cgroup rw,memory,nosuid\n");
	put("proc/self/cgroup", "4:cpu,memory:/docker/c1/job\n");
	put("sys/fs/cgroup/mem ory/job/tasks", "");
	cg = create_ok(BMT_CGROUP_NONE, "/sys/fs/cgroup/mem ory/job/bmtrace-4242");
	cgroup__free(cg);
	/* a cgroup outside what is mounted */
	put("proc/self/cgroup", "4:memory:/docker/c10\n");
	create_fails(-ENOENT, "not under its mount");
}

/* No memory controller anywhere, unreadable /proc, a directory that cannot be made. */
static void test_unusable(void **state)
{
	create_fails(-ENOENT, "cannot read");
	put("proc/self/mountinfo", "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n");
	put("proc/self/cgroup", "1:cpu:/\n");
	create_fails(-ENOENT, "no memory cgroup");
	/* v1 mounted but bmtrace's cgroup directory does not exist */
	put("proc/self/mountinfo", MI_V1);
	put("proc/self/cgroup", "4:memory:/gone\n");
	create_fails(-ENOENT, "cannot create a cgroup in");
}

/* Removal: kept while a process is in it, removed once it is empty. */
static void test_remove(void **state)
{
	struct cgroup *cg;
	char path[2 * PATH_MAX];
	struct stat sb;

	put("proc/self/mountinfo", MI_V1);
	put("proc/self/cgroup", "4:memory:/\n");
	put("sys/fs/cgroup/memory/tasks", "");
	cg = create_ok(BMT_CGROUP_NONE, "/sys/fs/cgroup/memory/bmtrace-4242");
	assert_int_equal(cgroup__enter(cg, 99), 0);
	assert_int_equal(cgroup__remove(cg, 30), -EBUSY);
	snprintf(path, sizeof(path), "%s", cgroup__path(cg));
	assert_int_equal(stat(path, &sb), 0);
	put("sys/fs/cgroup/memory/bmtrace-4242/cgroup.procs", "\n");
	/* empty of processes, but a fake tree's files make rmdir fail: said, not hidden */
	assert_int_equal(cgroup__remove(cg, 0), -ENOTEMPTY);
	strcat(path, "/cgroup.procs");
	unlink(path);
	assert_int_equal(cgroup__remove(cg, 0), 0);
	assert_int_equal(stat(cgroup__path(cg), &sb), -1);
	cgroup__free(cg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_v2, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v2_no_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v2_root, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v2_no_memory, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v1_hybrid, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v2_preferred, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_v1_mount_root, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_unusable, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
