// SPDX-License-Identifier: MIT
/* sizing - per-process peaks of a command, in a log-linear histogram (sizing.h). */
#include <errno.h>
#include <stdlib.h>
#include "sizing.h"

#define HIST_SUB 16
#define HIST_POW 40 /* up to 2^44 pages */
#define HIST_BUCKETS (HIST_SUB * (HIST_POW + 1))

static size_t bucket(uint64_t bytes)
{
	uint64_t x = bytes >> 12;
	int e = 63 - __builtin_clzll(x | 1);

	if (x < HIST_SUB)
		return x;
	if (e - 4 >= HIST_POW)
		return HIST_BUCKETS - 1;
	return HIST_SUB + (size_t)(e - 4) * HIST_SUB + ((x >> (e - 4)) & (HIST_SUB - 1));
}

/* The largest value that falls in bucket i, in bytes. */
static uint64_t bucket_top(size_t i)
{
	size_t e4, sub;

	if (i < HIST_SUB)
		return (uint64_t)i << 12;
	e4 = (i - HIST_SUB) / HIST_SUB;
	sub = (i - HIST_SUB) % HIST_SUB;
	return (((uint64_t)(HIST_SUB + sub + 1) << e4) - 1) << 12;
}

int sizing__add(struct sizing *s, uint64_t bytes)
{
	if (bytes > s->max)
		s->max = bytes;
	if (!s->hist && !(s->hist = calloc(HIST_BUCKETS, sizeof(*s->hist))))
		return -ENOMEM;
	s->hist[bucket(bytes)]++;
	s->samples++;
	return 0;
}

void sizing__free(struct sizing *s)
{
	free(s->hist);
	s->hist = NULL;
}

/* The q-quantile of hist and extra together (total samples), capped at max. */
static uint64_t quantile(const struct sizing *s, const uint64_t *extra, size_t n, double q,
			 uint64_t max)
{
	uint64_t total = s->samples + n, rank, seen = 0;
	size_t j = 0;

	if (!total)
		return 0;
	rank = (uint64_t)(q * (double)total + 0.999999);
	rank = rank ? rank : 1;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += s->hist ? s->hist[i] : 0;
		for (; j < n && bucket(extra[j]) == i; j++) /* sorted: their buckets ascend */
			seen++;
		if (seen >= rank)
			return bucket_top(i) < max ? bucket_top(i) : max;
	}
	return max;
}

void sizing__summary(const struct sizing *s, const uint64_t *extra, size_t n,
		     struct sizing_summary *out)
{
	out->max = s->max;
	for (size_t i = 0; i < n; i++)
		out->max = extra[i] > out->max ? extra[i] : out->max;
	out->p50 = quantile(s, extra, n, 0.50, out->max);
	out->p95 = quantile(s, extra, n, 0.95, out->max);
}
