// SPDX-License-Identifier: MIT
/* diff - compare two bmtrace results (diff.h). */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "diff.h"
#include "escape.h"
#include "util.h"

#define NAME_COLS     16
#define LABEL_COLS    22 /* indent and name (and 2 spaces), before the first number */
#define MAX_CMD_ROWS  15
#define JSON_SCHEMA   1

static const cJSON *get(const cJSON *obj, const char *name)
{
	return cJSON_GetObjectItemCaseSensitive(obj, name);
}

/* obj.a.b as a number; false when missing or not a number. */
static bool num_at(const cJSON *obj, const char *a, const char *b, double *out)
{
	const cJSON *item = get(obj, a);

	if (b)
		item = get(item, b);
	if (!cJSON_IsNumber(item))
		return false;
	*out = item->valuedouble;
	return true;
}

static int check_result(const cJSON *doc, const char *name, char *err, size_t errlen)
{
	double schema, bytes;

	if (!cJSON_IsObject(doc) || !num_at(doc, "schema", NULL, &schema) ||
	    schema != JSON_SCHEMA) {
		snprintf(err, errlen, "%s: not a bmtrace result (no \"schema\": %d)", name,
			 JSON_SCHEMA);
		return -EINVAL;
	}
	if (!num_at(doc, "peak", "bytes", &bytes) || !cJSON_IsArray(get(doc, "stages")) ||
	    !cJSON_IsArray(get(doc, "commands"))) {
		snprintf(err, errlen, "%s: not a complete bmtrace result (peak, stages, commands)",
			 name);
		return -EINVAL;
	}
	return 0;
}

static struct diff_value value(const cJSON *before, const cJSON *after, const char *a,
			       const char *b)
{
	struct diff_value v = { 0 };

	v.in_before = num_at(before, a, b, &v.before);
	v.in_after = num_at(after, a, b, &v.after);
	return v;
}

static struct diff_row *find(struct diff_row *rows, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(rows[i].name, name))
			return &rows[i];
	return NULL;
}

/* Rows for each named entry of list (a JSON array of objects): its `field`. */
static int add_rows(struct diff_row **rows, size_t *n, const cJSON *list, bool after,
		    const char *field)
{
	const cJSON *item;

	cJSON_ArrayForEach(item, list) {
		const cJSON *name = get(item, "name");
		struct diff_row *row;
		double v = 0;

		if (!cJSON_IsString(name) || !num_at(item, field, NULL, &v))
			continue;
		row = find(*rows, *n, name->valuestring);
		if (!row) {
			struct diff_row *grown = realloc(*rows, (*n + 1) * sizeof(**rows));

			if (!grown)
				return -ENOMEM;
			*rows = grown;
			row = &grown[(*n)++];
			*row = (struct diff_row){ .name = name->valuestring };
		}
		if (after) {
			row->v.in_after = true;
			row->v.after = v;
		} else {
			row->v.in_before = true;
			row->v.before = v;
		}
	}
	return 0;
}

static double change(const struct diff_value *v)
{
	return v->after - v->before;
}

static int cmp_change(const void *a, const void *b)
{
	const struct diff_row *x = a, *y = b;
	double cx = fabs(change(&x->v)), cy = fabs(change(&y->v));
	double mx = fmax(x->v.before, x->v.after), my = fmax(y->v.before, y->v.after);

	if (cx != cy)
		return cx < cy ? 1 : -1;
	if (mx != my)
		return mx < my ? 1 : -1;
	return strcmp(x->name, y->name);
}

struct diff *diff__new(const cJSON *before, const cJSON *after, const struct diff_opts *opts,
		       char *err, size_t errlen)
{
	struct diff *d;

	if (check_result(before, opts->before_name, err, errlen) ||
	    check_result(after, opts->after_name, err, errlen))
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		goto nomem;
	d->opts = *opts;
	d->before = before;
	d->after = after;
	d->peak = value(before, after, "peak", "bytes");
	d->anon_peak = value(before, after, "anon_peak", "bytes");
	d->duration = value(before, after, "duration_s", NULL);
	/* AFTER's stages first, in its order: the rules as they are now */
	if (add_rows(&d->stages, &d->n_stages, get(after, "stages"), true, "peak_bytes") ||
	    add_rows(&d->stages, &d->n_stages, get(before, "stages"), false, "peak_bytes") ||
	    add_rows(&d->commands, &d->n_commands, get(after, "commands"), true, "peak_bytes") ||
	    add_rows(&d->commands, &d->n_commands, get(before, "commands"), false, "peak_bytes"))
		goto nomem;
	if (d->n_commands)
		qsort(d->commands, d->n_commands, sizeof(*d->commands), cmp_change);
	return d;
nomem:
	diff__free(d);
	snprintf(err, errlen, "out of memory");
	return NULL;
}

void diff__free(struct diff *d)
{
	if (!d)
		return;
	free(d->stages);
	free(d->commands);
	free(d);
}

/* The relative change in percent; NAN when there is none (BEFORE is 0). */
static double change_pct(const struct diff_value *v)
{
	return v->before ? 100.0 * change(v) / v->before : NAN;
}

double diff__peak_growth_pct(const struct diff *d)
{
	if (!d->peak.before)
		return d->peak.after > 0 ? INFINITY : 0.0;
	return change_pct(&d->peak);
}

bool diff__fails(const struct diff *d)
{
	return d->opts.fail_if_peak_grows && diff__peak_growth_pct(d) > d->opts.max_growth_pct;
}

/* ---- the table ---- */

/* A signed byte count: "+47.6 MiB", "-512 B", "0 B". */
static const char *fmt_change_bytes(double delta, char *buf, size_t len)
{
	char b[16];

	util_fmt_bytes((uint64_t)fabs(delta), b, sizeof(b));
	snprintf(buf, len, "%s%s", delta > 0 ? "+" : delta < 0 ? "-" : "", b);
	return buf;
}

static const char *fmt_pct(const struct diff_value *v, char *buf, size_t len)
{
	if (!v->in_before && v->in_after)
		snprintf(buf, len, "new");
	else if (v->in_before && !v->in_after)
		snprintf(buf, len, "gone");
	else if (!v->before)
		snprintf(buf, len, v->after ? "new" : "0.0%%");
	else
		snprintf(buf, len, "%+.1f%%", change_pct(v));
	return buf;
}

static void print_name(FILE *f, const char *indent, const char *name)
{
	struct esc_cell c;

	esc_init(&c, NAME_COLS);
	esc_put(&c, name);
	fprintf(f, "%s%s%*s", indent, c.buf, LABEL_COLS - (int)strlen(indent) - c.cols, "");
}

static void bytes_row(FILE *f, const char *indent, const char *name, const struct diff_value *v)
{
	char b1[16], b2[16], b3[24], p[16];

	print_name(f, indent, name);
	fprintf(f, "%10s  %10s  %11s  %8s\n",
		v->in_before ? util_fmt_bytes((uint64_t)v->before, b1, sizeof(b1)) : "-",
		v->in_after ? util_fmt_bytes((uint64_t)v->after, b2, sizeof(b2)) : "-",
		fmt_change_bytes(change(v), b3, sizeof(b3)), fmt_pct(v, p, sizeof(p)));
}

static void seconds_row(FILE *f, const char *name, const struct diff_value *v)
{
	char b1[24], b2[24], b3[24], p[16];

	snprintf(b1, sizeof(b1), "%.2f s", v->before);
	snprintf(b2, sizeof(b2), "%.2f s", v->after);
	snprintf(b3, sizeof(b3), "%+.2f s", change(v));
	print_name(f, "  ", name);
	fprintf(f, "%10s  %10s  %11s  %8s\n", v->in_before ? b1 : "-", v->in_after ? b2 : "-", b3,
		fmt_pct(v, p, sizeof(p)));
}

static void verdict(FILE *f, const struct diff *d)
{
	double g = diff__peak_growth_pct(d);
	char pct[32];

	if (!d->opts.fail_if_peak_grows)
		return;
	if (isinf(g))
		snprintf(pct, sizeof(pct), "from 0 B");
	else
		snprintf(pct, sizeof(pct), "%+.1f%%", g);
	fprintf(f, "bmtrace diff: peak %s, %s --fail-if-peak-grows %g%%\n", pct,
		diff__fails(d) ? "more than" : "within", d->opts.max_growth_pct);
}

int diff__text(FILE *f, const struct diff *d)
{
	size_t i, rows = d->n_commands < MAX_CMD_ROWS ? d->n_commands : MAX_CMD_ROWS;
	struct esc_cell a, b;

	esc_init(&a, 40);
	esc_put(&a, d->opts.before_name);
	esc_init(&b, 40);
	esc_put(&b, d->opts.after_name);
	fprintf(f, "bmtrace diff: %s → %s\n", a.buf, b.buf);
	fprintf(f, "%*s    BEFORE       AFTER       CHANGE         %%\n", LABEL_COLS, "");
	bytes_row(f, "  ", "peak tree RSS", &d->peak);
	bytes_row(f, "  ", "anon peak", &d->anon_peak);
	seconds_row(f, "duration", &d->duration);
	if (d->n_stages) {
		fputs("  stages, own peak:\n", f);
		for (i = 0; i < d->n_stages; i++)
			bytes_row(f, "    ", d->stages[i].name, &d->stages[i].v);
	}
	if (rows) {
		fputs("  commands, own peak (largest change first):\n", f);
		for (i = 0; i < rows; i++)
			bytes_row(f, "    ", d->commands[i].name, &d->commands[i].v);
		if (d->n_commands > rows)
			fprintf(f, "    … %zu more commands, smaller changes\n",
				d->n_commands - rows);
	}
	verdict(f, d);
	if (fflush(f))
		return -errno;
	return ferror(f) ? -EIO : 0;
}

/* ---- JSON ---- */

/* Add item to obj under name (to an array when name is NULL); a failure sets *failed. */
static cJSON *add(bool *failed, cJSON *obj, const char *name, cJSON *item)
{
	if (obj && item && (name ? cJSON_AddItemToObject(obj, name, item) :
				   cJSON_AddItemToArray(obj, item)))
		return item;
	cJSON_Delete(item);
	*failed = true;
	return NULL;
}

static cJSON *int_item(double v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.0f", v); /* bytes: integers, never in exponent form */
	return cJSON_CreateRaw(buf);
}

/* o's "before", "after", "change" (after - before) and "change_pct"; a missing side is null. */
static void add_value(bool *failed, cJSON *o, const struct diff_value *v, bool bytes)
{
	double pct = change_pct(v);

	add(failed, o, "before", !v->in_before ? cJSON_CreateNull() :
				 bytes ? int_item(v->before) : cJSON_CreateNumber(v->before));
	add(failed, o, "after", !v->in_after ? cJSON_CreateNull() :
				bytes ? int_item(v->after) : cJSON_CreateNumber(v->after));
	add(failed, o, "change", bytes ? int_item(change(v)) : cJSON_CreateNumber(change(v)));
	add(failed, o, "change_pct", isnan(pct) ? cJSON_CreateNull() : cJSON_CreateNumber(pct));
}

static void add_rows_json(bool *failed, cJSON *root, const char *name,
			  const struct diff_row *rows, size_t n)
{
	cJSON *arr = add(failed, root, name, cJSON_CreateArray());

	for (size_t i = 0; arr && i < n; i++) {
		cJSON *o = add(failed, arr, NULL, cJSON_CreateObject());

		add(failed, o, "name", cJSON_CreateString(rows[i].name));
		add_value(failed, o, &rows[i].v, true);
	}
}

static void add_run(bool *failed, cJSON *root, const char *name, const char *file,
		    const cJSON *doc)
{
	cJSON *o = add(failed, root, name, cJSON_CreateObject());

	add(failed, o, "file", cJSON_CreateString(file));
	add(failed, o, "command", cJSON_Duplicate(get(doc, "command"), true));
}

char *diff__json(const struct diff *d)
{
	cJSON *root = cJSON_CreateObject();
	bool failed = !root;
	char *text = NULL;

	add(&failed, root, "schema", cJSON_CreateNumber(JSON_SCHEMA));
	add_run(&failed, root, "before", d->opts.before_name, d->before);
	add_run(&failed, root, "after", d->opts.after_name, d->after);
	add_value(&failed, add(&failed, root, "peak", cJSON_CreateObject()), &d->peak, true);
	add_value(&failed, add(&failed, root, "anon_peak", cJSON_CreateObject()), &d->anon_peak,
		  true);
	add_value(&failed, add(&failed, root, "duration_s", cJSON_CreateObject()), &d->duration,
		  false);
	add_rows_json(&failed, root, "stages", d->stages, d->n_stages);
	add_rows_json(&failed, root, "commands", d->commands, d->n_commands);
	add(&failed, root, "fail_if_peak_grows_pct",
	    d->opts.fail_if_peak_grows ? cJSON_CreateNumber(d->opts.max_growth_pct) :
					 cJSON_CreateNull());
	add(&failed, root, "peak_grew_too_much", cJSON_CreateBool(diff__fails(d)));
	if (!failed)
		text = cJSON_Print(root);
	cJSON_Delete(root);
	return text;
}
