/* SPDX-License-Identifier: MIT */
/*
 * sizing - how large one process running a command gets: the per-process peaks of a
 * command, the largest exactly, the others in a log-linear histogram of 4 KiB pages (exact
 * below 16 pages, then 16 steps per power of two), so a quantile is a bucket's top: within
 * 1/16 (6.25 %) above the true value. Memory per command is fixed whatever the number of
 * processes. Pure; internal to the collector and its result.
 *
 * Invariants: max is the largest sample ever added; samples counts those in hist.
 */
#ifndef BMT_SIZING_H
#define BMT_SIZING_H

#include <stddef.h>
#include <stdint.h>

struct sizing {
	uint64_t samples, max;
	uint32_t *hist; /* NULL until the first sample */
};

struct sizing_summary {
	uint64_t max, p50, p95;
};

/* One process's peak under the command. -ENOMEM: the quantiles miss it, max does not. */
int sizing__add(struct sizing *s, uint64_t bytes);
void sizing__free(struct sizing *s);

/*
 * The largest, median and 95th percentile of s's samples and of extra[0..n) (processes
 * still running: their peaks so far), without changing s. extra must be sorted ascending.
 * A quantile is its bucket's top capped at the largest; all 0 without any sample.
 */
void sizing__summary(const struct sizing *s, const uint64_t *extra, size_t n,
		     struct sizing_summary *out);

#endif /* BMT_SIZING_H */
