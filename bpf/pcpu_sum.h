/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * pcpu_sum.h - the exact value of one of the kernel's percpu_counters (an address space's
 * rss_stat[member]) read without its lock, in O(1) loads for the common event. Shared by
 * bpf/bmtrace.bpf.c and tests/unit/test_pcpu_sum.c, which drives it against a simulated
 * counter of 256 slots.
 *
 * The counter: value = count + the sum over possible CPUs of slot[cpu]. An add on CPU c
 * changes slot[c]; when |slot[c]| reaches the batch it moves slot[c] into count under the
 * counter's lock (a flush) and zeroes it. Every add is followed by an rss_stat event, and
 * where the add runs under a spinlock (the page table lock: faults, munmap, fork copies,
 * exec, exit, reclaim) that event runs on the add's CPU.
 *
 * So between two events of one counter, only the slot of the CPU the second one runs on can
 * have changed - when nothing ran between them. A per-counter cache proves that:
 *   - seq counts the events started on the counter (fetch-and-add, the event's ticket t);
 *   - the event with ticket t saves, tagged t + 1, the CPU it ran on, "others" (the sum of
 *     every other CPU's slot it saw) and count. Each tag sits in the same 64-bit word as its
 *     value, so a reader never mixes two saves: every tag must equal its own ticket.
 *   - the next event may use the cache (the fast path: count, its own slot, others) only
 *     when every tag equals its ticket (no other event started since the save, none is still
 *     writing), the saved CPU is its own and count has not moved (a flush on another CPU
 *     whose event has not started yet would otherwise be counted twice: in count and in
 *     others; this CPU's own flushes, one per batch of its changes, cost a full sum too).
 *     Anything else - another CPU's event, a race, a
 *     kernel thread's change (khugepaged may add and trace on different CPUs) - reads every
 *     slot (the full sum). So does every 64th event: should a user task's add ever run
 *     preemptible and migrate before its event (a THP collapse asked for by the process
 *     itself), the cached others would miss that add for at most 63 events of the counter.
 * Both paths re-read count after the slots and retry when a concurrent flush moved it. A
 * flush stores count before it zeroes the slot, both under the counter's lock: a read whose
 * count load falls between the two would count that slot twice, and count does not move
 * again. So the lock word is read between count and the slots, and a held lock is a retry
 * too (it is held from before the first store to after the second). Otherwise a
 * value read while another CPU changes the same counter is a snapshot of a moving counter
 * (the classic tracepoint's is too, under the lock), and the next event of that other CPU
 * breaks the cache, so an error never outlives the concurrency that caused it.
 *
 * The includer defines struct bmt_pc_src (where the loads read) and the three loads declared
 * below: bmt_pc_count (the counter's count), bmt_pc_locked (its lock is held or contended)
 * and bmt_pc_slot (one CPU's slot).
 */
#ifndef BMT_PCPU_SUM_H
#define BMT_PCPU_SUM_H

#include "bmtrace.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

#define BMT_PC_TRIES 4        /* full sums tried while concurrent flushes move count */
#define BMT_PC_REFRESH_MASK 63 /* tickets t with (t & mask) == 0 always take the full sum */

struct bmt_pc_src;
static __always_inline __s64 bmt_pc_count(const struct bmt_pc_src *src);
static __always_inline __s32 bmt_pc_slot(const struct bmt_pc_src *src, __u32 cpu);
static __always_inline int bmt_pc_locked(const struct bmt_pc_src *src);

static __always_inline __u64 bmt_pc_pack(__u32 tag, __u32 val)
{
	return (__u64)tag << 32 | val;
}

/* A sum can be negative while a page is freed on one CPU and counted on another. */
static __always_inline __s64 bmt_pc_positive(__s64 v)
{
	return v < 0 ? 0 : v;
}

static __always_inline void bmt_pc_save(struct bmt_pc_cache *c, __u32 ticket, __u32 cpu,
					__s32 others, __s64 count)
{
	*(volatile __u64 *)&c->sum_tag = bmt_pc_pack(ticket + 1, (__u32)others);
	*(volatile __u64 *)&c->cnt_tag = bmt_pc_pack(ticket + 1, (__u32)count);
	*(volatile __u64 *)&c->cpu_tag = bmt_pc_pack(ticket + 1, cpu + 1);
}

/*
 * others from the cache when event ticket on cpu may use it, with count as it is now (see
 * the top of this file).
 */
static __always_inline int bmt_pc_cached(const struct bmt_pc_cache *c, __u32 ticket, __u32 cpu,
					 __s64 count, __s32 *others)
{
	__u64 s = *(volatile const __u64 *)&c->sum_tag;
	__u64 k = *(volatile const __u64 *)&c->cpu_tag;
	__u64 n = *(volatile const __u64 *)&c->cnt_tag;

	if (!(ticket & BMT_PC_REFRESH_MASK) || s >> 32 != ticket ||
	    k != bmt_pc_pack(ticket, cpu + 1) || n != bmt_pc_pack(ticket, (__u32)count))
		return 0;
	*others = (__s32)(__u32)s;
	return 1;
}

/* A full sum: count, the own slot and the others' sum. */
struct bmt_pc_sums {
	__s64 count;
	__s32 own;
	__s32 others;
};

/*
 * Every slot: count, cpu's own slot and the others' sum, with count re-read and the sum
 * retried while a concurrent flush moves it. BMT_PC_FULL when a try settled, else
 * BMT_PC_MOVED (the last try's values: a snapshot of a moving counter). The BPF side makes
 * it a global function (BMT_PC_SUM_ALL: __noinline), which the verifier checks once rather
 * than at each of its callers, with its loop bound a constant of the loaded object
 * (BMT_PC_NCPU: the verifier knows nothing of a global function's arguments).
 */
#ifndef BMT_PC_SUM_ALL
#define BMT_PC_SUM_ALL static __always_inline
#define BMT_PC_NCPU(ncpu) (ncpu)
#endif
BMT_PC_SUM_ALL enum bmt_pc_path bmt_pc_sum_all(const struct bmt_pc_src *src, __u32 cpu,
						__u32 ncpu, struct bmt_pc_sums *out)
{
	if (!src || !out) /* a global function's pointers may be NULL */
		return BMT_PC_MOVED;
	for (int tries = 0; tries < BMT_PC_TRIES; tries++) {
		__s64 sum = 0;
		int busy;

		out->count = bmt_pc_count(src);
		busy = bmt_pc_locked(src);
		out->own = 0;
		for (__u32 i = 0; i < BMT_PC_MAX_CPUS && i < BMT_PC_NCPU(ncpu); i++) {
			__s32 v = bmt_pc_slot(src, i);

			if (i == cpu)
				out->own = v;
			else
				sum += v;
		}
		out->others = (__s32)sum;
		if (!busy && out->count == bmt_pc_count(src))
			return BMT_PC_FULL;
	}
	return BMT_PC_MOVED;
}

/* What a read summed, for a run to go on from (struct bmt_pc_run). */
struct bmt_pc_used {
	__s64 count;
	__s32 others;
};

/*
 * The counter's value after the event that runs now on cpu, of ncpu possible CPUs
 * (ncpu <= BMT_PC_MAX_CPUS). may_cache: the change was made on this CPU (a user task's);
 * 0 for kernel threads. *path says how it was read, *used what it summed.
 */
static __always_inline __s64 bmt_pc_read(struct bmt_pc_cache *c, const struct bmt_pc_src *src,
					 __u32 cpu, __u32 ncpu, int may_cache,
					 enum bmt_pc_path *path, struct bmt_pc_used *used)
{
	__u32 ticket = __sync_fetch_and_add(&c->seq, 1);
	struct bmt_pc_sums sums;
	__s64 count = 0;
	__s32 others = 0, own = 0;
	int busy = 1;

	if (may_cache) {
		count = bmt_pc_count(src);
		busy = bmt_pc_locked(src);
		own = bmt_pc_slot(src, cpu);
	}
	if (!busy && bmt_pc_cached(c, ticket, cpu, count, &others)) {
		/* count moved meanwhile: another CPU flushed a slot the cache still holds */
		if (count == bmt_pc_count(src)) {
			bmt_pc_save(c, ticket, cpu, others, count);
			*path = BMT_PC_FAST;
			used->count = count;
			used->others = others;
			return bmt_pc_positive(count + own + others);
		}
	}
	*path = bmt_pc_sum_all(src, cpu, ncpu, &sums);
	if (may_cache && *path == BMT_PC_FULL)
		bmt_pc_save(c, ticket, cpu, sums.others, sums.count);
	used->count = sums.count;
	used->others = sums.others;
	return bmt_pc_positive(sums.count + sums.own + sums.others);
}

/*
 * A run (struct bmt_run, bmtrace.h): one CPU's consecutive events of one counter, while no
 * other CPU's event of that counter can come between them (a CPU that meets a counter another
 * CPU runs ends every run first). Only this CPU's slot can change then, so count, the own slot
 * and the others' sum the run started from give the value: 3 loads, no ticket. A full sum when
 * count moved (a flush), the lock is held, or every 64th event (as bmt_pc_read's refresh).
 * The run's state is struct bmt_pc_run (bmtrace.h).
 */

/* The value now, or -1 when a full sum did not settle (the caller ends the run). */
static __always_inline __s64 bmt_pc_run_read(struct bmt_pc_run *r, const struct bmt_pc_src *src,
					     __u32 cpu, __u32 ncpu, enum bmt_pc_path *path)
{
	__s64 count = bmt_pc_count(src);
	int busy = bmt_pc_locked(src);
	__s32 own = bmt_pc_slot(src, cpu);
	struct bmt_pc_sums sums;

	r->n++;
	if (!busy && count == r->count && (r->n & BMT_PC_REFRESH_MASK) &&
	    count == bmt_pc_count(src)) {
		*path = BMT_PC_FAST;
		return bmt_pc_positive(count + own + r->others);
	}
	*path = bmt_pc_sum_all(src, cpu, ncpu, &sums);
	if (*path != BMT_PC_FULL)
		return -1;
	r->count = sums.count;
	r->others = sums.others;
	return bmt_pc_positive(sums.count + sums.own + sums.others);
}

#endif /* BMT_PCPU_SUM_H */
