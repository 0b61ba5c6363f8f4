/* SPDX-License-Identifier: MIT */
/*
 * budget - a run's peak against its memory budget (--max-peak, the CI gate, or --budget; the
 * peak --gate chooses: the tree RSS's by default, the anon peak, or the run cgroup's):
 * by how much it was exceeded or what headroom it left, and how many instances of the
 * command that dominates the peak fit in the budget beside the rest of the tree. Pure: the
 * text, JSON and Markdown reports and the exit status all read it from here.
 */
#ifndef BMT_BUDGET_H
#define BMT_BUDGET_H

#include <stdbool.h>
#include <stdint.h>
#include "collector.h"
#include "run.h"

/*
 * bmtrace's exit status when a memory gate fails: --max-peak exceeded by a run whose
 * COMMAND succeeded, or `bmtrace diff --fail-if-peak-grows` exceeded. Not 0, not 125, not
 * 124/126/127 (timeout, exec), not 99 (automake's "hard error"), below the 128+N of signals.
 */
#define BMT_EXIT_BUDGET 98

struct budget_eval {
	uint64_t budget;   /* run->budget_bytes */
	bool exceeded;     /* the gated peak is over the budget */
	uint64_t over_by;  /* peak - budget when exceeded */
	uint64_t headroom; /* budget - peak when not */
	uint64_t over_ts;  /* when the gated total first went over it (record ts); 0: never or
			    * unknown (the cgroup's is read once, at the end) */
	/*
	 * The command holding the most at the peak (NULL when none held anything), the rest of
	 * the tree at the peak, and how many instances of the command fit at once in the budget
	 * beside that rest: each as large as its largest process peak (fit_max), or as its
	 * 95th percentile (fit_p95). 0 when its sizing is unknown or nothing fits.
	 */
	const struct bmt_command_result *dominant;
	uint64_t rest;
	uint64_t fit_max, fit_p95;
};

/* The peak the budget judges (run->gate): the tree RSS's, the anon peak, the cgroup's. */
uint64_t budget_peak(const struct bmt_run *run, const struct bmt_result *r);

/* A gate's name as --gate takes it: "rss", "anon", "cgroup"; NULL for no such gate. */
const char *budget_gate_name(int gate);

/* The gate --gate NAME names, or -1. */
int budget_gate_parse(const char *name);

/* Its name in reports: "peak tree RSS", "anon peak", "cgroup peak". */
const char *budget_peak_name(const struct bmt_run *run);

/*
 * One change of the tree total (collector__on_sample): the first time the gated total (the
 * tree RSS, or anon + shmem; the cgroup's is not seen live) goes over the budget is kept in run->over_budget_ts, for the reports' "first at". Nothing without one.
 */
void budget_observe(struct bmt_run *run, const struct bmt_sample *smp);

/* Evaluate run's budget against r into e; false (e zeroed) when the run has none. */
bool budget_eval(const struct bmt_run *run, const struct bmt_result *r, struct budget_eval *e);

/*
 * The gate fails: --max-peak was exceeded and COMMAND succeeded (exit 0), or its status is
 * unknown because bmtrace attached to it (-p) and no signal ended it.
 */
bool budget_gate_fails(const struct bmt_run *run, const struct bmt_result *r);

#endif /* BMT_BUDGET_H */
