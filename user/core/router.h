/* SPDX-License-Identifier: MIT */
/*
 * router - serve's routing: the records of many trees in, one collector per tree out.
 *
 * The kernel decides which tree each process belongs to (a --root exec or a child cgroup of
 * a --cgroup-parent starts a tree, forks inherit it) and says so with TREE and JOIN records;
 * the router follows its word and hands every record to the collector of its tree.
 *
 * Invariants:
 * - a record reaches at most one collector: processes route by pid (from their JOIN or the
 *   FORK that made them until their EXIT), address spaces by mm key (from the FORK, MM or
 *   EXEC that binds them to a process of the tree);
 * - RSS records of an address space no process uses yet (a fork copy, an exec's new mm) wait
 *   until the record that binds it names its tree, then are replayed into it first (the last
 *   value of each member, at the time of the last one), exactly as the collector would have
 *   seen them in a tracing run; unbound for 10 s, they are forgotten;
 * - a --root tree is labelled NAME#SLOT, no pid: SLOT the smallest number no other kept tree
 *   of that NAME holds, so two at once are make#0 and make#1, and a number comes back once
 *   its tree is dropped: over months, as many labels as trees were ever kept at once;
 * - a tree ends when, its first process in, none is alive for a quiet period of 1 s (so
 *   teardown records land); ended, it stays (its collector frozen) for expire_ns, or until it
 *   is the oldest ended one and more than max_trees are kept; a new tree with the label of
 *   a kept one (a cgroup used again, a pid reused) ends and replaces it: one tree per label;
 * - a malformed record (bmt_record_check) changes nothing.
 *
 * Pure: no libbpf, no /proc, no clock. Time is the records' timestamps and the now given to
 * router__tick (both CLOCK_MONOTONIC ns); what touches the outside world is a callback.
 */
#ifndef BMT_ROUTER_H
#define BMT_ROUTER_H

#include <stddef.h>
#include <stdint.h>
#include "collector.h"
#include "run.h"
#include "stages.h"

struct router;

/* A tree, as the router's user sees it; valid until it is dropped (expiry, eviction). */
struct router_tree {
	uint32_t id;          /* the kernel's tree id */
	const char *label;    /* "make#0" (--root name and slot), or the cgroup's path */
	const char *family;   /* "make", or the cgroup parent's name */
	struct collector *coll;
	struct bmt_run run;   /* start_ts (the TREE record's), root_pid; end_ts once ended */
	uint64_t ended;       /* when it ended (router__tick's now); 0 while live */
	/* opts.n_env values that ops.read_env gave at the tree's start (NULL: none) */
	char **env;
};

struct router_ops {
	/*
	 * A cgroup tree starts: write its label (the child cgroup's path) into label and point
	 * *family at its family's name (read before the call returns). NULL, or left as they
	 * are: "cgroup:ID" and "cgroup".
	 */
	void (*name_cgroup)(void *ctx, uint64_t cgroup_id, char *label, size_t len,
			    const char **family);
	/*
	 * A running process joined t (JOIN with BMT_JOIN_SEED): give its counters to t by
	 * feeding its ADOPT record (and an EXEC with its names) through router__feed, as
	 * procscan__seed does. root: it is the process that started t with its exec (a --root):
	 * the children it had before may be adopted too, each with router__add_pid first. 0, or
	 * -ENOMEM; any other error means the process is gone, and t counts from what arrived.
	 * May call router__feed (not with TREE records) and router__add_pid. NULL: nothing is
	 * seeded (its records still reach t).
	 */
	int (*seed)(void *ctx, struct router_tree *t, uint32_t pid, int root);
	/* t starts (its TREE record): for a log line. May be NULL. */
	void (*started)(void *ctx, const struct router_tree *t);
	/*
	 * t is over, once per tree: after its quiet period, or when a new tree takes its label
	 * first; its collector holds its final state (t->ended, t->run.end_ts set). May be NULL;
	 * may not call router__feed.
	 */
	void (*ended)(void *ctx, struct router_tree *t);
	void *ctx;
	/*
	 * A tree starts with process pid (its root, or the first of its cgroup): fill values[i]
	 * (opts.n_env of them, NULL each) with malloc'd strings, read once, now; the router
	 * frees them with the tree. May be NULL.
	 */
	void (*read_env)(void *ctx, uint32_t pid, char **values);
};

struct router_opts {
	const struct stages *stages; /* every tree's collector's; must outlive the router */
	uint64_t expire_ns;          /* an ended tree is kept this long */
	size_t max_trees;            /* past this many trees, the oldest ended one goes first */
	struct router_ops ops;
	size_t n_env; /* values per tree read by ops.read_env (serve's --label-env) */
};

/* NULL with errno set. */
struct router *router__new(const struct router_opts *opts);
void router__free(struct router *r);

/*
 * Route one record (bpf/bmtrace.h): 0, also for a record of no tree (dropped); -EINVAL for a
 * malformed one (state unchanged); -ENOMEM. A record a collector rejects is counted there.
 */
int router__feed(struct router *r, const void *rec, size_t len);

/* Route pid to tree (a process the caller adopts into it): 0, -ENOENT (no such tree), -ENOMEM. */
int router__add_pid(struct router *r, uint32_t tree, uint32_t pid);

/*
 * Time passes (now: CLOCK_MONOTONIC ns, after the records up to now were fed): end the
 * trees whose quiet period is over, drop the expired ones and, past max_trees, the oldest
 * ended one; forget address spaces unbound for too long.
 */
void router__tick(struct router *r, uint64_t now);

/* Trees kept, live and ended. */
size_t router__count(const struct router *r);

/*
 * Iterate over the trees kept: for (size_t pos = 0; (t = router__next(r, &pos));) ...
 * Nothing may be fed meanwhile.
 */
struct router_tree *router__next(struct router *r, size_t *pos);

#endif /* BMT_ROUTER_H */
