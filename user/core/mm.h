/* SPDX-License-Identifier: MIT */
/*
 * mm - the collector's address spaces, internal to collector.c: their counters, the fork
 * baselines that keep a child from counting the pages it shares with its parent, and the
 * family tree of those baselines. Pure; who owns an mm and the totals are the collector's.
 *
 * Invariants:
 * - an mm with a parent counts, per member, only what is above its base (the counters at
 *   fork); one without a parent counts all of its counters; an unbound mm counts nothing;
 * - children, next_sibling and prev_sibling: a doubly linked list of the mms whose parent is
 *   this one;
 * - a seed (-p, serve) lives under a key the kernel never hands out (bmt_record_check
 *   refuses them): BMT_MM_KEY_MAX + 1 | its pid, pids fitting in the lower half.
 */
#ifndef BMT_MM_H
#define BMT_MM_H

#include <stdint.h>
#include "bmtrace.h"
#include "table.h"

enum { M_FILE, M_ANON, M_SHMEM, M_COUNTED }; /* the RSS members that count */

struct proc;

struct mm {
	uint32_t key;
	int bound;            /* a process used it: it counts */
	int seed;             /* -p: counters from /proc, replaced by the real mm when met */
	int nr_procs;         /* live processes using it */
	unsigned seen;        /* members reported by an RSS record */
	uint64_t counter[BMT_NR_MEMBERS];
	uint64_t base[BMT_NR_MEMBERS]; /* counters at fork, while parent exists */
	struct mm *parent;
	struct mm *children, *next_sibling, *prev_sibling;
	struct proc *owner;   /* who its contribution is attributed to */
	uint64_t contrib[M_COUNTED]; /* applied to the totals */
	uint64_t raw;         /* counter sum applied to the raw total */
	uint64_t swap;
};

/* The mm of key in mms, made (zeroed) if new; NULL for key 0 or when out of memory. */
struct mm *mm__get(struct table *mms, uint32_t key);

/* A seed for pid with counters bytes (BMT_NR_MEMBERS of them), put in mms; NULL: no memory. */
struct mm *mm__new_seed(struct table *mms, uint32_t pid, const void *bytes);

/* What m should contribute now (v: M_COUNTED members), from its counters and its baseline. */
void mm__wanted(const struct mm *m, uint64_t *v, uint64_t *raw, uint64_t *swap);

/* Every counter of m is 0: its pages are gone. */
int mm__all_zero(const struct mm *m);

/* m becomes a fork child of parent (its base already set). */
void mm__link_child(struct mm *parent, struct mm *m);

/* m leaves its parent's children, if it has a parent. */
void mm__unlink_child(struct mm *m);

/*
 * m is going: its first child, moved up to m's parent (if any) with, per member, the smaller
 * of the two baselines, or unlinked; NULL when m has no child left.
 */
struct mm *mm__pop_child(struct mm *m);

#endif
