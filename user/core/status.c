// SPDX-License-Identifier: MIT
/* status - bmtrace's exit status (status.h). */
#include <sys/wait.h>
#include "budget.h"
#include "status.h"

int status_of_wait(struct bmt_run *run, int wstatus)
{
	if (WIFSIGNALED(wstatus)) {
		run->signal = WTERMSIG(wstatus);
		run->exit_code = -1;
		return 128 + WTERMSIG(wstatus);
	}
	run->exit_code = WEXITSTATUS(wstatus);
	return run->exit_code;
}

int status_final(const struct bmt_run *run, const struct bmt_result *r, int code,
		 int reports_failed)
{
	if (reports_failed)
		return code ? code : BMT_EXIT_BMTRACE;
	if (!code && r && budget_gate_fails(run, r))
		return BMT_EXIT_BUDGET;
	return code;
}
