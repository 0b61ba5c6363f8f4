// modules: diff escape util
// SPDX-License-Identifier: MIT
/* diff: two results in, changes out; the table, the JSON, the growth limit, bad input. */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "diff.h"

#define BEFORE                                                                                     \
	"{\"schema\": 1, \"command\": [\"make\", \"-j4\"], \"duration_s\": 10.0,"                 \
	"\"peak\": {\"bytes\": 1073741824}, \"anon_peak\": {\"bytes\": 536870912},"               \
	"\"stages\": [{\"name\": \"make\", \"peak_bytes\": 10485760},"                            \
	"             {\"name\": \"link\", \"peak_bytes\": 104857600}],"                          \
	"\"commands\": [{\"name\": \"cc1\", \"peak_bytes\": 943718400},"                          \
	"               {\"name\": \"ld\", \"peak_bytes\": 104857600},"                           \
	"               {\"name\": \"evil\\u001b[2J|x\", \"peak_bytes\": 1048576}]}"
#define AFTER                                                                                      \
	"{\"schema\": 1, \"command\": [\"make\", \"-j4\"], \"duration_s\": 12.5,"                 \
	"\"peak\": {\"bytes\": 1181116006}, \"anon_peak\": {\"bytes\": 536870912},"               \
	"\"stages\": [{\"name\": \"make\", \"peak_bytes\": 10485760},"                            \
	"             {\"name\": \"lto\", \"peak_bytes\": 209715200}],"                           \
	"\"commands\": [{\"name\": \"cc1\", \"peak_bytes\": 1048576000},"                         \
	"               {\"name\": \"lto1\", \"peak_bytes\": 209715200},"                         \
	"               {\"name\": \"evil\\u001b[2J|x\", \"peak_bytes\": 1048576}]}"

struct fx {
	cJSON *before, *after;
	struct diff *d;
	char *out;
};

static struct diff *make_diff(struct fx *x, const char *before, const char *after, bool limit,
			      double pct)
{
	struct diff_opts opts = { "before.json", "after.json", limit, pct };
	char err[256] = "";

	x->before = cJSON_Parse(before);
	x->after = cJSON_Parse(after);
	assert_non_null(x->before);
	assert_non_null(x->after);
	x->d = diff__new(x->before, x->after, &opts, err, sizeof(err));
	if (!x->d)
		fail_msg("diff__new: %s", err);
	return x->d;
}

static int teardown(void **state)
{
	struct fx *x = *state;

	diff__free(x->d);
	cJSON_Delete(x->before);
	cJSON_Delete(x->after);
	free(x->out);
	free(x);
	return 0;
}

static int setup(void **state)
{
	*state = calloc(1, sizeof(struct fx));
	return *state ? 0 : -1;
}

static char *text_of(const struct diff *d)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(diff__text(f, d), 0);
	fclose(f);
	if (getenv("BMT_SHOW"))
		fputs(buf, stderr);
	return buf;
}

static void test_values(void **state)
{
	struct fx *x = *state;
	struct diff *d = make_diff(x, BEFORE, AFTER, false, 0);

	assert_true(d->peak.before == 1073741824.0 && d->peak.after == 1181116006.0);
	assert_true(fabs(diff__peak_growth_pct(d) - 10.0) < 0.001);
	assert_true(d->duration.after - d->duration.before == 2.5);
	/* AFTER's stages in its order, then those gone */
	assert_int_equal(d->n_stages, 3);
	assert_string_equal(d->stages[0].name, "make");
	assert_string_equal(d->stages[1].name, "lto");
	assert_false(d->stages[1].v.in_before);
	assert_string_equal(d->stages[2].name, "link");
	assert_false(d->stages[2].v.in_after);
	/* commands: the largest change first (lto1 +200 MiB, ld -100, cc1 +100 larger) */
	assert_int_equal(d->n_commands, 4);
	assert_string_equal(d->commands[0].name, "lto1");
	assert_string_equal(d->commands[1].name, "cc1");
	assert_string_equal(d->commands[2].name, "ld");
	assert_false(diff__fails(d));
}

static void test_table(void **state)
{
	struct fx *x = *state;

	x->out = text_of(make_diff(x, BEFORE, AFTER, true, 5));
	assert_non_null(strstr(x->out, "bmtrace diff: before.json → after.json\n"));
	/* the numbers line up under the headings, whatever the indent */
	assert_non_null(strstr(x->out, "                          BEFORE       AFTER       CHANGE"
				       "         %\n"));
	assert_non_null(strstr(x->out, "  peak tree RSS         1.00 GiB    1.10 GiB   +102.4 MiB"
				       "    +10.0%\n"));
	assert_non_null(strstr(x->out, "  duration               10.00 s     12.50 s      +2.50 s"
				       "    +25.0%\n"));
	assert_non_null(strstr(x->out, "    lto                        -   200.0 MiB   +200.0 MiB"
				       "       new\n"));
	assert_non_null(strstr(x->out, "    link               100.0 MiB           -   -100.0 MiB"
				       "      gone\n"));
	/* a hostile name is escaped, never raw */
	assert_null(strchr(x->out, '\x1b'));
	assert_non_null(strstr(x->out, "    evil\\x1b[2J|x"));
	/* the verdict is the last line */
	assert_non_null(strstr(x->out, "\nbmtrace diff: peak +10.0%, more than "
				       "--fail-if-peak-grows 5%\n"));
	assert_true(diff__fails(x->d));
}

static void test_limit(void **state)
{
	struct fx *x = *state;

	assert_false(diff__fails(make_diff(x, BEFORE, AFTER, true, 10.5)));
	diff__free(x->d);
	cJSON_Delete(x->before);
	cJSON_Delete(x->after);
	/* shrinking never fails, even with a limit of 0 */
	assert_false(diff__fails(make_diff(x, AFTER, BEFORE, true, 0)));
	assert_true(diff__peak_growth_pct(x->d) < 0);
}

static void test_json(void **state)
{
	struct fx *x = *state;
	cJSON *j, *peak, *stages, *lto;

	x->out = diff__json(make_diff(x, BEFORE, AFTER, true, 5));
	assert_non_null(x->out);
	j = cJSON_Parse(x->out);
	assert_non_null(j);
	peak = cJSON_GetObjectItem(j, "peak");
	assert_true(cJSON_GetObjectItem(peak, "before")->valuedouble == 1073741824.0);
	assert_true(cJSON_GetObjectItem(peak, "change")->valuedouble == 107374182.0);
	assert_true(fabs(cJSON_GetObjectItem(peak, "change_pct")->valuedouble - 10.0) < 1e-6);
	stages = cJSON_GetObjectItem(j, "stages");
	assert_int_equal(cJSON_GetArraySize(stages), 3);
	lto = cJSON_GetArrayItem(stages, 1);
	assert_string_equal(cJSON_GetObjectItem(lto, "name")->valuestring, "lto");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(lto, "before")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(lto, "change_pct")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "commands")), 4);
	assert_string_equal(
		cJSON_GetObjectItem(cJSON_GetObjectItem(j, "after"), "file")->valuestring,
		"after.json");
	assert_true(cJSON_GetObjectItem(j, "fail_if_peak_grows_pct")->valuedouble == 5.0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "peak_grew_too_much")));
	/* bytes are integers in the text */
	assert_non_null(strstr(x->out, "\"change\":\t107374182,"));
	cJSON_Delete(j);
}

/* Not a result: one line naming the file and what is wrong. */
static void test_bad_input(void **state)
{
	static const char *const bad[] = {
		"[1, 2]",
		"{\"schema\": 2, \"peak\": {\"bytes\": 1}, \"stages\": [], \"commands\": []}",
		"{\"schema\": 1, \"stages\": [], \"commands\": []}",
		"{\"schema\": 1, \"peak\": {\"bytes\": \"x\"}, \"stages\": [], \"commands\": []}",
	};
	struct diff_opts opts = { "old.json", "new.json", false, 0 };
	cJSON *good = cJSON_Parse(BEFORE);

	assert_non_null(good);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cJSON *b = cJSON_Parse(bad[i]);
		char err[256] = "";

		assert_non_null(b);
		assert_null(diff__new(good, b, &opts, err, sizeof(err)));
		if (!strstr(err, "new.json: not a") || strchr(err, '\n'))
			fail_msg("case %zu: '%s'", i, err);
		assert_null(diff__new(b, good, &opts, err, sizeof(err)));
		assert_non_null(strstr(err, "old.json: not a"));
		cJSON_Delete(b);
	}
	cJSON_Delete(good);
}

/* A peak from 0: infinite growth, "new"; 0 to 0 is no growth. */
static void test_from_zero(void **state)
{
	static const char zero[] = "{\"schema\": 1, \"peak\": {\"bytes\": 0}, \"stages\": [], "
				   "\"commands\": []}";
	struct fx *x = *state;

	make_diff(x, zero, BEFORE, true, 1000);
	assert_true(isinf(diff__peak_growth_pct(x->d)));
	assert_true(diff__fails(x->d));
	x->out = text_of(x->d);
	assert_non_null(strstr(x->out, "new\n"));
	assert_non_null(strstr(x->out, "bmtrace diff: peak from 0 B, more than"));
	diff__free(x->d);
	cJSON_Delete(x->before);
	cJSON_Delete(x->after);
	make_diff(x, zero, zero, true, 0);
	assert_false(diff__fails(x->d));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_values), T(test_table),	  T(test_limit),
		T(test_json),	T(test_bad_input), T(test_from_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
