/* SPDX-License-Identifier: MIT */
/*
 * deaths - every process of the tree that died of a signal, and which of them the OOM
 * killer chose. Pure: fed the collector's death events (collector__on_death).
 *
 * Invariants:
 * - one entry per process that died of a signal, in the order of the deaths; an OOM
 *   victim's entry is made when the OOM killer marks it (its bytes, the tree's and the
 *   holders are those of that instant, before the kill frees anything) and completed by its
 *   EXIT (the signal); a victim whose EXIT never came (tracing stopped first) keeps SIGKILL,
 *   the signal the OOM killer sends;
 * - holders are the tree's contributors at an OOM kill's instant, largest first, adding up
 *   to tree_bytes (the same rule as the peak's table); none for other deaths;
 * - oom_kills == the number of entries with oom set.
 */
#ifndef BMT_DEATHS_H
#define BMT_DEATHS_H

#include <stddef.h>
#include <stdint.h>
#include "collector.h"

struct bmt_death {
	uint32_t pid, ppid;
	const char *comm;
	char *const *argv; /* NULL-terminated */
	const char *stage;
	int signal;
	int oom;			 /* the OOM killer chose it */
	uint64_t ts;			 /* record time (monotonic ns): the OOM mark, or the exit */
	uint64_t bytes;			 /* its own then */
	uint64_t tree_bytes, anon_bytes; /* the tree's then */
	const struct bmt_peak_proc *holders; /* OOM kills only; largest first */
	size_t n_holders;
};

struct deaths;

/* NULL with errno set. */
struct deaths *deaths__new(void);
void deaths__free(struct deaths *d);

/* The collector's death hook (a bmt_death_fn): ctx is the deaths. 0 or -ENOMEM. */
int deaths__event(void *ctx, const struct bmt_death_event *e);

/* The entries so far, in time order, valid until the next event or free; *n their number. */
const struct bmt_death *deaths__list(const struct deaths *d, size_t *n);

/* How many of them the OOM killer chose. */
uint64_t deaths__oom_kills(const struct deaths *d);

#endif /* BMT_DEATHS_H */
