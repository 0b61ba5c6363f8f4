/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * trees.bpf.h - serve's trees in the kernel: their maps, starting and ending a tree, a
 * process joining one. Part of bmtrace.bpf.c (one BPF object, one skeleton): included there
 * once, after the maps and helpers it uses (procs, reserve, wake_flags, STAT_INC, adopting).
 */
#ifndef BMT_TREES_BPF_H
#define BMT_TREES_BPF_H

/*
 * serve: trees start in the kernel, so no child of one is ever missed. A tree is a process
 * that exec'd a --root name (roots), or a child cgroup (v2) of a --cgroup-parent
 * (cg_parents), with every process forked from its members. Empty in the tracing modes.
 */
const volatile bool targ_serve;
const volatile __u32 max_trees = 1000;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, char[BMT_COMM_LEN]);
	__type(value, __u32);
} roots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64); /* cgroup id: the directory's inode on the cgroup2 mount */
	__type(value, __u32);
} cg_parents SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, struct bmt_tree_state);
} trees SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);
	__type(value, __u32);
} cg_trees SEC(".maps");

__u32 next_tree;     /* last tree id handed out */
__u32 live_trees;    /* trees with a process in them */
__u64 trees_dropped; /* trees not followed: max_trees were alive */

static __always_inline __u32 new_tree(__u64 cgid, __u16 kind, __u32 pid, const char *comm,
				      __u64 ts)
{
	struct bmt_tree_state fresh = { .cgroup_id = cgid };
	struct bmt_tree *r;
	__u32 tree;

	if (live_trees >= max_trees) {
		__sync_fetch_and_add(&trees_dropped, 1);
		return 0;
	}
	tree = __sync_fetch_and_add(&next_tree, 1) + 1;
	if (bpf_map_update_elem(&trees, &tree, &fresh, BPF_NOEXIST) ||
	    (cgid && bpf_map_update_elem(&cg_trees, &cgid, &tree, BPF_NOEXIST))) {
		/* a full map, or another CPU started this cgroup's tree a moment ago */
		bpf_map_delete_elem(&trees, &tree);
		__u32 *other = cgid ? bpf_map_lookup_elem(&cg_trees, &cgid) : NULL;

		if (other)
			return *other;
		__sync_fetch_and_add(&trees_dropped, 1);
		return 0;
	}
	__sync_fetch_and_add(&live_trees, 1);
	r = reserve(sizeof(*r), BMT_REC_TREE, ts);
	if (r) {
		r->hdr.flags = kind;
		r->tree = tree;
		r->pid = pid;
		r->cgroup_id = cgid;
		bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), comm);
		submit_opens(r, PHASE_KEEP);
	}
	return tree;
}

static __always_inline void tree_get(__u32 tree)
{
	struct bmt_tree_state *t = tree ? bpf_map_lookup_elem(&trees, &tree) : NULL;

	if (t)
		__sync_fetch_and_add(&t->nr_procs, 1);
}

/* A member left: the last one ends the tree (a cgroup's next process starts a new one). */
static __always_inline void tree_put(__u32 tree)
{
	struct bmt_tree_state *t = tree ? bpf_map_lookup_elem(&trees, &tree) : NULL;
	__u64 cgid;

	if (!t || __sync_fetch_and_add(&t->nr_procs, -1) != 1)
		return;
	cgid = t->cgroup_id;
	if (cgid)
		bpf_map_delete_elem(&cg_trees, &cgid);
	bpf_map_delete_elem(&trees, &tree);
	__sync_fetch_and_add(&live_trees, -1);
}

/* The tree of cgroup cgrp (v2) when its parent is a --cgroup-parent, else 0. */
static __always_inline __u32 cgroup_tree(struct cgroup *cgrp, __u32 pid, const char *comm,
					 __u64 ts)
{
	__u64 parent, cgid;
	__u32 *tree;

	if (!cgrp)
		return 0;
	parent = BPF_CORE_READ(cgrp, self.parent, cgroup, kn, id);
	if (!parent || !bpf_map_lookup_elem(&cg_parents, &parent))
		return 0;
	cgid = BPF_CORE_READ(cgrp, kn, id);
	tree = bpf_map_lookup_elem(&cg_trees, &cgid);
	return tree ? *tree : new_tree(cgid, BMT_TREE_CGROUP, pid, comm, ts);
}

static __always_inline struct cgroup *dfl_cgroup(struct task_struct *task)
{
	return BPF_CORE_READ(task, cgroups, dfl_cgrp);
}

/*
 * tgid enters tree other than by a traced fork. proc_flags BMT_PROC_ADOPTED: it is running
 * (its mm binds at its next fault, userspace seeds it from /proc); 0: a fresh fork of an
 * outsider, counted from its exec like the wrap mode's root.
 */
static __always_inline struct bmt_proc *join(__u32 tgid, __u32 tree, __u32 proc_flags,
					     const char *comm, __u64 ts)
{
	struct bmt_proc v = { .flags = proc_flags, .tree = tree };
	struct bmt_join *r;

	if (proc_flags & BMT_PROC_ADOPTED)
		adopting = 1; /* before it is in procs: its first event must look it up */

	if (bpf_map_update_elem(&procs, &tgid, &v, BPF_NOEXIST)) {
		STAT_INC(procs_full);
		return NULL;
	}
	tree_get(tree);
	r = reserve(sizeof(*r), BMT_REC_JOIN, ts);
	if (r) {
		r->hdr.flags = proc_flags & BMT_PROC_ADOPTED ? BMT_JOIN_SEED : 0;
		r->pid = tgid;
		r->tree = tree;
		bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), comm);
		submit_opens(r, PHASE_KEEP);
	}
	return bpf_map_lookup_elem(&procs, &tgid);
}

#endif /* BMT_TREES_BPF_H */
