// SPDX-License-Identifier: MIT
/* bmtrace diff BEFORE.json AFTER.json: two results compared (diff.h), as a table or JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "budget.h"
#include "cmd.h"
#include "diff.h"
#include "escape.h"
#include "session.h"
#include "status.h"
#include "util.h"

static cJSON *load_result(const char *path)
{
	char *text = util_read_file(path, NULL);
	cJSON *doc;

	if (!text) {
		esc_say(stderr, "diff: %s: %s", path, strerror(errno));
		return NULL;
	}
	doc = cJSON_Parse(text);
	free(text);
	if (!doc)
		esc_say(stderr, "diff: %s: not JSON (a bmtrace --json result is)", path);
	return doc;
}

static int write_text(FILE *f, void *ctx)
{
	return diff__text(f, ctx);
}

static int write_json(FILE *f, void *ctx)
{
	char *text = diff__json(ctx);
	int rc = text && fputs(text, f) != EOF && fputc('\n', f) != EOF ? 0 : text ? -EIO : -ENOMEM;

	cJSON_free(text);
	return rc;
}

/* 0, BMT_EXIT_BUDGET when the peak grew too much, 125 on bad input. */
int cmd_diff(struct config *cfg)
{
	struct diff_opts opts = { cfg->before, cfg->after, cfg->fail_if_peak_grows,
				  cfg->max_growth_pct };
	cJSON *before = session__check_outputs(cfg) ? NULL : load_result(cfg->before);
	cJSON *after = before ? load_result(cfg->after) : NULL;
	const char *out = cfg->out[BMT_OUT_SUMMARY] ? cfg->out[BMT_OUT_SUMMARY] : "-";
	struct diff *d = NULL;
	char err[512];
	int code = BMT_EXIT_BMTRACE, rc;

	if (!after)
		goto out;
	d = diff__new(before, after, &opts, err, sizeof(err));
	if (!d) {
		esc_say(stderr, "diff: %s", err);
		goto out;
	}
	rc = util_write_atomic(out, cfg->diff_json ? write_json : write_text, d);
	if (rc) {
		esc_say(stderr, "diff: -o %s: cannot write it: %s", out, strerror(-rc));
		goto out;
	}
	code = diff__fails(d) ? BMT_EXIT_BUDGET : 0;
out:
	diff__free(d);
	cJSON_Delete(before);
	cJSON_Delete(after);
	return code;
}
