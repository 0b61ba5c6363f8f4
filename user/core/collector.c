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
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "bmtrace.h"
#include "collector.h"
#include "record.h"
#include "table.h"
#include "util.h"

/* ---- names: argv and command of a process, shared by fork until exec ---- */

struct names {
	int refs;
	int cmd;        /* index into commands */
	char comm[BMT_COMM_LEN];
	char **argv;    /* NULL-terminated, points into buf */
	char *buf;
};

static void names_put(struct names *n)
{
	if (n && !--n->refs) {
		free(n->argv);
		free(n->buf);
		free(n);
	}
}

static struct names *names_get(struct names *n)
{
	if (n)
		n->refs++;
	return n;
}

/* From count NUL-terminated strings (or fewer if the data ends) in data[0..len). */
static struct names *names_new(const char *data, size_t len, const char *comm)
{
	struct names *n = calloc(1, sizeof(*n));
	size_t argc = 0, i, off;

	if (!n)
		return NULL;
	n->refs = 1;
	snprintf(n->comm, sizeof(n->comm), "%s", comm ? comm : "");
	n->buf = malloc(len + 1);
	if (!n->buf)
		goto fail;
	memcpy(n->buf, data, len);
	n->buf[len] = '\0'; /* a truncated last argument still ends */
	for (off = 0; off < len; off += strlen(n->buf + off) + 1)
		argc++;
	n->argv = calloc(argc + 1, sizeof(char *));
	if (!n->argv)
		goto fail;
	for (i = 0, off = 0; i < argc; i++, off += strlen(n->buf + off) + 1)
		n->argv[i] = n->buf + off;
	return n;
fail:
	names_put(n);
	return NULL;
}

/* ---- processes, address spaces ---- */

enum { M_FILE, M_ANON, M_SHMEM, M_COUNTED }; /* the RSS members that count */

static const int counted_member[M_COUNTED] = { BMT_FILE, BMT_ANON, BMT_SHMEM };

struct proc {
	uint32_t pid, ppid;
	int alive;
	int owned;        /* address spaces attributed to it */
	int stage;        /* index into c->stages */
	struct names *names;
	struct mm *mm;    /* the one it uses now, or NULL */
	uint64_t bytes[M_COUNTED]; /* its contribution now */
	uint64_t peak_bytes;       /* its own maximum */
	uint64_t snap_gen;         /* == c->snap_gen: already in the snapshot */
	uint64_t cmd_peak;         /* its own maximum while running its current command */
	int inherited;             /* its command came from its parent by fork, not by exec */
};

struct mm {
	uint32_t key;
	int bound;            /* a process used it: it counts */
	int seed;             /* -p: counters from /proc, replaced by the real mm when met */
	int nr_procs;         /* live processes using it */
	unsigned seen;        /* members reported by an RSS record */
	uint64_t counter[BMT_NR_MEMBERS];
	uint64_t base[BMT_NR_MEMBERS]; /* counters at fork, while parent exists */
	struct mm *parent;
	struct mm *children, *next_sibling, *prev_sibling;
	struct proc *owner;   /* who its contribution is attributed to */
	uint64_t contrib[M_COUNTED]; /* applied to the totals */
	uint64_t raw;         /* counter sum applied to the raw total */
	uint64_t swap;
};

struct tally {
	char *name;
	uint64_t bytes, peak_bytes, peak_ts, at_peak, processes;
	/* commands only: sizing over the processes that ran it */
	uint64_t live, max_live;   /* instances alive now, and at most */
	uint64_t max_proc_peak, samples;
	uint32_t *hist;            /* per-process peaks, log-linear (see hist_bucket) */
};

/*
 * Per-process peaks of a command, in a log-linear histogram of 4 KiB pages: exact below 16
 * pages, then 16 steps per power of two, so a bucket's top is within 1/16 of its bottom.
 * Memory per command is fixed whatever the number of processes.
 */
#define HIST_SUB 16
#define HIST_POW 40 /* up to 2^44 pages */
#define HIST_BUCKETS (HIST_SUB * (HIST_POW + 1))

static size_t hist_bucket(uint64_t bytes)
{
	uint64_t x = bytes >> 12;
	int e = 63 - __builtin_clzll(x | 1);

	if (x < HIST_SUB)
		return x;
	if (e - 4 >= HIST_POW)
		return HIST_BUCKETS - 1;
	return HIST_SUB + (size_t)(e - 4) * HIST_SUB + ((x >> (e - 4)) & (HIST_SUB - 1));
}

/* The largest value that falls in bucket i, in bytes. */
static uint64_t hist_top(size_t i)
{
	size_t e4, sub;

	if (i < HIST_SUB)
		return (uint64_t)i << 12;
	e4 = (i - HIST_SUB) / HIST_SUB;
	sub = (i - HIST_SUB) % HIST_SUB;
	return (((uint64_t)(HIST_SUB + sub + 1) << e4) - 1) << 12;
}

struct snap_row {
	uint32_t pid, ppid;
	int stage;
	struct names *names;
	uint64_t bytes[M_COUNTED];
};

struct collector {
	const struct stages *rules;
	struct table procs, mms;
	struct tally *stages;   /* rules first, then the root's default (unless merged) */
	size_t n_stages;
	int default_stage;
	int default_named;
	struct tally *cmds;
	size_t n_cmds, cap_cmds;
	struct table cmd_index; /* name hash -> cmd index + 1; collisions resolved by scan */
	uint32_t root_pid;
	int have_root;

	uint64_t tree[M_COUNTED]; /* totals now */
	uint64_t raw, swap;
	uint64_t last_ts;
	uint64_t now;             /* ts of the record being applied, never going back */
	uint64_t snap_gen;

	struct bmt_peak peak, anon_peak, raw_peak, swap_peak;
	uint64_t swap_at_peak;
	int peak_live;       /* the current state is the peak state: no snapshot yet */
	struct snap_row *snap;
	size_t n_snap, cap_snap;
	uint64_t *snap_stage, *snap_cmd; /* per stage / command bytes at the peak */
	size_t n_snap_cmd;

	uint64_t processes_total, events, rejected, first_ts;
	size_t alive;

	bmt_sample_fn sample_fn;
	void *sample_ctx;
	bmt_death_fn death_fn;
	void *death_ctx;
	uint64_t *sample_stage;

	struct bmt_result res; /* what collector__result returns, with its arrays */
	struct bmt_peak_proc *res_peak;
	struct bmt_stage_result *res_stages;
	struct bmt_command_result *res_cmds;
	struct bmt_alive_proc *res_alive;
};

static uint64_t sum3(const uint64_t *v)
{
	return v[M_FILE] + v[M_ANON] + v[M_SHMEM];
}

/* ---- tallies: stages and commands ---- */

static void tally_add(struct tally *t, uint64_t delta, int sign, uint64_t ts)
{
	if (sign > 0) {
		t->bytes += delta;
		if (t->bytes > t->peak_bytes) {
			t->peak_bytes = t->bytes;
			t->peak_ts = ts;
		}
	} else {
		t->bytes -= delta < t->bytes ? delta : t->bytes;
	}
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

/* Index of the command called name, created on first use; -1 on allocation failure. */
static int command_index(struct collector *c, const char *name)
{
	uint64_t h = name_hash(name);
	void *hit = table_get(&c->cmd_index, h);
	size_t i;

	if (hit && !strcmp(c->cmds[(uintptr_t)hit - 1].name, name))
		return (int)((uintptr_t)hit - 1);
	for (i = 0; hit && i < c->n_cmds; i++) /* a hash collision: rare, scan */
		if (!strcmp(c->cmds[i].name, name))
			return (int)i;
	if (c->n_cmds == c->cap_cmds) {
		size_t cap = c->cap_cmds ? 2 * c->cap_cmds : 16;
		struct tally *cmds = realloc(c->cmds, cap * sizeof(*cmds));

		if (!cmds)
			return -1;
		c->cmds = cmds;
		c->cap_cmds = cap;
	}
	memset(&c->cmds[c->n_cmds], 0, sizeof(c->cmds[0]));
	c->cmds[c->n_cmds].name = strdup(name);
	if (!c->cmds[c->n_cmds].name)
		return -1;
	if (!hit && table_put(&c->cmd_index, h, (void *)(uintptr_t)(c->n_cmds + 1)))
		return -1;
	return (int)c->n_cmds++;
}

/* ---- the peak ---- */

static void snap_clear(struct collector *c)
{
	for (size_t i = 0; i < c->n_snap; i++)
		names_put(c->snap[i].names);
	c->n_snap = 0;
}

static int snap_push(struct collector *c, const struct proc *p)
{
	if (c->n_snap == c->cap_snap) {
		size_t cap = c->cap_snap ? 2 * c->cap_snap : 64;
		struct snap_row *rows = realloc(c->snap, cap * sizeof(*rows));

		if (!rows)
			return -ENOMEM;
		c->snap = rows;
		c->cap_snap = cap;
	}
	c->snap[c->n_snap++] = (struct snap_row){
		.pid = p->pid,
		.ppid = p->ppid,
		.stage = p->stage,
		.names = names_get(p->names),
		.bytes = { p->bytes[0], p->bytes[1], p->bytes[2] },
	};
	return 0;
}

/* Copy the contributors of the current state: it is the peak and is about to change. */
static int snapshot(struct collector *c)
{
	uint64_t *cmd;

	snap_clear(c);
	c->snap_gen++;
	/* contributors are the owners of counted mms, an exited owner still tearing down too */
	for (size_t i = 0; i < c->mms.cap; i++) {
		struct mm *m = c->mms.vals[i];
		struct proc *p = m ? m->owner : NULL;

		if (!p || p->snap_gen == c->snap_gen || !sum3(p->bytes))
			continue;
		p->snap_gen = c->snap_gen;
		if (snap_push(c, p))
			return -ENOMEM;
	}
	for (size_t s = 0; s < c->n_stages; s++)
		c->snap_stage[s] = c->stages[s].bytes;
	cmd = realloc(c->snap_cmd, (c->n_cmds + 1) * sizeof(*cmd));
	if (!cmd)
		return -ENOMEM;
	c->snap_cmd = cmd;
	for (size_t i = 0; i < c->n_cmds; i++)
		cmd[i] = c->cmds[i].bytes;
	c->n_snap_cmd = c->n_cmds;
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

/* Did attribution between stages change since the last sample? (The total did not.) */
static int stages_moved(const struct collector *c)
{
	for (size_t i = 0; c->sample_fn && i < c->n_stages; i++)
		if (c->sample_stage[i] != c->stages[i].bytes)
			return 1;
	return 0;
}

static void emit_sample(struct collector *c, uint64_t ts)
{
	struct bmt_sample s;

	if (!c->sample_fn)
		return;
	for (size_t i = 0; i < c->n_stages; i++)
		c->sample_stage[i] = c->stages[i].bytes;
	s = (struct bmt_sample){ ts, sum3(c->tree), c->tree[M_ANON] + c->tree[M_SHMEM],
				 c->sample_stage, c->n_stages };
	c->sample_fn(c->sample_ctx, &s);
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
	if (sum3(p->bytes) > p->peak_bytes)
		p->peak_bytes = sum3(p->bytes);
	if (sum3(p->bytes) > p->cmd_peak)
		p->cmd_peak = sum3(p->bytes);
	tally_add(&c->stages[p->stage], total, sign, c->now);
	if (p->names && p->names->cmd >= 0)
		tally_add(&c->cmds[p->names->cmd], total, sign, c->now);
}

/* What m should contribute now, from its counters and its fork baseline. */
static void wanted(const struct mm *m, uint64_t *v, uint64_t *raw, uint64_t *swap)
{
	*raw = 0;
	*swap = 0;
	for (int i = 0; i < M_COUNTED; i++)
		v[i] = 0;
	if (!m->bound)
		return;
	for (int i = 0; i < M_COUNTED; i++) {
		uint64_t cur = m->counter[counted_member[i]];
		uint64_t base = m->parent ? m->base[counted_member[i]] : 0;

		v[i] = cur > base ? cur - base : 0;
		*raw += cur;
	}
	*swap = m->counter[BMT_SWAP];
}

/* Bring m's applied contribution in line with its state. */
static void refresh(struct collector *c, struct mm *m)
{
	uint64_t v[M_COUNTED], raw, swap;

	wanted(m, v, &raw, &swap);
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

static void unlink_child(struct mm *m)
{
	if (!m->parent)
		return;
	if (m->prev_sibling)
		m->prev_sibling->next_sibling = m->next_sibling;
	else
		m->parent->children = m->next_sibling;
	if (m->next_sibling)
		m->next_sibling->prev_sibling = m->prev_sibling;
	m->parent = NULL;
	m->next_sibling = m->prev_sibling = NULL;
}

static void link_child(struct mm *parent, struct mm *m)
{
	m->parent = parent;
	m->prev_sibling = NULL;
	m->next_sibling = parent->children;
	if (parent->children)
		parent->children->prev_sibling = m;
	parent->children = m;
}

/*
 * m is gone (torn down, or a seed replaced). Its fork children's inherited pages are theirs
 * alone now, except what m itself had inherited from a parent that still holds it: a child
 * moves up to that grandparent with, per member, the smaller of the two baselines.
 */
static void retire(struct collector *c, struct mm *m)
{
	m->bound = 0;
	refresh(c, m);
	while (m->children) {
		struct mm *child = m->children;

		unlink_child(child);
		if (m->parent) {
			for (int i = 0; i < BMT_NR_MEMBERS; i++)
				if (m->base[i] < child->base[i])
					child->base[i] = m->base[i];
			link_child(m->parent, child);
		}
		refresh(c, child);
	}
	unlink_child(m);
	set_owner(c, m, NULL); /* frees an exited owner that owned only m */
	table_del(&c->mms, m->key);
	free(m);
}

static int all_zero(const struct mm *m)
{
	for (int i = 0; i < BMT_NR_MEMBERS; i++)
		if (m->counter[i])
			return 0;
	return 1;
}

/* Retire m when no process uses it and its pages are gone (a bound mm only: a pending one
 * may still be bound by its fork or exec). */
static void maybe_retire(struct collector *c, struct mm *m)
{
	if (!m->nr_procs && (m->seed || (m->bound && all_zero(m))))
		retire(c, m);
}

static struct mm *mm_get(struct collector *c, uint32_t key)
{
	struct mm *m = table_get(&c->mms, key);

	if (m || !key)
		return m;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->key = key;
	if (table_put(&c->mms, key, m)) {
		free(m);
		return NULL;
	}
	return m;
}

/* An exited process is kept while an address space is still attributed to it. */
static void proc_maybe_free(struct proc *p)
{
	if (!p->alive && !p->owned) {
		names_put(p->names);
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
	t = &c->cmds[p->names->cmd];
	if (++t->live > t->max_live)
		t->max_live = t->live;
	p->cmd_peak = sum3(p->bytes);
	p->inherited = inherited;
}

static void hist_add(struct tally *t, uint64_t bytes, int sign)
{
	if (!t->hist && !(t->hist = calloc(HIST_BUCKETS, sizeof(*t->hist))))
		return; /* sizing is lost, the accounting is not */
	t->hist[hist_bucket(bytes)] += sign;
	t->samples += sign;
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
	t = &c->cmds[p->names->cmd];
	t->live--;
	if (by_exec && p->inherited)
		return;
	hist_add(t, p->cmd_peak, +1);
	if (p->cmd_peak > t->max_proc_peak)
		t->max_proc_peak = p->cmd_peak;
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
	p->stage = c->default_stage;
	if (table_put(&c->procs, pid, p)) {
		free(p);
		return NULL;
	}
	c->alive++;
	c->processes_total++;
	return p;
}

/* Give p its names (taking the reference) and its stage, moving its contribution along. */
static void set_identity(struct collector *c, struct proc *p, struct names *n, int stage)
{
	int new_cmd = n && n != p->names;

	owned_apply(c, p, -1);
	if (new_cmd) {
		/* a process counts once per command it runs: exec of the same name adds none */
		int same = p->names && p->names->cmd == n->cmd;

		if (n->cmd >= 0 && !same)
			c->cmds[n->cmd].processes++;
		if (!same)
			cmd_leave(c, p, 1);
		names_put(p->names);
		p->names = n;
		if (!same)
			cmd_enter(c, p, 0);
		p->inherited = 0; /* it exec'd this command itself */
	}
	if (stage != p->stage) {
		p->stage = stage;
		c->stages[stage].processes++;
	}
	owned_apply(c, p, +1);
}

/* The default stage is named after the root's command; a rule's name is never taken. */
static void name_default_stage(struct collector *c, const char *name)
{
	char buf[BMT_FILENAME_MAX + 16];
	char *copy;

	if (c->default_named || !*name)
		return;
	c->default_named = 1;
	for (size_t i = 0; i < stages__count(c->rules); i++)
		if (!strcmp(stages__name(c->rules, i), name)) {
			snprintf(buf, sizeof(buf), "%s (root)", name);
			name = buf;
			break;
		}
	copy = strdup(name);
	if (copy) {
		free(c->stages[c->default_stage].name);
		c->stages[c->default_stage].name = copy;
	}
}

/* ---- deaths ---- */

/* A process's row, as the peak's table and the deaths show it. */
static struct bmt_peak_proc peak_proc(const struct collector *c, uint32_t pid, uint32_t ppid,
				      const struct names *n, int stage, const uint64_t *bytes)
{
	return (struct bmt_peak_proc){
		.pid = pid,
		.ppid = ppid,
		/* rows are mm owners: named before bind(), or the run ended on ENOMEM */
		/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
		.comm = n->cmd >= 0 ? c->cmds[n->cmd].name : n->comm,
		.argv = n->argv,
		.stage = c->stages[stage].name,
		.bytes = sum3(bytes),
		.anon_bytes = bytes[M_ANON],
		.file_bytes = bytes[M_FILE],
		.shmem_bytes = bytes[M_SHMEM],
	};
}

static int cmp_peak_proc(const void *a, const void *b);

/*
 * Tell the death hook that p died of sig, or (sig 0) that the OOM killer chose it: then with
 * every contributor of this instant, as the peak's table lists them.
 */
static int tell_death(struct collector *c, struct proc *p, int sig)
{
	struct bmt_peak_proc self, *rows = NULL;
	size_t n = 0;
	int rc;

	if (!c->death_fn || !p->names)
		return 0;
	self = peak_proc(c, p->pid, p->ppid, p->names, p->stage, p->bytes);
	if (!sig && !(rows = calloc(c->mms.cap + 1, sizeof(*rows))))
		return -ENOMEM;
	c->snap_gen++; /* marks the rows taken; a later snapshot() takes a generation of its own */
	for (size_t i = 0; !sig && i < c->mms.cap; i++) {
		struct mm *m = c->mms.vals[i];
		struct proc *o = m ? m->owner : NULL;

		if (!o || o->snap_gen == c->snap_gen || !sum3(o->bytes) || !o->names)
			continue;
		o->snap_gen = c->snap_gen;
		rows[n++] = peak_proc(c, o->pid, o->ppid, o->names, o->stage, o->bytes);
	}
	if (n)
		qsort(rows, n, sizeof(*rows), cmp_peak_proc);
	rc = c->death_fn(c->death_ctx, &(struct bmt_death_event){
		.ts = c->now,
		.signal = sig,
		.proc = &self,
		.tree_bytes = sum3(c->tree),
		.anon_bytes = c->tree[M_ANON] + c->tree[M_SHMEM],
		.holders = rows,
		.n_holders = n,
	});
	free(rows);
	return rc;
}

/* ---- records ---- */

static int rec_rss(struct collector *c, const struct bmt_rss *r)
{
	struct mm *m;

	c->events++;
	m = mm_get(c, r->mm_key);
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
	n = names_new("", 0, comm);
	if (n && (n->cmd = command_index(c, comm)) < 0) {
		names_put(n);
		return NULL;
	}
	return n;
}

static void count_new_proc(struct collector *c, struct proc *p, int inherited)
{
	c->stages[p->stage].processes++;
	if (p->names->cmd >= 0)
		c->cmds[p->names->cmd].processes++;
	cmd_enter(c, p, inherited);
}

static int rec_fork(struct collector *c, const struct bmt_fork *r)
{
	struct proc *parent = table_get(&c->procs, r->ppid), *p;
	struct mm *m, *pm;

	p = proc_new(c, r->pid, r->ppid);
	if (!p)
		return -ENOMEM;
	if (parent) {
		p->stage = parent->stage;
		p->names = names_get(parent->names);
	} else {
		p->names = names_from_comm(c, r->comm);
		if (!p->names)
			return -ENOMEM;
	}
	count_new_proc(c, p, parent != NULL);
	m = mm_get(c, r->child_mm_key);
	if (!m)
		return r->child_mm_key ? -ENOMEM : 1;
	pm = table_get(&c->mms, r->parent_mm_key);
	if (!(r->hdr.flags & BMT_FORK_SHARED_MM) && !m->bound && pm && pm != m && pm->bound) {
		/* the copied pages are the parent's: the child counts only what it adds */
		memcpy(m->base, m->counter, sizeof(m->base));
		link_child(pm, m);
	}
	bind(c, p, m);
	return 1;
}

static int rec_mm(struct collector *c, uint32_t pid, uint32_t key)
{
	struct proc *p = table_get(&c->procs, pid);
	struct mm *m, *old;

	if (!p || !key || (p->mm && p->mm->key == key))
		return 0;
	m = mm_get(c, key);
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

static int rec_exec(struct collector *c, const struct bmt_exec *r)
{
	struct proc *p = table_get(&c->procs, r->pid);
	char fname[BMT_FILENAME_MAX + 1], comm[BMT_COMM_LEN + 1];
	struct names *n;
	int rule, rc;

	if (!p)
		return 0;
	rc = rec_mm(c, r->pid, r->mm_key);
	if (rc < 0)
		return rc;
	snprintf(fname, sizeof(fname), "%.*s", (int)r->filename_len, r->data);
	snprintf(comm, sizeof(comm), "%.*s", BMT_COMM_LEN, r->comm);
	n = names_new(r->data + r->filename_len, r->argv_len, comm);
	if (!n)
		return -ENOMEM;
	n->cmd = command_index(c, *fname ? util_basename(fname) : comm);
	if (n->cmd < 0) {
		names_put(n);
		return -ENOMEM;
	}
	if (p->pid == c->root_pid)
		name_default_stage(c, c->cmds[n->cmd].name);
	rule = stages__match(c->rules, n->argv);
	set_identity(c, p, n, rule >= 0 ? rule : p->stage);
	return 1;
}

static int rec_exit(struct collector *c, const struct bmt_exit *r)
{
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

static int rec_oom(struct collector *c, const struct bmt_oom *r)
{
	struct proc *p = table_get(&c->procs, r->pid);

	return p ? tell_death(c, p, 0) : 0;
}

static int rec_adopt(struct collector *c, const struct bmt_adopt *r)
{
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
		name_default_stage(c, c->cmds[p->names->cmd].name);
	count_new_proc(c, p, 0);
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	/* seeds live under keys the kernel never hands out (bmt_record_check refuses them);
	 * pids fit in the lower half (BMT_PID_MAX) */
	m->key = (BMT_MM_KEY_MAX + 1) | r->pid;
	m->seed = 1;
	memcpy(m->counter, r->bytes, sizeof(m->counter));
	if (table_put(&c->mms, m->key, m)) {
		free(m);
		return -ENOMEM;
	}
	bind(c, p, m);
	return 1;
}

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
	switch (h->type) {
	case BMT_REC_RSS:
		rc = rec_rss(c, rec);
		break;
	case BMT_REC_FORK:
		rc = rec_fork(c, rec);
		break;
	case BMT_REC_MM:
		rc = rec_mm(c, ((const struct bmt_mm *)rec)->pid, ((const struct bmt_mm *)rec)->mm_key);
		break;
	case BMT_REC_EXEC:
		rc = rec_exec(c, rec);
		break;
	case BMT_REC_EXIT:
		rc = rec_exit(c, rec);
		break;
	case BMT_REC_ADOPT:
		rc = rec_adopt(c, rec);
		break;
	case BMT_REC_OOM:
		rc = rec_oom(c, rec);
		break;
	default: /* well_formed() admits no other type */
		rc = -EINVAL;
		break;
	}
	if (rc <= 0)
		return rc;
	update_peaks(c, c->now);
	if (sum3(c->tree) != before || (h->type != BMT_REC_RSS && stages_moved(c)))
		emit_sample(c, c->now);
	return 0;
}

/* ---- lifetime and results ---- */

struct collector *collector__new(const struct stages *rules)
{
	struct collector *c = calloc(1, sizeof(*c));
	size_t n = stages__count(rules);

	if (!c)
		return NULL;
	c->rules = rules;
	c->n_stages = n + 1;
	c->default_stage = (int)n;
	c->stages = calloc(c->n_stages, sizeof(*c->stages));
	c->snap_stage = calloc(c->n_stages, sizeof(*c->snap_stage));
	c->sample_stage = calloc(c->n_stages, sizeof(*c->sample_stage));
	if (!c->stages || !c->snap_stage || !c->sample_stage)
		goto fail;
	for (size_t i = 0; i < n; i++)
		if (!(c->stages[i].name = strdup(stages__name(rules, i))))
			goto fail;
	if (!(c->stages[n].name = strdup("(root)")))
		goto fail;
	return c;
fail:
	collector__free(c);
	errno = ENOMEM;
	return NULL;
}

static void free_result(struct collector *c)
{
	free(c->res_peak);
	free(c->res_stages);
	free(c->res_cmds);
	free(c->res_alive);
	c->res_peak = NULL;
	c->res_stages = NULL;
	c->res_cmds = NULL;
	c->res_alive = NULL;
}

void collector__free(struct collector *c)
{
	if (!c)
		return;
	free_result(c);
	snap_clear(c);
	free(c->snap);
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
	table_free(&c->cmd_index);
	for (size_t i = 0; c->stages && i < c->n_stages; i++)
		free(c->stages[i].name);
	for (size_t i = 0; i < c->n_cmds; i++) {
		free(c->cmds[i].name);
		free(c->cmds[i].hist);
	}
	free(c->stages);
	free(c->cmds);
	free(c->snap_stage);
	free(c->snap_cmd);
	free(c->sample_stage);
	free(c);
}

void collector__on_death(struct collector *c, bmt_death_fn fn, void *ctx)
{
	c->death_fn = fn;
	c->death_ctx = ctx;
}

void collector__on_sample(struct collector *c, bmt_sample_fn fn, void *ctx)
{
	c->sample_fn = fn;
	c->sample_ctx = ctx;
}

int collector__add_root(struct collector *c, uint32_t pid, char *const argv[], uint64_t ts)
{
	size_t len = 0;
	char *buf, *q;
	struct proc *p;

	for (size_t i = 0; argv && argv[i]; i++)
		len += strlen(argv[i]) + 1;
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0, off = 0; argv && argv[i]; off += strlen(argv[i]) + 1, i++)
		memcpy(buf + off, argv[i], strlen(argv[i]) + 1);
	c->now = ts > c->now ? ts : c->now;
	p = proc_new(c, pid, 0);
	if (!p) {
		free(buf);
		return -ENOMEM;
	}
	p->names = names_new(buf, len, argv && argv[0] ? util_basename(argv[0]) : "");
	free(buf);
	if (!p->names)
		return -ENOMEM;
	q = p->names->argv[0] ? (char *)util_basename(p->names->argv[0]) : p->names->comm;
	p->names->cmd = command_index(c, q);
	if (p->names->cmd < 0)
		return -ENOMEM;
	c->have_root = 1;
	c->root_pid = pid;
	name_default_stage(c, q);
	count_new_proc(c, p, 0);
	return 0;
}

size_t collector__alive(const struct collector *c)
{
	return c->alive;
}

static int cmp_peak_proc(const void *a, const void *b)
{
	const struct bmt_peak_proc *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int cmp_cmd(const void *a, const void *b)
{
	const struct bmt_command_result *x = a, *y = b;

	if (x->bytes_at_peak != y->bytes_at_peak)
		return x->bytes_at_peak < y->bytes_at_peak ? 1 : -1;
	if (x->peak_bytes != y->peak_bytes)
		return x->peak_bytes < y->peak_bytes ? 1 : -1;
	return strcmp(x->name, y->name);
}

static int cmp_alive(const void *a, const void *b)
{
	const struct bmt_alive_proc *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

/* The q-quantile of a command's per-process peaks: a bucket's top, capped at the true max. */
static uint64_t quantile(const struct tally *t, double q, uint64_t max)
{
	uint64_t rank, seen = 0;

	if (!t->samples || !t->hist)
		return 0;
	rank = (uint64_t)(q * t->samples + 0.999999);
	rank = rank ? rank : 1;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += t->hist[i];
		if (seen >= rank)
			return hist_top(i) < max ? hist_top(i) : max;
	}
	return max;
}

/* Fill res_cmds; processes still running count with their peak so far. */
static void command_sizing(struct collector *c)
{
	for (size_t i = 0; i < c->procs.cap; i++) {
		struct proc *p = c->procs.vals[i];

		if (p && p->alive && p->names && p->names->cmd >= 0)
			hist_add(&c->cmds[p->names->cmd], p->cmd_peak, +1);
	}
	for (size_t i = 0; i < c->n_cmds; i++) {
		const struct tally *t = &c->cmds[i];
		uint64_t max = t->max_proc_peak, at_peak = 0;

		for (size_t j = 0; j < c->procs.cap; j++) {
			struct proc *p = c->procs.vals[j];

			if (p && p->alive && p->names && p->names->cmd == (int)i && p->cmd_peak > max)
				max = p->cmd_peak;
		}
		for (size_t j = 0; j < c->n_snap; j++)
			at_peak += c->snap[j].names->cmd == (int)i;
		c->res_cmds[i] = (struct bmt_command_result){
			.name = t->name,
			.bytes_at_peak = i < c->n_snap_cmd ? c->snap_cmd[i] : 0,
			.peak_bytes = t->peak_bytes,
			.peak_ts = t->peak_ts,
			.processes = t->processes,
			.max_proc_peak = max,
			.max_instances = t->max_live,
			.instances_at_peak = at_peak,
			.bytes_now = t->bytes,
		};
		c->res_cmds[i].p50_proc_peak = quantile(t, 0.50, max);
		c->res_cmds[i].p95_proc_peak = quantile(t, 0.95, max);
	}
	for (size_t i = 0; i < c->procs.cap; i++) {
		struct proc *p = c->procs.vals[i];

		if (p && p->alive && p->names && p->names->cmd >= 0)
			hist_add(&c->cmds[p->names->cmd], p->cmd_peak, -1);
	}
}

const struct bmt_result *collector__result(struct collector *c)
{
	struct bmt_result *r = &c->res;
	size_t n = 0;

	free_result(c);
	if (c->peak_live && snapshot(c))
		goto nomem;
	c->res_peak = calloc(c->n_snap + 1, sizeof(*c->res_peak));
	c->res_stages = calloc(c->n_stages, sizeof(*c->res_stages));
	c->res_cmds = calloc(c->n_cmds + 1, sizeof(*c->res_cmds));
	c->res_alive = calloc(c->alive + 1, sizeof(*c->res_alive));
	if (!c->res_peak || !c->res_stages || !c->res_cmds || !c->res_alive)
		goto nomem;
	for (size_t i = 0; i < c->n_snap; i++) {
		const struct snap_row *s = &c->snap[i];

		c->res_peak[i] = peak_proc(c, s->pid, s->ppid, s->names, s->stage, s->bytes);
	}
	qsort(c->res_peak, c->n_snap, sizeof(*c->res_peak), cmp_peak_proc);
	for (size_t i = 0; i < c->n_stages; i++) {
		const struct tally *t = &c->stages[i];

		/* the default stage is left out when nobody stayed in it */
		if (i == (size_t)c->default_stage && !t->processes && stages__count(c->rules))
			continue;
		c->res_stages[n++] = (struct bmt_stage_result){ t->name, c->snap_stage[i],
								t->peak_bytes, t->peak_ts,
								t->processes, t->bytes };
	}
	/* the root's default stage first, then the rules in order */
	if (n && c->res_stages[n - 1].name == c->stages[c->default_stage].name) {
		struct bmt_stage_result d = c->res_stages[n - 1];

		memmove(c->res_stages + 1, c->res_stages, (n - 1) * sizeof(d));
		c->res_stages[0] = d;
	}
	command_sizing(c);
	qsort(c->res_cmds, c->n_cmds, sizeof(*c->res_cmds), cmp_cmd);
	r->n_alive = 0;
	for (size_t i = 0; i < c->procs.cap; i++) {
		struct proc *p = c->procs.vals[i];

		if (p && p->alive)
			c->res_alive[r->n_alive++] = (struct bmt_alive_proc){
				p->pid, p->names && p->names->cmd >= 0 ? c->cmds[p->names->cmd].name :
									 (p->names ? p->names->comm : "")
			};
	}
	qsort(c->res_alive, r->n_alive, sizeof(*c->res_alive), cmp_alive);
	r->peak = c->peak;
	r->peak_procs = c->res_peak;
	r->n_peak_procs = c->n_snap;
	r->anon_peak = c->anon_peak;
	r->raw_peak = c->raw_peak;
	r->swap_at_peak = c->swap_at_peak;
	r->swap_peak = c->swap_peak;
	r->stages = c->res_stages;
	r->n_stages = n;
	r->commands = c->res_cmds;
	r->n_commands = c->n_cmds;
	r->alive = c->res_alive;
	r->processes_total = c->processes_total;
	r->events = c->events;
	r->rejected = c->rejected;
	r->first_ts = c->first_ts;
	r->last_ts = c->last_ts;
	r->tree_bytes_now = sum3(c->tree);
	r->anon_bytes_now = c->tree[M_ANON] + c->tree[M_SHMEM];
	return r;
nomem:
	free_result(c);
	errno = ENOMEM;
	return NULL;
}
