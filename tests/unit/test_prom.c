// modules: prom deaths collector hooks mm result names sizing tally record table stages escape util
// SPDX-License-Identifier: MIT
/* prom: the text exposition format from hand-built snapshots, checked by promtool too. */
#define _GNU_SOURCE
#include "prom_fixture.h"

static void test_every_family(void **state)
{
	struct fixture *fx = *state;
	char *out = render(&fx->s, 1);

	assert_int_equal(check_structure(out, "bmtrace_stage_rss_bytes"), 2);
	assert_line(out, "bmtrace_tree_rss_bytes 948961280");
	assert_line(out, "bmtrace_tree_rss_peak_bytes 4556062720");
	assert_line(out, "bmtrace_tree_anon_bytes 922746880");
	assert_line(out, "bmtrace_processes 7");
	assert_line(out, "bmtrace_processes_started_total 214");
	assert_line(out, "bmtrace_events_total 1052113");
	assert_line(out, "bmtrace_lost_events_total 3");
	assert_line(out, "bmtrace_stage_rss_bytes{stage=\"compile\"} 943718400");
	assert_line(out, "bmtrace_stage_rss_peak_bytes{stage=\"link\"} 943718400");
	assert_line(out, "bmtrace_command_rss_bytes{command=\"clang\"} 734003200");
	assert_line(out, "bmtrace_command_rss_bytes{command=\"other\"} 0");
	assert_line(out, "bmtrace_build_info{version=\"" BMT_VERSION "\"} 1");
	assert_line(out, "# TYPE bmtrace_events_total counter");
	assert_line(out, "# TYPE bmtrace_tree_rss_peak_bytes gauge");
	assert_null(strstr(out, "bmtrace_last_success_timestamp_seconds"));
	assert_line(out, "# TYPE bmtrace_oom_kills_total counter");
	assert_line(out, "bmtrace_oom_kills_total 0");
	/* without --cgroup, no cgroup peak: not a misleading 0 */
	assert_null(strstr(out, "bmtrace_cgroup_peak_bytes"));
	free(out);
}

/* OOM kills and the run cgroup's peak, from a run's deaths and its cgroup. */
static void test_oom_and_cgroup(void **state)
{
	struct fixture *fx = *state;
	struct bmt_peak_proc victim = { .pid = 7, .comm = "cc1", .stage = "" };
	struct bmt_death_event oom = { .proc = &victim };
	struct bmt_result r = { 0 };
	struct bmt_run run = { .cgroup = { .version = 1, .peak_bytes = 134217728 } };
	struct prom_label la = { "tree", "a" }, lb = { "tree", "b" };
	struct prom_snapshot s = { 0 }, two[2];
	char *out;

	run.deaths = deaths__new();
	assert_non_null(run.deaths);
	assert_int_equal(deaths__event((void *)run.deaths, &oom), 0);
	assert_int_equal(prom_snapshot_fill(&s, &r, &run), 0);
	out = render(&s, 1);
	check_page(out, "", no_stage_families, N_NO_STAGE); /* no stage: none shown */
	assert_line(out, "bmtrace_oom_kills_total 1");
	assert_line(out, "# TYPE bmtrace_cgroup_peak_bytes gauge");
	assert_line(out, "bmtrace_cgroup_peak_bytes 134217728");
	free(out);
	/* the cgroup counted a victim the tracepoint did not name: the larger count */
	run.cgroup.oom_kills = 2;
	prom_snapshot_clear(&s);
	assert_int_equal(prom_snapshot_fill(&s, &r, &run), 0);
	out = render(&s, 1);
	assert_line(out, "bmtrace_oom_kills_total 2");
	free(out);
	/* several trees (serve): per tree, the cgroup peak only where there is one */
	fx->s.oom_kills = 3;
	two[0] = fx->s;
	two[0].labels = &la;
	two[0].n_labels = 1;
	two[1] = s;
	two[1].labels = &lb;
	two[1].n_labels = 1;
	out = render(two, 2);
	check_structure(out, "");
	assert_line(out, "bmtrace_oom_kills_total{tree=\"a\"} 3");
	assert_line(out, "bmtrace_oom_kills_total{tree=\"b\"} 2");
	assert_line(out, "bmtrace_cgroup_peak_bytes{tree=\"b\"} 134217728");
	assert_null(strstr(out, "bmtrace_cgroup_peak_bytes{tree=\"a\"}"));
	free(out);
	prom_snapshot_clear(&s);
	deaths__free((struct deaths *)run.deaths);
}

/* A name cannot leave its quotes: the hostile command is one line, escaped. */
static void test_hostile_labels(void **state)
{
	struct fixture *fx = *state;
	char *out = render(&fx->s, 1);
	const char *p;
	int lines = 0;

	assert_line(out, "bmtrace_command_rss_bytes{command=\"evil\\\"} 1\\nbmtrace_pwned 1\\n# "
			 "\\\\ \xef\xbf\xbd[2J\xef\xbf\xbd\"} 5242880");
	for (p = out; (p = strstr(p, "\nbmtrace_pwned")); p++)
		fail_msg("an injected line");
	for (p = out; *p; p++)
		lines += *p == '\n';
	/* 12 families: 24 comment lines; samples: 8 tree, 2 + 2 stages, 5 commands, 1 build */
	assert_int_equal(lines, 24 + 8 + 4 + 5 + 1);
	free(out);
}

/* Stage and extra label values are cleaned and escaped the same way. */
static void test_hostile_stage_and_tree_label(void **state)
{
	struct fixture *fx = *state;
	struct prom_label label = { "tree", "a\\b\"c\nd\x7f" };
	char *out;

	fx->stages[1].name = "li\"nk\n";
	fx->s.labels = &label;
	fx->s.n_labels = 1;
	out = render(&fx->s, 1);
	check_structure(out, "");
	assert_line(out, "bmtrace_stage_rss_bytes{tree=\"a\\\\b\\\"c\\nd\xef\xbf\xbd\","
			 "stage=\"li\\\"nk\\n\"} 5242880");
	assert_line(out, "bmtrace_tree_rss_bytes{tree=\"a\\\\b\\\"c\\nd\xef\xbf\xbd\"} 948961280");
	assert_line(out, "bmtrace_build_info{version=\"" BMT_VERSION "\"} 1");
	free(out);
}

static void test_top_n_and_other(void **state)
{
	struct prom_command cmds[25];
	struct prom_snapshot s = { .commands = cmds, .n_commands = 25, .top_commands = 3 };
	char names[25][8];
	uint64_t rest = 0;
	char *out;

	for (int i = 0; i < 25; i++) {
		snprintf(names[i], sizeof(names[i]), "c%02d", i);
		cmds[i] = (struct prom_command){ names[i], (uint64_t)i * MiB };
		if (i < 22)
			rest += (uint64_t)i * MiB;
	}
	out = render(&s, 1);
	assert_int_equal(check_page(out, "bmtrace_command_rss_bytes", no_stage_families,
				    N_NO_STAGE), 4);
	assert_line(out, "bmtrace_command_rss_bytes{command=\"c24\"} 25165824");
	assert_line(out, "bmtrace_command_rss_bytes{command=\"c23\"} 24117248");
	assert_line(out, "bmtrace_command_rss_bytes{command=\"c22\"} 23068672");
	assert_non_null(strstr(out, "{command=\"other\"} "));
	assert_int_equal(strtoull(strstr(out, "{command=\"other\"} ") + 18, NULL, 10), rest);
	free(out);

	/* the default bound; ties broken by name */
	for (int i = 0; i < 25; i++)
		cmds[i].bytes = 1;
	s.top_commands = 0;
	out = render(&s, 1);
	assert_int_equal(check_page(out, "bmtrace_command_rss_bytes", no_stage_families,
				    N_NO_STAGE), PROM_TOP_COMMANDS + 1);
	assert_line(out, "bmtrace_command_rss_bytes{command=\"c09\"} 1");
	assert_null(strstr(out, "\"c10\""));
	assert_line(out, "bmtrace_command_rss_bytes{command=\"other\"} 15");
	free(out);
}

/* Names equal once cleaned merge; a command named "other" counts in "other". */
static void test_merge_duplicates(void **state)
{
	struct prom_command cmds[] = {
		{ "x\xff", 1 }, { "other", 10 }, { "x\xfe", 2 }, { "y", 100 }, { "z", 1000 },
	};
	struct prom_stage stages[] = { { "make", 5, 50 }, { "cc", 1, 1 }, { "make", 7, 70 } };
	struct prom_snapshot s = { .commands = cmds, .n_commands = 5, .top_commands = 2,
				   .stages = stages, .n_stages = 3 };
	char *out = render(&s, 1);

	assert_int_equal(check_structure(out, "bmtrace_command_rss_bytes"), 3);
	assert_line(out, "bmtrace_command_rss_bytes{command=\"z\"} 1000");
	assert_line(out, "bmtrace_command_rss_bytes{command=\"y\"} 100");
	assert_line(out, "bmtrace_command_rss_bytes{command=\"other\"} 13");
	assert_int_equal(check_structure(out, "bmtrace_stage_rss_bytes"), 2);
	assert_line(out, "bmtrace_stage_rss_bytes{stage=\"make\"} 12");
	assert_line(out, "bmtrace_stage_rss_peak_bytes{stage=\"make\"} 70");
	free(out);

	cmds[3].name = "x\xfd";
	s.top_commands = 1;
	out = render(&s, 1);
	assert_line(out, "bmtrace_command_rss_bytes{command=\"z\"} 1000");
	assert_line(out, "bmtrace_command_rss_bytes{command=\"other\"} 113");
	s.top_commands = 3;
	free(out);
	out = render(&s, 1);
	assert_line(out, "bmtrace_command_rss_bytes{command=\"x\xef\xbf\xbd\"} 103");
	free(out);
}

/* Several trees: each family still once, with one sample per tree. */
static void test_trees(void **state)
{
	struct fixture *fx = *state;
	struct prom_label la = { "cgroup", "/ci/a" }, lb = { "cgroup", "/ci/b" };
	struct prom_snapshot two[2] = { fx->s, fx->s };
	char *out;

	two[0].labels = &la;
	two[1].labels = &lb;
	two[0].n_labels = two[1].n_labels = 1;
	two[1].tree_peak_bytes = 1;
	two[1].last_success_time = 1700000000.25;
	out = render(two, 2);
	assert_int_equal(check_structure(out, "bmtrace_tree_rss_peak_bytes"), 2);
	assert_int_equal(check_structure(out, "bmtrace_build_info"), 1);
	assert_int_equal(check_structure(out, "bmtrace_last_success_timestamp_seconds"), 1);
	assert_line(out, "bmtrace_tree_rss_peak_bytes{cgroup=\"/ci/a\"} 4556062720\n"
			 "bmtrace_tree_rss_peak_bytes{cgroup=\"/ci/b\"} 1");
	assert_line(out, "bmtrace_command_rss_bytes{cgroup=\"/ci/b\",command=\"skc\"} 209715200");
	assert_line(out, "bmtrace_last_success_timestamp_seconds{cgroup=\"/ci/b\"} 1700000000.250");
	free(out);
}

static void test_bad_label_names(void **state)
{
	struct fixture *fx = *state;
	static const char *const bad[] = { "", "1x", "__x", "a-b", "stage", "command",
					   "version", "le", "é" };
	struct prom_label dup[2] = { { "tree", "a" }, { "tree", "b" } };
	size_t len;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct prom_label l = { bad[i], "v" };

		fx->s.labels = &l;
		fx->s.n_labels = 1;
		assert_int_equal(prom_render(stdout, &fx->s, 1), -EINVAL);
		assert_null(prom_render_alloc(&fx->s, 1, &len));
		assert_int_equal(errno, EINVAL);
	}
	fx->s.labels = dup;
	fx->s.n_labels = 2;
	assert_int_equal(prom_render(stdout, &fx->s, 1), -EINVAL);
}

static void test_empty(void **state)
{
	struct prom_snapshot s = { 0 };
	char *out = render(&s, 1);

	/* no stage at all: those families are not written, not even their HELP */
	assert_int_equal(check_page(out, "bmtrace_stage_rss_bytes", no_stage_families, N_NO_STAGE),
			 0);
	assert_null(strstr(out, "bmtrace_stage_rss"));
	assert_line(out, "bmtrace_command_rss_bytes{command=\"other\"} 0");
	assert_line(out, "bmtrace_tree_rss_peak_bytes 0");
	free(out);
}

static void promtool_ok(const char *text)
{
	char out[4096];
	int rc;

	rc = promtest_check(text, strlen(text), out, sizeof(out));
	if (rc != 0)
		fail_msg("promtool check metrics: exit %d\n%s\n--- on:\n%s", rc, out, text);
	assert_string_equal(out, "");
}

static void test_promtool(void **state)
{
	struct fixture *fx = *state;
	struct prom_label la = { "cgroup", "/ci/a\"\n" }, lb = { "cgroup", "/ci/b\xff" };
	struct prom_snapshot two[2] = { fx->s, fx->s }, empty = { 0 };
	char *out;

	if (!promtest_have("promtool"))
		skip();
	fx->s.last_success_time = 1700000000.5;
	out = render(&fx->s, 1);
	promtool_ok(out);
	free(out);
	two[0].labels = &la;
	two[1].labels = &lb;
	two[0].n_labels = two[1].n_labels = 1;
	out = render(two, 2);
	promtool_ok(out);
	free(out);
	out = render(&empty, 1);
	promtool_ok(out);
	free(out);
	make_final(fx); /* a final page of a run, labelled */
	fx->s.run_page = true;
	fx->s.labels = &la;
	fx->s.n_labels = 1;
	out = render(&fx->s, 1);
	promtool_ok(out);
	free(out);
}

/*
 * promtool must not be a rubber stamp: it fails a family split by a second HELP, a line
 * broken by a raw newline, a family without HELP, a gauge named _total. (It misses a split
 * without a second HELP and duplicate series: check_structure looks for those.)
 */
static void test_promtool_catches(void **state)
{
	static const char *const bad[] = {
		"# HELP a_bytes x\n# TYPE a_bytes gauge\na_bytes 1\n# HELP b_bytes x\n"
		"# TYPE b_bytes gauge\nb_bytes 1\n# HELP a_bytes x\na_bytes 2\n",
		"# HELP a_bytes x\n# TYPE a_bytes gauge\na_bytes{l=\"x\n\"} 1\n",
		"a_bytes 1\n",
		"# HELP a_total x\n# TYPE a_total gauge\na_total 1\n",
	};
	char out[4096];

	if (!promtest_have("promtool"))
		skip();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_not_equal(promtest_check(bad[i], strlen(bad[i]), out, sizeof(out)), 0);
}

static void test_write_file(void **state)
{
	struct fixture *fx = *state;
	struct prom_label run = { PROM_RUN_LABEL, "bmtrace" };
	char dir[] = "/tmp/bmt-test-prom-XXXXXX", path[64], *want, *got;
	size_t len;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/bmtrace.prom", dir);
	assert_int_equal(prom_write_file(path, &fx->s), 0);
	/* its series carry run="bmtrace", the file's name */
	fx->s.labels = &run;
	fx->s.n_labels = 1;
	want = render(&fx->s, 1);
	fx->s.n_labels = 0;
	f = fopen(path, "r");
	assert_non_null(f);
	got = calloc(1, strlen(want) + 2);
	len = fread(got, 1, strlen(want) + 1, f);
	fclose(f);
	assert_int_equal(len, strlen(want));
	assert_string_equal(got, want);
	free(got);
	free(want);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(rmdir(dir), 0); /* no temp file left */
	assert_int_equal(prom_write_file("/nonexistent-dir/x.prom", &fx->s), -ENOENT);
}

static void test_write_error(void **state)
{
	struct fixture *fx = *state;
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		skip();
	setvbuf(f, NULL, _IONBF, 0);
	assert_int_equal(prom_render(f, &fx->s, 1), -EIO);
	fclose(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_every_family),
		T(test_oom_and_cgroup),
		T(test_hostile_labels),
		T(test_hostile_stage_and_tree_label),
		T(test_top_n_and_other),
		T(test_merge_duplicates),
		T(test_trees),
		T(test_bad_label_names),
		T(test_empty),
		T(test_promtool),
		T(test_promtool_catches),
		T(test_write_file),
		T(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
