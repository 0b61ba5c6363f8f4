// modules: report_json report_text report_md report_svg report_timeline timeline escape budget deaths util
// SPDX-License-Identifier: MIT
/*
 * report: JSON schema 1: fields, hostile strings, sizing and the budget, deaths, from hand-built
 * results.
 */
#include "report_fixture.h"

static void test_json_schema1(void **state)
{
	struct fixture *fx = *state;
	char *text;
	cJSON *root = json_of(fx, &text);
	cJSON *peak = obj(root, "peak"), *p, *s, *c;
	uint64_t sum = 0;

	assert_int_equal(num(root, "schema"), 1);
	assert_string_equal(str(root, "bmtrace_version"), BMT_VERSION);
	assert_int_equal(cJSON_GetArraySize(arr(root, "command")), 2);
	assert_string_equal(cJSON_GetArrayItem(arr(root, "command"), 1)->valuestring, "-j2");
	assert_int_equal(num(root, "exit_code"), 0);
	assert_true(cJSON_IsNull(field(root, "signal")));
	assert_time(root, "duration_s", 35.2);

	assert_bytes(peak, "bytes", fx->r.peak.bytes);
	assert_time(peak, "time_s", 12.41);
	assert_bytes(peak, "anon_bytes", fx->r.peak.anon_bytes);
	assert_bytes(peak, "file_bytes", fx->r.peak.file_bytes);
	assert_bytes(peak, "shmem_bytes", fx->r.peak.shmem_bytes);
	assert_int_equal(cJSON_GetArraySize(arr(peak, "processes")), 3);
	cJSON_ArrayForEach(p, arr(peak, "processes"))
	{
		assert_true(num(p, "pid") > 0 && num(p, "ppid") > 0);
		str(p, "comm");
		str(p, "stage");
		assert_true(cJSON_GetArraySize(arr(p, "argv")) >= 2);
		num(p, "anon_bytes");
		num(p, "file_bytes");
		num(p, "shmem_bytes");
		sum += (uint64_t)num(p, "bytes");
	}
	assert_int_equal(sum, num(peak, "bytes"));
	p = cJSON_GetArrayItem(arr(peak, "processes"), 0);
	assert_int_equal(num(p, "pid"), 4242);
	assert_string_equal(str(p, "comm"), "skc");
	assert_string_equal(str(p, "stage"), "compile");
	assert_bytes(p, "bytes", 3400 * MiB);

	assert_bytes(obj(root, "anon_peak"), "bytes", 4300 * MiB);
	assert_time(obj(root, "anon_peak"), "time_s", 12.0);
	assert_bytes(obj(root, "raw_sum_peak"), "bytes", 5 * GiB);
	assert_time(obj(root, "raw_sum_peak"), "time_s", 12.4);

	assert_int_equal(cJSON_GetArraySize(arr(root, "stages")), 2);
	s = cJSON_GetArrayItem(arr(root, "stages"), 1);
	assert_string_equal(str(s, "name"), "link");
	assert_bytes(s, "bytes_at_peak", 5 * MiB);
	assert_bytes(s, "peak_bytes", 900 * MiB);
	assert_time(s, "peak_time_s", 30.0);
	assert_int_equal(num(s, "processes"), 14);

	assert_int_equal(cJSON_GetArraySize(arr(root, "commands")), 3);
	c = cJSON_GetArrayItem(arr(root, "commands"), 1);
	assert_string_equal(str(c, "name"), "clang");
	assert_bytes(c, "bytes_at_peak", 940 * MiB);
	assert_bytes(c, "peak_bytes", 1000 * MiB);
	assert_int_equal(num(c, "processes"), 150);
	/* A time before time zero is 0, not a huge number. */
	assert_time(cJSON_GetArrayItem(arr(root, "commands"), 2), "peak_time_s", 0.0);

	assert_int_equal(num(root, "processes_total"), 214);
	assert_int_equal(num(root, "events"), 1052113);
	assert_int_equal(num(root, "lost_events"), 0);
	assert_true(cJSON_IsNull(field(root, "cgroup_peak_bytes")));

	/* Added fields. */
	assert_non_null(strstr(text, "\"swap_at_peak_bytes\":\t18014398509481985,"));
	assert_int_equal(num(root, "unpaired_events"), 0);
	assert_int_equal(num(root, "untraced_processes"), 0);
	assert_int_equal(num(root, "untraced_mms"), 0);
	assert_true(cJSON_IsFalse(field(root, "peak_is_lower_bound")));
	assert_true(cJSON_IsNull(field(root, "attached_pid")));
	assert_int_equal(cJSON_GetArraySize(arr(root, "still_running")), 1);
	assert_int_equal(num(cJSON_GetArrayItem(arr(root, "still_running"), 0), "pid"), 4300);
	assert_string_equal(str(root, "kernel"), "6.1.0-test");
	assert_int_equal(num(root, "page_size"), 4096);

	/* Byte counts are integers in the text, never "1e+15" or "4.5e9". */
	assert_null(strstr(text, "e+"));
	cJSON_Delete(root);
	free(text);
}

static void test_json_hostile_strings(void **state)
{
	struct fixture *fx = *state;
	char *text;
	cJSON *root = json_of(fx, &text);
	cJSON *procs = arr(obj(root, "peak"), "processes");
	cJSON *evil = cJSON_GetArrayItem(procs, 2), *argv = arr(evil, "argv");
	cJSON *big = arr(cJSON_GetArrayItem(procs, 1), "argv");

	/* Valid parts round-trip exactly; each invalid byte becomes U+FFFD. */
	assert_string_equal(str(evil, "comm"), "evil\n\x1b[2J\xef\xbf\xbd\"");
	assert_int_equal(cJSON_GetArraySize(argv), 5);
	assert_string_equal(cJSON_GetArrayItem(argv, 1)->valuestring, "say \"hi\"");
	assert_string_equal(cJSON_GetArrayItem(argv, 2)->valuestring, "<svg onload=x>");
	assert_string_equal(cJSON_GetArrayItem(argv, 3)->valuestring, "two\nlines");
	assert_string_equal(cJSON_GetArrayItem(argv, 4)->valuestring,
			    "bad\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(str(cJSON_GetArrayItem(arr(root, "still_running"), 0), "comm"),
			    "daemon\x1b]0;pwned\x07");
	/* No raw control byte reaches the file: a newline is "\n", ESC "\u001b". */
	assert_null(strchr(text, '\x1b'));
	assert_non_null(strstr(text, "two\\nlines"));

	assert_int_equal(strlen(cJSON_GetArrayItem(big, 1)->valuestring), BIG_ARG_LEN);
	cJSON_Delete(root);
	free(text);
}

/* Every sequence an attacker can put in a name: overlong, surrogate, truncated, too large. */
static void test_json_invalid_utf8(void **state)
{
	static char *argv[] = {
	    "\xc0\xaf",					 /* overlong '/' */
	    "\xed\xa0\x80",				 /* a UTF-16 surrogate */
	    "\xe2\x82",					 /* truncated */
	    "\xf4\x90\x80\x80",				 /* past U+10FFFF */
	    "\x80x",					 /* a lone continuation byte */
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", /* valid: kept */
	    NULL,
	};
	struct fixture *fx = *state;
	char *text;
	cJSON *root, *out;

	fx->run.argv = argv;
	root = json_of(fx, &text);
	out = arr(root, "command");
	assert_string_equal(cJSON_GetArrayItem(out, 0)->valuestring, "\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(cJSON_GetArrayItem(out, 4)->valuestring, "\xef\xbf\xbdx");
	assert_string_equal(cJSON_GetArrayItem(out, 5)->valuestring, argv[5]);
	cJSON_Delete(root);
	free(text);
}

static void test_json_signal_attached_lost(void **state)
{
	struct fixture *fx = *state;
	char *text;
	cJSON *root;

	fx->run.exit_code = -1;
	fx->run.signal = 9;
	fx->run.attached = 1;
	fx->run.stats.lost = 3;
	fx->run.stats.procs_full = 2;
	fx->run.end_ts = T0 - 1; /* a clock that went wrong must not yield a negative duration */
	root = json_of(fx, &text);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(root, "exit_code")));
	assert_int_equal(num(root, "signal"), 9);
	assert_int_equal(num(root, "attached_pid"), 4200);
	assert_int_equal(num(root, "lost_events"), 3);
	assert_int_equal(num(root, "untraced_processes"), 2);
	assert_true(cJSON_IsTrue(field(root, "peak_is_lower_bound")));
	assert_time(root, "duration_s", 0.0);
	cJSON_Delete(root);
	free(text);
}

/* An empty result (nothing traced) is still complete schema 1. */
static void test_json_empty(void **state)
{
	struct fixture *fx = *state;
	char *text;
	cJSON *root;

	memset(&fx->r, 0, sizeof(fx->r));
	fx->run.argv = NULL;
	root = json_of(fx, &text);
	assert_int_equal(cJSON_GetArraySize(arr(root, "command")), 0);
	assert_int_equal(cJSON_GetArraySize(arr(obj(root, "peak"), "processes")), 0);
	assert_int_equal(cJSON_GetArraySize(arr(root, "stages")), 0);
	assert_int_equal(cJSON_GetArraySize(arr(root, "still_running")), 0);
	assert_bytes(obj(root, "peak"), "bytes", 0);
	cJSON_Delete(root);
	free(text);
}

static void test_json_write_error(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(report_json("/nonexistent-dir/r.json", &fx->run, &fx->r), -ENOENT);
}

/* ---- per-command sizing and the budget ---- */

static void test_json_sizing_budget(void **state)
{
	struct fixture *fx = *state;
	char *text;
	cJSON *root = json_of(fx, &text), *c, *b, *d;

	c = cJSON_GetArrayItem(arr(root, "commands"), 1);
	assert_bytes(c, "max_proc_peak_bytes", 960 * MiB);
	assert_bytes(c, "p50_proc_peak_bytes", 300 * MiB);
	assert_bytes(c, "p95_proc_peak_bytes", 700 * MiB);
	assert_int_equal(num(c, "max_instances"), 4);
	assert_int_equal(num(c, "instances_at_peak"), 1);
	assert_true(cJSON_IsNull(field(root, "budget")));
	cJSON_Delete(root);
	free(text);

	/* over a --max-peak of 4 GiB since 12.0 s; the command succeeded: the run fails */
	fx->run.budget_bytes = 4 * GiB;
	fx->run.budget_gate = 1;
	fx->run.over_budget_ts = T0 + 12 * SEC;
	root = json_of(fx, &text);
	b = obj(root, "budget");
	assert_bytes(b, "bytes", 4 * GiB);
	assert_string_equal(str(b, "option"), "max-peak");
	assert_true(cJSON_IsTrue(field(b, "exceeded")));
	assert_true(cJSON_IsTrue(field(b, "fails_run")));
	assert_bytes(b, "over_by_bytes", fx->r.peak.bytes - 4 * GiB);
	assert_time(b, "first_exceeded_time_s", 12.0);
	assert_bytes(b, "headroom_bytes", 0);
	d = obj(b, "dominant_command");
	assert_string_equal(str(d, "name"), "skc");
	assert_bytes(d, "rest_of_tree_bytes", fx->r.peak.bytes - 3400 * MiB);
	assert_int_equal(num(d, "fit_at_max_proc_peak"), 0);
	cJSON_Delete(root);
	free(text);

	/* a --budget of 16 GiB: headroom, and 4 skc fit beside the rest (945 MiB) */
	fx->run.budget_bytes = 16 * GiB;
	fx->run.budget_gate = 0;
	fx->run.over_budget_ts = 0;
	root = json_of(fx, &text);
	b = obj(root, "budget");
	assert_string_equal(str(b, "option"), "budget");
	assert_true(cJSON_IsFalse(field(b, "exceeded")));
	assert_true(cJSON_IsFalse(field(b, "fails_run")));
	assert_true(cJSON_IsNull(field(b, "first_exceeded_time_s")));
	assert_bytes(b, "headroom_bytes", 16 * GiB - fx->r.peak.bytes);
	assert_int_equal(num(obj(b, "dominant_command"), "fit_at_max_proc_peak"), 4);
	cJSON_Delete(root);
	free(text);
}

static void test_json_deaths(void **state)
{
	struct fixture *fx = *state;
	cJSON *root, *k, *h, *cg;
	char *text;

	root = json_of(fx, &text);
	/* without --cgroup and deaths: null and empty */
	assert_true(cJSON_IsNull(field(root, "cgroup")));
	assert_true(cJSON_IsNull(field(root, "cgroup_peak_bytes")));
	assert_int_equal(cJSON_GetArraySize(arr(root, "killed")), 0);
	assert_int_equal(num(root, "oom_kills"), 0);
	cJSON_Delete(root);
	free(text);

	add_deaths(fx);
	root = json_of(fx, &text);
	assert_int_equal(num(root, "oom_kills"), 1);
	assert_bytes(root, "cgroup_peak_bytes", 4608 * MiB);
	cg = obj(root, "cgroup");
	assert_string_equal(str(cg, "path"), "/sys/fs/cgroup/bmtrace-7");
	assert_int_equal(num(cg, "version"), 2);
	assert_bytes(cg, "peak_bytes", 4608 * MiB);
	assert_bytes(cg, "limit_bytes", 4 * GiB);
	assert_int_equal(num(cg, "oom_kills"), 1);
	assert_int_equal(num(cg, "swap_peak_bytes"), 0);
	assert_true(cJSON_IsNull(field(cg, "memsw_peak_bytes")));
	assert_int_equal(cJSON_GetArraySize(arr(root, "killed")), 2);
	k = cJSON_GetArrayItem(arr(root, "killed"), 0);
	assert_int_equal(num(k, "pid"), 4242);
	assert_string_equal(str(k, "comm"), "skc");
	assert_string_equal(cJSON_GetArrayItem(arr(k, "argv"), 2)->valuestring, "big.c");
	assert_int_equal(num(k, "signal"), 9);
	assert_true(cJSON_IsTrue(field(k, "oom")));
	assert_time(k, "time_s", 12.41);
	assert_bytes(k, "bytes", 3400 * MiB);
	assert_bytes(k, "tree_bytes", fx->r.peak.bytes);
	assert_int_equal(cJSON_GetArraySize(arr(k, "holders")), 3);
	h = cJSON_GetArrayItem(arr(k, "holders"), 1);
	assert_int_equal(num(h, "pid"), 4250);
	assert_bytes(h, "bytes", 940 * MiB);
	k = cJSON_GetArrayItem(arr(root, "killed"), 1);
	assert_int_equal(num(k, "signal"), 15);
	assert_true(cJSON_IsFalse(field(k, "oom")));
	assert_true(cJSON_IsNull(field(k, "holders")));
	assert_true(valid_utf8(text));
	cJSON_Delete(root);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_json_schema1),	T(test_json_hostile_strings),
	    T(test_json_invalid_utf8),	T(test_json_signal_attached_lost),
	    T(test_json_empty),		T(test_json_write_error),
	    T(test_json_sizing_budget), T(test_json_deaths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
