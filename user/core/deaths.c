// SPDX-License-Identifier: MIT
/*
 * deaths - the tree's deaths by signal and OOM kills (see deaths.h).
 *
 * Every name an entry shows is copied: the collector frees a process's names when it is
 * gone, and an entry outlives it.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "deaths.h"

struct deaths {
	struct bmt_death *list;
	int *open; /* per entry: an OOM mark whose EXIT has not come yet */
	size_t n, cap;
	uint64_t oom_kills;
};

/* argv as one block: the pointers, then the strings. */
static char **argv_copy(char *const *argv)
{
	size_t argc = 0, len = 0;
	char **out, *w;

	for (; argv && argv[argc]; argc++)
		len += strlen(argv[argc]) + 1;
	out = malloc((argc + 1) * sizeof(*out) + len);
	if (!out)
		return NULL;
	w = (char *)(out + argc + 1);
	for (size_t i = 0; i < argc; i++) {
		out[i] = w;
		w = stpcpy(w, argv[i]) + 1;
	}
	out[argc] = NULL;
	return out;
}

static void proc_free(struct bmt_peak_proc *p)
{
	free((char *)p->comm);
	free((char **)p->argv);
	free((char *)p->stage);
}

static int proc_copy(struct bmt_peak_proc *dst, const struct bmt_peak_proc *src)
{
	*dst = *src;
	dst->comm = strdup(src->comm ? src->comm : "");
	dst->argv = argv_copy(src->argv);
	dst->stage = strdup(src->stage ? src->stage : "");
	if (dst->comm && dst->argv && dst->stage)
		return 0;
	proc_free(dst);
	return -ENOMEM;
}

static void entry_free(struct bmt_death *e)
{
	struct bmt_peak_proc self = {.comm = e->comm, .argv = e->argv, .stage = e->stage};

	proc_free(&self);
	for (size_t i = 0; i < e->n_holders; i++)
		proc_free((struct bmt_peak_proc *)&e->holders[i]);
	free((struct bmt_peak_proc *)e->holders);
}

static int entry_fill(struct bmt_death *d, const struct bmt_death_event *e)
{
	struct bmt_peak_proc self, *h = NULL;
	size_t i;

	if (proc_copy(&self, e->proc))
		return -ENOMEM;
	*d = (struct bmt_death){.pid = self.pid,
				.ppid = self.ppid,
				.comm = self.comm,
				.argv = self.argv,
				.stage = self.stage,
				.signal = e->signal ? e->signal : SIGKILL,
				.oom = !e->signal,
				.ts = e->ts,
				.bytes = self.bytes,
				.tree_bytes = e->tree_bytes,
				.anon_bytes = e->anon_bytes};
	if (!e->n_holders)
		return 0;
	h = calloc(e->n_holders, sizeof(*h));
	for (i = 0; h && i < e->n_holders; i++)
		if (proc_copy(&h[i], &e->holders[i]))
			break;
	d->holders = h;
	d->n_holders = h ? i : 0;
	if (h && i == e->n_holders)
		return 0;
	entry_free(d);
	return -ENOMEM;
}

/* The open OOM entry of pid, or -1. */
static long open_entry(const struct deaths *d, uint32_t pid)
{
	for (size_t i = d->n; i-- > 0;)
		if (d->open[i] && d->list[i].pid == pid)
			return (long)i;
	return -1;
}

int deaths__event(void *ctx, const struct bmt_death_event *e)
{
	struct deaths *d = ctx;
	long i = open_entry(d, e->proc->pid);

	if (i >= 0) {
		/* the victim's EXIT completes its entry; a second mark of it adds nothing */
		if (e->signal) {
			d->list[i].signal = e->signal;
			d->open[i] = 0;
		}
		return 0;
	}
	if (d->n == d->cap) {
		size_t cap = d->cap ? 2 * d->cap : 8;
		struct bmt_death *list = realloc(d->list, cap * sizeof(*list));
		int *open;

		if (!list)
			return -ENOMEM;
		d->list = list;
		open = realloc(d->open, cap * sizeof(*open));
		if (!open)
			return -ENOMEM;
		d->open = open;
		d->cap = cap;
	}
	if (entry_fill(&d->list[d->n], e))
		return -ENOMEM;
	d->open[d->n] = !e->signal;
	d->oom_kills += !e->signal;
	d->n++;
	return 0;
}

struct deaths *deaths__new(void)
{
	struct deaths *d = calloc(1, sizeof(*d));

	if (!d)
		errno = ENOMEM;
	return d;
}

void deaths__free(struct deaths *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		entry_free(&d->list[i]);
	free(d->list);
	free(d->open);
	free(d);
}

const struct bmt_death *deaths__list(const struct deaths *d, size_t *n)
{
	*n = d->n;
	return d->list;
}

uint64_t deaths__oom_kills(const struct deaths *d)
{
	return d->oom_kills;
}
