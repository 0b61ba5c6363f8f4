// SPDX-License-Identifier: MIT
/*
 * report_md - a short Markdown summary for CI job pages ($GITHUB_STEP_SUMMARY): the peak and
 * when, the budget's verdict, who held the memory at the peak, the stages and the commands
 * with their per-process sizing. GitHub Flavored Markdown tables.
 *
 * Names come from other processes: they are shown through escape.h, then every character
 * Markdown or GitHub acts on inside a line is backslash-escaped (`<svg onload=x>` stays
 * text, `|` cannot split a cell); command lines go in code spans, where only `|` in a table
 * cell needs it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include "budget.h"
#include "deaths.h"
#include "escape.h"
#include "report.h"
#include "util.h"

#define MAX_ROWS  10
#define NAME_COLS 32
#define ARGS_COLS 80

/* Inline Markdown, HTML, GitHub's math ($) and mentions (@): all shown as themselves. */
static void put_text(FILE *f, const char *s, int max_cols)
{
	struct esc_cell c;

	esc_init(&c, max_cols);
	esc_put(&c, s);
	for (const char *p = c.buf; *p; p++) {
		if (strchr("\\`*_[]<>|~&$@!#", *p))
			fputc('\\', f);
		fputc(*p, f);
	}
}

/*
 * A code span, fenced by one more backtick than the longest run inside it. In a table
 * cell, `|` is escaped (GFM splits a row at a bare pipe, even in a code span, and drops
 * the backslash); elsewhere a backslash in a code span would be shown, so none is added.
 */
static void put_code(FILE *f, const struct esc_cell *c, bool in_table)
{
	int run = 0, longest = 0, i;
	const char *p;

	if (!c->len)
		return;
	for (p = c->buf; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		longest = run > longest ? run : longest;
	}
	for (i = 0; i <= longest; i++)
		fputc('`', f);
	if (c->buf[0] == '`' || c->buf[c->len - 1] == '`' || c->buf[0] == ' ')
		fputc(' ', f);
	for (p = c->buf; *p; p++) {
		if (*p == '|' && in_table)
			fputc('\\', f);
		fputc(*p, f);
	}
	if (c->buf[0] == '`' || c->buf[c->len - 1] == '`' || c->buf[0] == ' ')
		fputc(' ', f);
	for (i = 0; i <= longest; i++)
		fputc('`', f);
}

static void put_argv(FILE *f, char *const *argv, int max_cols, bool in_table)
{
	struct esc_cell c;

	esc_init(&c, max_cols);
	esc_put_argv(&c, argv);
	put_code(f, &c, in_table);
}

static const char *fmt_bytes(uint64_t v, char *buf)
{
	return util_fmt_bytes(v, buf, 16);
}

static const char *fmt_count(uint64_t v, char *buf)
{
	return util_fmt_count(v, buf, 32);
}

/* --cgroup: what the run's memory cgroup counted, as the OOM killer does. */
static void cgroup_line(FILE *f, const struct bmt_cgroup *cg)
{
	char b1[16], b2[16];

	if (!cg->version)
		return;
	fprintf(f, "**Cgroup peak %s** (cgroup v%d; limit %s; %" PRIu64 " OOM kill%s)\n\n",
		fmt_bytes(cg->peak_bytes, b1), cg->version,
		cg->limit_bytes == BMT_CGROUP_NONE ? "none" : fmt_bytes(cg->limit_bytes, b2),
		cg->oom_kills, cg->oom_kills == 1 ? "" : "s");
}

static void headline(FILE *f, const struct bmt_run *run, const struct bmt_result *r)
{
	const struct bmt_stats *st = &run->stats;
	uint64_t n_oom = run->deaths ? deaths__oom_kills(run->deaths) : 0;
	char b1[16], b2[16], b3[16], n1[32], n2[32], n3[32];

	fputs("### bmtrace: ", f);
	put_argv(f, run->argv, ARGS_COLS, false);
	fprintf(f, "\n\n**Peak tree RSS %s** at %.3f s (anon + shmem %s; raw RSS sum %s)  \n",
		fmt_bytes(r->peak.bytes, b1), run_rel_s(run, r->peak.ts),
		fmt_bytes(r->peak.anon_bytes + r->peak.shmem_bytes, b2),
		fmt_bytes(r->raw_peak.bytes, b3));
	if (run->attached)
		fprintf(f, "attached to PID %" PRIu32 " · ", run->root_pid);
	if (run->exit_code < 0 && run->signal)
		fprintf(f, "killed by signal %d", run->signal);
	else if (run->exit_code < 0)
		fputs("exit status unknown", f);
	else
		fprintf(f, "exit status %d", run->exit_code);
	fprintf(f, " · %.2f s · %s process%s · %s events, %s lost\n\n",
		run_rel_s(run, run->end_ts), fmt_count(r->processes_total, n1),
		r->processes_total == 1 ? "" : "es", fmt_count(st->events, n2),
		fmt_count(st->lost, n3));
	cgroup_line(f, &run->cgroup);
	if (n_oom)
		fprintf(f, "> **❌ The OOM killer killed %" PRIu64 " process%s of the tree**%s.\n\n",
			n_oom, n_oom == 1 ? "" : "es",
			run->exit_code == 0 ? " (COMMAND still exited 0)" : "");
	if (st->lost || st->unpaired || st->procs_full || st->mms_full)
		fputs("> **Warning:** events were lost or processes went untraced: the peak is a "
		      "lower bound.\n\n", f);
}

static void budget(FILE *f, const struct bmt_run *run, const struct bmt_result *r)
{
	const char *opt = run->budget_gate ? "--max-peak" : "--budget";
	char b1[16], b2[16], b3[16], n[32];
	struct budget_eval e;

	if (!budget_eval(run, r, &e))
		return;
	if (e.exceeded) {
		fprintf(f, "**❌ Over budget** by %s (%.1f%%): the %s %s exceeds `%s` %s",
			fmt_bytes(e.over_by, b1), 100.0 * (double)e.over_by / (double)e.budget,
			run->gate ? budget_peak_name(run) : "peak", fmt_bytes(budget_peak(run, r), b2),
			opt, fmt_bytes(e.budget, b3));
		if (e.over_ts)
			fprintf(f, ", first at %.3f s", run_rel_s(run, e.over_ts));
		fputs(".\n\n", f);
	} else {
		fprintf(f, "**✅ Within budget:** `%s` %s leaves %s headroom at the peak "
			   "(%.1f%%).\n\n", opt, fmt_bytes(e.budget, b1), fmt_bytes(e.headroom, b2),
			100.0 * (double)e.headroom / (double)e.budget);
	}
	if (!e.dominant)
		return;
	fputs("Sizing: ", f);
	put_text(f, e.dominant->name, NAME_COLS);
	fprintf(f, " holds the most at the peak (%s in %s instance%s; the rest of the tree %s)",
		fmt_bytes(e.dominant->bytes_at_peak, b1),
		fmt_count(e.dominant->instances_at_peak, n),
		e.dominant->instances_at_peak == 1 ? "" : "s", fmt_bytes(e.rest, b2));
	if (e.fit_max)
		fprintf(f, "; the budget fits **%" PRIu64 "** at once at its largest process peak "
			   "(%s), %" PRIu64 " at p95 (%s)",
			e.fit_max, fmt_bytes(e.dominant->max_proc_peak, b1), e.fit_p95,
			fmt_bytes(e.dominant->p95_proc_peak, b3));
	fputs(".\n\n", f);
}

/* A table of processes and their bytes, largest first, with their share of total. */
static void proc_table(FILE *f, const struct bmt_peak_proc *procs, size_t n_procs, uint64_t total)
{
	size_t i, n = n_procs < MAX_ROWS ? n_procs : MAX_ROWS;
	uint64_t rest = total;
	char b[16];

	fputs("| PID | Command | Stage | Bytes | Share | Arguments |\n"
	      "|---:|:---|:---|---:|---:|:---|\n", f);
	for (i = 0; i < n; i++) {
		const struct bmt_peak_proc *p = &procs[i];

		fprintf(f, "| %" PRIu32 " | ", p->pid);
		put_text(f, p->comm, NAME_COLS);
		fputs(" | ", f);
		put_text(f, p->stage, NAME_COLS);
		fprintf(f, " | %s | %.1f%% | ", fmt_bytes(p->bytes, b),
			total ? 100.0 * (double)p->bytes / (double)total : 0.0);
		put_argv(f, p->argv, ARGS_COLS, true);
		fputs(" |\n", f);
		rest -= p->bytes < rest ? p->bytes : rest;
	}
	if (n_procs > n)
		fprintf(f, "\n… and %zu more processes, %s\n", n_procs - n, fmt_bytes(rest, b));
	fputc('\n', f);
}

/* The stage rules that matched no process (a typo'd rule is not a stage that used nothing). */
static void unmatched(FILE *f, const struct bmt_result *r)
{
	const char *sep = "> **Warning:** no process matched the stage rule";

	for (size_t i = 0; i < r->n_stages; i++) {
		if (r->stages[i].processes)
			continue;
		fprintf(f, "%s ", sep);
		put_text(f, r->stages[i].name, NAME_COLS);
		sep = ",";
	}
	if (*sep == ',')
		fputs(" (rules match argv joined by spaces, and with argv[0] cut to its base "
		      "name).\n\n", f);
}

static void peak_table(FILE *f, const struct bmt_result *r)
{
	if (!r->n_peak_procs)
		return;
	fputs("#### At the peak\n\n", f);
	proc_table(f, r->peak_procs, r->n_peak_procs, r->peak.bytes);
}

/* Deaths by a signal, then who held the memory at each OOM kill. */
static void deaths_tables(FILE *f, const struct bmt_run *run)
{
	size_t i, n = 0, rows;
	const struct bmt_death *l = run->deaths ? deaths__list(run->deaths, &n) : NULL;
	char b1[16], b2[16];

	if (!n)
		return;
	rows = n < MAX_ROWS ? n : MAX_ROWS;
	fputs("#### Killed by a signal\n\n| Time | PID | Command | Signal | OOM killer | Own | "
	      "Tree | Arguments |\n|---:|---:|:---|---:|:---|---:|---:|:---|\n", f);
	for (i = 0; i < rows; i++) {
		fprintf(f, "| %.3f s | %" PRIu32 " | ", run_rel_s(run, l[i].ts), l[i].pid);
		put_text(f, l[i].comm, NAME_COLS);
		fprintf(f, " | %d | %s | %s | %s | ", l[i].signal, l[i].oom ? "yes" : "no",
			fmt_bytes(l[i].bytes, b1), fmt_bytes(l[i].tree_bytes, b2));
		put_argv(f, l[i].argv, ARGS_COLS, true);
		fputs(" |\n", f);
	}
	if (n > rows)
		fprintf(f, "\n… and %zu more\n", n - rows);
	fputc('\n', f);
	for (i = 0; i < n; i++) {
		if (!l[i].oom)
			continue;
		fprintf(f, "#### Who held the memory when the OOM killer chose %" PRIu32 " (", l[i].pid);
		put_text(f, l[i].comm, NAME_COLS);
		fprintf(f, ") at %.3f s: %s\n\n", run_rel_s(run, l[i].ts),
			fmt_bytes(l[i].tree_bytes, b1));
		proc_table(f, l[i].holders, l[i].n_holders, l[i].tree_bytes);
	}
}

static void stage_table(FILE *f, const struct bmt_run *run, const struct bmt_result *r)
{
	char b1[16], b2[16], n[32];

	if (r->n_stages < 2) /* the one default stage is the whole tree */
		return;
	fputs("#### Stages\n\n| Stage | At the peak | Own peak | At | Processes |\n"
	      "|:---|---:|---:|---:|---:|\n", f);
	for (size_t i = 0; i < r->n_stages; i++) {
		const struct bmt_stage_result *s = &r->stages[i];

		fputs("| ", f);
		put_text(f, s->name, NAME_COLS);
		fprintf(f, " | %s | %s | %.3f s | %s |\n", fmt_bytes(s->bytes_at_peak, b1),
			fmt_bytes(s->peak_bytes, b2), run_rel_s(run, s->peak_ts),
			fmt_count(s->processes, n));
	}
	fputc('\n', f);
	unmatched(f, r);
}

static void command_table(FILE *f, const struct bmt_result *r)
{
	size_t i, rows = r->n_commands < MAX_ROWS ? r->n_commands : MAX_ROWS;
	char b1[16], b2[16], b3[16], b4[16], b5[16], n1[32], n2[32];

	if (!rows)
		return;
	fputs("#### Commands\n\n"
	      "| Command | At the peak | Own peak | Processes | Largest process | Median | p95 "
	      "| Most at once | Largest: PID, arguments |\n"
	      "|:---|---:|---:|---:|---:|---:|---:|---:|:---|\n", f);
	for (i = 0; i < rows; i++) {
		const struct bmt_command_result *c = &r->commands[i];

		fputs("| ", f);
		put_text(f, c->name, NAME_COLS);
		fprintf(f, " | %s | %s | %s | %s | %s | %s | %s | ",
			fmt_bytes(c->bytes_at_peak, b1), fmt_bytes(c->peak_bytes, b2),
			fmt_count(c->processes, n1), fmt_bytes(c->max_proc_peak, b3),
			fmt_bytes(c->p50_proc_peak, b4),
			fmt_bytes(c->p95_proc_peak, b5), fmt_count(c->max_instances, n2));
		if (c->max_proc_pid) {
			fprintf(f, "%" PRIu32 " ", c->max_proc_pid);
			put_argv(f, c->max_proc_argv, ARGS_COLS / 2, true);
		}
		fputs(" |\n", f);
	}
	if (r->n_commands > rows)
		fprintf(f, "\n… and %zu more commands\n", r->n_commands - rows);
	fputc('\n', f);
}

struct md {
	const struct bmt_run *run;
	const struct bmt_result *r;
};

static int write_md(FILE *f, void *ctx)
{
	const struct bmt_run *run = ((const struct md *)ctx)->run;
	const struct bmt_result *r = ((const struct md *)ctx)->r;

	headline(f, run, r);
	budget(f, run, r);
	peak_table(f, r);
	deaths_tables(f, run);
	stage_table(f, run, r);
	command_table(f, r);
	return ferror(f) ? -EIO : 0;
}

int report_markdown(const char *path, const struct bmt_run *run, const struct bmt_result *r)
{
	struct md md = { run, r };

	return util_write_atomic(path, write_md, &md);
}
