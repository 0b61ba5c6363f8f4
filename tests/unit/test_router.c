// modules: router record deaths collector hooks mm result names sizing tally table stages escape util
// SPDX-License-Identifier: MIT
/*
 * router: serve's routing, fed hand-built records in the order the kernel side emits them
 * (a TREE, then the JOIN of the process that started it; RSS records of a fork copy or an
 * exec's new address space before the FORK or MM that binds it). What each tree holds is
 * read from its collector, as /metrics reads it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include "records.h"
#include "deaths.h"
#include "router.h"

#define SEC (1000 * MSEC)
#define EXPIRE (300 * SEC)

/* A --root tree (kind BMT_TREE_ROOT) or a cgroup's (BMT_TREE_CGROUP, cgid its id). */
static size_t rec_tree(void *buf, uint64_t ts, uint16_t kind, uint32_t tree, uint32_t pid,
		       uint64_t cgid, const char *comm)
{
	struct bmt_tree *r = buf;

	rec_hdr(buf, BMT_REC_TREE, kind, sizeof(*r), ts);
	r->tree = tree;
	r->pid = pid;
	r->cgroup_id = cgid;
	rec_comm(r->comm, comm);
	return sizeof(*r);
}

static size_t rec_join(void *buf, uint64_t ts, uint16_t flags, uint32_t pid, uint32_t tree,
		       const char *comm)
{
	struct bmt_join *r = buf;

	rec_hdr(buf, BMT_REC_JOIN, flags, sizeof(*r), ts);
	r->pid = pid;
	r->tree = tree;
	rec_comm(r->comm, comm);
	return sizeof(*r);
}

/* ---- a router with callbacks that record what they are asked ---- */

struct seeded {
	uint32_t pid, ppid;
	uint64_t anon;
};

struct world {
	struct router *r;
	uint64_t ts; /* of the last record */
	/* seed(): the /proc this world pretends to have, and what was asked */
	struct seeded procs[4];
	size_t n_procs;
	size_t seeds, root_seeds;
	/* started(), ended() */
	size_t started;
	char ended[8][64];
	uint64_t ended_peak[8];
	size_t n_ended;
	/* read_env(): the environment of each pid this world pretends to have */
	const char *env_of[8][2];
	size_t env_reads;
};

static void name_cgroup(void *ctx, uint64_t id, char *label, size_t len, const char **family)
{
	if (id < 100) { /* under --cgroup-parent /ci; others are not found */
		snprintf(label, len, "/ci/job%llu", (unsigned long long)id);
		*family = "ci";
	}
}

static int feed_proc(struct world *w, const struct seeded *s)
{
	struct rec_buf rb;

	return router__feed(w->r, rb.b, rec_adopt(rb.b, w->ts, s->pid, s->ppid, "p", 0, s->anon,
						   0, 0));
}

/* As serve's: the process's counters from "/proc"; a root's older children adopted too. */
static int seed(void *ctx, struct router_tree *t, uint32_t pid, int root)
{
	struct world *w = ctx;
	int rc = 0;

	w->seeds++;
	w->root_seeds += root;
	for (size_t i = 0; i < w->n_procs && !rc; i++) {
		if (w->procs[i].pid == pid)
			rc = feed_proc(w, &w->procs[i]);
		else if (root && w->procs[i].ppid == pid &&
			 !(rc = router__add_pid(w->r, t->id, w->procs[i].pid)))
			rc = feed_proc(w, &w->procs[i]);
	}
	return rc;
}

static void started(void *ctx, const struct router_tree *t)
{
	((struct world *)ctx)->started++;
}

static void ended(void *ctx, struct router_tree *t)
{
	struct world *w = ctx;
	const struct bmt_result *res = collector__result(t->coll);

	assert_non_null(res);
	assert_int_not_equal(t->ended, 0);
	assert_int_equal(t->run.end_ts, t->ended);
	assert_true(w->n_ended < 8);
	snprintf(w->ended[w->n_ended], sizeof(w->ended[0]), "%s", t->label);
	w->ended_peak[w->n_ended++] = res->peak.bytes;
}

/* Two --label-env values: those of env_of[pid / 100], else none. */
static void read_env(void *ctx, uint32_t pid, char **values)
{
	struct world *w = ctx;

	w->env_reads++;
	for (int i = 0; i < 2 && pid / 100 < 8; i++)
		if (w->env_of[pid / 100][i])
			values[i] = strdup(w->env_of[pid / 100][i]);
}

static struct world *world_new(size_t max_trees)
{
	struct world *w = calloc(1, sizeof(*w));
	struct router_opts o = { NULL, EXPIRE, max_trees, { name_cgroup, seed, started, ended } };

	assert_non_null(w);
	o.ops.ctx = w;
	o.ops.read_env = read_env;
	o.n_env = 2;
	w->r = router__new(&o);
	assert_non_null(w->r);
	w->ts = 1000 * MSEC;
	return w;
}

static int world_free(void **state)
{
	struct world *w = *state;

	if (w)
		router__free(w->r);
	free(w);
	return 0;
}

/* Feed a built record, one step after the last; it must be accepted. */
#define FEED(w, rec_fn, ...)                                                                  \
	do {                                                                                  \
		struct rec_buf rb_;                                                           \
		(w)->ts += MSEC;                                                              \
		assert_int_equal(router__feed((w)->r, rb_.b, rec_fn(rb_.b, (w)->ts, __VA_ARGS__)), \
				 0);                                                          \
	} while (0)

static struct router_tree *tree(struct world *w, uint32_t id)
{
	struct router_tree *t;
	size_t pos = 0;

	while ((t = router__next(w->r, &pos)))
		if (t->id == id)
			return t;
	return NULL;
}

static const struct bmt_result *result(struct world *w, uint32_t id)
{
	struct router_tree *t = tree(w, id);
	const struct bmt_result *res = t ? collector__result(t->coll) : NULL;

	assert_non_null(res);
	return res;
}

/* A cgroup tree started by a fresh process pid, which then execs into address space key. */
static void cgroup_job(struct world *w, uint32_t id, uint64_t cgid, uint32_t pid, uint32_t key)
{
	FEED(w, rec_tree, BMT_TREE_CGROUP, id, pid, cgid, "sh");
	FEED(w, rec_join, 0, pid, id, "sh");
	FEED(w, rec_exec, pid, key, "/bin/sh", ARGV("sh", "job"));
}

/* ---- two trees at once ---- */

static void test_two_trees(void **state)
{
	struct world *w = *state = world_new(100);

	cgroup_job(w, 1, 7, 100, 10);
	cgroup_job(w, 2, 8, 200, 20);
	FEED(w, rec_rss, 10, BMT_ANON, 5 * MiB);
	FEED(w, rec_rss, 20, BMT_ANON, 7 * MiB);
	FEED(w, rec_rss, 11, BMT_ANON, 5 * MiB); /* the fork copy, before the FORK */
	FEED(w, rec_fork, 0, 100, 101, 10, 11, "cc");
	FEED(w, rec_rss, 11, BMT_ANON, 6 * MiB);
	FEED(w, rec_fork, BMT_FORK_SHARED_MM, 200, 201, 20, 20, "ld");
	FEED(w, rec_rss, 20, BMT_FILE, 2 * MiB);
	FEED(w, rec_exit, 101, 0);
	FEED(w, rec_rss, 30, BMT_ANON, 50 * MiB); /* nobody's address space */
	FEED(w, rec_exit, 300, 0);		   /* nobody's process */

	assert_int_equal(router__count(w->r), 2);
	assert_int_equal(w->started, 2);
	assert_string_equal(tree(w, 1)->label, "/ci/job7");
	assert_string_equal(tree(w, 1)->family, "ci");
	assert_int_equal(result(w, 1)->peak.bytes, 6 * MiB);
	assert_int_equal(result(w, 1)->processes_total, 2);
	assert_int_equal(result(w, 1)->n_alive, 1);
	assert_int_equal(result(w, 1)->events, 3);
	assert_int_equal(result(w, 2)->peak.bytes, 9 * MiB);
	assert_int_equal(result(w, 2)->processes_total, 2);
	assert_int_equal(result(w, 2)->n_alive, 2);
	assert_int_equal(result(w, 2)->events, 2);
	assert_int_equal(result(w, 1)->rejected + result(w, 2)->rejected, 0);
}

/* An OOM kill goes to its victim's tree alone: per tree, the OOM killer's victims. */
static void test_oom_kill_per_tree(void **state)
{
	struct world *w = *state = world_new(100);
	size_t n;

	cgroup_job(w, 1, 7, 100, 10);
	cgroup_job(w, 2, 8, 200, 20);
	FEED(w, rec_rss, 10, BMT_ANON, 5 * MiB);
	FEED(w, rec_rss, 20, BMT_ANON, 7 * MiB);
	FEED(w, rec_oom, 200);
	FEED(w, rec_oom, 300); /* nobody's process */
	FEED(w, rec_exit, 200, SIGKILL);
	assert_int_equal(deaths__oom_kills(tree(w, 1)->run.deaths), 0);
	assert_int_equal(deaths__oom_kills(tree(w, 2)->run.deaths), 1);
	assert_int_equal(deaths__list(tree(w, 2)->run.deaths, &n)[0].bytes, 7 * MiB);
	assert_int_equal(n, 1);
}

/* A --root tree is named after the command and a slot; a cgroup not found, by its id. */
static void test_labels(void **state)
{
	struct world *w = *state = world_new(100);

	FEED(w, rec_tree, BMT_TREE_ROOT, 1, 4242, 0, "make");
	FEED(w, rec_tree, BMT_TREE_CGROUP, 2, 4343, 123, "sh");
	assert_string_equal(tree(w, 1)->label, "make#0");
	assert_string_equal(tree(w, 1)->family, "make");
	assert_int_equal(tree(w, 1)->run.root_pid, 4242);
	assert_int_equal(tree(w, 1)->run.start_ts, w->ts - MSEC);
	assert_string_equal(tree(w, 2)->label, "cgroup:123");
	assert_string_equal(tree(w, 2)->family, "cgroup");
}

/* A --root tree of the same name as another kept one: the smallest free slot. */
static void root_job(struct world *w, uint32_t id, uint32_t pid, const char *comm)
{
	FEED(w, rec_tree, BMT_TREE_ROOT, id, pid, 0, comm);
	FEED(w, rec_join, 0, pid, id, comm);
}

/*
 * Slots: two makes at once are make#0 and make#1, another name starts at #0; a slot is held
 * while its tree is kept (live or ended) and comes back once that tree is dropped, so the
 * same job run again later has the same label, never a pid.
 */
static void test_slots(void **state)
{
	struct world *w = *state = world_new(100);
	uint64_t t0;

	root_job(w, 1, 100, "make");
	root_job(w, 2, 200, "make");
	root_job(w, 3, 300, "cargo");
	assert_string_equal(tree(w, 1)->label, "make#0");
	assert_string_equal(tree(w, 2)->label, "make#1");
	assert_string_equal(tree(w, 3)->label, "cargo#0");
	assert_string_equal(tree(w, 2)->family, "make");
	FEED(w, rec_exit, 100, 0);
	t0 = w->ts;
	router__tick(w->r, t0);
	router__tick(w->r, t0 + SEC);
	assert_int_equal(w->n_ended, 1);
	root_job(w, 4, 400, "make"); /* make#0 lingers: not its slot yet */
	assert_string_equal(tree(w, 4)->label, "make#2");
	router__tick(w->r, t0 + SEC + EXPIRE);
	assert_null(tree(w, 1));
	root_job(w, 5, 500, "make"); /* make#0 expired: its slot again */
	assert_string_equal(tree(w, 5)->label, "make#0");
	assert_int_equal(router__count(w->r), 4);
}

/* The root's environment is read once, when its tree starts; unset values stay NULL. */
static void test_env(void **state)
{
	struct world *w = *state = world_new(100);

	w->env_of[1][0] = "build";
	w->env_of[1][1] = "main";
	w->env_of[2][0] = "test";
	root_job(w, 1, 100, "make");
	root_job(w, 2, 200, "make");
	cgroup_job(w, 3, 7, 300, 30);
	FEED(w, rec_fork, 0, 100, 101, 10, 11, "cc");
	assert_int_equal(w->env_reads, 3);
	assert_string_equal(tree(w, 1)->env[0], "build");
	assert_string_equal(tree(w, 1)->env[1], "main");
	assert_string_equal(tree(w, 2)->env[0], "test");
	assert_null(tree(w, 2)->env[1]);
	assert_null(tree(w, 3)->env[0]);
}

/* ---- joins: a process moved into a tree's cgroup, a --root's older children ---- */

static void test_join_moves_process(void **state)
{
	struct world *w = *state = world_new(100);

	cgroup_job(w, 1, 7, 100, 10);
	FEED(w, rec_rss, 10, BMT_ANON, 5 * MiB);
	FEED(w, rec_rss, 11, BMT_ANON, 5 * MiB);
	FEED(w, rec_fork, 0, 100, 300, 10, 11, "worker");
	FEED(w, rec_rss, 11, BMT_ANON, 8 * MiB);
	/* 300 moves to job8's cgroup, running: the kernel says it joins tree 2, to be seeded */
	w->procs[w->n_procs++] = (struct seeded){ 300, 0, 30 * MiB };
	FEED(w, rec_tree, BMT_TREE_CGROUP, 2, 300, 8, "worker");
	FEED(w, rec_join, BMT_JOIN_SEED, 300, 2, "worker");
	assert_int_equal(w->seeds, 1);
	assert_int_equal(w->root_seeds, 0);
	assert_int_equal(result(w, 2)->tree_bytes_now, 30 * MiB);
	/* from now on its records are tree 2's: its next fault binds its address space there */
	FEED(w, rec_mm, 300, 12);
	FEED(w, rec_rss, 12, BMT_ANON, 40 * MiB);
	FEED(w, rec_fork, 0, 300, 301, 12, 13, "worker");
	FEED(w, rec_exit, 300, 0);

	assert_int_equal(result(w, 2)->peak.bytes, 40 * MiB);
	assert_int_equal(result(w, 2)->processes_total, 2);
	assert_int_equal(result(w, 2)->n_alive, 1);
	assert_int_equal(result(w, 2)->alive[0].pid, 301);
	/* tree 1 saw nothing of it after the move: 300 still alive there at 8 MiB's fork */
	assert_int_equal(result(w, 1)->peak.bytes, 8 * MiB);
	assert_int_equal(result(w, 1)->processes_total, 2);
	assert_int_equal(result(w, 1)->n_alive, 2);
}

static void test_root_adopts_children(void **state)
{
	struct world *w = *state = world_new(100);

	w->procs[w->n_procs++] = (struct seeded){ 100, 1, 5 * MiB };
	w->procs[w->n_procs++] = (struct seeded){ 101, 100, 3 * MiB }; /* forked before its exec */
	w->procs[w->n_procs++] = (struct seeded){ 102, 1, 9 * MiB };   /* not its child */
	FEED(w, rec_tree, BMT_TREE_ROOT, 1, 100, 0, "make");
	FEED(w, rec_join, BMT_JOIN_SEED, 100, 1, "make");
	assert_int_equal(w->root_seeds, 1);
	assert_int_equal(result(w, 1)->tree_bytes_now, 8 * MiB);
	assert_int_equal(result(w, 1)->processes_total, 2);
	FEED(w, rec_exit, 101, 0); /* routed: the adopted child is the tree's */
	assert_int_equal(result(w, 1)->n_alive, 1);
	FEED(w, rec_exit, 102, 0);
	assert_int_equal(result(w, 1)->n_alive, 1);
	assert_int_equal(result(w, 1)->processes_total, 2);
}

/* ---- pending RSS replayed when its address space is bound ---- */

static void test_pending_fork_copy(void **state)
{
	struct world *w = *state = world_new(100);

	cgroup_job(w, 1, 7, 100, 10);
	FEED(w, rec_rss, 10, BMT_ANON, 8 * MiB);
	FEED(w, rec_rss, 10, BMT_FILE, 1 * MiB);
	/* fork() copies the parent's counters into the child's mm, in the parent's context */
	FEED(w, rec_rss, 11, BMT_ANON, 4 * MiB);
	FEED(w, rec_rss, 11, BMT_FILE, 1 * MiB);
	FEED(w, rec_rss, 11, BMT_ANON, 8 * MiB); /* the last value of a member is what counts */
	FEED(w, rec_fork, 0, 100, 101, 10, 11, "cc");
	/* the copy is the parent's pages: nothing new */
	assert_int_equal(result(w, 1)->tree_bytes_now, 9 * MiB);
	FEED(w, rec_rss, 11, BMT_ANON, 10 * MiB);
	assert_int_equal(result(w, 1)->tree_bytes_now, 11 * MiB);
	/* each member's last value replayed once: 2 records for the 3 kept */
	assert_int_equal(result(w, 1)->events, 5);
}

static void test_pending_exec_mm(void **state)
{
	struct world *w = *state = world_new(100);

	cgroup_job(w, 1, 7, 100, 10);
	FEED(w, rec_rss, 10, BMT_ANON, 2 * MiB);
	FEED(w, rec_fork, BMT_FORK_SHARED_MM, 100, 101, 10, 10, "sh");
	/* 101 execs: its new address space is built before the MM record binds it */
	FEED(w, rec_rss, 12, BMT_FILE, 3 * MiB);
	FEED(w, rec_rss, 12, BMT_ANON, 1 * MiB);
	assert_int_equal(result(w, 1)->tree_bytes_now, 2 * MiB);
	FEED(w, rec_mm, 101, 12);
	assert_int_equal(result(w, 1)->tree_bytes_now, 6 * MiB);
	FEED(w, rec_exec, 101, 12, "/usr/bin/cc", ARGV("cc", "-c", "a.c"));
	FEED(w, rec_rss, 12, BMT_ANON, 5 * MiB);
	assert_int_equal(result(w, 1)->peak.bytes, 10 * MiB);
	assert_int_equal(result(w, 1)->peak.ts, w->ts);
}

/* ---- lifetime: the quiet period, expiry, eviction, stale pending ---- */

static void end_job(struct world *w, uint32_t pid, uint32_t key)
{
	FEED(w, rec_exit, pid, 0);
	FEED(w, rec_rss, key, BMT_ANON, 0);
}

static void test_tree_ends_and_expires(void **state)
{
	struct world *w = *state = world_new(100);
	uint64_t t0;

	FEED(w, rec_tree, BMT_TREE_CGROUP, 2, 200, 9, "sh"); /* no process in yet */
	cgroup_job(w, 1, 7, 100, 10);
	FEED(w, rec_rss, 10, BMT_ANON, 20 * MiB);
	router__tick(w->r, w->ts);
	router__tick(w->r, w->ts + 2 * SEC);
	assert_int_equal(w->n_ended, 0); /* alive */
	w->ts += 2 * SEC;
	end_job(w, 100, 10);
	t0 = w->ts + MSEC;
	router__tick(w->r, t0); /* the quiet period starts */
	router__tick(w->r, t0 + SEC - 1);
	assert_int_equal(w->n_ended, 0);
	/* a process comes back meanwhile: the quiet period starts again after it */
	FEED(w, rec_join, 0, 101, 1, "sh");
	router__tick(w->r, t0 + SEC);
	assert_int_equal(w->n_ended, 0);
	FEED(w, rec_exit, 101, 0);
	t0 += 2 * SEC;
	router__tick(w->r, t0);
	router__tick(w->r, t0 + SEC - 1);
	assert_int_equal(w->n_ended, 0);
	router__tick(w->r, t0 + SEC);
	assert_int_equal(w->n_ended, 1);
	assert_string_equal(w->ended[0], "/ci/job7");
	assert_int_equal(w->ended_peak[0], 20 * MiB);
	assert_int_equal(tree(w, 1)->ended, t0 + SEC);
	/* kept, frozen, for EXPIRE; the tree no process ever joined never ends */
	router__tick(w->r, t0 + SEC + EXPIRE - 1);
	assert_int_equal(router__count(w->r), 2);
	assert_int_equal(w->n_ended, 1);
	router__tick(w->r, t0 + SEC + EXPIRE);
	assert_int_equal(router__count(w->r), 1);
	assert_null(tree(w, 1));
	assert_non_null(tree(w, 2));
	assert_int_equal(tree(w, 2)->ended, 0);
	assert_int_equal(w->n_ended, 1);
}

/* Past max_trees, the oldest ended tree goes; live ones stay whatever their number. */
static void test_max_trees_evicts_oldest_ended(void **state)
{
	struct world *w = *state = world_new(2);

	cgroup_job(w, 1, 1, 100, 10);
	cgroup_job(w, 2, 2, 200, 20);
	end_job(w, 100, 10);
	router__tick(w->r, w->ts);
	router__tick(w->r, w->ts + SEC); /* 1 ends */
	w->ts += 2 * SEC;
	end_job(w, 200, 20);
	router__tick(w->r, w->ts);
	router__tick(w->r, w->ts + SEC); /* 2 ends */
	assert_int_equal(w->n_ended, 2);
	assert_int_equal(router__count(w->r), 2); /* not past max_trees: both kept */
	w->ts += 2 * SEC;
	cgroup_job(w, 3, 3, 300, 30);
	router__tick(w->r, w->ts);
	assert_int_equal(router__count(w->r), 2);
	assert_null(tree(w, 1)); /* the oldest ended */
	assert_non_null(tree(w, 2));
	assert_non_null(tree(w, 3));
	router__tick(w->r, w->ts + MSEC);
	assert_int_equal(router__count(w->r), 2);
	cgroup_job(w, 4, 4, 400, 40);
	cgroup_job(w, 5, 5, 500, 50);
	router__tick(w->r, w->ts);
	router__tick(w->r, w->ts + MSEC);
	router__tick(w->r, w->ts + 2 * MSEC);
	assert_int_equal(router__count(w->r), 3); /* 2 went; 3, 4 and 5 live: all kept */
	assert_null(tree(w, 2));
	assert_int_equal(w->n_ended, 2);
}

/* A cgroup used again, a pid reused: the new tree replaces the old, which ends once. */
static void test_label_reused(void **state)
{
	struct world *w = *state = world_new(100);

	cgroup_job(w, 1, 7, 100, 10);
	FEED(w, rec_rss, 10, BMT_ANON, 3 * MiB);
	cgroup_job(w, 2, 7, 200, 20); /* job7 again, 1 still live */
	assert_int_equal(router__count(w->r), 1);
	assert_int_equal(w->n_ended, 1);
	assert_int_equal(w->ended_peak[0], 3 * MiB);
	assert_null(tree(w, 1));
	FEED(w, rec_rss, 10, BMT_ANON, 9 * MiB); /* 1's records lead nowhere now */
	FEED(w, rec_exit, 100, 0);
	assert_int_equal(result(w, 2)->processes_total, 1);
	assert_int_equal(result(w, 2)->tree_bytes_now, 0);
	end_job(w, 200, 20);
	router__tick(w->r, w->ts);
	router__tick(w->r, w->ts + SEC);
	assert_int_equal(w->n_ended, 2);
	cgroup_job(w, 3, 7, 300, 30); /* and again, 2 ended: not observed twice */
	assert_int_equal(w->n_ended, 2);
	assert_int_equal(router__count(w->r), 1);
	assert_string_equal(tree(w, 3)->label, "/ci/job7");
}

static void test_stale_pending_purged(void **state)
{
	struct world *w = *state = world_new(100);
	uint64_t copied;

	cgroup_job(w, 1, 7, 100, 10);
	FEED(w, rec_rss, 10, BMT_ANON, 8 * MiB);
	FEED(w, rec_rss, 13, BMT_ANON, 8 * MiB); /* copies whose FORK does not come soon */
	FEED(w, rec_rss, 12, BMT_ANON, 8 * MiB);
	copied = w->ts;
	router__tick(w->r, copied + 10 * SEC); /* 12's copy, 10 s old, is kept; 13's is forgotten */
	w->ts = copied + 10 * SEC;
	FEED(w, rec_fork, 0, 100, 101, 10, 12, "cc");
	FEED(w, rec_rss, 12, BMT_ANON, 10 * MiB);
	assert_int_equal(result(w, 1)->tree_bytes_now, 10 * MiB); /* replayed: only +2 MiB */
	FEED(w, rec_fork, 0, 100, 102, 10, 13, "cc");
	FEED(w, rec_rss, 13, BMT_ANON, 10 * MiB);
	/* nothing replayed: the collector knew no counters at fork, 13 counts in full */
	assert_int_equal(result(w, 1)->tree_bytes_now, 20 * MiB);
}

/* ---- malformed records: rejected before any state changes ---- */

static void expect_rejected(struct world *w, const void *rec, size_t len)
{
	assert_int_equal(router__feed(w->r, rec, len), -EINVAL);
}

static void test_malformed_rejected(void **state)
{
	struct world *w = *state = world_new(100);
	struct rec_buf rb;
	size_t len;

	cgroup_job(w, 1, 7, 100, 10);
	FEED(w, rec_rss, 10, BMT_ANON, 1 * MiB);
	w->ts += MSEC;
	/* short: each type one byte short of its layout, and a header cut */
	expect_rejected(w, rb.b, rec_rss(rb.b, w->ts, 10, BMT_ANON, 5 * MiB) - 1);
	expect_rejected(w, rb.b, rec_rss(rb.b, w->ts, 11, BMT_ANON, 5 * MiB) - 1);
	expect_rejected(w, rb.b, rec_fork(rb.b, w->ts, 0, 100, 101, 10, 12, "cc") - 1);
	expect_rejected(w, rb.b, rec_mm(rb.b, w->ts, 100, 13) - 1);
	expect_rejected(w, rb.b, rec_exit(rb.b, w->ts, 100, 0) - 1);
	expect_rejected(w, rb.b, rec_tree(rb.b, w->ts, BMT_TREE_CGROUP, 2, 200, 8, "sh") - 1);
	expect_rejected(w, rb.b, rec_join(rb.b, w->ts, 0, 201, 1, "sh") - 1);
	expect_rejected(w, rb.b, sizeof(struct bmt_hdr) - 1);
	/* the header's size past the buffer */
	len = rec_exit(rb.b, w->ts, 100, 0);
	((struct bmt_hdr *)rb.b)->size = len + 8;
	expect_rejected(w, rb.b, len);
	/* an unknown type */
	len = rec_exit(rb.b, w->ts, 100, 0);
	((struct bmt_hdr *)rb.b)->type = BMT_REC_MAX;
	expect_rejected(w, rb.b, len);
	/* fields out of range: a member, a process its own parent, an exec's lengths */
	expect_rejected(w, rb.b, rec_rss(rb.b, w->ts, 10, BMT_NR_MEMBERS, 5 * MiB));
	expect_rejected(w, rb.b, rec_rss(rb.b, w->ts, 11, BMT_NR_MEMBERS, 5 * MiB));
	expect_rejected(w, rb.b, rec_fork(rb.b, w->ts, 0, 100, 100, 10, 12, "cc"));
	len = rec_exec(rb.b, w->ts, 100, 13, "/bin/cc", ARGV("cc"));
	((struct bmt_exec *)rb.b)->argv_len = len;
	expect_rejected(w, rb.b, len);

	/* nothing changed: no tree, no process, no address space, nothing pending */
	assert_int_equal(router__count(w->r), 1);
	assert_int_equal(result(w, 1)->rejected, 0);
	assert_int_equal(result(w, 1)->events, 1);
	assert_int_equal(result(w, 1)->tree_bytes_now, 1 * MiB);
	assert_int_equal(result(w, 1)->processes_total, 1);
	FEED(w, rec_rss, 12, BMT_ANON, 1 * MiB); /* 12 bound by no FORK above */
	FEED(w, rec_rss, 13, BMT_ANON, 1 * MiB); /* nor 13 by an MM or EXEC */
	assert_int_equal(result(w, 1)->events, 1);
	FEED(w, rec_fork, 0, 100, 101, 10, 11, "cc"); /* 11: no pending value was kept */
	FEED(w, rec_rss, 11, BMT_ANON, 2 * MiB);
	assert_int_equal(result(w, 1)->tree_bytes_now, 3 * MiB);
	assert_int_equal(result(w, 1)->n_alive, 2);
}

#define TEST(fn) cmocka_unit_test_teardown(fn, world_free)

int main(void)
{
	const struct CMUnitTest tests[] = {
		TEST(test_two_trees),
		TEST(test_oom_kill_per_tree),
		TEST(test_labels),
		TEST(test_slots),
		TEST(test_env),
		TEST(test_join_moves_process),
		TEST(test_root_adopts_children),
		TEST(test_pending_fork_copy),
		TEST(test_pending_exec_mm),
		TEST(test_tree_ends_and_expires),
		TEST(test_max_trees_evicts_oldest_ended),
		TEST(test_label_reused),
		TEST(test_stale_pending_purged),
		TEST(test_malformed_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
