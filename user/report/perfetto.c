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

/*
 * A process's track: its name, its last point (index + 1; 0: none yet in this resolution),
 * and its id in the trace: the pid, or past it when the pid was reused (PID_REUSE_STEP
 * more for each earlier process of that pid), so that two processes never share a track.
 */
struct ptrack {
	char comm[BMT_COMM_LEN + 1];
	size_t last;
	uint32_t pid;
	uint64_t id;
	int exited;
	struct ptrack *next_gone; /* in perfetto.gone, once its pid is another process's */
};

#define PID_REUSE_STEP (1ull << 22) /* above PID_MAX_LIMIT */

struct point {
	uint64_t ts, bytes;
	struct ptrack *t;
};

/* An exec or exit, shown as an instant on its process. */
struct instant {
	uint64_t ts;
	uint64_t id; /* its process's track */
	char name[BMT_COMM_LEN + 6]; /* "exec cc1", "exit" */
};

struct perfetto {
	struct point *pts;
	size_t n, cap;
	uint64_t resolution;
	struct table procs; /* pid -> struct ptrack: the process of that pid now */
	struct ptrack *gone; /* the tracks of processes whose pid was reused since, a list */
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
	while (p->gone) {
		struct ptrack *t = p->gone;

		p->gone = t->next_gone;
		free(t);
	}
	free(p->pts);
	free(p->inst);
	free(p);
}

int perfetto__failed(const struct perfetto *p)
{
	return p->failed;
}

/* pid's track; a new one when fresh is set and the pid's last process has exited. */
static struct ptrack *track(struct perfetto *p, uint32_t pid, int fresh)
{
	struct ptrack *old = table_get(&p->procs, pid), *t;

	if (old && !(fresh && old->exited))
		return old;
	t = calloc(1, sizeof(*t));
	if (!t || table_put(&p->procs, pid, t)) {
		free(t);
		p->failed = 1;
		return NULL;
	}
	t->pid = pid;
	t->id = old ? old->id + PID_REUSE_STEP : pid;
	if (old) {
		old->next_gone = p->gone;
		p->gone = old;
	}
	return t;
}

/* Keep (ts, pid, bytes) by the window rule; 0, or -ENOMEM. */
static int keep(struct perfetto *p, struct ptrack *t, const struct point *pt)
{
	struct point *last = t->last ? &p->pts[t->last - 1] : NULL, *v;

	/* (a fall to 0 always gets a point; within a window, the largest stays) */

	if (last && pt->bytes && last->bytes && pt->ts - last->ts < p->resolution) {
		if (pt->bytes > last->bytes)
			last->bytes = pt->bytes; /* the window's largest */
		return 0;
	}
	v = util_grow(p->pts, &p->cap, p->n, sizeof(*p->pts), 4096);
	if (!v)
		return -ENOMEM;
	p->pts = v;
	p->pts[p->n++] = *pt;
	t->last = p->n;
	return 0;
}

/* Too many points: double the windows and merge the points by the same rule, in place. */
static void coarsen(struct perfetto *p)
{
	size_t n = p->n;

	p->resolution *= 2;
	for (size_t i = 0; i < n; i++)
		p->pts[i].t->last = 0;
	p->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct point pt = p->pts[i];

		keep(p, pt.t, &pt); /* never grows: no allocation */
	}
}

void perfetto__proc(void *ctx, uint64_t ts, uint32_t pid, uint64_t bytes)
{
	struct perfetto *p = ctx;
	struct ptrack *t = track(p, pid, 0);
	struct point pt = { ts, bytes, t };

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
	struct ptrack *t = track(p, pid, 0);
	struct instant *e, *v;

	if (!t)
		return -ENOMEM;
	v = util_grow(p->inst, &p->cap_inst, p->n_inst, sizeof(*p->inst), 256);
	if (!v)
		return -ENOMEM;
	p->inst = v;
	e = &p->inst[p->n_inst++];
	e->ts = ts;
	e->id = t->id;
	snprintf(e->name, sizeof(e->name), "%s%s%.*s", what, *comm ? " " : "", BMT_COMM_LEN,
		 comm);
	return 0;
}

/*
 * Name pid's track after comm (not NUL-terminated when 16 bytes long); fresh: a process
 * begins (FORK, ADOPT), on a track of its own if its pid's last process has exited.
 */
static int name(struct perfetto *p, uint32_t pid, const char *comm, int fresh)
{
	struct ptrack *t = track(p, pid, fresh);

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

		rc = name(p, f->pid, f->comm, 1);
	} else if (h->type == BMT_REC_ADOPT) {
		const struct bmt_adopt *a = rec;

		rc = name(p, a->pid, a->comm, 1);
	} else if (h->type == BMT_REC_EXEC) {
		const struct bmt_exec *e = rec;

		rc = name(p, e->pid, e->comm, 0);
		if (!rc)
			rc = instant(p, h->ts, e->pid, "exec", e->comm);
	} else if (h->type == BMT_REC_EXIT) {
		uint32_t pid = ((const struct bmt_exit *)rec)->pid;

		struct ptrack *t = track(p, pid, 0);

		rc = instant(p, h->ts, pid, "exit", "");
		if (t)
			t->exited = 1;
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

/* A track's name: its command, and its pid when the track's id is not the pid. */
static int name_event(FILE *f, struct out *o, const struct ptrack *t)
{
	char name[BMT_COMM_LEN + 32], *s;

	snprintf(name, sizeof(name), t->id == t->pid ? "%s" : "%s (pid %" PRIu32 ")", t->comm,
		 t->pid);
	s = json_str(name);
	if (!s)
		return -ENOMEM;
	event(f, o, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":%" PRIu64 ","
		    "\"tid\":%" PRIu64 ",\"args\":{\"name\":%s}}", t->id, t->id, s);
	cJSON_free(s);
	return 0;
}

static int write_names(FILE *f, struct out *o)
{
	const struct perfetto *p = o->p;

	event(f, o, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":0,\"tid\":0,"
		    "\"args\":{\"name\":\"tree total\"}}");
	event(f, o, "{\"name\":\"process_sort_index\",\"ph\":\"M\",\"pid\":0,\"tid\":0,"
		    "\"args\":{\"sort_index\":-1}}");
	for (size_t i = 0; i < p->procs.cap; i++)
		if (p->procs.vals[i] && name_event(f, o, p->procs.vals[i]))
			return -ENOMEM;
	for (const struct ptrack *t = p->gone; t; t = t->next_gone)
		if (name_event(f, o, t))
			return -ENOMEM;
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
		event(f, o, "{\"name\":\"RSS\",\"ph\":\"C\",\"pid\":%" PRIu64 ",\"tid\":%" PRIu64
			    ",\"ts\":%.3f,\"args\":{\"bytes\":%" PRIu64 "}}",
		      p->pts[i].t->id, p->pts[i].t->id, us(o, p->pts[i].ts), p->pts[i].bytes);
	for (size_t i = 0; i < p->n_inst; i++) {
		char *s = json_str(p->inst[i].name);

		if (!s)
			return -ENOMEM;
		event(f, o, "{\"name\":%s,\"ph\":\"i\",\"s\":\"p\",\"pid\":%" PRIu64 ",\"tid\":%" PRIu64
			    ",\"ts\":%.3f}", s, p->inst[i].id, p->inst[i].id, us(o, p->inst[i].ts));
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
