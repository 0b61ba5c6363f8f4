/* SPDX-License-Identifier: MIT */
/*
 * progress - one live status line at the bottom of a terminal (--progress), as apt draws its
 * progress bar: the terminal's scrolling region is set to all rows but the last, so whatever
 * COMMAND writes scrolls above the line and never over it; the line is redrawn in place,
 * each time in one write(2) (a tty never interleaves another process's write with it).
 *
 * Invariants: nothing is written unless fd is a terminal of at least 2 rows; progress__end
 * gives the terminal its whole height back and erases the line, leaving the cursor where
 * COMMAND's output left it. A change of the terminal's size is followed at the next draw.
 */
#ifndef BMT_PROGRESS_H
#define BMT_PROGRESS_H

struct progress;

/* Start on fd; NULL (nothing to do) when fd is no terminal, or on allocation failure. */
struct progress *progress__start(int fd);

/* The terminal's width in columns (80 when it cannot be told). */
int progress__cols(const struct progress *p);

/* Show text (one line, cut to the width by the caller) as the status line. */
void progress__draw(struct progress *p, const char *text);

/* Give the terminal back, the line erased; frees p (NULL is fine). */
void progress__end(struct progress *p);

#endif /* BMT_PROGRESS_H */
