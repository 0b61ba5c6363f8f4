/* SPDX-License-Identifier: MIT */
/*
 * prom - the Prometheus text exposition format (version 0.0.4) of one or more traced trees.
 * Pure: a plain snapshot in, text out; no clock, no tracing, no locking.
 *
 * The metric names are a contract (README, "The metrics"). Invariants of the
 * output, whatever the input:
 * - every family has one HELP and one TYPE line, and its samples follow them together
 *   (several trees are rendered family by family, never one tree after another);
 * - label values are valid UTF-8 (bytes that are not become U+FFFD, and so do control
 *   characters other than newline) and escaped (backslash, double quote, newline): a
 *   hostile command name stays inside its quotes on its own line;
 * - no two samples of a family share their labels: stages or commands whose names become
 *   equal once cleaned are merged (bytes summed, peaks the larger one);
 * - bmtrace_command_rss_bytes has at most top_commands + 1 series per tree: the largest
 *   commands now (ties by name), and command="other" summing the rest (always present in a
 *   live page; a command really named "other" is counted there too);
 * - a final page (a run that is over: textfile, push, --linger) says what a dashboard of
 *   runs wants and no series whose only news is a zero: the gauges of "now" (tree, anon,
 *   processes, each stage and command) only where not 0 (something left running), each
 *   stage's and command's own peak (bmtrace_command_rss_peak_bytes: the top_commands
 *   largest, no "other": peaks of different moments do not add up) only where not 0, plus
 *   bmtrace_tree_anon_peak_bytes, bmtrace_duration_seconds and, when known,
 *   bmtrace_exit_code; the peak, the counters and bmtrace_build_info always. A family
 *   without a sample is not written at all (no HELP or TYPE either).
 */
#ifndef BMT_PROM_H
#define BMT_PROM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "collector.h"
#include "run.h"

#define PROM_TOP_COMMANDS 10 /* default bound of bmtrace_command_rss_bytes */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/*
 * A label on every tree metric of a snapshot, e.g. {"tree", "make#0"} in serve mode, or a
 * traced run's --label.
 */
struct prom_label {
	const char *name;  /* prom_label_name_ok */
	const char *value; /* any bytes */
};

/*
 * Is name usable as a label of a snapshot: [a-zA-Z_][a-zA-Z0-9_]*, not reserved by
 * Prometheus ("__" first), not one the families set themselves (stage, command, version,
 * le)?
 */
bool prom_label_name_ok(const char *name);

/* The label a textfile's series always carry (prom_write_file): which run the file is. */
#define PROM_RUN_LABEL "run"

struct prom_stage {
	const char *name;
	uint64_t bytes;      /* now */
	uint64_t peak_bytes; /* its own maximum since tracing started */
};

struct prom_command {
	const char *name;
	uint64_t bytes;      /* now: all processes running it */
	uint64_t peak_bytes; /* all its processes together, maximum so far (final pages) */
};

/* What one tree looks like at one moment. Plain data: the caller owns every pointer. */
struct prom_snapshot {
	const struct prom_label *labels; /* none in the tracing modes */
	size_t n_labels;
	uint64_t tree_bytes;      /* tree RSS now (anon + file + shmem, inherited pages once) */
	uint64_t tree_peak_bytes; /* its maximum since tracing started */
	uint64_t anon_bytes;      /* anon + shmem now */
	uint64_t processes;       /* alive now */
	uint64_t processes_started; /* seen, the root included */
	uint64_t events;          /* rss_stat events received */
	uint64_t lost_events;     /* records the ring buffer had no room for */
	uint64_t oom_kills;       /* processes of the tree the OOM killer killed */
	int has_cgroup;           /* --cgroup: cgroup_peak_bytes is rendered */
	uint64_t cgroup_peak_bytes; /* the run's memory cgroup's peak (as read last) */
	struct prom_stage *stages;
	size_t n_stages;
	struct prom_command *commands; /* any order, any number: bounded when rendered */
	size_t n_commands;
	size_t top_commands;      /* 0: PROM_TOP_COMMANDS */
	/* Unix seconds; > 0 adds bmtrace_last_success_timestamp_seconds */
	double last_success_time;
	/*
	 * The page of one traced run (n == 1): its labels are the page's, bmtrace_build_info
	 * carries them too, so that two runs' textfiles in one directory share no series.
	 */
	bool run_page;
	/* The run is over (prom_snapshot_final): a final page, as above. */
	bool final;
	uint64_t anon_peak_bytes; /* final: the maximum of anon + shmem */
	double duration_s;        /* final: from the start to the end of tracing */
	int exit_code;            /* final: COMMAND's, 128+N for signal N; -1: unknown (-p) */
};

/*
 * Render trees[0..n) (n >= 1) and bmtrace_build_info into f. Returns 0, -EINVAL (a bad or
 * repeated label name, run_page with n > 1), -ENOMEM, or -EIO (a write error).
 */
int prom_render(FILE *f, const struct prom_snapshot *trees, size_t n);

/* The same into a malloc'd, NUL-terminated buffer (*len without the NUL); NULL, errno set. */
char *prom_render_alloc(const struct prom_snapshot *trees, size_t n, size_t *len);

/*
 * Families outside the snapshots (serve's histogram and totals): a HELP and TYPE header, then
 * samples name{labels[0..n),le="LE"} VALUE, the label values (NULL: "") cleaned and escaped
 * as above; le may be NULL. prom_sample returns 0, -ENOMEM or -EIO.
 */
void prom_family(FILE *f, const char *name, const char *type, const char *help);
int prom_sample(FILE *f, const char *name, const struct prom_label *labels, size_t n,
		const char *le, double value);

/*
 * A node_exporter textfile (its textfile collector reads the files named *.prom of a
 * directory): one tree, written atomically (util_write_atomic: a temp file beside path,
 * fsync, rename; "-" is stdout). Its series always carry PROM_RUN_LABEL: s's own when it
 * has one (--label run=...), else the file's name without its directory and ".prom"
 * (run="a" for DIR/a.prom), so that any number of runs' files coexist in one directory
 * ("-": none). Returns 0 or -errno (-EINVAL: a bad label).
 */
int prom_write_file(const char *path, const struct prom_snapshot *s);

/*
 * Fill s with one tree's values: from the live view (prom_snapshot_now: pages refreshed
 * while tracing, no full result needed) or from the final result (prom_snapshot_fill); both
 * give the same snapshot at the same moment. Tree bytes, anon and peak, processes started and
 * alive, stages and commands now (with their own peaks), events and lost events (run->stats,
 * as the JSON result), OOM kills (run->deaths, or the run cgroup's count when larger) and
 * the run cgroup's peak.
 * s->stages and s->commands are allocated (free them with prom_snapshot_clear); names point
 * into the collector: valid until its next feed. Labels, top_commands and last_success_time
 * are left as the caller set them. Returns 0 or -ENOMEM.
 */
int prom_snapshot_now(struct prom_snapshot *s, const struct bmt_now *now,
		      const struct bmt_run *run);
int prom_snapshot_fill(struct prom_snapshot *s, const struct bmt_result *r,
		       const struct bmt_run *run);
void prom_snapshot_clear(struct prom_snapshot *s);

/*
 * Fill s as prom_snapshot_fill does, as the final page of a run that is over: final set,
 * the anon peak from r (the full result), the duration and exit code from run (end_ts;
 * exit_code, or 128+signal). Returns 0 or -ENOMEM.
 */
int prom_snapshot_final(struct prom_snapshot *s, const struct bmt_result *r,
			const struct bmt_run *run);

#endif /* BMT_PROM_H */
