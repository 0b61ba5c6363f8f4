// SPDX-License-Identifier: MIT
/* timeline - the tree total over time, coalesced without losing the peak (timeline.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "timeline.h"

/* A row is stored as `stride` u64: ts, tree bytes, anon bytes, then the stages' bytes. */
enum { COL_TS, COL_TREE, COL_ANON, COL_STAGES };

struct timeline {
	size_t n_stages, stride;
	bool started;
	uint64_t origin;     /* the first sample's ts: windows count from it */
	uint64_t resolution; /* window width, ns */
	uint64_t *rows;      /* n rows, one per window that had samples, in time order */
	size_t n, cap;
	uint64_t *last;      /* the latest sample */
};

struct timeline *timeline__new(void)
{
	struct timeline *t = calloc(1, sizeof(*t));

	if (t)
		t->resolution = TIMELINE_RESOLUTION_NS;
	return t;
}

void timeline__free(struct timeline *t)
{
	if (!t)
		return;
	free(t->rows);
	free(t->last);
	free(t);
}

static uint64_t *row_at(const struct timeline *t, size_t i)
{
	return t->rows + i * t->stride;
}

static uint64_t window_of(const struct timeline *t, const uint64_t *row)
{
	return (row[COL_TS] - t->origin) / t->resolution;
}

/* Double the resolution: each pair of windows keeps its larger row, the earlier on a tie. */
static void merge(struct timeline *t)
{
	size_t i, n = 0;

	t->resolution *= 2;
	for (i = 0; i < t->n; i++) {
		uint64_t *row = row_at(t, i), *prev = n ? row_at(t, n - 1) : NULL;

		if (prev && window_of(t, prev) == window_of(t, row)) {
			if (row[COL_TREE] > prev[COL_TREE])
				memcpy(prev, row, t->stride * sizeof(*row));
		} else {
			if (n != i)
				memcpy(row_at(t, n), row, t->stride * sizeof(*row));
			n++;
		}
	}
	t->n = n;
}

static int start(struct timeline *t, const struct bmt_sample *s)
{
	t->n_stages = s->n_stages;
	t->stride = COL_STAGES + s->n_stages;
	t->last = calloc(t->stride, sizeof(*t->last));
	if (!t->last)
		return -ENOMEM;
	/* windows at whole milliseconds of the clock: the BPF side's runs end at the same ones */
	t->origin = s->ts - s->ts % TIMELINE_RESOLUTION_NS;
	t->started = true;
	return 0;
}

static int grow(struct timeline *t)
{
	size_t cap = t->cap ? t->cap * 2 : 1024;
	uint64_t *rows = realloc(t->rows, cap * t->stride * sizeof(*rows));

	if (!rows)
		return -ENOMEM;
	t->rows = rows;
	t->cap = cap;
	return 0;
}

int timeline__add(struct timeline *t, const struct bmt_sample *s)
{
	size_t n_stages;
	uint64_t *prev;

	if (!t->started && start(t, s))
		return -ENOMEM;
	n_stages = s->n_stages < t->n_stages ? s->n_stages : t->n_stages;
	t->last[COL_TS] = s->ts > t->origin ? s->ts : t->origin; /* samples never go back */
	t->last[COL_TREE] = s->tree_bytes;
	t->last[COL_ANON] = s->anon_bytes;
	if (n_stages)
		memcpy(t->last + COL_STAGES, s->stage_bytes, n_stages * sizeof(*t->last));

	prev = t->n ? row_at(t, t->n - 1) : NULL;
	if (prev && window_of(t, prev) == window_of(t, t->last)) {
		if (t->last[COL_TREE] > prev[COL_TREE])
			memcpy(prev, t->last, t->stride * sizeof(*prev));
		return 0;
	}
	if (t->n == t->cap && grow(t))
		return -ENOMEM;
	memcpy(row_at(t, t->n++), t->last, t->stride * sizeof(*t->last));
	if (t->n > TIMELINE_MAX_ROWS)
		merge(t);
	return 0;
}

/* The last sample is a row of its own unless it is the last stored row. */
static bool last_is_extra(const struct timeline *t)
{
	return t->n && memcmp(row_at(t, t->n - 1), t->last, t->stride * sizeof(*t->last));
}

size_t timeline__rows(const struct timeline *t)
{
	return t->n + last_is_extra(t);
}

void timeline__row(const struct timeline *t, size_t i, struct timeline_row *row)
{
	const uint64_t *v = i < t->n ? row_at(t, i) : t->last;

	*row = (struct timeline_row){ v[COL_TS], v[COL_TREE], v[COL_ANON], v + COL_STAGES };
}

size_t timeline__n_stages(const struct timeline *t)
{
	return t->n_stages;
}

uint64_t timeline__resolution(const struct timeline *t)
{
	return t->resolution;
}

struct timeline *timeline__coarsen(const struct timeline *t, size_t max_rows)
{
	struct timeline *c = timeline__new();

	if (!c)
		return NULL;
	*c = *t;
	c->rows = NULL;
	c->last = NULL;
	c->cap = t->n;
	if (t->started) {
		c->rows = calloc(t->n ? t->n : 1, t->stride * sizeof(*c->rows));
		c->last = malloc(t->stride * sizeof(*c->last));
		if (!c->rows || !c->last) {
			timeline__free(c);
			errno = ENOMEM;
			return NULL;
		}
		memcpy(c->rows, t->rows, t->n * t->stride * sizeof(*c->rows));
		memcpy(c->last, t->last, t->stride * sizeof(*c->last));
	}
	while (timeline__rows(c) > max_rows && c->n > 1)
		merge(c);
	return c;
}

void timeline__stage_columns(const struct timeline *t, const struct bmt_result *r, size_t *col)
{
	size_t k, n = t->n_stages;

	for (k = 0; k < r->n_stages; k++) {
		if (n && r->n_stages == n) /* the default stage first, then the rules */
			col[k] = k ? k - 1 : n - 1;
		else if (n && r->n_stages == n - 1) /* the default stage left out */
			col[k] = k;
		else
			col[k] = SIZE_MAX;
	}
}
