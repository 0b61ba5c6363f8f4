// SPDX-License-Identifier: MIT
/*
 * Integration tests: the real bmtrace binary ($BMTRACE) traces the real workload
 * ($WORKLOADS/memhog, tests/workloads/memhog.c) and its JSON result is checked against
 * what the workload is known to hold (README, "What is measured") and against /proc.
 * Tracing tests need root and BTF and skip otherwise; the tests of a recorded trace
 * (tests/fixtures) and of option parsing run anywhere.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <linux/bpf.h>
#include <sys/syscall.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"
#include "reports.h"
#include "counters.h"

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
/* bmtrace -p ends this soon after its process ended. */
#define PID_EXIT_S 10

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Start bmtrace with these arguments (and env, NULL-ended, may be NULL); its pid. */
#define START_BMTRACE(ctx, env, ...) itest_start(ctx, ARGV(itest.bmtrace, __VA_ARGS__), env)

/* Run bmtrace with these arguments; fail unless it exits `want`. */
#define BMTRACE(ctx, env, want, ...)                                                               \
	expect_status(ctx, START_BMTRACE(ctx, env, __VA_ARGS__), ITEST_TIMEOUT_S, want)

/* Wait for bmtrace; fail, showing its stderr, unless it exits `want`. */
static void expect_status(struct itest_ctx *ctx, pid_t pid, int timeout_s, int want)
{
	int rc = itest_wait(ctx, pid, timeout_s);

	if (rc != want) {
		itest_dump_err(ctx, "bmtrace");
		fail_msg("bmtrace exited %d, want %d", rc, want);
	}
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

static void expect_near(const char *what, double got, double want, double rel)
{
	int ok = got - want <= rel * want && want - got <= rel * want;

	fprintf(stderr, "  %-40s %12.0f B, /proc %12.0f B (%+.3f%%) %s\n", what, got, want,
		want ? 100.0 * (got - want) / want : 0.0, ok ? "ok" : "FAIL");
	if (!ok)
		fail_msg("%s: bmtrace %.0f, /proc %.0f: more than %.1f%% apart", what, got, want,
			 100 * rel);
}

/* Fail unless the stderr of the last program run is one line containing `needle`. */
static void expect_one_error_line(struct itest_ctx *ctx, const char *needle)
{
	char *err = itest_slurp(ctx->err, NULL);
	int lines = 0;
	const char *s;

	if (!err)
		fail_msg("no stderr captured");
	for (s = err; *s; s++)
		lines += *s == '\n';
	fprintf(stderr, "  stderr: %s", err);
	if (lines != 1 || err[0] == '\n' || !strstr(err, needle))
		fail_msg("want one line on stderr mentioning \"%s\", got %d: %s", needle, lines,
			 err);
	free(err);
}

/* ---- 1. the cases of accounting.md (3. the spike is one of them) ---- */

/* A run of memhog and what its result must show (MiB). */
struct acase {
	const char *args[5]; /* memhog's arguments, NULL-ended */
	double tree, raw;    /* expected peaks */
	int nproc;	     /* processes at the peak, 0: not checked (cow's child adds ~0) */
	double rows[2];	     /* the two largest rows at the peak, 0: not checked */
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
	/*
	 * A child touches 300 MiB for 20 ms while its parent holds 100: a sampler every 150 ms
	 * misses it, bmtrace must see >= 390 MiB (LOW_SLACK makes it 396).
	 */
	{ { "spike", "100", "300", "20" }, 400, 500, 2, { 300, 100 } },
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

static void test_accounting_case(void **state)
{
	struct itest_ctx *ctx = *state;
	const struct acase *c = ctx->param;
	const char *json = itest_path(ctx, "result.json");
	const char *argv[16] = {itest.bmtrace, "--json", json, "--", itest.memhog};
	const cJSON *rows;
	cJSON *j;
	int i, n = 5;

	itest_need_root();
	for (i = 0; c->args[i]; i++)
		argv[n++] = c->args[i];
	expect_status(ctx, itest_start(ctx, argv, NULL), ITEST_TIMEOUT_S, 0);
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

/* ---- 2. the /proc oracle: bmtrace's peak is what /proc shows at the peak ---- */

static void test_proc_oracle(void **state)
{
	struct itest_ctx *ctx = *state;
	const char *json = itest_path(ctx, "result.json");
	uint64_t rss[ITEST_MAX_PIDS], sum = 0;
	pid_t pids[ITEST_MAX_PIDS], bmt;
	cJSON *j;
	int i, n;

	itest_need_root();
	/* posix_spawn shares no pages between the two: tree == raw == the /proc sum */
	bmt = START_BMTRACE(ctx, itest_oracle_env(ctx), "--json", json, "--", itest.memhog, "spawn",
			    "200", "100");
	n = itest_wait_peak(ctx, pids, ITEST_MAX_PIDS, bmt);
	assert_int_equal(n, 2);
	for (i = 0; i < n; i++) {
		rss[i] = itest_proc_rss(pids[i]);
		sum += rss[i];
	}
	assert_int_equal(itest_release(ctx), 0);
	expect_status(ctx, bmt, ITEST_TIMEOUT_S, 0);
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
	BMTRACE(ctx, NULL, 3, "--json", json, "--", itest.memhog, "exit", "3");
	j = load_result(json);
	assert_int_equal(itest_jnum(j, "exit_code"), 3);
	assert_true(cJSON_IsNull(itest_jget(j, "signal")));
	cJSON_Delete(j);
}

static void test_killed_by_signal(void **state)
{
	struct itest_ctx *ctx = *state;
	const char *json = itest_path(ctx, "result.json");
	const cJSON *code;
	cJSON *j;

	itest_need_root();
	BMTRACE(ctx, NULL, 128 + SIGKILL, "--json", json, "--", itest.memhog, "kill", "9");
	j = load_result(json);
	assert_int_equal(itest_jnum(j, "signal"), SIGKILL);
	/* a command killed by a signal has no exit code */
	code = itest_jget(j, "exit_code");
	if (!cJSON_IsNull(code))
		fail_msg("exit_code is %s, want null: a signal ended the command",
			 cJSON_IsNumber(code) ? "a number" : "missing");
	cJSON_Delete(j);
}

static void test_command_not_found(void **state)
{
	struct itest_ctx *ctx = *state;

	itest_need_root();
	BMTRACE(ctx, NULL, 127, "--", "/nonexistent/bmtrace-itest-cmd");
	BMTRACE(ctx, NULL, 127, "--", "bmtrace-itest-no-such-command");
}

static void test_command_not_executable(void **state)
{
	struct itest_ctx *ctx = *state;
	const char *file = itest_path(ctx, "not-executable");

	itest_need_root();
	assert_int_equal(itest_spit(file, "#!/bin/sh\nexit 0\n", 17), 0);
	assert_int_equal(chmod(file, 0644), 0);
	BMTRACE(ctx, NULL, 126, "--", file);
}

/* Needs no root: a bad option is refused before anything is traced. */
static void test_bad_option(void **state)
{
	struct itest_ctx *ctx = *state;

	BMTRACE(ctx, NULL, 125, "--no-such-option", "--", "true");
	expect_one_error_line(ctx, "no-such-option");
}

/* ---- 5. -p PID: attach to a running tree ---- */

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

/*
 * Start memhog with args (it waits on the oracle before it does anything more), attach
 * `bmtrace -p` to it and let it go on. bmtrace's pid; the workload's in *work.
 */
static pid_t attach_to_workload(struct itest_ctx *ctx, const char *json, const char *const args[],
				pid_t *work)
{
	pid_t pids[ITEST_MAX_PIDS], bmt;
	char pid[16];

	*work = itest_start(ctx, args, itest_oracle_env(ctx));
	assert_int_equal(itest_wait_peak(ctx, pids, ITEST_MAX_PIDS, *work), 1);
	snprintf(pid, sizeof(pid), "%d", (int)*work);
	bmt = START_BMTRACE(ctx, NULL, "-p", pid, "--json", json);
	if (wait_attached(bmt)) {
		itest_dump_err(ctx, "bmtrace -p");
		fail_msg("bmtrace -p %s ended before it attached", pid);
	}
	assert_int_equal(itest_release(ctx), 0);
	return bmt;
}

/* The workload ended (and was reaped): bmtrace -p must end too, and report. */
static cJSON *wait_detached(struct itest_ctx *ctx, pid_t bmt, pid_t work, const char *json)
{
	int rc;

	assert_int_equal(itest_wait(ctx, work, ITEST_TIMEOUT_S), 0);
	rc = itest_wait(ctx, bmt, PID_EXIT_S);
	if (rc < 0 || rc >= 125) {
		itest_dump_err(ctx, "bmtrace -p");
		fail_msg("bmtrace -p exited %d after its process ended", rc);
	}
	return load_result(json);
}

static void test_attach_pid(void **state)
{
	struct itest_ctx *ctx = *state;
	const char *json = itest_path(ctx, "result.json");
	pid_t work, bmt;
	cJSON *j;

	itest_need_root();
	/* released, the workload touches nothing more: all bmtrace has is the /proc seed */
	bmt = attach_to_workload(ctx, json, ARGV(itest.memhog, "hold", "200"), &work);
	j = wait_detached(ctx, bmt, work, json);
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
	uint64_t rss;
	cJSON *j;

	itest_need_root();
	/* memhog late: waits once before touching anything, once more at its peak */
	bmt = attach_to_workload(ctx, json, ARGV(itest.memhog, "late", "100"), &work);
	assert_int_equal(itest_wait_peak(ctx, pids, ITEST_MAX_PIDS, work), 1);
	rss = itest_proc_rss(work);
	assert_int_equal(itest_release(ctx), 0);
	j = wait_detached(ctx, bmt, work, json);
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
	const char *memhog = itest_path(ctx, "memhog");
	const char *out = itest_path(ctx, "out");
	const char *f1 = itest_path(ctx, "out/by-user-option");
	const char *f2 = itest_path(ctx, "out/by-sudo-env");
	char sudo_uid[32], sudo_gid[32];
	const char *sudo_env[] = {sudo_uid, sudo_gid, "SUDO_USER=nobody", NULL};
	size_t len;
	char *bin;

	itest_need_root();
	assert_non_null(pw);
	/* a copy of memhog that nobody may run, whatever the modes of the build tree */
	bin = itest_slurp(itest.memhog, &len);
	assert_non_null(bin);
	assert_int_equal(itest_spit(memhog, bin, len), 0);
	free(bin);
	assert_int_equal(chmod(memhog, 0755), 0);
	assert_int_equal(chmod(ctx->dir, 0755), 0);
	assert_int_equal(mkdir(out, 0777), 0);
	assert_int_equal(chmod(out, 0777), 0);

	BMTRACE(ctx, NULL, 0, "-u", "nobody", "--", memhog, "touchfile", f1);
	expect_owner(f1, pw);

	/* under sudo, the invoking user is the default */
	snprintf(sudo_uid, sizeof(sudo_uid), "SUDO_UID=%u", pw->pw_uid);
	snprintf(sudo_gid, sizeof(sudo_gid), "SUDO_GID=%u", pw->pw_gid);
	BMTRACE(ctx, sudo_env, 0, "--", memhog, "touchfile", f2);
	expect_owner(f2, pw);
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
	const char *trace = itest_path(ctx, "t.bmt");
	const char *live = itest_path(ctx, "live.json");
	const char *replay = itest_path(ctx, "replay.json");
	struct stat st;

	itest_need_root();
	BMTRACE(ctx, NULL, 0, "-w", trace, "--json", live, "--", itest.memhog, "forkexec", "100",
		"50");
	assert_int_equal(stat(trace, &st), 0);
	fprintf(stderr, "  trace: %lld bytes\n", (long long)st.st_size);
	BMTRACE(ctx, NULL, 0, "report", trace, "--json", replay);
	expect_same_bytes(live, replay);
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

/*
 * Needs no root: the committed trace (recorded by `bmtrace -w forkexec.bmt --json
 * forkexec.json -- ./memhog forkexec 48 16`) replays to the committed result, all but
 * the version of the bmtrace that recorded it. A field added to the schema means
 * regenerating forkexec.json with `bmtrace report`.
 */
static void test_fixture_report(void **state)
{
	struct itest_ctx *ctx = *state;
	char trace[PATH_MAX + 32], want_path[PATH_MAX + 32];
	const char *json = itest_path(ctx, "replay.json");
	cJSON *want, *got;

	snprintf(trace, sizeof(trace), "%s/forkexec.bmt", itest.fixtures);
	snprintf(want_path, sizeof(want_path), "%s/forkexec.json", itest.fixtures);
	BMTRACE(ctx, NULL, 0, "report", trace, "--json", json);
	want = load_result(want_path);
	got = load_result(json);
	cJSON_DeleteItemFromObjectCaseSensitive(want, "bmtrace_version");
	cJSON_DeleteItemFromObjectCaseSensitive(got, "bmtrace_version");
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
	char *buf;

	snprintf(trace, sizeof(trace), "%s/forkexec.bmt", itest.fixtures);
	buf = itest_slurp(trace, &len);
	if (!buf)
		fail_msg("cannot read the fixture %s", trace);
	assert_int_equal(itest_spit(cut, buf, len / 2), 0);
	free(buf);
	BMTRACE(ctx, NULL, 125, "report", cut, "--json", itest_path(ctx, "x.json"));
	expect_one_error_line(ctx, "truncated");
}

/* ---- 8. Ctrl-C: bmtrace forwards SIGINT, reports, exits 130 ---- */

static void test_ctrl_c(void **state)
{
	struct itest_ctx *ctx = *state;
	const char *json = itest_path(ctx, "result.json");
	pid_t pids[ITEST_MAX_PIDS], bmt;
	cJSON *j;

	itest_need_root();
	bmt = START_BMTRACE(ctx, itest_oracle_env(ctx), "--json", json, "--", itest.memhog, "hold",
			    "100");
	assert_int_equal(itest_wait_peak(ctx, pids, ITEST_MAX_PIDS, bmt), 1);
	/* to bmtrace alone, not its process group: bmtrace must forward it */
	assert_int_equal(kill(bmt, SIGINT), 0);
	expect_status(ctx, bmt, ITEST_TIMEOUT_S, 128 + SIGINT);
	j = load_result(json);
	check_result_invariants(j);
	assert_int_equal(itest_jnum(j, "signal"), SIGINT);
	itest_expect_mib("tree peak before Ctrl-C", itest_jnum(j, "peak.bytes"), 100 - LOW_SLACK,
			 100 + HIGH_SLACK);
	cJSON_Delete(j);
}

/* ---- 9. loss is reported, never silent ---- */

/*
 * A 4 KiB ring (the smallest) holds ~100 records. bmtrace is stopped (SIGSTOP: it cannot
 * drain) while memhog touches 100 MiB, 25,600 page faults, so nearly all of them find the
 * ring full, however fast bmtrace drains when it runs. The loss must be counted, flagged in
 * the JSON and said in the summary.
 */
static void test_tiny_ring_reports_loss(void **state)
{
	struct itest_ctx *ctx = *state;
	const char *json = itest_path(ctx, "result.json");
	const char *const *oracle = itest_oracle_env(ctx);
	/*
	 * A record per event (docs/DEVELOPMENT.md): by default a page fault storm is a few
	 * records per millisecond, which a 4 KiB ring may well hold.
	 */
	const char *env[] = { oracle[0], oracle[1], "BMTRACE_RUNS=off", NULL };
	pid_t pids[ITEST_MAX_PIDS], bmt;
	char *summary;
	cJSON *j;

	itest_need_root();
	/* memhog late: waits once before touching anything, once more at its peak */
	bmt = START_BMTRACE(ctx, env, "--ring-size", "4K", "--json", json, "--", itest.memhog,
			    "late", "100");
	assert_int_equal(itest_wait_peak(ctx, pids, ITEST_MAX_PIDS, bmt), 1);
	assert_int_equal(kill(bmt, SIGSTOP), 0);
	assert_int_equal(itest_release(ctx), 0);
	assert_int_equal(itest_wait_peak(ctx, pids, ITEST_MAX_PIDS, bmt), 1);
	assert_int_equal(kill(bmt, SIGCONT), 0);
	assert_int_equal(itest_release(ctx), 0);
	expect_status(ctx, bmt, ITEST_TIMEOUT_S, 0);
	j = load_result(json);
	fprintf(stderr, "  %.0f events, %.0f lost\n", itest_jnum(j, "events"),
		itest_jnum(j, "lost_events"));
	assert_true(itest_jnum(j, "lost_events") >= 20000);
	assert_true(cJSON_IsTrue(itest_jget(j, "peak_is_lower_bound")));
	summary = itest_slurp(ctx->err, NULL);
	assert_non_null(summary);
	if (!strstr(summary, "lower bound"))
		fail_msg("the summary does not say the peak is a lower bound:\n%s", summary);
	free(summary);
	cJSON_Delete(j);
}

/* ---- 9. bmtrace killed: no BPF program stays attached, COMMAND runs on (README) ---- */

/* The ids of the BPF programs pid holds (links and programs show prog_id in fdinfo). */
static int prog_ids(pid_t pid, unsigned int *ids, int max)
{
	char dir[64], path[PATH_MAX], *info, *p;
	struct dirent *e;
	int n = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", pid);
	d = opendir(dir);
	while (d && (e = readdir(d)) && n < max) {
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		info = itest_slurp(path, NULL);
		p = info ? strstr(info, "prog_id:") : NULL;
		if (p) {
			unsigned int id = strtoul(p + 8, NULL, 10);
			int seen = 0;

			for (int i = 0; i < n; i++)
				seen |= ids[i] == id;
			if (!seen)
				ids[n++] = id;
		}
		free(info);
	}
	if (d)
		closedir(d);
	return n;
}

static int prog_exists(unsigned int id)
{
	union bpf_attr attr = { .prog_id = id };
	int fd = syscall(__NR_bpf, BPF_PROG_GET_FD_BY_ID, &attr, sizeof(attr));

	if (fd >= 0)
		close(fd);
	return fd >= 0;
}

static void test_sigkill_detaches(void **state)
{
	struct itest_ctx *ctx = *state;
	pid_t pids[ITEST_MAX_PIDS], bmt;
	unsigned int ids[32];
	int n, left = 0;

	itest_need_root();
	bmt = START_BMTRACE(ctx, itest_oracle_env(ctx), "-q", "--", itest.memhog, "hold", "50");
	assert_int_equal(itest_wait_peak(ctx, pids, ITEST_MAX_PIDS, bmt), 1);
	n = prog_ids(bmt, ids, 32);
	assert_true(n >= 5); /* fork, exec, exit, and the two rss_stat programs */
	assert_int_equal(kill(bmt, SIGKILL), 0);
	assert_int_equal(itest_wait(ctx, bmt, ITEST_TIMEOUT_S), 128 + SIGKILL);
	/* the kernel frees them once their last reference goes: allow it a moment */
	for (int tries = 0; tries < 50; tries++) {
		left = 0;
		for (int i = 0; i < n; i++)
			left += prog_exists(ids[i]);
		if (!left)
			break;
		usleep(100 * 1000);
	}
	assert_int_equal(left, 0);
	/* COMMAND keeps running: it is still there, waiting at its peak */
	assert_int_equal(kill(pids[0], 0), 0);
	assert_int_equal(itest_release(ctx), 0);
}

/* ---- 10. two bmtrace runs at once: each reports its own tree only ---- */

static void test_two_runs_apart(void **state)
{
	struct itest_ctx *ctx = *state;
	const char *ja = itest_path(ctx, "a.json"), *jb = itest_path(ctx, "b.json");
	pid_t pids[ITEST_MAX_PIDS], a;
	cJSON *j;

	itest_need_root();
	a = START_BMTRACE(ctx, itest_oracle_env(ctx), "-q", "--json", ja, "--", itest.memhog, "hold",
			  "150");
	assert_int_equal(itest_wait_peak(ctx, pids, ITEST_MAX_PIDS, a), 1);
	/* while the first tree holds 150 MiB, a second run traces its own 60 MiB */
	BMTRACE(ctx, NULL, 0, "-q", "--json", jb, "--", itest.memhog, "hold", "60");
	assert_int_equal(itest_release(ctx), 0);
	expect_status(ctx, a, ITEST_TIMEOUT_S, 0);
	j = load_result(jb);
	itest_expect_mib("second run's peak", itest_jnum(j, "peak.bytes"), 60 - LOW_SLACK,
			 60 + HIGH_SLACK);
	assert_int_equal(itest_jnum(j, "processes_total"), 1);
	cJSON_Delete(j);
	j = load_result(ja);
	itest_expect_mib("first run's peak", itest_jnum(j, "peak.bytes"), 150 - LOW_SLACK,
			 150 + HIGH_SLACK);
	assert_int_equal(itest_jnum(j, "processes_total"), 1);
	cJSON_Delete(j);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, itest_setup, itest_teardown)
#define CASE(i)                                                                                    \
	{                                                                                          \
		cases[i].args[0], test_accounting_case, itest_setup, itest_teardown,               \
		    (void *)&cases[i]                                                              \
	}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    CASE(0),
	    CASE(1),
	    CASE(2),
	    CASE(3),
	    CASE(4),
	    CASE(5),
	    CASE(6),
	    CASE(7),
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
	    TEST(test_tiny_ring_reports_loss),
	    TEST(test_sigkill_detaches),
	    TEST(test_two_runs_apart),
	};
	int failed;

	if (itest_init())
		return 2;
	if (getenv("BMT_UPDATE_GOLDEN"))
		return reports_update_golden();
	if (!itest.privileged)
		printf("SKIP: integration tests need root and BTF (%s); only the tests of "
		       "recorded traces and options run\n",
		       geteuid() ? "not root" : "no /sys/kernel/btf/vmlinux");
	failed = cmocka_run_group_tests_name("integration", tests, NULL, NULL);
	return failed + reports_run() + counters_run();
}
