// SPDX-License-Identifier: MIT
/*
 * report_text - the human summary: a few lines on the whole run, then who held the memory
 * at the peak, by stage and by command. Lines fit in 100 columns.
 *
 * comm and argv come from other processes: control characters, C1 controls, bidi
 * overrides and invalid UTF-8 are printed escaped, so a hostile name cannot move the
 * cursor, recolour the terminal or reorder what is shown.
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

#define LINE_COLS     100
#define INDENT        "    "
#define NAME_COLS     16 /* most columns given to a command or stage name */
#define MAX_PEAK_ROWS 20
#define MAX_CMD_ROWS  10
#define MAX_ALIVE     10
#define SIZING_NAME_COLS 12 /* the dominant command's name in the budget lines */

/* Print the cell, padded with spaces to width columns when pad is set. */
static void cell_print(FILE *f, const struct esc_cell *c, int width, bool pad)
{
	fputs(c->buf, f);
	if (pad && width > c->cols)
		fprintf(f, "%*s", width - c->cols, "");
}

/* Print s escaped and cut to width columns, padded to width when pad is set. */
static void print_name(FILE *f, const char *s, int width, bool pad)
{
	struct esc_cell c;

	esc_init(&c, width);
	esc_put(&c, s);
	cell_print(f, &c, width, pad);
}

/* The larger of min and the columns s takes once escaped, at most NAME_COLS. */
static int name_cols(const char *s, int min)
{
	struct esc_cell c;

	esc_init(&c, NAME_COLS);
	esc_put(&c, s);
	return c.cols > min ? c.cols : min;
}

static const char *fmt_bytes(uint64_t v, char *buf)
{
	return util_fmt_bytes(v, buf, 16);
}

static const char *fmt_count(uint64_t v, char *buf)
{
	return util_fmt_count(v, buf, 32);
}

static const char *signal_name(int sig)
{
	static const char *const names[] = {
		[1] = "SIGHUP",	  [2] = "SIGINT",   [3] = "SIGQUIT",  [4] = "SIGILL",
		[5] = "SIGTRAP",  [6] = "SIGABRT",  [7] = "SIGBUS",   [8] = "SIGFPE",
		[9] = "SIGKILL",  [10] = "SIGUSR1", [11] = "SIGSEGV", [12] = "SIGUSR2",
		[13] = "SIGPIPE", [14] = "SIGALRM", [15] = "SIGTERM", [16] = "SIGSTKFLT",
		[17] = "SIGCHLD", [18] = "SIGCONT", [19] = "SIGSTOP", [20] = "SIGTSTP",
		[21] = "SIGTTIN", [22] = "SIGTTOU", [23] = "SIGURG",  [24] = "SIGXCPU",
		[25] = "SIGXFSZ", [26] = "SIGVTALRM", [27] = "SIGPROF", [28] = "SIGWINCH",
		[29] = "SIGIO",	  [30] = "SIGPWR",  [31] = "SIGSYS",
	};

	if (sig > 0 && sig < (int)(sizeof(names) / sizeof(names[0])))
		return names[sig];
	return "real-time signal";
}

static void print_header(FILE *f, const struct bmt_run *run, const struct bmt_result *r)
{
	const struct bmt_stats *st = &run->stats;
	uint64_t end = run->end_ts > run->start_ts ? run->end_ts : run->start_ts;
	char n1[32], n2[32], n3[32];
	struct esc_cell cmd;

	esc_init(&cmd, LINE_COLS - 10);
	esc_put_argv(&cmd, run->argv);
	fprintf(f, "bmtrace:%s%s\n  ", cmd.cols ? " " : "", cmd.buf);
	if (run->attached)
		fprintf(f, "attached to PID %" PRIu32 ", ", run->root_pid);
	if (run->exit_code < 0 && run->signal)
		fprintf(f, "killed by signal %d (%s)", run->signal, signal_name(run->signal));
	else if (run->exit_code < 0)
		fprintf(f, "exit status unknown");
	else
		fprintf(f, "exit status %d", run->exit_code);
	fprintf(f, ", %.2f s, %s process%s, %s events, %s lost\n", run_rel_s(run, end),
		fmt_count(r->processes_total, n1), r->processes_total == 1 ? "" : "es",
		fmt_count(st->events, n2), fmt_count(st->lost, n3));
	if (st->lost || st->unpaired)
		fprintf(f, "  WARNING: events were lost (%s lost, %s unpaired): "
			   "the peak is a lower bound\n",
			fmt_count(st->lost, n1), fmt_count(st->unpaired, n2));
	report_text_oom(f, run, "  WARNING: ");
	if (st->procs_full || st->mms_full)
		fprintf(f, "  WARNING: %s processes and %s address spaces not traced (BPF maps "
			   "full): the peak is a lower bound\n",
			fmt_count(st->procs_full, n1), fmt_count(st->mms_full, n2));
}

/* --cgroup: what the run's memory cgroup counted, as the OOM killer does. */
static void print_cgroup(FILE *f, const struct bmt_cgroup *cg)
{
	char b1[16], b2[16];

	if (!cg->version)
		return;
	fprintf(f, "  cgroup peak    %10s  (cgroup v%d %s; limit ", fmt_bytes(cg->peak_bytes, b1),
		cg->version, cg->version == 2 ? "memory.peak" : "memory.max_usage_in_bytes");
	if (cg->limit_bytes == BMT_CGROUP_NONE)
		fputs("none", f);
	else
		fputs(fmt_bytes(cg->limit_bytes, b2), f);
	fprintf(f, "; %" PRIu64 " OOM kill%s)\n", cg->oom_kills, cg->oom_kills == 1 ? "" : "s");
	if (cg->swap_peak_bytes != BMT_CGROUP_NONE && cg->swap_peak_bytes)
		fprintf(f, "  cgroup swap    %10s  (memory.swap.peak)\n",
			fmt_bytes(cg->swap_peak_bytes, b1));
}

static void print_peaks(FILE *f, const struct bmt_run *run, const struct bmt_result *r)
{
	char b1[16], b2[16], b3[16], b4[16];

	fprintf(f, "  peak tree RSS  %10s at %.3f s  (anon %s, file %s, shmem %s)\n",
		fmt_bytes(r->peak.bytes, b1), run_rel_s(run, r->peak.ts),
		fmt_bytes(r->peak.anon_bytes, b2), fmt_bytes(r->peak.file_bytes, b3),
		fmt_bytes(r->peak.shmem_bytes, b4));
	fprintf(f, "  raw RSS sum    %10s at %.3f s  (upper bound: inherited pages counted in "
		   "each process)\n",
		fmt_bytes(r->raw_peak.bytes, b1), run_rel_s(run, r->raw_peak.ts));
	fprintf(f, "  anon peak      %10s at %.3f s  (anon + shmem)\n",
		fmt_bytes(r->anon_peak.bytes, b1), run_rel_s(run, r->anon_peak.ts));
	if (r->swap_at_peak)
		fprintf(f, "  swap at peak   %10s  (not in RSS)\n", fmt_bytes(r->swap_at_peak, b1));
	if (r->swap_peak.bytes)
		fprintf(f, "  swap peak      %10s at %.3f s  (the tree's swap entries)\n",
			fmt_bytes(r->swap_peak.bytes, b1), run_rel_s(run, r->swap_peak.ts));
	print_cgroup(f, &run->cgroup);
}

/* A table of processes and their bytes, largest first, with their share of total. */
static void print_procs(FILE *f, const struct bmt_peak_proc *procs, size_t n_procs,
			uint64_t total)
{
	size_t i, n = n_procs < MAX_PEAK_ROWS ? n_procs : MAX_PEAK_ROWS;
	int wc = 7, ws = 5, used;
	uint64_t rest = total;
	char b[16];
	struct esc_cell args;

	for (i = 0; i < n; i++) {
		wc = name_cols(procs[i].comm, wc);
		ws = name_cols(procs[i].stage, ws);
	}
	fprintf(f, INDENT "    PID  %-*s  %-*s       BYTES   SHARE  ARGS\n", wc, "COMMAND", ws,
		"STAGE");
	used = (int)strlen(INDENT) + 7 + 2 + wc + 2 + ws + 2 + 10 + 2 + 6 + 2;
	for (i = 0; i < n; i++) {
		const struct bmt_peak_proc *p = &procs[i];

		fprintf(f, INDENT "%7" PRIu32 "  ", p->pid);
		print_name(f, p->comm, wc, true);
		fputs("  ", f);
		print_name(f, p->stage, ws, true);
		fprintf(f, "  %10s  %5.1f%%  ", fmt_bytes(p->bytes, b),
			total ? 100.0 * (double)p->bytes / (double)total : 0.0);
		esc_init(&args, LINE_COLS - used);
		esc_put_argv(&args, p->argv);
		cell_print(f, &args, 0, false);
		fputc('\n', f);
		rest -= p->bytes < rest ? p->bytes : rest;
	}
	if (n_procs > n)
		fprintf(f, INDENT "… %zu more processes, %s\n", n_procs - n, fmt_bytes(rest, b));
}

static void print_peak_procs(FILE *f, const struct bmt_result *r)
{
	if (!r->n_peak_procs)
		return;
	fputs("  at the peak:\n", f);
	print_procs(f, r->peak_procs, r->n_peak_procs, r->peak.bytes);
}

/*
 * Every death by a signal, a line each; then, for each OOM kill, who held the memory at the
 * instant the OOM killer chose its victim.
 */
static void print_deaths(FILE *f, const struct bmt_run *run)
{
	size_t i, n = 0, rows;
	const struct bmt_death *l = run->deaths ? deaths__list(run->deaths, &n) : NULL;
	uint64_t ooms = run->deaths ? deaths__oom_kills(run->deaths) : 0;
	char b1[16], b2[16], sig[32];
	struct esc_cell args;
	int wc = 7;

	if (!n)
		return;
	rows = n < MAX_PEAK_ROWS ? n : MAX_PEAK_ROWS;
	for (i = 0; i < rows; i++)
		wc = name_cols(l[i].comm, wc);
	fprintf(f, "  killed by a signal: %zu process%s, %" PRIu64 " by the OOM killer\n", n,
		n == 1 ? "" : "es", ooms);
	fprintf(f, INDENT "%11s  %7s  %-*s  %-16s  %10s  %10s  ARGS\n", "TIME", "PID", wc,
		"COMMAND", "SIGNAL", "OWN", "TREE");
	for (i = 0; i < rows; i++) {
		snprintf(sig, sizeof(sig), "%s%s", signal_name(l[i].signal), l[i].oom ? " (OOM)" : "");
		fprintf(f, INDENT "%9.3f s  %7" PRIu32 "  ", run_rel_s(run, l[i].ts), l[i].pid);
		print_name(f, l[i].comm, wc, true);
		fprintf(f, "  %-16s  %10s  %10s  ", sig, fmt_bytes(l[i].bytes, b1),
			fmt_bytes(l[i].tree_bytes, b2));
		esc_init(&args, LINE_COLS - (int)strlen(INDENT) - 66 - wc);
		esc_put_argv(&args, l[i].argv);
		cell_print(f, &args, 0, false);
		fputc('\n', f);
	}
	if (n > rows)
		fprintf(f, INDENT "… %zu more\n", n - rows);
	for (i = 0; i < n; i++) {
		if (!l[i].oom)
			continue;
		fprintf(f, "  when the OOM killer chose %" PRIu32 " (", l[i].pid);
		print_name(f, l[i].comm, NAME_COLS, false);
		fprintf(f, ") at %.3f s, the tree held %s:\n", run_rel_s(run, l[i].ts),
			fmt_bytes(l[i].tree_bytes, b1));
		print_procs(f, l[i].holders, l[i].n_holders, l[i].tree_bytes);
	}
}

/*
 * The stage rules that matched no process, by name: a typo'd or too narrow rule otherwise
 * looks like a stage that used no memory.
 */
static void print_unmatched(FILE *f, const struct bmt_result *r)
{
	const char *sep = "  WARNING: no process matched the stage rule";

	for (size_t i = 0; i < r->n_stages; i++) {
		if (r->stages[i].processes)
			continue;
		fputs(sep, f);
		fputc(' ', f);
		print_name(f, r->stages[i].name, NAME_COLS, false);
		sep = ",";
	}
	if (*sep == ',')
		fputs("\n" INDENT "(a rule matches argv joined by spaces, or the same with argv[0] "
		      "cut to its base name)\n", f);
}

static void print_stages(FILE *f, const struct bmt_run *run, const struct bmt_result *r)
{
	char b1[16], b2[16], n[32];
	size_t i;
	int w = 5;

	if (r->n_stages < 2) /* the one default stage is the whole tree */
		return;
	for (i = 0; i < r->n_stages; i++)
		w = name_cols(r->stages[i].name, w);
	fprintf(f, "  stages:\n" INDENT "%-*s     AT PEAK    OWN PEAK           AT     PROCS\n", w,
		"STAGE");
	for (i = 0; i < r->n_stages; i++) {
		const struct bmt_stage_result *s = &r->stages[i];

		fputs(INDENT, f);
		print_name(f, s->name, w, true);
		fprintf(f, "  %10s  %10s  %9.3f s  %8s\n", fmt_bytes(s->bytes_at_peak, b1),
			fmt_bytes(s->peak_bytes, b2), run_rel_s(run, s->peak_ts),
			fmt_count(s->processes, n));
	}
	print_unmatched(f, r);
}

static void print_commands(FILE *f, const struct bmt_run *run, const struct bmt_result *r)
{
	size_t i, rows = r->n_commands < MAX_CMD_ROWS ? r->n_commands : MAX_CMD_ROWS;
	char b1[16], b2[16], n[32];
	int w = 7;

	if (!r->n_commands)
		return;
	for (i = 0; i < rows; i++)
		w = name_cols(r->commands[i].name, w);
	fprintf(f, "  commands:\n" INDENT "%-*s     AT PEAK    OWN PEAK           AT     PROCS"
		   "  LARGEST PROCESS\n", w, "COMMAND");
	for (i = 0; i < rows; i++) {
		const struct bmt_command_result *c = &r->commands[i];
		struct esc_cell args;

		fputs(INDENT, f);
		print_name(f, c->name, w, true);
		fprintf(f, "  %10s  %10s  %9.3f s  %8s", fmt_bytes(c->bytes_at_peak, b1),
			fmt_bytes(c->peak_bytes, b2), run_rel_s(run, c->peak_ts),
			fmt_count(c->processes, n));
		if (c->max_proc_pid) {
			/* the culprit: its pid, and its arguments with their operands kept */
			esc_init(&args, LINE_COLS - (int)strlen(INDENT) - w - 52 - 9);
			esc_put_argv(&args, c->max_proc_argv);
			fprintf(f, "  %7" PRIu32 " %s", c->max_proc_pid, args.buf);
		}
		fputc('\n', f);
	}
	if (r->n_commands > rows)
		fprintf(f, INDENT "… %zu more commands\n", r->n_commands - rows);
}

/* Per command, what each of its processes peaked at, and how many ran at once. */
static void print_sizing(FILE *f, const struct bmt_result *r)
{
	size_t i, rows = r->n_commands < MAX_CMD_ROWS ? r->n_commands : MAX_CMD_ROWS;
	char b1[16], b2[16], b3[16], n1[32], n2[32];
	int w = 7;

	if (!r->n_commands)
		return;
	for (i = 0; i < rows; i++)
		w = name_cols(r->commands[i].name, w);
	fprintf(f, "  sizing, per process (its own peak) and instances at once:\n" INDENT
		   "%-*s     LARGEST      MEDIAN         P95  MOST AT ONCE  AT PEAK\n", w,
		"COMMAND");
	for (i = 0; i < rows; i++) {
		const struct bmt_command_result *c = &r->commands[i];

		fputs(INDENT, f);
		print_name(f, c->name, w, true);
		fprintf(f, "  %10s  %10s  %10s  %12s  %7s\n", fmt_bytes(c->max_proc_peak, b1),
			fmt_bytes(c->p50_proc_peak, b2), fmt_bytes(c->p95_proc_peak, b3),
			fmt_count(c->max_instances, n1), fmt_count(c->instances_at_peak, n2));
	}
}

/* The budget: how many instances of the dominant command fit, then the headroom. */
static void print_budget(FILE *f, const struct bmt_run *run, const struct bmt_result *r)
{
	const char *opt = run->budget_gate ? "--max-peak" : "--budget";
	char b1[16], b2[16], b3[16], n[32];
	struct budget_eval e;

	if (!budget_eval(run, r, &e))
		return;
	if (e.dominant) {
		fputs("  dominant        ", f);
		print_name(f, e.dominant->name, SIZING_NAME_COLS, false);
		fprintf(f, " holds %s at the peak in %s instance%s; the rest %s\n",
			fmt_bytes(e.dominant->bytes_at_peak, b1),
			fmt_count(e.dominant->instances_at_peak, n),
			e.dominant->instances_at_peak == 1 ? "" : "s", fmt_bytes(e.rest, b2));
	}
	if (e.dominant && e.fit_max)
		fprintf(f, "  fit in budget   %" PRIu64 " at once at its largest process peak "
			   "(%s), %" PRIu64 " at p95 (%s)\n",
			e.fit_max, fmt_bytes(e.dominant->max_proc_peak, b1), e.fit_p95,
			fmt_bytes(e.dominant->p95_proc_peak, b2));
	if (e.exceeded)
		report_text_over_budget(f, run, r);
	else
		fprintf(f, "  budget          %s (%s): %s headroom at the peak (%.1f%%)\n",
			fmt_bytes(e.budget, b1), opt, fmt_bytes(e.headroom, b3),
			100.0 * (double)e.headroom / (double)e.budget);
}

void report_text_oom(FILE *f, const struct bmt_run *run, const char *lead)
{
	uint64_t n = run->deaths ? deaths__oom_kills(run->deaths) : 0;

	if (n < run->cgroup.oom_kills)
		n = run->cgroup.oom_kills; /* a victim the tracepoint could not name */
	if (n)
		fprintf(f, "%sthe OOM killer killed %" PRIu64 " process%s of the tree%s\n", lead, n,
			n == 1 ? "" : "es", run->exit_code == 0 ? " (COMMAND still exited 0)" : "");
}

void report_text_over_budget(FILE *f, const struct bmt_run *run, const struct bmt_result *r)
{
	char b1[16], b2[16], b3[16];
	struct budget_eval e;

	if (!budget_eval(run, r, &e) || !e.exceeded)
		return;
	fprintf(f, "bmtrace: over budget by %s (%.1f%%): %s %s, %s %s", fmt_bytes(e.over_by, b1),
		100.0 * (double)e.over_by / (double)e.budget,
		run->gate ? budget_peak_name(run) : "peak", fmt_bytes(budget_peak(run, r), b2),
		run->budget_gate ? "--max-peak" : "--budget", fmt_bytes(e.budget, b3));
	if (e.over_ts)
		fprintf(f, "; first at %.3f s", run_rel_s(run, e.over_ts));
	fputc('\n', f);
}

static void print_alive(FILE *f, const struct bmt_result *r)
{
	size_t i, rows = r->n_alive < MAX_ALIVE ? r->n_alive : MAX_ALIVE;

	if (!r->n_alive)
		return;
	fprintf(f, "  still running when tracing stopped: %zu\n", r->n_alive);
	for (i = 0; i < rows; i++) {
		fprintf(f, INDENT "%7" PRIu32 "  ", r->alive[i].pid);
		print_name(f, r->alive[i].comm, LINE_COLS - (int)strlen(INDENT) - 9, false);
		fputc('\n', f);
	}
	if (r->n_alive > rows)
		fprintf(f, INDENT "… %zu more\n", r->n_alive - rows);
}

int report_text(FILE *f, const struct bmt_run *run, const struct bmt_result *r)
{
	print_header(f, run, r);
	print_peaks(f, run, r);
	print_peak_procs(f, r);
	print_stages(f, run, r);
	print_commands(f, run, r);
	print_sizing(f, r);
	print_deaths(f, run);
	print_alive(f, r);
	print_budget(f, run, r); /* last: CI logs end with the verdict */
	if (fflush(f))
		return -errno; /* the reason (ENOSPC, EDQUOT) is what the user needs to see */
	return ferror(f) ? -EIO : 0;
}
