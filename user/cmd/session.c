// SPDX-License-Identifier: MIT
/* session - one traced or replayed run, from its records to its reports (session.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "budget.h"
#include "escape.h"
#include "push.h"
#include "report.h"
#include "session.h"
#include "status.h"
#include "util.h"

int session__record(void *ctx, const void *rec, size_t len)
{
	struct session *s = ctx;
	int rc;

	if (s->rec && !s->rec_errno) {
		rc = tracefile__write(s->rec, rec, len);
		if (rc)
			s->rec_errno = -rc;
	}
	/* before the collector: a process is named before its first point */
	if (s->perf)
		perfetto__record(s->perf, rec, len); /* out of memory: its report fails */
	rc = collector__feed(s->coll, rec, len);
	if (rc == -ENOMEM)
		return rc;
	if (rc)
		s->feed_errors++;
	return 0;
}

/* Every change of the tree total: the timeline, and when it first went over the budget. */
static void on_sample(void *ctx, const struct bmt_sample *smp)
{
	struct session *s = ctx;

	budget_observe(&s->run, smp);
	if (s->tl && !s->tl_errno && timeline__add(s->tl, smp))
		s->tl_errno = ENOMEM;
}

static int wants_timeline(const struct config *cfg)
{
	return cfg->out[BMT_OUT_TIMELINE] || cfg->out[BMT_OUT_SVG] || cfg->out[BMT_OUT_PERFETTO];
}

int session__init(struct session *s, struct config *cfg, const struct stages *stages)
{
	s->cfg = cfg;
	/* the budget is an option, given again to `bmtrace report`: not in the recording */
	s->run.budget_bytes = cfg->budget_bytes;
	s->run.budget_gate = cfg->budget_gate;
	s->run.gate = cfg->gate;
	s->coll = collector__new(stages);
	s->deaths = deaths__new();
	if (s->coll && wants_timeline(cfg))
		s->tl = timeline__new();
	if (!s->coll || !s->deaths || (wants_timeline(cfg) && !s->tl)) {
		esc_say(stderr, "out of memory");
		return -1;
	}
	collector__on_death(s->coll, deaths__event, s->deaths);
	s->run.deaths = s->deaths;
	if (s->tl || cfg->budget_bytes)
		collector__on_sample(s->coll, on_sample, s);
	if (cfg->out[BMT_OUT_PERFETTO]) {
		s->perf = perfetto__new();
		if (!s->perf) {
			esc_say(stderr, "out of memory");
			return -1;
		}
		collector__on_proc(s->coll, perfetto__proc, s->perf);
	}
	return 0;
}

void session__free(struct session *s)
{
	if (s->rec)
		tracefile__abort(s->rec);
	collector__free(s->coll);
	deaths__free(s->deaths);
	timeline__free(s->tl);
	perfetto__free(s->perf);
	stages__free(s->own_stages);
	privilege__free(&s->creds);
}

int session__check_outputs(const struct config *cfg)
{
	int rc;

	for (int k = 0; k < BMT_N_OUTPUTS; k++) {
		const char *path = cfg->out[k];

		if (!path || (rc = util_probe_writable(path)) == 0)
			continue;
		esc_say(stderr, "%s %s: cannot write there: %s", bmt_output_opt(k), path,
			strerror(-rc));
		return -1;
	}
	return 0;
}

/* Is path a file bmtrace writes (not absent, not "-" for stdout)? */
static int is_file(const char *path)
{
	return path && strcmp(path, "-");
}

int session__writes_files(const struct config *cfg)
{
	for (int k = 0; k < BMT_N_OUTPUTS; k++)
		if (is_file(cfg->out[k]))
			return 1;
	return 0;
}

int session__prom_snapshot(struct session *s, struct prom_snapshot *snap, int final)
{
	const struct bmt_result *r;
	struct bmt_now view;

	*snap = (struct prom_snapshot){ .labels = s->cfg->labels, .n_labels = s->cfg->n_labels,
					.run_page = true };
	if (!final) {
		collector__now(s->coll, &view); /* the live view: no full result per page */
		return prom_snapshot_now(snap, &view, &s->run);
	}
	r = collector__result(s->coll);
	return r ? prom_snapshot_final(snap, r, &s->run) : -ENOMEM;
}

void session__status(struct session *s, uint64_t now, struct esc_cell *line)
{
	char b1[16], b2[16], b3[16], n[32];
	char *const *argv = NULL;
	uint64_t bytes = 0;
	uint32_t pid = collector__largest_now(s->coll, &bytes, &argv);
	char head[192];
	struct bmt_now v;

	collector__now(s->coll, &v); /* the live view: no result built */
	snprintf(head, sizeof(head), "bmtrace: %.1f s, tree %s now, peak %s at %.1f s, %s alive",
		 run_rel_s(&s->run, now), util_fmt_bytes(v.tree_bytes, b1, sizeof(b1)),
		 util_fmt_bytes(v.peak.bytes, b2, sizeof(b2)), run_rel_s(&s->run, v.peak.ts),
		 util_fmt_count(v.alive, n, sizeof(n)));
	esc_put(line, head); /* ASCII: shown as it is, cut where the line ends */
	if (!pid)
		return;
	snprintf(head, sizeof(head), ", largest %s pid %u: ",
		 util_fmt_bytes(bytes, b3, sizeof(b3)), pid);
	esc_put(line, head); /* ASCII: shown as it is, cut where the line ends */
	esc_put_argv(line, argv);
}

/* ---- the writers of the outputs table (outputs.h): 0 or -errno ---- */

typedef int (*writer_fn)(struct session *s, const struct bmt_result *r, const char *path);

struct summary {
	const struct bmt_run *run;
	const struct bmt_result *r;
};

static int summary_to(FILE *f, void *ctx)
{
	const struct summary *sum = ctx;

	return report_text(f, sum->run, sum->r);
}

/*
 * Where the summary goes without -o: stderr while tracing (COMMAND's stdout stays its own),
 * stdout for a replay, which wraps nothing (stderr when another report goes to stdout).
 */
static FILE *summary_stream(const struct config *cfg)
{
	if (cfg->mode != MODE_REPORT)
		return stderr;
	for (int k = 0; k < BMT_N_OUTPUTS; k++)
		if (cfg->out[k] && !is_file(cfg->out[k]))
			return stderr;
	return stdout;
}

/* -o FILE (written with -q too), or the summary's stream unless -q. */
static int write_summary(struct session *s, const struct bmt_result *r, const char *path)
{
	struct summary sum = { &s->run, r };

	return path ? util_write_atomic(path, summary_to, &sum)
		    : summary_to(summary_stream(s->cfg), &sum);
}

static int write_json(struct session *s, const struct bmt_result *r, const char *path)
{
	return report_json(path, &s->run, r);
}

static int write_timeline(struct session *s, const struct bmt_result *r, const char *path)
{
	return s->tl_errno ? -s->tl_errno : report_timeline(path, &s->run, r, s->tl);
}

static int write_svg(struct session *s, const struct bmt_result *r, const char *path)
{
	return s->tl_errno ? -s->tl_errno : report_svg(path, &s->run, r, s->tl);
}

static int write_markdown(struct session *s, const struct bmt_result *r, const char *path)
{
	return report_markdown(path, &s->run, r);
}

static int write_prometheus(struct session *s, const struct bmt_result *r, const char *path)
{
	struct prom_snapshot snap;
	int rc = session__prom_snapshot(s, &snap, 1);

	if (!rc)
		rc = prom_write_file(path, &snap);
	prom_snapshot_clear(&snap);
	return rc;
}

static int write_perfetto(struct session *s, const struct bmt_result *r, const char *path)
{
	return s->tl_errno ? -s->tl_errno : perfetto__write(s->perf, path, &s->run, s->tl);
}

#define WRITER(kind, sopt, opt, lopt, fn) [BMT_OUT_##kind] = (fn),
static const writer_fn writers[BMT_N_OUTPUTS] = { BMT_OUTPUTS(WRITER) };
#undef WRITER

/* --pushgateway: the final metrics, pushed; 0 or 1 when it failed (said on stderr). */
static int push(struct session *s)
{
	const struct config *cfg = s->cfg;
	struct prom_snapshot snap;
	char err[512], host[256] = "";
	struct push_group group = { cfg->job, cfg->instance ? cfg->instance : host };
	int rc;

	if (!cfg->pushgateway)
		return 0;
	if (!cfg->instance && gethostname(host, sizeof(host) - 1))
		snprintf(host, sizeof(host), "unknown");
	if (session__prom_snapshot(s, &snap, 1)) {
		esc_say(stderr, "cannot build the metrics: %s", strerror(ENOMEM));
		return 1;
	}
	rc = push_add(cfg->pushgateway, &group, &snap, s->run.exit_code == 0, 0, err,
		      sizeof(err));
	if (rc)
		esc_say(stderr, "%s", err);
	prom_snapshot_clear(&snap);
	return rc != 0;
}

/* Every output asked for, in the table's order; returns how many failed (each said). */
static int write_outputs(struct session *s, const struct bmt_result *r)
{
	const struct config *cfg = s->cfg;
	int failed = 0;

	for (int k = 0; k < BMT_N_OUTPUTS; k++) {
		const char *path = cfg->out[k];
		int rc;

		if (!writers[k] || (k == BMT_OUT_SUMMARY ? cfg->quiet && !path : !path))
			continue;
		rc = writers[k](s, r, path);
		if (!rc)
			continue;
		failed++;
		if (k == BMT_OUT_SUMMARY)
			esc_say(stderr, "%s%s: cannot write the summary: %s", path ? "-o " : "",
				path ? path : summary_stream(cfg) == stdout ? "stdout" : "stderr",
				strerror(-rc));
		else
			esc_say(stderr, "%s %s: cannot write it: %s", bmt_output_opt(k), path,
				strerror(-rc));
	}
	return failed + push(s);
}

/* -w: the recording's end record; 0, or 1 when the recording failed (said on stderr). */
static int close_recording(struct session *s)
{
	int rc;

	if (!s->rec)
		return 0;
	rc = s->rec_errno ? -s->rec_errno : tracefile__close(s->rec, &s->run);
	if (s->rec_errno)
		tracefile__abort(s->rec);
	s->rec = NULL;
	if (rc)
		esc_say(stderr, "-w %s: the recording failed: %s", s->cfg->out[BMT_OUT_RECORD],
			strerror(-rc));
	return rc != 0;
}

int session__finish(struct session *s, int code)
{
	const struct config *cfg = s->cfg;
	int failed = close_recording(s);
	const struct bmt_result *r = collector__result(s->coll);

	if (!r) {
		esc_say(stderr, "cannot build the result: %s", strerror(ENOMEM));
		return status_final(&s->run, NULL, code, failed + 1);
	}
	failed += write_outputs(s, r);
	/* the summary says it last; without one on stderr, the exit status is still explained */
	if (cfg->quiet || cfg->out[BMT_OUT_SUMMARY] || summary_stream(cfg) != stderr) {
		/* an OOM kill is said even when COMMAND exited 0 */
		report_text_oom(stderr, &s->run, "bmtrace: ");
		if (budget_gate_fails(&s->run, r))
			report_text_over_budget(stderr, &s->run, r);
	}
	return status_final(&s->run, r, code, failed);
}
