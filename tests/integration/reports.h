/* SPDX-License-Identifier: MIT */
/* reports - the integration tests of the reports for people and CI (reports.c). */
#ifndef ITEST_REPORTS_H
#define ITEST_REPORTS_H

/* Run them as a cmocka group; the number of failed tests. */
int reports_run(void);

/* `make fixtures`: rewrite the golden files from the recorded traces. 0 or 1. */
int reports_update_golden(void);

#endif /* ITEST_REPORTS_H */
