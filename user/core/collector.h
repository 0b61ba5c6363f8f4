/* SPDX-License-Identifier: MIT */
/*
 * collector - pure accounting: records in, tree state and peaks out.
 *
 * Implements README's "What is measured". No libbpf, no /proc, no clock: it
 * is fed the records of bpf/bmtrace.h (live from the ring buffer, or replayed
 * from a trace file) and nothing else, so every rule is a unit test.
 *
 * Invariants:
 * - an address space (mm key) counts once, whatever number of processes use it;
 * - a fork child's address space contributes, per member, only what it holds
 *   beyond its counters at fork, until its parent's address space has been torn
 *   down (then in full) or it execs (a new key, in full);
 * - an address space counts from the moment a process is bound to it (FORK, MM,
 *   EXEC, ADOPT) until its counters fall to zero; events before the binding
 *   update its counters but count nothing (fork copies made in the parent's
 *   context are never a phantom);
 * - tree bytes = sum of contributions; peak.bytes = max over time, and the
 *   processes listed at the peak add up to it exactly.
 */
#ifndef BMT_COLLECTOR_H
#define BMT_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>
#include "stages.h"

struct collector;

/* One process alive at the peak with a non-zero contribution. */
struct bmt_peak_proc {
	uint32_t pid, ppid;
	const char *comm;   /* executable name after the last exec (or the inherited one) */
	char *const *argv;  /* NULL-terminated */
	const char *stage;
	uint64_t bytes, anon_bytes, file_bytes, shmem_bytes;
};

struct bmt_stage_result {
	const char *name;
	uint64_t bytes_at_peak;
	uint64_t peak_bytes; /* its own maximum over time */
	uint64_t peak_ts;
	uint64_t processes;  /* processes that ran in it (counted as commands are, below) */
	uint64_t bytes_now;  /* at the last record fed */
};

struct bmt_command_result {
	const char *name;
	uint64_t bytes_at_peak;
	uint64_t peak_bytes;  /* all its processes together, maximum over time */
	uint64_t peak_ts;
	/*
	 * processes that ran it: a fork child that execs another program before running one of
	 * its own counts only in that one (stages count the same way), so the column adds up to
	 * the processes started but for those that ran one program and exec'd another
	 */
	uint64_t processes;
	/*
	 * Sizing, per process that ran it (its own peak while running it): the largest exactly,
	 * the median and 95th percentile from a log-linear histogram (16 steps per power of
	 * two: within 6.25 % above the true value), and the most instances alive at once.
	 */
	uint64_t max_proc_peak;
	uint64_t p50_proc_peak, p95_proc_peak;
	uint64_t max_instances;
	uint64_t instances_at_peak; /* of them, alive at the tree's peak with a contribution */
	uint64_t bytes_now;   /* at the last record fed */
	uint32_t max_proc_pid;          /* the process of max_proc_peak (0: none measured) */
	char *const *max_proc_argv;     /* its argv at its last exec, NULL-terminated, or NULL */
};

/* A process still alive when tracing stopped. */
struct bmt_alive_proc {
	uint32_t pid;
	const char *comm;
};

struct bmt_peak {
	uint64_t bytes, ts; /* ts: the record timestamp (monotonic ns) of the peak */
	uint64_t anon_bytes, file_bytes, shmem_bytes;
};

struct bmt_result {
	struct bmt_peak peak;           /* tree RSS: anon + file + shmem, inherited pages once */
	const struct bmt_peak_proc *peak_procs; /* largest first; sum == peak.bytes */
	size_t n_peak_procs;
	struct bmt_peak anon_peak;      /* max of anon + shmem (same inherited-page rule) */
	struct bmt_peak raw_peak;       /* max of the plain sum of counters of counted mms */
	uint64_t swap_at_peak;          /* swap entries of the counted mms at the peak (not in RSS) */
	struct bmt_peak swap_peak;      /* max of those swap entries over time (bytes, ts) */
	const struct bmt_stage_result *stages; /* in rule order, the root's default stage first */
	size_t n_stages;
	const struct bmt_command_result *commands; /* largest bytes_at_peak first, then peak_bytes */
	size_t n_commands;
	const struct bmt_alive_proc *alive; /* processes alive at the end, by pid */
	size_t n_alive;
	uint64_t processes_total;       /* processes seen, the root included */
	uint64_t events;                /* rss events the RSS records fed stand for (hdr.flags) */
	uint64_t rejected;              /* records rejected as unknown or short */
	uint64_t first_ts, last_ts;     /* of the records fed */
	uint64_t tree_bytes_now, anon_bytes_now; /* at the last record fed (live exporters) */
};

/* Per change of the tree total: called with the new totals after each change. */
struct bmt_sample {
	uint64_t ts;
	uint64_t tree_bytes, anon_bytes;
	const uint64_t *stage_bytes; /* n_stages entries: the rules in order, then the default */
	size_t n_stages;
};
typedef void (*bmt_sample_fn)(void *ctx, const struct bmt_sample *s);

/*
 * A death in the tree, told as it happens: a process that died of a signal (at its EXIT), or
 * the OOM killer's choice of a victim (at its OOM record: before the kill frees anything).
 */
struct bmt_death_event {
	uint64_t ts;
	int signal;                         /* 0: an OOM mark; its EXIT follows with SIGKILL */
	const struct bmt_peak_proc *proc;   /* the process, with its own bytes now */
	uint64_t tree_bytes, anon_bytes;    /* the tree's now */
	const struct bmt_peak_proc *holders; /* OOM marks: every contributor now, largest first */
	size_t n_holders;
};
/* Valid only during the call; a negative return fails the feed with it. */
typedef int (*bmt_death_fn)(void *ctx, const struct bmt_death_event *e);

/*
 * Returns NULL with errno set on failure. stages may be NULL (one default stage). The
 * collector keeps a pointer to stages: it must outlive the collector.
 */
struct collector *collector__new(const struct stages *stages);
void collector__free(struct collector *c);

/* Receive every change of the tree total (for timelines); fn NULL turns it off. */
void collector__on_sample(struct collector *c, bmt_sample_fn fn, void *ctx);

/* Be told of each death by a signal and each OOM kill (deaths.h keeps them); NULL: off. */
void collector__on_death(struct collector *c, bmt_death_fn fn, void *ctx);

/*
 * Per process: its contribution to the tree (bytes) at ts, after each record that changed
 * it (the per-process series of --perfetto). The contributions of the processes alive add
 * up to the tree total; a process's falls to 0 when its memory is freed.
 */
typedef void (*bmt_proc_fn)(void *ctx, uint64_t ts, uint32_t pid, uint64_t bytes);

/* Receive every change of a process's contribution; fn NULL turns it off. */
void collector__on_proc(struct collector *c, bmt_proc_fn fn, void *ctx);

/*
 * Declare the root process before its records arrive (wrap mode: bmtrace forked it). argv
 * is the command as the user gave it; it names the root and its default stage until its
 * exec is seen. Returns 0 or -errno.
 */
int collector__add_root(struct collector *c, uint32_t pid, char *const argv[], uint64_t ts);

/*
 * Feed one record (bpf/bmtrace.h). Returns 0; -EINVAL for an unknown type or a record
 * shorter than its type needs (counted in result.rejected, state unchanged); -ENOMEM.
 */
int collector__feed(struct collector *c, const void *rec, size_t len);

/* Number of traced processes alive now (for --wait-all). */
size_t collector__alive(const struct collector *c);

/*
 * The process alive now with the largest contribution, for the live status (SIGUSR1,
 * --progress): its pid, and its bytes and argv (NULL-terminated, or NULL) through the
 * pointers; 0 when no process holds any. O(processes).
 */
uint32_t collector__largest_now(const struct collector *c, uint64_t *bytes, char *const **argv);

/* A stage or a command now, in the live view. */
struct bmt_level {
	const char *name;
	uint64_t bytes;      /* now */
	uint64_t peak_bytes; /* its own maximum so far */
	uint64_t peak_ts;
};

/*
 * The live view: the current values only, for pages refreshed while tracing (/metrics).
 * Every field equals the one of the full result computed at the same moment: tree and anon
 * bytes now, the peak so far, the processes alive, seen and events; stages as result.stages
 * (same order, same names); commands in the order they first appeared.
 */
struct bmt_now {
	uint64_t tree_bytes, anon_bytes; /* = result.tree_bytes_now, anon_bytes_now */
	struct bmt_peak peak;            /* so far */
	uint64_t alive;                  /* = result.n_alive */
	uint64_t processes_total, events, rejected;
	uint64_t first_ts, last_ts;
	const struct bmt_level *stages;
	size_t n_stages;
	const struct bmt_level *commands;
	size_t n_commands;
};

/*
 * Fill now. O(stages + commands), no allocation, no copy of the processes: cheap enough
 * for every publish. Its arrays are valid until the next feed, collector__now or free.
 */
void collector__now(struct collector *c, struct bmt_now *now);

/*
 * The full result: the processes at the peak, the sizing, the tables. Computed once per
 * change: a call without a record fed since returns the same result at no cost. Valid
 * until the next feed or free. NULL with errno set on allocation failure.
 */
const struct bmt_result *collector__result(struct collector *c);

#endif /* BMT_COLLECTOR_H */
