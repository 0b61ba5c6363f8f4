// SPDX-License-Identifier: MIT
/*
 * prom - the Prometheus text exposition format of one or more traced trees (prom.h).
 *
 * Each tree is first turned into a view: its names cleaned (valid UTF-8, no control
 * characters but newline), duplicates merged, commands bounded to the top N plus "other".
 * The families are then written one after another, each with the samples of every tree,
 * so that a family is never split. Values are integers printed from their uint64_t.
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

/* A stage or a command once cleaned: a and b are bytes now and peak (stages) or bytes. */
struct item {
	char *name;
	uint64_t a, b;
};

struct view {
	const struct prom_snapshot *s;
	char **label_values; /* cleaned, one per s->labels */
	struct item *stages;
	size_t n_stages;
	struct item *commands; /* the top N, then "other" */
	size_t n_commands;
};

/* Label values: valid UTF-8 without control characters (but the escaped newline). */
static char *clean(const char *s)
{
	return util_utf8_clean(s, 1);
}

static bool valid_label_name(const char *s)
{
	static const char *const reserved[] = { "stage", "command", "version" };
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
	free_items(v->commands, v->n_commands);
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

/* Commands cleaned and merged by name, the top N by bytes now, then "other" with the rest. */
static int view_commands(struct view *v)
{
	const struct prom_snapshot *s = v->s;
	size_t top = s->top_commands ? s->top_commands : PROM_TOP_COMMANDS;
	struct item *c, other = { NULL, 0, 0 };
	size_t n = 0;

	c = v->commands = calloc(s->n_commands + 1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_commands; i++, v->n_commands++) {
		c[i].name = clean(s->commands[i].name);
		if (!c[i].name)
			return -ENOMEM;
		c[i].a = s->commands[i].bytes;
	}
	qsort(c, v->n_commands, sizeof(*c), by_name);
	for (size_t i = 0; i < v->n_commands; i++) {
		if (!strcmp(c[i].name, OTHER)) {
			other.a += c[i].a;
			free(c[i].name);
		} else if (n && !strcmp(c[n - 1].name, c[i].name)) {
			c[n - 1].a += c[i].a;
			free(c[i].name);
		} else {
			c[n++] = c[i];
		}
	}
	qsort(c, n, sizeof(*c), by_bytes);
	for (; n > top; n--) {
		other.a += c[n - 1].a;
		free(c[n - 1].name);
	}
	v->n_commands = n;
	other.name = strdup(OTHER);
	if (!other.name)
		return -ENOMEM;
	c[v->n_commands++] = other;
	return 0;
}

static int view_init(struct view *v, const struct prom_snapshot *s)
{
	*v = (struct view){ .s = s };
	v->label_values = calloc(s->n_labels ? s->n_labels : 1, sizeof(*v->label_values));
	if (!v->label_values)
		return -ENOMEM;
	for (size_t i = 0; i < s->n_labels; i++) {
		if (!valid_label_name(s->labels[i].name))
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

/* The families with one sample per tree, from the snapshot field at offset off. */
static const struct tree_family {
	const char *name, *type, *help;
	size_t off;
} tree_families[] = {
	{ "bmtrace_tree_rss_bytes", "gauge",
	  "Resident memory of the traced process tree now: anon + file + shmem, the pages a fork "
	  "child inherited counted once.",
	  offsetof(struct prom_snapshot, tree_bytes) },
	{ "bmtrace_tree_rss_peak_bytes", "gauge",
	  "Highest resident memory of the traced process tree since tracing started.",
	  offsetof(struct prom_snapshot, tree_peak_bytes) },
	{ "bmtrace_tree_anon_bytes", "gauge",
	  "Anonymous and shared memory (anon + shmem) of the traced process tree now.",
	  offsetof(struct prom_snapshot, anon_bytes) },
	{ "bmtrace_processes", "gauge", "Processes of the traced tree alive now.",
	  offsetof(struct prom_snapshot, processes) },
	{ "bmtrace_processes_started_total", "counter",
	  "Processes seen in the traced tree, the root included.",
	  offsetof(struct prom_snapshot, processes_started) },
	{ "bmtrace_events_total", "counter",
	  "Memory counter changes (kmem:rss_stat events) received from the kernel.",
	  offsetof(struct prom_snapshot, events) },
	{ "bmtrace_lost_events_total", "counter",
	  "Records the kernel could not pass to bmtrace (ring buffer full); when not 0, peaks "
	  "are lower bounds.",
	  offsetof(struct prom_snapshot, lost_events) },
	{ "bmtrace_oom_kills_total", "counter",
	  "Processes of the traced tree the kernel's OOM killer killed.",
	  offsetof(struct prom_snapshot, oom_kills) },
};

static void put_trees(FILE *f, const struct view *v, size_t n)
{
	for (size_t k = 0; k < sizeof(tree_families) / sizeof(tree_families[0]); k++) {
		const struct tree_family *tf = &tree_families[k];

		put_family(f, tf->name, tf->type, tf->help);
		for (size_t t = 0; t < n; t++)
			put_sample(f, tf->name, &v[t], NULL, NULL,
				   *(const uint64_t *)((const char *)v[t].s + tf->off));
	}
}

/* The families with one sample per stage or per command of each tree. */
static const struct item_family {
	const char *name, *help, *label;
	bool commands; /* else stages */
	bool peak;     /* the item's b (peak), else its a (now) */
} item_families[] = {
	{ "bmtrace_stage_rss_bytes", "Resident memory of the processes of each build stage now.",
	  "stage", false, false },
	{ "bmtrace_stage_rss_peak_bytes",
	  "Highest resident memory of each build stage since tracing started.", "stage", false,
	  true },
	{ "bmtrace_command_rss_bytes",
	  "Resident memory of the processes running each command now: the largest commands, the "
	  "rest summed as command=\"other\".",
	  "command", true, false },
};

static void put_items(FILE *f, const struct view *v, size_t n)
{
	for (size_t k = 0; k < sizeof(item_families) / sizeof(item_families[0]); k++) {
		const struct item_family *fam = &item_families[k];

		put_family(f, fam->name, "gauge", fam->help);
		for (size_t t = 0; t < n; t++) {
			const struct item *it = fam->commands ? v[t].commands : v[t].stages;
			size_t count = fam->commands ? v[t].n_commands : v[t].n_stages;

			for (size_t i = 0; i < count; i++)
				put_sample(f, fam->name, &v[t], fam->label, it[i].name,
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

static void put_last_success(FILE *f, const struct view *v, size_t n)
{
	const char *name = "bmtrace_last_success_timestamp_seconds";
	bool any = false;

	for (size_t t = 0; t < n; t++)
		any |= v[t].s->last_success_time > 0;
	if (!any)
		return;
	put_family(f, name, "gauge", "Unix time when the traced command last ended successfully.");
	for (size_t t = 0; t < n; t++) {
		if (v[t].s->last_success_time <= 0)
			continue;
		put_series(f, name, &v[t], NULL, NULL);
		fprintf(f, " %.3f\n", v[t].s->last_success_time);
	}
}

int prom_render(FILE *f, const struct prom_snapshot *trees, size_t n)
{
	struct view *v = calloc(n ? n : 1, sizeof(*v));
	size_t made = 0;
	int err = 0;

	if (!v)
		return -ENOMEM;
	for (; made < n && !err; made++)
		err = view_init(&v[made], &trees[made]);
	if (!err) {
		put_trees(f, v, n);
		put_items(f, v, n);
		put_cgroup(f, v, n);
		put_last_success(f, v, n);
		put_family(f, "bmtrace_build_info", "gauge",
			   "The version of bmtrace that measured; the value is 1.");
		put_sample(f, "bmtrace_build_info", NULL, "version", BMT_VERSION, 1);
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

int prom_sample(FILE *f, const char *name, const char *lname, const char *lvalue,
		const char *le, double value)
{
	char *v = lname ? clean(lvalue) : NULL;

	if (lname && !v)
		return -ENOMEM;
	fputs(name, f);
	if (lname || le) {
		fputc('{', f);
		if (lname) {
			fprintf(f, "%s=\"", lname);
			put_value(f, v);
			fputc('"', f);
		}
		if (le)
			fprintf(f, "%sle=\"%s\"", lname ? "," : "", le);
		fputc('}', f);
	}
	fprintf(f, " %.17g\n", value);
	free(v);
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

int prom_write_file(const char *path, const struct prom_snapshot *s)
{
	return util_write_atomic(path, write_one, (void *)s);
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
		commands[i] =
			(struct prom_command){ now->commands[i].name, now->commands[i].bytes };
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
