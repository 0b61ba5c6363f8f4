/* SPDX-License-Identifier: MIT */
/*
 * counters - the integration tests of the counter sources (counters.c): btf-percpu and the
 * classic tracepoint against each other and against /proc. Needs root; skipped without.
 */
#ifndef ITEST_COUNTERS_H
#define ITEST_COUNTERS_H

/* Run them; the number that failed. */
int counters_run(void);

#endif /* ITEST_COUNTERS_H */
