// modules: collector hooks mm result names sizing tally record table stages escape util
// SPDX-License-Identifier: MIT
/*
 * collector: the accounting rules of README's "What is measured" (fork, exec,
 * threads, copy-on-write, the inherited-page rule) and the peak table, fed hand-built
 * record sequences in the order the kernel side emits them (kernel.md, "Event order").
 * Every expected number is exact: the collector is exact for its definitions.
 */
#include "collector_fixture.h"

/* ---- the table of accounting.md ---- */

/* parent 300 MiB, fork+exec child 100 MiB (the skc/clang case): tree 400, raw 600 at the fork. */
static void test_fork_exec(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	const struct bmt_peak_proc *p;
	uint64_t ts_fork, ts_anon, ts_peak;

	root_exec(x, 100, 1, ARGV("make"), "/usr/bin/make", ARGV("make", "-j2"));
	assert_u64(collector__alive(x->c), 1);
	feed_rss(&x->f, 1, BMT_ANON, 295 * MiB);
	feed_rss(&x->f, 1, BMT_FILE, 5 * MiB);
	ts_fork = fork_copy(x, 100, 101, 1, 2, 295 * MiB, 5 * MiB, "make");
	assert_tree(x, 300 * MiB); /* no phantom parent + copy */
	assert_u64(collector__alive(x->c), 2);
	exec_new(x, 101, 2, true, true, 3, "/usr/bin/clang", ARGV("clang", "-c", "big.c"));
	ts_anon = feed_rss(&x->f, 3, BMT_ANON, 90 * MiB);
	ts_peak = feed_rss(&x->f, 3, BMT_FILE, 10 * MiB);
	feed_exit(&x->f, 101);
	assert_tree(x, 400 * MiB); /* freed at teardown, not at the exit record */
	assert_u64(collector__alive(x->c), 1);
	feed_rss(&x->f, 3, BMT_ANON, 0);
	feed_rss(&x->f, 3, BMT_FILE, 0);
	feed_exit(&x->f, 100);
	feed_rss(&x->f, 1, BMT_ANON, 0);
	feed_rss(&x->f, 1, BMT_FILE, 0);
	assert_u64(collector__alive(x->c), 0);

	assert_seq(x, 1, 295, 300, 301, 390, 400, 310, 300, 5, 0);
	r = result(x);
	assert_bytes(r->peak.bytes, 400 * MiB);
	assert_u64(r->peak.ts, ts_peak);
	assert_bytes(r->peak.anon_bytes, 385 * MiB);
	assert_bytes(r->peak.file_bytes, 15 * MiB);
	assert_bytes(r->peak.shmem_bytes, 0);
	assert_bytes(r->raw_peak.bytes, 600 * MiB);
	assert_u64(r->raw_peak.ts, ts_fork);
	assert_bytes(r->anon_peak.bytes, 385 * MiB);
	assert_u64(r->anon_peak.ts, ts_anon);
	assert_bytes(r->swap_at_peak, 0);

	assert_int_equal(r->n_peak_procs, 2);
	p = assert_row(r, 0, 100, "make", "make", 300 * MiB);
	assert_bytes(p->anon_bytes, 295 * MiB);
	assert_bytes(p->file_bytes, 5 * MiB);
	assert_argv(p->argv, "make", "-j2");
	p = assert_row(r, 1, 101, "clang", "make", 100 * MiB);
	assert_u64(p->ppid, 100);
	assert_bytes(p->anon_bytes, 90 * MiB);
	assert_bytes(p->file_bytes, 10 * MiB);
	assert_argv(p->argv, "clang", "-c", "big.c");

	/* no rules: one stage, named after the root command */
	assert_int_equal(r->n_stages, 1);
	assert_str(r->stages[0].name, "make");
	assert_bytes(r->stages[0].bytes_at_peak, 400 * MiB);
	assert_bytes(r->stages[0].peak_bytes, 400 * MiB);
	assert_u64(r->stages[0].peak_ts, ts_peak);
	assert_u64(r->stages[0].processes, 2);

	assert_int_equal(r->n_commands, 2);
	assert_str(r->commands[0].name, "make");
	assert_bytes(r->commands[0].bytes_at_peak, 300 * MiB);
	assert_str(r->commands[1].name, "clang");
	assert_bytes(r->commands[1].bytes_at_peak, 100 * MiB);
	assert_bytes(r->commands[1].peak_bytes, 100 * MiB);
	assert_u64(r->commands[1].peak_ts, ts_peak);
	assert_u64(r->commands[1].processes, 1);

	assert_u64(r->processes_total, 2);
	assert_int_equal(r->n_alive, 0);
	assert_u64(r->rejected, 0);
	ctx_free(x);
}

/* parent 300 MiB, posix_spawn/vfork child 100 MiB: one shared mm until the exec: 400 / 400. */
static void test_posix_spawn(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	uint64_t ts_peak;

	root_exec(x, 100, 1, ARGV("make"), "/usr/bin/make", ARGV("make"));
	feed_rss(&x->f, 1, BMT_ANON, 300 * MiB);
	feed_vfork(&x->f, 100, 101, 1, "make");
	assert_tree(x, 300 * MiB);
	exec_new(x, 101, 0, false, false, 2, "/usr/bin/cc", ARGV("cc", "-c", "a.c"));
	ts_peak = feed_rss(&x->f, 2, BMT_ANON, 100 * MiB);
	feed_exit(&x->f, 101);
	feed_rss(&x->f, 2, BMT_ANON, 0);
	/* a vfork child that exits without exec: no teardown, the shared mm stays counted */
	feed_vfork(&x->f, 100, 102, 1, "make");
	feed_exit(&x->f, 102);
	assert_tree(x, 300 * MiB);
	feed_rss(&x->f, 1, BMT_ANON, 320 * MiB);
	assert_tree(x, 320 * MiB);
	feed_exit(&x->f, 100);
	feed_rss(&x->f, 1, BMT_ANON, 0);

	assert_seq(x, 1, 300, 301, 400, 300, 320, 0);
	r = result(x);
	assert_bytes(r->peak.bytes, 400 * MiB);
	assert_u64(r->peak.ts, ts_peak);
	assert_bytes(r->raw_peak.bytes, 400 * MiB);
	assert_u64(r->raw_peak.ts, ts_peak);
	assert_int_equal(r->n_peak_procs, 2);
	assert_row(r, 0, 100, "make", "make", 300 * MiB);
	assert_row(r, 1, 101, "cc", "make", 100 * MiB);
	assert_u64(r->processes_total, 3);
	assert_u64(collector__alive(x->c), 0);
	ctx_free(x);
}

/* parent 300 MiB, then exec into a 100 MiB program: 300 / 300. */
static void test_exec_into(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	uint64_t ts_peak;

	root_exec(x, 100, 1, ARGV("sh", "-c", "exec ./big"), "/bin/sh",
		  ARGV("sh", "-c", "exec ./big"));
	ts_peak = feed_rss(&x->f, 1, BMT_ANON, 300 * MiB);
	exec_new(x, 100, 1, true, false, 2, "/work/big", ARGV("./big"));
	feed_rss(&x->f, 2, BMT_ANON, 100 * MiB);
	assert_tree(x, 100 * MiB);
	feed_exit(&x->f, 100);
	feed_rss(&x->f, 2, BMT_ANON, 0);

	assert_seq(x, 1, 300, 0, 1, 100, 0);
	r = result(x);
	assert_bytes(r->peak.bytes, 300 * MiB);
	assert_u64(r->peak.ts, ts_peak);
	assert_bytes(r->raw_peak.bytes, 300 * MiB);
	assert_u64(r->raw_peak.ts, ts_peak);
	assert_int_equal(r->n_peak_procs, 1);
	/* the table names the program that held the memory at the peak */
	assert_argv(assert_row(r, 0, 100, "sh", "sh", 300 * MiB)->argv, "sh", "-c", "exec ./big");
	assert_u64(r->processes_total, 1);
	ctx_free(x);
}

/* one process, 8 threads x 50 MiB: one mm, its counter grows: 400 / 400. */
static void test_threads(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	uint64_t ts_peak = 0;

	root_exec(x, 100, 1, ARGV("threads", "8"), "/usr/bin/threads", ARGV("threads", "8"));
	for (int i = 1; i <= 8; i++)
		ts_peak = feed_rss(&x->f, 1, BMT_ANON, 50 * MiB * i);
	feed_exit(&x->f, 100);
	feed_rss(&x->f, 1, BMT_ANON, 0);

	assert_seq(x, 1, 50, 100, 150, 200, 250, 300, 350, 400, 0);
	r = result(x);
	assert_bytes(r->peak.bytes, 400 * MiB);
	assert_u64(r->peak.ts, ts_peak);
	assert_bytes(r->raw_peak.bytes, 400 * MiB);
	assert_int_equal(r->n_peak_procs, 1);
	assert_row(r, 0, 100, "threads", "threads", 400 * MiB);
	assert_u64(r->processes_total, 1);
	ctx_free(x);
}

/* parent 100 MiB, fork child spikes 300 MiB for 20 ms: 400 / 500, caught at once. */
static void test_spike_20ms(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	uint64_t ts_peak;

	root_exec(x, 100, 1, ARGV("make"), "/usr/bin/make", ARGV("make"));
	feed_rss(&x->f, 1, BMT_ANON, 100 * MiB);
	fork_copy(x, 100, 101, 1, 2, 100 * MiB, 0, "make");
	feed_rss(&x->f, 2, BMT_ANON, 200 * MiB);
	feed_rss(&x->f, 2, BMT_ANON, 300 * MiB);
	ts_peak = feed_rss(&x->f, 2, BMT_ANON, 400 * MiB);
	feeder_wait(&x->f, 20 * MSEC);
	feed_rss(&x->f, 2, BMT_ANON, 100 * MiB);
	feed_exit(&x->f, 101);
	feed_rss(&x->f, 2, BMT_ANON, 0);
	feed_exit(&x->f, 100);
	feed_rss(&x->f, 1, BMT_ANON, 0);

	assert_seq(x, 1, 100, 200, 300, 400, 100, 0);
	r = result(x);
	assert_bytes(r->peak.bytes, 400 * MiB);
	assert_u64(r->peak.ts, ts_peak);
	assert_bytes(r->raw_peak.bytes, 500 * MiB);
	assert_u64(r->raw_peak.ts, ts_peak);
	assert_int_equal(r->n_peak_procs, 2);
	assert_row(r, 0, 101, "make", "make", 300 * MiB);
	assert_row(r, 1, 100, "make", "make", 100 * MiB);
	ctx_free(x);
}

/* fork without exec, the child rewrites its 300 MiB: no counter moves: 300 / 600. */
static void test_fork_cow_rewrite(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	uint64_t ts_peak, ts_fork;

	root_exec(x, 100, 1, ARGV("app"), "/usr/bin/app", ARGV("app"));
	ts_peak = feed_rss(&x->f, 1, BMT_ANON, 300 * MiB);
	ts_fork = fork_copy(x, 100, 101, 1, 2, 300 * MiB, 0, "app");
	/* copy-on-write breaks in the child: no rss_stat event at all */
	feed_exit(&x->f, 101);
	feed_rss(&x->f, 2, BMT_ANON, 0);
	feed_exit(&x->f, 100);
	feed_rss(&x->f, 1, BMT_ANON, 0);

	assert_seq(x, 1, 300, 0);
	r = result(x);
	assert_bytes(r->peak.bytes, 300 * MiB);
	assert_u64(r->peak.ts, ts_peak); /* first reached, not moved by the equal total later */
	assert_bytes(r->raw_peak.bytes, 600 * MiB);
	assert_u64(r->raw_peak.ts, ts_fork);
	assert_int_equal(r->n_peak_procs, 1); /* the child adds nothing: not listed */
	assert_row(r, 0, 100, "app", "app", 300 * MiB);
	assert_u64(r->processes_total, 2);
	ctx_free(x);
}

/* ---- more of the inherited-page rule ---- */

/* Three levels, each adding its own memory: tree = sum of the additions; per-member clamp. */
static void test_nested_fork_tree(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	const struct bmt_peak_proc *p;
	uint64_t ts_peak, ts_anon;

	root_exec(x, 100, 1, ARGV("server"), "/usr/bin/server", ARGV("server"));
	feed_rss(&x->f, 1, BMT_ANON, 100 * MiB);
	feed_rss(&x->f, 1, BMT_FILE, 10 * MiB);
	fork_copy(x, 100, 101, 1, 2, 100 * MiB, 8 * MiB, "server");
	feed_rss(&x->f, 2, BMT_ANON, 150 * MiB); /* +50 */
	fork_copy(x, 101, 102, 2, 3, 150 * MiB, 8 * MiB, "server");
	ts_anon = feed_rss(&x->f, 3, BMT_ANON, 175 * MiB); /* +25 */
	ts_peak = feed_rss(&x->f, 3, BMT_FILE, 12 * MiB);  /* +4 */
	/* the grandchild unmaps inherited anon: that member adds 0, it does not cancel its file */
	feed_rss(&x->f, 3, BMT_ANON, 40 * MiB);
	assert_tree(x, 164 * MiB);
	feed_exit(&x->f, 102);
	feed_rss(&x->f, 3, BMT_ANON, 0);
	feed_rss(&x->f, 3, BMT_FILE, 0);
	feed_exit(&x->f, 101);
	feed_rss(&x->f, 2, BMT_ANON, 0);
	feed_rss(&x->f, 2, BMT_FILE, 0);
	feed_exit(&x->f, 100);
	feed_rss(&x->f, 1, BMT_ANON, 0);
	feed_rss(&x->f, 1, BMT_FILE, 0);

	assert_seq(x, 1, 100, 110, 160, 185, 189, 164, 160, 110, 10, 0);
	r = result(x);
	assert_bytes(r->peak.bytes, 189 * MiB);
	assert_u64(r->peak.ts, ts_peak);
	assert_bytes(r->peak.anon_bytes, 175 * MiB);
	assert_bytes(r->peak.file_bytes, 14 * MiB);
	assert_bytes(r->raw_peak.bytes, (110 + 158 + 187) * MiB);
	assert_u64(r->raw_peak.ts, ts_peak);
	assert_bytes(r->anon_peak.bytes, 175 * MiB);
	assert_u64(r->anon_peak.ts, ts_anon);
	assert_int_equal(r->n_peak_procs, 3);
	p = assert_row(r, 0, 100, "server", "server", 110 * MiB);
	assert_bytes(p->file_bytes, 10 * MiB);
	p = assert_row(r, 1, 101, "server", "server", 50 * MiB);
	assert_u64(p->ppid, 100);
	assert_bytes(p->anon_bytes, 50 * MiB);
	assert_bytes(p->file_bytes, 0);
	p = assert_row(r, 2, 102, "server", "server", 29 * MiB);
	assert_u64(p->ppid, 101);
	assert_bytes(p->anon_bytes, 25 * MiB);
	assert_bytes(p->file_bytes, 4 * MiB);
	assert_u64(r->processes_total, 3);
	ctx_free(x);
}

/* The parent exits first (daemonizing): the child's inherited pages count in full from then. */
static void test_daemonize_parent_exits(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	const struct bmt_peak_proc *p;
	uint64_t ts_peak;

	root_exec(x, 100, 1, ARGV("daemon"), "/usr/sbin/daemon", ARGV("daemon"));
	feed_rss(&x->f, 1, BMT_ANON, 100 * MiB);
	feed_rss(&x->f, 1, BMT_FILE, 4 * MiB);
	fork_copy(x, 100, 101, 1, 2, 100 * MiB, 4 * MiB, "daemon");
	feed_rss(&x->f, 2, BMT_ANON, 130 * MiB);
	assert_tree(x, 134 * MiB);
	feed_exit(&x->f, 100);
	assert_tree(x, 134 * MiB);
	feed_rss(&x->f, 1, BMT_ANON, 0);
	feed_rss(&x->f, 1, BMT_FILE, 0);
	assert_tree(x, 134 * MiB); /* the parent's mm is gone: 130 + 4 are the child's alone */
	ts_peak = feed_rss(&x->f, 2, BMT_ANON, 150 * MiB);
	assert_tree(x, 154 * MiB);
	feed_rss(&x->f, 2, BMT_ANON, 40 * MiB); /* below its old baseline: no longer clamped */
	assert_tree(x, 44 * MiB);
	assert_u64(collector__alive(x->c), 1);
	feed_exit(&x->f, 101);
	feed_rss(&x->f, 2, BMT_ANON, 0);
	feed_rss(&x->f, 2, BMT_FILE, 0);
	assert_tree(x, 0);

	r = result(x);
	assert_bytes(r->peak.bytes, 154 * MiB);
	assert_u64(r->peak.ts, ts_peak);
	assert_int_equal(r->n_peak_procs, 1);
	p = assert_row(r, 0, 101, "daemon", "daemon", 154 * MiB);
	assert_bytes(p->anon_bytes, 150 * MiB);
	assert_bytes(p->file_bytes, 4 * MiB);
	assert_int_equal(r->n_alive, 0);
	ctx_free(x);
}

/*
 * Double fork under a live grandparent: the middle process exits, but the grandparent still
 * holds what it passed down, so the grandchild keeps that much as its baseline (now against
 * the grandparent); what the middle process had added itself becomes the grandchild's.
 */
static void test_double_fork_grandparent_holds(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;

	root_exec(x, 100, 1, ARGV("sh"), "/bin/sh", ARGV("sh"));
	feed_rss(&x->f, 1, BMT_ANON, 200 * MiB);
	fork_copy(x, 100, 101, 1, 2, 200 * MiB, 0, "sh");
	feed_rss(&x->f, 2, BMT_ANON, 230 * MiB); /* the middle adds 30 */
	assert_tree(x, 230 * MiB);
	fork_copy(x, 101, 102, 2, 3, 230 * MiB, 0, "sh");
	assert_tree(x, 230 * MiB);
	feed_exit(&x->f, 101);
	feed_rss(&x->f, 2, BMT_ANON, 0); /* the middle's mm is torn down */
	/* 200 still the grandparent's; the middle's 30 now the grandchild's alone */
	assert_tree(x, 230 * MiB);
	feed_rss(&x->f, 3, BMT_ANON, 240 * MiB);
	assert_tree(x, 240 * MiB);
	r = result(x);
	assert_bytes(r->peak.bytes, 240 * MiB);
	ctx_free(x);
}

/* The parent execs: its old mm is torn down, the fork child's inherited pages become its own. */
static void test_parent_exec_releases_inherited(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	uint64_t ts_peak;

	root_exec(x, 100, 1, ARGV("sh"), "/bin/sh", ARGV("sh"));
	feed_rss(&x->f, 1, BMT_ANON, 100 * MiB);
	fork_copy(x, 100, 101, 1, 2, 100 * MiB, 0, "sh");
	assert_tree(x, 100 * MiB);
	exec_new(x, 100, 1, true, false, 3, "/usr/bin/big", ARGV("big"));
	assert_tree(x, 101 * MiB); /* 1 (new mm) + 100 (the child's, now alone) */
	feed_rss(&x->f, 3, BMT_ANON, 20 * MiB);
	assert_tree(x, 120 * MiB);
	ts_peak = feed_rss(&x->f, 2, BMT_ANON, 110 * MiB);
	assert_tree(x, 130 * MiB);

	r = result(x);
	assert_bytes(r->peak.bytes, 130 * MiB);
	assert_u64(r->peak.ts, ts_peak);
	assert_int_equal(r->n_peak_procs, 2);
	assert_row(r, 0, 101, "sh", "sh", 110 * MiB);
	assert_row(r, 1, 100, "big", "sh", 20 * MiB);
	assert_int_equal(r->n_alive, 2);
	ctx_free(x);
}

/*
 * The old mm of an exec'ing fork child torn down after the switch (another task held a
 * reference): it keeps counting, for that process, until its counters fall.
 */
static void test_old_mm_teardown_after_exec(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	const struct bmt_peak_proc *p;
	uint64_t ts_peak;

	root_exec(x, 100, 1, ARGV("make"), "/usr/bin/make", ARGV("make"));
	feed_rss(&x->f, 1, BMT_ANON, 100 * MiB);
	fork_copy(x, 100, 101, 1, 2, 100 * MiB, 0, "make");
	feed_rss(&x->f, 2, BMT_ANON, 130 * MiB);
	feed_rss(&x->f, 3, BMT_ANON, 1 * MiB);
	ts_peak = feed_mm(&x->f, 101, 3);
	feed_exec(&x->f, 101, 3, "/usr/bin/cc", ARGV("cc", "-c", "a.c"));
	feed_rss(&x->f, 2, BMT_ANON, 0);
	feed_rss(&x->f, 3, BMT_ANON, 20 * MiB);

	assert_seq(x, 1, 100, 130, 131, 101, 120);
	r = result(x);
	assert_bytes(r->peak.bytes, 131 * MiB);
	assert_u64(r->peak.ts, ts_peak);
	assert_bytes(r->raw_peak.bytes, 231 * MiB);
	assert_u64(r->raw_peak.ts, ts_peak);
	assert_int_equal(r->n_peak_procs, 2);
	assert_row(r, 0, 100, "make", "make", 100 * MiB);
	p = assert_row(r, 1, 101, NULL, "make", 31 * MiB); /* old mm's 30 + new mm's 1 */
	assert_bytes(p->anon_bytes, 31 * MiB);
	ctx_free(x);
}

/* Keys are never reused; pids are. A retired key and a reused pid: no drop, no underflow. */
static void test_mm_and_pid_reuse(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	const struct bmt_peak_proc *p;
	uint64_t ts_peak;

	feed_add_root(&x->f, 100, ARGV("make"));
	feed_mm(&x->f, 100, 1);
	feed_exec(&x->f, 100, 1, "/usr/bin/make", ARGV("make"));
	feed_rss(&x->f, 1, BMT_ANON, 50 * MiB);
	fork_copy(x, 100, 101, 1, 2, 50 * MiB, 0, "make");
	exec_new(x, 101, 2, true, false, 3, "/usr/bin/cc", ARGV("cc", "-c", "a.c"));
	feed_rss(&x->f, 3, BMT_ANON, 30 * MiB);
	feed_exit(&x->f, 101);
	feed_rss(&x->f, 3, BMT_ANON, 0); /* key 3 retired */
	assert_tree(x, 50 * MiB);
	/* pid 101 again: a new process, new keys */
	fork_copy(x, 100, 101, 1, 4, 50 * MiB, 0, "make");
	assert_tree(x, 50 * MiB);
	exec_new(x, 101, 4, true, false, 5, "/usr/bin/ld", ARGV("ld", "a.o"));
	ts_peak = feed_rss(&x->f, 5, BMT_ANON, 40 * MiB);
	/* late duplicates for retired keys change nothing */
	feed_rss(&x->f, 3, BMT_ANON, 0);
	feed_rss(&x->f, 2, BMT_ANON, 0);
	assert_tree(x, 90 * MiB);
	feed_exit(&x->f, 101);
	feed_rss(&x->f, 5, BMT_ANON, 0);
	feed_exit(&x->f, 100);
	feed_rss(&x->f, 1, BMT_ANON, 0);

	assert_seq(x, 50, 51, 80, 50, 51, 90, 50, 0);
	r = result(x);
	assert_bytes(r->peak.bytes, 90 * MiB);
	assert_u64(r->peak.ts, ts_peak);
	assert_int_equal(r->n_peak_procs, 2);
	assert_row(r, 0, 100, "make", "make", 50 * MiB);
	p = assert_row(r, 1, 101, "ld", "make", 40 * MiB);
	assert_argv(p->argv, "ld", "a.o");
	assert_u64(r->processes_total, 3);
	assert_int_equal(r->n_alive, 0);
	ctx_free(x);
}

/* RSS for a key nobody is bound to counts nothing; the binding applies its current counters. */
static void test_rss_before_binding(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	size_t calls;
	uint64_t ts_peak;

	feed_add_root(&x->f, 100, ARGV("make"));
	feed_mm(&x->f, 100, 1);
	feed_rss(&x->f, 1, BMT_ANON, 10 * MiB);
	calls = x->t.calls;
	feed_rss(&x->f, 7, BMT_ANON, 70 * MiB);
	feed_rss(&x->f, 7, BMT_FILE, 5 * MiB);
	assert_u64(x->t.calls, calls); /* nothing changed: no sample */
	r = result(x);
	assert_bytes(r->peak.bytes, 10 * MiB);
	assert_bytes(r->raw_peak.bytes, 10 * MiB);
	assert_u64(r->events, 3);

	feed_rss(&x->f, 1, BMT_ANON, 0); /* exec: the old mm goes first */
	ts_peak = feed_mm(&x->f, 100, 7);
	assert_tree(x, 75 * MiB);
	feed_exec(&x->f, 100, 7, "/usr/bin/big", ARGV("big"));
	feed_rss(&x->f, 7, BMT_ANON, 60 * MiB);

	assert_seq(x, 10, 0, 75, 65);
	r = result(x);
	assert_bytes(r->peak.bytes, 75 * MiB);
	assert_u64(r->peak.ts, ts_peak); /* the binding record produced it */
	assert_bytes(r->peak.anon_bytes, 70 * MiB);
	assert_bytes(r->peak.file_bytes, 5 * MiB);
	assert_bytes(r->raw_peak.bytes, 75 * MiB);
	assert_int_equal(r->n_peak_procs, 1);
	assert_row(r, 0, 100, NULL, NULL, 75 * MiB);
	assert_u64(r->events, 5);
	ctx_free(x);
}

/* An exec record binds its key even when the MM record before it was lost. */
static void test_exec_binds_without_mm(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	uint64_t ts_peak;

	feed_add_root(&x->f, 100, ARGV("make"));
	feed_mm(&x->f, 100, 1);
	feed_exec(&x->f, 100, 1, "/usr/bin/make", ARGV("make"));
	feed_rss(&x->f, 1, BMT_ANON, 10 * MiB);
	fork_copy(x, 100, 101, 1, 2, 10 * MiB, 0, "make");
	feed_rss(&x->f, 3, BMT_ANON, 50 * MiB);
	feed_rss(&x->f, 2, BMT_ANON, 0);
	assert_tree(x, 10 * MiB);
	ts_peak = feed_exec(&x->f, 101, 3, "/usr/bin/cc", ARGV("cc", "-c", "a.c"));
	assert_tree(x, 60 * MiB);

	r = result(x);
	assert_bytes(r->peak.bytes, 60 * MiB);
	assert_u64(r->peak.ts, ts_peak);
	assert_int_equal(r->n_peak_procs, 2);
	assert_row(r, 0, 101, "cc", "make", 50 * MiB);
	assert_row(r, 1, 100, "make", "make", 10 * MiB);
	ctx_free(x);
}

/* ---- peaks ---- */

/* The peak table is the state AT the peak: later exits and starts do not change it. */
static void test_peak_table_at_peak(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	const struct bmt_peak_proc *p;
	uint64_t ts_peak;

	root_exec(x, 100, 1, ARGV("make", "all"), "/usr/bin/make", ARGV("make", "all"));
	feed_rss(&x->f, 1, BMT_ANON, 50 * MiB);
	fork_copy(x, 100, 102, 1, 4, 50 * MiB, 0, "make"); /* alive at the peak, adds 0 */
	fork_copy(x, 100, 101, 1, 2, 50 * MiB, 0, "make");
	exec_new(x, 101, 2, true, false, 3, "/usr/bin/cc", ARGV("cc", "-c", "a.c"));
	ts_peak = feed_rss(&x->f, 3, BMT_ANON, 200 * MiB);
	/* after the peak: 101 exits, the root grows, 103 starts */
	feed_exit(&x->f, 101);
	feed_rss(&x->f, 3, BMT_ANON, 0);
	feed_rss(&x->f, 1, BMT_ANON, 60 * MiB);
	fork_copy(x, 100, 103, 1, 5, 60 * MiB, 0, "make");
	exec_new(x, 103, 5, true, false, 6, "/usr/bin/ld", ARGV("ld", "-o", "a", "a.o"));
	feed_rss(&x->f, 6, BMT_ANON, 100 * MiB);
	assert_tree(x, 160 * MiB);

	r = result(x);
	assert_bytes(r->peak.bytes, 250 * MiB);
	assert_u64(r->peak.ts, ts_peak);
	assert_bytes(r->peak.anon_bytes, 250 * MiB);
	assert_bytes(r->peak.file_bytes, 0);
	assert_int_equal(r->n_peak_procs, 2);
	p = assert_row(r, 0, 101, "cc", "make", 200 * MiB);
	assert_u64(p->ppid, 100);
	assert_bytes(p->anon_bytes, 200 * MiB);
	assert_argv(p->argv, "cc", "-c", "a.c");
	p = assert_row(r, 1, 100, "make", "make", 50 * MiB);
	assert_argv(p->argv, "make", "all");
	assert_null(peak_proc(r, 102));
	assert_null(peak_proc(r, 103));
	assert_u64(r->processes_total, 4);
	assert_int_equal(r->n_alive, 3);
	ctx_free(x);
}

/* anon_peak counts anon + shmem (with the inherited rule); swap is never RSS. */
static void test_anon_peak_and_swap(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	uint64_t ts_peak, ts_anon, ts_swap;
	size_t calls;

	feed_add_root(&x->f, 100, ARGV("app"));
	feed_mm(&x->f, 100, 1);
	feed_exec(&x->f, 100, 1, "/usr/bin/app", ARGV("app"));
	feed_rss(&x->f, 1, BMT_ANON, 100 * MiB);
	calls = x->t.calls;
	ts_swap = feed_rss(&x->f, 1, BMT_SWAP, 30 * MiB);
	assert_u64(x->t.calls, calls); /* swap is not RSS: no change, no sample */
	ts_peak = feed_rss(&x->f, 1, BMT_FILE, 200 * MiB);
	feed_rss(&x->f, 1, BMT_FILE, 0);
	feed_rss(&x->f, 1, BMT_ANON, 150 * MiB);
	feed_rss(&x->f, 1, BMT_SHMEM, 20 * MiB);
	feed_rss(&x->f, 1, BMT_SWAP, 0);
	feed_rss(&x->f, 2, BMT_ANON, 150 * MiB);
	feed_rss(&x->f, 2, BMT_SHMEM, 20 * MiB);
	feed_fork(&x->f, 100, 101, 1, 2, "app");
	ts_anon = feed_rss(&x->f, 2, BMT_ANON, 160 * MiB);

	assert_seq(x, 100, 300, 100, 150, 170, 180);
	r = result(x);
	assert_bytes(r->peak.bytes, 300 * MiB);
	assert_u64(r->peak.ts, ts_peak);
	assert_bytes(r->peak.anon_bytes, 100 * MiB);
	assert_bytes(r->peak.file_bytes, 200 * MiB);
	assert_bytes(r->peak.shmem_bytes, 0);
	assert_bytes(r->swap_at_peak, 30 * MiB);
	/* the tree's swap peak: the most its swap entries reached, gone since */
	assert_bytes(r->swap_peak.bytes, 30 * MiB);
	assert_u64(r->swap_peak.ts, ts_swap);
	assert_bytes(r->anon_peak.bytes, 180 * MiB);
	assert_u64(r->anon_peak.ts, ts_anon);
	assert_bytes(r->anon_peak.anon_bytes, 160 * MiB);
	assert_bytes(r->anon_peak.shmem_bytes, 20 * MiB);
	assert_bytes(r->raw_peak.bytes, 350 * MiB); /* 170 + 180, swap excluded */
	assert_u64(r->raw_peak.ts, ts_anon);
	ctx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(test_fork_exec),
	    TEST(test_posix_spawn),
	    TEST(test_exec_into),
	    TEST(test_threads),
	    TEST(test_spike_20ms),
	    TEST(test_fork_cow_rewrite),
	    TEST(test_nested_fork_tree),
	    TEST(test_double_fork_grandparent_holds),
	    TEST(test_daemonize_parent_exits),
	    TEST(test_parent_exec_releases_inherited),
	    TEST(test_old_mm_teardown_after_exec),
	    TEST(test_mm_and_pid_reuse),
	    TEST(test_rss_before_binding),
	    TEST(test_exec_binds_without_mm),
	    TEST(test_peak_table_at_peak),
	    TEST(test_anon_peak_and_swap),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
