// SPDX-License-Identifier: MIT
/*
 * report_json - the result as JSON schema 1 (docs/JSON.md: fields are added, never renamed).
 *
 * Byte counts and counters are printed from their uint64_t as raw JSON integers: cJSON
 * prints doubles of 10^15 and more in exponent form, and loses digits past 2^53. Strings
 * come from other processes (comm, argv): invalid UTF-8 is replaced with U+FFFD so the
 * output stays valid JSON; cJSON escapes quotes and control characters.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "budget.h"
#include "deaths.h"
#include "report.h"
#include "util.h"

#ifndef BMT_VERSION
#define BMT_VERSION "0.0.0"
#endif

#define JSON_SCHEMA 1

struct json {
	const struct bmt_run *run;
	const struct bmt_result *r;
	bool failed; /* an allocation failed: the document is incomplete */
};


static cJSON *str_item(const char *s)
{
	char *clean = util_utf8_clean(s, 0);
	cJSON *item;

	if (!clean)
		return NULL;
	item = cJSON_CreateString(clean);
	free(clean);
	return item;
}

static cJSON *u64_item(uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return cJSON_CreateRaw(buf);
}

/* Seconds since the run's time zero; 0 for a time before it. */
static cJSON *time_item(const struct json *j, uint64_t ts)
{
	return cJSON_CreateNumber(run_rel_s(j->run, ts));
}

/*
 * Attach item to obj (an object when name is set, else an array). Returns item, or NULL
 * after freeing it and marking the document failed. A NULL obj (an earlier failure) or
 * item (a failed allocation) fails, so callers check once, at the end.
 */
static cJSON *put(struct json *j, cJSON *obj, const char *name, cJSON *item)
{
	bool ok = name ? cJSON_AddItemToObject(obj, name, item) : cJSON_AddItemToArray(obj, item);

	if (!ok) {
		cJSON_Delete(item);
		j->failed = true;
		return NULL;
	}
	return item;
}

static cJSON *argv_item(struct json *j, char *const *argv)
{
	cJSON *arr = cJSON_CreateArray();

	for (; arr && argv && *argv; argv++)
		put(j, arr, NULL, str_item(*argv));
	return arr;
}

/* A process's object in arr, with who it is (and its bytes) filled in. */
static cJSON *add_proc(struct json *j, cJSON *arr, uint32_t pid, uint32_t ppid, const char *comm,
		       char *const *argv, const char *stage)
{
	cJSON *o = put(j, arr, NULL, cJSON_CreateObject());

	put(j, o, "pid", u64_item(pid));
	put(j, o, "ppid", u64_item(ppid));
	put(j, o, "comm", str_item(comm));
	put(j, o, "argv", argv_item(j, argv));
	put(j, o, "stage", str_item(stage));
	return o;
}

static void add_peak_proc(struct json *j, cJSON *arr, const struct bmt_peak_proc *p)
{
	cJSON *o = add_proc(j, arr, p->pid, p->ppid, p->comm, p->argv, p->stage);

	put(j, o, "bytes", u64_item(p->bytes));
	put(j, o, "anon_bytes", u64_item(p->anon_bytes));
	put(j, o, "file_bytes", u64_item(p->file_bytes));
	put(j, o, "shmem_bytes", u64_item(p->shmem_bytes));
}

static void add_peak(struct json *j, cJSON *root)
{
	const struct bmt_result *r = j->r;
	cJSON *peak = put(j, root, "peak", cJSON_CreateObject());
	cJSON *procs;
	size_t i;

	put(j, peak, "bytes", u64_item(r->peak.bytes));
	put(j, peak, "time_s", time_item(j, r->peak.ts));
	put(j, peak, "anon_bytes", u64_item(r->peak.anon_bytes));
	put(j, peak, "file_bytes", u64_item(r->peak.file_bytes));
	put(j, peak, "shmem_bytes", u64_item(r->peak.shmem_bytes));
	procs = put(j, peak, "processes", cJSON_CreateArray());
	for (i = 0; procs && i < r->n_peak_procs; i++)
		add_peak_proc(j, procs, &r->peak_procs[i]);
}

static void add_simple_peak(struct json *j, cJSON *root, const char *name,
			    const struct bmt_peak *p)
{
	cJSON *o = put(j, root, name, cJSON_CreateObject());

	put(j, o, "bytes", u64_item(p->bytes));
	put(j, o, "time_s", time_item(j, p->ts));
}

/* A stage's or a command's object in arr, with the fields both have first: name and bytes. */
static cJSON *add_group(struct json *j, cJSON *arr, const char *name, uint64_t bytes_at_peak,
			uint64_t peak_bytes)
{
	cJSON *o = put(j, arr, NULL, cJSON_CreateObject());

	put(j, o, "name", str_item(name));
	put(j, o, "bytes_at_peak", u64_item(bytes_at_peak));
	put(j, o, "peak_bytes", u64_item(peak_bytes));
	return o;
}

static void add_stages(struct json *j, cJSON *root)
{
	cJSON *arr = put(j, root, "stages", cJSON_CreateArray());
	size_t i;

	for (i = 0; arr && i < j->r->n_stages; i++) {
		const struct bmt_stage_result *s = &j->r->stages[i];
		cJSON *o = add_group(j, arr, s->name, s->bytes_at_peak, s->peak_bytes);

		put(j, o, "peak_time_s", time_item(j, s->peak_ts));
		put(j, o, "processes", u64_item(s->processes));
	}
}

/* The names of the stage rules that matched no process. */
static void add_unmatched(struct json *j, cJSON *root)
{
	cJSON *arr = put(j, root, "unmatched_stage_rules", cJSON_CreateArray());

	for (size_t i = 0; arr && i < j->r->n_stages; i++)
		if (!j->r->stages[i].processes)
			put(j, arr, NULL, str_item(j->r->stages[i].name));
}

static void add_commands(struct json *j, cJSON *root)
{
	cJSON *arr = put(j, root, "commands", cJSON_CreateArray());
	size_t i;

	for (i = 0; arr && i < j->r->n_commands; i++) {
		const struct bmt_command_result *c = &j->r->commands[i];
		cJSON *o = add_group(j, arr, c->name, c->bytes_at_peak, c->peak_bytes);

		put(j, o, "processes", u64_item(c->processes));
		put(j, o, "peak_time_s", time_item(j, c->peak_ts));
		put(j, o, "max_proc_peak_bytes", u64_item(c->max_proc_peak));
		/* the process of max_proc_peak_bytes: the culprit, by pid and argv */
		put(j, o, "max_proc_pid", c->max_proc_pid ? u64_item(c->max_proc_pid) :
							  cJSON_CreateNull());
		put(j, o, "max_proc_argv", c->max_proc_argv ? argv_item(j, c->max_proc_argv) :
							     cJSON_CreateNull());
		put(j, o, "p50_proc_peak_bytes", u64_item(c->p50_proc_peak));
		put(j, o, "p95_proc_peak_bytes", u64_item(c->p95_proc_peak));
		put(j, o, "max_instances", u64_item(c->max_instances));
		put(j, o, "instances_at_peak", u64_item(c->instances_at_peak));
	}
}

static void add_still_running(struct json *j, cJSON *root)
{
	cJSON *arr = put(j, root, "still_running", cJSON_CreateArray());
	size_t i;

	for (i = 0; arr && i < j->r->n_alive; i++) {
		cJSON *o = put(j, arr, NULL, cJSON_CreateObject());

		put(j, o, "pid", u64_item(j->r->alive[i].pid));
		put(j, o, "comm", str_item(j->r->alive[i].comm));
	}
}

/* The fields of schema 1, in its order. */
static void add_schema1(struct json *j, cJSON *root)
{
	const struct bmt_run *run = j->run;

	put(j, root, "schema", u64_item(JSON_SCHEMA));
	put(j, root, "bmtrace_version", str_item(BMT_VERSION));
	put(j, root, "command", argv_item(j, run->argv));
	/* null when unknown: killed by a signal (see "signal"), or -p (not our child) */
	put(j, root, "exit_code", run->exit_code >= 0 ? cJSON_CreateNumber(run->exit_code) :
							 cJSON_CreateNull());
	put(j, root, "signal", run->signal ? cJSON_CreateNumber(run->signal) : cJSON_CreateNull());
	put(j, root, "duration_s", time_item(j, run->end_ts));
	add_peak(j, root);
	add_simple_peak(j, root, "anon_peak", &j->r->anon_peak);
	add_simple_peak(j, root, "raw_sum_peak", &j->r->raw_peak);
	add_stages(j, root);
	add_commands(j, root);
	put(j, root, "processes_total", u64_item(j->r->processes_total));
	put(j, root, "events", u64_item(run->stats.events));
	put(j, root, "lost_events", u64_item(run->stats.lost));
	put(j, root, "cgroup_peak_bytes", run->cgroup.version ? u64_item(run->cgroup.peak_bytes)
							      : cJSON_CreateNull());
}

/* A figure the kernel may not keep: null then. */
static cJSON *maybe_u64(uint64_t v)
{
	return v == BMT_CGROUP_NONE ? cJSON_CreateNull() : u64_item(v);
}

/* --cgroup: the run's memory cgroup; null without. */
static void add_cgroup(struct json *j, cJSON *root)
{
	const struct bmt_cgroup *cg = &j->run->cgroup;
	cJSON *o;

	if (!cg->version) {
		put(j, root, "cgroup", cJSON_CreateNull());
		return;
	}
	o = put(j, root, "cgroup", cJSON_CreateObject());
	put(j, o, "path", str_item(cg->path));
	put(j, o, "version", u64_item((uint64_t)cg->version));
	put(j, o, "peak_bytes", u64_item(cg->peak_bytes));
	put(j, o, "limit_bytes", maybe_u64(cg->limit_bytes));
	put(j, o, "oom_kills", u64_item(cg->oom_kills));
	put(j, o, "swap_peak_bytes", maybe_u64(cg->swap_peak_bytes));
	put(j, o, "memsw_peak_bytes", maybe_u64(cg->memsw_peak_bytes));
}

/* Every tree process that died of a signal; for OOM kills, who held the memory then. */
static void add_killed(struct json *j, cJSON *root)
{
	size_t n = 0;
	const struct bmt_death *l = j->run->deaths ? deaths__list(j->run->deaths, &n) : NULL;
	cJSON *arr = put(j, root, "killed", cJSON_CreateArray()), *holders;

	for (size_t i = 0; arr && i < n; i++) {
		cJSON *o = add_proc(j, arr, l[i].pid, l[i].ppid, l[i].comm, l[i].argv, l[i].stage);

		put(j, o, "signal", u64_item((uint64_t)l[i].signal));
		put(j, o, "oom", cJSON_CreateBool(l[i].oom));
		put(j, o, "time_s", time_item(j, l[i].ts));
		put(j, o, "bytes", u64_item(l[i].bytes));
		put(j, o, "tree_bytes", u64_item(l[i].tree_bytes));
		put(j, o, "tree_anon_bytes", u64_item(l[i].anon_bytes));
		holders = put(j, o, "holders", l[i].oom ? cJSON_CreateArray() : cJSON_CreateNull());
		for (size_t k = 0; l[i].oom && holders && k < l[i].n_holders; k++)
			add_peak_proc(j, holders, &l[i].holders[k]);
	}
	put(j, root, "oom_kills", u64_item(j->run->deaths ? deaths__oom_kills(j->run->deaths) : 0));
}

/* --max-peak / --budget: null without one. */
static void add_budget(struct json *j, cJSON *root)
{
	struct budget_eval e;
	cJSON *o, *d;

	if (!budget_eval(j->run, j->r, &e)) {
		put(j, root, "budget", cJSON_CreateNull());
		return;
	}
	o = put(j, root, "budget", cJSON_CreateObject());
	put(j, o, "bytes", u64_item(e.budget));
	put(j, o, "option", str_item(j->run->budget_gate ? "max-peak" : "budget"));
	put(j, o, "gate", str_item(budget_gate_name(j->run->gate)));
	put(j, o, "exceeded", cJSON_CreateBool(e.exceeded));
	put(j, o, "fails_run", cJSON_CreateBool(budget_gate_fails(j->run, j->r)));
	put(j, o, "over_by_bytes", u64_item(e.over_by));
	put(j, o, "first_exceeded_time_s",
	    e.over_ts ? time_item(j, e.over_ts) : cJSON_CreateNull());
	put(j, o, "headroom_bytes", u64_item(e.headroom));
	if (!e.dominant) {
		put(j, o, "dominant_command", cJSON_CreateNull());
		return;
	}
	d = put(j, o, "dominant_command", cJSON_CreateObject());
	put(j, d, "name", str_item(e.dominant->name));
	put(j, d, "bytes_at_peak", u64_item(e.dominant->bytes_at_peak));
	put(j, d, "instances_at_peak", u64_item(e.dominant->instances_at_peak));
	put(j, d, "rest_of_tree_bytes", u64_item(e.rest));
	put(j, d, "fit_at_max_proc_peak", u64_item(e.fit_max));
	put(j, d, "fit_at_p95_proc_peak", u64_item(e.fit_p95));
}

/* Fields added to schema 1. */
static void add_extras(struct json *j, cJSON *root)
{
	const struct bmt_run *run = j->run;
	const struct bmt_stats *st = &run->stats;
	char kernel[BMT_KERNEL_LEN + 1];
	bool lower_bound = st->lost || st->unpaired || st->procs_full || st->mms_full;

	put(j, root, "swap_at_peak_bytes", u64_item(j->r->swap_at_peak));
	add_simple_peak(j, root, "swap_peak", &j->r->swap_peak);
	put(j, root, "unpaired_events", u64_item(st->unpaired));
	put(j, root, "untraced_processes", u64_item(st->procs_full));
	put(j, root, "untraced_mms", u64_item(st->mms_full));
	put(j, root, "peak_is_lower_bound", cJSON_CreateBool(lower_bound));
	put(j, root, "attached_pid",
	    run->attached ? u64_item(run->root_pid) : cJSON_CreateNull());
	add_still_running(j, root);
	/* A trace file's header may fill kernel[] to the brim, without a NUL. */
	snprintf(kernel, sizeof(kernel), "%.*s", BMT_KERNEL_LEN, run->kernel);
	put(j, root, "kernel", str_item(kernel));
	put(j, root, "page_size", u64_item(run->page_size));
	put(j, root, "counter_source",
	    str_item(run->counter_source[0] ? run->counter_source : "tracepoint"));
	put(j, root, "thread_batch_faults", u64_item(run->thread_batch));
	add_budget(j, root);
	add_unmatched(j, root);
	add_killed(j, root);
	add_cgroup(j, root);
}

static int write_text(FILE *f, void *ctx)
{
	if (fputs(ctx, f) == EOF || fputc('\n', f) == EOF)
		return errno ? -errno : -EIO;
	return 0;
}

int report_json(const char *path, const struct bmt_run *run, const struct bmt_result *r)
{
	struct json j = { .run = run, .r = r };
	cJSON *root = cJSON_CreateObject();
	char *text = NULL;
	int err;

	if (root) {
		add_schema1(&j, root);
		add_extras(&j, root);
		if (!j.failed)
			text = cJSON_Print(root);
	}
	cJSON_Delete(root);
	if (!text)
		return -ENOMEM;
	err = util_write_atomic(path, write_text, text);
	cJSON_free(text);
	return err;
}
