// modules:
// SPDX-License-Identifier: MIT
/*
 * pcpu_sum.h, the btf-percpu counter read, against a simulated percpu_counter of 256 slots
 * (the kernel's: an add changes its CPU's slot, a slot reaching the batch is flushed into
 * count): exact values, the loads it takes per event, and concurrent flushes landing
 * between its loads.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/types.h>

#define NCPU 256
#define BATCH 512 /* the kernel's percpu_counter_batch: max(32, 2 * CPUs) */

struct sim {
	__s64 count;
	int locked;
	__s32 slot[NCPU];
	unsigned int loads;      /* slot loads */
	unsigned int act_at;     /* run act at this load (count and slot loads alike); 0: never */
	unsigned int all_loads;
	void (*act)(struct sim *);
};

struct bmt_pc_src {
	struct sim *sim;
};

static void tick(struct sim *s)
{
	if (s->act && ++s->all_loads == s->act_at)
		s->act(s);
}

static __always_inline __s64 bmt_pc_count(const struct bmt_pc_src *src)
{
	tick(src->sim);
	return src->sim->count;
}

static __always_inline int bmt_pc_locked(const struct bmt_pc_src *src)
{
	tick(src->sim);
	return src->sim->locked;
}

static __always_inline __s32 bmt_pc_slot(const struct bmt_pc_src *src, __u32 cpu)
{
	src->sim->loads++;
	tick(src->sim);
	/* cppcheck-suppress arrayIndexOutOfBounds ; cpu < ncpu, which is NCPU in every test */
	return src->sim->slot[cpu];
}

#include "pcpu_sum.h"

static void add(struct sim *s, unsigned int cpu, int amount)
{
	s->slot[cpu] += amount;
	if (abs(s->slot[cpu]) >= BATCH) {
		s->count += s->slot[cpu];
		s->slot[cpu] = 0;
	}
}

static __s64 truth(const struct sim *s)
{
	__s64 v = s->count;

	for (int i = 0; i < NCPU; i++)
		v += s->slot[i];
	return v < 0 ? 0 : v;
}

static __s64 event(struct sim *s, struct bmt_pc_cache *c, unsigned int cpu, int user,
		   enum bmt_pc_path *path)
{
	struct bmt_pc_src src = { s };
	struct bmt_pc_used used;

	return bmt_pc_read(c, &src, cpu, NCPU, user, path, &used);
}

/* An event, and its value checked against the counter's once it is done. */
#define assert_exact(s, c, cpu, user, path)                                                        \
	do {                                                                                       \
		__s64 v_ = event(s, c, cpu, user, path);                                           \
		assert_int_equal(v_, truth(s));                                                    \
	} while (0)

/*
 * One process faulting its own pages, moved to another of the 256 CPUs every 1,000 events,
 * freeing now and then: every value exact, one slot load per event but after a move or
 * on every 64th (the refresh).
 */
static void test_one_thread_migrating(void **state)
{
	static struct sim s;
	struct bmt_pc_cache c = {};
	unsigned int cpu = 7, fast = 0, n = 200000;
	enum bmt_pc_path path;

	srand(1);
	memset(&s, 0, sizeof(s));
	for (unsigned int i = 0; i < n; i++) {
		if (i % 1000 == 999)
			cpu = (unsigned int)rand() % NCPU;
		add(&s, cpu, i % 97 == 0 ? -(rand() % 40) : 1 + rand() % 3);
		assert_exact(&s, &c, cpu, 1, &path);
		fast += path == BMT_PC_FAST;
	}
	/* full sums: 1 in 64, the first event after each move, one per flush (a batch of 512
	 * pages, ~2 per event here) */
	assert_true(fast >= n - n / 64 - n / 1000 - n / 200);
	/* 256 loads per full sum, 1 per fast read: ~6 per event, not 256 */
	fprintf(stderr, "  %u of %u reads from the cache, %.1f slot loads per event\n", fast, n,
		(double)s.loads / n);
	assert_true(s.loads <= fast + (n - fast) * (NCPU + 1));
	assert_true(s.loads / n < 8);
}

/* Threads of one process on 256 CPUs in turn: each change of CPU reads every slot, exact. */
static void test_threads_take_turns(void **state)
{
	static struct sim s;
	struct bmt_pc_cache c = {};
	enum bmt_pc_path path;

	memset(&s, 0, sizeof(s));
	for (unsigned int i = 0; i < 20000; i++) {
		unsigned int cpu = (i / 3) % NCPU;

		add(&s, cpu, 1 + (int)(i % 5));
		assert_exact(&s, &c, cpu, 1, &path);
		if (i % 3 == 0)
			assert_int_equal(path, BMT_PC_FULL); /* its cache is another CPU's */
	}
}

static unsigned int other_cpu;

static void flush_elsewhere(struct sim *s)
{
	add(s, other_cpu, BATCH - s->slot[other_cpu]); /* reaches the batch: moved into count */
}

/* A flush on another CPU between the loads of a full sum: retried, the value after it. */
static void test_flush_during_full_sum(void **state)
{
	static struct sim s;
	struct bmt_pc_cache c = {};
	enum bmt_pc_path path;

	memset(&s, 0, sizeof(s));
	for (int i = 0; i < NCPU; i++)
		add(&s, i, 100 + i);
	other_cpu = 200;
	s.act = flush_elsewhere;
	s.all_loads = 0;
	s.act_at = 50; /* count read, 49 slots read: then CPU 200 flushes */
	add(&s, 3, 1);
	assert_exact(&s, &c, 3, 1, &path);
	assert_int_equal(path, BMT_PC_FULL);
	assert_int_equal(s.loads, 1 + 2 * NCPU); /* its own slot first, then two full tries */
}

/* A flush on another CPU between the fast path's two count loads: it reads every slot. */
static void test_flush_during_fast_read(void **state)
{
	static struct sim s;
	struct bmt_pc_cache c = {};
	enum bmt_pc_path path;

	memset(&s, 0, sizeof(s));
	other_cpu = 9;
	add(&s, other_cpu, 300);
	add(&s, 4, 1);
	event(&s, &c, 4, 1, &path);
	add(&s, 4, 1);
	assert_exact(&s, &c, 4, 1, &path);
	assert_int_equal(path, BMT_PC_FAST);
	s.act = flush_elsewhere;
	s.all_loads = 0;
	s.act_at = 3; /* count, lock, own slot: then CPU 9 flushes its 300 into count */
	add(&s, 4, 1);
	assert_exact(&s, &c, 4, 1, &path);
	assert_int_equal(path, BMT_PC_FULL);
}

/*
 * Another CPU's add lands before a fast read and its own event comes after: the fast read is
 * a snapshot without that add (as any lock-free one would be), and the error ends with the
 * other CPU's event, never to come back.
 */
static void test_concurrent_add_does_not_persist(void **state)
{
	static struct sim s;
	struct bmt_pc_cache c = {};
	enum bmt_pc_path path;
	__s64 v;

	memset(&s, 0, sizeof(s));
	add(&s, 1, 5);
	event(&s, &c, 1, 1, &path);
	add(&s, 1, 1);
	event(&s, &c, 1, 1, &path);
	add(&s, 2, 40); /* CPU 2's add; its event is late */
	add(&s, 1, 1);
	v = event(&s, &c, 1, 1, &path);
	assert_int_equal(path, BMT_PC_FAST);
	assert_int_equal(v, truth(&s) - 40);
	assert_exact(&s, &c, 2, 1, &path); /* CPU 2's event */
	for (int i = 0; i < 100; i++) {
		add(&s, 1, 1);
		assert_exact(&s, &c, 1, 1, &path);
	}
}

/*
 * Another CPU's add flushes its slot into count, and its event comes late: the cache's
 * others still holds that slot, so count must have moved for a fast read to be refused
 * (else the flushed pages would count twice).
 */
static void test_flush_elsewhere_before_fast_read(void **state)
{
	static struct sim s;
	struct bmt_pc_cache c = {};
	enum bmt_pc_path path;

	memset(&s, 0, sizeof(s));
	add(&s, 2, 500);
	add(&s, 1, 5);
	event(&s, &c, 1, 1, &path);
	add(&s, 1, 1);
	event(&s, &c, 1, 1, &path);
	assert_int_equal(path, BMT_PC_FAST);
	add(&s, 2, 20); /* CPU 2 reaches the batch: 520 move into count; its event is late */
	add(&s, 1, 1);
	assert_exact(&s, &c, 1, 1, &path);
	assert_int_equal(path, BMT_PC_FULL);
}

static void finish_flush(struct sim *s)
{
	s->slot[other_cpu] = 0;
	s->locked = 0;
}

/*
 * A read landing inside another CPU's flush, after it added the slot to count and before it
 * zeroed the slot (its lock held): count does not move again, only the lock tells. The read
 * retries until the flush is done, and the slot counts once.
 */
static void test_read_inside_a_flush(void **state)
{
	static struct sim s;
	struct bmt_pc_cache c = {};
	enum bmt_pc_path path;

	memset(&s, 0, sizeof(s));
	other_cpu = 11;
	add(&s, 0, 7);
	s.slot[other_cpu] = 400;
	s.count += 400; /* the first store of CPU 11's flush */
	s.locked = 1;
	s.act = finish_flush;
	s.all_loads = 0;
	s.act_at = 300; /* the second store, during the second full try */
	add(&s, 0, 1);
	assert_int_equal(event(&s, &c, 0, 1, &path), 408);
	assert_int_equal(path, BMT_PC_FULL);
}

/* A kernel thread (khugepaged) may add on one CPU and trace on another: never cached. */
static void test_kernel_thread_breaks_the_cache(void **state)
{
	static struct sim s;
	struct bmt_pc_cache c = {};
	enum bmt_pc_path path;

	memset(&s, 0, sizeof(s));
	add(&s, 3, 10);
	event(&s, &c, 3, 1, &path);
	add(&s, 3, 1);
	event(&s, &c, 3, 1, &path);
	assert_int_equal(path, BMT_PC_FAST);
	add(&s, 5, -4); /* added on CPU 5, traced on CPU 3 */
	assert_exact(&s, &c, 3, 0, &path);
	assert_int_equal(path, BMT_PC_FULL);
	add(&s, 3, 1);
	assert_exact(&s, &c, 3, 1, &path);
	assert_int_equal(path, BMT_PC_FULL); /* the kernel thread's read saved nothing */
}

static struct bmt_pc_cache *race_cache;
static struct sim *race_sim;

static void other_event(struct sim *s)
{
	enum bmt_pc_path path;

	s->act = NULL; /* not again from inside */
	add(s, 8, 3);
	assert_exact(s, race_cache, 8, 1, &path);
}

/*
 * An event that saves after a later one has saved (they overlapped): its save is stale
 * and the next event must not use it.
 */
static void test_overlapping_saves(void **state)
{
	static struct sim s;
	struct bmt_pc_cache c = {};
	enum bmt_pc_path path;

	memset(&s, 0, sizeof(s));
	race_cache = &c;
	race_sim = &s;
	add(&s, 6, 1);
	s.act = other_event;
	s.all_loads = 0;
	s.act_at = 20; /* inside CPU 6's full sum, past slot 8: CPU 8's whole event runs */
	event(&s, &c, 6, 1, &path); /* misses CPU 8's add, and saves after CPU 8 did */
	add(&s, 6, 1);
	assert_exact(&s, &c, 6, 1, &path);
	assert_int_equal(path, BMT_PC_FULL);
}

static void flush_every_time(struct sim *s)
{
	s->count += 1;
	s->act_at = s->all_loads + 1;
}

/* count moving under every try: a snapshot, said as such, and nothing saved. */
static void test_counter_never_still(void **state)
{
	static struct sim s;
	struct bmt_pc_cache c = {};
	enum bmt_pc_path path;

	memset(&s, 0, sizeof(s));
	add(&s, 0, 5);
	s.act = flush_every_time;
	s.all_loads = 0;
	s.act_at = 1;
	event(&s, &c, 0, 1, &path);
	assert_int_equal(path, BMT_PC_MOVED);
	assert_int_equal(c.cpu_tag, 0);
	s.act = NULL;
	assert_exact(&s, &c, 0, 1, &path);
	assert_int_equal(path, BMT_PC_FULL);
}

/* Negative sums (a page freed on one CPU, counted on another) read as 0, as the kernel's. */
static void test_never_negative(void **state)
{
	static struct sim s;
	struct bmt_pc_cache c = {};
	enum bmt_pc_path path;

	memset(&s, 0, sizeof(s));
	add(&s, 2, -3);
	assert_int_equal(event(&s, &c, 2, 1, &path), 0);
}

/*
 * A run (bmt_pc_run_read): one CPU's events read on from the state the run started with,
 * through this CPU's own flushes and another's (count moves: a full sum, else the other's
 * slot would count twice) and the refresh every 64th event; every value exact, about six
 * slot loads per event on 256 CPUs.
 */
static void test_run_reads_exact(void **state)
{
	static struct sim s;
	struct bmt_pc_cache c = {};
	struct bmt_pc_used used;
	struct bmt_pc_src src = { &s };
	struct bmt_pc_run r;
	enum bmt_pc_path path;
	unsigned int cpu = 42, n = 100000, loads, full = 0;

	memset(&s, 0, sizeof(s));
	for (unsigned int i = 0; i < 300; i++) /* other CPUs' slots hold something */
		add(&s, i % NCPU, 1 + i % 5);
	add(&s, cpu, 1);
	assert_int_equal(bmt_pc_read(&c, &src, cpu, NCPU, 1, &path, &used), truth(&s));
	r = (struct bmt_pc_run){ used.count, used.others, 0 };
	loads = s.loads;
	for (unsigned int i = 0; i < n; i++) {
		add(&s, cpu, 1 + (int)(i % 3)); /* flushes into count every ~256 events */
		if (i % 5000 == 4999) /* another CPU's flush (it ends the run in the kernel) */
			add(&s, 9, BATCH);
		assert_int_equal(bmt_pc_run_read(&r, &src, cpu, NCPU, &path), truth(&s));
		full += path != BMT_PC_FAST;
	}
	fprintf(stderr, "  %u of %u run reads summed every slot, %.2f slot loads per event\n", full,
		n, (double)(s.loads - loads) / n);
	assert_true(full <= n / 64 + n / 200 + 1); /* the refresh, the flushes */
	assert_true((s.loads - loads) / n < 8);
}

/*
 * A run's read while a flush is under way (the lock held) sums every slot; one that never
 * settles (the counter moving at every try) gives -1: the caller ends the run.
 */
static void flush_now(struct sim *s)
{
	s->count += s->slot[3] + 1; /* another CPU's change, and its flush */
	s->slot[3] = 0;
	s->all_loads = 0; /* and again two loads later: during every try */
}

static void unlock(struct sim *s)
{
	s->locked = 0;
}

static void test_run_read_moving_counter(void **state)
{
	static struct sim s;
	struct bmt_pc_src src = { &s };
	struct bmt_pc_run r = { 0, 0, 0 };
	enum bmt_pc_path path;

	memset(&s, 0, sizeof(s));
	add(&s, 3, 100);
	add(&s, 5, 7);
	r.others = 100;
	s.locked = 1; /* seen held, then released before the full sum */
	s.act = unlock;
	s.act_at = 3;
	assert_int_equal(bmt_pc_run_read(&r, &src, 5, NCPU, &path), truth(&s));
	assert_int_equal(path, BMT_PC_FULL);
	s.act = flush_now;
	s.act_at = 2; /* between count and its re-read, at every try */
	s.all_loads = 0;
	r.count = -1; /* count moved: a full sum */
	add(&s, 3, 50);
	assert_int_equal(bmt_pc_run_read(&r, &src, 5, NCPU, &path), -1);
	assert_int_equal(path, BMT_PC_MOVED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_thread_migrating),
		cmocka_unit_test(test_threads_take_turns),
		cmocka_unit_test(test_flush_during_full_sum),
		cmocka_unit_test(test_flush_during_fast_read),
		cmocka_unit_test(test_concurrent_add_does_not_persist),
		cmocka_unit_test(test_flush_elsewhere_before_fast_read),
		cmocka_unit_test(test_read_inside_a_flush),
		cmocka_unit_test(test_kernel_thread_breaks_the_cache),
		cmocka_unit_test(test_overlapping_saves),
		cmocka_unit_test(test_counter_never_still),
		cmocka_unit_test(test_never_negative),
		cmocka_unit_test(test_run_reads_exact),
		cmocka_unit_test(test_run_read_moving_counter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
