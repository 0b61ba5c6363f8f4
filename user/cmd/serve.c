// SPDX-License-Identifier: MIT
/*
 * serve - bmtrace as a long-running Prometheus exporter for CI hosts.
 *
 * The kernel decides which tree each process belongs to (bpf/bmtrace.bpf.c: a --root exec
 * or a child cgroup of a --cgroup-parent starts a tree, forks inherit it) and announces
 * trees and joins with TREE and JOIN records. Here a router hands every record to the
 * collector of its tree: processes by pid, address spaces by mm key. RSS records of an
 * address space that no process uses yet (a fork copy, an exec's new mm) wait in `pending`
 * until the FORK or MM record that binds it names its tree: then they are replayed first,
 * exactly as the collector would have seen them in a tracing run.
 *
 * A tree ends when its last process has exited and its memory is gone (a short quiet
 * period after the last exit, so teardown events land); its peak then goes into the
 * histogram bmtrace_tree_peak_bytes of its family (the --root name, or the cgroup parent's
 * name), and its final values stay in /metrics for --expire seconds.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "escape.h"
#include "bmtrace.h"
#include "cgroup.h"
#include "collector.h"
#include "deaths.h"
#include "http.h"
#include "procscan.h"
#include "prom.h"
#include "cmd.h"
#include "table.h"
#include "tracer.h"
#include "util.h"

#define QUIET_NS 1000000000ull   /* after its last exit, a tree's teardown has this long */
#define PENDING_NS 10000000000ull /* unbound address spaces older than this are forgotten */
#define PUBLISH_NS 500000000ull  /* a new /metrics page at most this often */
#define TICK_MS 50

/* Histogram buckets of ended trees' peaks: powers of two from 16 MiB to 64 GiB, then +Inf. */
#define LE_FIRST 24
#define LE_LAST 36
#define N_LE (LE_LAST - LE_FIRST + 1)

struct tree {
	uint32_t id;
	char *label;    /* tree="make:4242" or the cgroup's path */
	char *family;   /* root="make", or the cgroup parent's name */
	struct collector *coll;
	struct deaths *deaths;  /* its OOM kills (bmtrace_oom_kills_total{tree}) */
	struct bmt_run run;
	uint64_t quiet_since; /* its last process exited then (0: some alive) */
	uint64_t ended;       /* finalized then (0: live) */
	uint32_t root_pid;    /* --root trees: adopt the children it had before its exec */
	int rooted;           /* the collector has its first process */
};

struct family {
	char *name;
	uint64_t buckets[N_LE]; /* cumulative counts per le */
	uint64_t count;
	double sum;
};

struct pending {
	uint64_t bytes[BMT_NR_MEMBERS];
	unsigned int seen;
	uint64_t ts;
};

struct server {
	const struct config *cfg;
	const struct stages *stages; /* cfg's --stage rules */
	struct tracer *tracer;
	struct http_server *http;
	struct table trees;   /* id -> tree */
	struct table pids;    /* pid -> tree */
	struct table keys;    /* mm key -> tree */
	struct table pending; /* mm key -> pending */
	struct family *families;
	size_t n_families;
	char **parent_dirs;   /* --cgroup-parent, and their cgroup ids */
	uint64_t *parent_ids;
	uint64_t trees_started;
	uint64_t published;
	struct bmt_stats stats;
};

static uint64_t now_ns(void)
{
	return procscan__now();
}

/* ---- trees ---- */

static void tree_free(struct tree *t)
{
	collector__free(t->coll);
	deaths__free(t->deaths);
	free(t->label);
	free(t->family);
	free(t);
}

static int feed(struct tree *t, const void *rec, size_t len)
{
	int rc = collector__feed(t->coll, rec, len);

	return rc == -ENOMEM ? rc : 0; /* a rejected record is counted by the collector */
}

/* The path of cgroup id under one of the parents, into buf; the parent's name as family. */
static void cgroup_names(struct server *sv, uint64_t id, char *buf, size_t len,
			 const char **family)
{
	snprintf(buf, len, "cgroup:%llu", (unsigned long long)id);
	*family = "cgroup";
	for (size_t i = 0; i < sv->cfg->n_cg_parents; i++) {
		DIR *d = opendir(sv->parent_dirs[i]);
		struct dirent *e;

		while (d && (e = readdir(d))) {
			if (e->d_type == DT_DIR && e->d_ino == id && strcmp(e->d_name, ".") &&
			    strcmp(e->d_name, "..")) {
				snprintf(buf, len, "%s/%s", sv->parent_dirs[i], e->d_name);
				*family = util_basename(sv->parent_dirs[i]);
				closedir(d);
				return;
			}
		}
		if (d)
			closedir(d);
	}
}

static void observe(struct server *sv, struct tree *t);
static void drop_tree(struct server *sv, struct tree *t);

/*
 * A new tree under the label of an older one (a cgroup used again, a pid reused): the older
 * is over, its peak observed if the quiet period had not done it yet; one series per label.
 */
static void retire_label(struct server *sv, const char *label)
{
	for (size_t i = 0; i < sv->trees.cap; i++) {
		struct tree *t = sv->trees.vals[i];

		if (t && !strcmp(t->label, label)) {
			if (!t->ended)
				observe(sv, t);
			drop_tree(sv, t);
			return;
		}
	}
}

static int on_tree(struct server *sv, const struct bmt_tree *r)
{
	struct tree *t = calloc(1, sizeof(*t));
	char label[4096], comm[BMT_COMM_LEN + 1];
	const char *family = comm;

	if (!t)
		return -ENOMEM;
	snprintf(comm, sizeof(comm), "%.*s", BMT_COMM_LEN, r->comm);
	if (r->hdr.flags == BMT_TREE_CGROUP)
		cgroup_names(sv, r->cgroup_id, label, sizeof(label), &family);
	else
		snprintf(label, sizeof(label), "%s:%u", comm, r->pid);
	retire_label(sv, label);
	t->id = r->tree;
	t->label = strdup(label);
	t->family = strdup(family);
	t->coll = collector__new(sv->stages);
	t->deaths = deaths__new();
	if (t->coll && t->deaths)
		collector__on_death(t->coll, deaths__event, t->deaths);
	t->run.deaths = t->deaths;
	t->root_pid = r->hdr.flags == BMT_TREE_ROOT ? r->pid : 0;
	t->run.start_ts = r->hdr.ts;
	t->run.exit_code = -1;
	t->run.root_pid = r->pid;
	t->run.attached = 1;
	if (!t->label || !t->family || !t->coll || !t->deaths ||
	    table_put(&sv->trees, t->id, t)) {
		tree_free(t);
		return -ENOMEM;
	}
	sv->trees_started++;
	if (sv->cfg->verbose)
		esc_say(stderr, "tree %u starts: %s", t->id, t->label);
	return 0;
}

/* Replay what the kernel said of key before anyone used it, then route it to t. */
static int bind_key(struct server *sv, struct tree *t, uint32_t key)
{
	struct pending *p = key ? table_get(&sv->pending, key) : NULL;
	int rc = 0;

	if (!key)
		return 0;
	if (p) {
		for (uint32_t m = 0; m < BMT_NR_MEMBERS && !rc; m++) {
			struct bmt_rss r = { { BMT_REC_RSS, 0, sizeof(r), p->ts }, key, m,
					     p->bytes[m] };

			if (p->seen & (1u << m))
				rc = feed(t, &r, sizeof(r));
		}
		table_del(&sv->pending, key);
		free(p);
	}
	return rc ? rc : table_put(&sv->keys, key, t);
}

static int keep_pending(struct server *sv, const struct bmt_rss *r)
{
	struct pending *p = table_get(&sv->pending, r->mm_key);

	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p || table_put(&sv->pending, r->mm_key, p)) {
			free(p);
			return -ENOMEM;
		}
	}
	p->bytes[r->member] = r->bytes;
	p->seen |= 1u << r->member;
	p->ts = r->hdr.ts;
	return 0;
}

/* procscan's view of a tree: adopt into it the children a --root had before its exec. */
struct adopting {
	struct server *sv;
	struct tree *t;
};

static int adopt_add(void *ctx, uint32_t pid)
{
	struct adopting *a = ctx;
	int rc = tracer__add_pid(a->sv->tracer, pid, BMT_PROC_ADOPTED, a->t->id);

	return rc ? rc : table_put(&a->sv->pids, pid, a->t);
}

static int adopt_emit(void *ctx, const void *rec, size_t len)
{
	struct adopting *a = ctx;

	return feed(a->t, rec, len);
}

/*
 * A process entered a tree without a traced fork. Running already (SEED): its counters come
 * from /proc, once, like -p's; a fresh fork of an outsider counts from its exec.
 */
static int on_join(struct server *sv, const struct bmt_join *r)
{
	struct tree *t = table_get(&sv->trees, r->tree);
	struct bmt_adopt a = { { BMT_REC_ADOPT, 0, sizeof(a), r->hdr.ts }, r->pid, 0, {}, {} };
	struct procscan_ops ops;
	struct adopting ctx;
	char err[256];
	size_t found;
	int rc;

	if (!t)
		return 0;
	if (table_put(&sv->pids, r->pid, t))
		return -ENOMEM;
	memcpy(a.comm, r->comm, sizeof(a.comm));
	if (!(r->hdr.flags & BMT_JOIN_SEED)) {
		t->rooted = 1;
		return feed(t, &a, sizeof(a));
	}
	/* the root process itself is added through procscan too: it skips what is traced */
	ctx = (struct adopting){ sv, t };
	ops = (struct procscan_ops){ adopt_add, adopt_emit, &ctx };
	rc = procscan__seed(r->pid, 0, &ops);
	if (rc == -ENOMEM)
		return rc;
	t->rooted = 1;
	if (r->pid == t->root_pid && procscan__adopt(r->pid, &ops, &found, err, sizeof(err)) &&
	    sv->cfg->verbose)
		esc_say(stderr, "tree %s: %s", t->label, err);
	return 0;
}

static int route(void *ctx, const void *rec, size_t len)
{
	struct server *sv = ctx;
	const struct bmt_hdr *h = rec;
	struct tree *t;
	int rc;

	if (len < sizeof(*h))
		return 0;
	switch (h->type) {
	case BMT_REC_RSS: {
		const struct bmt_rss *r = rec;

		if (len < sizeof(*r) || r->member >= BMT_NR_MEMBERS)
			return 0;
		t = table_get(&sv->keys, r->mm_key);
		return t ? feed(t, rec, len) : keep_pending(sv, r);
	}
	case BMT_REC_FORK: {
		const struct bmt_fork *r = rec;

		t = len >= sizeof(*r) ? table_get(&sv->pids, r->ppid) : NULL;
		if (!t)
			return 0;
		if (table_put(&sv->pids, r->pid, t) || bind_key(sv, t, r->child_mm_key))
			return -ENOMEM;
		return feed(t, rec, len);
	}
	case BMT_REC_MM:
	case BMT_REC_EXEC: {
		const struct bmt_mm *r = rec; /* pid and mm_key lead both layouts */

		t = len >= sizeof(*r) ? table_get(&sv->pids, r->pid) : NULL;
		if (!t)
			return 0;
		rc = bind_key(sv, t, r->mm_key);
		return rc ? rc : feed(t, rec, len);
	}
	case BMT_REC_EXIT: {
		const struct bmt_exit *r = rec;

		t = len >= sizeof(*r) ? table_get(&sv->pids, r->pid) : NULL;
		if (!t)
			return 0;
		table_del(&sv->pids, r->pid);
		return feed(t, rec, len);
	}
	case BMT_REC_OOM: {
		const struct bmt_oom *r = rec;

		t = len >= sizeof(*r) ? table_get(&sv->pids, r->pid) : NULL;
		return t ? feed(t, rec, len) : 0;
	}
	case BMT_REC_TREE:
		return len >= sizeof(struct bmt_tree) ? on_tree(sv, rec) : 0;
	case BMT_REC_JOIN:
		return len >= sizeof(struct bmt_join) ? on_join(sv, rec) : 0;
	}
	return 0;
}

/* ---- lifetime of trees, the histogram ---- */

static struct family *family_of(struct server *sv, const char *name)
{
	struct family *f;

	for (size_t i = 0; i < sv->n_families; i++)
		if (!strcmp(sv->families[i].name, name))
			return &sv->families[i];
	f = realloc(sv->families, (sv->n_families + 1) * sizeof(*f));
	if (!f)
		return NULL;
	sv->families = f;
	f = &f[sv->n_families];
	memset(f, 0, sizeof(*f));
	f->name = strdup(name);
	if (!f->name)
		return NULL;
	sv->n_families++;
	return f;
}

static void observe(struct server *sv, struct tree *t)
{
	const struct bmt_result *r = collector__result(t->coll);
	struct family *f = r ? family_of(sv, t->family) : NULL;

	if (!f)
		return;
	for (int i = 0; i < N_LE; i++)
		if (r->peak.bytes <= 1ull << (LE_FIRST + i))
			f->buckets[i]++;
	f->count++;
	f->sum += (double)r->peak.bytes;
}

static int routes_to(uint64_t key, void *val, void *tree)
{
	return val == tree;
}

/* Drop every route to t: its processes and address spaces are gone. */
static void forget_routes(struct table *tab, struct tree *t)
{
	table_del_if(tab, routes_to, t);
}

/* An address space nobody bound for PENDING_NS: forget it (frees it). */
static int stale_pending(uint64_t key, void *val, void *now)
{
	struct pending *p = val;

	if (*(uint64_t *)now - p->ts <= PENDING_NS)
		return 0;
	free(p);
	return 1;
}

static void drop_tree(struct server *sv, struct tree *t)
{
	forget_routes(&sv->pids, t);
	forget_routes(&sv->keys, t);
	table_del(&sv->trees, t->id);
	tree_free(t);
}

static void housekeeping(struct server *sv, uint64_t now)
{
	size_t lingering = 0;
	struct tree *oldest = NULL;

	for (size_t i = 0; i < sv->trees.cap; i++) {
		struct tree *t = sv->trees.vals[i];

		if (!t)
			continue;
		if (!t->ended && t->rooted && !collector__alive(t->coll)) {
			if (!t->quiet_since) {
				t->quiet_since = now;
			} else if (now - t->quiet_since >= QUIET_NS) {
				t->ended = now;
				t->run.end_ts = now;
				observe(sv, t);
				if (sv->cfg->verbose)
					esc_say(stderr, "tree %s ended", t->label);
			}
		} else if (!t->ended) {
			t->quiet_since = 0;
		}
		if (t->ended) {
			lingering++;
			if (!oldest || t->ended < oldest->ended)
				oldest = t;
		}
	}
	for (size_t i = 0; i < sv->trees.cap;) {
		struct tree *t = sv->trees.vals[i];

		if (t && t->ended && (now - t->ended >= sv->cfg->expire_s * 1000000000ull ||
				      (t == oldest && sv->trees.n > sv->cfg->max_trees))) {
			drop_tree(sv, t); /* another tree may shift into slot i: look again */
			oldest = NULL;
		} else {
			i++;
		}
	}
	table_del_if(&sv->pending, stale_pending, &now);
}

/* ---- /metrics ---- */

static void put_histogram(struct server *sv, FILE *f)
{
	prom_family(f, "bmtrace_tree_peak_bytes", "histogram",
		    "Peak tree RSS of each tree that ended, by its --root name or cgroup parent.");
	for (size_t i = 0; i < sv->n_families; i++) {
		const struct family *fam = &sv->families[i];
		char le[32];

		for (int b = 0; b < N_LE; b++) {
			snprintf(le, sizeof(le), "%llu", 1ull << (LE_FIRST + b));
			prom_sample(f, "bmtrace_tree_peak_bytes_bucket", "root", fam->name, le,
				    (double)fam->buckets[b]);
		}
		prom_sample(f, "bmtrace_tree_peak_bytes_bucket", "root", fam->name, "+Inf",
			    (double)fam->count);
		prom_sample(f, "bmtrace_tree_peak_bytes_sum", "root", fam->name, NULL, fam->sum);
		prom_sample(f, "bmtrace_tree_peak_bytes_count", "root", fam->name, NULL,
			    (double)fam->count);
	}
}

static void put_totals(struct server *sv, FILE *f, size_t live)
{
	prom_family(f, "bmtrace_trees", "gauge", "Trees with a process alive.");
	prom_sample(f, "bmtrace_trees", NULL, NULL, NULL, (double)live);
	prom_family(f, "bmtrace_trees_started_total", "counter", "Trees followed since start.");
	prom_sample(f, "bmtrace_trees_started_total", NULL, NULL, NULL, (double)sv->trees_started);
	prom_family(f, "bmtrace_trees_dropped_total", "counter",
		    "Trees not followed because --max-trees were alive.");
	prom_sample(f, "bmtrace_trees_dropped_total", NULL, NULL, NULL,
		    (double)tracer__trees_dropped(sv->tracer));
}

static void publish(struct server *sv, uint64_t now)
{
	struct prom_snapshot *snaps = calloc(sv->trees.n + 1, sizeof(*snaps));
	struct prom_label (*labels)[2] = calloc(sv->trees.n + 1, sizeof(*labels));
	size_t n = 0, live = 0, size = 0;
	char *page = NULL;
	FILE *f;

	sv->published = now;
	tracer__stats(sv->tracer, &sv->stats);
	for (size_t i = 0; snaps && labels && i < sv->trees.cap; i++) {
		struct tree *t = sv->trees.vals[i];
		const struct bmt_result *r = t ? collector__result(t->coll) : NULL;

		if (!r)
			continue;
		t->run.stats.events = r->events;
		t->run.stats.lost = sv->stats.lost; /* the ring is shared: losses are everyone's */
		if (!t->ended && t->label[0] == '/' &&
		    cgroup__read_peak(t->label, &t->run.cgroup.peak_bytes) == 0)
			t->run.cgroup.version = 2; /* a --cgroup-parent tree: its cgroup's peak */
		if (prom_snapshot_fill(&snaps[n], r, &t->run))
			break;
		labels[n][0] = (struct prom_label){ "tree", t->label };
		labels[n][1] = (struct prom_label){ "root", t->family };
		snaps[n].labels = labels[n];
		snaps[n].n_labels = 2;
		live += !t->ended;
		n++;
	}
	f = open_memstream(&page, &size);
	if (f) {
		prom_render(f, snaps, n);
		put_histogram(sv, f);
		put_totals(sv, f, live);
		if (fclose(f) || !page)
			size = 0;
	}
	if (size)
		http__publish(sv->http, page, size);
	else
		free(page);
	while (n--)
		prom_snapshot_clear(&snaps[n]);
	free(snaps);
	free(labels);
}

/* ---- setup ---- */

static int resolve_parents(struct server *sv, char *err, size_t errlen)
{
	size_t n = sv->cfg->n_cg_parents;

	sv->parent_dirs = calloc(n + 1, sizeof(char *));
	sv->parent_ids = calloc(n + 1, sizeof(uint64_t));
	if (!sv->parent_dirs || !sv->parent_ids)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *dir = sv->cfg->cg_parents[i];
		struct statfs fs;
		struct stat st;

		if (statfs(dir, &fs) || stat(dir, &st)) {
			snprintf(err, errlen, "--cgroup-parent %s: %s", dir, strerror(errno));
			return -EINVAL;
		}
		if (fs.f_type != CGROUP2_SUPER_MAGIC || !S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "--cgroup-parent %s: not a directory on a cgroup2 mount "
				 "(mount -t cgroup2; cgroup v1 hierarchies are not followed)", dir);
			return -EINVAL;
		}
		sv->parent_dirs[i] = realpath(dir, NULL);
		if (!sv->parent_dirs[i])
			return -ENOMEM;
		sv->parent_ids[i] = st.st_ino; /* a cgroup2 directory's inode is its cgroup id */
	}
	return 0;
}

/*
 * Become user, keeping only CAP_BPF: the traced set and the counters live in BPF maps, and
 * this kernel refuses bpf(2) to unprivileged users (kernel.unprivileged_bpf_disabled).
 */
static int drop_to(const char *user, char *err, size_t errlen)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct caps[2] = {};
	struct passwd *pw = getpwnam(user);

	if (!pw) {
		snprintf(err, errlen, "-u %s: no such user", user);
		return -EINVAL;
	}
	caps[CAP_BPF / 32].permitted = caps[CAP_BPF / 32].effective = 1u << (CAP_BPF % 32);
	if (prctl(PR_SET_KEEPCAPS, 1) || initgroups(pw->pw_name, pw->pw_gid) ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) || syscall(SYS_capset, &hdr, caps) ||
	    prctl(PR_SET_KEEPCAPS, 0)) {
		snprintf(err, errlen, "-u %s: cannot drop privileges: %s", user, strerror(errno));
		return -errno;
	}
	return 0;
}

/* Every pid listed in path (cgroup.procs), into *pids; the count or -errno. */
static int read_pids(const char *path, uint32_t **pids)
{
	char *buf, *p, *end;
	size_t len, n = 0;
	int rc = procscan__read(path, &buf, &len, 1 << 22);

	if (rc)
		return rc;
	*pids = malloc((len / 2 + 1) * sizeof(**pids));
	if (!*pids) {
		free(buf);
		return -ENOMEM;
	}
	for (p = buf; *p; p = end) {
		unsigned long v = strtoul(p, &end, 10);

		if (end == p)
			break;
		(*pids)[n++] = v;
	}
	free(buf);
	return (int)n;
}

/* Start the tree of one child cgroup found populated at startup, and adopt its members. */
static int adopt_cgroup(struct server *sv, const char *dir, uint64_t cgid)
{
	char procs[4096 + 16];
	uint32_t *pids = NULL, tree;
	int n, rc, added = 1;

	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	/*
	 * n > 0: read_pids() set pids. The analyzer does not see that procscan__read(), in
	 * another file, returns 0 or -errno, never more: hence the NOLINTs below.
	 */
	n = read_pids(procs, &pids);
	if (n <= 0) {
		free(pids);
		return n == -ENOMEM ? n : 0;
	}
	rc = tracer__new_cgroup_tree(sv->tracer, cgid, &tree);
	if (rc == -EEXIST) {
		rc = tracer__drain(sv->tracer) < 0 ? -ENOMEM : 0; /* its TREE record, routed */
	} else if (!rc) {
		struct bmt_tree r = { { BMT_REC_TREE, BMT_TREE_CGROUP, sizeof(r), now_ns() }, tree,
				      /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
				      pids[0], cgid, {} };

		rc = on_tree(sv, &r);
	}
	/* members fork while we look: read again until a pass adds nobody */
	for (int pass = 0; !rc && added && pass < 8; pass++) {
		added = 0;
		for (int i = 0; !rc && i < n; i++) {
			struct bmt_join j = { { BMT_REC_JOIN, BMT_JOIN_SEED, sizeof(j), now_ns() },
					      /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference) */
					      pids[i], tree, {} };

			if (tracer__add_pid(sv->tracer, pids[i], BMT_PROC_ADOPTED, tree))
				continue; /* traced already (a fork the kernel saw), or gone */
			rc = on_join(sv, &j);
			added++;
		}
		free(pids);
		pids = NULL;
		n = added ? read_pids(procs, &pids) : 0;
		if (n < 0)
			rc = n == -ENOMEM ? n : 0;
	}
	free(pids);
	return rc == -ENOSPC ? 0 : rc;
}

/* Jobs already running in the child cgroups when serve starts are trees too. */
static int adopt_running(struct server *sv)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < sv->cfg->n_cg_parents; i++) {
		DIR *d = opendir(sv->parent_dirs[i]);
		struct dirent *e;

		while (!rc && d && (e = readdir(d))) {
			char path[4096];

			if (e->d_type != DT_DIR || !strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			snprintf(path, sizeof(path), "%s/%s", sv->parent_dirs[i], e->d_name);
			rc = adopt_cgroup(sv, path, e->d_ino);
		}
		if (d)
			closedir(d);
	}
	return rc;
}

static int serve_loop(struct server *sv, int sfd)
{
	int ep = epoll_create1(EPOLL_CLOEXEC), rfd = tracer__fd(sv->tracer);

	if (ep < 0)
		return -errno;
	epoll_ctl(ep, EPOLL_CTL_ADD, rfd, &(struct epoll_event){ .events = EPOLLIN, .data.fd = rfd });
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &(struct epoll_event){ .events = EPOLLIN, .data.fd = sfd });
	for (;;) {
		struct epoll_event ev[2];
		int n = epoll_wait(ep, ev, 2, TICK_MS);
		uint64_t now;

		if (tracer__drain(sv->tracer) < 0) {
			close(ep);
			return -ENOMEM;
		}
		for (int i = 0; i < n; i++) {
			struct signalfd_siginfo si;

			if (ev[i].data.fd == sfd && read(sfd, &si, sizeof(si)) == sizeof(si) &&
			    si.ssi_signo != SIGCHLD && si.ssi_signo != SIGPIPE) {
				close(ep);
				return 0; /* SIGINT, SIGTERM, SIGHUP: a clean stop */
			}
		}
		now = now_ns();
		housekeeping(sv, now);
		if (now - sv->published >= PUBLISH_NS)
			publish(sv, now);
	}
}

int cmd_serve(struct config *cfg)
{
	struct server sv = { .cfg = cfg };
	struct tracer_serve ts = { cfg->serve_roots, cfg->n_serve_roots, NULL, cfg->n_cg_parents,
				   cfg->max_trees };
	struct tracer_opts topts = { 0, cfg->verbose, route, &sv, &ts, cfg->max_procs,
				     cfg->user, 1, 0 };
	sigset_t mask;
	int sfd = -1, code = 125;
	char err[512];

	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	sv.stages = cfg->stages;
	if (resolve_parents(&sv, err, sizeof(err)))
		goto fail;
	ts.cg_parents = sv.parent_ids;
	sv.tracer = tracer__open(&topts, err, sizeof(err));
	if (!sv.tracer)
		goto fail;
	sv.http = http__start(&(struct http_opts){ .listen = cfg->listen }, err, sizeof(err));
	if (!sv.http) {
		esc_say(stderr, "%s", err);
		goto out;
	}
	if (tracer__drain(sv.tracer) < 0 || adopt_running(&sv)) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (cfg->user && drop_to(cfg->user, err, sizeof(err)))
		goto fail;
	tracer__prioritize();
	publish(&sv, now_ns());
	esc_say(stderr, "serving http://%s/metrics", cfg->listen);
	code = serve_loop(&sv, sfd) ? 125 : 0;
	if (code)
		snprintf(err, sizeof(err), "out of memory");
	else
		goto out;
fail:
	esc_say(stderr, "%s", err);
out:
	http__stop(sv.http);
	tracer__close(sv.tracer);
	for (size_t i = 0; i < sv.trees.cap; i++)
		if (sv.trees.vals[i])
			tree_free(sv.trees.vals[i]);
	for (size_t i = 0; i < sv.pending.cap; i++)
		free(sv.pending.vals[i]);
	for (size_t i = 0; i < sv.n_families; i++)
		free(sv.families[i].name);
	for (size_t i = 0; sv.parent_dirs && i < cfg->n_cg_parents; i++)
		free(sv.parent_dirs[i]);
	free(sv.families);
	free(sv.parent_dirs);
	free(sv.parent_ids);
	table_free(&sv.trees);
	table_free(&sv.pids);
	table_free(&sv.keys);
	table_free(&sv.pending);
	if (sfd >= 0)
		close(sfd);
	return code;
}
