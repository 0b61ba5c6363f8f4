// modules: prom deaths collector hooks mm result names sizing tally record table stages escape util
// SPDX-License-Identifier: MIT
/* prom: the text exposition format from hand-built snapshots, checked by promtool too. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "deaths.h"
#include "prom.h"
#include "promtest.h"
#include "records.h" /* MiB */
#include "stages.h"

static const char *const families[] = {
	"bmtrace_tree_rss_bytes",	   "bmtrace_tree_rss_peak_bytes",
	"bmtrace_tree_anon_bytes",	   "bmtrace_stage_rss_bytes",
	"bmtrace_stage_rss_peak_bytes",	   "bmtrace_command_rss_bytes",
	"bmtrace_processes",		   "bmtrace_processes_started_total",
	"bmtrace_events_total",		   "bmtrace_lost_events_total",
	"bmtrace_oom_kills_total",	   "bmtrace_build_info",
};
#define N_FAMILIES (sizeof(families) / sizeof(families[0]))

/* Those of a live page without any stage. */
static const char *const no_stage_families[] = {
    "bmtrace_tree_rss_bytes",	 "bmtrace_tree_rss_peak_bytes", "bmtrace_tree_anon_bytes",
    "bmtrace_command_rss_bytes", "bmtrace_processes",		"bmtrace_processes_started_total",
    "bmtrace_events_total",	 "bmtrace_lost_events_total",	"bmtrace_build_info",
};
#define N_NO_STAGE (sizeof(no_stage_families) / sizeof(no_stage_families[0]))

#define HOSTILE "evil\"} 1\nbmtrace_pwned 1\n# \\ \x1b[2J\xff"

/* A build: two stages, four commands, one of them hostile. */
struct fixture {
	struct prom_snapshot s;
	struct prom_stage stages[2];
	struct prom_command commands[4];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fx->stages[0] = (struct prom_stage){ "compile", 900 * MiB, 4400 * MiB };
	fx->stages[1] = (struct prom_stage){ "link", 5 * MiB, 900 * MiB };
	fx->commands[0] = (struct prom_command){ "clang", 700 * MiB };
	fx->commands[1] = (struct prom_command){ "skc", 200 * MiB };
	fx->commands[2] = (struct prom_command){ HOSTILE, 5 * MiB };
	fx->commands[3] = (struct prom_command){ "ld", 0 };
	fx->s = (struct prom_snapshot){
		.tree_bytes = 905 * MiB,
		.tree_peak_bytes = 4345 * MiB,
		.anon_bytes = 880 * MiB,
		.processes = 7,
		.processes_started = 214,
		.events = 1052113,
		.lost_events = 3,
		.stages = fx->stages,
		.n_stages = 2,
		.commands = fx->commands,
		.n_commands = 4,
	};
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static char *render(const struct prom_snapshot *s, size_t n)
{
	size_t len;
	char *out = prom_render_alloc(s, n, &len);

	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	return out;
}

/* The name of a sample line: up to '{' or ' '. */
static size_t name_len(const char *line)
{
	return strcspn(line, "{ ");
}

/* A sample line's series: everything before the value (the last space of the line). */
static size_t series_len(const char *line)
{
	const char *end = memrchr(line, ' ', (size_t)(strchr(line, '\n') - line));

	assert_non_null(end);
	return (size_t)(end - line);
}

/* No two samples with the same name and labels (promtool does not look). */
static void check_unique_series(const char *text)
{
	for (const char *a = text; *a; a = strchr(a, '\n') + 1) {
		if (*a == '#')
			continue;
		for (const char *b = strchr(a, '\n') + 1; *b; b = strchr(b, '\n') + 1)
			if (*b != '#' && series_len(a) == series_len(b) &&
			    !memcmp(a, b, series_len(a)))
				fail_msg("a series twice: %.*s", (int)series_len(a), a);
	}
}

/*
 * Each family once, HELP then TYPE then all its samples (at least one), every sample line
 * of the form name[{...}] value, every series once, each of fams[0..n_fams) there; returns
 * the number of samples of the family named want.
 */
static int check_page(const char *text, const char *want, const char *const *fams,
		      size_t n_fams)
{
	char cur[128] = "", seen[4096] = " ";
	const char *line = text, *nl;
	int want_samples = 0;

	check_unique_series(text);

	for (; *line; line = nl + 1) {
		char help[128], type[128], kind[16];

		nl = strchr(line, '\n');
		assert_non_null(nl); /* every line ends */
		if (sscanf(line, "# HELP %127s", help) == 1) {
			char key[130];

			snprintf(key, sizeof(key), " %s ", help);
			assert_null(strstr(seen, key)); /* a family once */
			strcat(seen, key + 1);
			snprintf(cur, sizeof(cur), "%s", help);
			/* TYPE right after HELP */
			assert_int_equal(sscanf(nl + 1, "# TYPE %127s %15s", type, kind), 2);
			assert_string_equal(type, help);
			assert_true(!strcmp(kind, "gauge") || !strcmp(kind, "counter"));
			assert_true(!strcmp(kind, "counter") == (strstr(help, "_total") != NULL));
			nl = strchr(nl + 1, '\n');
			/* a sample of it follows */
			assert_memory_equal(nl + 1, help, strlen(help));
			continue;
		}
		assert_true(line[0] != '#');
		assert_true(*cur);
		/* a sample belongs to the family whose HELP came last */
		assert_int_equal(name_len(line), strlen(cur));
		assert_memory_equal(line, cur, strlen(cur));
		if (!strcmp(cur, want))
			want_samples++;
	}
	for (size_t i = 0; i < n_fams; i++) {
		char key[130];

		snprintf(key, sizeof(key), " %s ", fams[i]);
		if (!strstr(seen, key))
			fail_msg("no family %s in:\n%s", fams[i], text);
	}
	return want_samples;
}

/* check_page of a live page: every family of a live page is there. */
static int check_structure(const char *text, const char *want)
{
	return check_page(text, want, families, N_FAMILIES);
}

static void assert_line(const char *text, const char *line)
{
	char *want = malloc(strlen(line) + 3);

	sprintf(want, "\n%s\n", line);
	if (!strstr(text, want))
		fail_msg("missing line: %s\n--- in:\n%s", line, text);
	free(want);
}

/* What a final page always has. */
static const char *const final_families[] = {
	"bmtrace_tree_rss_peak_bytes",	   "bmtrace_tree_anon_peak_bytes",
	"bmtrace_processes_started_total", "bmtrace_events_total",
	"bmtrace_lost_events_total",	   "bmtrace_duration_seconds",
	"bmtrace_build_info",
};
#define N_FINAL (sizeof(final_families) / sizeof(final_families[0]))

/* The fixture once everything ended: nothing now, each command with its own peak. */
static void make_final(struct fixture *fx)
{
	fx->s.final = true;
	fx->s.tree_bytes = fx->s.anon_bytes = fx->s.processes = 0;
	fx->s.anon_peak_bytes = 4000 * MiB;
	fx->s.duration_s = 35.25;
	fx->s.exit_code = 0;
	fx->stages[0].bytes = fx->stages[1].bytes = 0;
	fx->stages[1].peak_bytes = 0; /* a stage that never held memory */
	for (int i = 0; i < 4; i++) {
		fx->commands[i].peak_bytes = fx->commands[i].bytes * 4;
		fx->commands[i].bytes = 0;
	}
}

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

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

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
