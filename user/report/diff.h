/* SPDX-License-Identifier: MIT */
/*
 * diff - compare two results (JSON schema 1, as `bmtrace --json` writes them): the peak, the
 * anon peak, the duration, and each stage's and each command's own peak, with absolute and
 * relative change. Pure: two parsed documents in, a table or a JSON document out
 * (`bmtrace diff`, cli.h and main.c do the files).
 *
 * A stage or a command is matched by name; one present in a single run counts as 0 in the
 * other ("new" or "gone"). The relative change is against BEFORE, none when BEFORE is 0.
 */
#ifndef BMT_DIFF_H
#define BMT_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <cjson/cJSON.h>

struct diff_value {
	bool in_before, in_after; /* false: the stage or command did not appear in that run */
	double before, after;	  /* bytes, or seconds for the duration */
};

struct diff_row {
	const char *name; /* points into the AFTER (or BEFORE) document */
	struct diff_value v;
};

struct diff_opts {
	const char *before_name, *after_name; /* shown in the table and errors: file names */
	bool fail_if_peak_grows;	      /* --fail-if-peak-grows PCT given */
	double max_growth_pct;		      /* PCT */
};

struct diff {
	struct diff_opts opts;
	const cJSON *before, *after;
	struct diff_value peak, anon_peak, duration;
	struct diff_row *stages;   /* AFTER's order, then those only in BEFORE */
	size_t n_stages;
	struct diff_row *commands; /* largest absolute change first */
	size_t n_commands;
};

/*
 * Compare; the documents must outlive the diff. NULL with a one-line reason in err when one
 * is not a schema 1 result ("before.json: not a bmtrace result (no \"schema\": 1)").
 */
struct diff *diff__new(const cJSON *before, const cJSON *after, const struct diff_opts *opts,
		       char *err, size_t errlen);
void diff__free(struct diff *d);

/* The peak's growth in percent of BEFORE's; +inf from 0 to more, 0 from 0 to 0. */
double diff__peak_growth_pct(const struct diff *d);

/* --fail-if-peak-grows was given and the peak grew by more than it allows. */
bool diff__fails(const struct diff *d);

/* The table for people, with the verdict last when a limit was given. 0 or -EIO. */
int diff__text(FILE *f, const struct diff *d);

/* The same as JSON (malloc'ed, free with cJSON_free); NULL when out of memory. */
char *diff__json(const struct diff *d);

#endif /* BMT_DIFF_H */
