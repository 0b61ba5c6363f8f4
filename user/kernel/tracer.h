/* SPDX-License-Identifier: MIT */
/*
 * tracer - the only module that sees the BPF skeleton: check the kernel, load,
 * attach, add processes to the traced set, drain the ring buffer, read stats.
 */
#ifndef BMT_TRACER_H
#define BMT_TRACER_H

#include <stddef.h>
#include <stdint.h>
#include "bmtrace.h"

struct tracer;

/* Receives each record as the kernel wrote it; a negative return stops the drain. */
typedef int (*tracer_record_fn)(void *ctx, const void *rec, size_t len);

/* serve: which trees to follow (see bpf/bmtrace.bpf.c); all empty in the tracing modes. */
struct tracer_serve {
	char *const *roots;         /* program names (comm) that start a tree when exec'd */
	size_t n_roots;
	const uint64_t *cg_parents; /* cgroup ids whose child cgroups are trees */
	size_t n_cg_parents;
	uint32_t max_trees;
};

struct tracer_opts {
	uint64_t ring_bytes; /* 0: the default (8 MiB, 1 MiB per CPU past 8); rounded up to a power of two */
	int verbose;         /* libbpf's own log on stderr */
	tracer_record_fn fn;
	void *ctx;
	const struct tracer_serve *serve; /* NULL: trace what tracer__add_pid adds */
	unsigned int max_procs; /* processes and address spaces at once; 0: BMT_MAX_PROCS */
	/*
	 * The other user the caller acts for (under sudo or -u: COMMAND's; serve --user), by
	 * name for the message. The check also asks for what that takes: CAP_SETUID and
	 * CAP_SETGID to switch to it (and for serve, CAP_BPF itself, the one it keeps), CAP_CHOWN
	 * to give it the output files.
	 */
	const char *user;
	int switch_user;
	int give_files;
};

/*
 * Check privileges and the kernel (BTF, tracefs, the tracepoints), mount tracefs when
 * absent, choose the counter source, load and attach. NULL on failure with a one-line
 * reason in err that says what to do; missing capabilities are all named at once, before
 * anything is loaded.
 *
 * The counter source is "btf-percpu" (the BTF raw tracepoint alone, reading each counter's
 * exact value itself) when its programs load and its self-test agrees with the kernel on
 * 64 page faults of bmtrace's own; "tracepoint" (the classic tracepoint, paired) otherwise.
 * BMTRACE_COUNTER_SOURCE=btf-percpu|tracepoint forces one (btf-percpu fails when it cannot
 * be used). verbose says which, and why.
 */
struct tracer *tracer__open(const struct tracer_opts *opts, char *err, size_t errlen);
/* verbose: also says how the counters were read and, with kernel.bpf_stats_enabled=1, the
 * programs' run time per rss event. */
void tracer__close(struct tracer *t);

/* The counter source in use: "btf-percpu" or "tracepoint" (the JSON's counter_source). */
const char *tracer__counter_source(const struct tracer *t);

/*
 * Add pid to the traced set (flags: BMT_PROC_*), in serve's tree (0 in the tracing modes).
 * 0, -EEXIST when already traced, -errno.
 */
int tracer__add_pid(struct tracer *t, uint32_t pid, uint32_t flags, uint32_t tree);

/*
 * serve: start the tree of cgroup cgid from userspace, as the kernel would at the first
 * process it sees there (for jobs already running when serve starts). 0 with *tree set;
 * -EEXIST with *tree set when the kernel started it meanwhile; -ENOSPC when max_trees are
 * alive (counted as dropped); -errno.
 */
int tracer__new_cgroup_tree(struct tracer *t, uint64_t cgid, uint32_t *tree);

/* serve: trees not followed because max_trees were alive. */
uint64_t tracer__trees_dropped(const struct tracer *t);

/*
 * How many page faults each thread may keep to itself before its process's counters (and the
 * rss_stat tracepoint, and /proc) see what they changed: 64 on kernels that batch them per
 * thread (before 6.2, SPLIT_RSS_COUNTING: struct task_rss_stat in the BTF; the batch is also
 * added at exit), 0 where every change reaches them at once. A fault changes one anonymous
 * page, or a few file pages (fault-around: 16 by default).
 */
uint32_t tracer__thread_batch(const struct tracer *t);

/* A file descriptor that becomes readable when records are waiting (for epoll). */
int tracer__fd(const struct tracer *t);

/*
 * Raise the calling thread's priority (nice -20) so the reader keeps up when the traced tree
 * is hundreds of busy processes: CFS would give it a 1/N share, and the ring would overflow.
 * Call it after forking COMMAND, which keeps its own niceness. Failure is harmless.
 */
void tracer__prioritize(void);

/*
 * Hand every waiting record to opts->fn, in the order of the changes (user/core/merge.h):
 * what a record still being written holds back goes at a later drain. Returns the number
 * handled or -errno.
 */
int tracer__drain(struct tracer *t);
/* The same once tracing is over: everything goes, held back or not. */
int tracer__drain_last(struct tracer *t);

/* The BPF side's counters, summed over CPUs. */
void tracer__stats(const struct tracer *t, struct bmt_stats *out);

#endif /* BMT_TRACER_H */
