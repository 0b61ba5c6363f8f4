/* SPDX-License-Identifier: MIT */
/*
 * report_fixture.h - the shared fixture of the report suites (test_report_*.c): one run with
 * three processes at the peak, one of them with a hostile comm and argv (setup/teardown, run by
 * T()), the reports it gives as strings, its timeline and its deaths, and the JSON accessors
 * that fail the test when a field is missing.
 */
#ifndef BMT_TEST_REPORT_FIXTURE_H
#define BMT_TEST_REPORT_FIXTURE_H

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
#include <cjson/cJSON.h>
#include <zlib.h>
#include "deaths.h"
#include "report.h"
#include "xmlcheck.h"

#define MiB (1024ull * 1024)
#define GiB (1024 * MiB)
#define T0  100000000000ull /* time zero: 100 s of CLOCK_MONOTONIC */
#define SEC 1000000000ull

#define BIG_ARG_LEN (100 * 1024)

/* One run with three processes at the peak, one of them with a hostile comm and argv. */
struct fixture {
	struct bmt_run run;
	struct bmt_result r;
	struct bmt_peak_proc procs[3];
	struct bmt_stage_result stages[2];
	struct bmt_command_result commands[3];
	struct bmt_alive_proc alive[1];
	char *big_arg;
	char *big_argv[3];
	char path[64];
	struct deaths *deaths;
};

static char *run_argv[] = {"make", "-j2", NULL};
static char *skc_argv[] = {"skc", "-O2", "big.c", NULL};
static char *evil_argv[] = {"evil",	  "say \"hi\"",	 "<svg onload=x>",
			    "two\nlines", "bad\xff\xfe", NULL};

static inline int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct bmt_result *r;
	size_t i;

	if (!fx)
		return -1;
	fx->big_arg = malloc(BIG_ARG_LEN + 1);
	if (!fx->big_arg) {
		free(fx);
		return -1;
	}
	memset(fx->big_arg, 'a', BIG_ARG_LEN);
	fx->big_arg[BIG_ARG_LEN] = '\0';
	fx->big_argv[0] = "clang";
	fx->big_argv[1] = fx->big_arg;

	fx->run = (struct bmt_run){
	    .argv = run_argv,
	    .root_pid = 4200,
	    .exit_code = 0,
	    .start_ts = T0,
	    .end_ts = T0 + 35 * SEC + 200000000,
	    .page_size = 4096,
	    .kernel = "6.1.0-test",
	    .stats = {.events = 1052113},
	};
	fx->procs[0] = (struct bmt_peak_proc){
	    4242, 4200, "skc", skc_argv, "compile", 3400 * MiB, 3300 * MiB, 100 * MiB, 0};
	fx->procs[1] = (struct bmt_peak_proc){
	    4250, 4200, "clang", fx->big_argv, "compile", 940 * MiB, 900 * MiB, 28 * MiB, 12 * MiB};
	fx->procs[2] = (struct bmt_peak_proc){
	    4201, 4200, "evil\n\x1b[2J\xff\"", evil_argv, "link", 5 * MiB, 5 * MiB, 0, 0};
	r = &fx->r;
	r->peak_procs = fx->procs;
	r->n_peak_procs = 3;
	for (i = 0; i < r->n_peak_procs; i++) {
		r->peak.bytes += fx->procs[i].bytes;
		r->peak.anon_bytes += fx->procs[i].anon_bytes;
		r->peak.file_bytes += fx->procs[i].file_bytes;
		r->peak.shmem_bytes += fx->procs[i].shmem_bytes;
	}
	r->peak.ts = T0 + 12 * SEC + 410000000;
	r->anon_peak = (struct bmt_peak){.bytes = 4300 * MiB, .ts = T0 + 12 * SEC};
	r->raw_peak = (struct bmt_peak){.bytes = 5 * GiB, .ts = T0 + 12 * SEC + 400000000};
	/* Past 2^53: a double would lose the last digit. */
	r->swap_at_peak = (1ull << 54) + 1;
	fx->stages[0] =
	    (struct bmt_stage_result){"compile", 4340 * MiB, 4400 * MiB, T0 + 13 * SEC, 200};
	fx->stages[1] = (struct bmt_stage_result){"link", 5 * MiB, 900 * MiB, T0 + 30 * SEC, 14};
	r->stages = fx->stages;
	r->n_stages = 2;
	fx->commands[0] = (struct bmt_command_result){"skc", 3400 * MiB, 3400 * MiB, T0 + 12 * SEC,
						      1,     3400 * MiB, 3400 * MiB, 3400 * MiB,
						      1,     1};
	fx->commands[1] = (struct bmt_command_result){"clang", 940 * MiB, 1000 * MiB, T0 + 11 * SEC,
						      150,     960 * MiB, 300 * MiB,  700 * MiB,
						      4,       1};
	fx->commands[2] = (struct bmt_command_result){"ld",	 0,	   900 * MiB, T0 - 5, 14,
						      900 * MiB, 20 * MiB, 880 * MiB, 1,      0};
	fx->commands[1].max_proc_pid = 4251; /* the culprit, named by pid and arguments */
	fx->commands[1].max_proc_argv = skc_argv;
	r->commands = fx->commands;
	r->n_commands = 3;
	fx->alive[0] = (struct bmt_alive_proc){4300, "daemon\x1b]0;pwned\x07"};
	r->alive = fx->alive;
	r->n_alive = 1;
	r->processes_total = 214;
	r->events = 1052113;
	r->first_ts = T0;
	r->last_ts = fx->run.end_ts;

	strcpy(fx->path, "/tmp/bmt-test-report-XXXXXX");
	if (!mkdtemp(fx->path))
		return -1;
	strcat(fx->path, "/r.json");
	*state = fx;
	return 0;
}

static inline int teardown(void **state)
{
	struct fixture *fx = *state;

	unlink(fx->path);
	*strrchr(fx->path, '/') = '\0';
	rmdir(fx->path);
	deaths__free(fx->deaths);
	free(fx->big_arg);
	free(fx);
	return 0;
}

static inline char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Every byte sequence is valid UTF-8 (what a strict JSON parser demands). */
static inline bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n, i;

	while (*p) {
		n = *p < 0x80		  ? 1
		    : (*p & 0xe0) == 0xc0 ? 2
		    : (*p & 0xf0) == 0xe0 ? 3
		    : (*p & 0xf8) == 0xf0 ? 4
					  : 0;
		if (!n || (n == 2 && *p < 0xc2))
			return false;
		for (i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += n;
	}
	return true;
}

/* Write the JSON, check it is valid and ends in a newline, and parse it. */
static inline cJSON *json_of(struct fixture *fx, char **text)
{
	cJSON *root;

	assert_int_equal(report_json(fx->path, &fx->run, &fx->r), 0);
	*text = read_all(fx->path);
	assert_true(strlen(*text) > 2);
	assert_int_equal((*text)[strlen(*text) - 1], '\n');
	assert_true(valid_utf8(*text));
	root = cJSON_Parse(*text);
	assert_non_null(root);
	return root;
}

static inline cJSON *field(const cJSON *obj, const char *name)
{
	cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!item)
		fail_msg("missing field \"%s\"", name);
	return item;
}

static inline double num(const cJSON *obj, const char *name)
{
	cJSON *item = field(obj, name);

	if (!cJSON_IsNumber(item))
		fail_msg("\"%s\" is not a number", name);
	return item->valuedouble;
}

/* A JSON integer (no fraction, no exponent in the text) equal to want. */
static inline void assert_bytes(const cJSON *obj, const char *name, uint64_t want)
{
	double v = num(obj, name);

	assert_true(v >= 0 && v == (double)(uint64_t)v);
	assert_true(v == (double)want);
}

static inline const char *str(const cJSON *obj, const char *name)
{
	cJSON *item = field(obj, name);

	if (!cJSON_IsString(item))
		fail_msg("\"%s\" is not a string", name);
	return item->valuestring;
}

static inline cJSON *arr(const cJSON *obj, const char *name)
{
	cJSON *item = field(obj, name);

	if (!cJSON_IsArray(item))
		fail_msg("\"%s\" is not an array", name);
	return item;
}

static inline cJSON *obj(const cJSON *parent, const char *name)
{
	cJSON *item = field(parent, name);

	if (!cJSON_IsObject(item))
		fail_msg("\"%s\" is not an object", name);
	return item;
}

static inline void assert_time(const cJSON *o, const char *name, double want)
{
	double got = num(o, name);

	assert_true(got > want - 1e-9 && got < want + 1e-9);
}

/* A timeline of the fixture's run: compile, link and the root's default stage (empty). */
static inline struct timeline *fixture_timeline(struct fixture *fx)
{
	struct timeline *t = timeline__new();
	uint64_t st[3] = {0, 0, 0}, at_peak[3] = {4340 * MiB, 5 * MiB, 0}, tree;
	struct bmt_sample s;
	int i;

	assert_non_null(t);
	for (i = 1; i <= 35; i++) {
		st[0] = i < 13 ? (uint64_t)i * 330 * MiB : i < 30 ? 400 * MiB : 0;
		st[1] = i < 28 ? 5 * MiB : 900 * MiB / (uint64_t)(i - 26);
		tree = st[0] + st[1];
		s = (struct bmt_sample){T0 + (uint64_t)i * SEC, tree, tree / 2, st, 3};
		if (i == 12) /* the peak, at its own instant */
			s = (struct bmt_sample){fx->r.peak.ts, fx->r.peak.bytes, 4300 * MiB,
						at_peak, 3};
		assert_int_equal(timeline__add(t, &s), 0);
	}
	return t;
}

static inline char *svg_of(struct fixture *fx, struct xml_check *x)
{
	struct timeline *t = fixture_timeline(fx);
	char *svg;

	assert_int_equal(report_svg(fx->path, &fx->run, &fx->r, t), 0);
	timeline__free(t);
	svg = read_all(fx->path);
	if (!xml_check(svg, x))
		fail_msg("the SVG is not well-formed XML: %s", x->err);
	return svg;
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/*
 * The OOM killer chose skc at 12.41 s (the peak: the peak's processes held the memory), then
 * the hostile-named process died of SIGTERM at 20 s; a 4 GiB v2 cgroup counted 4.5 GiB.
 */
static inline void add_deaths(struct fixture *fx)
{
	struct bmt_death_event oom = {.ts = fx->r.peak.ts,
				      .proc = &fx->procs[0],
				      .tree_bytes = fx->r.peak.bytes,
				      .anon_bytes = 4205 * MiB,
				      .holders = fx->procs,
				      .n_holders = 3};
	struct bmt_death_event kill = {.ts = fx->r.peak.ts, .signal = 9, .proc = &fx->procs[0]};
	struct bmt_death_event term = {
	    .ts = T0 + 20 * SEC, .signal = 15, .proc = &fx->procs[2], .tree_bytes = 900 * MiB};

	fx->deaths = deaths__new();
	assert_non_null(fx->deaths);
	assert_int_equal(deaths__event(fx->deaths, &oom), 0);
	assert_int_equal(deaths__event(fx->deaths, &kill), 0);
	assert_int_equal(deaths__event(fx->deaths, &term), 0);
	fx->run.deaths = fx->deaths;
	fx->run.cgroup = (struct bmt_cgroup){.version = 2,
					     .path = "/sys/fs/cgroup/bmtrace-7",
					     .peak_bytes = 4608 * MiB,
					     .limit_bytes = 4 * GiB,
					     .oom_kills = 1,
					     .swap_peak_bytes = 0,
					     .memsw_peak_bytes = BMT_CGROUP_NONE};
}

#endif /* BMT_TEST_REPORT_FIXTURE_H */
