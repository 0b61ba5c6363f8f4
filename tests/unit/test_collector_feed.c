// modules: collector hooks mm result names sizing tally record table stages escape util
// SPDX-License-Identifier: MIT
/*
 * collector: counters, liveness and samples, malformed records, and the live view
 * and cached result against a full result, fed hand-built
 * record sequences in the order the kernel side emits them (kernel.md, "Event order").
 * Every expected number is exact: the collector is exact for its definitions.
 */
#include "collector_fixture.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
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
