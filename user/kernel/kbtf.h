/* SPDX-License-Identifier: MIT */
/*
 * kbtf - what a kernel's BTF says about the tracepoints bmtrace attaches to, and so which
 * program variants it loads there: a choice made by what the kernel has, never by its version
 * string. A BTF raw tracepoint sees the arguments of the kernel's trace_NAME() call, which
 * change between releases (sched_process_exit gained group_dead after 6.1; rss_stat lost its
 * count in 6.2); the kernel describes each one as the typedef btf_trace_NAME, a pointer to a
 * function whose first parameter is the context.
 */
#ifndef BMT_KBTF_H
#define BMT_KBTF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kbtf;

/* What bmtrace loads on a kernel (kbtf__choose). */
struct kbtf_choice {
	bool exit_has_group_dead; /* sched_process_exit passes group_dead */
	/*
	 * Page faults each thread keeps to itself before its process's counters see what they
	 * changed: 64 where the kernel batches them per thread (struct task_rss_stat exists,
	 * SPLIT_RSS_COUNTING, before 6.2), 0 where every change reaches them at once.
	 */
	uint32_t thread_batch;
	/* oom/mark_victim passes the victim's task (6.18), not its pid (older kernels) */
	bool mark_victim_task;
};

/*
 * The BTF at path (raw BTF or an ELF file with a .BTF section), or the running kernel's
 * (/sys/kernel/btf/vmlinux) when path is NULL. NULL with errno set.
 */
struct kbtf *kbtf__open(const char *path);

/*
 * How many arguments tracepoint tp (e.g. "sched_process_exit") passes to a BTF program, not
 * counting the context: >= 0, or -ENOENT when this kernel has no such tracepoint.
 */
int kbtf__tp_nargs(const struct kbtf *k, const char *tp);

/* Whether this kernel has struct name (e.g. "task_rss_stat"). */
bool kbtf__has_struct(const struct kbtf *k, const char *name);

/*
 * Fill c for this kernel: 0, or -ENOENT with one line in err naming the tracepoint it lacks
 * (serve also needs cgroup_attach_task).
 */
int kbtf__choose(const struct kbtf *k, bool serve, struct kbtf_choice *c, char *err,
		 size_t errlen);

void kbtf__close(struct kbtf *k);

#endif
