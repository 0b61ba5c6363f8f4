// modules: perfetto timeline collector hooks mm result names sizing tally record table stages escape util
/* perfetto: the per-process series, bounded, keeping each window's largest and every exit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include "perfetto.h"
#include "records.h"

#define MS 1000000ull

/* The trace p writes, parsed; run starts at ts 0. */
static cJSON *trace_of(struct perfetto *p)
{
	char path[] = "/tmp/bmt-perfetto-XXXXXX";
	struct bmt_run run = { .start_ts = 0 };
	int fd = mkstemp(path);
	FILE *f;
	char *text;
	long n;
	cJSON *j;

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(perfetto__write(p, path, &run, NULL), 0);
	f = fopen(path, "r");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	unlink(path);
	j = cJSON_Parse(text);
	free(text);
	assert_non_null(j);
	return j;
}

/* The counter points of pid, as (ts in us, bytes) pairs into out; how many. */
static size_t points(cJSON *j, int pid, double (*out)[2], size_t max)
{
	size_t n = 0;
	cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "traceEvents"))
	{
		if (strcmp(cJSON_GetObjectItem(e, "ph")->valuestring, "C") ||
		    cJSON_GetObjectItem(e, "pid")->valueint != pid)
			continue;
		if (n < max) {
			out[n][0] = cJSON_GetObjectItem(e, "ts")->valuedouble;
			out[n][1] = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "args"), "bytes")
					    ->valuedouble;
		}
		n++;
	}
	return n;
}

static void test_windows(void **state)
{
	struct perfetto *p = perfetto__new();
	double pts[8][2];
	cJSON *j;

	assert_non_null(p);
	/* within one 1 ms window: the largest is kept, at the window's first point's time */
	perfetto__proc(p, 10 * MS, 42, 100);
	perfetto__proc(p, 10 * MS + 100, 42, 900);
	perfetto__proc(p, 10 * MS + 200, 42, 300);
	/* a fall to 0 has a point of its own, even in the same window */
	perfetto__proc(p, 10 * MS + 300, 42, 0);
	perfetto__proc(p, 20 * MS, 42, 50);
	j = trace_of(p);
	assert_int_equal(points(j, 42, pts, 8), 3);
	assert_true(pts[0][0] == 10000.0 && pts[0][1] == 900);
	assert_true(pts[1][0] == 10000.3 && pts[1][1] == 0);
	assert_true(pts[2][0] == 20000.0 && pts[2][1] == 50);
	cJSON_Delete(j);
	perfetto__free(p);
}

/* Past PERFETTO_MAX_SAMPLES points the windows double: bounded, the largest kept. */
static void test_bounded(void **state)
{
	struct perfetto *p = perfetto__new();
	size_t n = 3 * PERFETTO_MAX_SAMPLES;
	static double pts[PERFETTO_MAX_SAMPLES + 1][2];
	double top = 0;
	size_t got;
	cJSON *j;

	assert_non_null(p);
	for (size_t i = 0; i < n; i++) /* a point every 2 ms, one of them far above */
		perfetto__proc(p, i * 2 * MS, 7, i == n / 2 ? 1u << 30 : 1000 + i % 7);
	assert_false(perfetto__failed(p));
	j = trace_of(p);
	got = points(j, 7, pts, PERFETTO_MAX_SAMPLES + 1);
	fprintf(stderr, "  %zu points kept of %zu\n", got, n);
	assert_true(got <= PERFETTO_MAX_SAMPLES);
	for (size_t i = 0; i < got; i++)
		top = pts[i][1] > top ? pts[i][1] : top;
	assert_true(top == (double)(1u << 30));
	cJSON_Delete(j);
	perfetto__free(p);
}

/* The name of the track whose trace pid is id, or NULL. */
static const char *track_name(cJSON *j, double id)
{
	cJSON *e;

	cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "traceEvents"))
		if (!strcmp(cJSON_GetObjectItem(e, "name")->valuestring, "process_name") &&
		    cJSON_GetObjectItem(e, "pid")->valuedouble == id)
			return cJSON_GetObjectItem(cJSON_GetObjectItem(e, "args"), "name")
				->valuestring;
	return NULL;
}

/* A pid reused after its process exited: the new process gets a track of its own. */
static void test_pid_reuse(void **state)
{
	struct perfetto *p = perfetto__new();
	struct rec_buf rb;
	double pts[4][2];
	cJSON *j;

	assert_non_null(p);
	assert_int_equal(perfetto__record(p, rb.b, rec_fork(rb.b, 1 * MS, 0, 1, 5, 1, 2, "cc1")), 0);
	perfetto__proc(p, 1 * MS, 5, 4096);
	perfetto__proc(p, 2 * MS, 5, 0);
	assert_int_equal(perfetto__record(p, rb.b, rec_exit(rb.b, 2 * MS, 5, 0)), 0);
	assert_int_equal(perfetto__record(p, rb.b, rec_fork(rb.b, 3 * MS, 0, 1, 5, 1, 3, "ld")), 0);
	perfetto__proc(p, 3 * MS, 5, 8192);
	j = trace_of(p);
	assert_string_equal(track_name(j, 5), "cc1");
	assert_string_equal(track_name(j, 5 + (1 << 22)), "ld (pid 5)");
	assert_int_equal(points(j, 5, pts, 4), 2);
	assert_int_equal(points(j, 5 + (1 << 22), pts, 4), 1);
	assert_true(pts[0][1] == 8192);
	cJSON_Delete(j);
	perfetto__free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_windows),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_pid_reuse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
