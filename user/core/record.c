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

/* The fields of a record of known, whole layout: in range? */
static int fields_ok(const struct bmt_hdr *h)
{
	const struct bmt_exec *e = (const struct bmt_exec *)h;

	switch (h->type) {
	case BMT_REC_RSS:
		return ((const struct bmt_rss *)h)->member < BMT_NR_MEMBERS;
	/* a process cannot fork itself nor be its own parent (both found by fuzzing) */
	case BMT_REC_FORK:
		return ((const struct bmt_fork *)h)->pid != ((const struct bmt_fork *)h)->ppid;
	case BMT_REC_ADOPT:
		return ((const struct bmt_adopt *)h)->pid != ((const struct bmt_adopt *)h)->ppid;
	case BMT_REC_EXEC:
		return e->filename_len <= h->size - sizeof(*e) &&
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
