// SPDX-License-Identifier: MIT
/* budget - a run's peak against its memory budget (budget.h). */
#include <string.h>
#include "budget.h"

/* Instances of `each` bytes that fit in budget beside rest; 0 when each is unknown. */
static uint64_t fit(uint64_t budget, uint64_t rest, uint64_t each)
{
	return each && budget > rest ? (budget - rest) / each : 0;
}

uint64_t budget_peak(const struct bmt_run *run, const struct bmt_result *r)
{
	switch (run->gate) {
	case BMT_GATE_ANON:
		return r->anon_peak.bytes;
	case BMT_GATE_CGROUP:
		return run->cgroup.peak_bytes;
	default:
		return r->peak.bytes;
	}
}

static const char *const gate_names[] = { [BMT_GATE_RSS] = "rss",
					   [BMT_GATE_ANON] = "anon",
					   [BMT_GATE_CGROUP] = "cgroup" };

const char *budget_gate_name(int gate)
{
	return gate >= 0 && gate <= BMT_GATE_CGROUP ? gate_names[gate] : NULL;
}

int budget_gate_parse(const char *name)
{
	for (int g = 0; g <= BMT_GATE_CGROUP; g++)
		if (!strcmp(name, gate_names[g]))
			return g;
	return -1;
}

const char *budget_peak_name(const struct bmt_run *run)
{
	static const char *const names[] = { [BMT_GATE_RSS] = "peak tree RSS",
					     [BMT_GATE_ANON] = "anon peak",
					     [BMT_GATE_CGROUP] = "cgroup peak" };

	return run->gate >= 0 && run->gate <= BMT_GATE_CGROUP ? names[run->gate] : names[0];
}

void budget_observe(struct bmt_run *run, const struct bmt_sample *smp)
{
	uint64_t v = run->gate == BMT_GATE_ANON ? smp->anon_bytes : smp->tree_bytes;

	if (run->budget_bytes && run->gate != BMT_GATE_CGROUP && !run->over_budget_ts &&
	    v > run->budget_bytes)
		run->over_budget_ts = smp->ts;
}

bool budget_eval(const struct bmt_run *run, const struct bmt_result *r, struct budget_eval *e)
{
	const struct bmt_command_result *top = r->n_commands ? &r->commands[0] : NULL;
	uint64_t peak = budget_peak(run, r);

	memset(e, 0, sizeof(*e));
	if (!run->budget_bytes)
		return false;
	e->budget = run->budget_bytes;
	e->exceeded = peak > e->budget;
	e->over_by = e->exceeded ? peak - e->budget : 0;
	e->headroom = e->exceeded ? 0 : e->budget - peak;
	e->over_ts = run->over_budget_ts;
	/*
	 * commands are sorted by bytes at the tree's peak, largest first; whatever else the
	 * gated peak counts (page cache in a cgroup's) is part of the rest
	 */
	if (top && top->bytes_at_peak) {
		e->dominant = top;
		e->rest = peak - (top->bytes_at_peak < peak ? top->bytes_at_peak : peak);
		e->fit_max = fit(e->budget, e->rest, top->max_proc_peak);
		e->fit_p95 = fit(e->budget, e->rest, top->p95_proc_peak);
	}
	return true;
}

bool budget_gate_fails(const struct bmt_run *run, const struct bmt_result *r)
{
	bool succeeded = run->exit_code == 0 || (run->attached && !run->signal);

	return run->budget_gate && run->budget_bytes && budget_peak(run, r) > run->budget_bytes &&
	       succeeded;
}
