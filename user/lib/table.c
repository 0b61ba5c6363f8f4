// SPDX-License-Identifier: MIT
/* table - open addressing with linear probing and backward-shift deletion (see table.h). */
#include <errno.h>
#include <stdlib.h>
#include "table.h"

static size_t slot_of(const struct table *t, uint64_t key)
{
	key *= 0x9E3779B97F4A7C15ull;
	return (key >> 17) & (t->cap - 1);
}

void *table_get(const struct table *t, uint64_t key)
{
	if (!t->n)
		return NULL;
	for (size_t i = slot_of(t, key);; i = (i + 1) & (t->cap - 1)) {
		if (!t->vals[i])
			return NULL;
		if (t->keys[i] == key)
			return t->vals[i];
	}
}

static int table_grow(struct table *t)
{
	struct table bigger = { .cap = t->cap ? 2 * t->cap : 64 };

	bigger.keys = calloc(bigger.cap, sizeof(*bigger.keys));
	bigger.vals = calloc(bigger.cap, sizeof(*bigger.vals));
	if (!bigger.keys || !bigger.vals) {
		free(bigger.keys);
		free(bigger.vals);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->cap; i++)
		if (t->vals[i])
			table_put(&bigger, t->keys[i], t->vals[i]); /* cannot fail: room */
	free(t->keys);
	free(t->vals);
	*t = bigger;
	return 0;
}

/* Insert or replace. */
int table_put(struct table *t, uint64_t key, void *val)
{
	size_t i;

	if ((t->n + 1) * 4 > t->cap * 3 && table_grow(t))
		return -ENOMEM;
	for (i = slot_of(t, key); t->vals[i]; i = (i + 1) & (t->cap - 1))
		if (t->keys[i] == key) {
			t->vals[i] = val;
			return 0;
		}
	t->keys[i] = key;
	t->vals[i] = val;
	t->n++;
	return 0;
}

/* Remove with backward shift, so lookups never need tombstones. */
void table_del(struct table *t, uint64_t key)
{
	size_t i, j;

	if (!t->n)
		return;
	for (i = slot_of(t, key); t->vals[i]; i = (i + 1) & (t->cap - 1))
		if (t->keys[i] == key)
			break;
	if (!t->vals[i])
		return;
	t->vals[i] = NULL;
	t->n--;
	for (j = (i + 1) & (t->cap - 1); t->vals[j]; j = (j + 1) & (t->cap - 1)) {
		size_t home = slot_of(t, t->keys[j]);

		/* move j back to i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			t->keys[i] = t->keys[j];
			t->vals[i] = t->vals[j];
			t->vals[j] = NULL;
			i = j;
		}
	}
}

void table_free(struct table *t)
{
	free(t->keys);
	free(t->vals);
}

void table_del_if(struct table *t, int (*pred)(uint64_t key, void *val, void *ctx), void *ctx)
{
	for (size_t i = 0; i < t->cap;) {
		if (t->vals[i] && pred(t->keys[i], t->vals[i], ctx))
			table_del(t, t->keys[i]); /* an entry may have moved into slot i: look again */
		else
			i++;
	}
}
