// modules: collector hooks mm result names sizing tally record table stages escape util
// SPDX-License-Identifier: MIT
/*
 * collector: the accounting rules of ../shared/design/accounting.md, fed hand-built
 * record sequences in the order the kernel side emits them (kernel.md, "Event order").
 * Every expected number is exact: the collector is exact for its definitions.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "records.h"
#include "collector.h"
#include "stages.h"

/* ---- observing the tree total through the sample callback ---- */

#define SEQ_MAX 1024

struct trace {
	size_t calls;
	uint64_t seq[SEQ_MAX]; /* tree totals from 0, consecutive repeats collapsed */
	size_t n_seq;
	bool seq_overflow;
	uint64_t cur_tree, cur_anon;
	uint64_t max_tree, max_tree_ts, max_anon, max_anon_ts;
	size_t n_stages;
	size_t stage_sum_mismatches; /* samples whose stage bytes do not add up to the tree */
	size_t anon_over_tree;	     /* samples with anon > tree: an underflow somewhere */
	size_t absurd;		     /* samples over 1 TiB: a wrapped unsigned */
	uint64_t last_ts;
	size_t ts_backwards;
	uint64_t prev_stage[16];
	size_t redundant; /* samples where nothing (tree, anon, any stage) changed */
};

static void on_sample(void *ctx, const struct bmt_sample *s)
{
	struct trace *t = ctx;
	uint64_t sum = 0;

	t->calls++;
	if (s->ts < t->last_ts)
		t->ts_backwards++;
	t->last_ts = s->ts;
	for (size_t i = 0; i < s->n_stages; i++)
		sum += s->stage_bytes[i];
	if (sum != s->tree_bytes)
		t->stage_sum_mismatches++;
	t->n_stages = s->n_stages;
	if (s->anon_bytes > s->tree_bytes)
		t->anon_over_tree++;
	if (s->tree_bytes > 1024 * GiB || s->anon_bytes > 1024 * GiB)
		t->absurd++;
	if (t->n_seq ? t->seq[t->n_seq - 1] != s->tree_bytes : s->tree_bytes != 0) {
		if (t->n_seq < SEQ_MAX)
			t->seq[t->n_seq++] = s->tree_bytes;
		else
			t->seq_overflow = true;
	}
	if (s->tree_bytes > t->max_tree) {
		t->max_tree = s->tree_bytes;
		t->max_tree_ts = s->ts;
	}
	if (s->anon_bytes > t->max_anon) {
		t->max_anon = s->anon_bytes;
		t->max_anon_ts = s->ts;
	}
	if (s->tree_bytes == t->cur_tree && s->anon_bytes == t->cur_anon &&
	    (!s->n_stages || !memcmp(s->stage_bytes, t->prev_stage,
				     (s->n_stages < 16 ? s->n_stages : 16) * sizeof(uint64_t))))
		t->redundant++;
	for (size_t i = 0; i < s->n_stages && i < 16; i++)
		t->prev_stage[i] = s->stage_bytes[i];
	t->cur_tree = s->tree_bytes;
	t->cur_anon = s->anon_bytes;
}

/* ---- per-test context ---- */

struct ctx {
	struct stages *s;
	struct collector *c;
	struct feeder f;
	struct trace t;
};

/* The test's context, freed by the teardown when an assertion ends the test early. */
static struct ctx *live_ctx;

static struct ctx *ctx_new(struct stages *s)
{
	struct ctx *x = calloc(1, sizeof(*x));

	assert_non_null(x);
	live_ctx = x;
	x->s = s;
	x->c = collector__new(s);
	assert_non_null(x->c);
	feeder_init(&x->f, x->c);
	collector__on_sample(x->c, on_sample, &x->t);
	return x;
}

static void ctx_free(struct ctx *x)
{
	collector__free(x->c);
	stages__free(x->s);
	free(x);
	live_ctx = NULL;
}

static int free_live_ctx(void **state)
{
	if (live_ctx)
		ctx_free(live_ctx);
	return 0;
}

static struct stages *compile_link_stages(void)
{
	struct stages *s = stages__new();
	char err[256] = "";

	assert_non_null(s);
	assert_int_equal(stages__add(s, "compile=(^| )(cc|gcc|clang)( |$)", err, sizeof(err)), 0);
	assert_int_equal(stages__add(s, "link=(^| )(ld|collect2)( |$)", err, sizeof(err)), 0);
	return s;
}

/* ---- assertions that print bytes as bytes and strings safely ---- */

#define assert_bytes(got, want) assert_bytes_at((got), (want), #got, __FILE__, __LINE__)
static void assert_bytes_at(uint64_t got, uint64_t want, const char *what, const char *file,
			    int line)
{
	if (got == want)
		return;
	print_error("%s = %" PRIu64 " (%.4f MiB), want %" PRIu64 " (%.4f MiB)\n", what, got,
		    (double)got / MiB, want, (double)want / MiB);
	_fail(file, line);
}

#define assert_u64(got, want) assert_u64_at((got), (want), #got, __FILE__, __LINE__)
static void assert_u64_at(uint64_t got, uint64_t want, const char *what, const char *file, int line)
{
	if (got == want)
		return;
	print_error("%s = %" PRIu64 ", want %" PRIu64 "\n", what, got, want);
	_fail(file, line);
}

#define assert_str(got, want) assert_str_at((got), (want), #got, __FILE__, __LINE__)
static void assert_str_at(const char *got, const char *want, const char *what, const char *file,
			  int line)
{
	if (got && want && !strcmp(got, want))
		return;
	print_error("%s = %s%s%s, want \"%s\"\n", what, got ? "\"" : "", got ? got : "NULL",
		    got ? "\"" : "", want);
	_fail(file, line);
}

#define assert_argv(got, ...) assert_argv_at((got), ARGV(__VA_ARGS__), #got, __FILE__, __LINE__)
static void assert_argv_at(char *const *got, const char *const *want, const char *what,
			   const char *file, int line)
{
	size_t i;

	if (!got) {
		print_error("%s is NULL, want argv[0] \"%s\"\n", what, want[0]);
		_fail(file, line);
	}
	for (i = 0; want[i]; i++) {
		if (!got[i] || strcmp(got[i], want[i])) {
			print_error("%s[%zu] = %s, want \"%s\"\n", what, i,
				    got[i] ? got[i] : "NULL", want[i]);
			_fail(file, line);
		}
	}
	if (got[i]) {
		print_error("%s[%zu] = \"%s\", want NULL (end of argv)\n", what, i, got[i]);
		_fail(file, line);
	}
}

/* The tree totals seen by the sample callback, consecutive repeats collapsed, in MiB. */
#define assert_seq(x, ...)                                                                         \
	assert_seq_at(&(x)->t, (const uint64_t[]){__VA_ARGS__},                                    \
		      sizeof((const uint64_t[]){__VA_ARGS__}) / sizeof(uint64_t), __FILE__,        \
		      __LINE__)
static void assert_seq_at(const struct trace *t, const uint64_t *want_mib, size_t n,
			  const char *file, int line)
{
	bool same = !t->seq_overflow && t->n_seq == n;

	for (size_t i = 0; same && i < n; i++)
		same = t->seq[i] == want_mib[i] * MiB;
	if (same)
		return;
	print_error("tree totals seen by the sample callback (MiB):\n  got: ");
	for (size_t i = 0; i < t->n_seq; i++)
		print_error(" %.4g", (double)t->seq[i] / MiB);
	print_error("\n want: ");
	for (size_t i = 0; i < n; i++)
		print_error(" %" PRIu64, want_mib[i]);
	print_error("\n");
	_fail(file, line);
}

/* The tree total now, as the last sample reported it. */
#define assert_tree(x, want)                                                                       \
	assert_bytes_at((x)->t.cur_tree, (want), "tree total now", __FILE__, __LINE__)

static const struct bmt_peak_proc *peak_proc(const struct bmt_result *r, uint32_t pid)
{
	for (size_t i = 0; i < r->n_peak_procs; i++)
		if (r->peak_procs[i].pid == pid)
			return &r->peak_procs[i];
	return NULL;
}

static const struct bmt_stage_result *stage(const struct bmt_result *r, const char *name)
{
	for (size_t i = 0; i < r->n_stages; i++)
		if (r->stages[i].name && !strcmp(r->stages[i].name, name))
			return &r->stages[i];
	print_error("no stage \"%s\" in the result\n", name);
	fail();
	return NULL;
}

static const struct bmt_command_result *command(const struct bmt_result *r, const char *name)
{
	for (size_t i = 0; i < r->n_commands; i++)
		if (r->commands[i].name && !strcmp(r->commands[i].name, name))
			return &r->commands[i];
	print_error("no command \"%s\" in the result\n", name);
	fail();
	return NULL;
}

/* One row of the peak table, checked in full. */
#define assert_row(r, idx, pid_, comm_, stage_, bytes_)                                            \
	assert_row_at((r), (idx), (pid_), (comm_), (stage_), (bytes_), __FILE__, __LINE__)
static const struct bmt_peak_proc *assert_row_at(const struct bmt_result *r, size_t idx,
						 uint32_t pid, const char *comm,
						 const char *stage_name, uint64_t bytes,
						 const char *file, int line)
{
	const struct bmt_peak_proc *p;

	if (idx >= r->n_peak_procs) {
		print_error("peak table has %zu rows, want row %zu (pid %u)\n", r->n_peak_procs,
			    idx, pid);
		_fail(file, line);
	}
	p = &r->peak_procs[idx];
	if (p->pid != pid) {
		print_error("peak row %zu: pid %u, want %u\n", idx, p->pid, pid);
		_fail(file, line);
	}
	if (comm)
		assert_str_at(p->comm, comm, "peak row comm", file, line);
	if (stage_name)
		assert_str_at(p->stage, stage_name, "peak row stage", file, line);
	assert_bytes_at(p->bytes, bytes, "peak row bytes", file, line);
	return p;
}

/*
 * What must hold for every result: the peak table adds up to the peak, largest first, only
 * non-zero rows, each row's members add up to it; stages and commands add up to the peak;
 * the samples saw the same maximum, at the same time; nothing wrapped below zero.
 */
static const struct bmt_result *result(struct ctx *x)
{
	const struct bmt_result *r = collector__result(x->c);
	uint64_t sum = 0, anon = 0, file = 0, shmem = 0;

	assert_non_null(r);
	for (size_t i = 0; i < r->n_peak_procs; i++) {
		const struct bmt_peak_proc *p = &r->peak_procs[i];

		assert_true(p->bytes > 0);
		if (i)
			assert_true(p->bytes <= r->peak_procs[i - 1].bytes);
		assert_bytes(p->anon_bytes + p->file_bytes + p->shmem_bytes, p->bytes);
		assert_non_null(p->comm);
		assert_non_null(p->stage);
		assert_non_null(p->argv);
		sum += p->bytes;
		anon += p->anon_bytes;
		file += p->file_bytes;
		shmem += p->shmem_bytes;
	}
	assert_bytes(sum, r->peak.bytes);
	assert_bytes(anon, r->peak.anon_bytes);
	assert_bytes(file, r->peak.file_bytes);
	assert_bytes(shmem, r->peak.shmem_bytes);
	assert_bytes(r->peak.anon_bytes + r->peak.file_bytes + r->peak.shmem_bytes, r->peak.bytes);
	assert_true(r->anon_peak.bytes <= r->peak.bytes);
	assert_true(r->raw_peak.bytes >= r->peak.bytes);

	assert_true(r->n_stages >= 1);
	sum = 0;
	for (size_t i = 0; i < r->n_stages; i++) {
		assert_non_null(r->stages[i].name);
		assert_true(r->stages[i].peak_bytes >= r->stages[i].bytes_at_peak);
		sum += r->stages[i].bytes_at_peak;
	}
	assert_bytes(sum, r->peak.bytes);

	sum = 0;
	for (size_t i = 0; i < r->n_commands; i++) {
		const struct bmt_command_result *c = &r->commands[i];

		assert_non_null(c->name);
		assert_true(c->peak_bytes >= c->bytes_at_peak);
		if (i) {
			const struct bmt_command_result *b = &r->commands[i - 1];

			assert_true(c->bytes_at_peak < b->bytes_at_peak ||
				    (c->bytes_at_peak == b->bytes_at_peak &&
				     c->peak_bytes <= b->peak_bytes));
		}
		sum += c->bytes_at_peak;
	}
	assert_bytes(sum, r->peak.bytes);

	assert_u64(r->n_alive, collector__alive(x->c));
	for (size_t i = 1; i < r->n_alive; i++)
		assert_true(r->alive[i - 1].pid < r->alive[i].pid);

	assert_u64(r->events, x->f.n_rss);
	assert_u64(x->t.absurd, 0);
	assert_u64(x->t.anon_over_tree, 0);
	assert_u64(x->t.ts_backwards, 0);
	assert_u64(x->t.stage_sum_mismatches, 0);
	assert_bytes(x->t.max_tree, r->peak.bytes);
	assert_bytes(x->t.max_anon, r->anon_peak.bytes);
	if (r->peak.bytes)
		assert_u64(x->t.max_tree_ts, r->peak.ts);
	if (r->anon_peak.bytes)
		assert_u64(x->t.max_anon_ts, r->anon_peak.ts);
	if (x->t.calls)
		assert_u64(x->t.n_stages, r->n_stages);
	return r;
}

/* ---- sequences the kernel side emits ---- */

/*
 * Wrap mode: bmtrace forked pid and it execs the command. The new mm is filled with argv
 * (1 MiB of anon, not bound yet: counts nothing), the task switches to it (MM: counts from
 * now), then the exec record. The tree total is 1 MiB after this.
 */
static void root_exec(struct ctx *x, uint32_t pid, uint32_t key, const char *const root_argv[],
		      const char *filename, const char *const argv[])
{
	feed_add_root(&x->f, pid, root_argv);
	feed_rss(&x->f, key, BMT_ANON, 1 * MiB);
	feed_mm(&x->f, pid, key);
	feed_exec(&x->f, pid, key, filename, argv);
}

/* fork() without CLONE_VM: the parent copies its page tables into the child's new mm first. */
static uint64_t fork_copy(struct ctx *x, uint32_t ppid, uint32_t pid, uint32_t parent_key,
			  uint32_t child_key, uint64_t anon, uint64_t file, const char *comm)
{
	if (anon)
		feed_rss(&x->f, child_key, BMT_ANON, anon);
	if (file)
		feed_rss(&x->f, child_key, BMT_FILE, file);
	return feed_fork(&x->f, ppid, pid, parent_key, child_key, comm);
}

/*
 * exec: argv pages land in the new mm (1 MiB anon, unbound), the old mm is torn down when
 * this process was its last user (old_key != 0: its non-zero members fall to 0), the task
 * switches (MM), then the exec record. Returns the MM record's ts.
 */
static uint64_t exec_new(struct ctx *x, uint32_t pid, uint32_t old_key, bool old_anon,
			 bool old_file, uint32_t new_key, const char *filename,
			 const char *const argv[])
{
	uint64_t ts;

	feed_rss(&x->f, new_key, BMT_ANON, 1 * MiB);
	if (old_key && old_anon)
		feed_rss(&x->f, old_key, BMT_ANON, 0);
	if (old_key && old_file)
		feed_rss(&x->f, old_key, BMT_FILE, 0);
	ts = feed_mm(&x->f, pid, new_key);
	feed_exec(&x->f, pid, new_key, filename, argv);
	return ts;
}

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

/* ---- counters, liveness, samples ---- */

static void test_counters(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	struct rec_buf rb;
	uint64_t ts_first, ts_last;

	feed_add_root(&x->f, 100, ARGV("make"));
	ts_first = feed_rss(&x->f, 1, BMT_ANON, 1 * MiB);
	feed_mm(&x->f, 100, 1);
	feed_exec(&x->f, 100, 1, "/usr/bin/make", ARGV("make"));
	feed_rss(&x->f, 1, BMT_ANON, 5 * MiB);
	feed_rss(&x->f, 1, BMT_SWAP, 1 * MiB);
	fork_copy(x, 100, 101, 1, 2, 5 * MiB, 0, "make");
	feed_exit(&x->f, 101);
	ts_last = feed_rss(&x->f, 2, BMT_ANON, 0);

	r = result(x);
	assert_u64(r->events, 5);
	assert_u64(r->processes_total, 2);
	assert_u64(r->rejected, 0);
	assert_u64(r->first_ts, ts_first);
	assert_u64(r->last_ts, ts_last);

	/* a rejected record does not move last_ts */
	rec_rss(rb.b, feeder_tick(&x->f), 1, BMT_ANON, 9 * MiB);
	((struct bmt_hdr *)rb.b)->type = 99;
	assert_int_equal(collector__feed(x->c, rb.b, sizeof(struct bmt_rss)), -EINVAL);
	r = result(x);
	assert_u64(r->rejected, 1);
	assert_u64(r->last_ts, ts_last);
	assert_u64(r->events, 5);
	ctx_free(x);
}

static void test_alive(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;

	root_exec(x, 100, 1, ARGV("make"), "/usr/bin/make", ARGV("make"));
	feed_rss(&x->f, 1, BMT_ANON, 10 * MiB);
	fork_copy(x, 100, 103, 1, 2, 10 * MiB, 0, "make");
	fork_copy(x, 100, 105, 1, 3, 10 * MiB, 0, "make");
	fork_copy(x, 100, 104, 1, 4, 10 * MiB, 0, "make");
	exec_new(x, 105, 3, true, false, 5, "/bin/sleep", ARGV("sleep", "100"));
	assert_u64(collector__alive(x->c), 4);
	feed_exit(&x->f, 104);
	assert_u64(collector__alive(x->c), 3);
	feed_rss(&x->f, 4, BMT_ANON, 0);
	assert_u64(collector__alive(x->c), 3);
	feed_exit(&x->f, 100); /* the root ends; its daemons live on */
	assert_u64(collector__alive(x->c), 2);
	feed_rss(&x->f, 1, BMT_ANON, 0);

	r = result(x);
	assert_u64(r->processes_total, 4);
	assert_int_equal(r->n_alive, 2);
	assert_u64(r->alive[0].pid, 103);
	assert_str(r->alive[0].comm, "make");
	assert_u64(r->alive[1].pid, 105);
	assert_str(r->alive[1].comm, "sleep");
	ctx_free(x);
}

static void test_sample_off(void **state)
{
	struct ctx *x = ctx_new(NULL);
	const struct bmt_result *r;
	size_t calls;

	feed_add_root(&x->f, 100, ARGV("app"));
	feed_mm(&x->f, 100, 1);
	feed_rss(&x->f, 1, BMT_ANON, 10 * MiB);
	assert_true(x->t.calls >= 1);
	calls = x->t.calls;
	collector__on_sample(x->c, NULL, NULL);
	feed_rss(&x->f, 1, BMT_ANON, 20 * MiB);
	assert_u64(x->t.calls, calls);
	r = collector__result(x->c);
	assert_non_null(r);
	assert_bytes(r->peak.bytes, 20 * MiB);
	ctx_free(x);
}

/*
 * A sample is a change (interface.md: the timeline has one row per change): records that
 * change no total and no stage's bytes (an empty mm bound, a fork adding nothing, an exit
 * before its teardown, swap, an unbound key) call no sample.
 */
static void test_sample_only_on_change(void **state)
{
	struct ctx *x = ctx_new(compile_link_stages());

	feed_add_root(&x->f, 100, ARGV("make"));
	feed_mm(&x->f, 100, 1);					 /* empty mm: 0 -> 0 */
	feed_exec(&x->f, 100, 1, "/usr/bin/make", ARGV("make")); /* no stage moves */
	feed_rss(&x->f, 1, BMT_ANON, 10 * MiB);
	feed_rss(&x->f, 1, BMT_SWAP, 1 * MiB);
	fork_copy(x, 100, 101, 1, 2, 10 * MiB, 0, "make");	    /* adds 0 */
	feed_rss(&x->f, 3, BMT_ANON, 1 * MiB);			    /* unbound */
	feed_rss(&x->f, 2, BMT_ANON, 0);			    /* inherited only: adds 0 */
	feed_mm(&x->f, 101, 3);					    /* +1 */
	feed_exec(&x->f, 101, 3, "/usr/bin/cc", ARGV("cc", "a.c")); /* 1 MiB: make -> compile */
	feed_rss(&x->f, 3, BMT_ANON, 5 * MiB);
	feed_exit(&x->f, 101); /* freed at teardown */
	feed_rss(&x->f, 3, BMT_ANON, 0);

	assert_seq(x, 10, 11, 15, 10);
	assert_u64(x->t.redundant, 0);
	assert_u64(x->t.calls, 5); /* 10, 11, 11 moved to compile, 15, 10 */
	result(x);
	ctx_free(x);
}

/* ---- malformed input ---- */

struct snapshot {
	uint64_t peak, peak_ts, raw, events, procs, last_ts, rejected;
	size_t n_peak_procs, alive, calls;
};

static struct snapshot snap(struct ctx *x)
{
	const struct bmt_result *r = collector__result(x->c);
	struct snapshot s;

	assert_non_null(r);
	s = (struct snapshot){
	    .peak = r->peak.bytes,
	    .peak_ts = r->peak.ts,
	    .raw = r->raw_peak.bytes,
	    .events = r->events,
	    .procs = r->processes_total,
	    .last_ts = r->last_ts,
	    .rejected = r->rejected,
	    .n_peak_procs = r->n_peak_procs,
	    .alive = collector__alive(x->c),
	    .calls = x->t.calls,
	};
	return s;
}

/* Everything but the rejected counter is as before. */
static void assert_unchanged(struct ctx *x, const struct snapshot *before, uint64_t rejected)
{
	struct snapshot now = snap(x);

	assert_bytes(now.peak, before->peak);
	assert_u64(now.peak_ts, before->peak_ts);
	assert_bytes(now.raw, before->raw);
	assert_u64(now.events, before->events);
	assert_u64(now.procs, before->procs);
	assert_u64(now.last_ts, before->last_ts);
	assert_u64(now.n_peak_procs, before->n_peak_procs);
	assert_u64(now.alive, before->alive);
	assert_u64(now.calls, before->calls);
	assert_u64(now.rejected, rejected);
}

/* A small running tree to feed bad records into: root 100 on key 1 (10 MiB). */
static struct ctx *small_tree(void)
{
	struct ctx *x = ctx_new(NULL);

	feed_add_root(&x->f, 100, ARGV("make"));
	feed_mm(&x->f, 100, 1);
	feed_exec(&x->f, 100, 1, "/usr/bin/make", ARGV("make"));
	feed_rss(&x->f, 1, BMT_ANON, 10 * MiB);
	return x;
}

static void test_reject_unknown_type(void **state)
{
	struct ctx *x = small_tree();
	struct snapshot before = snap(x);
	const uint16_t types[] = {0, BMT_REC_MAX, 0x7fff, 0xffff};
	struct rec_buf rb;

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		/* an RSS record that would raise the peak, under an unknown type */
		size_t len = rec_rss(rb.b, feeder_tick(&x->f), 1, BMT_ANON, 500 * MiB);

		((struct bmt_hdr *)rb.b)->type = types[i];
		assert_int_equal(collector__feed(x->c, rb.b, len), -EINVAL);
	}
	assert_unchanged(x, &before, 4);
	feed_rss(&x->f, 1, BMT_ANON, 20 * MiB); /* and it still works */
	assert_bytes(result(x)->peak.bytes, 20 * MiB);
	ctx_free(x);
}

static void test_reject_short_records(void **state)
{
	struct ctx *x = small_tree();
	struct snapshot before = snap(x);
	struct rec_buf rb;
	uint64_t rejected = 0;
	size_t len;

#define FEED_SHORT(build)                                                                          \
	do {                                                                                       \
		len = (build);                                                                     \
		((struct bmt_hdr *)rb.b)->size = len - 1;                                          \
		assert_int_equal(collector__feed(x->c, rb.b, len - 1), -EINVAL);                   \
		rejected++;                                                                        \
	} while (0)

	/* each would change the state if it were accepted */
	FEED_SHORT(rec_rss(rb.b, feeder_tick(&x->f), 1, BMT_ANON, 500 * MiB));
	FEED_SHORT(rec_fork(rb.b, feeder_tick(&x->f), 0, 100, 101, 1, 1, "make"));
	FEED_SHORT(rec_mm(rb.b, feeder_tick(&x->f), 100, 2));
	FEED_SHORT(rec_exit(rb.b, feeder_tick(&x->f), 100, 0));
	FEED_SHORT(rec_adopt(rb.b, feeder_tick(&x->f), 600, 100, "x", 0, 500 * MiB, 0, 0));
#undef FEED_SHORT

	/* an exec record shorter than its fixed part */
	rec_exec(rb.b, feeder_tick(&x->f), 100, 1, "/bin/x", ARGV("x"));
	len = sizeof(struct bmt_exec) - 1;
	((struct bmt_hdr *)rb.b)->size = len;
	assert_int_equal(collector__feed(x->c, rb.b, len), -EINVAL);
	rejected++;

	/* a header alone, and less than a header */
	len = rec_rss(rb.b, feeder_tick(&x->f), 1, BMT_ANON, 500 * MiB);
	((struct bmt_hdr *)rb.b)->size = sizeof(struct bmt_hdr);
	assert_int_equal(collector__feed(x->c, rb.b, sizeof(struct bmt_hdr)), -EINVAL);
	rejected++;
	((struct bmt_hdr *)rb.b)->size = 4;
	assert_int_equal(collector__feed(x->c, rb.b, 4), -EINVAL);
	rejected++;

	/* an exec whose filename and argv run past the end of the record */
	len = rec_exec(rb.b, feeder_tick(&x->f), 100, 1, "/bin/x", ARGV("x", "y"));
	((struct bmt_exec *)rb.b)->argv_len += 64;
	assert_int_equal(collector__feed(x->c, rb.b, len), -EINVAL);
	rejected++;
	len = rec_exec(rb.b, feeder_tick(&x->f), 100, 1, "/bin/x", ARGV("x", "y"));
	((struct bmt_exec *)rb.b)->filename_len = UINT32_MAX; /* no wrap-around in the check */
	assert_int_equal(collector__feed(x->c, rb.b, len), -EINVAL);
	rejected++;

	assert_unchanged(x, &before, rejected);
	feed_rss(&x->f, 1, BMT_ANON, 20 * MiB);
	assert_bytes(result(x)->peak.bytes, 20 * MiB);
	ctx_free(x);
}

static void test_zero_length_feed(void **state)
{
	struct ctx *x = small_tree();
	struct snapshot before = snap(x);
	struct rec_buf rb;

	rec_rss(rb.b, feeder_tick(&x->f), 1, BMT_ANON, 500 * MiB);
	assert_int_equal(collector__feed(x->c, rb.b, 0), -EINVAL);
	assert_unchanged(x, &before, 1);
	ctx_free(x);
}

/* hdr.size disagreeing with the bytes given: the record is malformed either way. */
static void test_reject_size_mismatch(void **state)
{
	struct ctx *x = small_tree();
	struct snapshot before = snap(x);
	struct rec_buf rb;
	size_t len;

	len = rec_rss(rb.b, feeder_tick(&x->f), 1, BMT_ANON, 500 * MiB);
	((struct bmt_hdr *)rb.b)->size = len + 8; /* claims more than was given */
	assert_int_equal(collector__feed(x->c, rb.b, len), -EINVAL);
	len = rec_rss(rb.b, feeder_tick(&x->f), 1, BMT_ANON, 500 * MiB);
	((struct bmt_hdr *)rb.b)->size = 8; /* claims less than its type needs */
	assert_int_equal(collector__feed(x->c, rb.b, len), -EINVAL);
	assert_unchanged(x, &before, 2);
	ctx_free(x);
}

/* An RSS member the kernel does not have must not index past the counters. */
static void test_reject_bad_member(void **state)
{
	struct ctx *x = small_tree();
	struct snapshot before = snap(x);
	struct rec_buf rb;
	size_t len;

	len = rec_rss(rb.b, feeder_tick(&x->f), 1, BMT_NR_MEMBERS, 500 * MiB);
	assert_int_equal(collector__feed(x->c, rb.b, len), -EINVAL);
	len = rec_rss(rb.b, feeder_tick(&x->f), 1, UINT32_MAX, 500 * MiB);
	assert_int_equal(collector__feed(x->c, rb.b, len), -EINVAL);
	assert_unchanged(x, &before, 2);
	ctx_free(x);
}

/* ---- the cached result and the live view ---- */

/* Every value of the live view equals the full result's at the same moment. */
static void assert_now_matches(struct ctx *x)
{
	const struct bmt_result *r;
	struct bmt_now now;

	collector__now(x->c, &now); /* first: the view must not depend on a result built */
	r = result(x);
	assert_bytes(now.tree_bytes, r->tree_bytes_now);
	assert_bytes(now.anon_bytes, r->anon_bytes_now);
	assert_bytes(now.peak.bytes, r->peak.bytes);
	assert_u64(now.peak.ts, r->peak.ts);
	assert_bytes(now.peak.anon_bytes, r->peak.anon_bytes);
	assert_bytes(now.peak.file_bytes, r->peak.file_bytes);
	assert_bytes(now.peak.shmem_bytes, r->peak.shmem_bytes);
	assert_u64(now.alive, r->n_alive);
	assert_u64(now.alive, collector__alive(x->c));
	assert_u64(now.processes_total, r->processes_total);
	assert_u64(now.events, r->events);
	assert_u64(now.rejected, r->rejected);
	assert_u64(now.first_ts, r->first_ts);
	assert_u64(now.last_ts, r->last_ts);
	assert_int_equal(now.n_stages, r->n_stages);
	for (size_t i = 0; i < now.n_stages; i++) {
		assert_str(now.stages[i].name, r->stages[i].name);
		assert_bytes(now.stages[i].bytes, r->stages[i].bytes_now);
		assert_bytes(now.stages[i].peak_bytes, r->stages[i].peak_bytes);
		assert_u64(now.stages[i].peak_ts, r->stages[i].peak_ts);
	}
	assert_int_equal(now.n_commands, r->n_commands);
	for (size_t i = 0; i < now.n_commands; i++) {
		const struct bmt_command_result *cmd = command(r, now.commands[i].name);

		assert_bytes(now.commands[i].bytes, cmd->bytes_now);
		assert_bytes(now.commands[i].peak_bytes, cmd->peak_bytes);
		assert_u64(now.commands[i].peak_ts, cmd->peak_ts);
	}
}

#define STEP(x, probe, call)                                                                       \
	do {                                                                                       \
		call;                                                                              \
		if (probe)                                                                         \
			probe(x);                                                                  \
	} while (0)

/*
 * A build with every record kind, probe(x) (if any) after each: fork+exec into a stage,
 * vfork+exec into another, exits and teardowns, a helper that stays make, an exec of the same
 * command again, a rejected record. Its peak: make 30 + gcc 220 + ld 51 = 301 MiB.
 */
static void build_scenario(struct ctx *x, void (*probe)(struct ctx *x))
{
	struct rec_buf rb;

	if (probe)
		probe(x);
	STEP(x, probe, feed_add_root(&x->f, 100, ARGV("make")));
	STEP(x, probe, feed_rss(&x->f, 1, BMT_ANON, 1 * MiB));
	STEP(x, probe, feed_mm(&x->f, 100, 1));
	STEP(x, probe, feed_exec(&x->f, 100, 1, "/usr/bin/make", ARGV("make", "-j2")));
	STEP(x, probe, feed_rss(&x->f, 1, BMT_ANON, 30 * MiB));
	STEP(x, probe, feed_rss(&x->f, 2, BMT_ANON, 30 * MiB));
	STEP(x, probe, feed_fork(&x->f, 100, 101, 1, 2, "make"));
	STEP(x, probe, feed_rss(&x->f, 3, BMT_ANON, 1 * MiB));
	STEP(x, probe, feed_mm(&x->f, 101, 3));
	STEP(x, probe, feed_rss(&x->f, 2, BMT_ANON, 0));
	STEP(x, probe, feed_exec(&x->f, 101, 3, "/usr/bin/gcc", ARGV("gcc", "-c", "a.c")));
	STEP(x, probe, feed_rss(&x->f, 3, BMT_ANON, 200 * MiB));
	STEP(x, probe, feed_rss(&x->f, 3, BMT_FILE, 20 * MiB));
	STEP(x, probe, feed_vfork(&x->f, 100, 102, 1, "make"));
	STEP(x, probe, feed_rss(&x->f, 4, BMT_ANON, 1 * MiB));
	STEP(x, probe, feed_mm(&x->f, 102, 4));
	STEP(x, probe, feed_exec(&x->f, 102, 4, "/usr/bin/ld", ARGV("ld", "-o", "a")));
	STEP(x, probe, feed_rss(&x->f, 4, BMT_SHMEM, 50 * MiB));
	STEP(x, probe, feed_exit(&x->f, 101));
	STEP(x, probe, feed_rss(&x->f, 3, BMT_FILE, 0));
	STEP(x, probe, feed_rss(&x->f, 3, BMT_ANON, 0));
	STEP(x, probe, feed_rss(&x->f, 5, BMT_ANON, 30 * MiB));
	STEP(x, probe, feed_fork(&x->f, 100, 103, 1, 5, "make"));
	STEP(x, probe, feed_rss(&x->f, 5, BMT_ANON, 45 * MiB));
	STEP(x, probe, feed_rss(&x->f, 6, BMT_ANON, 1 * MiB));
	STEP(x, probe, feed_mm(&x->f, 102, 6));
	STEP(x, probe, feed_rss(&x->f, 4, BMT_SHMEM, 0));
	STEP(x, probe, feed_rss(&x->f, 4, BMT_ANON, 0));
	STEP(x, probe, feed_exec(&x->f, 102, 6, "/usr/bin/ld", ARGV("ld", "-r")));
	STEP(x, probe,
	     assert_int_equal(collector__feed(x->c, rb.b,
					      rec_rss(rb.b, feeder_tick(&x->f), 1,
						      BMT_NR_MEMBERS, 1 * MiB)),
			      -EINVAL));
	STEP(x, probe, feed_exit(&x->f, 103));
	STEP(x, probe, feed_rss(&x->f, 5, BMT_ANON, 0));
	STEP(x, probe, feed_exit(&x->f, 102));
}

static void test_now_matches_result(void **state)
{
	struct ctx *x = ctx_new(compile_link_stages());
	struct bmt_now now;

	build_scenario(x, assert_now_matches);
	collector__now(x->c, &now);
	assert_bytes(now.peak.bytes, 301 * MiB);
	assert_bytes(now.tree_bytes, 31 * MiB); /* make 30 + ld's new 1, still to be torn down */
	assert_u64(now.alive, 1);
	assert_u64(now.rejected, 1);
	assert_int_equal(now.n_stages, 3);
	assert_str(now.stages[0].name, "make");
	assert_str(now.stages[2].name, "link");
	/* ld's old mm (51) counts until torn down, its new one (1) from the MM record on */
	assert_bytes(now.stages[2].peak_bytes, 52 * MiB);
	ctx_free(x);
}

/* The cached result, the one built after every record and a fresh one agree in full. */
static void assert_results_equal(const struct bmt_result *a, const struct bmt_result *b)
{
	assert_memory_equal(&a->peak, &b->peak, sizeof(a->peak));
	assert_memory_equal(&a->anon_peak, &b->anon_peak, sizeof(a->anon_peak));
	assert_memory_equal(&a->raw_peak, &b->raw_peak, sizeof(a->raw_peak));
	assert_u64(a->swap_at_peak, b->swap_at_peak);
	assert_int_equal(a->n_peak_procs, b->n_peak_procs);
	for (size_t i = 0; i < a->n_peak_procs; i++) {
		const struct bmt_peak_proc *p = &a->peak_procs[i], *q = &b->peak_procs[i];

		assert_u64(p->pid, q->pid);
		assert_u64(p->ppid, q->ppid);
		assert_str(p->comm, q->comm);
		assert_str(p->stage, q->stage);
		assert_str(p->argv[0], q->argv[0]);
		assert_bytes(p->bytes, q->bytes);
		assert_bytes(p->anon_bytes, q->anon_bytes);
		assert_bytes(p->file_bytes, q->file_bytes);
		assert_bytes(p->shmem_bytes, q->shmem_bytes);
	}
	assert_int_equal(a->n_stages, b->n_stages);
	for (size_t i = 0; i < a->n_stages; i++) {
		assert_str(a->stages[i].name, b->stages[i].name);
		assert_memory_equal(&a->stages[i].bytes_at_peak, &b->stages[i].bytes_at_peak,
				    sizeof(*a->stages) - offsetof(struct bmt_stage_result,
								  bytes_at_peak));
	}
	assert_int_equal(a->n_commands, b->n_commands);
	for (size_t i = 0; i < a->n_commands; i++) {
		const struct bmt_command_result *p = &a->commands[i], *q = &b->commands[i];

		assert_str(p->name, q->name);
		/* the numbers; the largest process's argv is compared by its strings */
		assert_memory_equal(&p->bytes_at_peak, &q->bytes_at_peak,
				    offsetof(struct bmt_command_result, max_proc_argv) -
					    offsetof(struct bmt_command_result, bytes_at_peak));
		assert_int_equal(!p->max_proc_argv, !q->max_proc_argv);
		for (size_t k = 0; p->max_proc_argv && (p->max_proc_argv[k] || q->max_proc_argv[k]);
		     k++)
			assert_str(p->max_proc_argv[k], q->max_proc_argv[k]);
	}
	assert_int_equal(a->n_alive, b->n_alive);
	for (size_t i = 0; i < a->n_alive; i++) {
		assert_u64(a->alive[i].pid, b->alive[i].pid);
		assert_str(a->alive[i].comm, b->alive[i].comm);
	}
	assert_u64(a->processes_total, b->processes_total);
	assert_u64(a->events, b->events);
	assert_u64(a->rejected, b->rejected);
	assert_u64(a->first_ts, b->first_ts);
	assert_u64(a->last_ts, b->last_ts);
	assert_bytes(a->tree_bytes_now, b->tree_bytes_now);
	assert_bytes(a->anon_bytes_now, b->anon_bytes_now);
}

static void probe_result(struct ctx *x)
{
	assert_non_null(collector__result(x->c));
}

static void test_result_per_record_equals_once(void **state)
{
	struct ctx *often = ctx_new(compile_link_stages()), *once;
	const struct bmt_result *a;

	build_scenario(often, probe_result);
	live_ctx = NULL; /* two contexts: freed here, or leaked when an assertion fails */
	once = ctx_new(compile_link_stages());
	build_scenario(once, NULL);
	a = collector__result(often->c);
	assert_non_null(a);
	assert_results_equal(a, result(once));
	assert_bytes(a->peak.bytes, 301 * MiB);
	assert_int_equal(a->n_peak_procs, 3);
	ctx_free(once);
	ctx_free(often);
}

static void test_result_cached(void **state)
{
	struct ctx *x = ctx_new(compile_link_stages());
	const struct bmt_result *r, *again;
	struct bmt_result *mark;
	struct bmt_now now;
	struct rec_buf rb;
	size_t len;

	build_scenario(x, NULL);
	r = result(x);
	/*
	 * Nothing fed since: the very result is returned, not one rebuilt from the state. A mark
	 * written into it (a test's trick, never a caller's right) shows it.
	 */
	mark = (struct bmt_result *)r;
	mark->events = 424242;
	again = collector__result(x->c);
	assert_ptr_equal(again, r);
	assert_ptr_equal(again->commands, r->commands);
	assert_u64(again->events, 424242);
	collector__now(x->c, &now); /* the live view neither rebuilds nor invalidates it */
	assert_u64(collector__result(x->c)->events, 424242);
	assert_u64(now.events, x->f.n_rss);

	/* a record fed: rebuilt, with its values */
	feed_rss(&x->f, 6, BMT_ANON, 9 * MiB);
	r = result(x);
	assert_u64(r->events, x->f.n_rss);
	assert_bytes(r->tree_bytes_now, 39 * MiB);
	assert_bytes(command(r, "ld")->bytes_now, 9 * MiB);

	/* a rejected record changes the result too: its count */
	mark = (struct bmt_result *)r;
	mark->events = 424242;
	len = rec_rss(rb.b, feeder_tick(&x->f), 6, BMT_NR_MEMBERS, 1);
	assert_int_equal(collector__feed(x->c, rb.b, len), -EINVAL);
	r = result(x);
	assert_u64(r->rejected, 2);
	assert_u64(r->events, x->f.n_rss);
	ctx_free(x);
}

#define TEST(fn) cmocka_unit_test_teardown(fn, free_live_ctx)

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
	    TEST(test_double_fork_grandparent_holds), TEST(test_command_sizing), TEST(test_duplicate_fork_pid), TEST(test_seed_keys_refused), TEST(test_daemonize_parent_exits),
	    TEST(test_parent_exec_releases_inherited),
	    TEST(test_old_mm_teardown_after_exec),
	    TEST(test_mm_and_pid_reuse),
	    TEST(test_rss_before_binding),
	    TEST(test_exec_binds_without_mm),
	    TEST(test_peak_table_at_peak),
	    TEST(test_anon_peak_and_swap),
	    TEST(test_stages),
	    TEST(test_stage_nearest_match_first_rule),
	    TEST(test_root_named_from_argv),
	    TEST(test_command_inherited_name),
	    TEST(test_exec_truncated_argv),
	    TEST(test_adopt),
	    TEST(test_adopt_exit_unbound),
	    TEST(test_exit_with_empty_mm),
	    TEST(test_counters),
	    TEST(test_alive),
	    TEST(test_sample_off),
	    TEST(test_sample_only_on_change),
	    TEST(test_reject_unknown_type),
	    TEST(test_reject_short_records),
	    TEST(test_zero_length_feed),
	    TEST(test_reject_size_mismatch),
	    TEST(test_reject_bad_member),
	    TEST(test_now_matches_result),
	    TEST(test_result_per_record_equals_once),
	    TEST(test_result_cached),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
