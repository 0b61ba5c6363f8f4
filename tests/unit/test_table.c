// modules: table
/* The hash map against a plain array model, through many random inserts and deletes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>
#include "table.h"

#define KEYS 5000

static void test_random_against_model(void **state)
{
	static uintptr_t model[KEYS]; /* 0: absent */
	struct table t = {};
	unsigned int seed = 42;

	for (int op = 0; op < 400000; op++) {
		/* keys collide on purpose: a small space, multiples of a power of two */
		uint64_t k = (uint64_t)(rand_r(&seed) % KEYS);
		uint64_t key = k << 20;

		if (rand_r(&seed) % 3) {
			uintptr_t v = (uintptr_t)op + 1;

			assert_int_equal(table_put(&t, key, (void *)v), 0);
			model[k] = v;
		} else {
			table_del(&t, key);
			model[k] = 0;
		}
		if (op % 997 == 0)
			for (size_t i = 0; i < KEYS; i++)
				assert_ptr_equal(table_get(&t, (uint64_t)i << 20), (void *)model[i]);
	}
	for (size_t i = 0, n = 0; i < KEYS; i++) {
		assert_ptr_equal(table_get(&t, (uint64_t)i << 20), (void *)model[i]);
		n += model[i] != 0;
		if (i == KEYS - 1)
			assert_int_equal(t.n, n);
	}
	table_free(&t);
}

static void test_empty(void **state)
{
	struct table t = {};

	assert_null(table_get(&t, 7));
	table_del(&t, 7);
	table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
