// SPDX-License-Identifier: MIT
/*
 * hooks - the collector's observers (see hooks.h): what each hook is told, built from what
 * the collector passes.
 */
#include <errno.h>
#include <stdlib.h>
#include "hooks.h"
#include "util.h"

void hooks__note(struct hooks *h, uint32_t pid, uint64_t bytes)
{
	struct proc_change *v;

	if (!h->proc_fn)
		return;
	v = util_grow(h->changed, &h->cap_changed, h->n_changed, sizeof(*v), 16);
	if (!v)
		return; /* a point of the per-process series lost, the accounting not */
	h->changed = v;
	h->changed[h->n_changed++] = (struct proc_change){ pid, bytes };
}

/* A record may move one process several times: the last value is the one that holds. */
void hooks__flush(struct hooks *h, uint64_t ts)
{
	for (size_t i = 0; i < h->n_changed; i++) {
		size_t j = i + 1;

		while (j < h->n_changed && h->changed[j].pid != h->changed[i].pid)
			j++;
		if (j == h->n_changed)
			h->proc_fn(h->proc_ctx, ts, h->changed[i].pid, h->changed[i].bytes);
	}
	h->n_changed = 0;
}

void hooks__sample(const struct hooks *h, struct tallies *t, uint64_t ts, uint64_t tree,
		   uint64_t anon)
{
	struct bmt_sample s;

	if (!h->sample_fn)
		return;
	s = (struct bmt_sample){ ts, tree, anon, tallies__sample(t), t->n_stages };
	h->sample_fn(h->sample_ctx, &s);
}

int hooks__death(const struct hooks *h, const struct tallies *t, const struct peak_row *row,
		 const struct snapshot *held, const struct bmt_death_event *e)
{
	struct bmt_peak_proc self, *holders = NULL;
	struct bmt_death_event ev = *e;
	int rc;

	result__rows(row, 1, t->stages, t->cmds, &self);
	if (held) {
		holders = calloc(held->n + 1, sizeof(*holders));
		if (!holders)
			return -ENOMEM;
		result__rows(held->rows, held->n, t->stages, t->cmds, holders);
	}
	ev.proc = &self;
	ev.holders = holders;
	ev.n_holders = holders ? held->n : 0;
	rc = h->death_fn(h->death_ctx, &ev);
	free(holders);
	return rc;
}

void hooks__free(struct hooks *h)
{
	free(h->changed);
	h->changed = NULL;
	h->n_changed = h->cap_changed = 0;
}
