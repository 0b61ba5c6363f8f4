/* SPDX-License-Identifier: MIT */
/*
 * result - the full result (struct bmt_result) from the accounting engine's state: the
 * processes at the peak, the stages and commands tables with each command's sizing, the
 * processes alive. Pure and internal: the collector (collector.c) keeps the accounting and
 * the peak-time snapshot trigger, and hands its state here as plain data when a result is
 * asked for after a change.
 *
 * Invariants: the rows of a snapshot hold a reference on their names, so they name each
 * process as it was at the peak; a built result's names point into the source's tallies and
 * names (valid while they are).
 */
#ifndef BMT_RESULT_H
#define BMT_RESULT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include "collector.h"
#include "names.h"
#include "tally.h"

/* A process counted at the tree's peak. */
struct peak_row {
	uint32_t pid, ppid;
	int stage;           /* index into the engine's stages */
	struct names *names; /* a reference, taken by snapshot__push */
	uint64_t anon, file, shmem;
};

/* The processes counted at the peak (zero-initialise for an empty one). */
struct snapshot {
	struct peak_row *rows;
	size_t n, cap;
};

/* Room for one more row: 0 or -ENOMEM. */
int snapshot__grow(struct snapshot *s);

/* Append row, taking a reference on row->names. 0 or -ENOMEM. Inline: one call per row. */
static inline int snapshot__push(struct snapshot *s, const struct peak_row *row)
{
	if (s->n == s->cap && snapshot__grow(s))
		return -ENOMEM;
	s->rows[s->n++] = *row;
	names__get(row->names);
	return 0;
}
/* Drop every row (their references); snapshot__free also the storage. */
void snapshot__clear(struct snapshot *s);
void snapshot__free(struct snapshot *s);

/* A process alive now. */
struct live_proc {
	uint32_t pid;
	const struct names *names; /* may be NULL (named nothing yet) */
	uint64_t cmd_peak;         /* its own peak while running its current command */
};

struct result_src {
	struct bmt_now now;       /* the live view: the values now and the peak so far */
	struct bmt_peak anon_peak, raw_peak;
	uint64_t swap_at_peak;
	struct bmt_peak swap_peak;
	const struct tally *stages;
	const size_t *shown;      /* now.n_stages indexes into stages, in the result's order */
	const struct tally *cmds; /* now.n_commands; a names->cmd indexes it */
	const struct snapshot *peak;
	const struct live_proc *alive; /* now.alive */
};

/*
 * Rows as the reports show them (struct bmt_peak_proc: names from the tallies), largest
 * first, into out[0..n). Names point into the rows' names and the tallies.
 */
void result__rows(const struct peak_row *rows, size_t n, const struct tally *stages,
		  const struct tally *cmds, struct bmt_peak_proc *out);

struct result;

/* NULL on allocation failure. */
struct result *result__new(void);
void result__free(struct result *r);

/*
 * Build the result of src into r, replacing the previous one. Costs O(processes log
 * processes + commands x histogram). Returns it (valid until the next build or free), or
 * NULL with errno ENOMEM.
 */
const struct bmt_result *result__build(struct result *r, const struct result_src *src);

#endif /* BMT_RESULT_H */
