// SPDX-License-Identifier: MIT
/*
 * mm - the collector's address spaces and their fork baselines (see mm.h).
 *
 * A child's inherited pages are its parent's while the parent holds them: when the parent
 * goes, they are the child's alone, except what the parent itself had inherited from a
 * grandparent that still holds it (mm__pop_child).
 */
#include <stdlib.h>
#include <string.h>
#include "mm.h"

static const int counted_member[M_COUNTED] = { BMT_FILE, BMT_ANON, BMT_SHMEM };

struct mm *mm__get(struct table *mms, uint32_t key)
{
	struct mm *m = table_get(mms, key);

	if (m || !key)
		return m;
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->key = key;
	if (table_put(mms, key, m)) {
		free(m);
		return NULL;
	}
	return m;
}

struct mm *mm__new_seed(struct table *mms, uint32_t pid, const void *bytes)
{
	struct mm *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->key = (BMT_MM_KEY_MAX + 1) | pid;
	m->seed = 1;
	memcpy(m->counter, bytes, sizeof(m->counter));
	if (table_put(mms, m->key, m)) {
		free(m);
		return NULL;
	}
	return m;
}

void mm__wanted(const struct mm *m, uint64_t *v, uint64_t *raw, uint64_t *swap)
{
	*raw = 0;
	*swap = 0;
	for (int i = 0; i < M_COUNTED; i++)
		v[i] = 0;
	if (!m->bound)
		return;
	for (int i = 0; i < M_COUNTED; i++) {
		uint64_t cur = m->counter[counted_member[i]];
		uint64_t base = m->parent ? m->base[counted_member[i]] : 0;

		v[i] = cur > base ? cur - base : 0;
		*raw += cur;
	}
	*swap = m->counter[BMT_SWAP];
}

int mm__all_zero(const struct mm *m)
{
	for (int i = 0; i < BMT_NR_MEMBERS; i++)
		if (m->counter[i])
			return 0;
	return 1;
}

void mm__unlink_child(struct mm *m)
{
	if (!m->parent)
		return;
	if (m->prev_sibling)
		m->prev_sibling->next_sibling = m->next_sibling;
	else
		m->parent->children = m->next_sibling;
	if (m->next_sibling)
		m->next_sibling->prev_sibling = m->prev_sibling;
	m->parent = NULL;
	m->next_sibling = m->prev_sibling = NULL;
}

void mm__link_child(struct mm *parent, struct mm *m)
{
	m->parent = parent;
	m->prev_sibling = NULL;
	m->next_sibling = parent->children;
	if (parent->children)
		parent->children->prev_sibling = m;
	parent->children = m;
}

struct mm *mm__pop_child(struct mm *m)
{
	struct mm *child = m->children;

	if (!child)
		return NULL;
	mm__unlink_child(child);
	if (m->parent) {
		for (int i = 0; i < BMT_NR_MEMBERS; i++)
			if (m->base[i] < child->base[i])
				child->base[i] = m->base[i];
		mm__link_child(m->parent, child);
	}
	return child;
}
