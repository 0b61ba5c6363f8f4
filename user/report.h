/* SPDX-License-Identifier: MIT */
/*
 * report - render one run's result for people (text) and scripts (JSON schema 1,
 * ../shared/design/interface.md). Pure: no tracing, no clock.
 */
#ifndef BMT_REPORT_H
#define BMT_REPORT_H

#include <stdio.h>
#include "collector.h"
#include "run.h"

/* The human summary. Returns 0 or -errno (a write error). */
int report_text(FILE *f, const struct bmt_run *run, const struct bmt_result *r);

/*
 * The JSON result, schema 1, to path ("-" is stdout), written atomically (a temp file in
 * the same directory, then rename). Returns 0 or -errno.
 */
int report_json(const char *path, const struct bmt_run *run, const struct bmt_result *r);

#endif /* BMT_REPORT_H */
