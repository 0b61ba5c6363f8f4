// SPDX-License-Identifier: MIT
/* progress - a live status line at the bottom of a terminal (see progress.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "progress.h"

#define ESC_BUF_MAX 1024 /* a line of text (at most 400 bytes from the caller) and the codes */

struct progress {
	int fd;
	int rows, cols; /* the size the scrolling region was set for */
};

/* One write of the whole sequence: a tty does not interleave another writer's within it. */
static void put(const struct progress *p, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(p->fd, s, len);

		if (n <= 0)
			return; /* the terminal went away: nothing to show it on */
		s += n;
		len -= (size_t)n;
	}
}

/*
 * The scrolling region to rows 1..rows-1, the cursor kept where it was: a new line first
 * (so that the cursor is not on the last row, which leaves the region), then back up.
 * DECSTBM homes the cursor, so it is saved and restored around it (DECSC, DECRC).
 */
static void reserve(struct progress *p)
{
	struct winsize ws;
	char buf[64];
	int n;

	if (ioctl(p->fd, TIOCGWINSZ, &ws) || ws.ws_row < 2)
		return;
	p->rows = ws.ws_row;
	p->cols = ws.ws_col ? ws.ws_col : 80;
	n = snprintf(buf, sizeof(buf), "\n\0337\033[1;%dr\0338\033[1A", p->rows - 1);
	put(p, buf, (size_t)n);
}

struct progress *progress__start(int fd)
{
	struct progress *p;

	if (!isatty(fd))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->fd = fd;
	reserve(p);
	if (!p->rows) {
		free(p);
		return NULL;
	}
	return p;
}

int progress__cols(const struct progress *p)
{
	return p->cols;
}

void progress__draw(struct progress *p, const char *text)
{
	struct winsize ws;
	char buf[ESC_BUF_MAX];
	int n;

	if (!ioctl(p->fd, TIOCGWINSZ, &ws) && ws.ws_row >= 2 &&
	    (ws.ws_row != p->rows || ws.ws_col != p->cols))
		reserve(p); /* resized: the region again, for the new last row */
	/* save the cursor, to the last row, erase it, the text, back where COMMAND writes */
	n = snprintf(buf, sizeof(buf), "\0337\033[%d;1H\033[2K%.900s\0338", p->rows, text);
	if (n > 0)
		put(p, buf, (size_t)n);
}

void progress__end(struct progress *p)
{
	char buf[64];
	int n;

	if (!p)
		return;
	/* the whole height back (DECSTBM with no rows), the last row erased */
	n = snprintf(buf, sizeof(buf), "\0337\033[r\033[%d;1H\033[2K\0338", p->rows);
	put(p, buf, (size_t)n);
	free(p);
}
