// modules: status budget
// SPDX-License-Identifier: MIT
/* bmtrace's exit status: COMMAND's passes through, then lost reports, then the gate. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/wait.h>
#include <cmocka.h>
#include "budget.h"
#include "status.h"

/* A wait status as the kernel encodes it: exit code << 8, or the signal in the low bits. */
#define EXITED(code) ((code) << 8)
#define KILLED(sig) (sig)

static void test_exit_codes_pass_through(void **state)
{
	for (int code = 0; code < 256; code++) {
		struct bmt_run run = { .exit_code = -1 };

		assert_int_equal(status_of_wait(&run, EXITED(code)), code);
		assert_int_equal(run.exit_code, code);
		assert_int_equal(run.signal, 0);
		assert_int_equal(status_final(&run, NULL, code, 0), code);
	}
}

static void test_signal_death_is_128_plus_n(void **state)
{
	struct bmt_run run = { .exit_code = 0 };

	assert_int_equal(status_of_wait(&run, KILLED(SIGKILL)), 137);
	assert_int_equal(run.signal, SIGKILL);
	assert_int_equal(run.exit_code, -1);
	assert_int_equal(status_of_wait(&run, KILLED(SIGINT)), 130);
}

static void test_lost_report(void **state)
{
	struct bmt_run run = { .exit_code = 0 };

	assert_int_equal(status_final(&run, NULL, 0, 1), BMT_EXIT_BMTRACE);
	run.exit_code = 3;
	assert_int_equal(status_final(&run, NULL, 3, 2), 3); /* COMMAND's failure says more */
}

static void test_gate(void **state)
{
	struct bmt_result r = { .peak = { .bytes = 200 } };
	struct bmt_run run = { .exit_code = 0, .budget_bytes = 100, .budget_gate = 1 };

	assert_int_equal(status_final(&run, &r, 0, 0), BMT_EXIT_BUDGET);
	assert_int_equal(status_final(&run, &r, 0, 1), BMT_EXIT_BMTRACE); /* a lost report first */
	run.exit_code = 2;
	assert_int_equal(status_final(&run, &r, 2, 0), 2); /* the gate judges successful runs */
	run.exit_code = 0;
	run.budget_gate = 0; /* --budget reports, never fails */
	assert_int_equal(status_final(&run, &r, 0, 0), 0);
	run.budget_gate = 1;
	r.peak.bytes = 100; /* at the budget is not over it */
	assert_int_equal(status_final(&run, &r, 0, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_codes_pass_through),
		cmocka_unit_test(test_signal_death_is_128_plus_n),
		cmocka_unit_test(test_lost_report),
		cmocka_unit_test(test_gate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
