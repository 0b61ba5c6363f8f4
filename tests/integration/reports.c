// SPDX-License-Identifier: MIT
/*
 * Integration tests of the reports for people and CI (--timeline, --svg, --markdown, the
 * budget gate, bmtrace diff) on recorded traces, which need no root:
 *
 * - golden files: tests/fixtures/stages.bmt (recorded with `bmtrace -w stages.bmt --stage
 *   compile='^\./cc1 ' --stage link='^\./ld ' -- sh -c './cc1 hold 24 & ./cc1 hold 16 &
 *   ./cc1 hold 8 & wait; ./ld forkexec 32 8'`, cc1 and ld being links to memhog) replays to
 *   stages.{txt,json,csv,svg,md} byte for byte (the JSON but its bmtrace_version). After a
 *   deliberate change of a report, `make fixtures` rewrites them: review the diff;
 * - replaying twice gives identical bytes; the CSV's largest row is the JSON's peak;
 * - the SVG is well-formed and labels the peak, and (with Chromium) renders right;
 * - bmtrace diff of two recorded runs; the gate's exit codes.
 *
 * With root, the gate and the timeline on a live run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <zlib.h>
#include "../unit/xmlcheck.h"
#include "harness.h"
#include "png.h"
#include "reports.h"

#define EXIT_BUDGET 98 /* bmtrace's documented code for a failed memory gate */
#define EXIT_BMTRACE 125
#define GOLDEN_BUDGET "64M" /* the golden replay's --budget: its lines are in every report */

#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* The outputs of one replay: extension and the option that writes it. */
static const struct output {
	const char *ext, *opt;
} outputs[] = {
	{ "txt", "-o" },     { "json", "--json" }, { "csv", "--timeline" },
	{ "svg", "--svg" }, { "md", "--markdown" }, { "csv.gz", "--timeline" },
};
#define N_OUTPUTS (sizeof(outputs) / sizeof(outputs[0]))
#define GOLDEN_OUTPUTS 5 /* all but the .csv.gz (a second replay), whose bytes are zlib's */

static char *path_of(const char *dir, const char *base, const char *ext)
{
	char *p;

	if (asprintf(&p, "%s/%s%s%s", dir, base, ext ? "." : "", ext ? ext : "") < 0)
		abort();
	return p;
}

/* Run bmtrace with argv (NULL-ended, without argv[0]); fail unless it exits want. */
static void run_bmtrace(struct itest_ctx *ctx, const char *const args[], int want)
{
	const char *argv[32] = { itest.bmtrace };
	int i, rc;

	for (i = 0; args[i]; i++)
		argv[i + 1] = args[i];
	rc = itest_run(ctx, argv, NULL);
	if (rc != want) {
		itest_dump_err(ctx, "bmtrace");
		fail_msg("bmtrace exited %d, want %d", rc, want);
	}
}

/* Replay trace with extra options (NULL-ended) into dir/base.EXT, outputs[from..to). */
static void replay_some(struct itest_ctx *ctx, const char *trace, const char *dir,
			const char *base, const char *const extra[], size_t from, size_t to,
			int want)
{
	const char *args[32] = { "report", trace };
	char *paths[N_OUTPUTS];
	size_t i, n = 2;

	for (i = from; i < to; i++) {
		paths[i] = path_of(dir, base, outputs[i].ext);
		args[n++] = outputs[i].opt;
		args[n++] = paths[i];
	}
	for (i = 0; extra && extra[i]; i++)
		args[n++] = extra[i];
	args[n] = NULL;
	run_bmtrace(ctx, args, want);
	for (i = from; i < to; i++)
		free(paths[i]);
}

/* Every output: the golden ones in one replay, the .csv.gz in another. */
static void replay(struct itest_ctx *ctx, const char *trace, const char *dir, const char *base,
		   const char *const extra[], int want)
{
	replay_some(ctx, trace, dir, base, extra, 0, GOLDEN_OUTPUTS, want);
	replay_some(ctx, trace, dir, base, extra, GOLDEN_OUTPUTS, N_OUTPUTS, want);
}

static char *fixture(const char *name, const char *ext)
{
	return path_of(itest.fixtures, name, ext);
}

static char *slurp_or_fail(const char *path, size_t *len)
{
	char *s = itest_slurp(path, len);

	if (!s)
		fail_msg("cannot read %s", path);
	return s;
}

/* The JSON without its bmtrace_version line: what a golden file is compared on. */
static void drop_version(char *json)
{
	char *v = strstr(json, "\t\"bmtrace_version\":"), *end = v ? strchr(v, '\n') : NULL;

	if (end)
		memmove(v, end + 1, strlen(end + 1) + 1);
}

/* Fail at the first line where two files differ, showing both. */
static void expect_same_file(const char *want_path, const char *got_path, bool json)
{
	char *want = slurp_or_fail(want_path, NULL), *got = slurp_or_fail(got_path, NULL);
	const char *w = want, *g = got;
	int line = 1;

	if (json) {
		drop_version(want);
		drop_version(got);
	}
	while (*w && *w == *g) {
		line += *w == '\n';
		w++;
		g++;
	}
	if (*w || *g) {
		while (w > want && w[-1] != '\n')
			w--, g--;
		fail_msg("%s differs from %s at line %d:\n  want: %.*s\n  got:  %.*s\n"
			 "(after a deliberate change of a report, `make fixtures` rewrites the "
			 "golden files: review their diff)", got_path, want_path, line,
			 (int)strcspn(w, "\n"), w, (int)strcspn(g, "\n"), g);
	}
	free(want);
	free(got);
}

/* ---- golden files ---- */

static void test_golden_reports(void **state)
{
	struct itest_ctx *ctx = *state;
	char *trace = fixture("stages", "bmt");

	replay(ctx, trace, ctx->dir, "stages", ARGV("--budget", GOLDEN_BUDGET), 0);
	for (size_t i = 0; i < GOLDEN_OUTPUTS; i++) {
		char *want = fixture("stages", outputs[i].ext);
		char *got = path_of(ctx->dir, "stages", outputs[i].ext);

		fprintf(stderr, "  %s\n", want);
		expect_same_file(want, got, !strcmp(outputs[i].ext, "json"));
		free(want);
		free(got);
	}
	free(trace);
}

/*
 * `make fixtures`: write the golden files from the traces instead of comparing: the replay
 * of test_golden_reports, and forkexec.json (itest.c's test_fixture_report). 0 or 1.
 */
int reports_update_golden(void)
{
	struct itest_ctx ctx = { 0 };
	char *stages = fixture("stages", "bmt"), *fe = fixture("forkexec", "bmt");
	char *fe_json = fixture("forkexec", "json"), *out[GOLDEN_OUTPUTS];
	const char *args[32] = { itest.bmtrace, "report", stages, "--budget", GOLDEN_BUDGET };
	size_t i, n = 5;
	int rc;

	snprintf(ctx.dir, sizeof(ctx.dir), "/tmp/bmtrace-golden.XXXXXX");
	if (!mkdtemp(ctx.dir))
		return 1;
	snprintf(ctx.out, sizeof(ctx.out), "%s/stdout", ctx.dir);
	snprintf(ctx.err, sizeof(ctx.err), "%s/stderr", ctx.dir);
	for (i = 0; i < GOLDEN_OUTPUTS; i++) {
		out[i] = fixture("stages", outputs[i].ext);
		args[n++] = outputs[i].opt;
		args[n++] = out[i];
	}
	args[n] = NULL;
	rc = itest_run(&ctx, args, NULL);
	rc |= itest_run(&ctx, ARGV(itest.bmtrace, "report", fe, "--json", fe_json), NULL);
	if (rc)
		itest_dump_err(&ctx, "bmtrace report");
	for (i = 0; i < GOLDEN_OUTPUTS; i++) {
		printf("  %s %s\n", rc ? "failed" : "wrote", out[i]);
		free(out[i]);
	}
	printf("  %s %s\n", rc ? "failed" : "wrote", fe_json);
	unlink(ctx.out);
	unlink(ctx.err);
	rmdir(ctx.dir);
	free(stages);
	free(fe);
	free(fe_json);
	return rc ? 1 : 0;
}

/* ---- determinism ---- */

static void test_replay_twice_identical(void **state)
{
	struct itest_ctx *ctx = *state;
	char *trace = fixture("stages", "bmt");

	replay(ctx, trace, ctx->dir, "one", ARGV("--max-peak", "1G"), 0);
	replay(ctx, trace, ctx->dir, "two", ARGV("--max-peak", "1G"), 0);
	for (size_t i = 0; i < N_OUTPUTS; i++) {
		char *a = path_of(ctx->dir, "one", outputs[i].ext);
		char *b = path_of(ctx->dir, "two", outputs[i].ext);

		expect_same_file(a, b, false);
		free(a);
		free(b);
	}
	free(trace);
}

/* ---- the CSV's peak is the JSON's ---- */

/* The value of a JSON field as the text bmtrace printed (an exact integer), or fail. */
static const char *json_int(const cJSON *j, const char *path, char *buf, size_t len)
{
	double v = itest_jnum(j, path);

	snprintf(buf, len, "%.0f", v);
	return buf;
}

struct csv_peak {
	char tree[32], anon[32], time[32];
	char stages[16][32];
	size_t n_stages, rows;
	char header[512];
};

/*
 * Read a timeline CSV: the row with the largest tree_bytes (the first of equals), checking
 * that rows go forward in time and that the stage columns add up to the tree column.
 */
static void csv_peak(const char *path, struct csv_peak *p)
{
	char *csv = slurp_or_fail(path, NULL), *line, *save = NULL;
	double prev_t = -1;
	uint64_t best = 0;
	bool first = true;

	memset(p, 0, sizeof(*p));
	for (line = strtok_r(csv, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *f[20] = { 0 }, *s = line, *save_f = NULL;
		uint64_t tree, sum = 0;
		size_t n = 0;

		if (first) {
			snprintf(p->header, sizeof(p->header), "%s", line);
			first = false;
			continue;
		}
		for (char *t = strtok_r(s, ",", &save_f); t && n < 20;
		     t = strtok_r(NULL, ",", &save_f))
			f[n++] = t;
		assert_true(n >= 4);
		assert_true(atof(f[0]) >= prev_t);
		prev_t = atof(f[0]);
		tree = strtoull(f[1], NULL, 10);
		for (size_t k = 3; k < n; k++)
			sum += strtoull(f[k], NULL, 10);
		if (sum != tree)
			fail_msg("%s row %zu: stages add up to %" PRIu64 ", tree_bytes is %" PRIu64,
				 path, p->rows + 1, sum, tree);
		p->rows++;
		if (tree <= best && p->rows > 1)
			continue;
		best = tree;
		snprintf(p->time, sizeof(p->time), "%s", f[0]);
		snprintf(p->tree, sizeof(p->tree), "%s", f[1]);
		snprintf(p->anon, sizeof(p->anon), "%s", f[2]);
		p->n_stages = n - 3;
		for (size_t k = 3; k < n && k - 3 < 16; k++)
			snprintf(p->stages[k - 3], sizeof(p->stages[0]), "%s", f[k]);
	}
	free(csv);
}

/* The CSV's largest row is the JSON's peak: bytes, time, anon, each stage's bytes at it. */
static void expect_csv_peak_is_json_peak(const char *csv_path, const char *json_path)
{
	cJSON *j = itest_load_json(json_path);
	const cJSON *stages, *s;
	struct csv_peak p;
	char want[32];
	size_t k = 0;

	assert_non_null(j);
	csv_peak(csv_path, &p);
	fprintf(stderr, "  %s: %zu rows, largest %s B at %s s; JSON peak %s B at %.9f s\n",
		csv_path, p.rows, p.tree, p.time, json_int(j, "peak.bytes", want, sizeof(want)),
		itest_jnum(j, "peak.time_s"));
	assert_true(p.rows > 10);
	assert_string_equal(p.tree, json_int(j, "peak.bytes", want, sizeof(want)));
	assert_true(fabs(atof(p.time) - itest_jnum(j, "peak.time_s")) < 1e-9);
	assert_string_equal(p.anon, json_int(j, "peak.anon_bytes", want, sizeof(want)));
	stages = itest_jget(j, "stages");
	assert_int_equal(p.n_stages, cJSON_GetArraySize(stages));
	cJSON_ArrayForEach(s, stages) {
		assert_string_equal(p.stages[k++],
				    json_int(s, "bytes_at_peak", want, sizeof(want)));
		assert_non_null(strstr(p.header, itest_jget(s, "name")->valuestring));
	}
	cJSON_Delete(j);
}

static void test_csv_peak_is_json_peak(void **state)
{
	struct itest_ctx *ctx = *state;
	static const char *const traces[] = { "stages", "forkexec" };

	for (size_t i = 0; i < 2; i++) {
		char *trace = fixture(traces[i], "bmt"), *csv = path_of(ctx->dir, traces[i], "csv");
		char *gz = path_of(ctx->dir, traces[i], "csv.gz");
		char *json = path_of(ctx->dir, traces[i], "json"), *plain, *unzipped;
		char buf[1 << 16];
		gzFile f;
		int n;
		size_t len, off = 0;

		run_bmtrace(ctx, ARGV("report", trace, "-q", "--timeline", csv, "--json", json), 0);
		run_bmtrace(ctx, ARGV("report", trace, "-q", "--timeline", gz), 0);
		expect_csv_peak_is_json_peak(csv, json);
		/* .gz: the same text, compressed */
		plain = slurp_or_fail(csv, &len);
		unzipped = calloc(1, len + 1);
		f = gzopen(gz, "rb");
		assert_non_null(f);
		assert_non_null(unzipped);
		while ((n = gzread(f, buf, sizeof(buf))) > 0 && off + (size_t)n <= len) {
			memcpy(unzipped + off, buf, (size_t)n);
			off += (size_t)n;
		}
		assert_int_equal(gzclose(f), Z_OK);
		assert_int_equal(off, len);
		assert_string_equal(unzipped, plain);
		free(plain);
		free(unzipped);
		free(trace);
		free(csv);
		free(gz);
		free(json);
	}
}

/* ---- the SVG ---- */

static void test_svg_well_formed_with_peak_label(void **state)
{
	char *path = fixture("stages", "svg"), *svg = slurp_or_fail(path, NULL);
	struct xml_check x;

	if (!xml_check(svg, &x))
		fail_msg("%s is not well-formed XML: %s", path, x.err);
	fprintf(stderr, "  %s: %zu elements\n", path, x.elements);
	/* tests/fixtures/stages.txt: "peak tree RSS    53.3 MiB at 0.110 s" */
	assert_non_null(strstr(x.text, "\npeak 53.3 MiB at 0.110 s\n"));
	assert_non_null(strstr(x.text, "\ncc1 25.2 MiB · pid 739\n"));
	assert_non_null(strstr(x.text, "\ncc1 17.3 MiB · pid 740\n"));
	assert_non_null(strstr(x.text, "\ncc1 9.27 MiB · pid 741\n"));
	assert_non_null(strstr(x.text, "\n+ 1 more process\n"));
	assert_non_null(strstr(x.text, "\nbudget 64.0 MiB\n"));
	free(x.text);
	free(svg);
	free(path);
}

/* The first executable among Chromium's usual names in PATH, or NULL. */
static char *find_chromium(void)
{
	static const char *const names[] = { "chromium", "chromium-browser", "google-chrome" };
	const char *env = getenv("PATH");
	char *path = strdup(env ? env : "/usr/bin:/bin"), *dir, *save = NULL, *found = NULL;

	for (dir = strtok_r(path, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save))
		for (size_t i = 0; i < 3 && !found; i++) {
			char *p = path_of(dir, names[i], NULL);

			if (!access(p, X_OK))
				found = p;
			else
				free(p);
		}
	free(path);
	return found;
}

/* "name="NUMBER"" after from in s: the number, or fail. */
static double attr_num(const char *s, const char *name)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof(key), " %s=\"", name);
	p = strstr(s, key);
	if (!p)
		fail_msg("no %s attribute", name);
	return atof(p + strlen(key));
}

/* The first tag named like `open` ("<rect") that has attr (" rx="), or fail. */
static const char *tag_with(const char *svg, const char *open, const char *attr)
{
	for (const char *p = strstr(svg, open); p; p = strstr(p + 1, open)) {
		const char *end = strchr(p, '>'), *a = strstr(p, attr);

		if (a && end && a < end)
			return p;
	}
	fail_msg("no %s ...%s...> in the SVG", open, attr);
	return NULL;
}

/* A colour drawn with fill-opacity 0.85 on white, as a screen shows it. */
static uint32_t on_white(uint32_t rgb, double opacity)
{
	uint32_t out = 0;

	for (int shift = 16; shift >= 0; shift -= 8) {
		double c = (double)(rgb >> shift & 0xff) * opacity + 255 * (1 - opacity);

		out |= (uint32_t)lround(c) << shift;
	}
	return out;
}

static bool is_peak_red(uint32_t px)
{
	return px != 0xffffffff && (px >> 16) > 150 && (px >> 8 & 0xff) < 110 && (px & 0xff) < 100;
}

/*
 * svg_path rendered by headless Chromium at its own size into *img (skips the test without
 * Chromium); returns the SVG's text.
 */
static char *screenshot(struct itest_ctx *ctx, const char *svg_path, struct png *img)
{
	char *chromium = find_chromium(), *svg, *url;
	const char *png_path = itest_path(ctx, "chart.png");
	char shot[PATH_MAX + 32], size[32], profile[PATH_MAX + 16], err[256];

	if (!chromium) {
		printf("SKIP: no chromium in PATH (make test-deps): %s not rendered\n", svg_path);
		skip();
	}
	svg = slurp_or_fail(svg_path, NULL);
	snprintf(shot, sizeof(shot), "--screenshot=%s", png_path);
	snprintf(size, sizeof(size), "--window-size=%d,%d", (int)attr_num(svg, "width"),
		 (int)attr_num(svg, "height"));
	snprintf(profile, sizeof(profile), "--user-data-dir=%s", itest_path(ctx, "profile"));
	if (asprintf(&url, "file://%s", svg_path) < 0)
		abort();
	if (itest_run(ctx, ARGV(chromium, "--headless", "--no-sandbox", "--disable-gpu",
				"--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update",
				"--disable-sync", profile, shot, size, url), NULL) != 0) {
		itest_dump_err(ctx, "chromium");
		fail_msg("chromium could not render %s", svg_path);
	}
	if (png_load(png_path, img, err, sizeof(err)))
		fail_msg("%s", err);
	assert_int_equal(img->width, (uint32_t)attr_num(svg, "width"));
	assert_int_equal(img->height, (uint32_t)attr_num(svg, "height"));
	free(url);
	free(chromium);
	return svg;
}

/*
 * The legend's swatches (14 x 14 squares, one per stage, in its order): their colours as a
 * screen shows them (opacity 0.85 on white), at most max; *legend_x the leftmost's x.
 */
static size_t swatches(const char *svg, uint32_t *colours, size_t max, double *legend_x)
{
	const char *p = strstr(svg, ">stages</text>");
	size_t n = 0;

	assert_non_null(p);
	*legend_x = 1e9;
	while ((p = strstr(p, "<rect x=\"")) && n < max) {
		const char *fill = strstr(p, "fill=\"#"), *end = strchr(p, '>');
		const char *w = strstr(p, " width=\"14\" ");

		if (w && w < end) {
			*legend_x = fmin(*legend_x, attr_num(p, "x"));
			colours[n++] = on_white((uint32_t)strtoul(fill + 7, NULL, 16), 0.85);
		}
		p++;
	}
	return n;
}

/*
 * Render the golden SVG in headless Chromium and look at it: every stage's area is on the
 * plot in its legend's colour, nothing of them rises above the peak marker, the marker is
 * drawn where the data peaks, and its label box holds the red title.
 */
static void test_svg_screenshot(void **state)
{
	struct itest_ctx *ctx = *state;
	char *svg_path = fixture("stages", "svg"), *svg;
	const char *p;
	double cx, cy, lx, ly, lw, lh, legend_x;
	uint32_t colours[10];
	size_t n_colours = 0;
	long x, y, top = LONG_MAX, red = 0;
	struct png img;

	svg = screenshot(ctx, svg_path, &img);

	/* where things are, from the SVG: the marker, its label, the legend's swatches */
	p = tag_with(svg, "<circle", " cx=");
	cx = attr_num(p, "cx");
	cy = attr_num(p, "cy");
	p = tag_with(svg, "<rect", " rx=");
	lx = attr_num(p, "x"), ly = attr_num(p, "y"), lw = attr_num(p, "width");
	lh = attr_num(p, "height");
	n_colours = swatches(svg, colours, 10, &legend_x);
	fprintf(stderr, "  peak marker at (%.1f, %.1f), label %.0fx%.0f at (%.1f, %.1f), "
		"%zu stages, legend at x %.0f\n", cx, cy, lw, lh, lx, ly, n_colours, legend_x);
	assert_int_equal(n_colours, 3);

	/* each stage's colour covers the plot somewhere; none of them above the peak */
	for (size_t k = 0; k < n_colours; k++) {
		long count = 0;

		for (y = 0; y < (long)img.height; y++)
			for (x = 0; x < (long)legend_x - 4; x++)
				if (png_near(png_pixel(&img, x, y), colours[k], 6)) {
					count++;
					top = y < top ? y : top;
				}
		fprintf(stderr, "  stage %zu (#%06x on screen): %ld pixels\n", k, colours[k],
			count);
		if (count < 200)
			fail_msg("stage %zu's colour #%06x is on %ld pixels of the plot", k,
				 colours[k], count);
	}
	fprintf(stderr, "  highest stage pixel at y %ld, the marker at y %.1f\n", top, cy);
	assert_true(top >= (long)cy - 1 && top <= (long)cy + 6);
	/* the marker: a red ring on the data, the area right under it */
	for (y = (long)cy - 7; y <= (long)cy + 7; y++)
		for (x = (long)cx - 7; x <= (long)cx + 7; x++)
			red += is_peak_red(png_pixel(&img, x, y));
	assert_true(red >= 12);
	assert_true(png_near(png_pixel(&img, (long)cx - 2, (long)cy + 10), colours[1], 6) ||
		    png_near(png_pixel(&img, (long)cx + 2, (long)cy + 10), colours[1], 6));
	/* the label: above the data, its title in red */
	assert_true(ly + lh <= cy);
	red = 0;
	for (y = (long)ly; y < (long)(ly + lh); y++)
		for (x = (long)lx; x < (long)(lx + lw); x++)
			red += is_peak_red(png_pixel(&img, x, y));
	fprintf(stderr, "  %ld red pixels of text in the label\n", red);
	assert_true(red >= 100);
	png_free(&img);
	free(svg);
	free(svg_path);
}

/* Is a colour at least dist away from b in some channel? */
static bool distinct(uint32_t a, uint32_t b, int dist)
{
	return !png_near(a, b, dist);
}

/*
 * The chart of 13 processes in 13 stages of their own, with two rules that matched nothing
 * and a budget far above the peak (tests/fixtures/many.bmt; issue 13): rendered, each of the
 * 14 stages that held memory has its own colour in the legend (no two alike) and on the
 * plot; the two of 0 B come after them; the budget's legend text is whole, on the canvas.
 */
static void test_svg_many_stages(void **state)
{
	struct itest_ctx *ctx = *state;
	char *trace = fixture("many", "bmt"), specs[15][40], *svg;
	const char *args[24] = { "report", trace, "-q", "--max-peak", "1G", "--svg" };
	const char *svg_path = itest_path(ctx, "many.svg"), *p, *nothing;
	uint32_t colours[20];
	size_t n = 6, n_colours = 0;
	double legend_x = 1e9, last_y = 0;
	struct png img;

	args[n++] = svg_path;
	for (int i = 0; i < 15; i++) {
		if (i < 13)
			snprintf(specs[i], sizeof(specs[i]), "--stage=hog%d=hold %d$", i + 1, i + 1);
		else
			snprintf(specs[i], sizeof(specs[i]), "--stage=nothing%d=^zzz%d", i - 12, i);
		args[n++] = specs[i]; /* one argument each: run_bmtrace takes at most 31 */
	}
	args[n] = NULL;
	run_bmtrace(ctx, args, 0);
	svg = screenshot(ctx, svg_path, &img);
	/* the legend: every stage named, those of 0 B last, the budget's text whole */
	nothing = strstr(svg, ">nothing1</text>");
	assert_non_null(nothing);
	assert_true(strstr(svg, ">hog13</text>") < nothing);
	assert_true(strstr(svg, ">sh</text>") < nothing);
	assert_null(strstr(svg, "more stage"));
	assert_non_null(strstr(svg, ">--max-peak 1.00 GiB</text>"));
	p = strstr(svg, ">above the chart: the peak is ");
	assert_non_null(p);
	for (const char *t = strstr(svg, "<text "); t; t = strstr(t + 1, "<text "))
		last_y = fmax(last_y, attr_num(t, "y"));
	fprintf(stderr, "  lowest text at y %.0f of a %u px canvas\n", last_y, img.height);
	assert_true(last_y + 4 <= img.height);
	/* the swatches: a colour of its own for each stage that held memory */
	n_colours = swatches(svg, colours, 14, &legend_x);
	assert_int_equal(n_colours, 14);
	for (size_t a = 0; a < n_colours; a++) {
		long count = 0;

		for (size_t b = 0; b < a; b++)
			if (!distinct(colours[a], colours[b], 24))
				fail_msg("stages %zu and %zu look alike: #%06x, #%06x", b, a,
					 colours[b], colours[a]);
		for (long y = 0; y < (long)img.height; y++)
			for (long x = 0; x < (long)legend_x - 4; x++)
				count += png_near(png_pixel(&img, x, y), colours[a], 6);
		fprintf(stderr, "  stage %zu (#%06x on screen): %ld pixels\n", a, colours[a],
			count);
		if (count < 30)
			fail_msg("stage %zu's colour #%06x is on %ld pixels of the plot", a,
				 colours[a], count);
	}
	png_free(&img);
	free(svg);
	free(trace);
}

/*
 * A run of a few milliseconds (`true`, tests/fixtures/true.bmt): its time axis in
 * milliseconds, not ticks of 5e-05 s, and "1 process" in the chart, summary and Markdown.
 */
static void test_svg_tiny_run(void **state)
{
	struct itest_ctx *ctx = *state;
	char *trace = fixture("true", "bmt"), *svg;
	const char *svg_path = itest_path(ctx, "true.svg");
	int ticks = 0;

	run_bmtrace(ctx, ARGV("report", trace, "-q", "--svg", svg_path), 0);
	svg = slurp_or_fail(svg_path, NULL);
	assert_non_null(strstr(svg, " · 1 process · "));
	for (const char *p = strstr(svg, " ms</text>"); p; p = strstr(p + 1, " ms</text>"))
		ticks++;
	fprintf(stderr, "  %d labels in ms\n", ticks);
	assert_true(ticks >= 4);
	assert_null(strstr(svg, "e-0"));
	free(svg);
	/* the summary and the Markdown say it in the singular too */
	run_bmtrace(ctx, ARGV("report", trace, "--markdown", svg_path), 0);
	svg = slurp_or_fail(ctx->out, NULL);
	assert_non_null(strstr(svg, "exit status 0, 0.00 s, 1 process, "));
	free(svg);
	svg = slurp_or_fail(svg_path, NULL);
	assert_non_null(strstr(svg, " · 1 process · "));
	free(svg);
	free(trace);
}

/* ---- bmtrace diff of two recorded runs ---- */

/* The last line of a file, without its newline (static). */
static const char *last_line(const char *path)
{
	static char line[512];
	char *s = slurp_or_fail(path, NULL), *end = s + strlen(s), *start;

	if (end > s && end[-1] == '\n')
		*--end = '\0';
	start = strrchr(s, '\n');
	snprintf(line, sizeof(line), "%s", start ? start + 1 : s);
	free(s);
	return line;
}


static void test_diff_recorded_runs(void **state)
{
	struct itest_ctx *ctx = *state;
	char *a = fixture("forkexec", "json"), *b = fixture("stages", "json"), *out;
	const char *json = itest_path(ctx, "diff.json");
	cJSON *d, *ja, *jb;

	run_bmtrace(ctx, ARGV("diff", a, b), 0);
	out = slurp_or_fail(ctx->out, NULL);
	fprintf(stderr, "%s", out);
	assert_non_null(strstr(out, "  peak tree RSS         66.9 MiB    53.3 MiB    -13.6 MiB"));
	assert_non_null(strstr(out, "    compile                    -    51.8 MiB    +51.8 MiB"
				    "       new\n"));
	assert_non_null(strstr(out, "    memhog              66.9 MiB           -    -66.9 MiB"
				    "      gone\n"));
	free(out);

	run_bmtrace(ctx, ARGV("diff", "--json", "-o", json, a, b, "--fail-if-peak-grows", "0"), 0);
	d = itest_load_json(json);
	ja = itest_load_json(a);
	jb = itest_load_json(b);
	assert_non_null(d);
	assert_non_null(ja);
	assert_non_null(jb);
	assert_true(itest_jnum(d, "peak.before") == itest_jnum(ja, "peak.bytes"));
	assert_true(itest_jnum(d, "peak.after") == itest_jnum(jb, "peak.bytes"));
	assert_true(itest_jnum(d, "peak.change") ==
		    itest_jnum(jb, "peak.bytes") - itest_jnum(ja, "peak.bytes"));
	assert_true(itest_jnum(d, "duration_s.after") == itest_jnum(jb, "duration_s"));
	assert_int_equal(cJSON_GetArraySize(itest_jget(d, "commands")), 4);
	assert_true(cJSON_IsFalse(itest_jget(d, "peak_grew_too_much")));
	cJSON_Delete(d);
	cJSON_Delete(ja);
	cJSON_Delete(jb);

	/* the other way, the peak grew 25.5%: a limit of 5% fails, 30% does not */
	run_bmtrace(ctx, ARGV("diff", b, a, "--fail-if-peak-grows", "5"), EXIT_BUDGET);
	out = slurp_or_fail(ctx->out, NULL);
	assert_string_equal(last_line(ctx->out), "bmtrace diff: peak +25.5%, more than "
						 "--fail-if-peak-grows 5%");
	free(out);
	run_bmtrace(ctx, ARGV("diff", b, a, "--fail-if-peak-grows", "30%"), 0);

	/* not a result: 125 and one line */
	run_bmtrace(ctx, ARGV("diff", a, itest_path(ctx, "missing.json")), EXIT_BMTRACE);
	out = slurp_or_fail(ctx->err, NULL);
	assert_non_null(strstr(out, "missing.json: No such file or directory\n"));
	assert_int_equal(strchr(out, '\n') - out + 1, (long)strlen(out));
	free(out);
	free(b);
	b = fixture("stages", "md");
	run_bmtrace(ctx, ARGV("diff", b, a), EXIT_BMTRACE);
	out = slurp_or_fail(ctx->err, NULL);
	assert_non_null(strstr(out, "stages.md: not JSON"));
	free(out);
	free(a);
	free(b);
}

/* ---- the gate ---- */

static void test_gate_on_a_recording(void **state)
{
	struct itest_ctx *ctx = *state;
	char *trace = fixture("stages", "bmt");
	const char *json = itest_path(ctx, "gate.json");
	cJSON *j;

	/* the recorded command exited 0 and its peak is 53.3 MiB */
	run_bmtrace(ctx, ARGV("report", trace, "--max-peak", "50M", "--json", json), EXIT_BUDGET);
	assert_string_equal(last_line(ctx->err), "bmtrace: over budget by 3.30 MiB (6.6%): peak "
						 "53.3 MiB, --max-peak 50.0 MiB; first at 0.102 s");
	j = itest_load_json(json);
	assert_non_null(j);
	assert_true(cJSON_IsTrue(itest_jget(j, "budget.exceeded")));
	assert_true(cJSON_IsTrue(itest_jget(j, "budget.fails_run")));
	assert_int_equal(itest_jnum(j, "budget.over_by_bytes"),
			 itest_jnum(j, "peak.bytes") - 50 * 1024 * 1024);
	assert_true(itest_jnum(j, "budget.first_exceeded_time_s") <= itest_jnum(j, "peak.time_s"));
	cJSON_Delete(j);
	/* quiet: the verdict alone, still on stderr */
	run_bmtrace(ctx, ARGV("report", trace, "-q", "--max-peak", "50M"), EXIT_BUDGET);
	assert_string_equal(last_line(ctx->err), "bmtrace: over budget by 3.30 MiB (6.6%): peak "
						 "53.3 MiB, --max-peak 50.0 MiB; first at 0.102 s");
	/* within the budget; a --budget reports but never fails. A replay wraps no command:
	 * its summary goes to stdout (issue 13), `bmtrace report x.bmt > f` keeps it */
	run_bmtrace(ctx, ARGV("report", trace, "--max-peak", "60M"), 0);
	assert_string_equal(last_line(ctx->out), "  budget          60.0 MiB (--max-peak): 6.70 "
						 "MiB headroom at the peak (11.2%)");
	assert_string_equal(last_line(ctx->err), ""); /* nothing on stderr */
	run_bmtrace(ctx, ARGV("report", trace, "--budget", "50M"), 0);
	assert_non_null(strstr(last_line(ctx->out), "bmtrace: over budget by 3.30 MiB"));
	run_bmtrace(ctx, ARGV("report", trace, "--max-peak", "0"), EXIT_BMTRACE);
	free(trace);
}

/* Live, with root: the gate applies when COMMAND succeeded, and the timeline's peak is exact. */
static void test_gate_and_timeline_live(void **state)
{
	struct itest_ctx *ctx = *state;
	const char *json = itest_path(ctx, "live.json"), *csv = itest_path(ctx, "live.csv");
	const char *svg = itest_path(ctx, "live.svg"), *md = itest_path(ctx, "live.md");
	struct xml_check x;
	char *text;

	itest_need_root();
	run_bmtrace(ctx, ARGV("--max-peak", "10M", "--json", json, "--timeline", csv, "--svg", svg,
			      "--markdown", md, "--", itest.memhog, "forkexec", "40", "20"),
		    EXIT_BUDGET);
	assert_non_null(strstr(last_line(ctx->err), "bmtrace: over budget by "));
	expect_csv_peak_is_json_peak(csv, json);
	text = slurp_or_fail(svg, NULL);
	if (!xml_check(text, &x))
		fail_msg("%s is not well-formed XML: %s", svg, x.err);
	free(x.text);
	free(text);
	text = slurp_or_fail(md, NULL);
	assert_non_null(strstr(text, "**❌ Over budget**"));
	free(text);
	/* COMMAND's own failure wins over the gate */
	run_bmtrace(ctx, ARGV("--max-peak", "1K", "--", itest.memhog, "exit", "3"), 3);
	run_bmtrace(ctx, ARGV("--max-peak", "1G", "--", itest.memhog, "hold", "20"), 0);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, itest_setup, itest_teardown)

int reports_run(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_golden_reports),
		TEST(test_replay_twice_identical),
		TEST(test_csv_peak_is_json_peak),
		TEST(test_svg_well_formed_with_peak_label),
		TEST(test_svg_screenshot),
		TEST(test_svg_many_stages),
		TEST(test_svg_tiny_run),
		TEST(test_diff_recorded_runs),
		TEST(test_gate_on_a_recording),
		TEST(test_gate_and_timeline_live),
	};

	return cmocka_run_group_tests_name("reports", tests, NULL, NULL);
}
