// SPDX-License-Identifier: MIT
/*
 * report_svg - the timeline as a self-contained SVG chart: the tree total stacked by stage
 * (one area per stage, the root's default stage at the bottom), the total as a line and
 * anon + shmem as a dashed one, axes in seconds/minutes and binary byte units, the budget
 * when one was given, and the peak marked and labelled with its value, its time and the
 * largest processes at it. No script, no external font or style: it renders the same in a
 * browser, an <img> tag or a converter.
 *
 * Every string (command lines, process and stage names) is shown through escape.h and then
 * XML-escaped, so a name such as `a"b<svg onload=x>` is text, never markup.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "budget.h"
#include "escape.h"
#include "report.h"
#include "timeline.h"
#include "util.h"

/* The canvas and the plot inside it, in SVG user units (px at 100%). */
#define WIDTH	     1080
#define HEIGHT	     560
#define PLOT_LEFT    84
#define PLOT_TOP     78
#define PLOT_RIGHT   (WIDTH - 250)
#define PLOT_BOTTOM  (HEIGHT - 52)
#define LEGEND_X     (WIDTH - 226)
#define FONT	     "DejaVu Sans, Helvetica, Arial, sans-serif"
#define CHAR_W	     6.8 /* average advance of a 12 px character, to size the peak's label */
#define LINE_H	     17  /* the peak label's line height */
#define TOP_PROCS    3
#define ROW_H	     34 /* a stage's legend row: its name, then its bytes */
#define ITEM_H	     22 /* a one-line legend row */
#define NAME_COLS    22
#define OPERAND_COLS 28 /* a peak process's operands in its label */

/*
 * Tableau 10 (print- and colour-blind-friendly), then ten hues far from each of them: a
 * colour of its own for each of 20 stages; the stages past them share OTHER_COLOR.
 */
static const char *const palette[] = { "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
				       "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac",
				       "#17becf", "#bcbd22", "#6a3d9a", "#1b9e77", "#e7298a",
				       "#1f4e79", "#8c2d04", "#b3de69", "#7570b3", "#ffff99" };
#define N_COLORS (sizeof(palette) / sizeof(palette[0]))
#define OTHER_COLOR  "#d9d9d9"
#define PEAK_COLOR   "#c0392b"
#define BUDGET_COLOR "#c0392b"

struct chart {
	FILE *f;
	const struct bmt_run *run;
	const struct bmt_result *r;
	const struct timeline *tl; /* coarsened to about one row per pixel */
	size_t *col;		   /* r's stage k is the rows' stage_bytes[col[k]] */
	size_t *slot;		   /* stage k's row in the legend: those that held memory first */
	size_t *at_slot;	   /* the stage in each legend row */
	size_t legend_rows;	   /* stages named in the legend; the rest are "… N more" */
	int height;		   /* of the canvas: HEIGHT, or more for a long legend */
	double t_max;		   /* seconds at the right edge */
	double y_max;		   /* bytes at the top */
	double label_x;		   /* the peak label's left edge */
	bool budget_shown;	   /* the budget is within the plot's range */
};

/* A visible string (escape.h) with XML's five entities. */
static void put_xml(FILE *f, const char *visible)
{
	const char *p;
	uint32_t cp;
	int n;

	for (p = visible; *p; p += n) {
		n = util_utf8_decode(p, &cp);
		if (cp == '&')
			fputs("&amp;", f);
		else if (cp == '<')
			fputs("&lt;", f);
		else if (cp == '>')
			fputs("&gt;", f);
		else if (cp == '"')
			fputs("&quot;", f);
		else if (cp == '\'')
			fputs("&#39;", f);
		else if (cp == 0xfffe || cp == 0xffff) /* not characters in XML 1.0 */
			fputs("\xef\xbf\xbd", f);
		else
			fwrite(p, 1, (size_t)n, f);
	}
}

/* A string from another process, shown safely in at most max_cols columns. */
static void put_text(FILE *f, const char *s, int max_cols)
{
	struct esc_cell c;

	esc_init(&c, max_cols);
	esc_put(&c, s);
	put_xml(f, c.buf);
}

static void put_argv(FILE *f, char *const *argv, int max_cols)
{
	struct esc_cell c;

	esc_init(&c, max_cols);
	esc_put_argv(&c, argv);
	put_xml(f, c.buf);
}

static double x_of(const struct chart *c, double t)
{
	return PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * (t < c->t_max ? t : c->t_max) / c->t_max;
}

static double y_of(const struct chart *c, double bytes)
{
	return PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * bytes / c->y_max;
}

/* 1, 2, 2.5 or 5 times a power of ten: the tick step nearest above raw. */
static double nice_step(double raw)
{
	double p = pow(10, floor(log10(raw))), f = raw / p;

	return p * (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10);
}

/*
 * The time axis's unit for a run of t_max seconds: hours past 3, minutes past 3, seconds
 * past 0.1, else milliseconds (a `true` runs for a quarter of one).
 */
static double time_unit(double t_max, const char **name)
{
	double unit = t_max >= 3 * 3600 ? 3600 : t_max >= 180 ? 60 : t_max >= 0.1 ? 1 : 1e-3;

	*name = unit == 3600 ? "h" : unit == 60 ? "min" : unit == 1 ? "s" : "ms";
	return unit;
}

/* "0.075 s", "2.71 s", "95.3 s", "14.5 min", "3.25 h", "0.250 ms": in the time axis's unit. */
static const char *fmt_time(const struct chart *c, double s, char *buf, size_t len)
{
	const char *name;
	double unit = time_unit(c->t_max, &name), v = s / unit;

	if (unit > 1)
		snprintf(buf, len, unit == 60 ? "%.1f %s" : "%.2f %s", v, name);
	else
		snprintf(buf, len, v < 1 ? "%.3f %s" : v < 10 ? "%.2f %s" : "%.1f %s", v, name);
	return buf;
}

/* The largest unit (B, KiB, MiB, GiB, TiB) that bytes reaches, as a power of 1024. */
static int byte_unit(double bytes)
{
	int u = 0;

	while (u < 4 && bytes >= pow(1024, u + 1))
		u++;
	return u;
}

static void y_axis(struct chart *c, double top)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	int u = byte_unit(top);
	double scale = pow(1024, u), step = nice_step(top / scale / 5), v;

	c->y_max = ceil(top / scale / step - 1e-9) * step * scale;
	fprintf(c->f, "<g font-size=\"11\" fill=\"#555\" text-anchor=\"end\">\n");
	/* a handful of ticks; the end has a tolerance of step / 2 for the rounding of v */
	/* NOLINTNEXTLINE(cert-flp30-c,clang-analyzer-security.FloatLoopCounter) */
	for (v = 0; v <= c->y_max / scale + step / 2; v += step) {
		double y = y_of(c, v * scale);

		fprintf(c->f,
			"<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>"
			"<text x=\"%d\" y=\"%.1f\">%g %s</text>\n",
			PLOT_LEFT, PLOT_RIGHT, y, y, v ? "#e6e6e6" : "#888", PLOT_LEFT - 8,
			y + 4, v, units[u]);
	}
	fprintf(c->f, "</g>\n");
}

static void x_axis(struct chart *c)
{
	const char *name;
	double unit = time_unit(c->t_max, &name);
	double step = nice_step(c->t_max / unit / 8), v;

	fprintf(c->f, "<g font-size=\"11\" fill=\"#555\" text-anchor=\"middle\">\n");
	/* NOLINTNEXTLINE(cert-flp30-c): a handful of ticks, the end with a tolerance of 1e-9 */
	for (v = 0; v * unit <= c->t_max * (1 + 1e-9); v += step) {
		double x = x_of(c, v * unit);

		fprintf(c->f,
			"<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%d\" stroke=\"#888\"/>"
			"<text x=\"%.1f\" y=\"%d\">%g %s</text>\n",
			x, x, PLOT_BOTTOM, PLOT_BOTTOM + 5, x, PLOT_BOTTOM + 19, v, name);
	}
	fprintf(c->f, "</g>\n");
}

/* Stage k's colour: its own when the legend names it, else the one of the rest. */
static const char *colour(const struct chart *c, size_t k)
{
	return c->slot[k] < c->legend_rows ? palette[c->slot[k] % N_COLORS] : OTHER_COLOR;
}

/* Bytes of the stages 0..k (inclusive; k < 0: none) at row i: the top of stage k's area. */
static double stacked(const struct chart *c, const struct timeline_row *row, long k)
{
	double sum = 0;

	for (long j = 0; j <= k; j++)
		if (c->col[j] != SIZE_MAX)
			sum += (double)row->stage_bytes[c->col[j]];
	return sum;
}

/*
 * One stage's area: its top edge forward, its bottom edge (the stages below) backward, as
 * steps: memory holds its value from one row to the next, the last until the run's end.
 */
static void stage_area(struct chart *c, size_t k)
{
	size_t i, n = timeline__rows(c->tl);
	struct timeline_row row;
	double x_end = x_of(c, c->t_max);

	fprintf(c->f, "<path fill=\"%s\" fill-opacity=\"0.85\" d=\"", colour(c, k));
	for (i = 0; i < n; i++) {
		timeline__row(c->tl, i, &row);
		fprintf(c->f, i ? "H%.1fV%.1f" : "M%.1f %.1f", x_of(c, run_rel_s(c->run, row.ts)),
			y_of(c, stacked(c, &row, (long)k)));
	}
	fprintf(c->f, "H%.1f", x_end);
	for (i = n; i-- > 0;) {
		timeline__row(c->tl, i, &row);
		fprintf(c->f, "V%.1fH%.1f", y_of(c, stacked(c, &row, (long)k - 1)),
			x_of(c, run_rel_s(c->run, row.ts)));
	}
	fprintf(c->f, "Z\"/>\n");
}

/* A step line through one column of the rows: the tree total, or anon + shmem. */
static void total_line(struct chart *c, bool anon, const char *style)
{
	size_t i, n = timeline__rows(c->tl);
	struct timeline_row row;

	fprintf(c->f, "<path fill=\"none\" %s d=\"", style);
	for (i = 0; i < n; i++) {
		timeline__row(c->tl, i, &row);
		fprintf(c->f, i ? "H%.1fV%.1f" : "M%.1f %.1f", x_of(c, run_rel_s(c->run, row.ts)),
			y_of(c, (double)(anon ? row.anon_bytes : row.tree_bytes)));
	}
	fprintf(c->f, "H%.1f\"/>\n", x_of(c, c->t_max));
}

static void header(struct chart *c)
{
	const struct bmt_run *run = c->run;
	char b[16], t[32];

	fprintf(c->f, "<text x=\"24\" y=\"32\" font-size=\"17\" font-weight=\"bold\" "
		      "fill=\"#222\">bmtrace: ");
	put_argv(c->f, run->argv, 80);
	fprintf(c->f, "</text>\n<text x=\"24\" y=\"54\" font-size=\"12\" fill=\"#555\">"
		      "tree RSS by stage (pages shared with a fork parent counted once) · ");
	if (run->exit_code >= 0)
		fprintf(c->f, "exit status %d", run->exit_code);
	else if (run->signal)
		fprintf(c->f, "killed by signal %d", run->signal);
	else
		fprintf(c->f, "exit status unknown");
	fprintf(c->f, " · %s · %" PRIu64 " process%s · peak %s",
		fmt_time(c, run_rel_s(run, run->end_ts), t, sizeof(t)), c->r->processes_total,
		c->r->processes_total == 1 ? "" : "es", util_fmt_bytes(c->r->peak.bytes, b, sizeof(b)));
	if (run->stats.lost || run->stats.unpaired)
		fprintf(c->f, " (events lost: a lower bound)");
	fprintf(c->f, "</text>\n");
}

static void legend_row(struct chart *c, int y, const char *swatch, const char *name,
		       const char *detail)
{
	fprintf(c->f, "%s<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#222\">", swatch,
		LEGEND_X + 22, y + 10);
	put_text(c->f, name, NAME_COLS);
	fprintf(c->f, "</text>\n");
	if (detail)
		fprintf(c->f, "<text x=\"%d\" y=\"%d\" font-size=\"10\" fill=\"#666\">%s</text>\n",
			LEGEND_X + 22, y + 24, detail);
}

/*
 * The legend's order: the stages that held memory first (in the result's order), then those
 * that held none, so a stage of 0 B never takes a row while one that held memory is folded
 * into "… N more stages"; and how tall the canvas must be for the legend.
 */
static int legend_order(struct chart *c)
{
	const struct bmt_result *r = c->r;
	size_t n = 0, fit;
	int tail = 6 + 2 * ITEM_H + (c->run->budget_bytes ? ITEM_H + 14 : 0) + 16;

	c->slot = calloc(r->n_stages + 1, sizeof(*c->slot));
	c->at_slot = calloc(r->n_stages + 1, sizeof(*c->at_slot));
	if (!c->slot || !c->at_slot)
		return -ENOMEM;
	for (int held = 1; held >= 0; held--)
		for (size_t k = 0; k < r->n_stages; k++)
			if ((r->stages[k].peak_bytes > 0) == held) {
				c->at_slot[n] = k;
				c->slot[k] = n++;
			}
	/* as many as have a colour of their own; the canvas grows below the plot to hold them */
	c->legend_rows = r->n_stages < N_COLORS ? r->n_stages : N_COLORS;
	fit = PLOT_TOP + c->legend_rows * ROW_H + (r->n_stages > c->legend_rows ? ITEM_H : 0) +
	      (size_t)tail + 6;
	c->height = fit > HEIGHT ? (int)fit : HEIGHT;
	return 0;
}

static void legend(struct chart *c)
{
	const struct bmt_result *r = c->r;
	char sw[256], detail[64], b1[16], b2[16];
	struct budget_eval e;
	int y = PLOT_TOP;

	fprintf(c->f, "<g>\n<text x=\"%d\" y=\"%d\" font-size=\"12\" font-weight=\"bold\" "
		      "fill=\"#222\">stages</text>\n", LEGEND_X, y - 8);
	for (size_t i = 0; i < c->legend_rows; i++, y += ROW_H) {
		size_t k = c->at_slot[i];

		snprintf(sw, sizeof(sw), "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" "
			 "fill=\"%s\" fill-opacity=\"0.85\"/>", LEGEND_X, y, colour(c, k));
		snprintf(detail, sizeof(detail), "at peak %s · max %s",
			 util_fmt_bytes(r->stages[k].bytes_at_peak, b1, sizeof(b1)),
			 util_fmt_bytes(r->stages[k].peak_bytes, b2, sizeof(b2)));
		legend_row(c, y, sw, r->stages[k].name, detail);
	}
	if (r->n_stages > c->legend_rows) {
		fprintf(c->f, "<rect x=\"%d\" y=\"%d\" width=\"14\" height=\"14\" fill=\"%s\"/>"
			      "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"#666\">… %zu more "
			      "stage%s</text>\n", LEGEND_X, y - 2, OTHER_COLOR, LEGEND_X + 22, y + 10,
			r->n_stages - c->legend_rows, r->n_stages - c->legend_rows == 1 ? "" : "s");
		y += ITEM_H;
	}
	y += 6;
	snprintf(sw, sizeof(sw), "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#222\" "
		 "stroke-width=\"1.5\"/>", LEGEND_X, LEGEND_X + 14, y + 7, y + 7);
	legend_row(c, y, sw, "tree total", NULL);
	y += ITEM_H;
	snprintf(sw, sizeof(sw), "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" stroke=\"#222\" "
		 "stroke-dasharray=\"3 2\"/>", LEGEND_X, LEGEND_X + 14, y + 7, y + 7);
	legend_row(c, y, sw, "anon + shmem", NULL);
	if (budget_eval(c->run, c->r, &e)) {
		char name[48];

		y += ITEM_H;
		snprintf(sw, sizeof(sw), "<line x1=\"%d\" x2=\"%d\" y1=\"%d\" y2=\"%d\" "
			 "stroke=\"%s\" stroke-dasharray=\"6 3\" stroke-width=\"1.5\"/>",
			 LEGEND_X, LEGEND_X + 14, y + 7, y + 7, BUDGET_COLOR);
		snprintf(name, sizeof(name), "%s %s", c->run->budget_gate ? "--max-peak" : "--budget",
			 util_fmt_bytes(e.budget, b1, sizeof(b1)));
		/* off the scale: said on a line of its own, never cut */
		snprintf(detail, sizeof(detail), "above the chart: the peak is %.0f%% of it",
			 100.0 * (double)r->peak.bytes / (double)e.budget);
		legend_row(c, y, sw, name, c->budget_shown ? NULL : detail);
	}
	fprintf(c->f, "</g>\n");
}

/* The budget as a line across the plot, labelled on the side away from the peak's label. */
static void budget_line(struct chart *c)
{
	struct budget_eval e;
	bool left = c->label_x > (PLOT_LEFT + PLOT_RIGHT) / 2.0;
	char b[16];
	double y;

	if (!budget_eval(c->run, c->r, &e) || !c->budget_shown)
		return;
	y = y_of(c, (double)e.budget);
	fprintf(c->f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
		      "stroke-width=\"1.5\" stroke-dasharray=\"6 3\"/>\n",
		PLOT_LEFT, PLOT_RIGHT, y, y, BUDGET_COLOR);
	fprintf(c->f, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" fill=\"%s\" "
		      "text-anchor=\"%s\">budget %s%s</text>\n",
		left ? PLOT_LEFT + 6 : PLOT_RIGHT - 6, y - 5, BUDGET_COLOR, left ? "start" : "end",
		util_fmt_bytes(e.budget, b, sizeof(b)), e.exceeded ? ": exceeded" : "");
}

/* The peak label's lines: its title, then the largest processes at the peak. */
static int label_lines(const struct bmt_result *r, size_t *n_procs)
{
	*n_procs = r->n_peak_procs < TOP_PROCS ? r->n_peak_procs : TOP_PROCS;
	return 1 + (int)*n_procs + (r->n_peak_procs > *n_procs);
}

static void proc_detail(const struct bmt_peak_proc *p, char *buf, size_t len)
{
	char b[16];

	snprintf(buf, len, " %s · pid %" PRIu32, util_fmt_bytes(p->bytes, b, sizeof(b)), p->pid);
}

/* What the process was working on: its operands (the compiler's source file), shortened. */
static void proc_operands(const struct bmt_peak_proc *p, struct esc_cell *ops)
{
	esc_init(ops, OPERAND_COLS);
	esc_put_operands(ops, p->argv);
}

/* The label's size, from the characters on its widest line. */
static void label_size(const struct chart *c, const char *title, double *w, double *h)
{
	const struct bmt_result *r = c->r;
	size_t i, n;
	int lines = label_lines(r, &n);
	double width = (double)strlen(title) * CHAR_W * 1.12; /* bold, 13 px */
	char detail[64];
	struct esc_cell name;

	for (i = 0; i < n; i++) {
		struct esc_cell ops;

		esc_init(&name, NAME_COLS);
		esc_put(&name, r->peak_procs[i].comm);
		proc_detail(&r->peak_procs[i], detail, sizeof(detail));
		proc_operands(&r->peak_procs[i], &ops);
		width = fmax(width, (name.cols + (double)strlen(detail) +
				     (ops.cols ? ops.cols + 3 : 0)) * CHAR_W);
	}
	*w = width + 18;
	*h = lines * LINE_H + 10;
}

/*
 * The peak: a marker on the total, a drop line to the axis, and its label just above the
 * peak's level, where no data can be (draw() leaves room for it).
 */
static void peak_label(struct chart *c, const char *title, double w, double h)
{
	const struct bmt_result *r = c->r;
	double px = x_of(c, run_rel_s(c->run, r->peak.ts)), py = y_of(c, (double)r->peak.bytes);
	double by = py - 10 - h, bx = c->label_x;
	size_t i, n;
	char detail[64];
	bool more = label_lines(r, &n) > (int)n + 1;

	fprintf(c->f, "<g>\n<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%d\" stroke=\"%s\" "
		      "stroke-dasharray=\"2 2\"/>\n", px, px, py, PLOT_BOTTOM, PEAK_COLOR);
	fprintf(c->f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"4\" "
		      "fill=\"#fff\" fill-opacity=\"0.94\" stroke=\"#bbb\"/>\n", bx, by, w, h);
	fprintf(c->f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"#fff\" stroke=\"%s\" "
		      "stroke-width=\"2\"/>\n", px, py, PEAK_COLOR);
	fprintf(c->f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" font-weight=\"bold\" "
		      "fill=\"%s\">%s</text>\n", bx + 9, by + LINE_H + 1, PEAK_COLOR, title);
	for (i = 0; i < n; i++) {
		struct esc_cell ops;

		fprintf(c->f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" fill=\"#222\">",
			bx + 9, by + LINE_H * (double)(i + 2));
		put_text(c->f, r->peak_procs[i].comm, NAME_COLS);
		proc_detail(&r->peak_procs[i], detail, sizeof(detail));
		fprintf(c->f, "<tspan fill=\"#555\">%s</tspan>", detail);
		proc_operands(&r->peak_procs[i], &ops);
		if (ops.cols) {
			fputs("<tspan fill=\"#555\"> · ", c->f);
			put_xml(c->f, ops.buf);
			fputs("</tspan>", c->f);
		}
		fputs("</text>\n", c->f);
	}
	if (more)
		fprintf(c->f, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#666\">"
			      "+ %zu more process%s</text>\n", bx + 9,
			by + LINE_H * (double)(n + 2), r->n_peak_procs - n,
			r->n_peak_procs - n == 1 ? "" : "es");
	fprintf(c->f, "</g>\n");
}

static int draw(struct chart *c)
{
	const struct bmt_result *r = c->r;
	double peak = (double)r->peak.bytes, budget = (double)c->run->budget_bytes;
	double plot_h = PLOT_BOTTOM - PLOT_TOP, top, lw = 0, lh = 0, px;
	size_t k, n = timeline__rows(c->tl);
	struct timeline_row last;
	char title[96], b[16], t[32];

	c->t_max = run_rel_s(c->run, c->run->end_ts);
	if (n) {
		timeline__row(c->tl, n - 1, &last);
		c->t_max = fmax(c->t_max, run_rel_s(c->run, last.ts));
	}
	if (c->t_max <= 0)
		c->t_max = 1e-3;
	snprintf(title, sizeof(title), "peak %s at %s", util_fmt_bytes(r->peak.bytes, b, sizeof(b)),
		 fmt_time(c, run_rel_s(c->run, r->peak.ts), t, sizeof(t)));
	label_size(c, title, &lw, &lh);
	/* room above the peak for its label; the budget when it is near enough to show */
	top = peak ? fmax(peak * 1.1, peak / (1 - (lh + 16) / plot_h)) : 1024 * 1024;
	c->budget_shown = budget && budget <= 1.5 * peak;
	if (c->budget_shown)
		top = fmax(top, budget * 1.08);
	px = x_of(c, run_rel_s(c->run, r->peak.ts));
	c->label_x = px + 12 + lw <= PLOT_RIGHT ? px + 12 : fmax(PLOT_LEFT + 4, px - 12 - lw);

	fprintf(c->f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		      "viewBox=\"0 0 %d %d\" font-family=\"%s\">\n<title>bmtrace: ",
		WIDTH, c->height, WIDTH, c->height, FONT);
	put_argv(c->f, c->run->argv, 80);
	fprintf(c->f, "</title>\n<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n");
	header(c);
	y_axis(c, top);
	x_axis(c);
	if (n) {
		for (k = 0; k < r->n_stages; k++)
			stage_area(c, k);
		total_line(c, true, "stroke=\"#222\" stroke-width=\"1\" stroke-dasharray=\"3 2\"");
		total_line(c, false, "stroke=\"#222\" stroke-width=\"1.5\"");
	} else {
		fprintf(c->f, "<text x=\"%d\" y=\"%d\" font-size=\"13\" fill=\"#666\" "
			      "text-anchor=\"middle\">no memory was recorded</text>\n",
			(PLOT_LEFT + PLOT_RIGHT) / 2, (PLOT_TOP + PLOT_BOTTOM) / 2);
	}
	budget_line(c);
	legend(c);
	if (r->peak.bytes)
		peak_label(c, title, lw, lh);
	fprintf(c->f, "</svg>\n");
	return ferror(c->f) ? -EIO : 0;
}

static int write_svg(FILE *f, void *ctx)
{
	struct chart *c = ctx;

	c->f = f;
	return draw(c);
}

int report_svg(const char *path, const struct bmt_run *run, const struct bmt_result *r,
	       const struct timeline *tl)
{
	struct chart c = { .run = run, .r = r };
	int err;

	/* about one row per pixel of the plot's width */
	c.tl = timeline__coarsen(tl, PLOT_RIGHT - PLOT_LEFT);
	c.col = calloc(r->n_stages + 1, sizeof(*c.col));
	if (!c.tl || !c.col) {
		err = -ENOMEM;
		goto out;
	}
	timeline__stage_columns(c.tl, r, c.col);
	err = legend_order(&c);
	if (!err)
		err = util_write_atomic(path, write_svg, &c);
out:
	free(c.col);
	free(c.slot);
	free(c.at_slot);
	timeline__free((struct timeline *)c.tl);
	return err;
}
