// SPDX-License-Identifier: MIT
/*
 * serve - bmtrace as a long-running Prometheus exporter for CI hosts.
 *
 * The kernel decides which tree each process belongs to and announces trees and joins; the
 * router (core/router.h) hands every record to the collector of its tree and tells when a
 * tree ends. Here: the set-up, what the router asks of the outside world (a cgroup's name,
 * a joining process's counters from /proc), the histogram bmtrace_tree_peak_bytes of ended
 * trees' peaks by family (the --root name, or the cgroup parent's name), the /metrics page
 * and the loop.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include "escape.h"
#include "bmtrace.h"
#include "cgroup.h"
#include "collector.h"
#include "http.h"
#include "loop.h"
#include "privilege.h"
#include "procscan.h"
#include "prom.h"
#include "cmd.h"
#include "router.h"
#include "tracer.h"
#include "util.h"

#define PUBLISH_NS 500000000ull  /* a new /metrics page at most this often */
#define LABEL_ENV_MAX 128         /* bytes of a --label-env value kept */
#define ENVIRON_MAX (1 << 20)     /* bytes of /proc/PID/environ read */
#define TICK_MS 50

/* Histogram buckets of ended trees' peaks: powers of two from 16 MiB to 64 GiB, then +Inf. */
#define LE_FIRST 24
#define LE_LAST 36
#define N_LE (LE_LAST - LE_FIRST + 1)

struct family {
	char **values;          /* the root label, then each --label-env one ("" when unset) */
	uint64_t buckets[N_LE]; /* cumulative counts per le */
	uint64_t count;
	double sum;
};

struct server {
	const struct config *cfg;
	const struct stages *stages; /* cfg's --stage rules */
	struct tracer *tracer;
	struct http_server *http;
	struct router *router;
	struct loop *loop;
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

/* ---- the router's callbacks ---- */

/* Every record, to the router; only running out of memory stops the drain. */
static int route(void *ctx, const void *rec, size_t len)
{
	struct server *sv = ctx;
	int rc = router__feed(sv->router, rec, len);

	return rc == -ENOMEM ? rc : 0;
}

/* The path of cgroup id under one of the parents, into buf; the parent's name as family. */
static void name_cgroup(void *ctx, uint64_t id, char *buf, size_t len, const char **family)
{
	struct server *sv = ctx;

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

/* procscan's view of a tree: the process that joined it, a --root's children from before. */
struct adopting {
	struct server *sv;
	uint32_t tree;
};

static int adopt_add(void *ctx, uint32_t pid)
{
	struct adopting *a = ctx;
	int rc = tracer__add_pid(a->sv->tracer, pid, BMT_PROC_ADOPTED, a->tree);

	return rc ? rc : router__add_pid(a->sv->router, a->tree, pid);
}

static int adopt_emit(void *ctx, const void *rec, size_t len)
{
	struct adopting *a = ctx;

	return route(a->sv, rec, len);
}

/* A running process joined t: its counters from /proc, once, like -p's. */
static int seed(void *ctx, struct router_tree *t, uint32_t pid, int root)
{
	struct adopting a = { ctx, t->id };
	struct procscan_ops ops = { adopt_add, adopt_emit, &a };
	char err[256];
	size_t found;
	/* the root process itself is added through procscan too: it skips what is traced */
	int rc = procscan__seed(pid, 0, &ops);

	if (rc == -ENOMEM)
		return rc;
	if (root && procscan__adopt(pid, &ops, &found, err, sizeof(err)) && a.sv->cfg->verbose)
		esc_say(stderr, "tree %s: %s", t->label, err);
	return 0;
}

/*
 * --label-env: the values of the variables named, in pid's environment now (the tree's
 * start), each cut to LABEL_ENV_MAX bytes; the page cleans and escapes them.
 */
static void read_env(void *ctx, uint32_t pid, char **values)
{
	struct server *sv = ctx;
	char path[64], *buf;
	size_t len;

	snprintf(path, sizeof(path), "/proc/%u/environ", pid);
	if (procscan__read(path, &buf, &len, ENVIRON_MAX))
		return; /* gone already, or not ours to read (--user): no value */
	for (const char *p = buf; p < buf + len; p += strlen(p) + 1) {
		for (size_t i = 0; i < sv->cfg->n_label_envs; i++) {
			const char *var = sv->cfg->label_envs[i].value;
			size_t n = strlen(var);

			if (!values[i] && !strncmp(p, var, n) && p[n] == '=')
				values[i] = strndup(p + n + 1, LABEL_ENV_MAX);
		}
	}
	free(buf);
}

static void started(void *ctx, const struct router_tree *t)
{
	struct server *sv = ctx;

	sv->trees_started++;
	if (sv->cfg->verbose)
		esc_say(stderr, "tree %u starts: %s", t->id, t->label);
}

/* ---- the histogram of ended trees' peaks ---- */

static void family_free(struct family *f, size_t n_values)
{
	for (size_t i = 0; f->values && i < n_values; i++)
		free(f->values[i]);
	free(f->values);
}

/* A value of t's labels past tree: its root, then each --label-env ("" when unset). */
static const char *label_value(const struct router_tree *t, size_t i)
{
	if (!i)
		return t->family;
	return t->env && t->env[i - 1] ? t->env[i - 1] : "";
}

static struct family *family_of(struct server *sv, const struct router_tree *t)
{
	size_t n = sv->cfg->n_label_envs + 1, i;
	struct family *f;

	for (f = sv->families; f < sv->families + sv->n_families; f++) {
		for (i = 0; i < n && !strcmp(f->values[i], label_value(t, i)); i++)
			;
		if (i == n)
			return f;
	}
	f = realloc(sv->families, (sv->n_families + 1) * sizeof(*f));
	if (!f)
		return NULL;
	sv->families = f;
	f = &f[sv->n_families];
	memset(f, 0, sizeof(*f));
	f->values = calloc(n, sizeof(*f->values));
	for (i = 0; f->values && i < n; i++)
		if (!(f->values[i] = strdup(label_value(t, i))))
			break;
	if (!f->values || i < n) {
		family_free(f, n);
		return NULL;
	}
	sv->n_families++;
	return f;
}

/* Is a tree exported: its peak reached --min-peak (when given)? */
static int exported(struct server *sv, const struct bmt_now *now)
{
	return now->peak.bytes >= sv->cfg->min_peak;
}

/* A tree is over: its peak goes into the histogram of its labels (not its slot). */
static void ended(void *ctx, struct router_tree *t)
{
	struct server *sv = ctx;
	struct family *f;
	struct bmt_now now;

	if (sv->cfg->verbose)
		esc_say(stderr, "tree %s ended", t->label);
	collector__now(t->coll, &now);
	f = exported(sv, &now) ? family_of(sv, t) : NULL;
	if (!f)
		return;
	for (int i = 0; i < N_LE; i++)
		if (now.peak.bytes <= 1ull << (LE_FIRST + i))
			f->buckets[i]++;
	f->count++;
	f->sum += (double)now.peak.bytes;
}

/* ---- /metrics ---- */

static void put_histogram(struct server *sv, FILE *f)
{
	size_t n = sv->cfg->n_label_envs + 1;
	struct prom_label *l = calloc(n, sizeof(*l));

	prom_family(f, "bmtrace_tree_peak_bytes", "histogram",
		    "Peak tree RSS of each tree that ended, by its --root name or cgroup parent "
		    "and its --label-env labels.");
	for (size_t i = 0; l && i < sv->n_families; i++) {
		const struct family *fam = &sv->families[i];
		char le[32];

		for (size_t k = 0; k < n; k++)
			l[k] = (struct prom_label){ k ? sv->cfg->label_envs[k - 1].name : "root",
						    fam->values[k] };
		for (int b = 0; b < N_LE; b++) {
			snprintf(le, sizeof(le), "%llu", 1ull << (LE_FIRST + b));
			prom_sample(f, "bmtrace_tree_peak_bytes_bucket", l, n, le,
				    (double)fam->buckets[b]);
		}
		prom_sample(f, "bmtrace_tree_peak_bytes_bucket", l, n, "+Inf", (double)fam->count);
		prom_sample(f, "bmtrace_tree_peak_bytes_sum", l, n, NULL, fam->sum);
		prom_sample(f, "bmtrace_tree_peak_bytes_count", l, n, NULL, (double)fam->count);
	}
	free(l);
}

static void put_totals(struct server *sv, FILE *f, size_t live)
{
	prom_family(f, "bmtrace_trees", "gauge", "Trees with a process alive.");
	prom_sample(f, "bmtrace_trees", NULL, 0, NULL, (double)live);
	prom_family(f, "bmtrace_trees_started_total", "counter", "Trees followed since start.");
	prom_sample(f, "bmtrace_trees_started_total", NULL, 0, NULL, (double)sv->trees_started);
	prom_family(f, "bmtrace_trees_dropped_total", "counter",
		    "Trees not followed because --max-trees were alive.");
	prom_sample(f, "bmtrace_trees_dropped_total", NULL, 0, NULL,
		    (double)tracer__trees_dropped(sv->tracer));
}

static void publish(struct server *sv, uint64_t now)
{
	size_t n_trees = router__count(sv->router), n = 0, live = 0, size = 0, pos = 0;
	size_t n_labels = sv->cfg->n_label_envs + 2;
	struct prom_snapshot *snaps = calloc(n_trees + 1, sizeof(*snaps));
	struct prom_label *labels = calloc((n_trees + 1) * n_labels, sizeof(*labels));
	struct router_tree *t;
	char *page = NULL;
	FILE *f;

	sv->published = now;
	tracer__stats(sv->tracer, &sv->stats);
	while (snaps && labels && (t = router__next(sv->router, &pos))) {
		struct bmt_now view;

		collector__now(t->coll, &view); /* the live view: no full result per page */
		live += !t->ended;
		if (!exported(sv, &view))
			continue;
		t->run.stats.events = view.events;
		t->run.stats.lost = sv->stats.lost; /* the ring is shared: losses are everyone's */
		if (!t->ended && t->label[0] == '/' &&
		    cgroup__read_peak(t->label, &t->run.cgroup.peak_bytes) == 0)
			t->run.cgroup.version = 2; /* a --cgroup-parent tree: its cgroup's peak */
		if (prom_snapshot_now(&snaps[n], &view, &t->run))
			break;
		snaps[n].labels = &labels[n * n_labels];
		snaps[n].n_labels = n_labels;
		labels[n * n_labels] = (struct prom_label){ "tree", t->label };
		for (size_t k = 1; k < n_labels; k++)
			labels[n * n_labels + k] =
			    (struct prom_label){k > 1 ? sv->cfg->label_envs[k - 2].name : "root",
						label_value(t, k - 1)};
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

		rc = route(sv, &r, sizeof(r));
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
			rc = route(sv, &j, sizeof(j));
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

/* ---- the event loop's callbacks ---- */

static void drain(struct server *sv)
{
	if (tracer__drain(sv->tracer) < 0)
		loop__stop(sv->loop, -ENOMEM);
}

static void on_ring(struct loop *l, int fd, void *ctx)
{
	drain(ctx);
}

/* SIGINT, SIGTERM, SIGHUP: a clean stop; SIGCHLD (a child of ours is seeded, not awaited). */
static void on_signal(struct loop *l, const struct signalfd_siginfo *si, void *ctx)
{
	if (si->ssi_signo != SIGCHLD)
		loop__stop(l, 0);
}

/* Drain, end and expire trees, publish at most every PUBLISH_NS. */
static void on_tick(struct loop *l, void *ctx)
{
	struct server *sv = ctx;
	uint64_t now;

	drain(sv);
	now = now_ns();
	router__tick(sv->router, now);
	if (now - sv->published >= PUBLISH_NS)
		publish(sv, now);
}

int cmd_serve(struct config *cfg)
{
	struct server sv = { .cfg = cfg };
	struct tracer_serve ts = { cfg->serve_roots, cfg->n_serve_roots, NULL, cfg->n_cg_parents,
				   cfg->max_trees };
	struct tracer_opts topts = { .verbose = cfg->verbose, .fn = route, .ctx = &sv,
				     .serve = &ts, .max_procs = cfg->max_procs, .user = cfg->user,
				     .switch_user = 1 };
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGCHLD };
	int code = 125;
	char err[512];

	signal(SIGPIPE, SIG_IGN); /* a scraper gone mid-answer is libmicrohttpd's to handle */
	sv.stages = cfg->stages;
	sv.loop = loop__new(TICK_MS, on_tick, &sv);
	if (!sv.loop ||
	    loop__catch(sv.loop, sigs, sizeof(sigs) / sizeof(sigs[0]), on_signal, &sv)) {
		snprintf(err, sizeof(err), "cannot set up signals: %s", strerror(errno));
		goto fail;
	}
	if (resolve_parents(&sv, err, sizeof(err)))
		goto fail;
	sv.router = router__new(&(struct router_opts){
		sv.stages, cfg->expire_s * 1000000000ull, cfg->max_trees,
		{ name_cgroup, seed, started, ended, &sv, read_env }, cfg->n_label_envs });
	if (!sv.router) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	ts.cg_parents = sv.parent_ids;
	sv.tracer = tracer__open(&topts, err, sizeof(err));
	if (!sv.tracer)
		goto fail;
	loop__add_fd(sv.loop, tracer__fd(sv.tracer), on_ring, &sv);
	sv.http = http__start(&(struct http_opts){ .listen = cfg->listen }, err, sizeof(err));
	if (!sv.http) {
		esc_say(stderr, "%s", err);
		goto out;
	}
	if (tracer__drain(sv.tracer) < 0 || adopt_running(&sv)) {
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	if (cfg->user && privilege__keep_bpf(cfg->user, err, sizeof(err)))
		goto fail;
	tracer__prioritize();
	publish(&sv, now_ns());
	esc_say(stderr, "serving http://%s/metrics", cfg->listen);
	code = loop__run(sv.loop) ? 125 : 0;
	if (code)
		snprintf(err, sizeof(err), "out of memory");
	else
		goto out;
fail:
	esc_say(stderr, "%s", err);
out:
	http__stop(sv.http);
	tracer__close(sv.tracer);
	router__free(sv.router);
	for (size_t i = 0; i < sv.n_families; i++)
		family_free(&sv.families[i], cfg->n_label_envs + 1);
	for (size_t i = 0; sv.parent_dirs && i < cfg->n_cg_parents; i++)
		free(sv.parent_dirs[i]);
	free(sv.families);
	free(sv.parent_dirs);
	free(sv.parent_ids);
	loop__free(sv.loop);
	return code;
}
