// SPDX-License-Identifier: MIT
/* merge - the ring's records back in the order of the changes they stand for (merge.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "merge.h"
#include "util.h"

/* Flushes a missing opening record is waited for before its phase is given up on. */
#define MERGE_PATIENCE 256

#define SMALL 64 /* records up to this size are kept inline: all but EXEC */

struct entry {
	uint64_t phase;
	uint64_t ts;
	uint64_t seq; /* arrival: the order of equal times */
	uint32_t cpu, run;
	uint32_t events; /* a run's: its events up to this value */
	uint16_t kind;
	bool transient; /* read from a CPU's run: dropped when its phase cannot go yet */
	uint32_t len;
	union {
		uint8_t small[SMALL];
		uint8_t *big;
	} rec;
};

/*
 * What is known of a CPU's runs. Its runs are numbered in order and its records reach the
 * ring in that order, so the runs between the last one received in order and the one the
 * CPU holds now are runs whose records are still behind a record being written: their phase
 * is at least `got_phase`, and nothing from that phase on may go before them.
 */
struct cpu {
	uint32_t got;       /* runs up to this one received (sent, or read from the CPU) */
	uint64_t got_phase; /* the phase of run `got` */
	uint32_t now;       /* the run the CPU holds, as last read */
	bool now_open;      /* ... still open then */
	bool unreadable;    /* the CPU's run could not be read at the last drain */
	bool any;           /* a value was handed over: */
	uint32_t last_run;  /* of this run, */
	uint64_t last_ts;   /* at this time, */
	uint32_t last_events; /* standing for its events up to this many */
};

/* An opening record: phase `phase` follows phase `prev` (phase numbers are not dense). */
struct link {
	uint64_t prev, phase;
};

struct merge {
	merge_fn fn;
	void *ctx;
	struct entry *e;
	size_t n, cap;
	uint64_t opened;  /* every phase up to this one has its opening record */
	struct link *ahead; /* opening records that do not follow on from opened yet */
	size_t n_ahead, cap_ahead;
	struct cpu *cpu; /* by CPU */
	size_t n_cpu;
	uint64_t max_phase; /* the highest opening record seen */
	uint64_t n_opens;   /* opening records seen */
	uint64_t seq, bad, gaps;
	unsigned int stuck; /* flushes since a held record could not go */
};

struct merge *merge__new(merge_fn fn, void *ctx)
{
	struct merge *m = calloc(1, sizeof(*m));

	if (m) {
		m->fn = fn;
		m->ctx = ctx;
	}
	return m;
}

static uint8_t *rec_of(struct entry *e)
{
	return e->len > SMALL ? e->rec.big : e->rec.small;
}

static void entry_free(struct entry *e)
{
	if (e->len > SMALL)
		free(e->rec.big);
}

void merge__free(struct merge *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		entry_free(&m->e[i]);
	free(m->e);
	free(m->ahead);
	free(m->cpu);
	free(m);
}

uint64_t merge__bad(const struct merge *m)
{
	return m->bad;
}

uint64_t merge__gaps(const struct merge *m)
{
	return m->gaps;
}

uint64_t merge__phases(const struct merge *m)
{
	return m->n_opens;
}

/* CPU c's state, made on first use; NULL on ENOMEM. */
static struct cpu *cpu_of(struct merge *m, uint32_t c)
{
	if (c >= m->n_cpu) {
		size_t n = (size_t)c + 1;
		struct cpu *g = realloc(m->cpu, n * sizeof(*g));

		if (!g)
			return NULL;
		memset(g + m->n_cpu, 0, (n - m->n_cpu) * sizeof(*g));
		m->cpu = g;
		m->n_cpu = n;
	}
	return &m->cpu[c];
}

/* Run `run` of CPU c, in phase, has arrived: the CPU's runs received in order move on. */
static void got_run(struct cpu *c, uint32_t run, uint64_t phase)
{
	/* a later run first: the ones between were lost (the ring had no room) */
	if ((int32_t)(run - c->got) > 0) {
		c->got = run;
		c->got_phase = phase;
	}
}

/* A new entry holding a copy of rec's len bytes; NULL on ENOMEM. */
static struct entry *add(struct merge *m, const void *rec, uint32_t len)
{
	struct entry *e;

	if (m->n == m->cap) {
		struct entry *g = util_grow(m->e, &m->cap, m->n, sizeof(*m->e), 256);

		if (!g)
			return NULL;
		m->e = g;
	}
	e = &m->e[m->n];
	memset(e, 0, sizeof(*e));
	if (len > SMALL) {
		e->rec.big = malloc(len);
		if (!e->rec.big)
			return NULL;
	}
	e->len = len;
	memcpy(rec_of(e), rec, len);
	e->ts = ((const struct bmt_hdr *)rec)->ts;
	e->seq = m->seq++;
	m->n++;
	return e;
}

/* Absorb the opening records that arrived early and now follow on from opened. */
static void absorb(struct merge *m)
{
	bool moved = true;

	while (moved) {
		moved = false;
		for (size_t i = 0; i < m->n_ahead; i++) {
			if (m->ahead[i].phase <= m->opened || m->ahead[i].prev == m->opened) {
				if (m->ahead[i].phase > m->opened)
					m->opened = m->ahead[i].phase;
				m->ahead[i--] = m->ahead[--m->n_ahead];
				moved = true;
			}
		}
	}
}

/* The opening record of phase, which follows prev: phases up to opened may go. */
static int opens(struct merge *m, uint64_t prev, uint64_t phase)
{
	m->n_opens++;
	if (phase > m->max_phase)
		m->max_phase = phase;
	if (phase <= m->opened)
		return 0;
	if (prev != m->opened) {
		if (m->n_ahead == m->cap_ahead) {
			struct link *g = util_grow(m->ahead, &m->cap_ahead, m->n_ahead,
						   sizeof(*m->ahead), 16);

			if (!g)
				return -ENOMEM;
			m->ahead = g;
		}
		m->ahead[m->n_ahead++] = (struct link){ prev, phase };
		return 0;
	}
	m->opened = phase;
	absorb(m);
	return 0;
}

int merge__push(struct merge *m, const void *data, size_t len)
{
	const struct bmt_wire *w = data;
	const struct bmt_hdr *h = (const void *)(w + 1);
	struct entry *e;

	if (len < sizeof(*w) + sizeof(*h) || h->size < sizeof(*h) ||
	    h->size > len - sizeof(*w) || w->kind < BMT_WIRE_OPENS || w->kind > BMT_WIRE_RUN ||
	    (w->kind == BMT_WIRE_OPENS && (!w->run || w->run > w->phase))) {
		m->bad++;
		return -EINVAL;
	}
	e = add(m, h, h->size);
	if (!e)
		return -ENOMEM;
	e->phase = w->phase;
	e->kind = w->kind;
	e->cpu = w->cpu;
	e->run = w->run;
	e->events = h->type == BMT_REC_RSS ? 1u + h->flags : 1;
	if (w->kind == BMT_WIRE_RUN) {
		struct cpu *c = cpu_of(m, w->cpu);

		if (!c)
			return -ENOMEM;
		got_run(c, w->run, w->phase);
	}
	return w->kind == BMT_WIRE_OPENS ? opens(m, w->phase - w->run, w->phase) : 0;
}

int merge__run(struct merge *m, uint32_t cpu, const struct bmt_cpu_run *r)
{
	struct cpu *c = cpu_of(m, cpu);
	struct bmt_rss rec = {
		.hdr = { .type = BMT_REC_RSS, .size = sizeof(rec), .ts = r ? r->ts : 0 },
		/* hdr.flags: set by seen() when it goes */
		.mm_key = r ? r->mm_key : 0,
		.member = r ? r->member : 0,
		.bytes = r ? r->bytes : 0,
	};
	struct entry *e;

	if (!c)
		return -ENOMEM;
	c->unreadable = r == NULL;
	if (!r || !r->open) {
		if (r) {
			c->now = r->run;
			c->now_open = false;
		}
		return 0;
	}
	c->now = r->run;
	c->now_open = true;
	e = add(m, &rec, sizeof(rec));
	if (!e)
		return -ENOMEM;
	e->phase = r->phase;
	e->kind = BMT_WIRE_RUN;
	e->cpu = cpu;
	e->run = r->run;
	e->events = r->events;
	e->transient = true;
	return 0;
}

static int cmp_entry(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	int ao = a->kind != BMT_WIRE_OPENS, bo = b->kind != BMT_WIRE_OPENS;

	if (a->phase != b->phase)
		return a->phase < b->phase ? -1 : 1;
	if (ao != bo)
		return ao - bo;
	if (a->ts != b->ts)
		return a->ts < b->ts ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

/*
 * A run's value that was handed over already (read from the CPU, then sent), or older: 1.
 * Else 0, with the record's flags set to the events it stands for beyond those handed over.
 */
static int seen(struct merge *m, struct entry *e)
{
	struct cpu *l = cpu_of(m, e->cpu);
	struct bmt_hdr *h = (struct bmt_hdr *)rec_of(e);
	uint32_t before = 0, more;

	if (!l)
		return -ENOMEM;
	if (l->any && (int32_t)(e->run - l->last_run) < 0)
		return 1;
	if (l->any && e->run == l->last_run) {
		if (e->ts <= l->last_ts && e->events <= l->last_events)
			return 1;
		before = l->last_events;
		if (e->ts < l->last_ts)
			e->ts = h->ts = l->last_ts; /* more events of an unchanged value */
	}
	more = e->events > before ? e->events - before : 1;
	h->flags = more - 1 < 0xffff ? (uint16_t)(more - 1) : 0xffff;
	l->any = true;
	l->last_run = e->run;
	l->last_ts = e->ts;
	l->last_events = e->events > before ? e->events : before;
	return 0;
}

/* How many of the runs the CPU ended are still to arrive (the one it holds open is read). */
static int32_t runs_missing(const struct cpu *c)
{
	return (int32_t)((c->now_open ? c->now - 1 : c->now) - c->got);
}

/*
 * The highest phase that may go: every opening record up to it arrived, and no CPU has a
 * run of it or before still behind a record being written. *held: a CPU's runs are missing.
 */
static int64_t ready(struct merge *m, bool *held)
{
	int64_t limit = (int64_t)m->opened;

	*held = false;
	for (size_t i = 0; i < m->n_cpu; i++) {
		struct cpu *c = &m->cpu[i];
		if (c->unreadable || runs_missing(c) > 0) {
			*held = true;
			if ((int64_t)c->got_phase - 1 < limit)
				limit = (int64_t)c->got_phase - 1;
		}
	}
	return limit;
}

/*
 * Held records wait for a phase's opening record, or for the runs of a CPU; what never comes
 * is given up on (counted).
 */
static void patience(struct merge *m, bool held)
{
	uint64_t low = UINT64_MAX;

	if (!held) {
		m->stuck = 0;
		return;
	}
	if (++m->stuck < MERGE_PATIENCE)
		return;
	for (size_t i = 0; i < m->n_cpu; i++) {
		struct cpu *c = &m->cpu[i];
		if (!c->unreadable && runs_missing(c) > 0) {
			m->gaps++;
			c->got += (uint32_t)runs_missing(c);
		}
	}
	for (size_t i = 0; i < m->n_ahead; i++) /* the earliest opening record that came */
		if (m->ahead[i].prev < low)
			low = m->ahead[i].prev;
	for (size_t i = 0; low == UINT64_MAX && i < m->n; i++) /* else the lowest phase held */
		if (m->e[i].phase > m->opened && m->e[i].phase < low)
			low = m->e[i].phase;
	if (low == UINT64_MAX)
		return;
	/* give up on the opening records before it: they never came */
	if (low > m->opened) {
		m->gaps++;
		m->opened = low;
	}
	absorb(m);
	m->stuck = 0;
}

long merge__flush(struct merge *m, bool final)
{
	size_t i, n_go = 0, n_keep = 0;
	bool runs_held = false;
	int64_t limit = final ? INT64_MAX : ready(m, &runs_held);
	long handed = 0;
	int rc = 0;

	/* the records that may go first, in order; the held ones after them */
	for (i = 0; i < m->n; i++) {
		struct entry *e = &m->e[i];

		if ((int64_t)e->phase <= limit) {
			if (i != n_go) {
				struct entry t = m->e[n_go];

				m->e[n_go] = *e;
				*e = t;
			}
			n_go++;
		}
	}
	if (n_go > 1) /* m->e may be NULL: nothing pushed yet */
		qsort(m->e, n_go, sizeof(*m->e), cmp_entry);
	for (i = 0; i < n_go; i++) {
		struct entry *e = &m->e[i];
		int s = e->kind == BMT_WIRE_RUN ? seen(m, e) : 0;

		if (s < 0) {
			rc = s;
			break;
		}
		if (!s) {
			rc = m->fn(m->ctx, rec_of(e), e->len);
			if (rc < 0) {
				entry_free(e);
				i++;
				break;
			}
			handed++;
		}
		entry_free(e);
	}
	/* what did not go stays, but a CPU's run read too early: it is read again next time */
	for (size_t j = i; j < m->n; j++) {
		struct entry *e = &m->e[j];

		if (j >= n_go && e->transient) {
			entry_free(e);
			continue;
		}
		m->e[n_keep++] = *e;
	}
	m->n = n_keep;
	if (final && !m->n) { /* all went: nothing waits for an opening record any more */
		m->opened = m->max_phase;
		m->n_ahead = 0;
	}
	patience(m, m->n > 0 || runs_held);
	return rc < 0 ? rc : handed;
}
