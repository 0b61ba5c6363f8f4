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

static int odd_value(uint64_t key, void *val, void *ctx)
{
	(*(size_t *)ctx)++;
	return (uintptr_t)val & 1;
}

/* One pass deletes exactly the entries the predicate accepts, looking at each at least once. */
static void test_del_if(void **state)
{
	struct table t = {};
	size_t looked = 0, left = 0;

	for (uint64_t k = 0; k < KEYS; k++) /* colliding keys make long shifted clusters */
		assert_int_equal(table_put(&t, k << 20, (void *)(uintptr_t)(k + 1)), 0);
	table_del_if(&t, odd_value, &looked);
	assert_true(looked >= KEYS);
	for (uint64_t k = 0; k < KEYS; k++) {
		void *v = table_get(&t, k << 20);

		if ((k + 1) & 1)
			assert_null(v);
		else
			assert_ptr_equal(v, (void *)(uintptr_t)(k + 1));
		left += v != NULL;
	}
	assert_int_equal(t.n, left);
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
		cmocka_unit_test(test_del_if),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
