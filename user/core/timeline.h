/* SPDX-License-Identifier: MIT */
/*
 * timeline - the tree total over time, from the collector's samples (collector__on_sample),
 * coalesced so that a long run stays a table a spreadsheet opens, without losing the peak.
 *
 * The rule. Time is cut into windows of `resolution` ns, counted from the whole millisecond
 * of the clock the first sample falls in (the BPF side's runs end at whole milliseconds too,
 * so a window's largest total is a value some record carries: bmtrace.h). Each
 * window keeps one row: the first sample that holds the window's largest tree total, with
 * its exact time and the anon and stage bytes of that same instant. When rows would pass
 * TIMELINE_MAX_ROWS, the resolution doubles and neighbouring windows merge by the same
 * rule (the larger, the earlier on a tie). The last sample (the state when tracing
 * stopped) follows as a row of its own.
 *
 * So the largest tree total of the rows is the run's peak, at the peak's time, exactly:
 * the peak is the first sample to hold the largest total of the whole run, which the rule
 * keeps in whatever window holds it. The rows show the envelope of maxima: a dip shorter
 * than a window is not shown. Anon bytes are those at the row's instant, not their own
 * maximum (that is the JSON's anon_peak).
 */
#ifndef BMT_TIMELINE_H
#define BMT_TIMELINE_H

#include <stddef.h>
#include <stdint.h>
#include "bmtrace.h"
#include "collector.h"

#define TIMELINE_RESOLUTION_NS BMT_RUN_WINDOW_NS /* 1 ms to begin with */
#define TIMELINE_MAX_ROWS      65536      /* then doubled: 32k to 64k rows for a long run */

struct timeline;

struct timeline_row {
	uint64_t ts; /* record timestamp, CLOCK_MONOTONIC ns */
	uint64_t tree_bytes, anon_bytes;
	const uint64_t *stage_bytes; /* timeline__n_stages entries, in the samples' order */
};

/* An empty timeline; NULL with errno set. */
struct timeline *timeline__new(void);
void timeline__free(struct timeline *t);

/* Add one sample (a bmt_sample_fn's argument). Returns 0 or -ENOMEM. */
int timeline__add(struct timeline *t, const struct bmt_sample *s);

/* Rows in time order, the last sample included; row i valid until the next add. */
size_t timeline__rows(const struct timeline *t);
void timeline__row(const struct timeline *t, size_t i, struct timeline_row *row);
size_t timeline__n_stages(const struct timeline *t);
uint64_t timeline__resolution(const struct timeline *t);

/*
 * A copy coarsened by the same rule until it has at most max_rows rows (the last sample's
 * row counts among them), e.g. one per pixel of a chart; NULL with errno set.
 */
struct timeline *timeline__coarsen(const struct timeline *t, size_t max_rows);

/*
 * Where each of r's stages is among a row's stage_bytes: col[k] for r->stages[k], or
 * SIZE_MAX when the samples do not hold it. The collector's samples list the stages in
 * rule order with the root's default stage last; its result puts the default stage first,
 * or leaves it out when no process stayed in it.
 */
void timeline__stage_columns(const struct timeline *t, const struct bmt_result *r, size_t *col);

#endif /* BMT_TIMELINE_H */
