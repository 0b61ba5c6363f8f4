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
#define BMT_CGROUP_PATH 4096
#define BMT_CGROUP_NONE UINT64_MAX /* no limit; a swap figure the kernel does not keep */

struct deaths;

/* Which peak --max-peak and --budget judge (--gate). */
enum bmt_gate {
	BMT_GATE_RSS,    /* the tree RSS (the default) */
	BMT_GATE_ANON,   /* the tree's anon + shmem */
	BMT_GATE_CGROUP, /* the run's memory cgroup (--cgroup) */
};

/* --cgroup: the run's own memory cgroup, read when tracing stopped. */
struct bmt_cgroup {
	int version;               /* 1 or 2; 0: no --cgroup */
	char path[BMT_CGROUP_PATH];
	uint64_t peak_bytes;       /* v2 memory.peak, v1 memory.max_usage_in_bytes */
	uint64_t limit_bytes;      /* --memory-max; BMT_CGROUP_NONE: none */
	uint64_t oom_kills;        /* the oom_kill count of v2 memory.events, v1 memory.oom_control */
	uint64_t swap_peak_bytes;  /* v2 memory.swap.peak; BMT_CGROUP_NONE: not kept */
	uint64_t memsw_peak_bytes; /* v1 memory.memsw.max_usage_in_bytes (memory + swap) */
};

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
	uint64_t over_budget_ts; /* first record ts at which the gated peak exceeded it; 0: never */
	int gate;                /* enum bmt_gate */
	struct bmt_cgroup cgroup;
	const struct deaths *deaths; /* the tree's deaths by signal and OOM kills; NULL: none */
};

/* Seconds from the run's time zero to ts (record time, CLOCK_MONOTONIC ns); 0 before it. */
static inline double run_rel_s(const struct bmt_run *run, uint64_t ts)
{
	return ts > run->start_ts ? (double)(ts - run->start_ts) / 1e9 : 0.0;
}

#endif /* BMT_RUN_H */
