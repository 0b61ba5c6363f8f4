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
#include "report.h"
#include "util.h"

#define LINE_COLS     100
#define INDENT        "    "
#define NAME_COLS     16 /* most columns given to a command or stage name */
#define MAX_PEAK_ROWS 20
#define MAX_CMD_ROWS  10
#define MAX_ALIVE     10

/*
 * One cell of escaped text, at most max columns: when the text does not fit, it is cut
 * where "…" still fits after it. A column holds at most 4 bytes (one UTF-8 character);
 * an escape is one byte per column.
 */
struct cell {
	char buf[LINE_COLS * 4 + 8];
	size_t len, cut_len;
	int cols, cut_cols, max;
	bool full;
};

static void cell_init(struct cell *c, int max)
{
	memset(c, 0, sizeof(*c));
	c->max = max < LINE_COLS ? max : LINE_COLS;
}

/* Append one unit (a character or its escape) of cols columns. */
static void cell_put(struct cell *c, const char *s, size_t len, int cols)
{
	if (c->full)
		return;
	if (c->cols + cols > c->max) {
		c->full = true;
		c->len = c->cut_len;
		c->cols = c->cut_cols;
		memcpy(c->buf + c->len, "\xe2\x80\xa6", 3); /* … */
		c->len += 3;
		c->cols++;
		c->buf[c->len] = '\0';
		return;
	}
	memcpy(c->buf + c->len, s, len);
	c->len += len;
	c->cols += cols;
	c->buf[c->len] = '\0';
	if (c->cols < c->max) {
		c->cut_len = c->len;
		c->cut_cols = c->cols;
	}
}

/* Characters a terminal acts on rather than shows, or that reorder the line. */
static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x200e && cp <= 0x200f) ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

static void cell_put_escaped(struct cell *c, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char esc[16];
	uint32_t cp;
	int n;

	while (*p && !c->full) {
		n = util_utf8_decode((const char *)p, &cp);
		if (n && !is_control(cp)) {
			cell_put(c, (const char *)p, (size_t)n, 1);
		} else if (n == 1 && (cp == '\n' || cp == '\t' || cp == '\r')) {
			esc[0] = '\\';
			esc[1] = cp == '\n' ? 'n' : cp == '\t' ? 't' : 'r';
			cell_put(c, esc, 2, 2);
		} else if (n > 1 && cp > 0xff) { /* a bidi or line control */
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned int)cp);
			cell_put(c, esc, 6, 6);
		} else { /* one byte: a C0 control, DEL, or not valid UTF-8 (C1 go byte by byte) */
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			cell_put(c, esc, 4, 4);
			n = 1;
		}
		p += n;
	}
}

static void cell_put_argv(struct cell *c, char *const *argv)
{
	for (; argv && *argv && !c->full; argv++) {
		if (c->cols)
			cell_put(c, " ", 1, 1);
		cell_put_escaped(c, *argv);
	}
}

/* Print the cell, padded with spaces to width columns when pad is set. */
static void cell_print(FILE *f, const struct cell *c, int width, bool pad)
{
	fputs(c->buf, f);
	if (pad && width > c->cols)
		fprintf(f, "%*s", width - c->cols, "");
}

/* Print s escaped and cut to width columns, padded to width when pad is set. */
static void print_name(FILE *f, const char *s, int width, bool pad)
{
	struct cell c;

	cell_init(&c, width);
	cell_put_escaped(&c, s);
	cell_print(f, &c, width, pad);
}

/* The larger of min and the columns s takes once escaped, at most NAME_COLS. */
static int name_cols(const char *s, int min)
{
	struct cell c;

	cell_init(&c, NAME_COLS);
	cell_put_escaped(&c, s);
	return c.cols > min ? c.cols : min;
}

static const char *fmt_bytes(uint64_t v, char *buf)
{
	return util_fmt_bytes(v, buf, 16);
}

/* 1052113 as "1,052,113". */
static const char *fmt_count(uint64_t v, char *buf)
{
	char digits[24];
	int n = snprintf(digits, sizeof(digits), "%" PRIu64, v), i, o = 0;

	for (i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = digits[i];
	}
	buf[o] = '\0';
	return buf;
}

static double rel_s(const struct bmt_run *run, uint64_t ts)
{
	return ts > run->start_ts ? (double)(ts - run->start_ts) / 1e9 : 0.0;
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
	struct cell cmd;

	cell_init(&cmd, LINE_COLS - 10);
	cell_put_argv(&cmd, run->argv);
	fprintf(f, "bmtrace:%s%s\n  ", cmd.cols ? " " : "", cmd.buf);
	if (run->attached)
		fprintf(f, "attached to PID %" PRIu32 ", ", run->root_pid);
	if (run->exit_code < 0 && run->signal)
		fprintf(f, "killed by signal %d (%s)", run->signal, signal_name(run->signal));
	else if (run->exit_code < 0)
		fprintf(f, "exit status unknown");
	else
		fprintf(f, "exit status %d", run->exit_code);
	fprintf(f, ", %.2f s, %s processes, %s events, %s lost\n", rel_s(run, end),
		fmt_count(r->processes_total, n1), fmt_count(st->events, n2),
		fmt_count(st->lost, n3));
	if (st->lost || st->unpaired)
		fprintf(f, "  WARNING: events were lost (%s lost, %s unpaired): "
			   "the peak is a lower bound\n",
			fmt_count(st->lost, n1), fmt_count(st->unpaired, n2));
	if (st->procs_full || st->mms_full)
		fprintf(f, "  WARNING: %s processes and %s address spaces not traced (BPF maps "
			   "full): the peak is a lower bound\n",
			fmt_count(st->procs_full, n1), fmt_count(st->mms_full, n2));
}

static void print_peaks(FILE *f, const struct bmt_run *run, const struct bmt_result *r)
{
	char b1[16], b2[16], b3[16], b4[16];

	fprintf(f, "  peak tree RSS  %10s at %.3f s  (anon %s, file %s, shmem %s)\n",
		fmt_bytes(r->peak.bytes, b1), rel_s(run, r->peak.ts),
		fmt_bytes(r->peak.anon_bytes, b2), fmt_bytes(r->peak.file_bytes, b3),
		fmt_bytes(r->peak.shmem_bytes, b4));
	fprintf(f, "  raw RSS sum    %10s at %.3f s  (upper bound: inherited pages counted in "
		   "each process)\n",
		fmt_bytes(r->raw_peak.bytes, b1), rel_s(run, r->raw_peak.ts));
	fprintf(f, "  anon peak      %10s at %.3f s  (anon + shmem)\n",
		fmt_bytes(r->anon_peak.bytes, b1), rel_s(run, r->anon_peak.ts));
	if (r->swap_at_peak)
		fprintf(f, "  swap at peak   %10s  (not in RSS)\n", fmt_bytes(r->swap_at_peak, b1));
}

static void print_peak_procs(FILE *f, const struct bmt_result *r)
{
	size_t i, n = r->n_peak_procs < MAX_PEAK_ROWS ? r->n_peak_procs : MAX_PEAK_ROWS;
	int wc = 7, ws = 5, used;
	uint64_t rest = r->peak.bytes;
	char b[16];
	struct cell args;

	if (!r->n_peak_procs)
		return;
	for (i = 0; i < n; i++) {
		const struct bmt_peak_proc *p = &r->peak_procs[i];

		wc = name_cols(p->comm, wc);
		ws = name_cols(p->stage, ws);
	}
	fprintf(f, "  at the peak:\n" INDENT "    PID  %-*s  %-*s       BYTES   SHARE  ARGS\n", wc,
		"COMMAND", ws, "STAGE");
	used = (int)strlen(INDENT) + 7 + 2 + wc + 2 + ws + 2 + 10 + 2 + 6 + 2;
	for (i = 0; i < n; i++) {
		const struct bmt_peak_proc *p = &r->peak_procs[i];

		fprintf(f, INDENT "%7" PRIu32 "  ", p->pid);
		print_name(f, p->comm, wc, true);
		fputs("  ", f);
		print_name(f, p->stage, ws, true);
		fprintf(f, "  %10s  %5.1f%%  ", fmt_bytes(p->bytes, b),
			r->peak.bytes ? 100.0 * (double)p->bytes / (double)r->peak.bytes : 0.0);
		cell_init(&args, LINE_COLS - used);
		cell_put_argv(&args, p->argv);
		cell_print(f, &args, 0, false);
		fputc('\n', f);
		rest -= p->bytes < rest ? p->bytes : rest;
	}
	if (r->n_peak_procs > n)
		fprintf(f, INDENT "… %zu more processes, %s\n", r->n_peak_procs - n,
			fmt_bytes(rest, b));
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
			fmt_bytes(s->peak_bytes, b2), rel_s(run, s->peak_ts),
			fmt_count(s->processes, n));
	}
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
	fprintf(f, "  commands:\n" INDENT "%-*s     AT PEAK    OWN PEAK           AT     PROCS\n",
		w, "COMMAND");
	for (i = 0; i < rows; i++) {
		const struct bmt_command_result *c = &r->commands[i];

		fputs(INDENT, f);
		print_name(f, c->name, w, true);
		fprintf(f, "  %10s  %10s  %9.3f s  %8s\n", fmt_bytes(c->bytes_at_peak, b1),
			fmt_bytes(c->peak_bytes, b2), rel_s(run, c->peak_ts),
			fmt_count(c->processes, n));
	}
	if (r->n_commands > rows)
		fprintf(f, INDENT "… %zu more commands\n", r->n_commands - rows);
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
	print_alive(f, r);
	if (fflush(f) || ferror(f))
		return -EIO;
	return 0;
}
