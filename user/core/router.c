// SPDX-License-Identifier: MIT
/*
 * router - serve's records, each to the collector of its tree (router.h).
 *
 * Three routes: trees by id, processes by pid, address spaces by mm key. An address space
 * is routed once a process of a tree is bound to it; until then its RSS records are kept in
 * `pending` (the last value of each member), and replayed into the tree by the record that
 * binds it, before that record itself.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bmtrace.h"
#include "deaths.h"
#include "record.h"
#include "router.h"
#include "table.h"

#define QUIET_NS 1000000000ull    /* after its last exit, a tree's teardown has this long */
#define PENDING_NS 10000000000ull /* unbound address spaces older than this are forgotten */
#define LABEL_MAX 4096            /* a cgroup's path */

struct tree {
	struct router_tree pub; /* first: the user's view is the tree */
	uint64_t quiet_since;   /* its last process exited then (0: some alive) */
	uint32_t root_pid;      /* --root trees: the process whose exec started it */
	int rooted;             /* the collector has its first process */
	struct deaths *deaths;  /* its deaths, OOM kills counted (pub.run.deaths) */
	int slot;               /* --root trees: the number in its label; -1 for cgroups */
};

struct pending {
	uint64_t bytes[BMT_NR_MEMBERS];
	unsigned int seen; /* members with a value, a bit each */
	uint64_t ts;       /* of the last one */
};

struct router {
	struct router_opts o;
	struct table trees;   /* id -> tree */
	struct table pids;    /* pid -> tree */
	struct table keys;    /* mm key -> tree */
	struct table pending; /* mm key -> pending */
};

/* ---- trees ---- */

static void tree_free(struct tree *t, size_t n_env)
{
	for (size_t i = 0; t->pub.env && i < n_env; i++)
		free(t->pub.env[i]);
	free(t->pub.env);
	collector__free(t->pub.coll);
	deaths__free(t->deaths);
	free((char *)t->pub.label);
	free((char *)t->pub.family);
	free(t);
}

static int feed(struct tree *t, const void *rec, size_t len)
{
	int rc = collector__feed(t->pub.coll, rec, len);

	return rc == -ENOMEM ? rc : 0; /* a rejected record is counted by the collector */
}

static int routes_to(uint64_t key, void *val, void *tree)
{
	return val == tree;
}

/* Forget t and every route to it: its processes and address spaces are gone. */
static void drop_tree(struct router *r, struct tree *t)
{
	table_del_if(&r->pids, routes_to, t);
	table_del_if(&r->keys, routes_to, t);
	table_del(&r->trees, t->pub.id);
	tree_free(t, r->o.n_env);
}

static void end_tree(struct router *r, struct tree *t, uint64_t now)
{
	t->pub.ended = now;
	t->pub.run.end_ts = now;
	if (r->o.ops.ended)
		r->o.ops.ended(r->o.ops.ctx, &t->pub);
}

/* A new tree takes t's place (its label, or its id): t is over, ended first if live. */
static void retire(struct router *r, struct tree *t, uint64_t ts)
{
	if (!t->pub.ended)
		end_tree(r, t, ts);
	drop_tree(r, t);
}

static struct tree *tree_labelled(struct router *r, const char *label)
{
	for (size_t i = 0; i < r->trees.cap; i++) {
		struct tree *t = r->trees.vals[i];

		if (t && !strcmp(t->pub.label, label))
			return t;
	}
	return NULL;
}

/* The smallest number no kept tree of family holds in its label; -1 (ENOMEM). */
static int free_slot(struct router *r, const char *family)
{
	bool *used = calloc(r->trees.n + 1, sizeof(*used));
	int slot = 0;

	if (!used)
		return -1;
	for (size_t i = 0; i < r->trees.cap; i++) {
		const struct tree *t = r->trees.vals[i];

		if (t && t->slot >= 0 && (size_t)t->slot <= r->trees.n &&
		    !strcmp(t->pub.family, family))
			used[t->slot] = true;
	}
	while (used[slot])
		slot++;
	free(used);
	return slot;
}

/* The root's environment, once, at the start (serve's --label-env). */
static int read_env(struct router *r, struct tree *t, uint32_t pid)
{
	if (!r->o.n_env)
		return 0;
	t->pub.env = calloc(r->o.n_env, sizeof(*t->pub.env));
	if (!t->pub.env)
		return -ENOMEM;
	if (r->o.ops.read_env)
		r->o.ops.read_env(r->o.ops.ctx, pid, t->pub.env);
	return 0;
}

static int on_tree(struct router *r, const struct bmt_tree *rec)
{
	char label[LABEL_MAX], comm[BMT_COMM_LEN + 1];
	const char *family = comm;
	struct tree *t = table_get(&r->trees, rec->tree);
	int slot = -1;

	if (t) /* the kernel's tree id used again */
		retire(r, t, rec->hdr.ts);
	snprintf(comm, sizeof(comm), "%.*s", BMT_COMM_LEN, rec->comm);
	if (rec->hdr.flags == BMT_TREE_CGROUP) {
		snprintf(label, sizeof(label), "cgroup:%llu", (unsigned long long)rec->cgroup_id);
		family = "cgroup";
		if (r->o.ops.name_cgroup)
			r->o.ops.name_cgroup(r->o.ops.ctx, rec->cgroup_id, label, sizeof(label),
					     &family);
	} else {
		slot = free_slot(r, comm);
		if (slot < 0)
			return -ENOMEM;
		snprintf(label, sizeof(label), "%s#%d", comm, slot);
	}
	/* one series per label: a cgroup used again */
	t = tree_labelled(r, label);
	if (t)
		retire(r, t, rec->hdr.ts);
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->slot = slot;
	t->pub.id = rec->tree;
	t->pub.label = strdup(label);
	t->pub.family = strdup(family);
	t->pub.coll = collector__new(r->o.stages);
	t->deaths = deaths__new();
	if (t->pub.coll && t->deaths)
		collector__on_death(t->pub.coll, deaths__event, t->deaths);
	t->pub.run.deaths = t->deaths;
	t->root_pid = rec->hdr.flags == BMT_TREE_ROOT ? rec->pid : 0;
	t->pub.run.start_ts = rec->hdr.ts;
	t->pub.run.exit_code = -1;
	t->pub.run.root_pid = rec->pid;
	t->pub.run.attached = 1;
	if (!t->pub.label || !t->pub.family || !t->pub.coll || !t->deaths ||
	    read_env(r, t, rec->pid) ||
	    table_put(&r->trees, t->pub.id, t)) {
		tree_free(t, r->o.n_env);
		return -ENOMEM;
	}
	if (r->o.ops.started)
		r->o.ops.started(r->o.ops.ctx, &t->pub);
	return 0;
}

/* ---- processes and address spaces ---- */

/* Replay what the kernel said of key before anyone used it, then route it to t. */
static int bind_key(struct router *r, struct tree *t, uint32_t key)
{
	struct pending *p = key ? table_get(&r->pending, key) : NULL;
	int rc = 0;

	if (!key)
		return 0;
	if (p) {
		for (uint32_t m = 0; m < BMT_NR_MEMBERS && !rc; m++) {
			struct bmt_rss rss = { { BMT_REC_RSS, 0, sizeof(rss), p->ts }, key, m,
					       p->bytes[m] };

			if (p->seen & (1u << m))
				rc = feed(t, &rss, sizeof(rss));
		}
		table_del(&r->pending, key);
		free(p);
	}
	return rc ? rc : table_put(&r->keys, key, t);
}

static int keep_pending(struct router *r, const struct bmt_rss *rss)
{
	struct pending *p = table_get(&r->pending, rss->mm_key);

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p || table_put(&r->pending, rss->mm_key, p)) {
			free(p);
			return -ENOMEM;
		}
	}
	p->bytes[rss->member] = rss->bytes;
	p->seen |= 1u << rss->member;
	p->ts = rss->hdr.ts;
	return 0;
}

static int on_rss(struct router *r, const struct bmt_rss *rss)
{
	struct tree *t = table_get(&r->keys, rss->mm_key);

	return t ? feed(t, rss, sizeof(*rss)) : keep_pending(r, rss);
}

static int on_fork(struct router *r, const struct bmt_fork *f, size_t len)
{
	struct tree *t = table_get(&r->pids, f->ppid);

	if (!t)
		return 0;
	if (table_put(&r->pids, f->pid, t) || bind_key(r, t, f->child_mm_key))
		return -ENOMEM;
	return feed(t, f, len);
}

/* MM and EXEC: pid now uses the address space key (0: none new, an adopted one's names). */
static int on_bind(struct router *r, uint32_t pid, uint32_t key, const void *rec, size_t len)
{
	struct tree *t = table_get(&r->pids, pid);
	int rc;

	if (!t)
		return 0;
	rc = bind_key(r, t, key);
	return rc ? rc : feed(t, rec, len);
}

static int on_proc_exit(struct router *r, const struct bmt_exit *e, size_t len)
{
	struct tree *t = table_get(&r->pids, e->pid);

	if (!t)
		return 0;
	table_del(&r->pids, e->pid);
	return feed(t, e, len);
}

/* A record about process pid alone (a seeded one's ADOPT, an OOM kill): to its tree. */
static int to_tree_of(struct router *r, uint32_t pid, const void *rec, size_t len)
{
	struct tree *t = table_get(&r->pids, pid);

	return t ? feed(t, rec, len) : 0;
}

/*
 * A process entered a tree without a traced fork. Running already (SEED): the caller seeds
 * its counters, once, like -p's; a fresh fork of an outsider counts from its exec.
 */
static int on_join(struct router *r, const struct bmt_join *j)
{
	struct tree *t = table_get(&r->trees, j->tree);
	struct bmt_adopt a = { { BMT_REC_ADOPT, 0, sizeof(a), j->hdr.ts }, j->pid, 0, {}, {} };
	int rc = 0;

	if (!t)
		return 0;
	if (table_put(&r->pids, j->pid, t))
		return -ENOMEM;
	if (!(j->hdr.flags & BMT_JOIN_SEED)) {
		memcpy(a.comm, j->comm, sizeof(a.comm));
		t->rooted = 1;
		return feed(t, &a, sizeof(a));
	}
	if (r->o.ops.seed)
		rc = r->o.ops.seed(r->o.ops.ctx, &t->pub, j->pid, j->pid == t->root_pid);
	if (rc == -ENOMEM)
		return rc;
	t->rooted = 1;
	return 0;
}

int router__feed(struct router *r, const void *rec, size_t len)
{
	const struct bmt_hdr *h = rec;

	if (bmt_record_check(rec, len) < 0)
		return -EINVAL;
	switch (h->type) {
	case BMT_REC_RSS:
		return on_rss(r, rec);
	case BMT_REC_FORK:
		return on_fork(r, rec, len);
	case BMT_REC_MM:
		return on_bind(r, ((const struct bmt_mm *)rec)->pid,
			       ((const struct bmt_mm *)rec)->mm_key, rec, len);
	case BMT_REC_EXEC:
		return on_bind(r, ((const struct bmt_exec *)rec)->pid,
			       ((const struct bmt_exec *)rec)->mm_key, rec, len);
	case BMT_REC_EXIT:
		return on_proc_exit(r, rec, len);
	case BMT_REC_ADOPT:
		return to_tree_of(r, ((const struct bmt_adopt *)rec)->pid, rec, len);
	case BMT_REC_OOM:
		return to_tree_of(r, ((const struct bmt_oom *)rec)->pid, rec, len);
	case BMT_REC_TREE:
		return on_tree(r, rec);
	case BMT_REC_JOIN:
		return on_join(r, rec);
	}
	return 0; /* bmt_record_check() admits no other type */
}

int router__add_pid(struct router *r, uint32_t tree, uint32_t pid)
{
	struct tree *t = table_get(&r->trees, tree);

	return t ? table_put(&r->pids, pid, t) : -ENOENT;
}

/* ---- time ---- */

/* t's quiet period starts with its last exit, and ends it if nothing is alive through it. */
static void watch_quiet(struct router *r, struct tree *t, uint64_t now)
{
	if (t->pub.ended)
		return;
	if (!t->rooted || collector__alive(t->pub.coll))
		t->quiet_since = 0;
	else if (!t->quiet_since)
		t->quiet_since = now;
	else if (now - t->quiet_since >= QUIET_NS)
		end_tree(r, t, now);
}

/* An address space nobody bound for PENDING_NS: forget it (frees it). */
static int stale_pending(uint64_t key, void *val, void *now)
{
	struct pending *p = val;

	if (*(uint64_t *)now <= p->ts || *(uint64_t *)now - p->ts <= PENDING_NS)
		return 0;
	free(p);
	return 1;
}

void router__tick(struct router *r, uint64_t now)
{
	struct tree *oldest = NULL;

	for (size_t i = 0; i < r->trees.cap; i++) {
		struct tree *t = r->trees.vals[i];

		if (!t)
			continue;
		watch_quiet(r, t, now);
		if (t->pub.ended && (!oldest || t->pub.ended < oldest->pub.ended))
			oldest = t;
	}
	for (size_t i = 0; i < r->trees.cap;) {
		struct tree *t = r->trees.vals[i];

		if (t && t->pub.ended &&
		    (now - t->pub.ended >= r->o.expire_ns ||
		     (t == oldest && r->trees.n > r->o.max_trees))) {
			drop_tree(r, t); /* another tree may shift into slot i: look again */
			oldest = NULL;
		} else {
			i++;
		}
	}
	table_del_if(&r->pending, stale_pending, &now);
}

/* ---- lifetime, iteration ---- */

struct router *router__new(const struct router_opts *opts)
{
	struct router *r = calloc(1, sizeof(*r));

	if (r)
		r->o = *opts;
	return r;
}

void router__free(struct router *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->trees.cap; i++)
		if (r->trees.vals[i])
			tree_free(r->trees.vals[i], r->o.n_env);
	for (size_t i = 0; i < r->pending.cap; i++)
		free(r->pending.vals[i]);
	table_free(&r->trees);
	table_free(&r->pids);
	table_free(&r->keys);
	table_free(&r->pending);
	free(r);
}

size_t router__count(const struct router *r)
{
	return r->trees.n;
}

struct router_tree *router__next(struct router *r, size_t *pos)
{
	while (*pos < r->trees.cap) {
		struct tree *t = r->trees.vals[(*pos)++];

		if (t)
			return &t->pub;
	}
	return NULL;
}
