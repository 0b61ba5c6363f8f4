/* SPDX-License-Identifier: MIT */
/*
 * escape - strings that come from other processes (comm, argv) made safe to show.
 *
 * A cell holds at most `max` columns of text in which every control character (C0, DEL,
 * C1), bidi override or line control and every byte of invalid UTF-8 is a visible escape
 * (\n, \t, \r, \xNN, \uNNNN): a hostile name cannot move a terminal's cursor, recolour
 * it, reorder what is shown or break a document's syntax with a raw control. A backslash
 * is shown doubled (\\), so the escapes read back to the exact bytes: a name made of a
 * backslash and an "n" never looks like one with a newline. Text that
 * does not fit is cut where "…" still fits after it. A column is one character; an escape
 * takes one column per byte of it. The result is always valid UTF-8; each report still
 * applies its own syntax's escaping (XML entities, Markdown) on top.
 */
#ifndef BMT_ESCAPE_H
#define BMT_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define ESC_MAX_COLS 100 /* the widest cell */

struct esc_cell {
	char buf[ESC_MAX_COLS * 4 + 8]; /* a column holds at most one 4-byte character */
	size_t len, cut_len;
	int cols, cut_cols, max;
	bool full;
};

/* An empty cell of at most max columns (at most ESC_MAX_COLS). */
void esc_init(struct esc_cell *c, int max);

/* Append s (NULL is ""), escaped. */
void esc_put(struct esc_cell *c, const char *s);

/*
 * Append argv's strings, escaped, separated by single spaces. When they do not fit, the
 * operands are kept: argv[0] is shown by its base name, then the options as far as they
 * fit, cut with "…", then the operands ("cc1 -quiet -I build -imultiarch x86_64-linu…
 * src/heavy.c"). The operands are cut only when they alone fill the cell.
 */
void esc_put_argv(struct esc_cell *c, char *const *argv);

/* Append argv's operands alone (see esc_is_operand), escaped, separated by single spaces. */
void esc_put_operands(struct esc_cell *c, char *const *argv);

/*
 * Whether argv[i] is an operand: not argv[0], not an option (a leading '-'), nor an option's
 * value. A value is the argument after an option known to take one (-o, -I, -include,
 * -dumpbase, -plugin, ...: gcc's, clang's, ld's, rustc's, javac's), or a word without '.'
 * or '/' after any other option: "-O 2" is a value, "-c a.c" an operand.
 */
bool esc_is_operand(char *const *argv, size_t i);

/* Append len bytes of plain text known to be safe, taking cols columns. */
void esc_put_raw(struct esc_cell *c, const char *s, size_t len, int cols);

/*
 * "bmtrace: MESSAGE\n" on f, MESSAGE escaped as a cell is but never cut: a path, user name
 * or command quoted in it cannot break the one-line error or act on the terminal.
 */
void esc_say(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif /* BMT_ESCAPE_H */
