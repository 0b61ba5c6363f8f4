// SPDX-License-Identifier: MIT
/*
 * Integration tests: the real bmtrace binary ($BMTRACE) traces the real workload
 * ($WORKLOADS/memhog, tests/workloads/memhog.c) and its JSON result is checked against
 * what the workload is known to hold (shared/design/accounting.md) and against /proc.
 * Tracing tests need root and BTF and skip otherwise; the recorded-fixture tests run
 * anywhere.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"

/*
 * Tolerance of the accounting cases, in MiB: the touched memory is resident for certain,
 * so a result may be at most LOW_SLACK under the expected value; on top of it come each
 * process's binary, libc, stack and page-table pages (1-2 MiB per process measured in
 * /proc, per process again in the raw sum), so it may be up to HIGH_SLACK over it. A
 * phantom (a fork child counted in full) is 100 MiB or more off in every case.
 */
#define LOW_SLACK  4.0
#define HIGH_SLACK 24.0
/* A process's own row at the peak: its touched memory plus its binary and libc. */
#define ROW_LOW_SLACK  2.0
#define ROW_HIGH_SLACK 12.0
/* bmtrace against /proc at the same instant: both read the same kernel counters. */
#define ORACLE_REL 0.01

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})

/* Run bmtrace with args; the exit status as a shell reports it, stderr shown on surprise. */
static int bmtrace(struct itest_ctx *ctx, char *const argv[], char *const env[], int want)
{
	int rc = itest_run(ctx, argv, env);

	if (rc != want) {
		fprintf(stderr, "  bmtrace exited %d, want %d\n", rc, want);
		itest_dump_err(ctx, "bmtrace");
	}
	return rc;
}

static cJSON *load_result(const char *path)
{
	cJSON *j = itest_load_json(path);

	if (!j)
		fail_msg("no valid JSON result at %s", path);
	return j;
}

/* Every process is in exactly one row of list: their `field`s add up to the peak. */
static void expect_sum_is_peak(const cJSON *j, const char *list, const char *field)
{
	const cJSON *rows = itest_jget(j, list), *row;
	double sum = 0;

	if (!cJSON_IsArray(rows))
		fail_msg("%s is not an array", list);
	for (row = rows->child; row; row = row->next)
		sum += itest_jnum(row, field);
	if (sum != itest_jnum(j, "peak.bytes"))
		fail_msg("%s[].%s add up to %.0f, peak.bytes is %.0f", list, field, sum,
			 itest_jnum(j, "peak.bytes"));
}

/* The invariants of every result: no lost events, the peak's parts add up to the peak. */
static void check_result_invariants(const cJSON *j)
{
	assert_int_equal(itest_jnum(j, "schema"), 1);
	assert_int_equal(itest_jnum(j, "lost_events"), 0);
	expect_sum_is_peak(j, "peak.processes", "bytes");
	expect_sum_is_peak(j, "stages", "bytes_at_peak");
	expect_sum_is_peak(j, "commands", "bytes_at_peak");
	assert_true(itest_jnum(j, "raw_sum_peak.bytes") >= itest_jnum(j, "peak.bytes"));
	assert_true(itest_jnum(j, "anon_peak.bytes") <= itest_jnum(j, "peak.bytes"));
}

static const cJSON *row_of_pid(const cJSON *j, pid_t pid)
{
	const cJSON *rows = itest_jget(j, "peak.processes"), *row;

	for (row = rows ? rows->child : NULL; row; row = row->next)
		if (itest_jnum(row, "pid") == pid)
			return row;
	return NULL;
}

/* ---- 1. the cases of accounting.md ---- */

struct acase {
	char *args[6];	  /* memhog's arguments */
	double tree, raw; /* expected peaks, MiB */
	int nproc;	  /* processes at the peak, 0: not checked (cow's child adds ~0) */
	double rows[2];	  /* expected contributions of the two largest rows, MiB, 0: none */
};

/* clang-format off */
static const struct acase cases[] = {
	/* the skc/clang case: the fork child's copy of 300 MiB is not memory */
	{ { "forkexec", "300", "100" }, 400, 600, 2, { 300, 100 } },
	{ { "spawn", "300", "100" }, 400, 400, 2, { 300, 100 } },
	{ { "vfork", "300", "100" }, 400, 400, 2, { 300, 100 } },
	/* the exec'ed program's 100 MiB comes after the 300 MiB are gone */
	{ { "execinto", "300", "100" }, 300, 300, 1, { 300, 0 } },
	{ { "threads", "8", "50" }, 400, 400, 1, { 400, 0 } },
	/* COW breaks change no counter: invisible to the tree, visible in the raw sum */
	{ { "cow", "300" }, 300, 600, 0, { 300, 0 } },
	/*
	 * 1 + 3 + 9 processes of 10 MiB, each touched after its forks: nothing big is
	 * inherited. Each also maps its ~1 MiB of binary and libc again after the fork (fork
	 * copies no page tables of shared file mappings): ~143 MiB here, within the slack.
	 */
	{ { "tree", "2", "3", "10" }, 130, 130, 13, { 10, 10 } },
};
/* clang-format on */

static void run_case(struct itest_ctx *ctx, const struct acase *c)
{
	const char *json = itest_path(ctx, "result.json");
	char *argv[16] = {(char *)itest.bmtrace, "--json", (char *)json, "--", itest.memhog};
	const cJSON *rows;
	cJSON *j;
	int i, n = 5;

	for (i = 0; c->args[i]; i++)
		argv[n++] = c->args[i];
	argv[n] = NULL;
	assert_int_equal(bmtrace(ctx, argv, NULL, 0), 0);
	j = load_result(json);
	check_result_invariants(j);
	assert_int_equal(itest_jnum(j, "exit_code"), 0);
	itest_expect_mib("tree peak", itest_jnum(j, "peak.bytes"), c->tree - LOW_SLACK,
			 c->tree + HIGH_SLACK);
	itest_expect_mib("raw sum peak", itest_jnum(j, "raw_sum_peak.bytes"), c->raw - LOW_SLACK,
			 c->raw + HIGH_SLACK);
	itest_expect_mib("anon peak", itest_jnum(j, "anon_peak.bytes"), c->tree - LOW_SLACK,
			 c->tree + HIGH_SLACK);
	rows = itest_jget(j, "peak.processes");
	if (c->nproc)
		assert_int_equal(cJSON_GetArraySize(rows), c->nproc);
	for (i = 0; i < 2 && c->rows[i]; i++) {
		const cJSON *row = cJSON_GetArrayItem(rows, i);
		char what[64];

		assert_non_null(row);
		snprintf(what, sizeof(what), "peak row %d (pid %.0f)", i, itest_jnum(row, "pid"));
		itest_expect_mib(what, itest_jnum(row, "bytes"), c->rows[i] - ROW_LOW_SLACK,
				 c->rows[i] + ROW_HIGH_SLACK);
	}
	assert_true(itest_jnum(j, "processes_total") >= (c->nproc ? c->nproc : 1));
	cJSON_Delete(j);
}

static void test_accounting_case(void **state)
{
	struct itest_ctx *ctx = *state;

	itest_need_root();
	run_case(ctx, ctx->param);
}

/* ---- 3. a 20 ms spike: a 150 ms sampler misses it, bmtrace must not ---- */

static void test_spike(void **state)
{
	static const struct acase spike = {{"spike", "100", "300", "20"}, 400, 500, 2, {300, 100}};
	struct itest_ctx *ctx = *state;

	itest_need_root();
	/* run_case's lower bound (396 MiB) is stricter than the 390 MiB the spike needs */
	run_case(ctx, &spike);
}

/* ---- 2. the /proc oracle: bmtrace's peak is what /proc shows at the peak ---- */

static void expect_near(const char *what, double got, double want, double rel)
{
	int ok = got - want <= rel * want && want - got <= rel * want;

	fprintf(stderr, "  %-40s %12.0f B, /proc %12.0f B (%+.3f%%) %s\n", what, got, want,
		want ? 100.0 * (got - want) / want : 0.0, ok ? "ok" : "FAIL");
	if (!ok)
		fail_msg("%s: bmtrace %.0f, /proc %.0f: more than %.1f%% apart", what, got, want,
			 100 * rel);
}

static void test_proc_oracle(void **state)
{
	struct itest_ctx *ctx = *state;
	const char *json = itest_path(ctx, "result.json");
	uint64_t rss[ITEST_MAX_PIDS], sum = 0;
	pid_t pids[ITEST_MAX_PIDS], bmt;
	cJSON *j;
	int i, n;

	itest_need_root();
	bmt = itest_start(ctx,
			  ARGV((char *)itest.bmtrace, "--json", (char *)json, "--", itest.memhog,
			       "spawn", "200", "100"),
			  itest_oracle_env(ctx));
	n = itest_wait_peak(ctx, pids, ITEST_MAX_PIDS, bmt);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		rss[i] = itest_proc_rss(pids[i]);
		sum += rss[i];
	}
	assert_int_equal(itest_release(ctx), 0);
	assert_int_equal(itest_wait(ctx, bmt, ITEST_TIMEOUT_S), 0);
	j = load_result(json);
	check_result_invariants(j);
	expect_near("tree peak vs sum of /proc RSS", itest_jnum(j, "peak.bytes"), sum, ORACLE_REL);
	for (i = 0; i < n; i++) {
		const cJSON *row = row_of_pid(j, pids[i]);
		char what[64];

		if (!row)
			fail_msg("pid %d (alive at the peak) has no row in peak.processes",
				 (int)pids[i]);
		snprintf(what, sizeof(what), "peak row of pid %d", (int)pids[i]);
		expect_near(what, itest_jnum(row, "bytes"), rss[i], ORACLE_REL);
	}
	cJSON_Delete(j);
}

/* ---- 4. exit status pass-through ---- */

static void test_exit_code(void **state)
{
	struct itest_ctx *ctx = *state;
	const char *json = itest_path(ctx, "result.json");
	cJSON *j;

	itest_need_root();
	assert_int_equal(bmtrace(ctx,
				 ARGV((char *)itest.bmtrace, "--json", (char *)json, "--",
				      itest.memhog, "exit", "3"),
				 NULL, 3),
			 3);
	j = load_result(json);
	assert_int_equal(itest_jnum(j, "exit_code"), 3);
	assert_true(cJSON_IsNull(itest_jget(j, "signal")));
	cJSON_Delete(j);
}

static void test_killed_by_signal(void **state)
{
	struct itest_ctx *ctx = *state;
	const char *json = itest_path(ctx, "result.json");
	cJSON *j;

	itest_need_root();
	assert_int_equal(bmtrace(ctx,
				 ARGV((char *)itest.bmtrace, "--json", (char *)json, "--",
				      itest.memhog, "kill", "9"),
				 NULL, 137),
			 137);
	j = load_result(json);
	assert_int_equal(itest_jnum(j, "signal"), 9);
	/* no exit code when a signal ended the command */
	if (!cJSON_IsNull(itest_jget(j, "exit_code"))) {
		char *v = cJSON_PrintUnformatted(itest_jget(j, "exit_code"));

		fail_msg("exit_code is %s, want null: a signal ended the command",
			 v ? v : "missing");
	}
	cJSON_Delete(j);
}

static void test_command_not_found(void **state)
{
	struct itest_ctx *ctx = *state;

	itest_need_root();
	assert_int_equal(
	    bmtrace(ctx, ARGV((char *)itest.bmtrace, "--", "/nonexistent/bmtrace-itest-cmd"), NULL,
		    127),
	    127);
	assert_int_equal(bmtrace(ctx,
				 ARGV((char *)itest.bmtrace, "--", "bmtrace-itest-no-such-command"),
				 NULL, 127),
			 127);
}

static void test_command_not_executable(void **state)
{
	struct itest_ctx *ctx = *state;
	const char *file = itest_path(ctx, "not-executable");

	itest_need_root();
	assert_int_equal(itest_spit(file, "#!/bin/sh\nexit 0\n", 17), 0);
	assert_int_equal(chmod(file, 0644), 0);
	assert_int_equal(bmtrace(ctx, ARGV((char *)itest.bmtrace, "--", (char *)file), NULL, 126),
			 126);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Needs no root: a bad option is refused before anything is traced. */
static void test_bad_option(void **state)
{
	struct itest_ctx *ctx = *state;
	char *err;

	assert_int_equal(
	    bmtrace(ctx, ARGV((char *)itest.bmtrace, "--no-such-option", "--", "true"), NULL, 125),
	    125);
	err = itest_slurp(ctx->err, NULL);
	assert_non_null(err);
	fprintf(stderr, "  stderr: %s", err);
	if (count_lines(err) != 1 || err[0] == '\n')
		fail_msg("want one line on stderr, got %d: %s", count_lines(err), err);
	free(err);
}

/* ---- 5. -p PID: attach to a running tree ---- */

#define PID_EXIT_S 10 /* bmtrace -p ends this soon after its process ended */

/*
 * bmtrace -p is ready once its BPF programs are attached (perf-event or bpf-link fds)
 * and it had a moment to seed the tree from /proc. 0, or -1 when it ended first.
 */
static int wait_attached(pid_t bmt)
{
	char dir[64], path[PATH_MAX], target[256];
	int tries;

	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)bmt);
	for (tries = 0; tries < ITEST_TIMEOUT_S * 100; tries++) {
		struct dirent *e;
		int attached = 0;
		DIR *d = opendir(dir);

		if (!d)
			return -1;
		while ((e = readdir(d)) && !attached) {
			ssize_t n;

			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			n = readlink(path, target, sizeof(target) - 1);
			if (n < 0)
				continue;
			target[n] = '\0';
			attached = strstr(target, "bpf_link") || strstr(target, "perf_event");
		}
		closedir(d);
		if (attached) {
			usleep(1000 * 1000);
			return kill(bmt, 0);
		}
		usleep(10 * 1000);
	}
	return -1;
}

static void test_attach_pid(void **state)
{
	struct itest_ctx *ctx = *state;
	const char *json = itest_path(ctx, "result.json");
	pid_t pids[ITEST_MAX_PIDS], work, bmt;
	char pidstr[16];
	cJSON *j;
	int rc;

	itest_need_root();
	work = itest_start(ctx, ARGV(itest.memhog, "hold", "200"), itest_oracle_env(ctx));
	assert_int_equal(itest_wait_peak(ctx, pids, ITEST_MAX_PIDS, work), 1);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)work);
	bmt = itest_start(ctx, ARGV((char *)itest.bmtrace, "-p", pidstr, "--json", (char *)json),
			  NULL);
	assert_int_equal(wait_attached(bmt), 0);
	/* from here the workload touches nothing: all bmtrace knows is the /proc seed */
	assert_int_equal(itest_release(ctx), 0);
	assert_int_equal(itest_wait(ctx, work, ITEST_TIMEOUT_S), 0);
	rc = itest_wait(ctx, bmt, PID_EXIT_S);
	if (rc < 0 || rc >= 125)
		itest_dump_err(ctx, "bmtrace -p");
	assert_true(rc >= 0 && rc < 125);
	j = load_result(json);
	check_result_invariants(j);
	itest_expect_mib("tree peak (seeded at attach)", itest_jnum(j, "peak.bytes"), 195,
			 200 + HIGH_SLACK);
	cJSON_Delete(j);
}

static void test_attach_pid_then_allocate(void **state)
{
	struct itest_ctx *ctx = *state;
	const char *json = itest_path(ctx, "result.json");
	pid_t pids[ITEST_MAX_PIDS], work, bmt;
	char pidstr[16];
	uint64_t rss;
	cJSON *j;
	int rc;

	itest_need_root();
	/* memhog late: waits once before touching anything, once more at its peak */
	work = itest_start(ctx, ARGV(itest.memhog, "late", "100"), itest_oracle_env(ctx));
	assert_int_equal(itest_wait_peak(ctx, pids, ITEST_MAX_PIDS, work), 1);
	snprintf(pidstr, sizeof(pidstr), "%d", (int)work);
	bmt = itest_start(ctx, ARGV((char *)itest.bmtrace, "-p", pidstr, "--json", (char *)json),
			  NULL);
	assert_int_equal(wait_attached(bmt), 0);
	assert_int_equal(itest_release(ctx), 0);
	assert_int_equal(itest_wait_peak(ctx, pids, ITEST_MAX_PIDS, work), 1);
	rss = itest_proc_rss(work);
	assert_int_equal(itest_release(ctx), 0);
	assert_int_equal(itest_wait(ctx, work, ITEST_TIMEOUT_S), 0);
	rc = itest_wait(ctx, bmt, PID_EXIT_S);
	if (rc < 0 || rc >= 125)
		itest_dump_err(ctx, "bmtrace -p");
	assert_true(rc >= 0 && rc < 125);
	j = load_result(json);
	check_result_invariants(j);
	itest_expect_mib("tree peak (allocated after attach)", itest_jnum(j, "peak.bytes"),
			 100 - LOW_SLACK, 100 + HIGH_SLACK);
	expect_near("tree peak vs /proc at the peak", itest_jnum(j, "peak.bytes"), rss, ORACLE_REL);
	cJSON_Delete(j);
}

/* ---- 6. privilege drop: files the command creates belong to the user ---- */

static void expect_owner(const char *file, const struct passwd *pw)
{
	struct stat st;

	if (stat(file, &st))
		fail_msg("%s was not created: %s", file, strerror(errno));
	fprintf(stderr, "  %s owned by %u:%u, want %u:%u\n", file, st.st_uid, st.st_gid, pw->pw_uid,
		pw->pw_gid);
	assert_int_equal(st.st_uid, pw->pw_uid);
	assert_int_equal(st.st_gid, pw->pw_gid);
}

static void test_privilege_drop(void **state)
{
	struct itest_ctx *ctx = *state;
	const struct passwd *pw = getpwnam("nobody");
	char sudo_uid[32], sudo_gid[32];
	char *sudo_env[] = {sudo_uid, sudo_gid, "SUDO_USER=nobody", NULL};
	/* a copy of memhog that nobody can run, in a directory nobody can write */
	char *memhog = strdup(itest_path(ctx, "memhog"));
	char *out = strdup(itest_path(ctx, "out"));
	char *f1 = strdup(itest_path(ctx, "out/by-user-option"));
	char *f2 = strdup(itest_path(ctx, "out/by-sudo-env"));
	size_t len;
	char *bin;

	itest_need_root();
	assert_non_null(pw);
	bin = itest_slurp(itest.memhog, &len);
	assert_non_null(bin);
	assert_int_equal(itest_spit(memhog, bin, len), 0);
	free(bin);
	assert_int_equal(chmod(memhog, 0755), 0);
	assert_int_equal(chmod(ctx->dir, 0755), 0);
	assert_int_equal(mkdir(out, 0777), 0);
	assert_int_equal(chmod(out, 0777), 0);

	assert_int_equal(
	    bmtrace(ctx, ARGV((char *)itest.bmtrace, "-u", "nobody", "--", memhog, "touchfile", f1),
		    NULL, 0),
	    0);
	expect_owner(f1, pw);

	/* under sudo, the invoking user is the default */
	snprintf(sudo_uid, sizeof(sudo_uid), "SUDO_UID=%u", pw->pw_uid);
	snprintf(sudo_gid, sizeof(sudo_gid), "SUDO_GID=%u", pw->pw_gid);
	assert_int_equal(
	    bmtrace(ctx, ARGV((char *)itest.bmtrace, "--", memhog, "touchfile", f2), sudo_env, 0),
	    0);
	expect_owner(f2, pw);
	free(memhog);
	free(out);
	free(f1);
	free(f2);
}

/* ---- 7. record, then report: the same result ---- */

static void expect_same_bytes(const char *a, const char *b)
{
	size_t la, lb, i;
	char *sa = itest_slurp(a, &la), *sb = itest_slurp(b, &lb);

	assert_non_null(sa);
	assert_non_null(sb);
	for (i = 0; i < la && i < lb && sa[i] == sb[i]; i++)
		;
	if (la != lb || i < la)
		fail_msg("%s and %s differ at byte %zu: \"%.40s\" vs \"%.40s\"", a, b, i, sa + i,
			 sb + i);
	free(sa);
	free(sb);
}

static void test_record_report(void **state)
{
	struct itest_ctx *ctx = *state;
	char *trace = strdup(itest_path(ctx, "t.bmt"));
	char *live = strdup(itest_path(ctx, "live.json"));
	char *replay = strdup(itest_path(ctx, "replay.json"));
	struct stat st;

	itest_need_root();
	assert_int_equal(bmtrace(ctx,
				 ARGV((char *)itest.bmtrace, "-w", trace, "--json", live, "--",
				      itest.memhog, "forkexec", "100", "50"),
				 NULL, 0),
			 0);
	assert_int_equal(stat(trace, &st), 0);
	fprintf(stderr, "  trace: %lld bytes\n", (long long)st.st_size);
	assert_int_equal(
	    bmtrace(ctx, ARGV((char *)itest.bmtrace, "report", trace, "--json", replay), NULL, 0),
	    0);
	expect_same_bytes(live, replay);
	free(trace);
	free(live);
	free(replay);
}

/* Drop the fields that may differ between the bmtrace that recorded and this one. */
static void drop_version(cJSON *j)
{
	cJSON_DeleteItemFromObjectCaseSensitive(j, "bmtrace_version");
}

static void print_json_leaf(const cJSON *a, const cJSON *b, const char *path)
{
	char *sa = a ? cJSON_PrintUnformatted(a) : NULL;
	char *sb = b ? cJSON_PrintUnformatted(b) : NULL;

	fprintf(stderr, "  differs at %s: committed %.200s, now %.200s\n", path,
		sa ? sa : "(missing)", sb ? sb : "(missing)");
	free(sa);
	free(sb);
}

/* Print the first path where two JSON values differ, to explain a failure. */
static void print_json_diff(const cJSON *a, const cJSON *b, const char *path)
{
	const cJSON *ca, *cb;
	char sub[512];
	int i = 0;

	if (!a || !b || a->type != b->type || !(cJSON_IsObject(a) || cJSON_IsArray(a)) ||
	    cJSON_GetArraySize(a) != cJSON_GetArraySize(b)) {
		print_json_leaf(a, b, path);
		return;
	}
	for (ca = a->child; ca; ca = ca->next, i++) {
		if (cJSON_IsObject(a)) {
			cb = cJSON_GetObjectItemCaseSensitive(b, ca->string);
			snprintf(sub, sizeof(sub), "%s.%s", path, ca->string);
		} else {
			cb = cJSON_GetArrayItem(b, i);
			snprintf(sub, sizeof(sub), "%s[%d]", path, i);
		}
		if (!cJSON_Compare(ca, cb, 1)) {
			print_json_diff(ca, cb, sub);
			return;
		}
	}
}

/* Needs no root: a committed trace replays to its committed result. */
static void test_fixture_report(void **state)
{
	struct itest_ctx *ctx = *state;
	char trace[PATH_MAX + 32], want_path[PATH_MAX + 32];
	const char *json = itest_path(ctx, "replay.json");
	cJSON *want, *got;

	snprintf(trace, sizeof(trace), "%s/forkexec.bmt", itest.fixtures);
	snprintf(want_path, sizeof(want_path), "%s/forkexec.json", itest.fixtures);
	assert_int_equal(
	    bmtrace(ctx, ARGV((char *)itest.bmtrace, "report", trace, "--json", (char *)json), NULL,
		    0),
	    0);
	want = load_result(want_path);
	got = load_result(json);
	drop_version(want);
	drop_version(got);
	if (!cJSON_Compare(want, got, 1)) {
		print_json_diff(want, got, "$");
		fail_msg("bmtrace report %s differs from %s", trace, want_path);
	}
	cJSON_Delete(want);
	cJSON_Delete(got);
}

static void test_fixture_truncated(void **state)
{
	struct itest_ctx *ctx = *state;
	const char *cut = itest_path(ctx, "truncated.bmt");
	char trace[PATH_MAX + 32];
	size_t len;
	char *buf, *err;

	snprintf(trace, sizeof(trace), "%s/forkexec.bmt", itest.fixtures);
	buf = itest_slurp(trace, &len);
	if (!buf)
		fail_msg("cannot read the fixture %s", trace);
	assert_int_equal(itest_spit(cut, buf, len / 2), 0);
	free(buf);
	assert_int_equal(bmtrace(ctx,
				 ARGV((char *)itest.bmtrace, "report", (char *)cut, "--json",
				      (char *)itest_path(ctx, "x.json")),
				 NULL, 125),
			 125);
	err = itest_slurp(ctx->err, NULL);
	assert_non_null(err);
	fprintf(stderr, "  stderr: %s", err);
	if (!strstr(err, "truncated"))
		fail_msg("want an error mentioning \"truncated\", got: %s", err);
	free(err);
}

/* ---- 8. Ctrl-C: bmtrace forwards SIGINT, reports, exits 130 ---- */

static void test_ctrl_c(void **state)
{
	struct itest_ctx *ctx = *state;
	const char *json = itest_path(ctx, "result.json");
	pid_t pids[ITEST_MAX_PIDS], bmt;
	cJSON *j;
	int rc;

	itest_need_root();
	bmt = itest_start(
	    ctx,
	    ARGV((char *)itest.bmtrace, "--json", (char *)json, "--", itest.memhog, "hold", "100"),
	    itest_oracle_env(ctx));
	assert_int_equal(itest_wait_peak(ctx, pids, ITEST_MAX_PIDS, bmt), 1);
	/* to bmtrace alone, not its process group: bmtrace must forward it */
	assert_int_equal(kill(bmt, SIGINT), 0);
	rc = itest_wait(ctx, bmt, ITEST_TIMEOUT_S);
	if (rc != 130)
		itest_dump_err(ctx, "bmtrace");
	assert_int_equal(rc, 130);
	j = load_result(json);
	check_result_invariants(j);
	assert_int_equal(itest_jnum(j, "signal"), SIGINT);
	itest_expect_mib("tree peak before Ctrl-C", itest_jnum(j, "peak.bytes"), 100 - LOW_SLACK,
			 100 + HIGH_SLACK);
	cJSON_Delete(j);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, itest_setup, itest_teardown)
#define CASE(i, name)                                                                              \
	{                                                                                          \
		name, test_accounting_case, itest_setup, itest_teardown, (void *)&cases[i]         \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    CASE(0, "forkexec 300 100"),
	    CASE(1, "spawn 300 100"),
	    CASE(2, "vfork 300 100"),
	    CASE(3, "execinto 300 100"),
	    CASE(4, "threads 8 50"),
	    CASE(5, "cow 300"),
	    CASE(6, "tree 2 3 10"),
	    TEST(test_spike),
	    TEST(test_proc_oracle),
	    TEST(test_exit_code),
	    TEST(test_killed_by_signal),
	    TEST(test_command_not_found),
	    TEST(test_command_not_executable),
	    TEST(test_bad_option),
	    TEST(test_attach_pid),
	    TEST(test_attach_pid_then_allocate),
	    TEST(test_privilege_drop),
	    TEST(test_record_report),
	    TEST(test_fixture_report),
	    TEST(test_fixture_truncated),
	    TEST(test_ctrl_c),
	};

	if (itest_init())
		return 2;
	if (!itest.privileged)
		printf("SKIP: integration tests need root and BTF (%s); only the tests of "
		       "recorded traces run\n",
		       geteuid() ? "not root" : "no /sys/kernel/btf/vmlinux");
	return cmocka_run_group_tests_name("integration", tests, NULL, NULL);
}
