// SPDX-License-Identifier: MIT
/* cli - parse bmtrace's command line (see cli.h and interface.md). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bmtrace.h"
#include "budget.h"
#include "cli.h"
#include "escape.h"
#include "util.h"

#ifndef BMT_VERSION
#define BMT_VERSION "0.0.0"
#endif

enum {
	OPT_JSON = 256, OPT_STAGE, OPT_STAGES, OPT_WAIT_ALL, OPT_PROGRESS, OPT_RING, OPT_MAX_PEAK,
	OPT_BUDGET, OPT_FAIL_GROWS, OPT_LISTEN, OPT_LINGER, OPT_PUSH, OPT_JOB, OPT_MAX_PROCS,
	OPT_INSTANCE, OPT_LABEL, OPT_LABEL_ENV, OPT_MIN_PEAK, OPT_CGROUP, OPT_MEMORY_MAX, OPT_GATE,
	OPT_OUT, /* OPT_OUT + enum bmt_output: the outputs without a short option */
};

/* An output's getopt value: its short option, else OPT_OUT + its kind. */
#define OUT_VAL(kind, s, o, l, w) [BMT_OUT_##kind] = (s) ? (s) : OPT_OUT + BMT_OUT_##kind,
static const int out_vals[BMT_N_OUTPUTS] = { BMT_OUTPUTS(OUT_VAL) };
#undef OUT_VAL

/* The output option c stands for, or -1. */
static int output_of(int c)
{
	for (int k = 0; k < BMT_N_OUTPUTS; k++)
		if (out_vals[k] == c)
			return k;
	return -1;
}

#define OUT_OPTION(kind, s, o, l, w)                                                             \
	{ l, required_argument, NULL, (s) ? (s) : OPT_OUT + BMT_OUT_##kind },
static const struct option options[] = {
	BMT_OUTPUTS(OUT_OPTION)
	{ "quiet", no_argument, NULL, 'q' },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "stage", required_argument, NULL, OPT_STAGE }, { "pid", required_argument, NULL, 'p' },
	{ "stages", required_argument, NULL, OPT_STAGES },
	{ "user", required_argument, NULL, 'u' },    { "wait-all", no_argument, NULL, OPT_WAIT_ALL },
	{ "ring-size", required_argument, NULL, OPT_RING },
	{ "max-processes", required_argument, NULL, OPT_MAX_PROCS },
	{ "max-peak", required_argument, NULL, OPT_MAX_PEAK },
	{ "budget", required_argument, NULL, OPT_BUDGET },
	{ "cgroup", no_argument, NULL, OPT_CGROUP },
	{ "memory-max", required_argument, NULL, OPT_MEMORY_MAX },
	{ "gate", required_argument, NULL, OPT_GATE },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "linger", required_argument, NULL, OPT_LINGER },
	{ "pushgateway", required_argument, NULL, OPT_PUSH },
	{ "job", required_argument, NULL, OPT_JOB },
	{ "instance", required_argument, NULL, OPT_INSTANCE },
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "verbose", no_argument, NULL, 'v' },       { "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },       {}
};
#undef OUT_OPTION

/* bmtrace diff: --json is a flag there. */
static const struct option diff_options[] = {
	{ "output", required_argument, NULL, 'o' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "fail-if-peak-grows", required_argument, NULL, OPT_FAIL_GROWS },
	{ "help", no_argument, NULL, 'h' },
	{}
};

static int add_stage(struct config *cfg, char *spec)
{
	char **specs = realloc(cfg->stage_specs, (cfg->n_stage_specs + 2) * sizeof(*specs));

	if (!specs)
		return -ENOMEM;
	specs[cfg->n_stage_specs++] = spec;
	specs[cfg->n_stage_specs] = NULL;
	cfg->stage_specs = specs;
	return 0;
}

static const struct option serve_options[];

/* The option as the user wrote it, for error messages: its long name. */
static const char *opt_name(int c, char *buf, size_t len)
{
	const struct option *const tables[] = { options, diff_options, serve_options };

	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct option *o = tables[t]; o->name; o++)
			if (o->val == c) {
				snprintf(buf, len, "--%s", o->name);
				return buf;
			}
	snprintf(buf, len, "-%c", c);
	return buf;
}

/*
 * A one-line error. What it quotes of the command line is escaped and shortened: an argument
 * holding a newline or a terminal's control bytes must not break the line or the terminal.
 */
static int fail(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	struct esc_cell ea, eb;

	esc_init(&ea, 60);
	esc_put(&ea, a);
	esc_init(&eb, 60);
	esc_put(&eb, b);
	snprintf(err, errlen, fmt, ea.buf, eb.buf);
	return -EINVAL;
}

#define N_OPT_VALS (OPT_OUT + BMT_N_OUTPUTS)

/* The options that take a value and may be given again: each occurrence adds one. */
static bool repeatable(int c)
{
	return c == OPT_STAGE || c == OPT_LABEL || c == OPT_LABEL_ENV || c == 'r' || c == 'c';
}

/*
 * An option that takes a value, given twice, would silently keep the last one (`-p 1 -p 2`
 * traced PID 2 alone): refused, naming both values, but for the repeatable ones (--stage,
 * --label; serve's --root, --cgroup-parent and --label-env). seen[c] keeps each option's
 * first value.
 */
static int once(int c, const char *seen[N_OPT_VALS], char *err, size_t errlen)
{
	char name[32], msg[64];

	if (!optarg || c < 0 || c >= N_OPT_VALS || repeatable(c))
		return 0;
	if (!seen[c]) {
		seen[c] = optarg;
		return 0;
	}
	snprintf(msg, sizeof(msg), "%s given twice ('%%s', '%%s'): give it once",
		 opt_name(c, name, sizeof(name)));
	return fail(err, errlen, msg, seen[c], optarg);
}

/*
 * A FILE value. getopt takes the next argument whatever it is, so `--json --svg x` would
 * write a file named "--svg": a value that looks like an option is refused, as is "".
 */
static int take_file(int c, const char **dst, char *err, size_t errlen)
{
	char name[32];

	if (!*optarg || !strncmp(optarg, "--", 2))
		return fail(err, errlen, "%s needs a FILE%s", opt_name(c, name, sizeof(name)),
			    *optarg ? " before the next option (for a file named so, write ./--...)"
				    : ", not ''");
	*dst = optarg;
	return 0;
}

/* Whether one of the first n --stage rules names the stage spec (NAME=REGEX) names. */
static bool stage_given(const struct config *cfg, size_t n, const char *spec)
{
	size_t len = strcspn(spec, "=");

	for (size_t i = 0; i < n; i++)
		if (!strncmp(cfg->stage_specs[i], spec, len) && cfg->stage_specs[i][len] == '=')
			return true;
	return false;
}

/*
 * --stage NAME=REGEX rules are compiled, and so checked, once all are known (stages.c). The
 * rules of --stages come after them, but for a stage a --stage rule already names: the
 * user's rule replaces the built-in one. A recording keeps the rules so expanded.
 */
static int compile_stages(struct config *cfg, char *err, size_t errlen)
{
	size_t given = cfg->n_stage_specs;

	for (char *const *p = cfg->stages_preset ? stages__preset(cfg->stages_preset) : NULL;
	     p && *p; p++)
		if (!stage_given(cfg, given, *p) && add_stage(cfg, *p))
			return -ENOMEM;
	cfg->stages = stages__from_specs(cfg->stage_specs, err, errlen);
	return cfg->stages ? 0 : -EINVAL;
}

/* --max-peak / --budget SIZE: one budget, above 0. */
static int set_budget(struct config *cfg, int c, char *err, size_t errlen)
{
	char name[32];
	uint64_t v;

	if (util_parse_size(optarg, &v) || !v)
		return fail(err, errlen,
			    "%s '%s': expected a size above 0 such as 4G, 3500M or 512K",
			    opt_name(c, name, sizeof(name)), optarg);
	if (cfg->budget_bytes && cfg->budget_gate != (c == OPT_MAX_PEAK))
		return fail(err, errlen, "--max-peak and --budget: give one (--max-peak is a "
			    "budget that also fails the run)%s%s", "", "");
	cfg->budget_bytes = v;
	cfg->budget_gate = c == OPT_MAX_PEAK;
	return 0;
}

static int parse_diff(int argc, char **argv, struct config *cfg, FILE *out, char *err,
		      size_t errlen)
{
	char name[32], *end;
	int c, rc;

	const char *seen[N_OPT_VALS] = { 0 };

	cfg->mode = MODE_DIFF;
	while ((c = getopt_long(argc, argv, ":o:h", diff_options, NULL)) != -1) {
		if ((rc = once(c, seen, err, errlen)))
			return rc;
		switch (c) {
		case 'o':
			if ((rc = take_file('o', &cfg->out[BMT_OUT_SUMMARY], err, errlen)))
				return rc;
			break;
		case OPT_JSON:
			cfg->diff_json = 1;
			break;
		case OPT_FAIL_GROWS:
			errno = 0;
			cfg->max_growth_pct = strtod(optarg, &end);
			if (*end == '%')
				end++;
			if (end == optarg || *end || errno || !(cfg->max_growth_pct >= 0) ||
			    cfg->max_growth_pct > 1e9)
				return fail(err, errlen, "--fail-if-peak-grows '%s': expected a "
					    "percentage such as 5 or 2.5%s", optarg, "");
			cfg->fail_if_peak_grows = 1;
			break;
		case 'h':
			cli_help(MODE_DIFF, out);
			return 1;
		case ':':
			return fail(err, errlen, "diff: %s needs a value%s",
				    optopt ? opt_name(optopt, name, sizeof(name)) :
					     argv[optind - 1], "");
		default:
			return fail(err, errlen, "diff: unknown option '%s'%s", argv[optind - 1],
				    " (see bmtrace --help)");
		}
	}
	if (argc - optind != 2)
		return fail(err, errlen, "diff: expected BEFORE.json AFTER.json, got %s%s",
			    argc - optind < 2 ? "fewer" : "more", "");
	cfg->before = argv[optind];
	cfg->after = argv[optind + 1];
	return 0;
}

static int push_arg(char ***list, size_t *n, char *arg)
{
	char **l = realloc(*list, (*n + 2) * sizeof(*l));

	if (!l)
		return -ENOMEM;
	l[(*n)++] = arg;
	l[*n] = NULL;
	*list = l;
	return 0;
}

static int parse_count(const char *opt, const char *arg, unsigned long max, unsigned int *out,
		       char *err, size_t errlen)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (!*arg || *end || errno || v > max || *arg == '-') {
		struct esc_cell e;

		esc_init(&e, 60);
		esc_put(&e, arg); /* quoted back: escaped, like fail()'s */
		snprintf(err, errlen, "%s '%s': expected a whole number up to %lu", opt, e.buf, max);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

/* --max-processes N: sizes the kernel's maps of processes and address spaces. */
static int parse_max_procs(struct config *cfg, char *err, size_t errlen)
{
	int rc = parse_count("--max-processes", optarg, BMT_MAX_PROCS_LIMIT, &cfg->max_procs, err,
			     errlen);

	if (!rc && !cfg->max_procs)
		return fail(err, errlen, "--max-processes must be at least 1%s%s", "", "");
	return rc;
}

/* [A-Za-z_][A-Za-z0-9_]*: a name the shell can export. */
static int env_name_ok(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return 0;
	for (; *s; s++)
		if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

/* Why label NAME=VALUE cannot be added to list[0..n) (taken: names of bmtrace's own), or NULL. */
static const char *label_refused(const char *name, const char *value, int env,
				 const struct prom_label *list, size_t n, const char *const *taken)
{
	if (!prom_label_name_ok(name))
		return "%s '%s': NAME is not a label name bmtrace can use ([a-zA-Z_][a-zA-Z0-9_]*, "
		       "not __..., not stage, command, version or le)";
	for (size_t i = 0; taken && taken[i]; i++)
		if (!strcmp(name, taken[i]))
			return "%s '%s': NAME is a label of bmtrace's own here";
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, list[i].name))
			return "%s '%s': NAME is given twice";
	if (env && !env_name_ok(value))
		return "%s '%s': VAR is not an environment variable's name";
	return NULL;
}

/*
 * --label NAME=VALUE (env 0) or --label-env NAME=VAR (env 1) onto list. The name and its
 * value share one allocation, split at the first '=': free the name only.
 */
static int add_label(struct prom_label **list, size_t *n, const char *arg, int env,
		     const char *const *taken, char *err, size_t errlen)
{
	const char *opt = env ? "--label-env" : "--label", *why;
	char *name = strdup(arg), *eq = name ? strchr(name, '=') : NULL;
	struct prom_label *l;

	if (!name)
		return -ENOMEM;
	if (!eq || eq == name) {
		free(name);
		return fail(err, errlen, env ? "%s '%s': expected NAME=VAR" :
					       "%s '%s': expected NAME=VALUE", opt, arg);
	}
	*eq = '\0';
	why = label_refused(name, eq + 1, env, *list, *n, taken);
	l = why ? NULL : realloc(*list, (*n + 1) * sizeof(*l));
	if (!l) {
		free(name);
		return why ? fail(err, errlen, why, opt, arg) : -ENOMEM;
	}
	l[(*n)++] = (struct prom_label){ name, eq + 1 };
	*list = l;
	return 0;
}

static void free_labels(struct prom_label **list, size_t *n)
{
	for (size_t i = 0; i < *n; i++)
		free((char *)(*list)[i].name);
	free(*list);
	*list = NULL;
	*n = 0;
}

#define NOT_COMMON 2

/*
 * The options the tracing modes and serve share: 0 when c was one and is taken, 1 when
 * --help was printed, -errno with a reason in err, or NOT_COMMON.
 */
static int take_common(int c, struct config *cfg, FILE *out, char *err, size_t errlen)
{
	switch (c) {
	case OPT_MAX_PROCS:
		return parse_max_procs(cfg, err, errlen);
	case 'u':
		cfg->user = optarg;
		return 0;
	case OPT_STAGE:
		return add_stage(cfg, optarg);
	case OPT_STAGES:
		if (cfg->stages_preset)
			return fail(err, errlen, "--stages given twice ('%s', '%s'): give one",
				    cfg->stages_preset, optarg);
		if (!stages__preset(optarg))
			return fail(err, errlen, "--stages '%s': unknown set of rules (there is: %s)",
				    optarg, stages__preset_names);
		cfg->stages_preset = optarg;
		return 0;
	case 'v':
		cfg->verbose = 1;
		return 0;
	case 'h':
		cli_help(cfg->mode == MODE_PID ? MODE_RUN : cfg->mode, out);
		return 1;
	}
	return NOT_COMMON;
}

static const struct option serve_options[] = {
	{ "root", required_argument, NULL, 'r' },
	{ "cgroup-parent", required_argument, NULL, 'c' },
	{ "listen", required_argument, NULL, OPT_LISTEN },
	{ "expire", required_argument, NULL, 'e' },
	{ "max-trees", required_argument, NULL, 'm' },
	{ "label-env", required_argument, NULL, OPT_LABEL_ENV },
	{ "label", required_argument, NULL, OPT_LABEL }, /* not an abbreviation of --label-env */
	{ "min-peak", required_argument, NULL, OPT_MIN_PEAK },
	{ "max-processes", required_argument, NULL, OPT_MAX_PROCS },
	{ "user", required_argument, NULL, 'u' },
	{ "stage", required_argument, NULL, OPT_STAGE },
	{ "stages", required_argument, NULL, OPT_STAGES },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{}
};

static int parse_serve(int argc, char **argv, struct config *cfg, FILE *out, char *err,
		       size_t errlen)
{
	const char *seen[N_OPT_VALS] = { 0 };
	int c, rc = 0;

	cfg->mode = MODE_SERVE;
	cfg->listen = "127.0.0.1:9977";
	cfg->expire_s = 300;
	cfg->max_trees = 1000;
	while (!rc && (c = getopt_long(argc, argv, ":u:vh", serve_options, NULL)) != -1) {
		if ((rc = once(c, seen, err, errlen)))
			return rc;
		rc = take_common(c, cfg, out, err, errlen);
		if (rc != NOT_COMMON) {
			if (rc)
				return rc;
			continue;
		}
		rc = 0;
		switch (c) {
		case 'r':
			if (!*optarg || strchr(optarg, '/'))
				return fail(err, errlen, "serve: --root '%s': expected a program "
					    "name (no path)%s", optarg, "");
			rc = push_arg(&cfg->serve_roots, &cfg->n_serve_roots, optarg);
			break;
		case 'c':
			rc = push_arg(&cfg->cg_parents, &cfg->n_cg_parents, optarg);
			break;
		case OPT_LISTEN:
			if (!*optarg)
				return fail(err, errlen, "serve: --listen needs ADDR:PORT%s%s", "", "");
			cfg->listen = optarg;
			break;
		case 'e':
			rc = parse_count("--expire", optarg, 7 * 86400, &cfg->expire_s, err, errlen);
			break;
		case 'm':
			rc = parse_count("--max-trees", optarg, 65536, &cfg->max_trees, err, errlen);
			if (!rc && !cfg->max_trees)
				return fail(err, errlen, "--max-trees must be at least 1%s%s", "", "");
			break;
		case OPT_LABEL_ENV:
			rc = add_label(&cfg->label_envs, &cfg->n_label_envs, optarg, 1,
				       (const char *const[]){ "tree", "root", NULL }, err, errlen);
			break;
		case OPT_LABEL:
			return fail(err, errlen, "serve: --label is for a traced run: label trees "
				    "with --label-env NAME=VAR%s%s", "", "");
		case OPT_MIN_PEAK:
			if (util_parse_size(optarg, &cfg->min_peak) || !cfg->min_peak)
				return fail(err, errlen,
					    "--min-peak '%s': expected a size above 0 such "
					    "as 64M or 1G%s",
					    optarg, "");
			break;
		case ':':
			return fail(err, errlen, "serve: %s needs a value%s", argv[optind - 1], "");
		default:
			return fail(err, errlen, "serve: unknown option '%s'%s", argv[optind - 1],
				    " (see bmtrace --help)");
		}
	}
	if (rc)
		return rc;
	if (optind < argc)
		return fail(err, errlen, "serve: unexpected argument '%s'%s", argv[optind], "");
	if (!cfg->n_serve_roots && !cfg->n_cg_parents)
		return fail(err, errlen, "serve: say which trees to follow: --root NAME and/or "
			    "--cgroup-parent DIR%s%s", "", "");
	return compile_stages(cfg, err, errlen);
}

/* bmtrace help [SUBCOMMAND]: 1 when printed, -EINVAL for a word that names none. */
static int help(int argc, char **argv, FILE *out, char *err, size_t errlen)
{
	static const struct {
		const char *word;
		enum bmt_mode mode;
	} subs[] = { { "report", MODE_REPORT }, { "diff", MODE_DIFF }, { "serve", MODE_SERVE } };

	if (argc > 3)
		return fail(err, errlen, "help: expected at most one SUBCOMMAND, got '%s %s'",
			    argv[2], argv[3]);
	if (argc < 3) {
		cli_help(MODE_RUN, out);
		return 1;
	}
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[2], subs[i].word)) {
			cli_help(subs[i].mode, out);
			return 1;
		}
	return fail(err, errlen, "help: no subcommand '%s' (there are report, diff and serve; "
		    "a program named so runs with: bmtrace -- %s)", argv[2], argv[2]);
}

int cli_parse(int argc, char **argv, struct config *cfg, FILE *out, char *err, size_t errlen)
{
	int report = argc > 1 && !strcmp(argv[1], "report");
	const char *seen[N_OPT_VALS] = { 0 };
	char name[32], *end;
	int c, rc;

	memset(cfg, 0, sizeof(*cfg));
	opterr = 0;
	optind = 0; /* glibc: 0 fully resets getopt, whose state would leak between parses */
	if (argc > 1 && !strcmp(argv[1], "help"))
		return help(argc, argv, out, err, errlen);
	if (argc > 1 && !strcmp(argv[1], "diff"))
		return parse_diff(argc - 1, argv + 1, cfg, out, err, errlen);
	if (argc > 1 && !strcmp(argv[1], "serve"))
		return parse_serve(argc - 1, argv + 1, cfg, out, err, errlen);
	if (report) {
		argv++;
		argc--;
		cfg->mode = MODE_REPORT; /* for --help; -p is refused below */
	}
	/* '+': stop at COMMAND, whose own options are its business */
	while ((c = getopt_long(argc, argv, report ? ":o:w:qp:u:vhV" : "+:o:w:qp:u:vhV", options,
				NULL)) != -1) {
		if ((rc = once(c, seen, err, errlen)))
			return rc;
		rc = take_common(c, cfg, out, err, errlen);
		if (rc != NOT_COMMON) {
			if (rc)
				return rc;
			continue;
		}
		switch (c) {
		case OPT_MAX_PEAK:
		case OPT_BUDGET:
			if ((rc = set_budget(cfg, c, err, errlen)))
				return rc;
			break;
		case OPT_CGROUP:
			cfg->cgroup = 1;
			break;
		case OPT_MEMORY_MAX:
			if (util_parse_size(optarg, &cfg->memory_max) || cfg->memory_max < 4096)
				return fail(err, errlen, "--memory-max '%s': expected a size of 4K or "
					    "more such as 4G or 3500M%s", optarg, "");
			cfg->cgroup = 1;
			break;
		case OPT_GATE:
			cfg->gate = budget_gate_parse(optarg);
			if (cfg->gate < 0)
				return fail(err, errlen, "--gate '%s': expected rss, anon or cgroup%s",
					    optarg, "");
			break;
		case OPT_LISTEN:
			if (!*optarg)
				return fail(err, errlen, "--listen needs ADDR:PORT or PORT%s%s", "", "");
			cfg->listen = optarg;
			break;
		case OPT_LINGER: {
			unsigned long s;

			errno = 0;
			s = strtoul(optarg, &end, 10);
			if (!*optarg || *end || errno || s > 86400)
				return fail(err, errlen, "--linger '%s': expected seconds, 0 to 86400%s",
					    optarg, "");
			cfg->linger = s;
			break;
		}
		case OPT_PUSH:
			if (strncmp(optarg, "http://", 7) && strncmp(optarg, "https://", 8))
				return fail(err, errlen, "--pushgateway '%s': expected an http:// or "
					    "https:// URL%s", optarg, "");
			cfg->pushgateway = optarg;
			break;
		case OPT_JOB:
			if (!*optarg)
				return fail(err, errlen, "--job needs a NAME%s%s", "", "");
			cfg->job = optarg;
			break;
		case OPT_INSTANCE:
			if (!*optarg)
				return fail(err, errlen, "--instance needs a NAME%s%s", "", "");
			cfg->instance = optarg;
			break;
		case OPT_LABEL:
			if ((rc = add_label(&cfg->labels, &cfg->n_labels, optarg, 0, NULL, err,
					    errlen)))
				return rc;
			break;
		case 'q':
			cfg->quiet = 1;
			break;
		case 'p': {
			unsigned long pid;

			errno = 0;
			pid = strtoul(optarg, &end, 10);
			if (!*optarg || *end || errno || !pid || pid > 0x3fffffff)
				return fail(err, errlen, "-p '%s': not a process id%s", optarg, "");
			cfg->pid = pid;
			cfg->mode = MODE_PID;
			break;
		}
		case OPT_WAIT_ALL:
			cfg->wait_all = 1;
			break;
		case OPT_PROGRESS:
			cfg->progress = 1;
			break;
		case OPT_RING:
			if (util_parse_size(optarg, &cfg->ring_bytes) || cfg->ring_bytes < 4096 ||
			    cfg->ring_bytes > (1ull << 30))
				return fail(err, errlen,
					    "--ring-size '%s': expected a size from 4K to 1G%s",
					    optarg, "");
			break;
		case 'V':
			fprintf(out, "bmtrace %s\n", BMT_VERSION);
			return 1;
		case ':':
			return fail(err, errlen, "%s needs a value%s",
				    optopt ? opt_name(optopt, name, sizeof(name)) : argv[optind - 1],
				    "");
		default:
			if (output_of(c) >= 0) {
				if ((rc = take_file(c, &cfg->out[output_of(c)], err, errlen)))
					return rc;
				break;
			}
			if (optopt)
				return fail(err, errlen, "unknown option '-%s'%s",
					    (char[]){ (char)optopt, 0 }, " (see bmtrace --help)");
			return fail(err, errlen, "unknown option '%s'%s", argv[optind - 1],
				    " (see bmtrace --help)");
		}
	}
	if (cfg->pushgateway && !cfg->job)
		return fail(err, errlen, "--pushgateway needs --job NAME (the Pushgateway's job "
			    "label)%s%s", "", "");
	if (cfg->job && !cfg->pushgateway)
		return fail(err, errlen, "--job names the job of --pushgateway URL%s%s", "", "");
	if (cfg->instance && !cfg->pushgateway)
		return fail(err, errlen, "--instance names the instance of --pushgateway URL%s%s",
			    "", "");
	for (size_t i = 0; cfg->pushgateway && i < cfg->n_labels; i++)
		if (!strcmp(cfg->labels[i].name, "job") || !strcmp(cfg->labels[i].name, "instance"))
			return fail(err, errlen, "--label %s: the Pushgateway groups by job and "
				    "instance: give --job or --instance%s", cfg->labels[i].name, "");
	if (cfg->linger && !cfg->listen)
		return fail(err, errlen, "--linger keeps --listen serving: give --listen too%s%s",
			    "", "");
	if (report) {
		if (cfg->out[BMT_OUT_RECORD] || cfg->user || cfg->wait_all || cfg->mode == MODE_PID || cfg->listen ||
		    cfg->ring_bytes || cfg->max_procs || cfg->progress || cfg->cgroup)
			return fail(err, errlen, "report: %s applies only while tracing%s",
				    cfg->out[BMT_OUT_RECORD] ? "-w" : cfg->user ? "-u" :
				    cfg->wait_all ? "--wait-all" : cfg->listen ? "--listen" :
				    cfg->progress ? "--progress" :
				    cfg->ring_bytes ? "--ring-size" :
				    cfg->max_procs ? "--max-processes" :
				    cfg->cgroup ? "--cgroup" : "-p",
				    "");
		cfg->mode = MODE_REPORT;
		if (optind != argc - 1)
			return fail(err, errlen, "report: expected one TRACE file%s%s",
				    optind < argc ? ", got more" : "", "");
		cfg->trace = argv[optind];
		return compile_stages(cfg, err, errlen);
	}
	if (cfg->gate == BMT_GATE_CGROUP && !cfg->cgroup && !report)
		return fail(err, errlen, "--gate cgroup judges the peak of the run's own cgroup: give "
			    "--cgroup or --memory-max too%s%s", "", "");
	if (cfg->mode == MODE_PID) {
		if (cfg->cgroup)
			return fail(err, errlen, "--cgroup and --memory-max start COMMAND in a cgroup "
				    "of its own: not with -p%s%s", "", "");
		if (optind < argc)
			return fail(err, errlen, "-p traces a running process: no COMMAND ('%s')%s",
				    argv[optind], "");
		if (cfg->user)
			return fail(err, errlen, "-u applies to a COMMAND bmtrace starts, not -p%s%s",
				    "", "");
		return compile_stages(cfg, err, errlen);
	}
	if (optind >= argc)
		return fail(err, errlen, "no COMMAND to run: bmtrace [OPTIONS] -- COMMAND [ARG...]%s%s",
			    "", "");
	cfg->argv = argv + optind;
	return compile_stages(cfg, err, errlen);
}

void cli_free(struct config *cfg)
{
	free_labels(&cfg->labels, &cfg->n_labels);
	free_labels(&cfg->label_envs, &cfg->n_label_envs);
	stages__free(cfg->stages);
	cfg->stages = NULL;
	free(cfg->stage_specs);
	free(cfg->serve_roots);
	free(cfg->cg_parents);
	cfg->stage_specs = cfg->serve_roots = cfg->cg_parents = NULL;
}
