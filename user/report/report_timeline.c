// SPDX-License-Identifier: MIT
/*
 * report_timeline - the timeline as CSV (RFC 4180, one header line): time_s, tree_bytes,
 * anon_bytes, then one column per stage named after it (made valid UTF-8 without controls,
 * see column_names: never two columns of one name), in the result's stage order. Rows follow timeline.h's rule, so the
 * tree_bytes column's maximum is the JSON's peak.bytes at its peak.time_s. Seconds are
 * exact to the nanosecond from the run's time zero, like the JSON's times. gzip-compressed
 * when the path ends in ".gz".
 */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "report.h"
#include "timeline.h"
#include "util.h"

/* Where the text goes: the temp file itself, or a gzip stream on a dup of its fd. */
struct out {
	FILE *f;
	gzFile gz;
	int err; /* the first write error, positive */
};

static void out_write(struct out *o, const char *s, size_t len)
{
	bool ok;

	if (o->err || !len)
		return;
	errno = 0;
	if (o->gz)
		ok = gzwrite(o->gz, s, (unsigned int)len) == (int)len;
	else
		ok = fwrite(s, 1, len, o->f) == len;
	if (!ok)
		o->err = errno ? errno : EIO;
}

static void out_str(struct out *o, const char *s)
{
	out_write(o, s, strlen(s));
}

/* A CSV field: quoted, with quotes doubled, when it holds a comma, quote or line break. */
static void out_csv_field(struct out *o, const char *s)
{
	const char *p;

	if (!strpbrk(s, ",\"\n")) {
		out_str(o, s);
		return;
	}
	out_write(o, "\"", 1);
	for (p = s; *p; p++) {
		if (*p == '"')
			out_write(o, "\"", 1);
		out_write(o, p, 1);
	}
	out_write(o, "\"", 1);
}

static bool taken(char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return true;
	return false;
}

/*
 * The stage columns' names: each stage's name made valid UTF-8 with no control character
 * but the newline (each byte of invalid UTF-8 and each other control becomes U+FFFD, as in
 * Prometheus label values). A column name is never given twice, so that a program reading
 * the header by name finds each: a stage named like a fixed column (tree_bytes), or two
 * whose names clean to the same text, get " (stage N)" added, N the stage's place. NULL on
 * allocation failure; names[0..2] are the fixed columns, names[3 + k] stage k's.
 */
static char **column_names(const struct bmt_result *r)
{
	static const char *const fixed[] = { "time_s", "tree_bytes", "anon_bytes" };
	size_t n = 0;
	char **names = calloc(r->n_stages + 3, sizeof(*names));

	for (size_t i = 0; names && i < 3; i++)
		if (!(names[n++] = strdup(fixed[i])))
			goto nomem;
	for (size_t k = 0; names && k < r->n_stages; k++) {
		char *s = util_utf8_clean(r->stages[k].name, 1);

		while (s && taken(names, n, s)) {
			char *t;

			if (asprintf(&t, "%s (stage %zu)", s, k + 1) < 0)
				t = NULL;
			free(s);
			s = t;
		}
		if (!(names[n++] = s))
			goto nomem;
	}
	return names;
nomem:
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
	return NULL;
}

struct csv {
	const struct bmt_run *run;
	const struct bmt_result *r;
	const struct timeline *tl;
	bool gzip;
};

static void write_header(struct out *o, const struct bmt_result *r)
{
	char **names = column_names(r);

	if (!names) {
		o->err = o->err ? o->err : ENOMEM;
		return;
	}
	for (size_t i = 0; i < r->n_stages + 3; i++) {
		if (i)
			out_write(o, ",", 1);
		out_csv_field(o, names[i]);
		free(names[i]);
	}
	free(names);
	out_write(o, "\n", 1);
}

static void write_row(struct out *o, const struct csv *c, const struct timeline_row *row,
		      const size_t *col)
{
	uint64_t start = c->run->start_ts, rel = row->ts > start ? row->ts - start : 0;
	char buf[64];
	int n;

	n = snprintf(buf, sizeof(buf), "%" PRIu64 ".%09" PRIu64 ",%" PRIu64 ",%" PRIu64,
		     rel / 1000000000u, rel % 1000000000u, row->tree_bytes, row->anon_bytes);
	out_write(o, buf, (size_t)n);
	for (size_t k = 0; k < c->r->n_stages; k++) {
		uint64_t v = col[k] == SIZE_MAX ? 0 : row->stage_bytes[col[k]];

		n = snprintf(buf, sizeof(buf), ",%" PRIu64, v);
		out_write(o, buf, (size_t)n);
	}
	out_write(o, "\n", 1);
}

static int write_csv(FILE *f, void *ctx)
{
	const struct csv *c = ctx;
	struct out o = { .f = f };
	struct timeline_row row;
	size_t i, rows = timeline__rows(c->tl), *col;
	int fd, zerr;

	col = calloc(c->r->n_stages + 1, sizeof(*col));
	if (!col)
		return -ENOMEM;
	timeline__stage_columns(c->tl, c->r, col);
	if (c->gzip) {
		if (fflush(f) || (fd = dup(fileno(f))) < 0) {
			free(col);
			return -errno;
		}
		o.gz = gzdopen(fd, "wb");
		if (!o.gz) {
			close(fd);
			free(col);
			return -ENOMEM;
		}
	}
	write_header(&o, c->r);
	for (i = 0; i < rows; i++) {
		timeline__row(c->tl, i, &row);
		write_row(&o, c, &row, col);
	}
	free(col);
	if (o.gz) {
		errno = 0;
		/* flushes zlib's buffers: a full disk often shows only here */
		zerr = gzclose(o.gz);
		if (zerr != Z_OK && !o.err)
			o.err = zerr == Z_ERRNO && errno ? errno : EIO;
	}
	return -o.err;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

int report_timeline(const char *path, const struct bmt_run *run, const struct bmt_result *r,
		    const struct timeline *tl)
{
	struct csv c = { run, r, tl, ends_with(path, ".gz") };

	return util_write_atomic(path, write_csv, &c);
}
