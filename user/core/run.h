/* SPDX-License-Identifier: MIT */
/*
 * run - what is known about one traced run besides the accounting: the command,
 * how it ended, how long it took, and the transport's counters. Filled live by
 * main.c, or from a trace file's header and end record by `bmtrace report`.
 */
#ifndef BMT_RUN_H
#define BMT_RUN_H

#include <stdint.h>
#include "bmtrace.h"

#define BMT_KERNEL_LEN 65

struct bmt_run {
	char **argv;          /* the command (NULL-terminated); for -p, the root's cmdline */
	uint32_t root_pid;
	int attached;         /* -p: the tree was already running */
	int exit_code;        /* COMMAND's exit status; -1 when unknown (-p, or killed by a signal) */
	int signal;           /* the signal that ended COMMAND, or 0 */
	uint64_t start_ts;    /* CLOCK_MONOTONIC ns of time zero */
	uint64_t end_ts;      /* CLOCK_MONOTONIC ns when tracing stopped */
	uint64_t start_realtime_ns; /* wall clock at time zero */
	uint32_t page_size;
	char kernel[BMT_KERNEL_LEN]; /* uname -r of the machine that traced */
	uint32_t thread_batch; /* tracer__thread_batch() (faults); 0 in traces recorded before */
	struct bmt_stats stats; /* from the BPF side */
	/* where the counters came from: "btf-percpu" or "tracepoint"; empty in a trace recorded
	 * before bmtrace had a choice (the source was then the tracepoint) */
	char counter_source[16];
	uint64_t ring_bytes;
	/* not recorded in a trace: given again to `bmtrace report` */
	uint64_t budget_bytes;   /* --max-peak or --budget; 0: none */
	int budget_gate;         /* it is --max-peak: exceeding it fails a successful run */
	uint64_t over_budget_ts; /* first record ts at which the tree total exceeded it; 0: never */
};

/* Seconds from the run's time zero to ts (record time, CLOCK_MONOTONIC ns); 0 before it. */
static inline double run_rel_s(const struct bmt_run *run, uint64_t ts)
{
	return ts > run->start_ts ? (double)(ts - run->start_ts) / 1e9 : 0.0;
}

#endif /* BMT_RUN_H */
