// modules: report_json report_text report_md report_svg report_timeline timeline escape budget deaths util
// SPDX-License-Identifier: MIT
/*
 * report: JSON schema 1, the text summary, the Markdown summary, the SVG chart and the CSV
 * timeline, from hand-built results.
 */
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

static char *run_argv[] = { "make", "-j2", NULL };
static char *skc_argv[] = { "skc", "-O2", "big.c", NULL };
static char *evil_argv[] = { "evil", "say \"hi\"", "<svg onload=x>", "two\nlines", "bad\xff\xfe",
			     NULL };

static int setup(void **state)
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
		.stats = { .events = 1052113 },
	};
	fx->procs[0] = (struct bmt_peak_proc){ 4242, 4200, "skc", skc_argv, "compile",
					       3400 * MiB, 3300 * MiB, 100 * MiB, 0 };
	fx->procs[1] = (struct bmt_peak_proc){ 4250, 4200, "clang", fx->big_argv, "compile",
					       940 * MiB, 900 * MiB, 28 * MiB, 12 * MiB };
	fx->procs[2] = (struct bmt_peak_proc){ 4201, 4200, "evil\n\x1b[2J\xff\"", evil_argv, "link",
					       5 * MiB, 5 * MiB, 0, 0 };
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
	r->anon_peak = (struct bmt_peak){ .bytes = 4300 * MiB, .ts = T0 + 12 * SEC };
	r->raw_peak = (struct bmt_peak){ .bytes = 5 * GiB, .ts = T0 + 12 * SEC + 400000000 };
	/* Past 2^53: a double would lose the last digit. */
	r->swap_at_peak = (1ull << 54) + 1;
	fx->stages[0] = (struct bmt_stage_result){ "compile", 4340 * MiB, 4400 * MiB,
						   T0 + 13 * SEC, 200 };
	fx->stages[1] = (struct bmt_stage_result){ "link", 5 * MiB, 900 * MiB, T0 + 30 * SEC, 14 };
	r->stages = fx->stages;
	r->n_stages = 2;
	fx->commands[0] = (struct bmt_command_result){ "skc", 3400 * MiB, 3400 * MiB,
						       T0 + 12 * SEC, 1, 3400 * MiB, 3400 * MiB,
						       3400 * MiB, 1, 1 };
	fx->commands[1] = (struct bmt_command_result){ "clang", 940 * MiB, 1000 * MiB,
						       T0 + 11 * SEC, 150, 960 * MiB, 300 * MiB,
						       700 * MiB, 4, 1 };
	fx->commands[2] = (struct bmt_command_result){ "ld", 0, 900 * MiB, T0 - 5, 14, 900 * MiB,
						       20 * MiB, 880 * MiB, 1, 0 };
	fx->commands[1].max_proc_pid = 4251; /* the culprit, named by pid and arguments */
	fx->commands[1].max_proc_argv = skc_argv;
	r->commands = fx->commands;
	r->n_commands = 3;
	fx->alive[0] = (struct bmt_alive_proc){ 4300, "daemon\x1b]0;pwned\x07" };
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

static int teardown(void **state)
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

static char *read_all(const char *path)
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
static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	int n, i;

	while (*p) {
		n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 :
		    (*p & 0xf8) == 0xf0 ? 4 : 0;
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
static cJSON *json_of(struct fixture *fx, char **text)
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

static cJSON *field(const cJSON *obj, const char *name)
{
	cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!item)
		fail_msg("missing field \"%s\"", name);
	return item;
}

static double num(const cJSON *obj, const char *name)
{
	cJSON *item = field(obj, name);

	if (!cJSON_IsNumber(item))
		fail_msg("\"%s\" is not a number", name);
	return item->valuedouble;
}

/* A JSON integer (no fraction, no exponent in the text) equal to want. */
static void assert_bytes(const cJSON *obj, const char *name, uint64_t want)
{
	double v = num(obj, name);

	assert_true(v >= 0 && v == (double)(uint64_t)v);
	assert_true(v == (double)want);
}

static const char *str(const cJSON *obj, const char *name)
{
	cJSON *item = field(obj, name);

	if (!cJSON_IsString(item))
		fail_msg("\"%s\" is not a string", name);
	return item->valuestring;
}

static cJSON *arr(const cJSON *obj, const char *name)
{
	cJSON *item = field(obj, name);

	if (!cJSON_IsArray(item))
		fail_msg("\"%s\" is not an array", name);
	return item;
}

static cJSON *obj(const cJSON *parent, const char *name)
{
	cJSON *item = field(parent, name);

	if (!cJSON_IsObject(item))
		fail_msg("\"%s\" is not an object", name);
	return item;
}

static void assert_time(const cJSON *o, const char *name, double want)
{
	double got = num(o, name);

	assert_true(got > want - 1e-9 && got < want + 1e-9);
}

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
	cJSON_ArrayForEach(p, arr(peak, "processes")) {
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
		"\xc0\xaf",         /* overlong '/' */
		"\xed\xa0\x80",     /* a UTF-16 surrogate */
		"\xe2\x82",         /* truncated */
		"\xf4\x90\x80\x80", /* past U+10FFFF */
		"\x80x",            /* a lone continuation byte */
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

/* The text report, as a string. */
static char *text_of(struct fixture *fx)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(report_text(f, &fx->run, &fx->r), 0);
	fclose(f);
	return buf;
}

/* No line is wider than 100 columns (one per UTF-8 character). */
static void assert_width(const char *text)
{
	int cols = 0;

	for (; *text; text++) {
		if (*text == '\n')
			cols = 0;
		else if ((*text & 0xc0) != 0x80 && ++cols > 100)
			fail_msg("line wider than 100 columns near \"%.40s\"", text - 60);
	}
}

static void test_text_summary(void **state)
{
	struct fixture *fx = *state;
	char *out = text_of(fx);

	if (getenv("BMT_SHOW"))
		fputs(out, stderr);
	assert_non_null(strstr(out, "bmtrace: make -j2\n"));
	assert_non_null(strstr(out, "exit status 0, 35.20 s, 214 processes, 1,052,113 events"));
	assert_non_null(strstr(out, "peak tree RSS    4.24 GiB at 12.410 s"));
	assert_non_null(strstr(out, "raw RSS sum      5.00 GiB at 12.400 s"));
	assert_non_null(strstr(out, "anon peak        4.20 GiB at 12.000 s"));
	/* The columns widen to fit (at most 16 columns) the escaped names. */
	assert_non_null(strstr(out, "   4242  skc             compile    3.32 GiB   78.3%  "
				    "skc -O2 big.c\n"));
	assert_non_null(strstr(out, "stages:"));
	assert_non_null(strstr(out, "commands:"));
	/* each command's largest process, by pid and arguments; none for ld: no column */
	assert_non_null(strstr(out, "       150     4251 skc -O2 big.c\n"));
	assert_non_null(strstr(out, "    ld              0 B   900.0 MiB      0.000 s        14\n"));
	assert_non_null(strstr(out, "still running when tracing stopped: 1"));
	assert_null(strstr(out, "WARNING"));
	assert_null(strstr(out, "attached"));
	/* The 100 KiB argument is cut to fit. */
	assert_non_null(strstr(out, "  clang aaaa"));
	assert_non_null(strstr(out, "aaa…\n"));
	assert_width(out);
	free(out);
}

static void test_text_escapes(void **state)
{
	struct fixture *fx = *state;
	const unsigned char *c;
	char *out;

	fx->run.argv = evil_argv; /* the command line has room for all of it */
	out = text_of(fx);
	/* Only line ends: no ESC, BEL, DEL, CR or invalid byte reaches the terminal. */
	for (c = (const unsigned char *)out; *c; c++)
		if ((*c < 0x20 && *c != '\n') || *c == 0x7f || *c == 0xff || *c == 0xfe)
			fail_msg("raw byte 0x%02x in the text report", *c);
	assert_non_null(strstr(out, "  evil\\n\\x1b[2J…  link  ")); /* cut to 16 columns */
	assert_non_null(strstr(out, "bmtrace: evil say \"hi\" <svg onload=x> two\\nlines "
				    "bad\\xff\\xfe\n"));
	assert_non_null(strstr(out, "daemon\\x1b]0;pwned\\x07"));
	free(out);
}

/* C1 controls and bidi overrides, valid UTF-8 that a terminal acts on, are escaped too. */
static void test_text_escapes_unicode(void **state)
{
	static char *argv[] = { "\xc2\x9b" "31m", "abc\xe2\x80\xae" "fed", "caf\xc3\xa9", NULL };
	struct fixture *fx = *state;
	char *out;

	fx->run.argv = argv;
	out = text_of(fx);
	assert_non_null(strstr(out, "bmtrace: \\xc2\\x9b31m abc\\u202efed caf\xc3\xa9\n"));
	free(out);
}

static void test_text_signal_attached_lost(void **state)
{
	struct fixture *fx = *state;
	char *out;

	fx->run.exit_code = -1;
	fx->run.signal = 9;
	fx->run.attached = 1;
	fx->run.stats.lost = 1200;
	fx->run.stats.unpaired = 3;
	fx->run.stats.mms_full = 2;
	out = text_of(fx);
	assert_non_null(strstr(out, "attached to PID 4200, killed by signal 9 (SIGKILL)"));
	assert_non_null(strstr(out, "1,200 lost"));
	assert_non_null(strstr(out, "WARNING: events were lost (1,200 lost, 3 unpaired): "
				    "the peak is a lower bound\n"));
	assert_non_null(strstr(out, "0 processes and 2 address spaces not traced"));
	free(out);

	fx->run.signal = 0;
	fx->run.stats = (struct bmt_stats){ 0 };
	out = text_of(fx);
	assert_non_null(strstr(out, "exit status unknown"));
	assert_null(strstr(out, "WARNING"));
	free(out);
}

/* Long lists are cut: 20 processes at the peak, 10 commands, 10 survivors. */
static void test_text_long_lists(void **state)
{
	enum { N = 25 };
	struct fixture *fx = *state;
	struct bmt_peak_proc procs[N];
	struct bmt_command_result cmds[N];
	struct bmt_alive_proc alive[N];
	char *out;
	int i;

	fx->r.peak.bytes = 0;
	for (i = 0; i < N; i++) {
		procs[i] = fx->procs[0];
		procs[i].pid = 5000 + (uint32_t)i;
		procs[i].bytes = 10 * MiB;
		fx->r.peak.bytes += procs[i].bytes;
		cmds[i] = fx->commands[0];
		alive[i] = (struct bmt_alive_proc){ 6000 + (uint32_t)i, "sleep" };
	}
	fx->r.peak_procs = procs;
	fx->r.n_peak_procs = N;
	fx->r.commands = cmds;
	fx->r.n_commands = N;
	fx->r.alive = alive;
	fx->r.n_alive = N;
	out = text_of(fx);
	assert_non_null(strstr(out, "   5019  skc"));
	assert_null(strstr(out, "   5020  skc"));
	assert_non_null(strstr(out, "… 5 more processes, 50.0 MiB\n"));
	assert_non_null(strstr(out, "… 15 more commands\n"));
	assert_non_null(strstr(out, "   6009  sleep\n"));
	assert_null(strstr(out, "6010"));
	assert_non_null(strstr(out, "… 15 more\n"));
	assert_width(out);
	free(out);
}

static void test_text_write_error(void **state)
{
	struct fixture *fx = *state;
	FILE *f = fopen("/dev/full", "w");

	if (!f)
		skip();
	/* the reason itself, which is what the user needs to read */
	assert_int_equal(report_text(f, &fx->run, &fx->r), -ENOSPC);
	fclose(f);
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

/* The last line of text (cut in place), without its newline. */
static const char *last_line(char *text)
{
	char *end = text + strlen(text), *start;

	if (end > text && end[-1] == '\n')
		*--end = '\0';
	start = strrchr(text, '\n');
	return start ? start + 1 : text;
}

static void test_text_sizing_budget(void **state)
{
	struct fixture *fx = *state;
	char *out;

	fx->run.budget_bytes = 16 * GiB;
	out = text_of(fx);
	if (getenv("BMT_SHOW"))
		fputs(out, stderr);
	assert_non_null(strstr(out, "  sizing, per process (its own peak) and instances at once:\n"
				    "    COMMAND     LARGEST      MEDIAN         P95  MOST AT ONCE"
				    "  AT PEAK\n"
				    "    skc        3.32 GiB    3.32 GiB    3.32 GiB             1"
				    "        1\n"
				    "    clang     960.0 MiB   300.0 MiB   700.0 MiB             4"
				    "        1\n"));
	assert_non_null(strstr(out, "  dominant        skc holds 3.32 GiB at the peak in 1 "
				    "instance; the rest 945.0 MiB\n"
				    "  fit in budget   4 at once at its largest process peak "
				    "(3.32 GiB), 4 at p95 (3.32 GiB)\n"));
	/* the verdict is the last line */
	assert_string_equal(last_line(out), "  budget          16.0 GiB (--budget): 11.8 GiB headroom at "
				  "the peak (73.5%)");
	assert_width(out);
	free(out);

	fx->run.budget_bytes = 4 * GiB;
	fx->run.budget_gate = 1;
	fx->run.over_budget_ts = T0 + 12 * SEC + 5000000;
	out = text_of(fx);
	assert_string_equal(last_line(out), "bmtrace: over budget by 249.0 MiB (6.1%): peak 4.24 GiB, "
				  "--max-peak 4.00 GiB; first at 12.005 s");
	assert_width(out);
	free(out);
}

/* ---- Markdown ---- */

static char *markdown_of(struct fixture *fx)
{
	char *md;

	assert_int_equal(report_markdown(fx->path, &fx->run, &fx->r), 0);
	md = read_all(fx->path);
	if (getenv("BMT_SHOW"))
		fputs(md, stderr);
	return md;
}

static void test_markdown(void **state)
{
	struct fixture *fx = *state;
	const char *line;
	char *md;
	int rows = 0, tables = 0, header_cells = 0;

	fx->procs[1].comm = "cl|ang";
	fx->run.budget_bytes = 4 * GiB;
	fx->run.budget_gate = 1;
	fx->run.over_budget_ts = T0 + 12 * SEC;
	md = markdown_of(fx);
	assert_true(valid_utf8(md));
	assert_non_null(strstr(md, "### bmtrace: `make -j2`\n\n**Peak tree RSS 4.24 GiB** at "
				   "12.410 s"));
	assert_non_null(strstr(md, "exit status 0 · 35.20 s · 214 processes · 1,052,113 events, "
				   "0 lost\n"));
	assert_non_null(strstr(md, "**❌ Over budget** by 249.0 MiB (6.1%): the peak 4.24 GiB "
				   "exceeds `--max-peak` 4.00 GiB, first at 12.000 s.\n"));
	assert_non_null(strstr(md, "| 4242 | skc | compile | 3.32 GiB | 78.3% | `skc -O2 big.c` "
				   "|\n"));
	/* a pipe cannot end a cell, markup and controls are shown as text */
	assert_non_null(strstr(md, "| 4250 | cl\\|ang | compile |"));
	assert_non_null(strstr(md, "| 4201 | evil\\\\n\\\\x1b\\[2J\\\\xff\" | link | 5.00 MiB "
				   "| 0.1% | `evil say \"hi\" <svg onload=x> two\\nlines "
				   "bad\\xff\\xfe` |\n"));
	assert_null(strchr(md, '\x1b'));
	assert_non_null(strstr(md, "| compile | 4.24 GiB | 4.30 GiB | 13.000 s | 200 |\n"));
	assert_non_null(strstr(md, "| clang | 940.0 MiB | 1000.0 MiB | 150 | 960.0 MiB | 300.0 MiB "
				   "| 700.0 MiB | 4 | 4251 `skc -O2 big.c` |\n"));
	assert_non_null(strstr(md, "| ld | 0 B | 900.0 MiB | 14 | 900.0 MiB | 20.0 MiB | 880.0 MiB "
				   "| 1 |  |\n")); /* none measured: an empty cell */
	/* three tables; each row has as many cells as its header: no name split one */
	for (line = md; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *c;
		int cells = 0;

		if (*line != '|') {
			header_cells = 0;
			continue;
		}
		for (c = line; *c && *c != '\n'; c++)
			cells += *c == '|' && c[-1] != '\\';
		if (!header_cells) {
			header_cells = cells;
			tables++;
		}
		assert_int_equal(cells, header_cells);
		rows++;
	}
	assert_int_equal(tables, 3);
	assert_int_equal(rows, (2 + 3) + (2 + 2) + (2 + 3));
	free(md);

	/* within a budget: the headroom; the argv of a code span with backticks in it */
	fx->run.budget_bytes = 16 * GiB;
	fx->run.budget_gate = 0;
	fx->run.argv = (char *[]){ "sh", "-c", "echo `date`", NULL };
	md = markdown_of(fx);
	assert_non_null(strstr(md, "### bmtrace: `` sh -c echo `date` ``\n"));
	assert_non_null(strstr(md, "**✅ Within budget:** `--budget` 16.0 GiB leaves 11.8 GiB "
				   "headroom at the peak (73.5%).\n"));
	assert_non_null(strstr(md, "the budget fits **4** at once at its largest process peak"));
	free(md);

	/* a pipe is escaped in a table cell only: elsewhere a code span would show the backslash */
	fx->run.argv = (char *[]){ "sh", "-c", "a | b", NULL };
	fx->procs[0].argv = fx->run.argv;
	md = markdown_of(fx);
	assert_non_null(strstr(md, "### bmtrace: `sh -c a | b`\n"));
	assert_non_null(strstr(md, "| 78.3% | `sh -c a \\| b` |\n"));
	free(md);
}

/* ---- the timeline: CSV and SVG ---- */

/* A timeline of the fixture's run: compile, link and the root's default stage (empty). */
static struct timeline *fixture_timeline(struct fixture *fx)
{
	struct timeline *t = timeline__new();
	uint64_t st[3] = { 0, 0, 0 }, at_peak[3] = { 4340 * MiB, 5 * MiB, 0 }, tree;
	struct bmt_sample s;
	int i;

	assert_non_null(t);
	for (i = 1; i <= 35; i++) {
		st[0] = i < 13 ? (uint64_t)i * 330 * MiB : i < 30 ? 400 * MiB : 0;
		st[1] = i < 28 ? 5 * MiB : 900 * MiB / (uint64_t)(i - 26);
		tree = st[0] + st[1];
		s = (struct bmt_sample){ T0 + (uint64_t)i * SEC, tree, tree / 2, st, 3 };
		if (i == 12) /* the peak, at its own instant */
			s = (struct bmt_sample){ fx->r.peak.ts, fx->r.peak.bytes, 4300 * MiB,
						 at_peak, 3 };
		assert_int_equal(timeline__add(t, &s), 0);
	}
	return t;
}

static void test_timeline_csv(void **state)
{
	struct fixture *fx = *state;
	struct timeline *t = fixture_timeline(fx);
	char gz_path[80], buf[65536], *csv;
	gzFile gz;
	int n;

	/* a name that is not UTF-8 or holds a control is cleaned, as in Prometheus labels */
	fx->stages[0].name = "e\x1b[1m\xff\t";
	fx->stages[1].name = "li,\"nk\"\n\r";
	assert_int_equal(report_timeline(fx->path, &fx->run, &fx->r, t), 0);
	csv = read_all(fx->path);
	assert_true(valid_utf8(csv));
	assert_non_null(strstr(csv, "time_s,tree_bytes,anon_bytes,"
				    "e\xef\xbf\xbd[1m\xef\xbf\xbd\xef\xbf\xbd,"
				    "\"li,\"\"nk\"\"\n\xef\xbf\xbd\"\n1.000000000,"));
	free(csv);
	/* no column name twice: a stage named like a fixed column, two that clean alike */
	fx->stages[0].name = "tree_bytes";
	fx->stages[1].name = "time_s";
	assert_int_equal(report_timeline(fx->path, &fx->run, &fx->r, t), 0);
	csv = read_all(fx->path);
	assert_non_null(strstr(csv, "time_s,tree_bytes,anon_bytes,tree_bytes (stage 1),"
				    "time_s (stage 2)\n"));
	free(csv);
	fx->stages[0].name = "a\xff";
	fx->stages[1].name = "a\xfe";
	assert_int_equal(report_timeline(fx->path, &fx->run, &fx->r, t), 0);
	csv = read_all(fx->path);
	assert_non_null(strstr(csv, "anon_bytes,a\xef\xbf\xbd,a\xef\xbf\xbd (stage 2)\n"));
	free(csv);
	fx->stages[0].name = "compile";
	fx->stages[1].name = "li,\"nk\"";
	assert_int_equal(report_timeline(fx->path, &fx->run, &fx->r, t), 0);
	csv = read_all(fx->path);
	if (getenv("BMT_SHOW"))
		fputs(csv, stderr);
	assert_non_null(strstr(csv, "time_s,tree_bytes,anon_bytes,compile,\"li,\"\"nk\"\"\"\n"
				    "1.000000000,351272960,175636480,346030080,5242880\n"));
	/* the peak's row: its exact time and bytes, its stages' bytes at it */
	assert_non_null(strstr(csv, "\n12.410000000,4556062720,4508876800,4550819840,5242880\n"));
	assert_non_null(strstr(csv, "\n35.000000000,104857600,52428800,0,104857600\n"));

	/* the same, gzip-compressed */
	snprintf(gz_path, sizeof(gz_path), "%s.gz", fx->path);
	assert_int_equal(report_timeline(gz_path, &fx->run, &fx->r, t), 0);
	gz = gzopen(gz_path, "rb");
	assert_non_null(gz);
	n = gzread(gz, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_int_equal(gzclose(gz), Z_OK);
	assert_string_equal(buf, csv);
	unlink(gz_path);
	free(csv);
	/* a directory that is not there: an error */
	assert_int_equal(report_timeline("/nonexistent-dir/t.csv.gz", &fx->run, &fx->r, t),
			 -ENOENT);
	timeline__free(t);
}

static char *svg_of(struct fixture *fx, struct xml_check *x)
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

static void test_svg(void **state)
{
	struct fixture *fx = *state;
	struct xml_check x;
	char *svg;

	fx->run.argv = evil_argv;
	fx->stages[1].name = "a\"b<svg onload=x>";
	svg = svg_of(fx, &x);
	if (getenv("BMT_SHOW"))
		fputs(x.text, stderr);
	assert_true(strncmp(svg, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg ", 44) == 0);
	/* self-contained: nothing fetched, nothing run */
	assert_null(strstr(svg, "href"));
	assert_null(strstr(svg, "<script"));
	assert_null(strstr(svg, "url("));
	/* the peak, labelled with its value, time and the three largest processes */
	assert_non_null(strstr(x.text, "\npeak 4.24 GiB at 12.4 s\n"));
	assert_non_null(strstr(x.text, "\nskc 3.32 GiB · pid 4242\n · big.c\n"));
	assert_non_null(strstr(x.text, "\nclang 940.0 MiB · pid 4250\n"));
	assert_non_null(strstr(x.text, "\nevil\\n\\x1b[2J\\xff\" 5.00 MiB · pid 4201\n"));
	/* what each was working on: its operands, escaped like any name */
	assert_non_null(strstr(x.text, "\n · say \"hi\" <svg onload=x> two\xe2\x80\xa6\n"));
	/* hostile names are text: no second <svg> element, no attribute they could end */
	assert_non_null(strstr(x.text, "bmtrace: evil say \"hi\" <svg onload=x> two\\nlines"));
	assert_non_null(strstr(x.text, "\na\"b<svg onload=x>\n"));
	assert_non_null(strstr(svg, "a&quot;b&lt;svg onload=x&gt;"));
	assert_ptr_equal(strstr(svg, "<svg"), strstr(svg, "<svg xmlns"));
	assert_null(strstr(strstr(svg, "<svg xmlns") + 1, "<svg"));
	/* a legend entry per stage, axes in human units */
	assert_non_null(strstr(x.text, "\ncompile\n"));
	assert_non_null(strstr(x.text, "\n4 GiB\n"));
	assert_non_null(strstr(x.text, "\n35 s\n"));
	free(x.text);
	free(svg);

	/* a budget near the peak is drawn, and named in the legend */
	fx->run.budget_bytes = 4 * GiB;
	fx->run.budget_gate = 1;
	svg = svg_of(fx, &x);
	assert_non_null(strstr(x.text, "\nbudget 4.00 GiB: exceeded\n"));
	assert_non_null(strstr(x.text, "\n--max-peak 4.00 GiB\n"));
	free(x.text);
	free(svg);
}

/*
 * A backslash is shown doubled, so every escape reads back to one byte sequence: a name of
 * a backslash and an "n" is not taken for a newline, nor "\\x1b" for an ESC. In each report
 * that shows escape.h's text: the summary, the Markdown (then escaped for Markdown) and
 * the SVG.
 */
static void test_escapes_backslash(void **state)
{
	static char *argv[] = { "back\\nslash", "new\nline", "\\x1b", "dir\\", NULL };
	struct fixture *fx = *state;
	struct xml_check x;
	char *out;

	fx->run.argv = argv;
	fx->procs[2].comm = "a\\b|\\";
	fx->stages[1].name = "li\\nk";
	out = text_of(fx);
	assert_non_null(strstr(out, "bmtrace: back\\\\nslash new\\nline \\\\x1b dir\\\\\n"));
	assert_non_null(strstr(out, "  a\\\\b|\\\\ "));
	assert_non_null(strstr(out, "  li\\\\nk "));
	free(out);
	out = markdown_of(fx);
	assert_non_null(strstr(out, "### bmtrace: `back\\\\nslash new\\nline \\\\x1b dir\\\\`\n"));
	assert_non_null(strstr(out, "| 4201 | a\\\\\\\\b\\|\\\\\\\\ | link |"));
	assert_non_null(strstr(out, "\n| li\\\\\\\\nk | "));
	free(out);
	out = svg_of(fx, &x);
	assert_non_null(strstr(x.text, "bmtrace: back\\\\nslash new\\nline \\\\x1b dir\\\\\n"));
	assert_non_null(strstr(x.text, "\na\\\\b|\\\\ 5.00 MiB · pid 4201\n"));
	assert_non_null(strstr(x.text, "\nli\\\\nk\n"));
	free(x.text);
	free(out);
}

/* Nothing traced: still a valid chart, saying so. */
static void test_svg_empty(void **state)
{
	struct fixture *fx = *state;
	struct timeline *t = timeline__new();
	struct xml_check x;
	char *svg;

	assert_non_null(t);
	memset(&fx->r, 0, sizeof(fx->r));
	fx->run.argv = NULL;
	assert_int_equal(report_svg(fx->path, &fx->run, &fx->r, t), 0);
	timeline__free(t);
	svg = read_all(fx->path);
	if (!xml_check(svg, &x))
		fail_msg("the SVG is not well-formed XML: %s", x.err);
	assert_non_null(strstr(x.text, "no memory was recorded"));
	free(x.text);
	free(svg);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* ---- deaths and the run's cgroup ---- */

/*
 * The OOM killer chose skc at 12.41 s (the peak: the peak's processes held the memory), then
 * the hostile-named process died of SIGTERM at 20 s; a 4 GiB v2 cgroup counted 4.5 GiB.
 */
static void add_deaths(struct fixture *fx)
{
	struct bmt_death_event oom = { .ts = fx->r.peak.ts,
				       .proc = &fx->procs[0],
				       .tree_bytes = fx->r.peak.bytes,
				       .anon_bytes = 4205 * MiB,
				       .holders = fx->procs,
				       .n_holders = 3 };
	struct bmt_death_event kill = { .ts = fx->r.peak.ts, .signal = 9, .proc = &fx->procs[0] };
	struct bmt_death_event term = { .ts = T0 + 20 * SEC,
					.signal = 15,
					.proc = &fx->procs[2],
					.tree_bytes = 900 * MiB };

	fx->deaths = deaths__new();
	assert_non_null(fx->deaths);
	assert_int_equal(deaths__event(fx->deaths, &oom), 0);
	assert_int_equal(deaths__event(fx->deaths, &kill), 0);
	assert_int_equal(deaths__event(fx->deaths, &term), 0);
	fx->run.deaths = fx->deaths;
	fx->run.cgroup = (struct bmt_cgroup){ .version = 2,
					      .path = "/sys/fs/cgroup/bmtrace-7",
					      .peak_bytes = 4608 * MiB,
					      .limit_bytes = 4 * GiB,
					      .oom_kills = 1,
					      .swap_peak_bytes = 0,
					      .memsw_peak_bytes = BMT_CGROUP_NONE };
}

static void test_text_deaths(void **state)
{
	struct fixture *fx = *state;
	char *out;

	add_deaths(fx);
	out = text_of(fx);
	if (getenv("BMT_SHOW"))
		fputs(out, stderr);
	assert_non_null(strstr(out, "  WARNING: the OOM killer killed 1 process of the tree "
				    "(COMMAND still exited 0)\n"));
	assert_non_null(strstr(out, "  cgroup peak      4.50 GiB  (cgroup v2 memory.peak; limit "
				    "4.00 GiB; 1 OOM kill)\n"));
	assert_non_null(strstr(out, "  killed by a signal: 2 processes, 1 by the OOM killer\n"));
	assert_non_null(strstr(out, "           TIME      PID  COMMAND         SIGNAL               "
				    "    OWN        TREE  ARGS\n"));
	assert_non_null(strstr(out, "     12.410 s     4242  skc             SIGKILL (OOM)       "
				    "3.32 GiB    4.24 GiB  skc -O2 big.c\n"));
	/* a hostile name is escaped, and cut to the column */
	assert_non_null(strstr(out, "     20.000 s     4201  evil\\n\\x1b[2J…  SIGTERM"));
	assert_null(strchr(out, '\x1b'));
	assert_non_null(strstr(out, "  when the OOM killer chose 4242 (skc) at 12.410 s, the tree "
				    "held 4.24 GiB:\n"));
	/* the holders' table, like the peak's: the same rows a second time */
	assert_non_null(strstr(strstr(out, "when the OOM killer"),
			       "   4242  skc             compile    3.32 GiB   78.3%  skc -O2 big.c\n"));
	assert_width(out);
	free(out);

	/* a failed COMMAND: the warning does not say it exited 0 */
	fx->run.exit_code = 2;
	out = text_of(fx);
	assert_non_null(strstr(out, "killed 1 process of the tree\n"));
	free(out);
	/* a victim the tracepoint missed still counts, from the cgroup's count */
	fx->run.cgroup.oom_kills = 3;
	out = text_of(fx);
	assert_non_null(strstr(out, "killed 3 processes of the tree\n"));
	free(out);
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

static void test_markdown_deaths(void **state)
{
	struct fixture *fx = *state;
	char *md;

	add_deaths(fx);
	md = markdown_of(fx);
	assert_non_null(strstr(md, "**Cgroup peak 4.50 GiB** (cgroup v2; limit 4.00 GiB; 1 OOM "
				   "kill)\n"));
	assert_non_null(strstr(md, "> **❌ The OOM killer killed 1 process of the tree** (COMMAND "
				   "still exited 0).\n"));
	assert_non_null(strstr(md, "| 12.410 s | 4242 | skc | 9 | yes | 3.32 GiB | 4.24 GiB | "
				   "`skc -O2 big.c` |\n"));
	assert_non_null(strstr(md, "| 20.000 s | 4201 | evil\\\\n"));
	assert_non_null(strstr(md, "#### Who held the memory when the OOM killer chose 4242 (skc) "
				   "at 12.410 s: 4.24 GiB\n\n| PID |"));
	assert_null(strchr(md, '\x1b'));
	free(md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_json_schema1),	      T(test_json_hostile_strings),
		T(test_json_invalid_utf8),    T(test_json_signal_attached_lost),
		T(test_json_empty),	      T(test_json_write_error),
		T(test_text_summary),	      T(test_text_escapes),
		T(test_text_escapes_unicode), T(test_text_signal_attached_lost),
		T(test_text_long_lists),      T(test_text_write_error),
		T(test_json_sizing_budget),   T(test_text_sizing_budget),
		T(test_markdown),	      T(test_timeline_csv),
		T(test_svg),		      T(test_svg_empty),
		T(test_escapes_backslash),    T(test_text_deaths),
		T(test_json_deaths),	      T(test_markdown_deaths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
