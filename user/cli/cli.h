/* SPDX-License-Identifier: MIT */
/* cli - options into one config struct (interface.md). Pure: no I/O besides --help text. */
#ifndef BMT_CLI_H
#define BMT_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "outputs.h"
#include "prom.h"
#include "stages.h"

enum bmt_mode {
	MODE_RUN,    /* bmtrace [OPTIONS] -- COMMAND */
	MODE_PID,    /* bmtrace [OPTIONS] -p PID */
	MODE_REPORT, /* bmtrace report [OPTIONS] TRACE */
	MODE_DIFF,   /* bmtrace diff [OPTIONS] BEFORE.json AFTER.json */
	MODE_SERVE,  /* bmtrace serve [OPTIONS]: a long-running exporter of many trees */
};

struct config {
	enum bmt_mode mode;
	char **argv;          /* COMMAND (MODE_RUN) */
	uint32_t pid;         /* MODE_PID */
	const char *trace;    /* MODE_REPORT */
	/* the files to write (outputs.h), NULL when not asked for; out[BMT_OUT_SUMMARY] is -o
	 * (default stderr), in diff mode too */
	const char *out[BMT_N_OUTPUTS];
	const char *user;     /* -u */
	char **stage_specs;   /* --stage, in order, then --stages'; NULL-terminated */
	size_t n_stage_specs;
	const char *stages_preset; /* --stages NAME: its rules are in stage_specs, after --stage's */
	struct stages *stages; /* the --stage rules compiled (never NULL after a parse) */
	int quiet, verbose, wait_all;
	int progress;         /* --progress: a live status line on stderr when it is a terminal */
	uint64_t ring_bytes;  /* --ring-size; 0 = default */
	unsigned int max_procs; /* --max-processes; 0 = default (BMT_MAX_PROCS) */
	const char *listen;   /* --listen ADDR:PORT: Prometheus /metrics while tracing */
	unsigned int linger;  /* --linger SECONDS: keep serving the final values */
	const char *pushgateway, *job; /* --pushgateway URL --job NAME: push-add at the end */
	const char *instance; /* --instance NAME: the push's group (NULL: the host name) */
	/* --label NAME=VALUE, in order: on every series of --listen, --prometheus, --push;
	 * each name is malloc'd with its value after it (free the name only) */
	struct prom_label *labels;
	size_t n_labels;
	uint64_t budget_bytes; /* --max-peak or --budget; 0 = none */
	int budget_gate;      /* it is --max-peak: exceeding it fails a successful run */
	int gate;             /* --gate: enum bmt_gate (run.h), which peak the budget judges */
	int cgroup;           /* --cgroup (or --memory-max): COMMAND in a memory cgroup of its own */
	uint64_t memory_max;  /* --memory-max; 0: no limit */
	/* MODE_SERVE (with listen, user, stage_specs, verbose) */
	char **serve_roots;   /* --root NAME, NULL-terminated */
	size_t n_serve_roots;
	char **cg_parents;    /* --cgroup-parent DIR, NULL-terminated */
	size_t n_cg_parents;
	unsigned int expire_s; /* --expire: ended trees stay this long in /metrics */
	unsigned int max_trees;
	struct prom_label *label_envs; /* --label-env NAME=VAR (value: VAR), as labels above */
	size_t n_label_envs;
	uint64_t min_peak;    /* --min-peak SIZE: ended trees under it are not exported; 0: off */
	/* MODE_DIFF: -o is the output (out[BMT_OUT_SUMMARY]), --json a flag */
	const char *before, *after;
	int diff_json;
	int fail_if_peak_grows; /* --fail-if-peak-grows PCT given */
	double max_growth_pct;
};

/*
 * Parse argv. Returns 0 to run, 1 when --help or --version was printed to out (exit 0),
 * or -EINVAL with a one-line reason in err naming the option (-ENOMEM likewise). The stage
 * rules are compiled here (stages.c), once. cli_free releases what a parse made, whatever
 * it returned.
 */
int cli_parse(int argc, char **argv, struct config *cfg, FILE *out, char *err, size_t errlen);
void cli_free(struct config *cfg);

/*
 * The help of mode (MODE_RUN and MODE_PID: bmtrace's own) on out (help.c): one text per
 * subcommand, the option lists the tracing modes and report share written once. The man
 * page (doc/man.sh) and the shell completions are made from them.
 */
void cli_help(enum bmt_mode mode, FILE *out);

#endif /* BMT_CLI_H */
