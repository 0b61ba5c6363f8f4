/* SPDX-License-Identifier: MIT */
/*
 * session - one run, traced live (cmd_trace.c) or replayed from a recording (cmd_report.c):
 * every record goes into the recording and the collector, every change of the tree total
 * into the timeline and the budget; at the end every output of the outputs table is
 * written and the exit status decided (status.h).
 */
#ifndef BMT_SESSION_H
#define BMT_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include "cli.h"
#include "collector.h"
#include "deaths.h"
#include "escape.h"
#include "perfetto.h"
#include "privilege.h"
#include "prom.h"
#include "run.h"
#include "timeline.h"
#include "tracefile.h"

struct session {
	struct config *cfg;
	struct collector *coll;
	struct stages *own_stages; /* a replay's, compiled from its recording; else cfg's are used */
	struct tracefile_writer *rec; /* -w, while tracing */
	int rec_errno;                /* the recording failed: reported at the end, COMMAND unharmed */
	uint64_t feed_errors;
	struct bmt_run run;
	struct privilege_creds creds;    /* whom the output files are for (uid -1: bmtrace's user) */
	struct deaths *deaths;        /* deaths by signal and OOM kills (run.deaths) */
	struct timeline *tl;          /* --timeline, --svg, --perfetto */
	struct perfetto *perf;        /* --perfetto: the per-process series */
	int tl_errno;                 /* the timeline ran out of memory: those reports fail */
};

/*
 * Set s up for cfg with the stage rules stages (cfg's, or a recording's), whose owner must
 * outlive s. 0, or -1 after saying why on stderr.
 */
int session__init(struct session *s, struct config *cfg, const struct stages *stages);
void session__free(struct session *s);

/* Every record, live or replayed: into the recording, then the collector. 0 or -ENOMEM. */
int session__record(void *ctx, const void *rec, size_t len);

/*
 * Every output path of cfg, checked before COMMAND starts (or a replay reads its trace): a
 * typo costs seconds, not a build. 0, or -1 after saying which and why.
 */
int session__check_outputs(const struct config *cfg);

/* Does the run write a file (not stderr or stdout) that COMMAND's user should own? */
int session__writes_files(const struct config *cfg);

/*
 * The metrics of the run as they stand, with its --label labels: live while tracing (the
 * collector's cheap view, collector__now), or (final) the final page of a run that is over,
 * from its full result (prom.h). 0 or -ENOMEM.
 */
int session__prom_snapshot(struct session *s, struct prom_snapshot *snap, int final);

/*
 * Where the run stands at now (CLOCK_MONOTONIC ns), one line for SIGUSR1 and --progress,
 * appended to line (which cuts it to its width, the arguments last): "bmtrace: 12.3 s, tree
 * 1.21 GiB now, peak 1.45 GiB at 10.1 s, 23 alive, largest 812 MiB pid 4242: cc1 …
 * src/heavy.c". Times and sizes are ASCII; the arguments are escaped (escape.h).
 */
void session__status(struct session *s, uint64_t now, struct esc_cell *line);

/*
 * The end of the run: close the recording, write every output asked for, and return
 * bmtrace's exit status given COMMAND's (code; 0 for -p and replays).
 */
int session__finish(struct session *s, int code);

#endif /* BMT_SESSION_H */
