/* SPDX-License-Identifier: MIT */
/*
 * stages - user rules NAME=REGEX that split a tree into build stages.
 *
 * A rule is a POSIX extended regular expression matched against a process's
 * argv joined by single spaces, at exec. Rules are tried in the order given;
 * the first that matches names the stage (accounting.md, "By stage").
 */
#ifndef BMT_STAGES_H
#define BMT_STAGES_H

#include <stddef.h>

struct stages;

/* NULL with errno set on allocation failure. */
struct stages *stages__new(void);
void stages__free(struct stages *s);

/*
 * Add a rule from "NAME=REGEX". Returns 0, or -EINVAL with a one-line reason in err that
 * starts with the rule quoted ("'x': expected NAME=REGEX"; empty name, no '=', a bad or
 * too costly regex, a duplicate name), or -ENOMEM.
 */
int stages__add(struct stages *s, const char *spec, char *err, size_t errlen);

/*
 * The rules of specs (NULL-terminated, may be NULL: none) compiled in order: what --stage
 * gives, or what a recording was made with. NULL with a one-line reason in err naming
 * the option ("--stage 'x': expected NAME=REGEX"), escaped for a terminal.
 */
struct stages *stages__from_specs(char *const specs[], char *err, size_t errlen);

size_t stages__count(const struct stages *s);
const char *stages__name(const struct stages *s, size_t i);
/* The spec as given ("NAME=REGEX"), for recording in a trace. */
const char *stages__spec(const struct stages *s, size_t i);

/* Index of the first rule matching argv (NULL-terminated), or -1. */
int stages__match(const struct stages *s, char *const argv[]);

#endif /* BMT_STAGES_H */
