// SPDX-License-Identifier: MIT
/*
 * collector - rebuild the tree's memory over time from the record stream.
 *
 * State: processes (by pid, while alive), address spaces (by mm key, until
 * torn down), stages and commands (their current and peak bytes). Every
 * record recomputes the contribution of the address spaces it touches and
 * applies the difference to the totals, so the cost per RSS record is O(1).
 *
 * The peak table is captured lazily: while the current state *is* the peak
 * (the last change made a new maximum), nothing is copied; the first change
 * that leaves that state snapshots it first. Growth costs nothing; each local
 * maximum that is a new global maximum costs one copy of the live contributors.
 *
 * The result (result.c: the snapshot's table, sizing, the alive) is built from this state
 * when asked for, once per change (gen); the live view (collector__now) copies the totals.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "bmtrace.h"
#include "collector.h"
#include "hooks.h"
#include "mm.h"
#include "names.h"
#include "record.h"
#include "result.h"
#include "table.h"
#include "util.h"

/* ---- processes, address spaces ---- */

struct proc {
	uint32_t pid, ppid;
	int alive;
	int owned;        /* address spaces attributed to it */
	int stage;        /* index into c->t.stages */
	struct names *names;
	struct mm *mm;    /* the one it uses now, or NULL */
	uint64_t bytes[M_COUNTED]; /* its contribution now */
	uint64_t peak_bytes;       /* its own maximum */
	uint64_t snap_gen;         /* == c->snap_gen: already in the snapshot */
	uint64_t cmd_peak;         /* its own maximum while running its current command */
	int inherited;             /* its command came from its parent by fork, not by exec */
};

struct collector {
	const struct stages *rules;
	struct table procs, mms;
	struct tallies t;       /* stages and commands */
	uint32_t root_pid;
	int have_root;

	uint64_t tree[M_COUNTED]; /* totals now */
	uint64_t raw, swap;
	uint64_t last_ts;
	uint64_t now;             /* ts of the record being applied, never going back */
	uint64_t snap_gen;
	uint64_t gen;             /* counts the calls that may change the result */

	struct bmt_peak peak, anon_peak, raw_peak, swap_peak;
	uint64_t swap_at_peak;
	int peak_live;       /* the current state is the peak state: no snapshot yet */
	struct snapshot snap;

	uint64_t processes_total, events, rejected, first_ts;
	size_t alive;

	struct hooks hooks; /* on_sample, on_death, on_proc */

	struct result *res;
	const struct bmt_result *built; /* the result of gen res_gen, or NULL */
	uint64_t res_gen;
};

static uint64_t sum3(const uint64_t *v)
{
	return v[M_FILE] + v[M_ANON] + v[M_SHMEM];
}

/* ---- the peak ---- */

static struct peak_row row_of(const struct proc *p)
{
	return (struct peak_row){ p->pid, p->ppid, p->stage, p->names, p->bytes[M_ANON],
				  p->bytes[M_FILE], p->bytes[M_SHMEM] };
}

/* The contributors of the current state into s (cleared first). 0 or -ENOMEM. */
static int contributors(struct collector *c, struct snapshot *s)
{
	struct peak_row row;

	snapshot__clear(s);
	c->snap_gen++;
	/* contributors are the owners of counted mms, an exited owner still tearing down too */
	for (size_t i = 0; i < c->mms.cap; i++) {
		struct mm *m = c->mms.vals[i];
		struct proc *p = m ? m->owner : NULL;

		if (!p || p->snap_gen == c->snap_gen || !sum3(p->bytes))
			continue;
		p->snap_gen = c->snap_gen;
		row = row_of(p);
		if (snapshot__push(s, &row))
			return -ENOMEM;
	}
	return 0;
}

/* Copy the contributors of the current state: it is the peak and is about to change. */
static int snapshot(struct collector *c)
{
	if (contributors(c, &c->snap))
		return -ENOMEM;
	tallies__mark_peak(&c->t);
	c->peak_live = 0;
	return 0;
}

/* Before a change that may lower the total or move attribution: keep the peak state. */
static int leave_peak(struct collector *c)
{
	return c->peak_live ? snapshot(c) : 0;
}

static void update_peaks(struct collector *c, uint64_t ts)
{
	uint64_t tree = sum3(c->tree), anon = c->tree[M_ANON] + c->tree[M_SHMEM];

	if (tree > c->peak.bytes) {
		c->peak = (struct bmt_peak){ tree, ts, c->tree[M_ANON], c->tree[M_FILE],
					     c->tree[M_SHMEM] };
		c->swap_at_peak = c->swap;
		c->peak_live = 1;
	}
	if (anon > c->anon_peak.bytes)
		c->anon_peak = (struct bmt_peak){ anon, ts, c->tree[M_ANON], c->tree[M_FILE],
						  c->tree[M_SHMEM] };
	if (c->raw > c->raw_peak.bytes)
		c->raw_peak = (struct bmt_peak){ c->raw, ts, 0, 0, 0 };
	if (c->swap > c->swap_peak.bytes)
		c->swap_peak = (struct bmt_peak){ c->swap, ts, 0, 0, 0 };
}

/* ---- contributions ---- */

/* Add (sign > 0) or remove an mm's contribution: its owner, stage, command and the totals. */
static void apply(struct collector *c, struct mm *m, const uint64_t *v, uint64_t raw, int sign)
{
	struct proc *p = m->owner;
	uint64_t total = sum3(v);

	for (int i = 0; i < M_COUNTED; i++) {
		c->tree[i] = sign > 0 ? c->tree[i] + v[i] : c->tree[i] - v[i];
		if (p)
			p->bytes[i] = sign > 0 ? p->bytes[i] + v[i] : p->bytes[i] - v[i];
	}
	c->raw = sign > 0 ? c->raw + raw : c->raw - raw;
	if (!p || !total)
		return;
	hooks__note(&c->hooks, p->pid, sum3(p->bytes));
	if (sum3(p->bytes) > p->peak_bytes)
		p->peak_bytes = sum3(p->bytes);
	if (sum3(p->bytes) > p->cmd_peak)
		p->cmd_peak = sum3(p->bytes);
	tally__add(&c->t.stages[p->stage], total, sign, c->now);
	if (p->names && p->names->cmd >= 0)
		tally__add(&c->t.cmds[p->names->cmd], total, sign, c->now);
}

/* Bring m's applied contribution in line with its state. */
static void refresh(struct collector *c, struct mm *m)
{
	uint64_t v[M_COUNTED], raw, swap;

	mm__wanted(m, v, &raw, &swap);
	if (sum3(v) < sum3(m->contrib))
		leave_peak(c);
	apply(c, m, m->contrib, m->raw, -1);
	apply(c, m, v, raw, +1);
	memcpy(m->contrib, v, sizeof(v));
	m->raw = raw;
	c->swap = c->swap - m->swap + swap;
	m->swap = swap;
}

static void proc_maybe_free(struct proc *p);

/*
 * Attribute m's contribution to another owner (or none). The previous owner, if it has
 * exited and owns nothing else now, is freed.
 */
static void set_owner(struct collector *c, struct mm *m, struct proc *p)
{
	struct proc *old = m->owner;

	if (old == p)
		return;
	if (sum3(m->contrib))
		leave_peak(c);
	apply(c, m, m->contrib, m->raw, -1);
	m->owner = p;
	if (p)
		p->owned++;
	apply(c, m, m->contrib, m->raw, +1);
	if (old) {
		old->owned--;
		proc_maybe_free(old);
	}
}

/*
 * Take p's contributions out of its stage and command (detach) or put them back (attach),
 * around a change of p's stage or command. Most processes own exactly their own mm.
 */
static void owned_apply(struct collector *c, struct proc *p, int sign)
{
	if (!p->owned)
		return;
	if (sign < 0 && sum3(p->bytes))
		leave_peak(c);
	if (p->owned == 1 && p->mm && p->mm->owner == p) {
		apply(c, p->mm, p->mm->contrib, p->mm->raw, sign);
		return;
	}
	for (size_t i = 0; i < c->mms.cap; i++) {
		struct mm *m = c->mms.vals[i];

		if (m && m->owner == p)
			apply(c, m, m->contrib, m->raw, sign);
	}
}

/*
 * m is gone (torn down, or a seed replaced). Its fork children's inherited pages are theirs
 * alone now, except what m itself had inherited from a parent that still holds it: a child
 * moves up to that grandparent with, per member, the smaller of the two baselines.
 */
static void retire(struct collector *c, struct mm *m)
{
	struct mm *child;

	m->bound = 0;
	refresh(c, m);
	while ((child = mm__pop_child(m)))
		refresh(c, child);
	mm__unlink_child(m);
	set_owner(c, m, NULL); /* frees an exited owner that owned only m */
	table_del(&c->mms, m->key);
	free(m);
}

/* Retire m when no process uses it and its pages are gone (a bound mm only: a pending one
 * may still be bound by its fork or exec). */
static void maybe_retire(struct collector *c, struct mm *m)
{
	if (!m->nr_procs && (m->seed || (m->bound && mm__all_zero(m))))
		retire(c, m);
}

/* An exited process is kept while an address space is still attributed to it. */
static void proc_maybe_free(struct proc *p)
{
	if (!p->alive && !p->owned) {
		names__put(p->names);
		free(p);
	}
}

/* A live process that uses m, other than skip; NULL if none. Rare: a shared mm's owner left. */
static struct proc *other_user(struct collector *c, struct mm *m, struct proc *skip)
{
	for (size_t i = 0; i < c->procs.cap; i++) {
		struct proc *p = c->procs.vals[i];

		if (p && p != skip && p->alive && p->mm == m)
			return p;
	}
	return NULL;
}

/* p stops using its mm (exec to another, or exit). */
static void unbind(struct collector *c, struct proc *p)
{
	struct mm *m = p->mm;

	if (!m)
		return;
	p->mm = NULL;
	m->nr_procs--;
	if (m->owner == p && m->nr_procs > 0)
		set_owner(c, m, other_user(c, m, p));
	maybe_retire(c, m);
}

/* p starts using m; the first user becomes its owner, and m starts to count. */
static void bind(struct collector *c, struct proc *p, struct mm *m)
{
	m->nr_procs++;
	p->mm = m;
	if (!m->owner || !m->owner->alive)
		set_owner(c, m, p);
	if (!m->bound) {
		m->bound = 1;
		refresh(c, m);
	}
}

/* p starts running its command: one more instance. */
static void cmd_enter(struct collector *c, struct proc *p, int inherited)
{
	struct tally *t;

	if (!p->names || p->names->cmd < 0)
		return;
	t = &c->t.cmds[p->names->cmd];
	if (++t->live > t->max_live)
		t->max_live = t->live;
	p->cmd_peak = sum3(p->bytes);
	p->inherited = inherited;
}

/*
 * p stops running its command. Its peak under it is one sample of the command's sizing,
 * unless p was only a fork child on its way to exec something else (make's children).
 */
static void cmd_leave(struct collector *c, struct proc *p, int by_exec)
{
	struct tally *t;

	if (!p->names || p->names->cmd < 0)
		return;
	t = &c->t.cmds[p->names->cmd];
	t->live--;
	if (by_exec && p->inherited)
		return;
	if (p->cmd_peak > t->sizing.max || !t->max_names) {
		/* the largest yet: named, for the culprit's file */
		t->max_pid = p->pid;
		names__put(t->max_names);
		t->max_names = names__get(p->names);
	}
	sizing__add(&t->sizing, p->cmd_peak); /* on ENOMEM sizing is lost, the accounting is not */
}

/* p has exited (and left the pid table): release its mm; free it unless it still owns one. */
static void proc_exit(struct collector *c, struct proc *p)
{
	cmd_leave(c, p, 0);
	p->alive = 0;
	c->alive--;
	p->owned++; /* pinned: retiring its mm below must not free it under us */
	unbind(c, p);
	p->owned--;
	proc_maybe_free(p);
}

static struct proc *proc_new(struct collector *c, uint32_t pid, uint32_t ppid)
{
	struct proc *p = calloc(1, sizeof(*p)), *old = table_get(&c->procs, pid);

	if (!p)
		return NULL;
	if (old) { /* its EXIT was lost, and the pid reused */
		leave_peak(c);
		table_del(&c->procs, pid);
		proc_exit(c, old);
	}
	p->pid = pid;
	p->ppid = ppid;
	p->alive = 1;
	p->stage = c->t.default_stage;
	if (table_put(&c->procs, pid, p)) {
		free(p);
		return NULL;
	}
	c->alive++;
	c->processes_total++;
	return p;
}

/* Give p its names (taking the reference) and its stage, moving its contribution along. */
/*
 * A process counts once per command and per stage it runs in: exec of the same name adds
 * none, and a fork child that execs something else before running anything of its own
 * (make's and gcc's children) counts in what it execs, not in its parent's command and
 * stage too. Only a process that ran a program and then exec'd another counts in both.
 */
static void set_identity(struct collector *c, struct proc *p, struct names *n, int stage)
{
	int new_cmd = n && n != p->names;
	int copy = p->inherited; /* a fork child still running its parent's program */

	owned_apply(c, p, -1);
	if (new_cmd) {
		int same = p->names && p->names->cmd == n->cmd;

		if (n->cmd >= 0 && !same)
			c->t.cmds[n->cmd].processes++;
		if (copy && !same && p->names && p->names->cmd >= 0)
			c->t.cmds[p->names->cmd].processes--;
		if (!same)
			cmd_leave(c, p, 1);
		names__put(p->names);
		p->names = n;
		if (!same)
			cmd_enter(c, p, 0);
		p->inherited = 0; /* it exec'd this command itself */
	}
	if (stage != p->stage) {
		if (copy && new_cmd)
			c->t.stages[p->stage].processes--;
		p->stage = stage;
		c->t.stages[stage].processes++;
	}
	owned_apply(c, p, +1);
}

/* ---- records ---- */

static int rec_rss(struct collector *c, const void *rec)
{
	const struct bmt_rss *r = rec;
	struct mm *m;

	c->events += 1 + r->hdr.flags; /* a run's record stands for flags more events */
	m = mm__get(&c->mms, r->mm_key);
	if (!m)
		return r->mm_key ? -ENOMEM : 0;
	if (m->counter[r->member] == r->bytes && m->seen & (1u << r->member))
		return 0;
	m->counter[r->member] = r->bytes;
	m->seen |= 1u << r->member;
	refresh(c, m);
	maybe_retire(c, m);
	return 1;
}

/* Names for a process known only by its comm (not NUL-terminated when 16 bytes long). */
static struct names *names_from_comm(struct collector *c, const char *raw)
{
	char comm[BMT_COMM_LEN + 1];
	struct names *n;

	snprintf(comm, sizeof(comm), "%.*s", BMT_COMM_LEN, raw);
	n = names__new("", 0, comm);
	if (n && (n->cmd = tallies__command(&c->t, comm)) < 0) {
		names__put(n);
		return NULL;
	}
	return n;
}

static void count_new_proc(struct collector *c, struct proc *p, int inherited)
{
	c->t.stages[p->stage].processes++;
	if (p->names->cmd >= 0)
		c->t.cmds[p->names->cmd].processes++;
	cmd_enter(c, p, inherited);
}

static int rec_fork(struct collector *c, const void *rec)
{
	const struct bmt_fork *r = rec;
	struct proc *parent = table_get(&c->procs, r->ppid), *p;
	struct mm *m, *pm;

	p = proc_new(c, r->pid, r->ppid);
	if (!p)
		return -ENOMEM;
	if (parent) {
		p->stage = parent->stage;
		p->names = names__get(parent->names);
	} else {
		p->names = names_from_comm(c, r->comm);
		if (!p->names)
			return -ENOMEM;
	}
	count_new_proc(c, p, parent != NULL);
	m = mm__get(&c->mms, r->child_mm_key);
	if (!m)
		return r->child_mm_key ? -ENOMEM : 1;
	pm = table_get(&c->mms, r->parent_mm_key);
	if (!(r->hdr.flags & BMT_FORK_SHARED_MM) && !m->bound && pm && pm != m && pm->bound) {
		/* the copied pages are the parent's: the child counts only what it adds */
		memcpy(m->base, m->counter, sizeof(m->base));
		mm__link_child(pm, m);
	}
	bind(c, p, m);
	return 1;
}

/* pid uses the address space key now (MM, EXEC). */
static int rebind(struct collector *c, uint32_t pid, uint32_t key)
{
	struct proc *p = table_get(&c->procs, pid);
	struct mm *m, *old;

	if (!p || !key || (p->mm && p->mm->key == key))
		return 0;
	m = mm__get(&c->mms, key);
	if (!m)
		return -ENOMEM;
	old = p->mm;
	if (old && old->seed) {
		/* -p: the real mm is met; members it has not reported keep /proc's values */
		for (int i = 0; i < BMT_NR_MEMBERS; i++)
			if (!(m->seen & (1u << i)))
				m->counter[i] = old->counter[i];
	}
	unbind(c, p); /* first: never count the old and the new at once */
	bind(c, p, m);
	return 1;
}

static int rec_mm(struct collector *c, const void *rec)
{
	const struct bmt_mm *r = rec;

	return rebind(c, r->pid, r->mm_key);
}

static int rec_exec(struct collector *c, const void *rec)
{
	const struct bmt_exec *r = rec;
	struct proc *p = table_get(&c->procs, r->pid);
	char fname[BMT_FILENAME_MAX + 1], comm[BMT_COMM_LEN + 1];
	struct names *n;
	int rule, rc;

	if (!p)
		return 0;
	rc = rebind(c, r->pid, r->mm_key);
	if (rc < 0)
		return rc;
	snprintf(fname, sizeof(fname), "%.*s", (int)r->filename_len, r->data);
	snprintf(comm, sizeof(comm), "%.*s", BMT_COMM_LEN, r->comm);
	n = names__new(r->data + r->filename_len, r->argv_len, comm);
	if (!n)
		return -ENOMEM;
	n->cmd = tallies__command(&c->t, *fname ? util_basename(fname) : comm);
	if (n->cmd < 0) {
		names__put(n);
		return -ENOMEM;
	}
	if (p->pid == c->root_pid)
		tallies__name_default(&c->t, c->t.cmds[n->cmd].name);
	rule = stages__match(c->rules, n->argv);
	set_identity(c, p, n, rule >= 0 ? rule : p->stage);
	return 1;
}

/* ---- deaths ---- */

/* Tell the death hook that p died of sig, or (sig 0) that the OOM killer chose it. */
static int tell_death(struct collector *c, struct proc *p, int sig)
{
	struct peak_row row = row_of(p);
	struct snapshot s = { 0 };
	struct bmt_death_event e = { .ts = c->now, .signal = sig, .tree_bytes = sum3(c->tree),
				     .anon_bytes = c->tree[M_ANON] + c->tree[M_SHMEM] };
	int rc;

	if (!c->hooks.death_fn || !p->names)
		return 0;
	/* an OOM kill: with every contributor of this instant, as the peak's table lists them */
	if (!sig && contributors(c, &s))
		rc = -ENOMEM;
	else
		rc = hooks__death(&c->hooks, &c->t, &row, sig ? NULL : &s, &e);
	snapshot__free(&s);
	return rc;
}

static int rec_oom(struct collector *c, const void *rec)
{
	struct proc *p = table_get(&c->procs, ((const struct bmt_oom *)rec)->pid);

	return p ? tell_death(c, p, 0) : 0;
}

static int rec_exit(struct collector *c, const void *rec)
{
	const struct bmt_exit *r = rec;
	struct proc *p = table_get(&c->procs, r->pid);
	int sig = r->exit_code & 0x7f, rc;

	if (!p)
		return 0;
	if (sig && sig != 0x7f && (rc = tell_death(c, p, sig)) < 0)
		return rc;
	table_del(&c->procs, r->pid);
	proc_exit(c, p);
	return 1;
}

static int rec_adopt(struct collector *c, const void *rec)
{
	const struct bmt_adopt *r = rec;
	struct proc *p, *parent;
	struct mm *m;

	p = proc_new(c, r->pid, r->ppid);
	if (!p)
		return -ENOMEM;
	parent = table_get(&c->procs, r->ppid); /* after proc_new, which may free a stale pid */
	if (!c->have_root) {
		c->have_root = 1;
		c->root_pid = r->pid;
	}
	if (parent)
		p->stage = parent->stage;
	p->names = names_from_comm(c, r->comm);
	if (!p->names)
		return -ENOMEM;
	if (p->pid == c->root_pid)
		tallies__name_default(&c->t, c->t.cmds[p->names->cmd].name);
	count_new_proc(c, p, 0);
	m = mm__new_seed(&c->mms, r->pid, r->bytes);
	if (!m)
		return -ENOMEM;
	bind(c, p, m);
	return 1;
}

/* > 0: the state changed; 0: nothing to do; -errno. */
static int (*const apply_rec[BMT_REC_MAX])(struct collector *c, const void *rec) = {
	[BMT_REC_RSS] = rec_rss,   [BMT_REC_FORK] = rec_fork, [BMT_REC_MM] = rec_mm,
	[BMT_REC_EXEC] = rec_exec, [BMT_REC_EXIT] = rec_exit, [BMT_REC_ADOPT] = rec_adopt,
	[BMT_REC_OOM] = rec_oom,
};

/*
 * Shape checks, all before any state changes: a rejected record leaves no trace. serve's
 * TREE and JOIN are well formed but not the collector's: rejected too.
 */
static int well_formed(const void *rec, size_t len)
{
	const struct bmt_hdr *h = rec;

	return bmt_record_check(rec, len) > 0 && h->type != BMT_REC_TREE &&
	       h->type != BMT_REC_JOIN;
}

int collector__feed(struct collector *c, const void *rec, size_t len)
{
	const struct bmt_hdr *h = rec;
	uint64_t before = sum3(c->tree);
	int rc;

	c->gen++;
	if (!well_formed(rec, len)) {
		c->rejected++;
		return -EINVAL;
	}
	c->now = h->ts > c->now ? h->ts : c->now; /* CPUs' records may interleave by a few ns */
	if (!c->first_ts)
		c->first_ts = h->ts;
	c->last_ts = c->now;
	if (h->type != BMT_REC_RSS)
		leave_peak(c); /* these may move attribution: keep the peak's state first */
	rc = apply_rec[h->type](c, rec); /* well_formed() admits only these types */
	if (c->hooks.n_changed)
		hooks__flush(&c->hooks, c->now);
	if (rc <= 0)
		return rc;
	update_peaks(c, c->now);
	/* the total, or for the other records which stage holds it (attribution moved) */
	if (sum3(c->tree) != before ||
	    (h->type != BMT_REC_RSS && c->hooks.sample_fn && tallies__moved(&c->t)))
		hooks__sample(&c->hooks, &c->t, c->now, sum3(c->tree),
			      c->tree[M_ANON] + c->tree[M_SHMEM]);
	return 0;
}

/* ---- lifetime and results ---- */

struct collector *collector__new(const struct stages *rules)
{
	struct collector *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->rules = rules;
	c->gen = 1; /* no result built yet: res_gen 0 */
	c->res = result__new();
	if (tallies__init(&c->t, rules) || !c->res) {
		collector__free(c);
		errno = ENOMEM;
		return NULL;
	}
	return c;
}

void collector__free(struct collector *c)
{
	if (!c)
		return;
	result__free(c->res);
	snapshot__free(&c->snap);
	/* each mm holds a reference on its owner; exited owners live only through them */
	for (size_t i = 0; i < c->mms.cap; i++) {
		struct mm *m = c->mms.vals[i];

		if (m && m->owner) {
			m->owner->owned--;
			proc_maybe_free(m->owner);
		}
		free(m);
	}
	for (size_t i = 0; i < c->procs.cap; i++) {
		struct proc *p = c->procs.vals[i];

		if (p) {
			p->alive = 0;
			proc_maybe_free(p);
		}
	}
	table_free(&c->procs);
	table_free(&c->mms);
	tallies__free(&c->t);
	hooks__free(&c->hooks);
	free(c);
}

void collector__on_proc(struct collector *c, bmt_proc_fn fn, void *ctx)
{
	c->hooks.proc_fn = fn;
	c->hooks.proc_ctx = ctx;
}

void collector__on_death(struct collector *c, bmt_death_fn fn, void *ctx)
{
	c->hooks.death_fn = fn;
	c->hooks.death_ctx = ctx;
}

void collector__on_sample(struct collector *c, bmt_sample_fn fn, void *ctx)
{
	c->hooks.sample_fn = fn;
	c->hooks.sample_ctx = ctx;
}

int collector__add_root(struct collector *c, uint32_t pid, char *const argv[], uint64_t ts)
{
	const char *q;
	struct proc *p;

	c->gen++;
	c->now = ts > c->now ? ts : c->now;
	p = proc_new(c, pid, 0);
	if (!p)
		return -ENOMEM;
	p->names = names__from_argv(argv);
	if (!p->names)
		return -ENOMEM;
	q = p->names->argv[0] ? util_basename(p->names->argv[0]) : p->names->comm;
	p->names->cmd = tallies__command(&c->t, q);
	if (p->names->cmd < 0)
		return -ENOMEM;
	c->have_root = 1;
	c->root_pid = pid;
	tallies__name_default(&c->t, q);
	count_new_proc(c, p, 0);
	return 0;
}

uint32_t collector__largest_now(const struct collector *c, uint64_t *bytes, char *const **argv)
{
	const struct proc *top = NULL;

	for (size_t i = 0; i < c->procs.cap; i++) {
		const struct proc *p = c->procs.vals[i];

		if (p && p->alive && (!top || sum3(p->bytes) > sum3(top->bytes)))
			top = p;
	}
	if (!top || !sum3(top->bytes))
		return 0;
	*bytes = sum3(top->bytes);
	*argv = top->names ? top->names->argv : NULL;
	return top->pid;
}

size_t collector__alive(const struct collector *c)
{
	return c->alive;
}

void collector__now(struct collector *c, struct bmt_now *now)
{
	*now = (struct bmt_now){
		.tree_bytes = sum3(c->tree),
		.anon_bytes = c->tree[M_ANON] + c->tree[M_SHMEM],
		.peak = c->peak,
		.alive = c->alive,
		.processes_total = c->processes_total,
		.events = c->events,
		.rejected = c->rejected,
		.first_ts = c->first_ts,
		.last_ts = c->last_ts,
	};
	tallies__levels(&c->t, now);
}

/* The processes alive now, for the result; NULL on allocation failure. */
static struct live_proc *live_procs(const struct collector *c)
{
	struct live_proc *live = calloc(c->alive + 1, sizeof(*live));
	size_t n = 0;

	for (size_t i = 0; live && i < c->procs.cap; i++) {
		const struct proc *p = c->procs.vals[i];

		if (p && p->alive)
			live[n++] = (struct live_proc){ p->pid, p->names, p->cmd_peak };
	}
	return live;
}

const struct bmt_result *collector__result(struct collector *c)
{
	struct result_src src;
	struct live_proc *live;

	if (c->res_gen == c->gen)
		return c->built;
	c->built = NULL;
	live = c->peak_live && snapshot(c) ? NULL : live_procs(c);
	if (!live) {
		errno = ENOMEM;
		return NULL;
	}
	src = (struct result_src){ .anon_peak = c->anon_peak,
				   .raw_peak = c->raw_peak,
				   .swap_at_peak = c->swap_at_peak,
				   .swap_peak = c->swap_peak,
				   .stages = c->t.stages,
				   .shown = c->t.shown,
				   .cmds = c->t.cmds,
				   .peak = &c->snap,
				   .alive = live };
	collector__now(c, &src.now);
	c->built = result__build(c->res, &src);
	free(live);
	c->res_gen = c->built ? c->gen : 0;
	return c->built;
}
