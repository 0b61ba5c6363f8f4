// SPDX-License-Identifier: MIT
/*
 * result - the full result from the accounting engine's state (result.h).
 *
 * Built only when asked for after a change: the collector caches what this returns. The
 * arrays are allocated per build; a command's sizing adds the processes still running it
 * (their peak so far) without touching the engine's histograms.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "result.h"
#include "util.h"

struct result {
	struct bmt_result res;
	struct bmt_peak_proc *peak;
	struct bmt_stage_result *stages;
	struct bmt_command_result *cmds;
	struct bmt_alive_proc *alive;
	/* per build, in one block: */
	uint64_t *first;   /* per command: where its group of extra ends (build_alive) */
	uint64_t *at_peak; /* per command: its processes counted at the peak */
	uint64_t *extra;   /* the alive's peaks grouped by command */
};

/* ---- the snapshot ---- */

int snapshot__grow(struct snapshot *s)
{
	struct peak_row *rows = util_grow(s->rows, &s->cap, s->cap, sizeof(*rows), 64);

	if (!rows)
		return -ENOMEM;
	s->rows = rows;
	return 0;
}

void snapshot__clear(struct snapshot *s)
{
	for (size_t i = 0; i < s->n; i++)
		names__put(s->rows[i].names);
	s->n = 0;
}

void snapshot__free(struct snapshot *s)
{
	snapshot__clear(s);
	free(s->rows);
	s->rows = NULL;
	s->cap = 0;
}

/* ---- building ---- */

struct result *result__new(void)
{
	return calloc(1, sizeof(struct result));
}

static void free_arrays(struct result *r)
{
	free(r->peak);
	free(r->stages);
	free(r->cmds);
	free(r->alive);
	free(r->first);
	*r = (struct result){ .res = r->res };
}

void result__free(struct result *r)
{
	if (r)
		free_arrays(r);
	free(r);
}

static const char *comm_of(const struct tally *cmds, const struct names *n)
{
	if (!n)
		return "";
	return n->cmd >= 0 ? cmds[n->cmd].name : n->comm;
}

static int cmp_peak_proc(const void *a, const void *b)
{
	const struct bmt_peak_proc *x = a, *y = b;

	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? 1 : -1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int cmp_cmd(const void *a, const void *b)
{
	const struct bmt_command_result *x = a, *y = b;

	if (x->bytes_at_peak != y->bytes_at_peak)
		return x->bytes_at_peak < y->bytes_at_peak ? 1 : -1;
	if (x->peak_bytes != y->peak_bytes)
		return x->peak_bytes < y->peak_bytes ? 1 : -1;
	return strcmp(x->name, y->name);
}

static int cmp_alive(const void *a, const void *b)
{
	const struct bmt_alive_proc *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void result__rows(const struct peak_row *rows, size_t n, const struct tally *stages,
		  const struct tally *cmds, struct bmt_peak_proc *out)
{
	for (size_t i = 0; i < n; i++) {
		const struct peak_row *row = &rows[i];
		const struct names *nm = row->names;

		out[i] = (struct bmt_peak_proc){
			.pid = row->pid,
			.ppid = row->ppid,
			.comm = comm_of(cmds, nm),
			.argv = nm ? nm->argv : NULL,
			.stage = stages[row->stage].name,
			.bytes = row->anon + row->file + row->shmem,
			.anon_bytes = row->anon,
			.file_bytes = row->file,
			.shmem_bytes = row->shmem,
		};
	}
	if (n)
		qsort(out, n, sizeof(*out), cmp_peak_proc);
}

/* The processes at the peak, largest first. */
static void build_peak(struct result *r, const struct result_src *src)
{
	const struct snapshot *s = src->peak;

	result__rows(s->rows, s->n, src->stages, src->cmds, r->peak);
	for (size_t i = 0; i < s->n; i++)
		if (s->rows[i].names && s->rows[i].names->cmd >= 0)
			r->at_peak[s->rows[i].names->cmd]++;
}

/*
 * The alive by pid, and their peaks grouped by command for the sizing (a counting sort:
 * afterwards, command i's group is extra[i ? first[i - 1] : 0 .. first[i]), sorted).
 */
static void build_alive(struct result *r, const struct result_src *src)
{
	for (size_t i = 0; i < src->now.alive; i++) {
		const struct names *nm = src->alive[i].names;

		r->alive[i] = (struct bmt_alive_proc){ src->alive[i].pid, comm_of(src->cmds, nm) };
		if (nm && nm->cmd >= 0)
			r->first[nm->cmd + 1]++;
	}
	qsort(r->alive, src->now.alive, sizeof(*r->alive), cmp_alive);
	for (size_t i = 0; i < src->now.n_commands; i++)
		r->first[i + 1] += r->first[i];
	for (size_t i = 0; i < src->now.alive; i++) {
		const struct names *nm = src->alive[i].names;

		if (nm && nm->cmd >= 0)
			r->extra[r->first[nm->cmd]++] = src->alive[i].cmd_peak;
	}
	for (size_t i = 0; i < src->now.n_commands; i++) {
		size_t from = i ? r->first[i - 1] : 0;

		qsort(r->extra + from, r->first[i] - from, sizeof(*r->extra), cmp_u64);
	}
}

/*
 * Command i's largest process: the one that left it at its largest, or one still running
 * it that is larger now. Its pid and argv; *argv NULL when none was measured.
 */
static uint32_t largest(const struct result_src *src, size_t i, char *const **argv)
{
	const struct tally *t = &src->cmds[i];
	uint64_t max = t->max_names ? t->sizing.max : 0;
	uint32_t pid = t->max_names ? t->max_pid : 0;

	*argv = t->max_names ? t->max_names->argv : NULL;
	for (size_t k = 0; k < src->now.alive; k++) {
		const struct live_proc *p = &src->alive[k];

		if (p->names && p->names->cmd == (int)i && (!pid || p->cmd_peak > max)) {
			max = p->cmd_peak;
			pid = p->pid;
			*argv = p->names->argv;
		}
	}
	return pid;
}

/* Commands with their sizing (processes still running count with their peak so far). */
static void build_cmds(struct result *r, const struct result_src *src)
{
	for (size_t i = 0; i < src->now.n_commands; i++) {
		const struct tally *t = &src->cmds[i];
		size_t from = i ? r->first[i - 1] : 0;
		struct sizing_summary sz;

		sizing__summary(&t->sizing, r->extra + from, r->first[i] - from, &sz);
		r->cmds[i] = (struct bmt_command_result){
			.name = t->name,
			.bytes_at_peak = t->at_peak,
			.peak_bytes = t->peak_bytes,
			.peak_ts = t->peak_ts,
			.processes = t->processes,
			.max_proc_peak = sz.max,
			.p50_proc_peak = sz.p50,
			.p95_proc_peak = sz.p95,
			.max_instances = t->max_live,
			.instances_at_peak = r->at_peak[i],
			.bytes_now = t->bytes,
		};
		r->cmds[i].max_proc_pid = largest(src, i, &r->cmds[i].max_proc_argv);
	}
	qsort(r->cmds, src->now.n_commands, sizeof(*r->cmds), cmp_cmd);
}

static void build_stages(struct result *r, const struct result_src *src)
{
	for (size_t i = 0; i < src->now.n_stages; i++) {
		const struct tally *t = &src->stages[src->shown[i]];

		r->stages[i] = (struct bmt_stage_result){ t->name, t->at_peak, t->peak_bytes,
							  t->peak_ts, t->processes, t->bytes };
	}
}

const struct bmt_result *result__build(struct result *r, const struct result_src *src)
{
	struct bmt_result *res = &r->res;
	size_t n_alive = src->now.alive, n_cmds = src->now.n_commands;

	free_arrays(r);
	r->peak = calloc(src->peak->n + 1, sizeof(*r->peak));
	r->stages = calloc(src->now.n_stages + 1, sizeof(*r->stages));
	r->cmds = calloc(n_cmds + 1, sizeof(*r->cmds));
	r->alive = calloc(n_alive + 1, sizeof(*r->alive));
	r->first = calloc(2 * (n_cmds + 1) + n_alive + 1, sizeof(*r->first));
	if (!r->peak || !r->stages || !r->cmds || !r->alive || !r->first) {
		free_arrays(r);
		errno = ENOMEM;
		return NULL;
	}
	r->at_peak = r->first + n_cmds + 1;
	r->extra = r->at_peak + n_cmds + 1;
	build_peak(r, src);
	build_alive(r, src);
	build_cmds(r, src);
	build_stages(r, src);
	*res = (struct bmt_result){
		.peak = src->now.peak,
		.peak_procs = r->peak,
		.n_peak_procs = src->peak->n,
		.anon_peak = src->anon_peak,
		.raw_peak = src->raw_peak,
		.swap_at_peak = src->swap_at_peak,
		.swap_peak = src->swap_peak,
		.stages = r->stages,
		.n_stages = src->now.n_stages,
		.commands = r->cmds,
		.n_commands = src->now.n_commands,
		.alive = r->alive,
		.n_alive = src->now.alive,
		.processes_total = src->now.processes_total,
		.events = src->now.events,
		.rejected = src->now.rejected,
		.first_ts = src->now.first_ts,
		.last_ts = src->now.last_ts,
		.tree_bytes_now = src->now.tree_bytes,
		.anon_bytes_now = src->now.anon_bytes,
	};
	return res;
}
