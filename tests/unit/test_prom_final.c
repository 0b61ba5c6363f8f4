// modules: prom deaths collector hooks mm result names sizing tally record table stages escape util
// SPDX-License-Identifier: MIT
/* prom: final pages from a run's result, live pages from the collector's view, textfiles. */
#define _GNU_SOURCE
#include "prom_fixture.h"

static void test_fill_from_result(void **state)
{
	struct bmt_stage_result stages[2] = { { "make", 10, 300 * MiB, 5, 3, 1 * MiB },
					      { "cc", 20, 200 * MiB, 6, 9, 2 * MiB } };
	struct bmt_command_result cmds[2] = {
		{ .name = "cc1", .bytes_at_peak = 150 * MiB, .bytes_now = 5 * MiB },
		{ .name = "make", .bytes_at_peak = 2 * MiB }
	};
	struct bmt_alive_proc alive[1] = { { 77, "daemon" } };
	struct bmt_result r = {
		.peak = { .bytes = 400 * MiB },
		.stages = stages,
		.n_stages = 2,
		.commands = cmds,
		.n_commands = 2,
		.alive = alive,
		.n_alive = 1,
		.processes_total = 12,
		.events = 999,
		.tree_bytes_now = 3 * MiB,
		.anon_bytes_now = 3 * MiB / 2,
	};
	struct bmt_run run = { .stats = { .events = 1000, .lost = 4 } };
	struct prom_label label = { "tree", "t" };
	struct prom_snapshot s = { .labels = &label, .n_labels = 1, .top_commands = 7 };
	char *out;

	assert_int_equal(prom_snapshot_fill(&s, &r, &run), 0);
	assert_int_equal(s.tree_peak_bytes, 400 * MiB);
	assert_int_equal(s.tree_bytes, 3 * MiB);
	assert_int_equal(s.anon_bytes, 3 * MiB / 2);
	assert_int_equal(s.processes, 1);
	assert_int_equal(s.processes_started, 12);
	assert_int_equal(s.events, 1000);
	assert_int_equal(s.lost_events, 4);
	assert_int_equal(s.n_stages, 2);
	assert_string_equal(s.stages[1].name, "cc");
	assert_int_equal(s.stages[1].bytes, 2 * MiB);
	assert_int_equal(s.stages[1].peak_bytes, 200 * MiB);
	assert_int_equal(s.n_commands, 2);
	assert_string_equal(s.commands[0].name, "cc1");
	assert_int_equal(s.commands[0].bytes, 5 * MiB);
	assert_int_equal(s.n_labels, 1);
	assert_int_equal(s.top_commands, 7);
	out = render(&s, 1);
	check_structure(out, "");
	assert_line(out, "bmtrace_stage_rss_peak_bytes{tree=\"t\",stage=\"make\"} 314572800");
	free(out);
	prom_snapshot_clear(&s);
	assert_null(s.stages);
}


/*
 * A final page: the peaks, anon peak, duration, exit code, each command's own peak (largest
 * first, no "other"); no series whose only news is a zero, no family without a sample.
 */
static void test_final_page(void **state)
{
	static const char *const gone[] = { "bmtrace_tree_rss_bytes", "bmtrace_tree_anon_bytes",
					    "bmtrace_processes ", "bmtrace_processes{",
					    "bmtrace_stage_rss_bytes", "bmtrace_command_rss_bytes",
					    "stage=\"link\"", "command=\"other\"",
					    "command=\"ld\"" };
	struct fixture *fx = *state;
	char *out;

	make_final(fx);
	fx->s.top_commands = 2;
	out = render(&fx->s, 1);
	assert_int_equal(check_page(out, "bmtrace_command_rss_peak_bytes", final_families,
				    N_FINAL), 2);
	assert_line(out, "bmtrace_tree_rss_peak_bytes 4556062720");
	assert_line(out, "bmtrace_tree_anon_peak_bytes 4194304000");
	assert_line(out, "bmtrace_duration_seconds 35.250");
	assert_line(out, "bmtrace_exit_code 0");
	assert_line(out, "bmtrace_lost_events_total 3");
	assert_line(out, "# TYPE bmtrace_command_rss_peak_bytes gauge\n"
			 "bmtrace_command_rss_peak_bytes{command=\"clang\"} 2936012800\n"
			 "bmtrace_command_rss_peak_bytes{command=\"skc\"} 838860800");
	assert_line(out, "bmtrace_stage_rss_peak_bytes{stage=\"compile\"} 4613734400");
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		if (strstr(out, gone[i]))
			fail_msg("%s in a final page:\n%s", gone[i], out);
	free(out);

	/* all commands (bound 10): the one that never held memory is left out all the same */
	fx->s.top_commands = 0;
	fx->s.exit_code = -1; /* -p: unknown */
	out = render(&fx->s, 1);
	assert_int_equal(check_page(out, "bmtrace_command_rss_peak_bytes", final_families,
				    N_FINAL), 3);
	assert_null(strstr(out, "command=\"ld\""));
	assert_null(strstr(out, "bmtrace_exit_code"));
	free(out);
}

/* Something left running at the end (no --wait-all): its "now" values are news. */
static void test_final_page_left_running(void **state)
{
	struct fixture *fx = *state;
	char *out;

	make_final(fx);
	fx->s.tree_bytes = fx->s.anon_bytes = 3 * MiB;
	fx->s.processes = 1;
	fx->commands[1].bytes = 3 * MiB;
	fx->stages[0].bytes = 3 * MiB;
	fx->s.exit_code = 137;
	out = render(&fx->s, 1);
	check_page(out, "", final_families, N_FINAL);
	assert_line(out, "bmtrace_tree_rss_bytes 3145728");
	assert_line(out, "bmtrace_processes 1");
	assert_int_equal(check_page(out, "bmtrace_command_rss_bytes", final_families, N_FINAL), 1);
	assert_line(out, "bmtrace_command_rss_bytes{command=\"skc\"} 3145728");
	assert_int_equal(check_page(out, "bmtrace_stage_rss_bytes", final_families, N_FINAL), 1);
	assert_line(out, "bmtrace_stage_rss_bytes{stage=\"compile\"} 3145728");
	assert_line(out, "bmtrace_exit_code 137");
	free(out);
}

/*
 * A traced run's page: its labels on every series, bmtrace_build_info and the last success
 * included, so two runs' pages share none; only a page of one tree can be one.
 */
static void test_run_page(void **state)
{
	struct fixture *fx = *state;
	struct prom_label labels[2] = { { "job", "nightly" }, { "run", "a\"b" } };
	struct prom_snapshot two[2];
	char *a, *b;

	fx->s.labels = labels;
	fx->s.n_labels = 2;
	fx->s.run_page = true;
	fx->s.last_success_time = 1700000000.5;
	a = render(&fx->s, 1);
	check_structure(a, "");
	for (const char *l = a; *l; l = strchr(l, '\n') + 1)
		if (*l != '#' && !strstr(l, "{job=\"nightly\",run=\"a\\\"b\""))
			fail_msg("a series without the run's labels: %.*s",
				 (int)(strchr(l, '\n') - l), l);
	assert_line(a, "bmtrace_build_info{job=\"nightly\",run=\"a\\\"b\",version=\"" BMT_VERSION
		       "\"} 1");
	labels[1].value = "b";
	b = render(&fx->s, 1);
	for (const char *l = b; *l; l = strchr(l, '\n') + 1) {
		size_t len = series_len(l) + 1;

		if (*l != '#' && memmem(a, strlen(a), l, len))
			fail_msg("a series of both runs: %.*s", (int)len, l);
	}
	free(a);
	free(b);
	two[0] = two[1] = fx->s;
	assert_int_equal(prom_render(stdout, two, 2), -EINVAL);
	fx->s.run_page = false; /* serve's trees: build_info is the exporter's, unlabelled */
	a = render(&fx->s, 1);
	assert_line(a, "bmtrace_build_info{version=\"" BMT_VERSION "\"} 1");
	free(a);
}

/* A whole file, malloc'd and NUL-terminated. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t size = 0;

	assert_non_null(f);
	assert_int_not_equal(getdelim(&buf, &size, '\0', f), -1);
	fclose(f);
	return buf;
}

/*
 * Two runs' textfiles in one directory: each series carries run="NAME" of its file (or the
 * run's own --label run=...); none is in both files. "-" (stdout) has no file name.
 */
static void test_textfiles_coexist(void **state)
{
	struct fixture *fx = *state;
	struct prom_label own = { PROM_RUN_LABEL, "mine" };
	char dir[] = "/tmp/bmt-test-prom-XXXXXX", pa[64], pb[64], *a, *b;

	assert_non_null(mkdtemp(dir));
	snprintf(pa, sizeof(pa), "%s/a.prom", dir);
	snprintf(pb, sizeof(pb), "%s/build.b.prom", dir);
	make_final(fx);
	fx->s.run_page = true;
	assert_int_equal(prom_write_file(pa, &fx->s), 0);
	assert_int_equal(prom_write_file(pb, &fx->s), 0);
	a = slurp(pa);
	b = slurp(pb);
	assert_non_null(a);
	assert_non_null(b);
	assert_line(a, "bmtrace_tree_rss_peak_bytes{run=\"a\"} 4556062720");
	assert_line(b, "bmtrace_tree_rss_peak_bytes{run=\"build.b\"} 4556062720");
	assert_line(b, "bmtrace_build_info{run=\"build.b\",version=\"" BMT_VERSION "\"} 1");
	for (const char *l = b; *l; l = strchr(l, '\n') + 1)
		if (*l != '#' && memmem(a, strlen(a), l, series_len(l) + 1))
			fail_msg("a series of both files: %.*s", (int)series_len(l), l);
	free(a);
	free(b);
	fx->s.labels = &own;
	fx->s.n_labels = 1;
	assert_int_equal(prom_write_file(pa, &fx->s), 0);
	a = slurp(pa);
	assert_line(a, "bmtrace_tree_rss_peak_bytes{run=\"mine\"} 4556062720");
	assert_null(strstr(a, "run=\"a\""));
	free(a);
	assert_int_equal(unlink(pa), 0);
	assert_int_equal(unlink(pb), 0);
	assert_int_equal(rmdir(dir), 0);
}

static void test_final_from_result(void **state)
{
	struct bmt_command_result cmds[2] = {
		{ .name = "cc1", .peak_bytes = 150 * MiB },
		{ .name = "make", .peak_bytes = 2 * MiB, .bytes_now = MiB },
	};
	struct bmt_result r = { .peak = { .bytes = 400 * MiB }, .anon_peak = { .bytes = 300 * MiB },
				.commands = cmds, .n_commands = 2 };
	struct bmt_run run = { .start_ts = 1000000000ull, .end_ts = 3500000000ull,
			       .exit_code = -1, .signal = 9 };
	struct prom_snapshot s = { .top_commands = 7 };

	assert_int_equal(prom_snapshot_final(&s, &r, &run), 0);
	assert_true(s.final);
	assert_int_equal(s.anon_peak_bytes, 300 * MiB);
	assert_true(s.duration_s == 2.5);
	assert_int_equal(s.exit_code, 128 + 9);
	assert_int_equal(s.n_commands, 2);
	assert_int_equal(s.commands[0].peak_bytes, 150 * MiB);
	assert_int_equal(s.commands[1].peak_bytes, 2 * MiB);
	assert_int_equal(s.commands[1].bytes, MiB);
	assert_int_equal(s.top_commands, 7);
	prom_snapshot_clear(&s);
	run.signal = 0;
	run.exit_code = 3;
	assert_int_equal(prom_snapshot_final(&s, &r, &run), 0);
	assert_int_equal(s.exit_code, 3);
	prom_snapshot_clear(&s);
}

/* The page of c now: rendered from the live view and from the result, which must agree. */
static char *page_now(struct collector *c, const struct bmt_run *run)
{
	struct prom_snapshot live = { .top_commands = 2 }, final = { .top_commands = 2 };
	struct bmt_now now;
	char *a, *b;

	collector__now(c, &now);
	assert_int_equal(prom_snapshot_now(&live, &now, run), 0);
	assert_int_equal(prom_snapshot_fill(&final, collector__result(c), run), 0);
	a = render(&live, 1);
	b = render(&final, 1);
	assert_string_equal(a, b);
	check_structure(a, "");
	free(b);
	prom_snapshot_clear(&live);
	prom_snapshot_clear(&final);
	return a;
}

/* While tracing, /metrics is rendered from the live view: the same page as from the result. */
static void test_live_page_equals_final(void **state)
{
	struct stages *st = stages__new();
	struct bmt_run run = { .stats = { .events = 7, .lost = 1 } };
	struct collector *c;
	struct feeder f;
	char err[128], *page;

	assert_int_equal(stages__add(st, "compile=^cc ", err, sizeof(err)), 0);
	c = collector__new(st);
	assert_non_null(c);
	feeder_init(&f, c);
	free(page_now(c, &run)); /* nothing traced yet */
	feed_add_root(&f, 100, ARGV("make", "-j2"));
	feed_rss(&f, 1, BMT_ANON, 1 * MiB);
	feed_mm(&f, 100, 1);
	feed_exec(&f, 100, 1, "/usr/bin/make", ARGV("make", "-j2"));
	feed_rss(&f, 1, BMT_ANON, 30 * MiB);
	free(page_now(c, &run));
	for (uint32_t i = 0; i < 3; i++) { /* three compilers, one at a time */
		feed_rss(&f, 10 + i, BMT_ANON, 1 * MiB);
		feed_vfork(&f, 100, 101 + i, 1, "make");
		feed_mm(&f, 101 + i, 10 + i);
		feed_exec(&f, 101 + i, 10 + i, "/usr/bin/cc", ARGV("cc", "-c", "x.c"));
		feed_rss(&f, 10 + i, BMT_ANON, (100 + 10 * i) * MiB);
		free(page_now(c, &run));
		feed_exit(&f, 101 + i);
		feed_rss(&f, 10 + i, BMT_ANON, 0);
	}
	feed_rss(&f, 20, BMT_ANON, 1 * MiB);
	feed_vfork(&f, 100, 110, 1, "make");
	feed_mm(&f, 110, 20);
	feed_exec(&f, 110, 20, "/usr/bin/ld", ARGV("ld", "-o", "x"));
	feed_rss(&f, 20, BMT_FILE, 5 * MiB);
	page = page_now(c, &run);
	assert_line(page, "bmtrace_tree_rss_bytes 37748736"); /* make 30 + ld 1 + 5 MiB */
	assert_line(page, "bmtrace_tree_rss_peak_bytes 157286400"); /* 30 + 120 MiB */
	assert_line(page, "bmtrace_processes 2");
	assert_line(page, "bmtrace_processes_started_total 5");
	assert_line(page, "bmtrace_events_total 7");
	assert_line(page, "bmtrace_stage_rss_bytes{stage=\"make\"} 37748736");
	assert_line(page, "bmtrace_stage_rss_bytes{stage=\"compile\"} 0");
	assert_line(page, "bmtrace_stage_rss_peak_bytes{stage=\"compile\"} 125829120");
	assert_line(page, "bmtrace_command_rss_bytes{command=\"make\"} 31457280");
	assert_line(page, "bmtrace_command_rss_bytes{command=\"ld\"} 6291456");
	assert_line(page, "bmtrace_command_rss_bytes{command=\"other\"} 0");
	free(page);
	collector__free(c);
	stages__free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_fill_from_result),
		T(test_final_page),
		T(test_final_page_left_running),
		T(test_run_page),
		T(test_textfiles_coexist),
		T(test_final_from_result),
		T(test_live_page_equals_final),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
