// SPDX-License-Identifier: MIT
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <bpf/btf.h>
#include "kbtf.h"

struct kbtf {
	struct btf *btf;
};

/* The BTF tracepoints bmtrace attaches to; serve adds the last. */
static const char *const needed[] = { "sched_process_fork", "sched_process_exec",
				      "sched_process_exit", "rss_stat", "cgroup_attach_task" };
#define N_NEEDED_TRACE (sizeof(needed) / sizeof(needed[0]) - 1)

struct kbtf *kbtf__open(const char *path)
{
	struct kbtf *k = calloc(1, sizeof(*k));
	int err;

	if (!k)
		return NULL;
	k->btf = path ? btf__parse(path, NULL) : btf__load_vmlinux_btf();
	if (!k->btf) {
		err = errno; /* set by libbpf */
		free(k);
		errno = err;
		return NULL;
	}
	return k;
}

/* The prototype of BTF tracepoint tp: typedef btf_trace_TP -> pointer -> (void *ctx, ...). */
static const struct btf_type *tp_proto(const struct kbtf *k, const char *tp)
{
	char name[128];
	const struct btf_type *t;
	int id;

	if (snprintf(name, sizeof(name), "btf_trace_%s", tp) >= (int)sizeof(name))
		return NULL;
	id = btf__find_by_name_kind(k->btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return NULL;
	t = btf__type_by_id(k->btf, btf__resolve_type(k->btf, id));
	if (!t || !btf_is_ptr(t))
		return NULL;
	t = btf__type_by_id(k->btf, t->type);
	return t && btf_is_func_proto(t) && btf_vlen(t) >= 1 ? t : NULL;
}

int kbtf__tp_nargs(const struct kbtf *k, const char *tp)
{
	const struct btf_type *t = tp_proto(k, tp);

	return t ? btf_vlen(t) - 1 : -ENOENT;
}

/* Is argument i (from 0, after the context) of BTF tracepoint tp a pointer? */
static bool tp_arg_is_ptr(const struct kbtf *k, const char *tp, int i)
{
	const struct btf_type *t = tp_proto(k, tp);

	if (!t || btf_vlen(t) < i + 2)
		return false;
	t = btf__type_by_id(k->btf, btf__resolve_type(k->btf, btf_params(t)[i + 1].type));
	return t && btf_is_ptr(t);
}

bool kbtf__has_struct(const struct kbtf *k, const char *name)
{
	return btf__find_by_name_kind(k->btf, name, BTF_KIND_STRUCT) >= 0;
}

int kbtf__choose(const struct kbtf *k, bool serve, struct kbtf_choice *c, char *err,
		 size_t errlen)
{
	size_t i, n = serve ? N_NEEDED_TRACE + 1 : N_NEEDED_TRACE;

	for (i = 0; i < n; i++)
		if (kbtf__tp_nargs(k, needed[i]) < 0) {
			snprintf(err, errlen,
				 "this kernel has no tracepoint %s in its BTF: bmtrace needs it "
				 "(CONFIG_TRACEPOINTS, CONFIG_DEBUG_INFO_BTF)",
				 needed[i]);
			return -ENOENT;
		}
	c->exit_has_group_dead = kbtf__tp_nargs(k, "sched_process_exit") >= 2;
	/* SPLIT_RSS_COUNTING: a thread syncs its counts every TASK_RSS_EVENTS_THRESH faults */
	c->thread_batch = kbtf__has_struct(k, "task_rss_stat") ? 64 : 0;
	c->mark_victim_task = tp_arg_is_ptr(k, "mark_victim", 0);
	return 0;
}

void kbtf__close(struct kbtf *k)
{
	if (!k)
		return;
	btf__free(k->btf);
	free(k);
}
