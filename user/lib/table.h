/* SPDX-License-Identifier: MIT */
/*
 * table - a small hash map from u64 keys to non-NULL pointers, for the hot paths
 * (pids, mm keys, trees). Zero-initialise a struct table to get an empty one.
 * Lookups never see tombstones: deletion shifts entries back.
 */
#ifndef BMT_TABLE_H
#define BMT_TABLE_H

#include <stddef.h>
#include <stdint.h>

struct table {
	uint64_t *keys;
	void **vals;   /* NULL: an empty slot */
	size_t cap, n; /* cap is a power of two (or 0) */
};

/* The value of key, or NULL. */
void *table_get(const struct table *t, uint64_t key);
/* Insert or replace (val != NULL); 0 or -ENOMEM. */
int table_put(struct table *t, uint64_t key, void *val);
void table_del(struct table *t, uint64_t key);
void table_free(struct table *t);

/*
 * Delete every entry pred accepts (pred may free the value when it returns 1), in one pass:
 * deletion shifts later entries back into the freed slot, so that slot is looked at again.
 */
void table_del_if(struct table *t, int (*pred)(uint64_t key, void *val, void *ctx), void *ctx);

/* Iterate: for (size_t i = 0; i < t->cap; i++) if (t->vals[i]) ... (no insertions meanwhile) */

#endif /* BMT_TABLE_H */
