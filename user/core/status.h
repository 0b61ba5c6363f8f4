/* SPDX-License-Identifier: MIT */
/*
 * status - bmtrace's exit status, decided in one place (README, "Exit status"):
 * - COMMAND's own status, 128+N when it died of signal N (as a shell reports it); 0 for -p;
 * - 125 (BMT_EXIT_BMTRACE) when bmtrace itself could not run, or when a report could not be
 *   written and COMMAND succeeded (a failing COMMAND's status wins: it says more);
 * - 126/127 when COMMAND could not be executed / was not found (decided at its start);
 * - 98 (BMT_EXIT_BUDGET) when --max-peak was exceeded and COMMAND succeeded.
 * Pure: no I/O.
 */
#ifndef BMT_STATUS_H
#define BMT_STATUS_H

#include "collector.h"
#include "run.h"

#define BMT_EXIT_BMTRACE 125 /* bmtrace itself could not run, or lost a report */
#define BMT_EXIT_NOEXEC 126  /* COMMAND could not be executed */
#define BMT_EXIT_NOTFOUND 127 /* COMMAND was not found */

/* COMMAND's wait(2) status into run->exit_code and run->signal; its status as a shell's. */
int status_of_wait(struct bmt_run *run, int wstatus);

/*
 * bmtrace's exit status once the run is over: code is COMMAND's (status_of_wait) or 0 for
 * a replay or -p; reports_failed counts the reports that could not be written; r may be
 * NULL when no result could be built.
 */
int status_final(const struct bmt_run *run, const struct bmt_result *r, int code,
		 int reports_failed);

#endif /* BMT_STATUS_H */
