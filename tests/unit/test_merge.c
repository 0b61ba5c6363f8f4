// modules: merge timeline collector hooks mm result names sizing tally record table stages escape util
// SPDX-License-Identifier: MIT
/*
 * merge: the ring's records back in order. The order rules on hand-built records, then the
 * property the design rests on: a model of the BPF side's runs (bpf/bmtrace.bpf.c: a CPU's
 * increases of one counter in one record; phases of increases and of decreases, and a new
 * one at every other record) fed through the
 * merge gives a collector the same peaks, the same table at the peak and the same timeline
 * as every event fed one by one - with CPUs interleaving, migrations, kernel threads, runs
 * read while they grow, and a record still being written holding back what follows it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "records.h"
#include "merge.h"
#include "timeline.h"

/* ---- hand-built records ---- */

struct sink {
	uint64_t ts[64];
	uint32_t key[64];
	uint64_t bytes[64];
	uint16_t type[64];
	uint16_t flags[64];
	size_t n;
};

static int to_sink(void *ctx, const void *rec, size_t len)
{
	struct sink *s = ctx;
	const struct bmt_hdr *h = rec;

	assert_int_equal(len, h->size);
	assert_true(s->n < 64);
	s->ts[s->n] = h->ts;
	s->type[s->n] = h->type;
	s->flags[s->n] = h->flags;
	s->key[s->n] = h->type == BMT_REC_RSS ? ((const struct bmt_rss *)rec)->mm_key : 0;
	s->bytes[s->n] = h->type == BMT_REC_RSS ? ((const struct bmt_rss *)rec)->bytes : 0;
	s->n++;
	return 0;
}

/*
 * A wire record: phase, kind, cpu, run (an opening record's: how far its phase is from the
 * one before, 1 when 0 is given), then an RSS record (key 0: an EXIT record).
 */
static void push(struct merge *m, uint64_t phase, uint16_t kind, uint16_t cpu, uint32_t run,
		 uint64_t ts, uint32_t key, uint64_t bytes)
{
	struct {
		struct bmt_wire w;
		union {
			struct bmt_rss rss;
			struct bmt_exit exit;
		} r;
	} buf = { { phase, kind == BMT_WIRE_OPENS && !run ? 1 : run, cpu, kind } };
	size_t len = sizeof(buf.w);

	if (key)
		len += rec_rss(&buf.r, ts, key, BMT_ANON, bytes);
	else
		len += rec_exit(&buf.r, ts, 100, 0);
	assert_int_equal(merge__push(m, &buf, len), 0);
}

/* A run's value sent in the ring, standing for its first `events` events. */
static void push_run(struct merge *m, uint16_t cpu, uint32_t run, uint64_t ts, uint64_t bytes,
		     uint32_t events)
{
	struct {
		struct bmt_wire w;
		struct bmt_rss r;
	} buf = { { 0, run, cpu, BMT_WIRE_RUN } };

	rec_rss(&buf.r, ts, 1, BMT_ANON, bytes);
	buf.r.hdr.flags = events - 1;
	assert_int_equal(merge__push(m, &buf, sizeof(buf)), 0);
}

static struct bmt_cpu_run run_at(uint32_t run, uint64_t ts, uint64_t bytes, uint32_t events)
{
	struct bmt_cpu_run r = { .run = run, .open = 1, .mm_key = 1, .member = BMT_ANON,
				 .events = events, .bytes = bytes, .ts = ts };

	return r;
}

/* By phase; in a phase its opening record first, then by time, whatever the arrival. */
static void test_order(void **state)
{
	struct sink s = { 0 };
	struct merge *m = merge__new(to_sink, &s);

	assert_non_null(m);
	assert_int_equal(merge__flush(m, false), 0); /* nothing yet: a drain before any record */
	push(m, 2, BMT_WIRE_IN, 0, 0, 50, 3, 1);
	push(m, 1, BMT_WIRE_RUN, 1, 7, 40, 2, 2); /* phase 1's, written after phase 2 opened */
	push(m, 2, BMT_WIRE_OPENS, 0, 0, 45, 0, 0);
	push(m, 0, BMT_WIRE_IN, 0, 0, 5, 1, 3);
	push(m, 1, BMT_WIRE_OPENS, 0, 0, 20, 4, 4);
	push(m, 1, BMT_WIRE_IN, 0, 0, 30, 5, 5);
	assert_int_equal(merge__flush(m, false), 6);
	assert_int_equal(s.n, 6);
	assert_int_equal(s.key[0], 1);  /* phase 0 */
	assert_int_equal(s.key[1], 4);  /* phase 1 opens */
	assert_int_equal(s.key[2], 5);  /* then by time: 30 */
	assert_int_equal(s.key[3], 2);  /* 40 */
	assert_int_equal(s.type[4], BMT_REC_EXIT); /* phase 2 opens (at 45) */
	assert_int_equal(s.key[5], 3);
	assert_int_equal(merge__flush(m, false), 0);
	merge__free(m);
}

/* A phase whose opening record is still being written holds back every later phase. */
static void test_missing_opening_holds_back(void **state)
{
	struct sink s = { 0 };
	struct merge *m = merge__new(to_sink, &s);

	assert_non_null(m);
	push(m, 1, BMT_WIRE_OPENS, 0, 0, 10, 1, 1);
	push(m, 3, BMT_WIRE_OPENS, 0, 0, 30, 3, 3);
	push(m, 2, BMT_WIRE_IN, 0, 0, 25, 2, 2);
	push(m, 1, BMT_WIRE_IN, 0, 0, 15, 5, 5);
	assert_int_equal(merge__flush(m, false), 2); /* phase 1 only */
	assert_int_equal(s.key[1], 5);
	push(m, 2, BMT_WIRE_OPENS, 0, 0, 20, 4, 4);
	assert_int_equal(merge__flush(m, false), 3);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.key[2], 4);
	assert_int_equal(s.key[3], 2);
	assert_int_equal(s.key[4], 3);
	assert_int_equal(merge__gaps(m), 0);
	merge__free(m);
}

/*
 * A run read from its CPU goes once per value: the same value sent in the ring later is
 * not handed over again, a later value is, and so are more events of an unchanged value
 * (the flags of what goes count each event once); a run read in a phase that cannot go yet
 * is dropped (it is read again next time).
 */
static void test_runs_read_and_sent(void **state)
{
	struct sink s = { 0 };
	struct merge *m = merge__new(to_sink, &s);
	struct bmt_cpu_run r = run_at(1, 100, 10, 5);

	assert_non_null(m);
	assert_int_equal(merge__run(m, 1, &r), 0);
	assert_int_equal(merge__flush(m, false), 1);
	assert_int_equal(s.flags[0], 4);
	assert_int_equal(merge__run(m, 1, &r), 0); /* read again, unchanged */
	push_run(m, 1, 1, 100, 10, 5);             /* then it ended: the same value */
	assert_int_equal(merge__flush(m, false), 0);
	push_run(m, 1, 1, 90, 9, 4); /* an older value of it */
	assert_int_equal(merge__flush(m, false), 0);
	r = run_at(2, 120, 12, 3); /* the CPU's next run */
	assert_int_equal(merge__run(m, 1, &r), 0);
	push_run(m, 1, 2, 130, 14, 9); /* grew, then ended */
	assert_int_equal(merge__flush(m, false), 2);
	assert_int_equal(s.bytes[1], 12);
	assert_int_equal(s.flags[1], 2);
	assert_int_equal(s.bytes[2], 14);
	assert_int_equal(s.flags[2], 5); /* 9 events, 3 of them handed over */
	r = run_at(3, 140, 20, 1);
	assert_int_equal(merge__run(m, 1, &r), 0);
	push_run(m, 1, 3, 140, 20, 4); /* 3 more events of the same value */
	assert_int_equal(merge__flush(m, false), 2);
	assert_int_equal(s.ts[4], 140);
	assert_int_equal(s.flags[4], 2);
	r = run_at(4, 150, 20, 1);
	r.phase = 7; /* phase 7 has not opened */
	assert_int_equal(merge__run(m, 1, &r), 0);
	r.open = 0; /* a closed one is nothing */
	assert_int_equal(merge__run(m, 2, &r), 0);
	assert_int_equal(merge__flush(m, false), 0);
	assert_int_equal(merge__flush(m, true), 0); /* dropped, not held */
	assert_int_equal(s.n, 5);
	merge__free(m);
}

/* Records that cannot be ones are refused and counted; the rest go on. */
static void test_refuses_bad_records(void **state)
{
	struct sink s = { 0 };
	struct merge *m = merge__new(to_sink, &s);
	struct {
		struct bmt_wire w;
		struct bmt_rss r;
	} buf = { { 0, 0, 0, BMT_WIRE_IN } };

	assert_non_null(m);
	rec_rss(&buf.r, 10, 1, BMT_ANON, 1);
	assert_int_equal(merge__push(m, &buf, sizeof(buf.w) + 4), -EINVAL); /* cut */
	buf.r.hdr.size = sizeof(buf.r) + 1;                                  /* longer than sent */
	assert_int_equal(merge__push(m, &buf, sizeof(buf)), -EINVAL);
	buf.r.hdr.size = sizeof(buf.r);
	buf.w.kind = 9;
	assert_int_equal(merge__push(m, &buf, sizeof(buf)), -EINVAL);
	buf.w.kind = BMT_WIRE_IN;
	assert_int_equal(merge__push(m, &buf, sizeof(buf)), 0);
	assert_int_equal(merge__bad(m), 3);
	assert_int_equal(merge__flush(m, false), 1);
	merge__free(m);
}

/* An opening record that never comes is given up on after a while, and counted. */
static void test_gap_given_up(void **state)
{
	struct sink s = { 0 };
	struct merge *m = merge__new(to_sink, &s);
	int i;

	assert_non_null(m);
	push(m, 2, BMT_WIRE_OPENS, 0, 0, 20, 2, 2);
	push(m, 3, BMT_WIRE_OPENS, 0, 0, 30, 3, 3);
	for (i = 0; i < 1000 && !s.n; i++)
		assert_true(merge__flush(m, false) >= 0);
	assert_true(i > 1);
	assert_int_equal(s.n, 2);
	assert_int_equal(merge__gaps(m), 1);
	push(m, 4, BMT_WIRE_OPENS, 0, 0, 40, 4, 4); /* and it goes on from there */
	assert_int_equal(merge__flush(m, false), 1);
	merge__free(m);
}

/* A callback's error stops the flush and comes back. */
static int refuse(void *ctx, const void *rec, size_t len)
{
	(void)rec;
	(void)len;
	return ++*(int *)ctx == 2 ? -ENOSPC : 0;
}

static void test_callback_error(void **state)
{
	int calls = 0;
	struct merge *m = merge__new(refuse, &calls);

	assert_non_null(m);
	push(m, 0, BMT_WIRE_IN, 0, 0, 1, 1, 1);
	push(m, 0, BMT_WIRE_IN, 0, 0, 2, 1, 2);
	push(m, 0, BMT_WIRE_IN, 0, 0, 3, 1, 3);
	assert_int_equal(merge__flush(m, false), -ENOSPC);
	assert_int_equal(merge__flush(m, false), 1); /* the third, still there */
	merge__free(m);
}

/* ---- the model: the BPF side's runs against every event fed one by one ---- */

#define NCPU 3
#define NPROC 4 /* pids 100.., mm keys 1.. */

struct wrec {
	uint8_t buf[sizeof(struct bmt_wire) + sizeof(struct bmt_oom) + sizeof(struct bmt_rss)];
	size_t len;
};

struct model {
	uint64_t rng, ts, phase;
	struct bmt_cpu_run slot[NCPU];
	int64_t bytes[NPROC + 1][BMT_NR_MEMBERS]; /* the BPF side's mm_state.bytes */
	uint16_t run_cpu[NPROC + 1][BMT_NR_MEMBERS];
	int64_t real[NPROC + 1][BMT_NR_MEMBERS]; /* the counters */
	struct wrec *ring;
	size_t n_ring, cap, consumed;
	struct collector *truth, *merged;
	struct timeline *tl_truth, *tl_merged;
	struct merge *m;
	uint64_t events, records;
};

static uint32_t rnd(struct model *x, uint32_t n)
{
	x->rng ^= x->rng << 13;
	x->rng ^= x->rng >> 7;
	x->rng ^= x->rng << 17;
	return (uint32_t)(x->rng % n);
}

static void *ring_add(struct model *x, uint64_t phase, uint16_t kind, uint16_t cpu, uint32_t run)
{
	struct wrec *w;

	if (x->n_ring == x->cap) {
		x->cap = x->cap ? 2 * x->cap : 256;
		x->ring = realloc(x->ring, x->cap * sizeof(*x->ring));
		assert_non_null(x->ring);
	}
	w = &x->ring[x->n_ring++];
	*(struct bmt_wire *)w->buf = (struct bmt_wire){ phase, run, cpu, kind };
	x->records++;
	return w->buf + sizeof(struct bmt_wire);
}

static void ring_done(struct model *x, size_t len)
{
	x->ring[x->n_ring - 1].len = sizeof(struct bmt_wire) + len;
}

static void rss_rec(struct model *x, uint16_t kind, uint16_t cpu, uint32_t run, uint64_t phase,
		    uint64_t ts, uint32_t key, uint32_t member, uint64_t bytes)
{
	void *r = ring_add(x, phase, kind, cpu, run);

	ring_done(x, rec_rss(r, ts, key, member, bytes));
}

/* bmtrace.bpf.c's run_end */
static void run_end(struct model *x, int cpu, uint32_t key)
{
	struct bmt_cpu_run *s = &x->slot[cpu];

	if (!s->open)
		return;
	rss_rec(x, BMT_WIRE_RUN, cpu, s->run, s->phase, s->ts, s->mm_key, s->member, s->bytes);
	((struct bmt_hdr *)(x->ring[x->n_ring - 1].buf + sizeof(struct bmt_wire)))->flags =
		s->events - 1;
	if (s->mm_key == key && x->run_cpu[key][s->member] == cpu + 1) {
		x->bytes[key][s->member] = s->bytes;
		x->run_cpu[key][s->member] = 0;
	}
	s->open = 0;
}

/* One counter change on cpu, by a user task or a kernel thread, as both sides see it. */
static void change(struct model *x, int cpu, uint32_t key, uint32_t mb, int64_t delta, int kthread)
{
	struct bmt_cpu_run *s = &x->slot[cpu];
	uint8_t buf[sizeof(struct bmt_rss)];
	int64_t v, before;
	int mine, opens, down, run, may_run = !kthread;

	x->real[key][mb] += delta;
	if (x->real[key][mb] < 0)
		x->real[key][mb] = 0;
	v = x->real[key][mb];
	/* 0.5 to 20 us apart, now and then up to 1 ms: runs cross their windows */
	x->ts += 500 + (rnd(x, 10) ? rnd(x, 20000) : rnd(x, 1000000));
	x->events++;
	assert_int_equal(collector__feed(x->truth, buf, rec_rss(buf, x->ts, key, mb, v)), 0);

	/* run_of, run_grows */
	if (s->open && s->mm_key == key && s->member == mb && s->phase == x->phase && !kthread &&
	    x->ts < s->window_end && v >= (int64_t)s->bytes) {
		s->events++;
		if (v > (int64_t)s->bytes) { /* run_set: an unchanged value keeps its time */
			s->bytes = v;
			s->ts = x->ts;
		}
		return;
	}
	/* rss_change */
	mine = s->open && s->mm_key == key && s->member == mb;
	before = mine ? (int64_t)s->bytes : x->bytes[key][mb];
	down = v < before;
	opens = (!mine && x->run_cpu[key][mb]) || (down ? !(x->phase & 1) : (x->phase & 1));
	run = !opens && !down && may_run && v > 0;
	if (mine || run)
		run_end(x, cpu, key);
	x->bytes[key][mb] = v;
	x->run_cpu[key][mb] = 0;
	if (run) {
		s->run++;
		s->open = 1;
		s->mm_key = key;
		s->phase = x->phase;
		s->member = mb;
		s->events = 1;
		s->bytes = v;
		s->ts = x->ts;
		s->window_end = (x->ts / BMT_RUN_WINDOW_NS + 1) * BMT_RUN_WINDOW_NS;
		x->run_cpu[key][mb] = cpu + 1;
	} else if (opens) {
		uint32_t by = (x->phase & 1) == (uint64_t)down ? 2 : 1; /* submit_opens */

		x->phase += by;
		rss_rec(x, BMT_WIRE_OPENS, 0, by, x->phase, x->ts, key, mb, v);
	} else {
		rss_rec(x, BMT_WIRE_IN, 0, 0, x->phase, x->ts, key, mb, v);
	}
}

/* A record that is not a change (here the OOM killer's choice): it opens a phase. */
static void oom(struct model *x, uint32_t pid)
{
	uint8_t buf[sizeof(struct bmt_oom)];
	void *r;

	x->ts += 1000;
	assert_int_equal(collector__feed(x->truth, buf, rec_oom(buf, x->ts, pid)), 0);
	x->phase += 2; /* the same kind of phase */
	r = ring_add(x, x->phase, BMT_WIRE_OPENS, 0, 2);
	ring_done(x, rec_oom(r, x->ts, pid));
}

/*
 * tracer__drain: read every CPU's run, take the ring's records - up to one still being
 * written when hold (it and everything after it wait) - and flush.
 */
static void drain(struct model *x, int hold, int final)
{
	size_t end = x->n_ring;

	for (int c = 0; c < NCPU; c++)
		assert_int_equal(merge__run(x->m, c, &x->slot[c]), 0);
	if (hold && x->n_ring > x->consumed) {
		size_t at = x->consumed + rnd(x, x->n_ring - x->consumed);

		while (at < x->n_ring && ((struct bmt_wire *)x->ring[at].buf)->kind != BMT_WIRE_OPENS)
			at++;
		end = at;
	}
	for (; x->consumed < end; x->consumed++)
		assert_int_equal(merge__push(x->m, x->ring[x->consumed].buf,
					     x->ring[x->consumed].len), 0);
	assert_true(merge__flush(x->m, final) >= 0);
}

static int to_merged(void *ctx, const void *rec, size_t len)
{
	return collector__feed(ctx, rec, len);
}

static void on_sample(void *ctx, const struct bmt_sample *s)
{
	assert_int_equal(timeline__add(ctx, s), 0);
}

static void both(struct model *x, const void *rec, size_t len)
{
	assert_int_equal(collector__feed(x->truth, rec, len), 0);
	assert_int_equal(collector__feed(x->merged, rec, len), 0);
}

static void model_init(struct model *x, uint64_t seed)
{
	uint8_t buf[sizeof(struct bmt_fork)];

	memset(x, 0, sizeof(*x));
	x->rng = seed * 2654435761u + 1;
	x->ts = 1000 * MSEC + rnd(x, MSEC);
	x->truth = collector__new(NULL);
	x->merged = collector__new(NULL);
	x->tl_truth = timeline__new();
	x->tl_merged = timeline__new();
	x->m = merge__new(to_merged, x->merged);
	assert_true(x->truth && x->merged && x->tl_truth && x->tl_merged && x->m);
	collector__on_sample(x->truth, on_sample, x->tl_truth);
	collector__on_sample(x->merged, on_sample, x->tl_merged);
	assert_int_equal(collector__add_root(x->truth, 100, (char *const *)ARGV("make"), x->ts), 0);
	assert_int_equal(collector__add_root(x->merged, 100, (char *const *)ARGV("make"), x->ts), 0);
	both(x, buf, rec_mm(buf, ++x->ts, 100, 1));
	for (uint32_t p = 1; p < NPROC; p++)
		both(x, buf, rec_fork(buf, ++x->ts, 0, 100, 100 + p, 1, 1 + p, "cc"));
}

static void model_free(struct model *x)
{
	merge__free(x->m);
	collector__free(x->truth);
	collector__free(x->merged);
	timeline__free(x->tl_truth);
	timeline__free(x->tl_merged);
	free(x->ring);
}

static void same_peak(const struct bmt_peak *a, const struct bmt_peak *b, const char *what,
		      uint64_t seed)
{
	if (a->bytes != b->bytes || a->ts != b->ts || a->anon_bytes != b->anon_bytes ||
	    a->file_bytes != b->file_bytes || a->shmem_bytes != b->shmem_bytes)
		fail_msg("seed %" PRIu64 ", %s: %" PRIu64 " at %" PRIu64 " from every event, %" PRIu64
			 " at %" PRIu64 " merged",
			 seed, what, a->bytes, a->ts, b->bytes, b->ts);
}

static void compare(struct model *x, uint64_t seed)
{
	const struct bmt_result *a = collector__result(x->truth);
	const struct bmt_result *b = collector__result(x->merged);
	struct timeline_row ra, rb;
	struct bmt_peak b_anon;

	assert_true(a && b);
	same_peak(&a->peak, &b->peak, "tree peak", seed);
	/*
	 * The anon peak: its bytes, time and parts exact but the file part, which is no part of
	 * it: another CPU's file run that spans the instant is handed over at its end. So is
	 * the swap at the tree peak (swap is no part of the tree). Both are at most the truth.
	 */
	b_anon = b->anon_peak;
	assert_true(b_anon.file_bytes <= a->anon_peak.file_bytes);
	b_anon.file_bytes = a->anon_peak.file_bytes;
	same_peak(&a->anon_peak, &b_anon, "anon peak", seed);
	same_peak(&a->raw_peak, &b->raw_peak, "raw peak", seed);
	assert_int_equal(a->swap_peak.bytes, b->swap_peak.bytes);
	assert_true(b->swap_at_peak <= a->swap_at_peak);
	assert_int_equal(a->tree_bytes_now, b->tree_bytes_now);
	assert_int_equal(a->events, b->events); /* every event counted once */
	assert_int_equal(a->n_peak_procs, b->n_peak_procs);
	for (size_t i = 0; i < a->n_peak_procs; i++) {
		assert_int_equal(a->peak_procs[i].pid, b->peak_procs[i].pid);
		assert_int_equal(a->peak_procs[i].bytes, b->peak_procs[i].bytes);
	}
	if (timeline__rows(x->tl_truth) != timeline__rows(x->tl_merged))
		fail_msg("seed %" PRIu64 ": %zu timeline rows from every event, %zu merged", seed,
			 timeline__rows(x->tl_truth), timeline__rows(x->tl_merged));
	for (size_t i = 0; i < timeline__rows(x->tl_truth); i++) {
		timeline__row(x->tl_truth, i, &ra);
		timeline__row(x->tl_merged, i, &rb);
		if (ra.ts != rb.ts || ra.tree_bytes != rb.tree_bytes || ra.anon_bytes != rb.anon_bytes)
			fail_msg("seed %" PRIu64 ", timeline row %zu: %" PRIu64 " B at %" PRIu64
				 " from every event, %" PRIu64 " B at %" PRIu64 " merged",
				 seed, i, ra.tree_bytes, ra.ts, rb.tree_bytes, rb.ts);
	}
}

/*
 * One random run of the model: bursts of one process's changes of one counter (a compiler
 * faulting in its heap), processes mostly on their own CPU, now and then on another, other
 * processes' changes in between, kernel threads, frees, the OOM killer.
 */
static void model_run(struct model *x, int n_events)
{
	static const uint32_t members[] = { BMT_ANON, BMT_ANON, BMT_ANON, BMT_ANON, BMT_FILE,
					    BMT_FILE, BMT_SHMEM, BMT_SWAP };
	int i = 0;

	while (i < n_events) {
		uint32_t p = rnd(x, NPROC), mb = members[rnd(x, 8)];
		int cpu = rnd(x, 8) ? (int)(p % NCPU) : (int)rnd(x, NCPU);
		int burst = 1 + rnd(x, 60);

		for (int b = 0; b < burst && i < n_events; b++, i++) {
			int kthread = !rnd(x, 40);
			int64_t delta = rnd(x, 12) ? 1 + rnd(x, 8) : -(int64_t)rnd(x, 40);

			if (!rnd(x, 6)) { /* another process's change in between */
				uint32_t q = rnd(x, NPROC);

				change(x, rnd(x, 8) ? (int)(q % NCPU) : (int)rnd(x, NCPU), q + 1,
				       members[rnd(x, 8)], (1 + rnd(x, 4)) * 4096, kthread);
				i++;
			}
			change(x, cpu, p + 1, mb, delta * 4096, kthread);
			if (!rnd(x, 300))
				oom(x, 100 + rnd(x, NPROC));
			if (!rnd(x, 60))
				drain(x, !rnd(x, 3), 0);
		}
	}
	drain(x, 0, 1);
}

static void test_model_matches_every_event(void **state)
{
	uint64_t events = 0, records = 0;

	for (uint64_t seed = 1; seed <= 300; seed++) {
		struct model x;

		model_init(&x, seed);
		model_run(&x, 400);
		compare(&x, seed);
		events += x.events;
		records += x.records;
		assert_int_equal(merge__gaps(x.m), 0);
		model_free(&x);
	}
	/* and the runs did coalesce: far fewer records than events */
	print_message("  %" PRIu64 " events, %" PRIu64 " records\n", events, records);
	assert_true(records * 2 < events);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_missing_opening_holds_back),
		cmocka_unit_test(test_runs_read_and_sent),
		cmocka_unit_test(test_refuses_bad_records),
		cmocka_unit_test(test_gap_given_up),
		cmocka_unit_test(test_callback_error),
		cmocka_unit_test(test_model_matches_every_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
