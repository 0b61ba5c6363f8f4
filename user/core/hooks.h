/* SPDX-License-Identifier: MIT */
/*
 * hooks - the collector's observers, internal to collector.c: the per-process change hook
 * (collector__on_proc), the death hook (collector__on_death) and the sample hook
 * (collector__on_sample). Pure: they keep no accounting state; the collector hands them
 * what they report.
 *
 * Invariants:
 * - between two hooks__flush calls, changed lists the processes one record moved, in the
 *   order it moved them; a pid may be there several times and its last value is the one
 *   that holds, the only one reported;
 * - a hook whose fn is NULL is off: nothing is kept or built for it.
 */
#ifndef BMT_HOOKS_H
#define BMT_HOOKS_H

#include <stddef.h>
#include <stdint.h>
#include "collector.h"
#include "result.h"
#include "tally.h"

struct hooks {
	bmt_sample_fn sample_fn;
	void *sample_ctx;
	bmt_death_fn death_fn;
	void *death_ctx;
	bmt_proc_fn proc_fn; /* each process's contribution after a record changed it */
	void *proc_ctx;
	struct proc_change { uint32_t pid; uint64_t bytes; } *changed; /* during one record */
	size_t n_changed, cap_changed;
};

/* pid's contribution is bytes now, within the record being applied (kept for hooks__flush). */
void hooks__note(struct hooks *h, uint32_t pid, uint64_t bytes);

/* The record is applied: report each process it changed once, at ts, and forget them. */
void hooks__flush(struct hooks *h, uint64_t ts);

/* Report the tree's total (and anon) at ts with each stage's bytes from t. */
void hooks__sample(const struct hooks *h, struct tallies *t, uint64_t ts, uint64_t tree,
		   uint64_t anon);

/*
 * Report the death e (ts, signal and the tree's bytes set) of the process of row; held: the
 * contributors of this instant (an OOM kill), or NULL. The death hook must be on. Returns
 * the hook's value, or -ENOMEM (then it was not told).
 */
int hooks__death(const struct hooks *h, const struct tallies *t, const struct peak_row *row,
		 const struct snapshot *held, const struct bmt_death_event *e);

void hooks__free(struct hooks *h);

#endif
