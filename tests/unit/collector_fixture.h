/* SPDX-License-Identifier: MIT */
/*
 * collector_fixture.h - the shared fixture of the collector suites (test_collector_*.c): a
 * collector fed through records.h, the tree totals it reports observed through its sample
 * callback, assertions that print bytes as bytes, and the record sequences the kernel side
 * emits for a fork, an exec and the root's start.
 *
 * One test context lives at a time (live_ctx); TEST() frees it when an assertion ends the
 * test early.
 */
#ifndef BMT_TEST_COLLECTOR_FIXTURE_H
#define BMT_TEST_COLLECTOR_FIXTURE_H

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

static inline void on_sample(void *ctx, const struct bmt_sample *s)
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

static inline struct ctx *ctx_new(struct stages *s)
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

static inline void ctx_free(struct ctx *x)
{
	collector__free(x->c);
	stages__free(x->s);
	free(x);
	live_ctx = NULL;
}

static inline int free_live_ctx(void **state)
{
	if (live_ctx)
		ctx_free(live_ctx);
	return 0;
}

static inline struct stages *compile_link_stages(void)
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
static inline void assert_bytes_at(uint64_t got, uint64_t want, const char *what, const char *file,
				   int line)
{
	if (got == want)
		return;
	print_error("%s = %" PRIu64 " (%.4f MiB), want %" PRIu64 " (%.4f MiB)\n", what, got,
		    (double)got / MiB, want, (double)want / MiB);
	_fail(file, line);
}

#define assert_u64(got, want) assert_u64_at((got), (want), #got, __FILE__, __LINE__)
static inline void assert_u64_at(uint64_t got, uint64_t want, const char *what, const char *file,
				 int line)
{
	if (got == want)
		return;
	print_error("%s = %" PRIu64 ", want %" PRIu64 "\n", what, got, want);
	_fail(file, line);
}

#define assert_str(got, want) assert_str_at((got), (want), #got, __FILE__, __LINE__)
static inline void assert_str_at(const char *got, const char *want, const char *what,
				 const char *file, int line)
{
	if (got && want && !strcmp(got, want))
		return;
	print_error("%s = %s%s%s, want \"%s\"\n", what, got ? "\"" : "", got ? got : "NULL",
		    got ? "\"" : "", want);
	_fail(file, line);
}

#define assert_argv(got, ...) assert_argv_at((got), ARGV(__VA_ARGS__), #got, __FILE__, __LINE__)
static inline void assert_argv_at(char *const *got, const char *const *want, const char *what,
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
static inline void assert_seq_at(const struct trace *t, const uint64_t *want_mib, size_t n,
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

static inline const struct bmt_peak_proc *peak_proc(const struct bmt_result *r, uint32_t pid)
{
	for (size_t i = 0; i < r->n_peak_procs; i++)
		if (r->peak_procs[i].pid == pid)
			return &r->peak_procs[i];
	return NULL;
}

static inline const struct bmt_stage_result *stage(const struct bmt_result *r, const char *name)
{
	for (size_t i = 0; i < r->n_stages; i++)
		if (r->stages[i].name && !strcmp(r->stages[i].name, name))
			return &r->stages[i];
	print_error("no stage \"%s\" in the result\n", name);
	fail();
	return NULL;
}

static inline const struct bmt_command_result *command(const struct bmt_result *r, const char *name)
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
static inline const struct bmt_peak_proc *assert_row_at(const struct bmt_result *r, size_t idx,
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
static inline const struct bmt_result *result(struct ctx *x)
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
static inline void root_exec(struct ctx *x, uint32_t pid, uint32_t key,
			     const char *const root_argv[], const char *filename,
			     const char *const argv[])
{
	feed_add_root(&x->f, pid, root_argv);
	feed_rss(&x->f, key, BMT_ANON, 1 * MiB);
	feed_mm(&x->f, pid, key);
	feed_exec(&x->f, pid, key, filename, argv);
}

/* fork() without CLONE_VM: the parent copies its page tables into the child's new mm first. */
static inline uint64_t fork_copy(struct ctx *x, uint32_t ppid, uint32_t pid, uint32_t parent_key,
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
static inline uint64_t exec_new(struct ctx *x, uint32_t pid, uint32_t old_key, bool old_anon,
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

#define TEST(fn) cmocka_unit_test_teardown(fn, free_live_ctx)

#endif /* BMT_TEST_COLLECTOR_FIXTURE_H */
