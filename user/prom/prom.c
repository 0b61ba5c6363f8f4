// SPDX-License-Identifier: MIT
/*
 * prom - the Prometheus text exposition format of one or more traced trees (prom.h).
 *
 * Each tree is first turned into a view: its names cleaned (valid UTF-8, no control
 * characters but newline), duplicates merged, commands bounded to the top N by bytes now
 * plus "other", and to the top N by their own peak. The families are then written one after
 * another, each with the samples of every tree, so that a family is never split; a family's
 * header goes with its first sample (struct fam), so a final page that leaves out the zeros
 * has no family without a sample. Values are integers printed from their uint64_t, but
 * durations and timestamps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "deaths.h"
#include "prom.h"
#include "util.h"

#ifndef BMT_VERSION
#define BMT_VERSION "0.0.0"
#endif

#define OTHER	      "other"

/* A stage or a command once cleaned: a is bytes now, b its own peak. */
struct item {
	char *name;
	uint64_t a, b;
};

struct view {
	const struct prom_snapshot *s;
	char **label_values; /* cleaned, one per s->labels */
	struct item *stages;
	size_t n_stages;
	struct item *all;      /* the commands merged by cleaned name: owns the names */
	size_t n_all;
	struct item *commands; /* the top N by bytes now, then "other" (names borrowed) */
	size_t n_commands;
	struct item *peaks;    /* the top N by own peak, no "other" (names borrowed) */
	size_t n_peaks;
	char other[sizeof(OTHER)];
};

/* Label values: valid UTF-8 without control characters (but the escaped newline). */
static char *clean(const char *s)
{
	return util_utf8_clean(s, 1);
}

bool prom_label_name_ok(const char *s)
{
	static const char *const reserved[] = { "stage", "command", "version", "le" };
	const char *p;

	if (!s || !*s || (*s >= '0' && *s <= '9') || !strncmp(s, "__", 2))
		return false;
	for (p = s; *p; p++)
		if (!(*p == '_' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9')))
			return false;
	for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (!strcmp(s, reserved[i]))
			return false;
	return true;
}

static void free_items(struct item *items, size_t n)
{
	for (size_t i = 0; items && i < n; i++)
		free(items[i].name);
	free(items);
}

static void view_free(struct view *v)
{
	for (size_t i = 0; v->label_values && i < v->s->n_labels; i++)
		free(v->label_values[i]);
	free(v->label_values);
	free_items(v->stages, v->n_stages);
	free_items(v->all, v->n_all);
	free(v->commands);
	free(v->peaks);
}

/* Stages in their order; a later stage whose cleaned name is taken merges into the first. */
static int view_stages(struct view *v)
{
	const struct prom_snapshot *s = v->s;

	v->stages = calloc(s->n_stages ? s->n_stages : 1, sizeof(*v->stages));
	if (!v->stages)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_stages; i++) {
		char *name = clean(s->stages[i].name);
		struct item *it = NULL;

		if (!name)
			return -ENOMEM;
		for (size_t j = 0; j < v->n_stages && !it; j++)
			if (!strcmp(v->stages[j].name, name))
				it = &v->stages[j];
		if (it) {
			free(name);
			it->a += s->stages[i].bytes;
			if (it->b < s->stages[i].peak_bytes)
				it->b = s->stages[i].peak_bytes;
			continue;
		}
		v->stages[v->n_stages++] =
			(struct item){ name, s->stages[i].bytes, s->stages[i].peak_bytes };
	}
	return 0;
}

static int by_name(const void *x, const void *y)
{
	return strcmp(((const struct item *)x)->name, ((const struct item *)y)->name);
}

/* Largest first, then by name: the same input always gives the same top N. */
static int by_bytes(const void *x, const void *y)
{
	const struct item *a = x, *b = y;

	if (a->a != b->a)
		return a->a > b->a ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int by_peak(const void *x, const void *y)
{
	const struct item *a = x, *b = y;

	if (a->b != b->b)
		return a->b > b->b ? -1 : 1;
	return strcmp(a->name, b->name);
}

/*
 * The commands cleaned and merged by name (bytes summed, peaks the larger: the merged
 * commands' own peaks may have been at different moments); the bytes now of those named
 * "other" go to *other. 0 or -ENOMEM.
 */
static int view_merge(struct view *v, uint64_t *other)
{
	const struct prom_snapshot *s = v->s;
	struct item *c = v->all;
	size_t n = 0;

	for (size_t i = 0; i < s->n_commands; i++, v->n_all++) {
		c[i] = (struct item){ clean(s->commands[i].name), s->commands[i].bytes,
				      s->commands[i].peak_bytes };
		if (!c[i].name)
			return -ENOMEM;
	}
	qsort(c, v->n_all, sizeof(*c), by_name);
	for (size_t i = 0; i < v->n_all; i++) {
		if (!strcmp(c[i].name, OTHER)) {
			*other += c[i].a;
			free(c[i].name);
		} else if (n && !strcmp(c[n - 1].name, c[i].name)) {
			c[n - 1].a += c[i].a;
			if (c[n - 1].b < c[i].b)
				c[n - 1].b = c[i].b;
			free(c[i].name);
		} else {
			c[n++] = c[i];
		}
	}
	v->n_all = n;
	return 0;
}

/* The top N by bytes now, then "other" with the rest; the top N by own peak. */
static int view_commands(struct view *v)
{
	const struct prom_snapshot *s = v->s;
	size_t top = s->top_commands ? s->top_commands : PROM_TOP_COMMANDS;
	uint64_t other = 0;

	v->all = calloc(s->n_commands + 1, sizeof(*v->all));
	v->commands = calloc(s->n_commands + 1, sizeof(*v->commands));
	v->peaks = calloc(s->n_commands + 1, sizeof(*v->peaks));
	if (!v->all || !v->commands || !v->peaks)
		return -ENOMEM;
	if (view_merge(v, &other))
		return -ENOMEM;
	memcpy(v->commands, v->all, v->n_all * sizeof(*v->all));
	qsort(v->commands, v->n_all, sizeof(*v->all), by_bytes);
	for (v->n_commands = v->n_all; v->n_commands > top; v->n_commands--)
		other += v->commands[v->n_commands - 1].a;
	memcpy(v->other, OTHER, sizeof(OTHER));
	v->commands[v->n_commands++] = (struct item){ v->other, other, 0 };
	memcpy(v->peaks, v->all, v->n_all * sizeof(*v->all));
	qsort(v->peaks, v->n_all, sizeof(*v->all), by_peak);
	v->n_peaks = v->n_all < top ? v->n_all : top;
	return 0;
}

static int view_init(struct view *v, const struct prom_snapshot *s)
{
	*v = (struct view){ .s = s };
	v->label_values = calloc(s->n_labels ? s->n_labels : 1, sizeof(*v->label_values));
	if (!v->label_values)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_labels; i++) {
		if (!prom_label_name_ok(s->labels[i].name))
			return -EINVAL;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(s->labels[i].name, s->labels[j].name))
				return -EINVAL;
		v->label_values[i] = clean(s->labels[i].value);
		if (!v->label_values[i])
			return -ENOMEM;
	}
	if (view_stages(v))
		return -ENOMEM;
	return view_commands(v);
}

/* A cleaned label value with backslash, double quote and newline escaped. */
static void put_value(FILE *f, const char *s)
{
	/* cppcheck-suppress ctunullpointer ; lvalue is NULL only with lname, which skips this */
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '"')
			fputs("\\\"", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

/* name{tree labels[,lname="lvalue"]} with no braces when there is no label at all. */
static void put_series(FILE *f, const char *name, const struct view *v, const char *lname,
		       const char *lvalue)
{
	size_t n = v ? v->s->n_labels : 0;

	fputs(name, f);
	if (!n && !lname)
		return;
	fputc('{', f);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "%s%s=\"", i ? "," : "", v->s->labels[i].name);
		put_value(f, v->label_values[i]);
		fputc('"', f);
	}
	if (lname) {
		fprintf(f, "%s%s=\"", n ? "," : "", lname);
		put_value(f, lvalue);
		fputc('"', f);
	}
	fputc('}', f);
}

static void put_sample(FILE *f, const char *name, const struct view *v, const char *lname,
		       const char *lvalue, uint64_t value)
{
	put_series(f, name, v, lname, lvalue);
	fprintf(f, " %" PRIu64 "\n", value);
}

static void put_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * When a sample is written. ZERO_HIDDEN: not in a final page when it is 0 (a value of "now"
 * once everything ended, a stage or command that never held memory). FINAL_ONLY: in final
 * pages only.
 */
enum { ZERO_HIDDEN = 1, FINAL_ONLY = 2 };

static bool shown(const struct view *v, unsigned int when, uint64_t value)
{
	if (!v->s->final)
		return !(when & FINAL_ONLY);
	return value || !(when & ZERO_HIDDEN);
}

/* A family whose HELP and TYPE are written with its first sample: none, no header. */
struct fam {
	FILE *f;
	const char *name, *type, *help;
	unsigned int when;
	bool started;
};

static bool fam_series(struct fam *fm, const struct view *v, const char *lname,
		       const char *lvalue, uint64_t value)
{
	if (!shown(v, fm->when, value))
		return false;
	if (!fm->started)
		put_family(fm->f, fm->name, fm->type, fm->help);
	fm->started = true;
	put_series(fm->f, fm->name, v, lname, lvalue);
	return true;
}

static void fam_sample(struct fam *fm, const struct view *v, const char *lname,
		       const char *lvalue, uint64_t value)
{
	if (fam_series(fm, v, lname, lvalue, value))
		fprintf(fm->f, " %" PRIu64 "\n", value);
}

/* The families with one sample per tree, from the snapshot field at offset off. */
static const struct tree_family {
	const char *name, *type, *help;
	unsigned int when;
	size_t off;
} tree_families[] = {
	{ "bmtrace_tree_rss_bytes", "gauge",
	  "Resident memory of the traced process tree now: anon + file + shmem, the pages a fork "
	  "child inherited counted once.",
	  ZERO_HIDDEN, offsetof(struct prom_snapshot, tree_bytes) },
	{ "bmtrace_tree_rss_peak_bytes", "gauge",
	  "Highest resident memory of the traced process tree since tracing started.", 0,
	  offsetof(struct prom_snapshot, tree_peak_bytes) },
	{ "bmtrace_tree_anon_bytes", "gauge",
	  "Anonymous and shared memory (anon + shmem) of the traced process tree now.",
	  ZERO_HIDDEN, offsetof(struct prom_snapshot, anon_bytes) },
	{ "bmtrace_tree_anon_peak_bytes", "gauge",
	  "Highest anonymous and shared memory (anon + shmem) of the traced process tree: what "
	  "a runner without swap could not drop.",
	  FINAL_ONLY, offsetof(struct prom_snapshot, anon_peak_bytes) },
	{ "bmtrace_processes", "gauge", "Processes of the traced tree alive now.", ZERO_HIDDEN,
	  offsetof(struct prom_snapshot, processes) },
	{ "bmtrace_processes_started_total", "counter",
	  "Processes seen in the traced tree, the root included.", 0,
	  offsetof(struct prom_snapshot, processes_started) },
	{ "bmtrace_events_total", "counter",
	  "Memory counter changes (kmem:rss_stat events) received from the kernel.", 0,
	  offsetof(struct prom_snapshot, events) },
	{ "bmtrace_lost_events_total", "counter",
	  "Records the kernel could not pass to bmtrace (ring buffer full); when not 0, peaks "
	  "are lower bounds.",
	  0, offsetof(struct prom_snapshot, lost_events) },
	{ "bmtrace_oom_kills_total", "counter",
	  "Processes of the traced tree the kernel's OOM killer killed.", 0,
	  offsetof(struct prom_snapshot, oom_kills) },
};

static void put_trees(FILE *f, const struct view *v, size_t n)
{
	for (size_t k = 0; k < sizeof(tree_families) / sizeof(tree_families[0]); k++) {
		const struct tree_family *tf = &tree_families[k];
		struct fam fm = { f, tf->name, tf->type, tf->help, tf->when, false };

		for (size_t t = 0; t < n; t++)
			fam_sample(&fm, &v[t], NULL, NULL,
				   *(const uint64_t *)((const char *)v[t].s + tf->off));
	}
}

enum list { STAGES, COMMANDS, PEAKS };

static const struct item *items_of(const struct view *v, enum list l, size_t *n)
{
	*n = l == STAGES ? v->n_stages : l == COMMANDS ? v->n_commands : v->n_peaks;
	return l == STAGES ? v->stages : l == COMMANDS ? v->commands : v->peaks;
}

/* The families with one sample per stage or per command of each tree. */
static const struct item_family {
	const char *name, *help, *label;
	enum list list;
	bool peak; /* the item's b (its own peak), else its a (now) */
	unsigned int when;
} item_families[] = {
	{ "bmtrace_stage_rss_bytes", "Resident memory of the processes of each build stage now.",
	  "stage", STAGES, false, ZERO_HIDDEN },
	{ "bmtrace_stage_rss_peak_bytes",
	  "Highest resident memory of each build stage since tracing started.", "stage", STAGES,
	  true, ZERO_HIDDEN },
	{ "bmtrace_command_rss_bytes",
	  "Resident memory of the processes running each command now: the largest commands, the "
	  "rest summed as command=\"other\".",
	  "command", COMMANDS, false, ZERO_HIDDEN },
	{ "bmtrace_command_rss_peak_bytes",
	  "Highest resident memory of all the processes running each command together: the "
	  "commands with the largest peaks.",
	  "command", PEAKS, true, ZERO_HIDDEN | FINAL_ONLY },
};

static void put_items(FILE *f, const struct view *v, size_t n)
{
	for (size_t k = 0; k < sizeof(item_families) / sizeof(item_families[0]); k++) {
		const struct item_family *fam = &item_families[k];
		struct fam fm = { f, fam->name, "gauge", fam->help, fam->when, false };

		for (size_t t = 0; t < n; t++) {
			size_t count;
			const struct item *it = items_of(&v[t], fam->list, &count);

			for (size_t i = 0; i < count; i++)
				fam_sample(&fm, &v[t], fam->label, it[i].name,
					   fam->peak ? it[i].b : it[i].a);
		}
	}
}

/* --cgroup: the peak of the run's own memory cgroup, what the OOM killer counts. */
static void put_cgroup(FILE *f, const struct view *v, size_t n)
{
	const char *name = "bmtrace_cgroup_peak_bytes";
	bool any = false;

	for (size_t t = 0; t < n; t++)
		any |= v[t].s->has_cgroup;
	if (!any)
		return;
	put_family(f, name, "gauge",
		   "Peak memory of the traced command's own memory cgroup (--cgroup): page cache, "
		   "tmpfs and kernel memory included, each page once.");
	for (size_t t = 0; t < n; t++)
		if (v[t].s->has_cgroup)
			put_sample(f, name, &v[t], NULL, NULL, v[t].s->cgroup_peak_bytes);
}

/* What a final page adds: how long the run took, how it ended. */
static void put_final(FILE *f, const struct view *v, size_t n)
{
	struct fam duration = { f, "bmtrace_duration_seconds", "gauge",
				"How long the traced run took, from its start (or the attach) to "
				"the end of tracing.",
				FINAL_ONLY, false },
		   code = { f, "bmtrace_exit_code", "gauge",
			    "The traced command's exit status; 128+N when signal N ended it.",
			    FINAL_ONLY, false };

	for (size_t t = 0; t < n; t++)
		if (fam_series(&duration, &v[t], NULL, NULL, 1)) /* 1: not ZERO_HIDDEN anyway */
			fprintf(f, " %.3f\n", v[t].s->duration_s);
	for (size_t t = 0; t < n; t++)
		if (v[t].s->exit_code >= 0)
			fam_sample(&code, &v[t], NULL, NULL, (uint64_t)v[t].s->exit_code);
}

static void put_last_success(FILE *f, const struct view *v, size_t n)
{
	struct fam fm = { f, "bmtrace_last_success_timestamp_seconds", "gauge",
			  "Unix time when the traced command last ended successfully.", 0, false };

	for (size_t t = 0; t < n; t++)
		if (v[t].s->last_success_time > 0 && fam_series(&fm, &v[t], NULL, NULL, 1))
			fprintf(f, " %.3f\n", v[t].s->last_success_time);
}

static int check_run_page(const struct prom_snapshot *trees, size_t n)
{
	for (size_t t = 0; n > 1 && t < n; t++)
		if (trees[t].run_page)
			return -EINVAL;
	return 0;
}

int prom_render(FILE *f, const struct prom_snapshot *trees, size_t n)
{
	struct view *v = calloc(n ? n : 1, sizeof(*v));
	size_t made = 0;
	int err = check_run_page(trees, n);

	if (!v)
		return -ENOMEM;
	for (; made < n && !err; made++)
		err = view_init(&v[made], &trees[made]);
	if (!err) {
		put_trees(f, v, n);
		put_items(f, v, n);
		put_cgroup(f, v, n);
		put_final(f, v, n);
		put_last_success(f, v, n);
		put_family(f, "bmtrace_build_info", "gauge",
			   "The version of bmtrace that measured; the value is 1.");
		put_sample(f, "bmtrace_build_info", n == 1 && trees[0].run_page ? v : NULL,
			   "version", BMT_VERSION, 1);
		err = ferror(f) ? -EIO : 0;
	}
	while (made--)
		view_free(&v[made]);
	free(v);
	return err;
}

void prom_family(FILE *f, const char *name, const char *type, const char *help)
{
	put_family(f, name, type, help);
}

int prom_sample(FILE *f, const char *name, const struct prom_label *labels, size_t n,
		const char *le, double value)
{
	fputs(name, f);
	if (n || le) {
		fputc('{', f);
		for (size_t i = 0; i < n; i++) {
			char *v = clean(labels[i].value ? labels[i].value : "");

			if (!v)
				return -ENOMEM;
			fprintf(f, "%s%s=\"", i ? "," : "", labels[i].name);
			put_value(f, v);
			fputc('"', f);
			free(v);
		}
		if (le)
			fprintf(f, "%sle=\"%s\"", n ? "," : "", le);
		fputc('}', f);
	}
	fprintf(f, " %.17g\n", value);
	return ferror(f) ? -EIO : 0;
}

char *prom_render_alloc(const struct prom_snapshot *trees, size_t n, size_t *len)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	int err;

	if (!f)
		return NULL;
	err = prom_render(f, trees, n);
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (err) {
		free(buf);
		errno = -err;
		return NULL;
	}
	*len = size;
	return buf;
}

static int write_one(FILE *f, void *ctx)
{
	return prom_render(f, ctx, 1);
}

static bool has_label(const struct prom_snapshot *s, const char *name)
{
	for (size_t i = 0; i < s->n_labels; i++)
		if (!strcmp(s->labels[i].name, name))
			return true;
	return false;
}

/* DIR/a.prom is run "a": the file's name without its directory and ".prom". */
static char *run_name(const char *path)
{
	const char *base = util_basename(path);
	size_t n = strlen(base), ext = strlen(".prom");

	if (n > ext && !strcmp(base + n - ext, ".prom"))
		n -= ext;
	return strndup(base, n);
}

int prom_write_file(const char *path, const struct prom_snapshot *s)
{
	struct prom_snapshot copy = *s;
	struct prom_label *labels;
	char *run;
	int rc;

	if (!strcmp(path, "-") || has_label(s, PROM_RUN_LABEL))
		return util_write_atomic(path, write_one, (void *)s);
	labels = calloc(s->n_labels + 1, sizeof(*labels));
	run = run_name(path);
	rc = -ENOMEM;
	if (labels && run) {
		if (s->n_labels)
			memcpy(labels, s->labels, s->n_labels * sizeof(*labels));
		labels[s->n_labels] = (struct prom_label){ PROM_RUN_LABEL, run };
		copy.labels = labels;
		copy.n_labels++;
		rc = util_write_atomic(path, write_one, &copy);
	}
	free(labels);
	free(run);
	return rc;
}

int prom_snapshot_now(struct prom_snapshot *s, const struct bmt_now *now,
		      const struct bmt_run *run)
{
	struct prom_stage *stages = calloc(now->n_stages + 1, sizeof(*stages));
	struct prom_command *commands = calloc(now->n_commands + 1, sizeof(*commands));

	if (!stages || !commands) {
		free(stages);
		free(commands);
		return -ENOMEM;
	}
	for (size_t i = 0; i < now->n_stages; i++)
		stages[i] = (struct prom_stage){ now->stages[i].name, now->stages[i].bytes,
						 now->stages[i].peak_bytes };
	for (size_t i = 0; i < now->n_commands; i++)
		commands[i] = (struct prom_command){ now->commands[i].name, now->commands[i].bytes,
						     now->commands[i].peak_bytes };
	s->stages = stages;
	s->n_stages = now->n_stages;
	s->commands = commands;
	s->n_commands = now->n_commands;
	s->tree_bytes = now->tree_bytes;
	s->anon_bytes = now->anon_bytes;
	s->tree_peak_bytes = now->peak.bytes;
	s->processes = now->alive;
	s->processes_started = now->processes_total;
	s->events = run->stats.events;
	s->lost_events = run->stats.lost;
	s->oom_kills = run->deaths ? deaths__oom_kills(run->deaths) : 0;
	if (s->oom_kills < run->cgroup.oom_kills)
		s->oom_kills = run->cgroup.oom_kills; /* a victim the tracepoint could not name */
	s->has_cgroup = run->cgroup.version != 0;
	s->cgroup_peak_bytes = run->cgroup.peak_bytes;
	return 0;
}

/* The final result's current values are the live view at its end: one mapping to metrics. */
int prom_snapshot_fill(struct prom_snapshot *s, const struct bmt_result *r,
		       const struct bmt_run *run)
{
	struct bmt_level *lv = calloc(r->n_stages + r->n_commands + 1, sizeof(*lv));
	struct bmt_now now = {
		.tree_bytes = r->tree_bytes_now,
		.anon_bytes = r->anon_bytes_now,
		.peak = r->peak,
		.alive = r->n_alive,
		.processes_total = r->processes_total,
		.stages = lv,
		.n_stages = r->n_stages,
		.commands = lv ? lv + r->n_stages : NULL,
		.n_commands = r->n_commands,
	};
	int rc;

	if (!lv)
		return -ENOMEM;
	for (size_t i = 0; i < r->n_stages; i++)
		lv[i] = (struct bmt_level){ r->stages[i].name, r->stages[i].bytes_now,
					    r->stages[i].peak_bytes, r->stages[i].peak_ts };
	for (size_t i = 0; i < r->n_commands; i++)
		lv[r->n_stages + i] = (struct bmt_level){ r->commands[i].name,
							  r->commands[i].bytes_now,
							  r->commands[i].peak_bytes,
							  r->commands[i].peak_ts };
	rc = prom_snapshot_now(s, &now, run);
	free(lv);
	return rc;
}

void prom_snapshot_clear(struct prom_snapshot *s)
{
	free(s->stages);
	free(s->commands);
	s->stages = NULL;
	s->commands = NULL;
	s->n_stages = s->n_commands = 0;
}

int prom_snapshot_final(struct prom_snapshot *s, const struct bmt_result *r,
			const struct bmt_run *run)
{
	int rc = prom_snapshot_fill(s, r, run);

	if (rc)
		return rc;
	s->final = true;
	s->anon_peak_bytes = r->anon_peak.bytes;
	s->duration_s = run_rel_s(run, run->end_ts);
	s->exit_code = run->signal ? 128 + run->signal : run->exit_code;
	return 0;
}
