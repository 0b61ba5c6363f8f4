// SPDX-License-Identifier: MIT
/* perfetto - the run as a Chrome/Perfetto JSON trace (see perfetto.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bmtrace.h"
#include "perfetto.h"
#include "record.h"
#include "table.h"
#include "util.h"

struct point {
	uint64_t ts, bytes;
	uint32_t pid;
};

/* A process's name and its last point (index + 1; 0: none yet in this resolution). */
struct ptrack {
	char comm[BMT_COMM_LEN + 1];
	size_t last;
};

/* An exec or exit, shown as an instant on its process. */
struct instant {
	uint64_t ts;
	uint32_t pid;
	char name[BMT_COMM_LEN + 6]; /* "exec cc1", "exit" */
};

struct perfetto {
	struct point *pts;
	size_t n, cap;
	uint64_t resolution;
	struct table procs; /* pid -> struct ptrack */
	struct instant *inst;
	size_t n_inst, cap_inst;
	int failed;
};

struct perfetto *perfetto__new(void)
{
	struct perfetto *p = calloc(1, sizeof(*p));

	if (p)
		p->resolution = TIMELINE_RESOLUTION_NS;
	return p;
}

void perfetto__free(struct perfetto *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->procs.cap; i++)
		free(p->procs.vals[i]);
	table_free(&p->procs);
	free(p->pts);
	free(p->inst);
	free(p);
}

int perfetto__failed(const struct perfetto *p)
{
	return p->failed;
}

static struct ptrack *track(struct perfetto *p, uint32_t pid)
{
	struct ptrack *t = table_get(&p->procs, pid);

	if (t)
		return t;
	t = calloc(1, sizeof(*t));
	if (!t || table_put(&p->procs, pid, t)) {
		free(t);
		p->failed = 1;
		return NULL;
	}
	return t;
}

/* Keep (ts, pid, bytes) by the window rule; 0, or -ENOMEM. */
static int keep(struct perfetto *p, struct ptrack *t, const struct point *pt)
{
	struct point *last = t->last ? &p->pts[t->last - 1] : NULL;

	if (last && pt->bytes && last->bytes && pt->ts - last->ts < p->resolution) {
		if (pt->bytes > last->bytes)
			last->bytes = pt->bytes; /* the window's largest */
		return 0;
	}
	if (!p->pts || p->n == p->cap) { /* the analyzer cannot tie pts to cap */
		size_t cap = p->cap ? 2 * p->cap : 4096;
		struct point *v = realloc(p->pts, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->pts = v;
		p->cap = cap;
	}
	p->pts[p->n++] = *pt;
	t->last = p->n;
	return 0;
}

/* Too many points: double the windows and merge the points by the same rule, in place. */
static void coarsen(struct perfetto *p)
{
	size_t n = p->n;

	p->resolution *= 2;
	for (size_t i = 0; i < p->procs.cap; i++)
		if (p->procs.vals[i])
			((struct ptrack *)p->procs.vals[i])->last = 0;
	p->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct point pt = p->pts[i];

		keep(p, table_get(&p->procs, pt.pid), &pt); /* never grows: no allocation */
	}
}

void perfetto__proc(void *ctx, uint64_t ts, uint32_t pid, uint64_t bytes)
{
	struct perfetto *p = ctx;
	struct ptrack *t = track(p, pid);
	struct point pt = { ts, bytes, pid };

	if (!t)
		return;
	if (keep(p, t, &pt))
		p->failed = 1;
	else if (p->n > PERFETTO_MAX_SAMPLES)
		coarsen(p);
}

static int instant(struct perfetto *p, uint64_t ts, uint32_t pid, const char *what,
		   const char *comm)
{
	struct instant *e;

	if (!p->inst || p->n_inst == p->cap_inst) {
		size_t cap = p->cap_inst ? 2 * p->cap_inst : 256;
		struct instant *v = realloc(p->inst, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		p->inst = v;
		p->cap_inst = cap;
	}
	e = &p->inst[p->n_inst++];
	e->ts = ts;
	e->pid = pid;
	snprintf(e->name, sizeof(e->name), "%s%s%.*s", what, *comm ? " " : "", BMT_COMM_LEN,
		 comm);
	return 0;
}

/* Name pid's track after comm (not NUL-terminated when 16 bytes long). */
static int name(struct perfetto *p, uint32_t pid, const char *comm)
{
	struct ptrack *t = track(p, pid);

	if (!t)
		return -ENOMEM;
	snprintf(t->comm, sizeof(t->comm), "%.*s", BMT_COMM_LEN, comm);
	return 0;
}

int perfetto__record(struct perfetto *p, const void *rec, size_t len)
{
	const struct bmt_hdr *h = rec;
	int rc = 0;

	if (bmt_record_check(rec, len) < 0)
		return 0; /* the collector counts it rejected */
	if (h->type == BMT_REC_FORK) {
		const struct bmt_fork *f = rec;

		rc = name(p, f->pid, f->comm);
	} else if (h->type == BMT_REC_ADOPT) {
		const struct bmt_adopt *a = rec;

		rc = name(p, a->pid, a->comm);
	} else if (h->type == BMT_REC_EXEC) {
		const struct bmt_exec *e = rec;

		rc = name(p, e->pid, e->comm);
		if (!rc)
			rc = instant(p, h->ts, e->pid, "exec", e->comm);
	} else if (h->type == BMT_REC_EXIT) {
		rc = instant(p, h->ts, ((const struct bmt_exit *)rec)->pid, "exit", "");
	}
	if (rc)
		p->failed = 1;
	return rc;
}

/* ---- the JSON, streamed: a long run has a million points ---- */

struct out {
	const struct perfetto *p;
	const struct bmt_run *run;
	const struct timeline *tl;
	const char *sep;
};

static double us(const struct out *o, uint64_t ts)
{
	return run_rel_s(o->run, ts) * 1e6;
}

/* One event, after a comma from the second on. */
static void event(FILE *f, struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void event(FILE *f, struct out *o, const char *fmt, ...)
{
	va_list ap;

	fputs(o->sep, f);
	o->sep = ",\n";
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
}

/* s as a JSON string: valid UTF-8 (U+FFFD for a bad byte), escaped by cJSON. */
static char *json_str(const char *s)
{
	char *clean = util_utf8_clean(s, 0), *out = NULL;
	cJSON *item = clean ? cJSON_CreateString(clean) : NULL;

	if (item)
		out = cJSON_PrintUnformatted(item);
	cJSON_Delete(item);
	free(clean);
	return out;
}

static int write_names(FILE *f, struct out *o)
{
	const struct table *t = &o->p->procs;

	event(f, o, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":0,\"tid\":0,"
		    "\"args\":{\"name\":\"tree total\"}}");
	event(f, o, "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":0,\"tid\":0,"
		    "\"args\":{\"sort_index\":-1}}");
	for (size_t i = 0; i < t->cap; i++) {
		const struct ptrack *pt = t->vals[i];
		char *s;

		if (!pt)
			continue;
		s = json_str(pt->comm);
		if (!s)
			return -ENOMEM;
		event(f, o, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%" PRIu64 ","
			    "\"tid\":%" PRIu64 ",\"args\":{\"name\":%s}}", t->keys[i], t->keys[i], s);
		cJSON_free(s);
	}
	return 0;
}

static void write_total(FILE *f, struct out *o)
{
	struct timeline_row row;

	for (size_t i = 0; o->tl && i < timeline__rows(o->tl); i++) {
		timeline__row(o->tl, i, &row);
		event(f, o, "{\"name\":\"tree RSS\",\"ph\":\"C\",\"pid\":0,\"tid\":0,\"ts\":%.3f,"
			    "\"args\":{\"total\":%" PRIu64 ",\"anon + shmem\":%" PRIu64 "}}",
		      us(o, row.ts), row.tree_bytes, row.anon_bytes);
	}
}

static int write_trace(FILE *f, void *ctx)
{
	struct out *o = ctx;
	const struct perfetto *p = o->p;
	int rc;

	fputs("{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n", f);
	rc = write_names(f, o);
	if (rc)
		return rc;
	write_total(f, o);
	for (size_t i = 0; i < p->n; i++)
		event(f, o, "{\"name\":\"RSS\",\"ph\":\"C\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32
			    ",\"ts\":%.3f,\"args\":{\"bytes\":%" PRIu64 "}}",
		      p->pts[i].pid, p->pts[i].pid, us(o, p->pts[i].ts), p->pts[i].bytes);
	for (size_t i = 0; i < p->n_inst; i++) {
		char *s = json_str(p->inst[i].name);

		if (!s)
			return -ENOMEM;
		event(f, o, "{\"name\":%s,\"ph\":\"i\",\"s\":\"p\",\"pid\":%" PRIu32 ",\"tid\":%" PRIu32
			    ",\"ts\":%.3f}", s, p->inst[i].pid, p->inst[i].pid, us(o, p->inst[i].ts));
		cJSON_free(s);
	}
	fputs("\n]}\n", f);
	return ferror(f) ? -EIO : 0;
}

int perfetto__write(const struct perfetto *p, const char *path, const struct bmt_run *run,
		    const struct timeline *tl)
{
	struct out o = { p, run, tl, "" };

	if (p->failed)
		return -ENOMEM;
	return util_write_atomic(path, write_trace, &o);
}
