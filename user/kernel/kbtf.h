/* SPDX-License-Identifier: MIT */
/*
 * kbtf - what the running kernel's BTF (/sys/kernel/btf/vmlinux) says about the tracepoints
 * bmtrace attaches to, so that it loads the program variant this kernel can run: a choice made
 * by what the kernel has, never by its version string. A BTF raw tracepoint sees the arguments
 * of the kernel's trace_NAME() call, which change between releases (sched_process_exit gained
 * group_dead after 6.1; rss_stat lost its count in 6.2); the kernel describes each one as the
 * typedef btf_trace_NAME, a pointer to a function whose first parameter is the context.
 */
#ifndef BMT_KBTF_H
#define BMT_KBTF_H

struct kbtf;

/* The running kernel's BTF, or NULL with errno set (no BTF, out of memory). */
struct kbtf *kbtf__open(void);

/*
 * How many arguments tracepoint tp (e.g. "sched_process_exit") passes to a BTF program, not
 * counting the context: >= 0, or -ENOENT when this kernel has no such tracepoint.
 */
int kbtf__tp_nargs(const struct kbtf *k, const char *tp);

/* Whether this kernel has struct NAME (e.g. "task_rss_stat"): 1 or 0. */
int kbtf__has_struct(const struct kbtf *k, const char *name);

void kbtf__close(struct kbtf *k);

#endif
