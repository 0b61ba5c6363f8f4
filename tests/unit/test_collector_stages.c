// modules: collector hooks mm result names sizing tally record table stages escape util
// SPDX-License-Identifier: MIT
/*
 * collector: stages and commands: stage rules, command names, processes adopted
 * at attach (-p) and per-command sizing, fed hand-built
 * record sequences in the order the kernel side emits them (kernel.md, "Event order").
 * Every expected number is exact: the collector is exact for its definitions.
 */
#include "collector_fixture.h"

/* ---- stages and commands ---- */

/*
 * make -> gcc (compile) -> cc1 (no match: compile, from gcc) and a forked gcc helper;
 * make -> ld (link); make -> sh (no match: the root's stage "make").
 */
static void test_stages(void **state)
{
	struct ctx *x = ctx_new(compile_link_stages());
	const struct bmt_result *r;
	const struct bmt_stage_result *st;
	const struct bmt_command_result *cm;
	const struct bmt_peak_proc *p;
	uint64_t ts_peak, ts_cc1, ts_link, ts_make;

	feed_add_root(&x->f, 100, ARGV("make", "-j2"));
	feed_mm(&x->f, 100, 1);
	feed_exec(&x->f, 100, 1, "/usr/bin/make", ARGV("make", "-j2"));
	feed_rss(&x->f, 1, BMT_ANON, 20 * MiB);

	fork_copy(x, 100, 101, 1, 2, 20 * MiB, 0, "make");
	exec_new(x, 101, 2, true, false, 3, "/usr/bin/gcc", ARGV("gcc", "-c", "a.c"));
	feed_rss(&x->f, 3, BMT_ANON, 10 * MiB);
	fork_copy(x, 101, 102, 3, 4, 10 * MiB, 0, "gcc");
	exec_new(x, 102, 4, true, false, 5, "/usr/lib/gcc/x86_64-linux-gnu/12/cc1",
		 ARGV("/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "a.c", "-o", "/tmp/a.s"));
	ts_cc1 = feed_rss(&x->f, 5, BMT_ANON, 200 * MiB);
	fork_copy(x, 101, 103, 3, 6, 10 * MiB, 0, "gcc");
	ts_peak = feed_rss(&x->f, 6, BMT_ANON, 15 * MiB);
	assert_tree(x, 235 * MiB);
	feed_exit(&x->f, 102);
	feed_rss(&x->f, 5, BMT_ANON, 0);
	feed_exit(&x->f, 103);
	feed_rss(&x->f, 6, BMT_ANON, 0);
	feed_exit(&x->f, 101);
	feed_rss(&x->f, 3, BMT_ANON, 0);

	fork_copy(x, 100, 104, 1, 7, 20 * MiB, 0, "make");
	exec_new(x, 104, 7, true, false, 8, "/usr/bin/ld", ARGV("ld", "-o", "a", "a.o"));
	ts_link = feed_rss(&x->f, 8, BMT_ANON, 50 * MiB);
	feed_exit(&x->f, 104);
	feed_rss(&x->f, 8, BMT_ANON, 0);

	fork_copy(x, 100, 105, 1, 9, 20 * MiB, 0, "make");
	exec_new(x, 105, 9, true, false, 10, "/bin/sh", ARGV("sh", "-c", "true"));
	feed_rss(&x->f, 10, BMT_ANON, 3 * MiB);
	feed_exit(&x->f, 105);
	feed_rss(&x->f, 10, BMT_ANON, 0);

	ts_make = feed_rss(&x->f, 1, BMT_ANON, 100 * MiB);
	assert_tree(x, 100 * MiB);

	r = result(x);
	assert_bytes(r->peak.bytes, 235 * MiB);
	assert_u64(r->peak.ts, ts_peak);

	/* the root's default stage first, then the rules in order */
	assert_int_equal(r->n_stages, 3);
	assert_str(r->stages[0].name, "make");
	assert_str(r->stages[1].name, "compile");
	assert_str(r->stages[2].name, "link");
	st = stage(r, "make");
	assert_bytes(st->bytes_at_peak, 20 * MiB);
	assert_bytes(st->peak_bytes, 100 * MiB);
	assert_u64(st->peak_ts, ts_make);
	st = stage(r, "compile");
	assert_bytes(st->bytes_at_peak, 215 * MiB);
	assert_bytes(st->peak_bytes, 215 * MiB);
	assert_u64(st->peak_ts, ts_peak);
	assert_u64(st->processes, 3);
	st = stage(r, "link");
	assert_bytes(st->bytes_at_peak, 0);
	assert_bytes(st->peak_bytes, 50 * MiB);
	assert_u64(st->peak_ts, ts_link);
	assert_u64(st->processes, 1);

	assert_int_equal(r->n_peak_procs, 4);
	p = assert_row(r, 0, 102, "cc1", "compile", 200 * MiB);
	assert_argv(p->argv, "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "a.c", "-o", "/tmp/a.s");
	assert_u64(p->ppid, 101);
	assert_row(r, 1, 100, "make", "make", 20 * MiB);
	assert_row(r, 2, 101, "gcc", "compile", 10 * MiB);
	p = assert_row(r, 3, 103, "gcc", "compile", 5 * MiB); /* forked, no exec: gcc's stage */
	assert_u64(p->ppid, 101);

	/* commands: largest at the peak first, then by own peak */
	assert_int_equal(r->n_commands, 5);
	assert_str(r->commands[0].name, "cc1");
	assert_str(r->commands[1].name, "make");
	assert_str(r->commands[2].name, "gcc");
	assert_str(r->commands[3].name, "ld");
	assert_str(r->commands[4].name, "sh");
	cm = command(r, "cc1");
	assert_bytes(cm->bytes_at_peak, 200 * MiB);
	assert_bytes(cm->peak_bytes, 200 * MiB);
	assert_u64(cm->peak_ts, ts_cc1); /* its own maximum: before the tree's */
	assert_u64(cm->processes, 1);
	cm = command(r, "make");
	assert_bytes(cm->bytes_at_peak, 20 * MiB);
	assert_bytes(cm->peak_bytes, 100 * MiB);
	assert_u64(cm->peak_ts, ts_make);
	cm = command(r, "gcc");
	assert_bytes(cm->bytes_at_peak, 15 * MiB);
	assert_bytes(cm->peak_bytes, 15 * MiB);
	assert_u64(cm->peak_ts, ts_peak);
	cm = command(r, "ld");
	assert_bytes(cm->bytes_at_peak, 0);
	assert_bytes(cm->peak_bytes, 50 * MiB);
	assert_u64(cm->peak_ts, ts_link);
	assert_u64(cm->processes, 1);
	cm = command(r, "sh");
	assert_bytes(cm->bytes_at_peak, 0);
	assert_bytes(cm->peak_bytes, 3 * MiB);
	assert_u64(cm->processes, 1);

	assert_u64(x->t.n_stages, 3);
	assert_u64(r->processes_total, 6);
	assert_int_equal(r->n_alive, 1);
	assert_u64(r->alive[0].pid, 100);
	assert_str(r->alive[0].comm, "make");
	ctx_free(x);
}

/* The nearest ancestor-or-self whose exec matched decides; the first matching rule wins. */
static void test_stage_nearest_match_first_rule(void **state)
{
	struct stages *s = stages__new();
	struct ctx *x;
	const struct bmt_result *r;
	char err[256] = "";

	assert_non_null(s);
	assert_int_equal(stages__add(s, "compile=(^| )gcc( |$)", err, sizeof(err)), 0);
	assert_int_equal(stages__add(s, "link=(^| )(collect2|ld)( |$)|-o prog", err, sizeof(err)),
			 0);
	x = ctx_new(s);
	feed_add_root(&x->f, 100, ARGV("make"));
	feed_mm(&x->f, 100, 1);
	feed_exec(&x->f, 100, 1, "/usr/bin/make", ARGV("make"));
	feed_rss(&x->f, 1, BMT_ANON, 5 * MiB);
	/* gcc -o prog matches both rules: compile, the first */
	fork_copy(x, 100, 101, 1, 2, 5 * MiB, 0, "make");
	exec_new(x, 101, 2, true, false, 3, "/usr/bin/gcc", ARGV("gcc", "-o", "prog", "a.o"));
	feed_rss(&x->f, 3, BMT_ANON, 10 * MiB);
	/* collect2 under gcc matches link itself: the nearest match is its own */
	fork_copy(x, 101, 102, 3, 4, 10 * MiB, 0, "gcc");
	exec_new(x, 102, 4, true, false, 5, "/usr/libexec/gcc/collect2",
		 ARGV("collect2", "-o", "prog", "a.o"));
	feed_rss(&x->f, 5, BMT_ANON, 20 * MiB);
	/* true under collect2 matches nothing: link, from collect2 */
	fork_copy(x, 102, 103, 5, 6, 20 * MiB, 0, "collect2");
	exec_new(x, 103, 6, true, false, 7, "/usr/bin/true", ARGV("true"));
	feed_rss(&x->f, 7, BMT_ANON, 30 * MiB);
	/* as under gcc matches nothing: compile, from gcc */
	fork_copy(x, 101, 104, 3, 8, 10 * MiB, 0, "gcc");
	exec_new(x, 104, 8, true, false, 9, "/usr/bin/as", ARGV("as", "a.s"));
	feed_rss(&x->f, 9, BMT_ANON, 40 * MiB);

	r = result(x);
	assert_bytes(r->peak.bytes, 105 * MiB);
	assert_int_equal(r->n_peak_procs, 5);
	assert_row(r, 0, 104, "as", "compile", 40 * MiB);
	assert_row(r, 1, 103, "true", "link", 30 * MiB);
	assert_row(r, 2, 102, "collect2", "link", 20 * MiB);
	assert_row(r, 3, 101, "gcc", "compile", 10 * MiB);
	assert_row(r, 4, 100, "make", "make", 5 * MiB);
	assert_bytes(stage(r, "make")->bytes_at_peak, 5 * MiB);
	assert_bytes(stage(r, "compile")->bytes_at_peak, 50 * MiB);
	assert_bytes(stage(r, "link")->bytes_at_peak, 50 * MiB);
	ctx_free(x);
}

/* Before its exec is seen, the root is named by the argv the user gave (its basename). */
static void test_root_named_from_argv(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	const struct bmt_peak_proc *p;

	feed_add_root(&x->f, 100, ARGV("/usr/bin/make", "-j2"));
	r = result(x);
	assert_bytes(r->peak.bytes, 0);
	assert_int_equal(r->n_peak_procs, 0);
	assert_int_equal(r->n_stages, 1);
	assert_str(r->stages[0].name, "make");
	assert_u64(r->processes_total, 1);
	assert_int_equal(r->n_alive, 1);
	assert_u64(r->alive[0].pid, 100);
	assert_str(r->alive[0].comm, "make");

	feed_mm(&x->f, 100, 1);
	feed_rss(&x->f, 1, BMT_ANON, 10 * MiB);
	r = result(x);
	assert_bytes(r->peak.bytes, 10 * MiB);
	p = assert_row(r, 0, 100, "make", "make", 10 * MiB);
	assert_argv(p->argv, "/usr/bin/make", "-j2");
	assert_int_equal(r->n_commands, 1);
	assert_str(r->commands[0].name, "make");
	ctx_free(x);
}

/* A fork child without exec inherits its parent's command name, not the kernel's 15-char comm. */
static void test_command_inherited_name(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	const char *name = "x86_64-linux-gnu-gcc-12";

	feed_add_root(&x->f, 100, ARGV("x86_64-linux-gnu-gcc-12", "-c", "a.c"));
	feed_mm(&x->f, 100, 1);
	feed_exec(&x->f, 100, 1, "/usr/bin/x86_64-linux-gnu-gcc-12",
		  ARGV("x86_64-linux-gnu-gcc-12", "-c", "a.c"));
	feed_rss(&x->f, 1, BMT_ANON, 10 * MiB);
	fork_copy(x, 100, 101, 1, 2, 10 * MiB, 0, "x86_64-linux-gn");
	feed_rss(&x->f, 2, BMT_ANON, 15 * MiB);

	r = result(x);
	assert_bytes(r->peak.bytes, 15 * MiB);
	assert_row(r, 0, 100, name, name, 10 * MiB);
	assert_row(r, 1, 101, name, name, 5 * MiB);
	assert_int_equal(r->n_commands, 1);
	assert_str(r->commands[0].name, name);
	assert_bytes(r->commands[0].bytes_at_peak, 15 * MiB);
	assert_u64(r->commands[0].processes, 2);
	ctx_free(x);
}

/* argv cut at BMT_ARGV_MAX: the last string has no NUL; the record is still valid. */
static void test_exec_truncated_argv(void **state)
{
	struct ctx *x = ctx_new(compile_link_stages());
	const struct bmt_result *r;
	const struct bmt_peak_proc *p;
	struct rec_buf rb;
	static char big[BMT_ARGV_MAX + 1000];
	size_t len;

	memset(big, 'x', sizeof(big) - 1);
	feed_add_root(&x->f, 100, ARGV("make"));
	feed_mm(&x->f, 100, 1);
	feed_exec(&x->f, 100, 1, "/usr/bin/make", ARGV("make"));
	feed_rss(&x->f, 1, BMT_ANON, 5 * MiB);
	fork_copy(x, 100, 101, 1, 2, 5 * MiB, 0, "make");
	feed_rss(&x->f, 3, BMT_ANON, 1 * MiB);
	feed_rss(&x->f, 2, BMT_ANON, 0);
	feed_mm(&x->f, 101, 3);
	len = rec_exec(rb.b, feeder_tick(&x->f), 101, 3, "/usr/bin/gcc", ARGV("gcc", "-c", big));
	assert_true(((struct bmt_exec *)rb.b)->hdr.flags & BMT_EXEC_ARGV_TRUNCATED);
	assert_int_equal(((struct bmt_exec *)rb.b)->argv_len, BMT_ARGV_MAX);
	feed_ok(&x->f, rb.b, len);
	feed_rss(&x->f, 3, BMT_ANON, 10 * MiB);

	r = result(x);
	p = assert_row(r, 0, 101, "gcc", "compile", 10 * MiB);
	assert_non_null(p->argv);
	assert_str(p->argv[0], "gcc");
	assert_str(p->argv[1], "-c");
	if (p->argv[2]) { /* the cut argument, if kept, is what was read */
		assert_true(strlen(p->argv[2]) <= BMT_ARGV_MAX);
		assert_true(strspn(p->argv[2], "x") == strlen(p->argv[2]));
		assert_null(p->argv[3]);
	}
	ctx_free(x);
}

/* ---- -p mode: processes adopted at attach ---- */

/*
 * ADOPT (seeded counters, comm) then its names as an exec record with no mm; the first one
 * is the root. The seeds count in full; when the process's mm is met (MM) and one member
 * changes, the other members keep their seeded values.
 */
static void test_adopt(void **state)
{
	struct ctx *x = ctx_new(compile_link_stages());
	const struct bmt_result *r;
	const struct bmt_peak_proc *p;
	uint64_t ts_peak;

	feed_adopt(&x->f, 500, 1, "make", 10 * MiB, 200 * MiB, 7 * MiB, 5 * MiB); /* the root */
	feed_adopt_names(&x->f, 500, "/usr/bin/make", ARGV("make", "-j4"));
	assert_tree(x, 215 * MiB); /* swap is not RSS */
	feed_adopt(&x->f, 501, 500, "gcc", 2 * MiB, 50 * MiB, 0, 0);
	feed_adopt_names(&x->f, 501, "/usr/bin/gcc", ARGV("gcc", "-c", "a.c"));
	assert_tree(x, 267 * MiB);
	assert_u64(collector__alive(x->c), 2);
	/* first fault after attach: the mm is bound, then one member changes */
	feed_mm(&x->f, 500, 7);
	assert_tree(x, 267 * MiB);
	feed_rss(&x->f, 7, BMT_ANON, 210 * MiB);
	assert_tree(x, 277 * MiB); /* file 10 and shmem 5 keep their seeded values */
	feed_mm(&x->f, 501, 8);
	ts_peak = feed_rss(&x->f, 8, BMT_FILE, 3 * MiB);
	assert_tree(x, 278 * MiB);
	/* an adopted process forks: the inherited rule as usual */
	fork_copy(x, 500, 502, 7, 9, 210 * MiB, 10 * MiB, "make");
	assert_tree(x, 278 * MiB);
	feed_exit(&x->f, 501);
	feed_rss(&x->f, 8, BMT_ANON, 0); /* the seeded 50 falls */
	assert_tree(x, 228 * MiB);
	feed_rss(&x->f, 8, BMT_FILE, 0);
	assert_tree(x, 225 * MiB);

	assert_seq(x, 215, 267, 277, 278, 228, 225);
	r = result(x);
	assert_bytes(r->peak.bytes, 278 * MiB);
	assert_u64(r->peak.ts, ts_peak);
	assert_bytes(r->swap_at_peak, 7 * MiB);
	assert_int_equal(r->n_peak_procs, 2);
	p = assert_row(r, 0, 500, "make", "make", 225 * MiB);
	assert_bytes(p->anon_bytes, 210 * MiB);
	assert_bytes(p->file_bytes, 10 * MiB);
	assert_bytes(p->shmem_bytes, 5 * MiB);
	assert_argv(p->argv, "make", "-j4");
	p = assert_row(r, 1, 501, "gcc", "compile", 53 * MiB);
	assert_u64(p->ppid, 500);
	assert_bytes(p->anon_bytes, 50 * MiB);
	assert_bytes(p->file_bytes, 3 * MiB);
	assert_argv(p->argv, "gcc", "-c", "a.c");
	assert_str(r->stages[0].name, "make");
	assert_bytes(stage(r, "compile")->bytes_at_peak, 53 * MiB);
	assert_bytes(command(r, "gcc")->bytes_at_peak, 53 * MiB);
	assert_u64(r->processes_total, 3);
	assert_int_equal(r->n_alive, 2);
	assert_u64(r->alive[0].pid, 500);
	assert_str(r->alive[0].comm, "make");
	assert_u64(r->alive[1].pid, 502);
	assert_str(r->alive[1].comm, "make");
	ctx_free(x);
}

/*
 * An adopted process that exits before its mm was ever bound: no teardown records will
 * come for its seeded bytes, so they stop counting at its exit. Names: the root's
 * /proc/PID/exe and cmdline were unreadable (an empty filename and argv: named by its comm);
 * 501 exited before its names were read (named by the ADOPT's comm).
 */
static void test_adopt_exit_unbound(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	struct rec_buf rb;
	size_t len;

	feed_adopt(&x->f, 500, 1, "server", 0, 100 * MiB, 0, 0);
	len = rec_exec(rb.b, feeder_tick(&x->f), 500, 0, "", NULL);
	rec_comm(((struct bmt_exec *)rb.b)->comm, "server");
	feed_ok(&x->f, rb.b, len);
	feed_adopt(&x->f, 501, 500, "worker", 0, 40 * MiB, 0, 0);
	feed_exit(&x->f, 501);
	assert_tree(x, 100 * MiB);
	assert_u64(collector__alive(x->c), 1);
	r = result(x);
	assert_bytes(r->peak.bytes, 140 * MiB);
	assert_row(r, 0, 500, "server", "server", 100 * MiB);
	assert_row(r, 1, 501, "worker", "server", 40 * MiB);
	assert_int_equal(r->n_alive, 1);
	ctx_free(x);
}

/*
 * A process whose mm has no counters when it exits (its RSS records were lost, or it never
 * faulted): the exit retires the mm at once; the process is gone, nothing is freed twice.
 */
static void test_exit_with_empty_mm(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;

	feed_add_root(&x->f, 100, ARGV("make"));
	feed_mm(&x->f, 100, 1);
	feed_rss(&x->f, 1, BMT_ANON, 10 * MiB);
	feed_fork(&x->f, 100, 101, 1, 2, "make"); /* no copy records: key 2 is empty */
	feed_exit(&x->f, 101);
	feed_exit(&x->f, 100);
	feed_rss(&x->f, 1, BMT_ANON, 0);
	assert_u64(collector__alive(x->c), 0);
	r = result(x);
	assert_bytes(r->peak.bytes, 10 * MiB);
	assert_u64(r->processes_total, 2);
	assert_int_equal(r->n_alive, 0);
	ctx_free(x);
}

/*
 * Sizing per command: make runs three gcc of 10, 40 and 20 MiB, at most two at once, and a
 * fork-only helper of its own. make's children on their way to exec gcc are not make
 * instances of their own.
 */
static const struct bmt_command_result *find_cmd(const struct bmt_result *r, const char *name)
{
	for (size_t i = 0; i < r->n_commands; i++)
		if (!strcmp(r->commands[i].name, name))
			return &r->commands[i];
	fail_msg("no command %s", name);
	return NULL;
}

static void gcc_child(struct ctx *x, uint32_t pid, uint32_t key, uint64_t mib, const char *src)
{
	fork_copy(x, 100, pid, 1, key, 2 * MiB, 0, "make");
	feed_rss(&x->f, key + 100, BMT_ANON, 1 * MiB);
	feed_mm(&x->f, pid, key + 100);
	feed_rss(&x->f, key, BMT_ANON, 0); /* the fork copy torn down */
	feed_exec(&x->f, pid, key + 100, "/usr/bin/gcc", ARGV("gcc", "-c", src));
	feed_rss(&x->f, key + 100, BMT_ANON, mib * MiB);
}

static void end_child(struct ctx *x, uint32_t pid, uint32_t key)
{
	feed_exit(&x->f, pid);
	feed_rss(&x->f, key + 100, BMT_ANON, 0);
}

static void test_command_sizing(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_command_result *gcc, *make;
	const struct bmt_result *r;

	root_exec(x, 100, 1, ARGV("make"), "/usr/bin/make", ARGV("make", "-j2"));
	feed_rss(&x->f, 1, BMT_ANON, 2 * MiB);
	gcc_child(x, 101, 2, 10, "a.c");
	gcc_child(x, 102, 3, 40, "big.c");
	end_child(x, 101, 2);
	gcc_child(x, 103, 4, 20, "c.c");
	end_child(x, 102, 3);
	fork_copy(x, 100, 104, 1, 5, 2 * MiB, 0, "make"); /* a helper that stays make */
	feed_rss(&x->f, 5, BMT_ANON, 7 * MiB);
	r = result(x);
	gcc = find_cmd(r, "gcc");
	assert_u64(gcc->processes, 3);
	assert_u64(gcc->max_instances, 2);
	assert_bytes(gcc->max_proc_peak, 40 * MiB); /* 103 is still running: counted too */
	/* the median of 10, 20, 40 is 20: a bucket top within 1/16 above */
	assert_true(gcc->p50_proc_peak >= 20 * MiB && gcc->p50_proc_peak <= 20 * MiB + 20 * MiB / 16);
	assert_bytes(gcc->p95_proc_peak, 40 * MiB);
	assert_u64(gcc->instances_at_peak, 2); /* the peak: make 2 + gcc 40 + gcc 20 */
	/* the largest process is named: the culprit's file */
	assert_u64(gcc->max_proc_pid, 102);
	assert_non_null(gcc->max_proc_argv);
	assert_string_equal(gcc->max_proc_argv[2], "big.c");
	make = find_cmd(r, "make");
	assert_u64(make->max_proc_peak, 5 * MiB); /* the helper adds 5 beyond its fork copy */
	assert_u64(make->max_proc_pid, 104);
	assert_true(make->max_instances <= 3);
	/* make's three children that exec'd gcc count in gcc alone: make ran in 100 and 104 */
	assert_u64(make->processes, 2);
	assert_u64(r->processes_total, 5);
	end_child(x, 103, 4);
	r = result(x);
	gcc = find_cmd(r, "gcc");
	assert_u64(gcc->max_instances, 2);
	assert_bytes(gcc->max_proc_peak, 40 * MiB);
	assert_u64(gcc->max_proc_pid, 102);
	assert_string_equal(gcc->max_proc_argv[2], "big.c");
	/* a live process larger than every exited one is named too */
	gcc_child(x, 105, 6, 50, "huge.c");
	r = result(x);
	gcc = find_cmd(r, "gcc");
	assert_u64(gcc->max_proc_pid, 105);
	assert_string_equal(gcc->max_proc_argv[2], "huge.c");
	ctx_free(x);
}

/*
 * A corrupt trace names one child twice (found by fuzzing: the first child, exited but still
 * owning its fork copy, was leaked when the second took the copy over). ASan checks the leak.
 */
static void test_duplicate_fork_pid(void **state)
{
	struct ctx *x = ctx_new(NULL);

	root_exec(x, 100, 1, ARGV("sh"), "/bin/sh", ARGV("sh"));
	feed_rss(&x->f, 1, BMT_ANON, 10 * MiB);
	fork_copy(x, 100, 101, 1, 2, 10 * MiB, 0, "sh");
	feed_fork(&x->f, 100, 101, 7, 2, "sh");
	feed_rss(&x->f, 2, BMT_ANON, 12 * MiB);
	assert_u64(collector__alive(x->c), 2);
	result(x);
	/* and one that forks itself: rejected, nothing freed under the handler's feet */
	{
		struct rec_buf rb;
		size_t len = rec_fork(rb.b, feeder_tick(&x->f), 0, 100, 100, 1, 3, "sh");

		assert_int_equal(collector__feed(x->c, rb.b, len), -EINVAL);
		/* the same for a process adopted as its own parent, twice (found by fuzzing: the
		 * second replaced the first and then read its stage through the freed parent) */
		for (int i = 0; i < 2; i++) {
			len = rec_adopt(rb.b, feeder_tick(&x->f), 300, 300, "x", 0, MiB, 0, 0);
			assert_int_equal(collector__feed(x->c, rb.b, len), -EINVAL);
		}
	}
	assert_u64(collector__alive(x->c), 2);
	ctx_free(x);
}

/*
 * The address spaces -p seeds from /proc live under keys above BMT_MM_KEY_MAX, which the
 * kernel never hands out: a record naming one is malformed (found by fuzzing serve's
 * router: a process adopted under pid 2^31 + 200 took the seed key of pid 200, replaced it in
 * the table and leaked both). Nor is a pid the kernel cannot hand out.
 */
static void test_seed_keys_refused(void **state)
{
	struct ctx *x = ctx_new(NULL);
	uint32_t seed_key = (BMT_MM_KEY_MAX + 1) | 200;
	struct rec_buf rb;
	size_t len;

	feed_adopt(&x->f, 200, 1, "make", 0, 4 * MiB, 0, 0);
	len = rec_fork(rb.b, feeder_tick(&x->f), 0, 200, 201, 0, seed_key, "cc");
	assert_int_equal(collector__feed(x->c, rb.b, len), -EINVAL);
	len = rec_rss(rb.b, feeder_tick(&x->f), seed_key, BMT_ANON, 64 * MiB);
	assert_int_equal(collector__feed(x->c, rb.b, len), -EINVAL);
	len = rec_mm(rb.b, feeder_tick(&x->f), 200, seed_key);
	assert_int_equal(collector__feed(x->c, rb.b, len), -EINVAL);
	len = rec_exec(rb.b, feeder_tick(&x->f), 200, seed_key, "/bin/cc", ARGV("cc"));
	assert_int_equal(collector__feed(x->c, rb.b, len), -EINVAL);
	/* nor is a pid past the kernel's limit, whose seed key would be another's */
	len = rec_adopt(rb.b, feeder_tick(&x->f), seed_key, 1, "x", 0, MiB, 0, 0);
	assert_int_equal(collector__feed(x->c, rb.b, len), -EINVAL);
	/* the seed kept its counters and its process */
	assert_bytes(result(x)->peak.bytes, 4 * MiB);
	assert_u64(collector__alive(x->c), 1);
	ctx_free(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    TEST(test_command_sizing),
	    TEST(test_duplicate_fork_pid),
	    TEST(test_seed_keys_refused),
	    TEST(test_stages),
	    TEST(test_stage_nearest_match_first_rule),
	    TEST(test_root_named_from_argv),
	    TEST(test_command_inherited_name),
	    TEST(test_exec_truncated_argv),
	    TEST(test_adopt),
	    TEST(test_adopt_exit_unbound),
	    TEST(test_exit_with_empty_mm),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
