/* SPDX-License-Identifier: MIT */
/*
 * names - a process's command line and command, shared by fork until exec.
 *
 * Reference counted: a fork child takes a reference on its parent's names, the peak's
 * snapshot one on each process it lists, so the snapshot names a process that has since
 * exited or exec'd as it was at the peak. Internal to the collector and its result.
 *
 * Invariants: argv is NULL-terminated and points into buf; comm is NUL-terminated.
 */
#ifndef BMT_NAMES_H
#define BMT_NAMES_H

#include <stddef.h>
#include "bmtrace.h"

struct names {
	int refs;
	int cmd;  /* the collector's index of its command; -1 when it has none */
	char comm[BMT_COMM_LEN];
	char **argv;
	char *buf;
};

/*
 * From the NUL-separated strings of data[0..len) (a truncated last one still ends) and
 * comm (NULL: empty); cmd is 0, one reference. NULL on allocation failure.
 */
struct names *names__new(const char *data, size_t len, const char *comm);
/* From a NULL-terminated argv (may be NULL), comm the basename of argv[0]. */
struct names *names__from_argv(char *const argv[]);
/* Free n (its last reference is gone). */
void names__free(struct names *n);

/* Take one more reference; n may be NULL. Inline: the peak's snapshot takes one per row. */
static inline struct names *names__get(struct names *n)
{
	if (n)
		n->refs++;
	return n;
}

/* Drop one reference, freeing n with the last one; n may be NULL. */
static inline void names__put(struct names *n)
{
	if (n && !--n->refs)
		names__free(n);
}

#endif /* BMT_NAMES_H */
