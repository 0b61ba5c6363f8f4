// SPDX-License-Identifier: MIT
/*
 * record - the one shape check of the kernel's records.
 */
#include <errno.h>
#include "bmtrace.h"
#include "record.h"

static const size_t min_size[BMT_REC_MAX] = {
	[BMT_REC_RSS] = sizeof(struct bmt_rss),   [BMT_REC_FORK] = sizeof(struct bmt_fork),
	[BMT_REC_MM] = sizeof(struct bmt_mm),     [BMT_REC_EXEC] = sizeof(struct bmt_exec),
	[BMT_REC_EXIT] = sizeof(struct bmt_exit), [BMT_REC_ADOPT] = sizeof(struct bmt_adopt),
	[BMT_REC_TREE] = sizeof(struct bmt_tree), [BMT_REC_JOIN] = sizeof(struct bmt_join),
	[BMT_REC_OOM] = sizeof(struct bmt_oom),
};

/* An mm key the kernel can hand out: the upper half is the collector's, for -p's seeds. */
static int key_ok(__u32 key)
{
	return key <= BMT_MM_KEY_MAX;
}

/* A process id the kernel can hand out (0: none, for a parent unknown). */
static int pid_ok(__u32 pid)
{
	return pid <= BMT_PID_MAX;
}

/* The fields of a record of known, whole layout: in range? */
static int fields_ok(const struct bmt_hdr *h)
{
	const struct bmt_exec *e = (const struct bmt_exec *)h;
	const struct bmt_fork *f = (const struct bmt_fork *)h;
	const struct bmt_adopt *a = (const struct bmt_adopt *)h;

	switch (h->type) {
	case BMT_REC_RSS:
		return ((const struct bmt_rss *)h)->member < BMT_NR_MEMBERS &&
		       key_ok(((const struct bmt_rss *)h)->mm_key);
	case BMT_REC_MM:
		return pid_ok(((const struct bmt_mm *)h)->pid) &&
		       key_ok(((const struct bmt_mm *)h)->mm_key);
	/* a process cannot fork itself nor be its own parent (both found by fuzzing) */
	case BMT_REC_FORK:
		return f->pid != f->ppid && pid_ok(f->pid) && pid_ok(f->ppid) &&
		       key_ok(f->parent_mm_key) && key_ok(f->child_mm_key);
	case BMT_REC_ADOPT:
		return a->pid != a->ppid && pid_ok(a->pid) && pid_ok(a->ppid);
	case BMT_REC_EXIT:
		return pid_ok(((const struct bmt_exit *)h)->pid);
	case BMT_REC_TREE:
		return pid_ok(((const struct bmt_tree *)h)->pid);
	case BMT_REC_JOIN:
		return pid_ok(((const struct bmt_join *)h)->pid);
	case BMT_REC_OOM:
		return pid_ok(((const struct bmt_oom *)h)->pid);
	case BMT_REC_EXEC:
		return pid_ok(e->pid) && key_ok(e->mm_key) && e->filename_len <= h->size - sizeof(*e) &&
		       e->argv_len <= h->size - sizeof(*e) - e->filename_len;
	}
	return 1;
}

int bmt_record_check(const void *rec, size_t len)
{
	const struct bmt_hdr *h = rec;
	size_t min;

	if (len < sizeof(*h) || h->type >= BMT_REC_MAX || !min_size[h->type])
		return -EINVAL;
	min = min_size[h->type];
	if (len < min || h->size > len || h->size < min || !fields_ok(h))
		return -EINVAL;
	return (int)min;
}
