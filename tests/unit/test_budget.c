// modules: budget
// SPDX-License-Identifier: MIT
/* budget: headroom, excess, the gate's conditions, and how many instances fit. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "budget.h"

#define MiB (1024ull * 1024)

struct fx {
	struct bmt_run run;
	struct bmt_result r;
	struct bmt_command_result cmds[2];
};

/* 4 cc1plus at 600 MiB at the peak (2400), the rest of the tree 300: a peak of 2700 MiB. */
static void init(struct fx *x, uint64_t budget, int gate)
{
	memset(x, 0, sizeof(*x));
	x->run.exit_code = 0;
	x->run.budget_bytes = budget;
	x->run.budget_gate = gate;
	x->run.over_budget_ts = 42;
	x->cmds[0] = (struct bmt_command_result){ .name = "cc1plus", .bytes_at_peak = 2400 * MiB,
						  .processes = 40, .max_proc_peak = 700 * MiB,
						  .p95_proc_peak = 620 * MiB,
						  .instances_at_peak = 4 };
	x->cmds[1] = (struct bmt_command_result){ .name = "make", .bytes_at_peak = 300 * MiB };
	x->r.commands = x->cmds;
	x->r.n_commands = 2;
	x->r.peak.bytes = 2700 * MiB;
}

static void test_no_budget(void **state)
{
	struct budget_eval e;
	struct fx x;

	init(&x, 0, 0);
	assert_false(budget_eval(&x.run, &x.r, &e));
	assert_null(e.dominant);
	assert_false(budget_gate_fails(&x.run, &x.r));
}

static void test_headroom_and_fit(void **state)
{
	struct budget_eval e;
	struct fx x;

	init(&x, 4096 * MiB, 1);
	assert_true(budget_eval(&x.run, &x.r, &e));
	assert_false(e.exceeded);
	assert_int_equal(e.headroom, 1396 * MiB);
	assert_int_equal(e.over_by, 0);
	assert_ptr_equal(e.dominant, &x.cmds[0]);
	assert_int_equal(e.rest, 300 * MiB);
	/* (4096 - 300) / 700 = 5.42; / 620 = 6.12 */
	assert_int_equal(e.fit_max, 5);
	assert_int_equal(e.fit_p95, 6);
	assert_false(budget_gate_fails(&x.run, &x.r));
}

static void test_exceeded(void **state)
{
	struct budget_eval e;
	struct fx x;

	init(&x, 2600 * MiB, 1);
	assert_true(budget_eval(&x.run, &x.r, &e));
	assert_true(e.exceeded);
	assert_int_equal(e.over_by, 100 * MiB);
	assert_int_equal(e.headroom, 0);
	assert_int_equal(e.over_ts, 42);
	assert_int_equal(e.fit_max, 3); /* 2300 / 700 */
	assert_true(budget_gate_fails(&x.run, &x.r));
	/* exactly at the budget is within it */
	x.run.budget_bytes = x.r.peak.bytes;
	assert_false(budget_gate_fails(&x.run, &x.r));
}

/* The gate fails a successful run only; --budget never fails one. */
static void test_gate_conditions(void **state)
{
	struct fx x;

	init(&x, 1 * MiB, 1);
	assert_true(budget_gate_fails(&x.run, &x.r));
	x.run.exit_code = 2;
	assert_false(budget_gate_fails(&x.run, &x.r));
	x.run.exit_code = -1;
	x.run.signal = 9;
	assert_false(budget_gate_fails(&x.run, &x.r));
	/* -p: the status is unknown, no signal ended tracing: the gate applies */
	x.run.signal = 0;
	x.run.attached = 1;
	assert_true(budget_gate_fails(&x.run, &x.r));
	init(&x, 1 * MiB, 0);
	assert_false(budget_gate_fails(&x.run, &x.r));
}

/* Nothing fits when the rest alone fills the budget; unknown sizing fits nothing. */
static void test_fit_edges(void **state)
{
	struct budget_eval e;
	struct fx x;

	init(&x, 200 * MiB, 0);
	assert_true(budget_eval(&x.run, &x.r, &e));
	assert_int_equal(e.fit_max, 0);
	init(&x, 4096 * MiB, 0);
	x.cmds[0].max_proc_peak = 0;
	x.cmds[0].p95_proc_peak = 0;
	assert_true(budget_eval(&x.run, &x.r, &e));
	assert_int_equal(e.fit_max, 0);
	assert_int_equal(e.fit_p95, 0);
	/* no command held anything at the peak: none dominates */
	x.r.n_commands = 0;
	assert_true(budget_eval(&x.run, &x.r, &e));
	assert_null(e.dominant);
}

/* --gate: the anon peak or the cgroup's is judged instead, the rest holds what else it counts. */
static void test_gate(void **state)
{
	struct budget_eval e;
	struct fx x;

	init(&x, 2600 * MiB, 1);
	x.r.anon_peak.bytes = 2500 * MiB;
	x.run.cgroup.peak_bytes = 2900 * MiB;
	x.run.gate = BMT_GATE_ANON;
	assert_true(budget_eval(&x.run, &x.r, &e));
	assert_false(e.exceeded);
	assert_int_equal(e.headroom, 100 * MiB);
	assert_int_equal(e.rest, 100 * MiB);
	assert_false(budget_gate_fails(&x.run, &x.r));
	assert_string_equal(budget_peak_name(&x.run), "anon peak");
	x.run.gate = BMT_GATE_CGROUP;
	assert_int_equal(budget_peak(&x.run, &x.r), 2900 * MiB);
	assert_true(budget_eval(&x.run, &x.r, &e));
	assert_int_equal(e.over_by, 300 * MiB);
	assert_int_equal(e.rest, 500 * MiB); /* the cgroup's page cache and kernel memory too */
	assert_true(budget_gate_fails(&x.run, &x.r));
	assert_string_equal(budget_peak_name(&x.run), "cgroup peak");
	x.run.gate = BMT_GATE_RSS;
	assert_int_equal(budget_peak(&x.run, &x.r), 2700 * MiB);
	assert_string_equal(budget_peak_name(&x.run), "peak tree RSS");
}

/* The first change of the tree total above the budget is kept; later ones do not move it. */
static void test_observe_first_crossing(void **state)
{
	struct bmt_run run = { .budget_bytes = 100 };
	const uint64_t totals[][2] = { { 10, 50 }, { 20, 100 }, { 30, 101 }, { 40, 90 }, { 50, 200 } };

	for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++)
		budget_observe(&run, &(struct bmt_sample){ .ts = totals[i][0],
							    .tree_bytes = totals[i][1] });
	assert_int_equal(run.over_budget_ts, 30); /* 100 is not over a budget of 100 */
	run = (struct bmt_run){ 0 };
	budget_observe(&run, &(struct bmt_sample){ .ts = 5, .tree_bytes = 1ull << 40 });
	assert_int_equal(run.over_budget_ts, 0); /* no budget: nothing to cross */
	/* --gate anon: the anon total crosses; --gate cgroup: not seen live */
	run = (struct bmt_run){ .budget_bytes = 100, .gate = BMT_GATE_ANON };
	budget_observe(&run, &(struct bmt_sample){ .ts = 7, .tree_bytes = 500, .anon_bytes = 90 });
	budget_observe(&run, &(struct bmt_sample){ .ts = 8, .tree_bytes = 500, .anon_bytes = 101 });
	assert_int_equal(run.over_budget_ts, 8);
	run = (struct bmt_run){ .budget_bytes = 100, .gate = BMT_GATE_CGROUP };
	budget_observe(&run, &(struct bmt_sample){ .ts = 9, .tree_bytes = 500, .anon_bytes = 500 });
	assert_int_equal(run.over_budget_ts, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gate),
		cmocka_unit_test(test_no_budget),	 cmocka_unit_test(test_headroom_and_fit),
		cmocka_unit_test(test_exceeded),	 cmocka_unit_test(test_gate_conditions),
		cmocka_unit_test(test_fit_edges),	 cmocka_unit_test(test_observe_first_crossing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
