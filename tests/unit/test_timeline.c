// modules: timeline collector hooks mm result names sizing tally record table stages escape util
// SPDX-License-Identifier: MIT
/*
 * timeline: the coalescing rule keeps the peak's exact row whatever the run's length, and
 * the stage columns line up with the result's stages (fed through a real collector).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include "records.h"
#include "stages.h"
#include "timeline.h"

#define T0 (5000 * MSEC)

static void add(struct timeline *t, uint64_t ts, uint64_t tree, uint64_t anon,
		const uint64_t *stages, size_t n_stages)
{
	struct bmt_sample s = { ts, tree, anon, stages, n_stages };

	assert_int_equal(timeline__add(t, &s), 0);
}

static void row(const struct timeline *t, size_t i, struct timeline_row *r)
{
	assert_true(i < timeline__rows(t));
	timeline__row(t, i, r);
}

/* Within a window the largest sample is the row, the earliest of equals; each is whole. */
static void test_window_keeps_its_max(void **state)
{
	struct timeline *t = timeline__new();
	struct timeline_row r;
	uint64_t st[2];

	assert_non_null(t);
	/* window 0: 10, 30 (the row), 30 again later (not the row), 20 */
	st[0] = 10, st[1] = 0;
	add(t, T0, 10, 1, st, 2);
	st[0] = 20, st[1] = 10;
	add(t, T0 + 100, 30, 3, st, 2);
	st[0] = 0, st[1] = 30;
	add(t, T0 + 200, 30, 4, st, 2);
	st[0] = 20, st[1] = 0;
	add(t, T0 + 300, 20, 2, st, 2);
	/* window 1: 5, the last sample */
	st[0] = 5, st[1] = 0;
	add(t, T0 + TIMELINE_RESOLUTION_NS, 5, 5, st, 2);

	assert_int_equal(timeline__n_stages(t), 2);
	assert_int_equal(timeline__rows(t), 2);
	row(t, 0, &r);
	assert_int_equal(r.ts, T0 + 100);
	assert_int_equal(r.tree_bytes, 30);
	assert_int_equal(r.anon_bytes, 3); /* of the same instant */
	assert_int_equal(r.stage_bytes[0], 20);
	assert_int_equal(r.stage_bytes[1], 10);
	row(t, 1, &r);
	assert_int_equal(r.ts, T0 + TIMELINE_RESOLUTION_NS);
	assert_int_equal(r.tree_bytes, 5);
	timeline__free(t);
}

/* The state when tracing stopped is a row of its own, even inside the last window. */
static void test_last_sample_is_a_row(void **state)
{
	struct timeline *t = timeline__new();
	struct timeline_row r;

	assert_non_null(t);
	add(t, T0, 100, 0, NULL, 0);
	add(t, T0 + 10, 0, 0, NULL, 0);
	assert_int_equal(timeline__rows(t), 2);
	row(t, 0, &r);
	assert_int_equal(r.tree_bytes, 100);
	row(t, 1, &r);
	assert_int_equal(r.ts, T0 + 10);
	assert_int_equal(r.tree_bytes, 0);
	/* when the last sample is its window's row, it is not repeated; the dip is gone */
	add(t, T0 + 5 * TIMELINE_RESOLUTION_NS, 7, 0, NULL, 0);
	assert_int_equal(timeline__rows(t), 2);
	row(t, 1, &r);
	assert_int_equal(r.ts, T0 + 5 * TIMELINE_RESOLUTION_NS);
	assert_int_equal(r.tree_bytes, 7);
	timeline__free(t);
}

/* A deterministic pseudo-random walk (xorshift), the same on every machine. */
static uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/*
 * Ten simulated minutes of a build, a change every 200 us on average (3M samples): rows stay
 * under the limit, in time order, and the largest row is the peak, exactly, at its time.
 */
static void test_long_run_keeps_the_peak(void **state)
{
	struct timeline *t = timeline__new(), *c;
	uint64_t x = 88172645463325252ull, ts = T0, tree = 1 * GiB, peak = 0, peak_ts = 0;
	uint64_t max_row = 0, max_row_ts = 0, prev_ts = 0, st[1];
	struct timeline_row r;
	size_t i, n;

	assert_non_null(t);
	while (ts < T0 + 600 * 1000 * MSEC) {
		uint64_t step = next_rand(&x) % (1 << 20);

		tree = step & 1 ? tree + step : tree > step ? tree - step : 0;
		if (tree > peak) {
			peak = tree;
			peak_ts = ts;
		}
		st[0] = tree;
		add(t, ts, tree, tree / 2, st, 1);
		ts += 1 + next_rand(&x) % 400000;
	}
	n = timeline__rows(t);
	fprintf(stderr, "  %zu rows at %" PRIu64 " us for 600 s\n", n,
		timeline__resolution(t) / 1000);
	assert_true(n <= TIMELINE_MAX_ROWS + 1 && n > TIMELINE_MAX_ROWS / 4);
	for (i = 0; i < n; i++) {
		row(t, i, &r);
		assert_true(r.ts >= prev_ts);
		prev_ts = r.ts;
		assert_int_equal(r.stage_bytes[0], r.tree_bytes);
		assert_int_equal(r.anon_bytes, r.tree_bytes / 2);
		if (r.tree_bytes > max_row) {
			max_row = r.tree_bytes;
			max_row_ts = r.ts;
		}
	}
	assert_int_equal(max_row, peak);
	assert_int_equal(max_row_ts, peak_ts);

	/* coarsened for a chart: the same rule, the same peak */
	c = timeline__coarsen(t, 800);
	assert_non_null(c);
	assert_true(timeline__rows(c) <= 800 && timeline__rows(c) > 200);
	max_row = 0;
	for (i = 0; i < timeline__rows(c); i++) {
		row(c, i, &r);
		if (r.tree_bytes > max_row) {
			max_row = r.tree_bytes;
			max_row_ts = r.ts;
		}
	}
	assert_int_equal(max_row, peak);
	assert_int_equal(max_row_ts, peak_ts);
	timeline__free(c);
	timeline__free(t);
}

static void test_empty(void **state)
{
	struct timeline *t = timeline__new(), *c;

	assert_non_null(t);
	assert_int_equal(timeline__rows(t), 0);
	c = timeline__coarsen(t, 10);
	assert_non_null(c);
	assert_int_equal(timeline__rows(c), 0);
	timeline__free(c);
	timeline__free(t);
}

static void on_sample(void *ctx, const struct bmt_sample *s)
{
	assert_int_equal(timeline__add(ctx, s), 0);
}

/*
 * Through a real collector with stage rules: the row at the peak holds the peak, its time
 * and, mapped by timeline__stage_columns, each stage's bytes at the peak.
 */
static void test_stage_columns_match_the_result(void **state)
{
	struct stages *s = stages__new();
	struct timeline *t = timeline__new();
	struct collector *c;
	const struct bmt_result *res;
	struct timeline_row r;
	struct feeder f;
	size_t i, col[3], peak_row = SIZE_MAX;
	char err[256];

	assert_non_null(s);
	assert_non_null(t);
	assert_int_equal(stages__add(s, "compile=(^| )gcc( |$)", err, sizeof(err)), 0);
	assert_int_equal(stages__add(s, "link=(^| )ld( |$)", err, sizeof(err)), 0);
	c = collector__new(s);
	assert_non_null(c);
	collector__on_sample(c, on_sample, t);
	feeder_init(&f, c);
	feed_add_root(&f, 100, ARGV("make"));
	feed_mm(&f, 100, 1);
	feed_exec(&f, 100, 1, "/usr/bin/make", ARGV("make"));
	feed_rss(&f, 1, BMT_ANON, 5 * MiB);
	feed_fork(&f, 100, 101, 1, 2, "make");
	feed_rss(&f, 3, BMT_ANON, 1 * MiB);
	feed_mm(&f, 101, 3);
	feed_exec(&f, 101, 3, "/usr/bin/gcc", ARGV("gcc", "-c", "a.c"));
	feed_rss(&f, 3, BMT_ANON, 10 * MiB);
	feed_fork(&f, 100, 102, 1, 4, "make");
	feed_rss(&f, 5, BMT_ANON, 1 * MiB);
	feed_mm(&f, 102, 5);
	feed_exec(&f, 102, 5, "/usr/bin/ld", ARGV("ld", "-o", "a"));
	feed_rss(&f, 5, BMT_ANON, 20 * MiB);
	feed_rss(&f, 3, BMT_ANON, 0);
	feed_exit(&f, 101);
	res = collector__result(c);
	assert_non_null(res);
	assert_int_equal(res->n_stages, 3);
	assert_int_equal(res->peak.bytes, 35 * MiB);

	timeline__stage_columns(t, res, col);
	for (i = 0; i < timeline__rows(t); i++) {
		row(t, i, &r);
		if (r.tree_bytes == res->peak.bytes && peak_row == SIZE_MAX)
			peak_row = i;
	}
	assert_true(peak_row != SIZE_MAX);
	row(t, peak_row, &r);
	assert_int_equal(r.ts, res->peak.ts);
	for (i = 0; i < res->n_stages; i++) {
		assert_true(col[i] < timeline__n_stages(t));
		if (r.stage_bytes[col[i]] != res->stages[i].bytes_at_peak)
			fail_msg("stage %s: %" PRIu64 " in the row at the peak, %" PRIu64
				 " in the result", res->stages[i].name, r.stage_bytes[col[i]],
				 res->stages[i].bytes_at_peak);
	}
	collector__free(c);
	stages__free(s);
	timeline__free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_keeps_its_max),
		cmocka_unit_test(test_last_sample_is_a_row),
		cmocka_unit_test(test_long_run_keeps_the_peak),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_stage_columns_match_the_result),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
