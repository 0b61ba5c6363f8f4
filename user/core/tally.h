/* SPDX-License-Identifier: MIT */
/*
 * tally - the collector's tables of stages and commands: for each, its bytes now and its own
 * peak, its processes, and (commands) its instances and sizing. Pure; internal to the
 * collector and its result.
 *
 * Invariants: stages are the rules in order, then the root's default stage (always there,
 * named after the root's command once known, "(root)" before); a command's index never
 * changes; no two commands share a name.
 */
#ifndef BMT_TALLY_H
#define BMT_TALLY_H

#include <stddef.h>
#include <stdint.h>
#include "collector.h"
#include "sizing.h"
#include "stages.h"
#include "table.h"

struct tally {
	char *name;
	uint64_t bytes, peak_bytes, peak_ts; /* now; its own maximum and when */
	uint64_t at_peak;                     /* at the tree's peak (set by the snapshot) */
	uint64_t processes;                   /* that belonged to it at any time */
	uint64_t live, max_live;              /* commands: instances alive now, and at most */
	struct sizing sizing;                 /* commands: peaks of the processes that left it */
};

struct tallies {
	const struct stages *rules;
	struct tally *stages;
	size_t n_stages;
	int default_stage; /* == the number of rules */
	int default_named;
	struct tally *cmds;
	size_t n_cmds, cap_cmds;
	struct table cmd_index; /* name hash -> index + 1; collisions resolved by scan */
	struct bmt_level *now_stages, *now_cmds; /* the live view's arrays */
	size_t *shown;                           /* stage indexes in the results' order */
	uint64_t *sampled; /* the stages' bytes as the last sample carried them */
};

/* Zero-initialised t; rules may be NULL and must outlive t. 0 or -ENOMEM. */
int tallies__init(struct tallies *t, const struct stages *rules);
void tallies__free(struct tallies *t);

/* Add (sign > 0) or remove delta bytes at time ts; the peak follows additions. Inline: it
 * runs for every change of every address space. */
static inline void tally__add(struct tally *t, uint64_t delta, int sign, uint64_t ts)
{
	if (sign > 0) {
		t->bytes += delta;
		if (t->bytes > t->peak_bytes) {
			t->peak_bytes = t->bytes;
			t->peak_ts = ts;
		}
	} else {
		t->bytes -= delta < t->bytes ? delta : t->bytes;
	}
}

/* At the tree's peak: each stage's and command's at_peak becomes its bytes now. */
void tallies__mark_peak(struct tallies *t);

/* Did a stage's bytes change since the last tallies__sample? (Attribution moved.) */
int tallies__moved(const struct tallies *t);
/* The stages' bytes now for a sample (n_stages, in t's order), kept in t->sampled. */
const uint64_t *tallies__sample(struct tallies *t);

/* Index of the command called name, created on first use; -1 on allocation failure. */
int tallies__command(struct tallies *t, const char *name);

/* Name the default stage after the root's command, once; a rule's name is never taken. */
void tallies__name_default(struct tallies *t, const char *name);

/*
 * The stages as results list them into t->shown: the root's default stage first (left out
 * when nobody stayed in it and there are rules), then the rules in order. Returns their number.
 */
size_t tallies__shown(struct tallies *t);

/* now's stages (in the shown order) and commands (by index), in t's arrays. */
void tallies__levels(struct tallies *t, struct bmt_now *now);

#endif /* BMT_TALLY_H */
