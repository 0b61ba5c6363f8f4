/* SPDX-License-Identifier: MIT */
/* The fixture of the prom unit tests (test_prom.c, test_prom_final.c). */
#ifndef BMT_PROM_FIXTURE_H
#define BMT_PROM_FIXTURE_H

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

static const char *const families[] __attribute__((unused)) = {
	"bmtrace_tree_rss_bytes",	   "bmtrace_tree_rss_peak_bytes",
	"bmtrace_tree_anon_bytes",	   "bmtrace_stage_rss_bytes",
	"bmtrace_stage_rss_peak_bytes",	   "bmtrace_command_rss_bytes",
	"bmtrace_processes",		   "bmtrace_processes_started_total",
	"bmtrace_events_total",		   "bmtrace_lost_events_total",
	"bmtrace_oom_kills_total",	   "bmtrace_build_info",
};
#define N_FAMILIES (sizeof(families) / sizeof(families[0]))

/* Those of a live page without any stage. */
static const char *const no_stage_families[] __attribute__((unused)) = {
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

static inline int setup(void **state)
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

static inline int teardown(void **state)
{
	free(*state);
	return 0;
}

static inline char *render(const struct prom_snapshot *s, size_t n)
{
	size_t len;
	char *out = prom_render_alloc(s, n, &len);

	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	return out;
}

/* The name of a sample line: up to '{' or ' '. */
static inline size_t name_len(const char *line)
{
	return strcspn(line, "{ ");
}

/* A sample line's series: everything before the value (the last space of the line). */
static inline size_t series_len(const char *line)
{
	const char *end = memrchr(line, ' ', (size_t)(strchr(line, '\n') - line));

	assert_non_null(end);
	return (size_t)(end - line);
}

/* No two samples with the same name and labels (promtool does not look). */
static inline void check_unique_series(const char *text)
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
static inline int check_page(const char *text, const char *want, const char *const *fams,
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
static inline int check_structure(const char *text, const char *want)
{
	return check_page(text, want, families, N_FAMILIES);
}

static inline void assert_line(const char *text, const char *line)
{
	char *want = malloc(strlen(line) + 3);

	sprintf(want, "\n%s\n", line);
	if (!strstr(text, want))
		fail_msg("missing line: %s\n--- in:\n%s", line, text);
	free(want);
}

/* What a final page always has. */
static const char *const final_families[] __attribute__((unused)) = {
	"bmtrace_tree_rss_peak_bytes",	   "bmtrace_tree_anon_peak_bytes",
	"bmtrace_processes_started_total", "bmtrace_events_total",
	"bmtrace_lost_events_total",	   "bmtrace_duration_seconds",
	"bmtrace_build_info",
};
#define N_FINAL (sizeof(final_families) / sizeof(final_families[0]))

/* The fixture once everything ended: nothing now, each command with its own peak. */
static inline void make_final(struct fixture *fx)
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

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

#endif /* BMT_PROM_FIXTURE_H */
