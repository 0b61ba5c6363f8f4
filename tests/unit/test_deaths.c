// modules: deaths collector hooks mm result names sizing tally record table stages escape util
// SPDX-License-Identifier: MIT
/*
 * deaths: the tree's deaths by signal and OOM kills, fed through the collector from
 * hand-built records: who died, of what, when, its bytes and the tree's at that instant, and
 * for an OOM kill who held the memory then.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "records.h"
#include "collector.h"
#include "deaths.h"

struct run {
	struct collector *c;
	struct deaths *d;
	struct feeder f;
};

/*
 * make (10 MiB) runs cc1 (300 MiB) and ld (100 MiB) at once: pids 100, 101, 102, address
 * spaces 1, 3, 4.
 */
static void build(struct feeder *f)
{
	feed_add_root(f, 100, ARGV("make", "-j2"));
	feed_rss(f, 1, BMT_ANON, 10 * MiB);
	feed_exec(f, 100, 1, "/usr/bin/make", ARGV("make", "-j2"));
	feed_fork(f, 100, 101, 1, 2, "make");
	feed_exec(f, 101, 3, "/usr/lib/gcc/cc1", ARGV("cc1", "-O2", "big.c"));
	feed_rss(f, 3, BMT_ANON, 296 * MiB);
	feed_rss(f, 3, BMT_FILE, 4 * MiB);
	feed_fork(f, 100, 102, 1, 4, "make");
	feed_exec(f, 102, 4, "/usr/bin/ld", ARGV("ld", "-o", "app"));
	feed_rss(f, 4, BMT_ANON, 100 * MiB);
}

/* A collector telling a deaths of its deaths, fed build(). */
static void run_start(struct run *r)
{
	r->c = collector__new(NULL);
	r->d = deaths__new();
	assert_non_null(r->c);
	assert_non_null(r->d);
	collector__on_death(r->c, deaths__event, r->d);
	feeder_init(&r->f, r->c);
	build(&r->f);
}

static void run_end(struct run *r)
{
	collector__free(r->c);
	deaths__free(r->d);
}

static void assert_argv(char *const *argv, const char *const want[])
{
	size_t i;

	for (i = 0; want[i]; i++) {
		assert_non_null(argv[i]);
		assert_string_equal(argv[i], want[i]);
	}
	assert_null(argv[i]);
}

/* The OOM killer chooses cc1: one entry, made at the mark, completed by the SIGKILL exit. */
static void test_oom_kill(void **state)
{
	const struct bmt_death *l;
	struct run r;
	uint64_t ts;
	size_t n;

	run_start(&r);
	ts = feed_oom(&r.f, 101);
	/* the OOM reaper frees the victim's anon memory before its exit */
	feed_rss(&r.f, 3, BMT_ANON, 0);
	feed_exit_status(&r.f, 101, SIGKILL);
	feed_exit_status(&r.f, 100, 2 << 8); /* make fails: exit 2, no signal, no entry */
	l = deaths__list(r.d, &n);
	assert_int_equal(n, 1);
	assert_int_equal(deaths__oom_kills(r.d), 1);
	assert_int_equal(l[0].pid, 101);
	assert_int_equal(l[0].ppid, 100);
	assert_string_equal(l[0].comm, "cc1");
	assert_argv(l[0].argv, ARGV("cc1", "-O2", "big.c"));
	assert_int_equal(l[0].signal, SIGKILL);
	assert_true(l[0].oom);
	assert_int_equal(l[0].ts, ts);
	/* at the mark, before the reaper: its own 300 MiB, the tree's 410 MiB */
	assert_int_equal(l[0].bytes, 300 * MiB);
	assert_int_equal(l[0].tree_bytes, 410 * MiB);
	assert_int_equal(l[0].anon_bytes, 406 * MiB);
	/* who held it: largest first, adding up to the tree */
	assert_int_equal(l[0].n_holders, 3);
	assert_int_equal(l[0].holders[0].pid, 101);
	assert_int_equal(l[0].holders[0].bytes, 300 * MiB);
	assert_int_equal(l[0].holders[0].file_bytes, 4 * MiB);
	assert_int_equal(l[0].holders[1].pid, 102);
	assert_string_equal(l[0].holders[1].comm, "ld");
	assert_argv(l[0].holders[1].argv, ARGV("ld", "-o", "app"));
	assert_int_equal(l[0].holders[1].bytes, 100 * MiB);
	assert_int_equal(l[0].holders[2].pid, 100);
	assert_int_equal(l[0].holders[2].bytes, 10 * MiB);
	/* the entry's names outlive the collector that held them */
	collector__free(r.c);
	r.c = NULL;
	assert_string_equal(l[0].holders[2].comm, "make");
	assert_string_equal(l[0].stage, "make");
	run_end(&r);
}

/* Deaths by other signals: listed with their signal, not OOM, without a holders table. */
static void test_signals(void **state)
{
	const struct bmt_death *l;
	struct run r;
	uint64_t ts;
	size_t n;

	run_start(&r);
	ts = feed_exit_status(&r.f, 102, SIGTERM);
	feed_exit_status(&r.f, 101, 0x80 | SIGSEGV); /* dumped core */
	feed_exit_status(&r.f, 100, 0);
	l = deaths__list(r.d, &n);
	assert_int_equal(n, 2);
	assert_int_equal(deaths__oom_kills(r.d), 0);
	assert_int_equal(l[0].pid, 102);
	assert_int_equal(l[0].signal, SIGTERM);
	assert_false(l[0].oom);
	assert_int_equal(l[0].ts, ts);
	assert_int_equal(l[0].bytes, 100 * MiB);
	assert_int_equal(l[0].tree_bytes, 410 * MiB);
	assert_int_equal(l[0].n_holders, 0);
	assert_null(l[0].holders);
	assert_int_equal(l[1].pid, 101);
	assert_int_equal(l[1].signal, SIGSEGV);
	/* ld's pages count until they are freed (no RSS record brought them down) */
	assert_int_equal(l[1].tree_bytes, 410 * MiB);
	run_end(&r);
}

/*
 * A victim whose exit never came (tracing stopped first) keeps SIGKILL; a second mark of the
 * same process adds nothing; a mark for a pid outside the tree is ignored; a SIGKILL by
 * someone else after a victim's exit is its own entry.
 */
static void test_marks(void **state)
{
	const struct bmt_death *l;
	struct run r;
	size_t n;

	run_start(&r);
	feed_oom(&r.f, 999);
	feed_oom(&r.f, 102);
	feed_oom(&r.f, 102);
	l = deaths__list(r.d, &n);
	assert_int_equal(n, 1);
	assert_int_equal(l[0].signal, SIGKILL);
	assert_true(l[0].oom);
	assert_int_equal(l[0].n_holders, 3);
	feed_exit_status(&r.f, 102, SIGKILL);
	feed_exit_status(&r.f, 101, SIGKILL);
	l = deaths__list(r.d, &n);
	assert_int_equal(n, 2);
	assert_int_equal(deaths__oom_kills(r.d), 1);
	assert_int_equal(l[1].pid, 101);
	assert_false(l[1].oom);
	assert_int_equal(l[1].signal, SIGKILL);
	run_end(&r);
}

/*
 * Without a hook, OOM records are accepted and change nothing; a short one, or one naming a
 * pid past the kernel's limit, is rejected.
 */
static void test_no_hook(void **state)
{
	struct collector *c = collector__new(NULL);
	const struct bmt_result *res;
	struct rec_buf rb;
	struct feeder f;
	size_t len;

	assert_non_null(c);
	feeder_init(&f, c);
	build(&f);
	feed_oom(&f, 101);
	len = rec_oom(rb.b, feeder_tick(&f), 101);
	assert_int_equal(collector__feed(c, rb.b, len - 1), -EINVAL);
	len = rec_oom(rb.b, feeder_tick(&f), BMT_PID_MAX + 1); /* no such pid */
	assert_int_equal(collector__feed(c, rb.b, len), -EINVAL);
	res = collector__result(c);
	assert_int_equal(res->peak.bytes, 410 * MiB);
	assert_int_equal(res->rejected, 2);
	collector__free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_oom_kill),
	    cmocka_unit_test(test_signals),
	    cmocka_unit_test(test_marks),
	    cmocka_unit_test(test_no_hook),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
