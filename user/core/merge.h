/* SPDX-License-Identifier: MIT */
/*
 * merge - the ring's records back in the order of the changes they stand for.
 *
 * The BPF side sends a CPU's consecutive increases of one counter as one run (bmtrace.h,
 * "The ring's records and runs"): the run's last value, sent when the run ends, or read by
 * userspace from the CPU's struct bmt_cpu_run while it lasts. Every record carries a phase:
 * phases of increases, where runs live, alternate with phases of decreases, and a record
 * that is not a change opens a phase of its own. The changes of a phase commute for every
 * maximum the collector keeps (the tree, its anon part, a timeline window) once they are
 * in time order, so they are handed over by time.
 *
 * The order handed over: by phase; in a phase, its opening record, then the rest by time (a
 * run's value once per run and time: a value read from the CPU and later sent in the ring
 * is handed over once). A phase goes out once every phase up to it has its opening record
 * and every run of it has arrived: a record still being written on another CPU holds back
 * what follows it. Records go out as their struct bmt_hdr and what follows (the records of
 * bmtrace.h, a trace file's body); a run's record says in hdr.flags how many more events it
 * stands for than those already handed over.
 */
#ifndef BMT_MERGE_H
#define BMT_MERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bmtrace.h"

struct merge;

/* Receives each record in order; a negative return stops merge__flush, which returns it. */
typedef int (*merge_fn)(void *ctx, const void *rec, size_t len);

struct merge *merge__new(merge_fn fn, void *ctx);
void merge__free(struct merge *m);

/*
 * One record as the ring holds it: a struct bmt_wire, then the record (hdr.size bytes of
 * it are kept). 0; -EINVAL when it cannot be one (dropped, counted); -ENOMEM.
 */
int merge__push(struct merge *m, const void *data, size_t len);

/*
 * CPU cpu's run as read at a drain, before the ring's records (a consistent copy; NULL when
 * it could not be read): its latest value when it is open, and which runs the CPU ended.
 * Read every CPU at every drain: a CPU's runs that ended but whose records are still behind
 * a record being written hold back their phase.
 */
int merge__run(struct merge *m, uint32_t cpu, const struct bmt_cpu_run *r);

/*
 * Hand over everything whose phase may go (all of it when final: tracing stopped, nothing
 * is being written any more). The number handed over, or the callback's negative return.
 */
long merge__flush(struct merge *m, bool final);

/* Records refused by merge__push; phases given up on (an opening record never came). */
uint64_t merge__bad(const struct merge *m);
uint64_t merge__gaps(const struct merge *m);
/* Phases opened (opening records seen). */
uint64_t merge__phases(const struct merge *m);

#endif /* BMT_MERGE_H */
