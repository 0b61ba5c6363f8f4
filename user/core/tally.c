// SPDX-License-Identifier: MIT
/* tally - the collector's tables of stages and commands (tally.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bmtrace.h"
#include "tally.h"

int tallies__init(struct tallies *t, const struct stages *rules)
{
	size_t n = stages__count(rules);

	t->rules = rules;
	t->n_stages = n + 1;
	t->default_stage = (int)n;
	t->stages = calloc(t->n_stages, sizeof(*t->stages));
	t->now_stages = calloc(t->n_stages, sizeof(*t->now_stages));
	t->shown = calloc(t->n_stages, sizeof(*t->shown));
	t->sampled = calloc(t->n_stages, sizeof(*t->sampled));
	if (!t->stages || !t->now_stages || !t->shown || !t->sampled)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(t->stages[i].name = strdup(stages__name(rules, i))))
			return -ENOMEM;
	if (!(t->stages[n].name = strdup("(root)")))
		return -ENOMEM;
	return 0;
}

void tallies__free(struct tallies *t)
{
	for (size_t i = 0; t->stages && i < t->n_stages; i++)
		free(t->stages[i].name);
	free(t->stages);
	free(t->now_stages);
	free(t->shown);
	free(t->sampled);
	table_free(&t->cmd_index);
	for (size_t i = 0; i < t->n_cmds; i++) {
		free(t->cmds[i].name);
		sizing__free(&t->cmds[i].sizing);
	}
	free(t->cmds);
	free(t->now_cmds);
}

void tallies__mark_peak(struct tallies *t)
{
	for (size_t i = 0; i < t->n_stages; i++)
		t->stages[i].at_peak = t->stages[i].bytes;
	for (size_t i = 0; i < t->n_cmds; i++)
		t->cmds[i].at_peak = t->cmds[i].bytes;
}

int tallies__moved(const struct tallies *t)
{
	for (size_t i = 0; i < t->n_stages; i++)
		if (t->sampled[i] != t->stages[i].bytes)
			return 1;
	return 0;
}

const uint64_t *tallies__sample(struct tallies *t)
{
	for (size_t i = 0; i < t->n_stages; i++)
		t->sampled[i] = t->stages[i].bytes;
	return t->sampled;
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ull;
	return h;
}

/* Room for one more command (and its level in the live view). */
static int grow(struct tallies *t)
{
	size_t cap = t->cap_cmds ? 2 * t->cap_cmds : 16;
	struct tally *cmds = realloc(t->cmds, cap * sizeof(*cmds));
	struct bmt_level *now = cmds ? realloc(t->now_cmds, cap * sizeof(*now)) : NULL;

	if (cmds)
		t->cmds = cmds;
	if (!now)
		return -ENOMEM;
	t->now_cmds = now;
	t->cap_cmds = cap;
	return 0;
}

int tallies__command(struct tallies *t, const char *name)
{
	uint64_t h = name_hash(name);
	void *hit = table_get(&t->cmd_index, h);
	size_t i;

	if (hit && !strcmp(t->cmds[(uintptr_t)hit - 1].name, name))
		return (int)((uintptr_t)hit - 1);
	for (i = 0; hit && i < t->n_cmds; i++) /* a hash collision: rare, scan */
		if (!strcmp(t->cmds[i].name, name))
			return (int)i;
	if (t->n_cmds == t->cap_cmds && grow(t))
		return -1;
	memset(&t->cmds[t->n_cmds], 0, sizeof(t->cmds[0]));
	t->cmds[t->n_cmds].name = strdup(name);
	if (!t->cmds[t->n_cmds].name)
		return -1;
	if (!hit && table_put(&t->cmd_index, h, (void *)(uintptr_t)(t->n_cmds + 1)))
		return -1;
	return (int)t->n_cmds++;
}

void tallies__name_default(struct tallies *t, const char *name)
{
	char buf[BMT_FILENAME_MAX + 16];
	char *copy;

	if (t->default_named || !*name)
		return;
	t->default_named = 1;
	for (size_t i = 0; i < stages__count(t->rules); i++)
		if (!strcmp(stages__name(t->rules, i), name)) {
			snprintf(buf, sizeof(buf), "%s (root)", name);
			name = buf;
			break;
		}
	copy = strdup(name);
	if (copy) {
		free(t->stages[t->default_stage].name);
		t->stages[t->default_stage].name = copy;
	}
}

size_t tallies__shown(struct tallies *t)
{
	size_t n = 0;

	if (t->stages[t->default_stage].processes || !stages__count(t->rules))
		t->shown[n++] = (size_t)t->default_stage;
	for (size_t i = 0; i < (size_t)t->default_stage; i++)
		t->shown[n++] = i;
	return n;
}

static struct bmt_level level_of(const struct tally *t)
{
	return (struct bmt_level){ t->name, t->bytes, t->peak_bytes, t->peak_ts };
}

void tallies__levels(struct tallies *t, struct bmt_now *now)
{
	now->n_stages = tallies__shown(t);
	for (size_t i = 0; i < now->n_stages; i++)
		t->now_stages[i] = level_of(&t->stages[t->shown[i]]);
	for (size_t i = 0; i < t->n_cmds; i++)
		t->now_cmds[i] = level_of(&t->cmds[i]);
	now->stages = t->now_stages;
	now->commands = t->now_cmds;
	now->n_commands = t->n_cmds;
}
