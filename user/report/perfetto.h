/* SPDX-License-Identifier: MIT */
/*
 * perfetto - the run as a Chrome/Perfetto JSON trace (--perfetto FILE), for scrubbing through
 * any process's memory in ui.perfetto.dev or chrome://tracing.
 *
 * The trace ("traceEvents", times in microseconds from the run's start): per process a
 * process_name metadata event (its command, "cc1") and a counter track ("ph": "C") of its
 * contribution to the tree (the collector's attribution: pages shared with a fork parent
 * counted once, so the tracks add up to the tree total); the tree total and anon + shmem as
 * a track of their own (pid 0, "tree total", from the timeline); each exec and exit as an
 * instant event on its process.
 *
 * Invariants: samples are kept per process in windows of `resolution` ns (1 ms to begin
 * with): a window keeps its largest value, and a fall to 0 (the process's memory freed)
 * always has a point of its own. Past PERFETTO_MAX_SAMPLES points the windows double and
 * merge by the same rule, so a long build stays a file a browser opens.
 */
#ifndef BMT_PERFETTO_H
#define BMT_PERFETTO_H

#include <stddef.h>
#include <stdint.h>
#include "run.h"
#include "timeline.h"

#define PERFETTO_MAX_SAMPLES (1u << 20)

struct perfetto;

/* NULL with errno set. */
struct perfetto *perfetto__new(void);
void perfetto__free(struct perfetto *p);

/* A record of bpf/bmtrace.h (FORK, EXEC, ADOPT name a process, EXIT ends it). 0 or -ENOMEM. */
int perfetto__record(struct perfetto *p, const void *rec, size_t len);

/* A process's contribution changed (a bmt_proc_fn: collector__on_proc). */
void perfetto__proc(void *p, uint64_t ts, uint32_t pid, uint64_t bytes);

/* Whether memory ran out while it was fed: its trace would miss points. */
int perfetto__failed(const struct perfetto *p);

/* The trace to path (written atomically); tl gives the tree total. 0 or -errno. */
int perfetto__write(const struct perfetto *p, const char *path, const struct bmt_run *run,
		    const struct timeline *tl);

#endif /* BMT_PERFETTO_H */
