// SPDX-License-Identifier: MIT
/*
 * counters - the two counter sources (user/kernel/tracer.h) against each other and against
 * /proc: btf-percpu (the default here) reads each counter itself, the classic tracepoint
 * (BMTRACE_COUNTER_SOURCE=tracepoint, the fallback) gets the kernel's own sum.
 *
 * Both sources see every change of a counter, so one run traced by both at once (a
 * tracepoint bmtrace running a btf-percpu bmtrace running the workload, each recording a
 * trace, with BMTRACE_RUNS=off: a record per event) gives two sequences of values for the
 * workload's address space to compare:
 *   - a single-threaded workload: all values equal, one for one;
 *   - threads faulting one address space on two CPUs at once: each source reads a counter
 *     that other CPUs change without its lock (the kernel's own sum does too), so a value
 *     may miss a change that lands during the read. Tolerance: the same number of values,
 *     the same final values, and at least 99% of the values no more than TOLERANCE_PAGES
 *     pages apart: what the other thread can fault in while a read is in flight. A read
 *     whose CPU is taken away meanwhile (a virtual CPU descheduled by its host: 65 pages
 *     apart was seen once under ASan at a load average of 20) may miss more, so the largest
 *     difference, like how many differ at all, depends on the machine: only printed.
 * With runs (the default), the btf-percpu trace holds the last value of each run of
 * increases, read the way a run reads it (bpf/pcpu_sum.h): for a single-threaded workload
 * its values are a subsequence of the tracepoint's, and the peaks are the same.
 */
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include "bmtrace.h"
#include "counters.h"
#include "harness.h"

#define MAX_VALUES (1u << 20)
#define TOLERANCE_PAGES 32
#define ORACLE_REL 0.01 /* bmtrace against /proc at the same instant */

/* The values of one address space's counters, in the order a trace recorded them. */
struct seq {
	uint32_t n;
	uint32_t member[MAX_VALUES];
	uint64_t bytes[MAX_VALUES];
};

static char *gunzip(const char *path, size_t *len)
{
	gzFile gz = gzopen(path, "rb");
	size_t cap = 1 << 20, n = 0;
	char *buf = malloc(cap);
	int got;

	if (!gz || !buf)
		fail_msg("cannot read %s", path);
	while ((got = gzread(gz, buf + n, (unsigned int)(cap - n))) > 0) {
		n += (size_t)got;
		if (n == cap) {
			char *more = realloc(buf, cap * 2);

			assert_non_null(more);
			buf = more;
			cap *= 2;
		}
	}
	gzclose(gz);
	*len = n;
	return buf;
}

/* Every record of trace path, to fn (tracefile.h's format: a header, then records). */
static void for_each_record(const char *path, void (*fn)(const struct bmt_hdr *, void *),
			    void *arg)
{
	size_t len, at;
	char *buf = gunzip(path, &len);
	uint32_t hlen;

	assert_true(len > 16);
	memcpy(&hlen, buf + 12, sizeof(hlen));
	for (at = hlen; at + sizeof(struct bmt_hdr) <= len;) {
		struct bmt_hdr h;

		memcpy(&h, buf + at, sizeof(h));
		assert_true(h.size >= sizeof(h) && at + h.size <= len);
		fn((const struct bmt_hdr *)(buf + at), arg);
		at += h.size;
	}
	free(buf);
}

struct find {
	const char *program; /* the exec'd file name's last component */
	uint32_t mm_key;
	struct seq *seq;
};

static void find_exec(const struct bmt_hdr *h, void *arg)
{
	const struct bmt_exec *e = (const void *)h;
	struct find *f = arg;
	const char *slash;

	if (h->type != BMT_REC_EXEC)
		return;
	slash = strrchr(e->data, '/');
	if (!strcmp(slash ? slash + 1 : e->data, f->program))
		f->mm_key = e->mm_key;
}

static void take_rss(const struct bmt_hdr *h, void *arg)
{
	const struct bmt_rss *r = (const void *)h;
	struct find *f = arg;

	if (h->type != BMT_REC_RSS || r->mm_key != f->mm_key)
		return;
	assert_true(f->seq->n < MAX_VALUES);
	f->seq->member[f->seq->n] = r->member;
	f->seq->bytes[f->seq->n++] = r->bytes;
}

/* The values of the address space program exec'd into, in trace path. */
static void values_of(const char *path, const char *program, struct seq *seq)
{
	struct find f = { program, 0, seq };

	seq->n = 0;
	for_each_record(path, find_exec, &f);
	if (!f.mm_key)
		fail_msg("%s: no exec of %s", path, program);
	for_each_record(path, take_rss, &f);
	fprintf(stderr, "  %s: %u values of %s's address space (key %u)\n", path, seq->n,
		program, f.mm_key);
}

static const char *source_of(const char *json)
{
	static char src[32];
	cJSON *j = itest_load_json(json);
	const cJSON *s = j ? cJSON_GetObjectItemCaseSensitive(j, "counter_source") : NULL;

	if (!cJSON_IsString(s))
		fail_msg("%s has no counter_source", json);
	snprintf(src, sizeof(src), "%s", s->valuestring);
	cJSON_Delete(j);
	return src;
}

/*
 * COMMAND (workload args) traced by a tracepoint bmtrace running a btf-percpu bmtrace; the
 * two sequences of the workload's address space in *tp and *btf.
 */
static void trace_twice(struct itest_ctx *ctx, const char *program, const char *const args[],
			const char *btf_runs, struct seq *tp, struct seq *btf)
{
	char tp_trace[PATH_MAX + 32], btf_trace[PATH_MAX + 32], tp_json[PATH_MAX + 32],
		btf_json[PATH_MAX + 32], path[PATH_MAX + 32];
	const char *argv[32] = { itest.bmtrace, "-q", "-w", tp_trace, "--json", tp_json, "--",
				 "/usr/bin/env", "BMTRACE_COUNTER_SOURCE=btf-percpu", btf_runs,
				 itest.bmtrace, "-q", "-w", btf_trace, "--json", btf_json, "--",
				 path };
	static const char *const env[] = { "BMTRACE_COUNTER_SOURCE=tracepoint",
					   "BMTRACE_RUNS=off", NULL };
	int n = 18, st;

	snprintf(tp_trace, sizeof(tp_trace), "%s", itest_path(ctx, "tp.bmt"));
	snprintf(btf_trace, sizeof(btf_trace), "%s", itest_path(ctx, "btf.bmt"));
	snprintf(tp_json, sizeof(tp_json), "%s", itest_path(ctx, "tp.json"));
	snprintf(btf_json, sizeof(btf_json), "%s", itest_path(ctx, "btf.json"));
	snprintf(path, sizeof(path), "%s/%s", itest.workloads, program);
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	st = itest_wait(ctx, itest_start(ctx, argv, env), ITEST_TIMEOUT_S);
	if (st) {
		itest_dump_err(ctx, "bmtrace");
		fail_msg("bmtrace in bmtrace exited %d", st);
	}
	assert_string_equal(source_of(tp_json), "tracepoint");
	assert_string_equal(source_of(btf_json), "btf-percpu");
	values_of(tp_trace, program, tp);
	values_of(btf_trace, program, btf);
}

/* One process faulting in and freeing its own pages: every value of both sources equal. */
static void test_sources_agree_single_thread(void **state)
{
	static struct seq tp, btf;
	struct itest_ctx *ctx = *state;
	static const char *const args[] = { "64", "3", NULL };
	uint32_t differ = 0;

	itest_need_root();
	trace_twice(ctx, "faultstorm", args, "BMTRACE_RUNS=off", &tp, &btf);
	assert_true(tp.n > 3 * 16384); /* 3 rounds of 64 MiB in 4 KiB pages */
	assert_int_equal(tp.n, btf.n);
	for (uint32_t i = 0; i < tp.n; i++) {
		assert_int_equal(tp.member[i], btf.member[i]);
		if (tp.bytes[i] != btf.bytes[i] && differ++ < 5)
			fprintf(stderr, "  value %u (member %u): tracepoint %" PRIu64
				", btf-percpu %" PRIu64 "\n", i, tp.member[i], tp.bytes[i],
				btf.bytes[i]);
	}
	fprintf(stderr, "  %u of %u values differ\n", differ, tp.n);
	assert_int_equal(differ, 0);
}

/* Two threads faulting one address space on two CPUs: equal within the stated tolerance. */
static void test_sources_agree_threads(void **state)
{
	static struct seq tp, btf;
	struct itest_ctx *ctx = *state;
	static const char *const args[] = { "threads", "2", "128", NULL };
	uint64_t last_tp[BMT_NR_MEMBERS] = { 0 }, last_btf[BMT_NR_MEMBERS] = { 0 };
	uint64_t page = 4096, worst = 0;
	uint32_t differ = 0, beyond = 0;

	itest_need_root();
	trace_twice(ctx, "memhog", args, "BMTRACE_RUNS=off", &tp, &btf);
	assert_int_equal(tp.n, btf.n);
	for (uint32_t i = 0; i < tp.n; i++) {
		uint64_t d = tp.bytes[i] > btf.bytes[i] ? tp.bytes[i] - btf.bytes[i] :
							   btf.bytes[i] - tp.bytes[i];

		assert_int_equal(tp.member[i], btf.member[i]);
		differ += d != 0;
		beyond += d > TOLERANCE_PAGES * page;
		worst = d > worst ? d : worst;
		last_tp[tp.member[i] % BMT_NR_MEMBERS] = tp.bytes[i];
		last_btf[btf.member[i] % BMT_NR_MEMBERS] = btf.bytes[i];
	}
	fprintf(stderr, "  %u of %u values differ, by at most %" PRIu64 " pages; %u by more than %u\n",
		differ, tp.n, worst / page, beyond, TOLERANCE_PAGES);
	assert_memory_equal(last_tp, last_btf, sizeof(last_tp));
	assert_true(beyond * 100ull <= tp.n); /* at least 99% within the tolerance */
}

/*
 * Runs (the default) against every event: the btf-percpu values, read through runs, are
 * the tracepoint's values at the ends of runs - in order, a few of them - with the same
 * last value and the same largest value of each counter.
 */
static void test_runs_keep_the_values(void **state)
{
	static struct seq tp, btf;
	struct itest_ctx *ctx = *state;
	static const char *const args[] = { "64", "3", NULL };
	uint64_t last_tp[BMT_NR_MEMBERS] = { 0 }, last_btf[BMT_NR_MEMBERS] = { 0 };
	uint64_t max_tp[BMT_NR_MEMBERS] = { 0 }, max_btf[BMT_NR_MEMBERS] = { 0 };
	uint32_t i, at = 0;

	itest_need_root();
	trace_twice(ctx, "faultstorm", args, "BMTRACE_RUNS=on", &tp, &btf);
	assert_true(tp.n > 3 * 16384);
	fprintf(stderr, "  %u events, %u values kept\n", tp.n, btf.n);
	assert_true(btf.n * 10 < tp.n); /* runs of a millisecond hold hundreds of faults */
	for (i = 0; i < btf.n; i++) {
		while (at < tp.n &&
		       (tp.member[at] != btf.member[i] || tp.bytes[at] != btf.bytes[i]))
			at++;
		if (at == tp.n)
			fail_msg("value %u (member %u, %" PRIu64 " B) is not among the tracepoint's, "
				 "in order", i, btf.member[i], btf.bytes[i]);
		at++;
	}
	for (i = 0; i < tp.n; i++) {
		last_tp[tp.member[i] % BMT_NR_MEMBERS] = tp.bytes[i];
		if (tp.bytes[i] > max_tp[tp.member[i] % BMT_NR_MEMBERS])
			max_tp[tp.member[i] % BMT_NR_MEMBERS] = tp.bytes[i];
	}
	for (i = 0; i < btf.n; i++) {
		last_btf[btf.member[i] % BMT_NR_MEMBERS] = btf.bytes[i];
		if (btf.bytes[i] > max_btf[btf.member[i] % BMT_NR_MEMBERS])
			max_btf[btf.member[i] % BMT_NR_MEMBERS] = btf.bytes[i];
	}
	assert_memory_equal(last_tp, last_btf, sizeof(last_tp));
	assert_memory_equal(max_tp, max_btf, sizeof(max_tp)); /* its peak, each counter's */
	assert_true(max_btf[BMT_ANON] >= 64ull << 20);
}

/*
 * The fallback, forced: -v says which source counted, the JSON too, and the peak is still
 * what /proc shows at the peak.
 */
static void test_forced_tracepoint_is_exact(void **state)
{
	struct itest_ctx *ctx = *state;
	char json[PATH_MAX + 32], *err;
	const char *const *oracle = itest_oracle_env(ctx);
	const char *env[] = { oracle[0], oracle[1], "BMTRACE_COUNTER_SOURCE=tracepoint", NULL };
	const char *argv[] = { itest.bmtrace, "-v", "--json", json, "--", itest.memhog, "spawn",
			       "200", "100", NULL };
	pid_t pids[ITEST_MAX_PIDS], bmt;
	uint64_t sum = 0;
	double peak;
	cJSON *j;
	int n;

	itest_need_root();
	snprintf(json, sizeof(json), "%s", itest_path(ctx, "result.json"));
	bmt = itest_start(ctx, argv, env);
	n = itest_wait_peak(ctx, pids, ITEST_MAX_PIDS, bmt);
	assert_int_equal(n, 2);
	for (int i = 0; i < n; i++)
		sum += itest_proc_rss(pids[i]);
	assert_int_equal(itest_release(ctx), 0);
	assert_int_equal(itest_wait(ctx, bmt, ITEST_TIMEOUT_S), 0);
	err = itest_slurp(ctx->err, NULL);
	assert_non_null(err);
	if (!strstr(err, "bmtrace: counter source: tracepoint (BMTRACE_COUNTER_SOURCE=tracepoint)"))
		fail_msg("-v does not say the source: %s", err);
	free(err);
	assert_string_equal(source_of(json), "tracepoint");
	j = itest_load_json(json);
	peak = itest_jnum(j, "peak.bytes");
	fprintf(stderr, "  tree peak %.0f B, /proc %" PRIu64 " B\n", peak, sum);
	assert_true(peak >= sum * (1 - ORACLE_REL) && peak <= sum * (1 + ORACLE_REL));
	assert_int_equal(itest_jnum(j, "lost_events") + itest_jnum(j, "unpaired_events"), 0);
	cJSON_Delete(j);
}

/* The default here is btf-percpu, said by -v with its self-test; a bad value is refused. */
static void test_default_source(void **state)
{
	struct itest_ctx *ctx = *state;
	const char *argv[] = { itest.bmtrace, "-v", "--", "/bin/true", NULL };
	static const char *const bad[] = { "BMTRACE_COUNTER_SOURCE=perf", NULL };
	char *err;

	itest_need_root();
	assert_int_equal(itest_run(ctx, argv, NULL), 0);
	err = itest_slurp(ctx->err, NULL);
	assert_non_null(err);
	if (!strstr(err, "bmtrace: counter source: btf-percpu (self-test: "))
		fail_msg("-v does not say btf-percpu: %s", err);
	free(err);
	assert_int_equal(itest_run(ctx, argv, bad), 125);
	err = itest_slurp(ctx->err, NULL);
	assert_non_null(err);
	assert_non_null(strstr(err, "BMTRACE_COUNTER_SOURCE is btf-percpu or tracepoint, not "));
	free(err);
}

#define TEST(f) cmocka_unit_test_setup_teardown(f, itest_setup, itest_teardown)

int counters_run(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_sources_agree_single_thread),
		TEST(test_sources_agree_threads),
		TEST(test_runs_keep_the_values),
		TEST(test_forced_tracepoint_is_exact),
		TEST(test_default_source),
	};

	return cmocka_run_group_tests_name("counter sources", tests, NULL, NULL);
}
