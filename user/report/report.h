/* SPDX-License-Identifier: MIT */
/*
 * report - render one run's result for people (text, SVG chart, Markdown) and scripts
 * (JSON schema 1, docs/JSON.md; CSV timeline). Pure: no tracing, no clock.
 * Files are written atomically (util_write_atomic: a temp file in the same directory, then
 * rename), so a CI step never reads half a report; "-" is stdout.
 */
#ifndef BMT_REPORT_H
#define BMT_REPORT_H

#include <stdio.h>
#include "collector.h"
#include "run.h"
#include "timeline.h"

/* The human summary, its budget lines last. Returns 0 or -errno (a write error). */
int report_text(FILE *f, const struct bmt_run *run, const struct bmt_result *r);

/*
 * When the run went over its budget, the line saying by how much and when (report_text's
 * last): "bmtrace: over budget by 2.50 MiB (0.6%): peak 402.5 MiB, --max-peak 400 MiB; first
 * at 0.612 s". Nothing otherwise.
 */
void report_text_over_budget(FILE *f, const struct bmt_run *run, const struct bmt_result *r);

/*
 * When the OOM killer killed processes of the tree, the line saying so, after lead (in
 * report_text's header "  WARNING: "; "bmtrace: " alone on stderr when the summary is not
 * there): COMMAND may have exited 0.
 */
void report_text_oom(FILE *f, const struct bmt_run *run, const char *lead);

/* The JSON result, schema 1, to path. Returns 0 or -errno. */
int report_json(const char *path, const struct bmt_run *run, const struct bmt_result *r);

/* The timeline as CSV (report_timeline.c), gzip when path ends in ".gz". 0 or -errno. */
int report_timeline(const char *path, const struct bmt_run *run, const struct bmt_result *r,
		    const struct timeline *tl);

/*
 * A self-contained SVG chart of the timeline (report_svg.c): stacked by stage, the peak
 * marked and labelled with the largest processes at it. 0 or -errno.
 */
int report_svg(const char *path, const struct bmt_run *run, const struct bmt_result *r,
	       const struct timeline *tl);

/* A short Markdown summary, e.g. for $GITHUB_STEP_SUMMARY (report_md.c). 0 or -errno. */
int report_markdown(const char *path, const struct bmt_run *run, const struct bmt_result *r);

#endif /* BMT_REPORT_H */
