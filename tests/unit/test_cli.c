// modules: cli help budget deaths escape prom stages util
/* Options into the config struct; every bad value a one-line error naming the option. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "cli.h"
#include "run.h"

#define ARGS(...) ((char *[]){ "bmtrace", __VA_ARGS__, NULL })
#define NARGS(a) ((int)(sizeof(a) / sizeof(a[0])) - 1)

static int parse(char **argv, int argc, struct config *cfg, char *err)
{
	FILE *out = fopen("/dev/null", "w");
	int rc;

	assert_non_null(out);
	err[0] = '\0';
	rc = cli_parse(argc, argv, cfg, out, err, 256);
	fclose(out);
	return rc;
}

static void test_run_mode(void **state)
{
	char *a[] = { "bmtrace", "--json", "r.json", "-w", "t.bmt", "--stage", "cc=gcc",
		      "--stage", "ld=ld$", "-q", "--", "make", "-j2", NULL };
	struct config cfg;
	char err[256];

	assert_int_equal(parse(a, NARGS(a), &cfg, err), 0);
	assert_int_equal(cfg.mode, MODE_RUN);
	assert_string_equal(cfg.out[BMT_OUT_JSON], "r.json");
	assert_string_equal(cfg.out[BMT_OUT_RECORD], "t.bmt");
	assert_int_equal(cfg.n_stage_specs, 2);
	assert_string_equal(cfg.stage_specs[1], "ld=ld$");
	assert_null(cfg.stage_specs[2]);
	assert_true(cfg.quiet);
	assert_string_equal(cfg.argv[0], "make");
	assert_string_equal(cfg.argv[1], "-j2");
	cli_free(&cfg);
}

/* COMMAND's own options are its own, with or without "--". */
static void test_command_options_untouched(void **state)
{
	char *a[] = { "bmtrace", "ls", "-l", "--json", NULL };
	struct config cfg;
	char err[256];

	assert_int_equal(parse(a, NARGS(a), &cfg, err), 0);
	assert_null(cfg.out[BMT_OUT_JSON]);
	assert_string_equal(cfg.argv[0], "ls");
	assert_string_equal(cfg.argv[2], "--json");
	cli_free(&cfg);
}

static void test_pid_and_report_modes(void **state)
{
	char *p[] = { "bmtrace", "-p", "4242", "--wait-all", NULL };
	char *r[] = { "bmtrace", "report", "t.bmt", "--json", "-", "--stage", "x=y", NULL };
	struct config cfg;
	char err[256];

	assert_int_equal(parse(p, NARGS(p), &cfg, err), 0);
	assert_int_equal(cfg.mode, MODE_PID);
	assert_int_equal(cfg.pid, 4242);
	assert_true(cfg.wait_all);
	cli_free(&cfg);
	assert_int_equal(parse(r, NARGS(r), &cfg, err), 0);
	assert_int_equal(cfg.mode, MODE_REPORT);
	assert_string_equal(cfg.trace, "t.bmt");
	assert_string_equal(cfg.out[BMT_OUT_JSON], "-");
	assert_int_equal(cfg.n_stage_specs, 1);
	cli_free(&cfg);
}

static void test_report_options(void **state)
{
	char *a[] = { "bmtrace", "--timeline", "t.csv.gz", "--svg", "c.svg", "--markdown", "s.md",
		      "--max-peak", "3500M", "--", "make", NULL };
	char *r[] = { "bmtrace", "report", "t.bmt", "--budget", "1.5G", "--svg", "x.svg", NULL };
	struct config cfg;
	char err[256];

	assert_int_equal(parse(a, NARGS(a), &cfg, err), 0);
	assert_string_equal(cfg.out[BMT_OUT_TIMELINE], "t.csv.gz");
	assert_string_equal(cfg.out[BMT_OUT_SVG], "c.svg");
	assert_string_equal(cfg.out[BMT_OUT_MARKDOWN], "s.md");
	assert_int_equal(cfg.budget_bytes, 3500ull << 20);
	assert_true(cfg.budget_gate);
	cli_free(&cfg);
	assert_int_equal(parse(r, NARGS(r), &cfg, err), 0);
	assert_int_equal(cfg.mode, MODE_REPORT);
	assert_int_equal(cfg.budget_bytes, 3ull << 29);
	assert_false(cfg.budget_gate);
	assert_string_equal(cfg.out[BMT_OUT_SVG], "x.svg");
	cli_free(&cfg);
}

static void test_diff_mode(void **state)
{
	char *a[] = { "bmtrace", "diff", "a.json", "--json", "b.json", "--fail-if-peak-grows",
		      "2.5%", "-o", "d.json", NULL };
	char *b[] = { "bmtrace", "diff", "a.json", "b.json", NULL };
	struct config cfg;
	char err[256];

	assert_int_equal(parse(a, NARGS(a), &cfg, err), 0);
	assert_int_equal(cfg.mode, MODE_DIFF);
	assert_string_equal(cfg.before, "a.json");
	assert_string_equal(cfg.after, "b.json");
	assert_true(cfg.diff_json);
	assert_true(cfg.fail_if_peak_grows);
	assert_true(cfg.max_growth_pct == 2.5);
	assert_string_equal(cfg.out[BMT_OUT_SUMMARY], "d.json");
	cli_free(&cfg);
	assert_int_equal(parse(b, NARGS(b), &cfg, err), 0);
	assert_false(cfg.diff_json);
	assert_false(cfg.fail_if_peak_grows);
	assert_null(cfg.out[BMT_OUT_SUMMARY]);
	cli_free(&cfg);
}

/* The help of bmtrace, or of a subcommand: --help, or bmtrace help [SUBCOMMAND]. */
static char *help_of(char **argv, int argc)
{
	struct config cfg;
	char err[256], *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	assert_non_null(out);
	if (cli_parse(argc, argv, &cfg, out, err, sizeof(err)) != 1)
		fail_msg("%s %s: no help printed (%s)", argv[1], argc > 2 ? argv[2] : "", err);
	cli_free(&cfg);
	fclose(out);
	return buf;
}

static void test_help_per_subcommand(void **state)
{
	static struct {
		char *argv[5];
		const char *first;
	} cases[] = {
		{ { "bmtrace", "--help" }, "Usage: bmtrace [OPTIONS] -- COMMAND" },
		{ { "bmtrace", "help" }, "Usage: bmtrace [OPTIONS] -- COMMAND" },
		{ { "bmtrace", "report", "--help" }, "Usage: bmtrace report [OPTIONS] TRACE\n" },
		{ { "bmtrace", "report", "x.bmt", "-h" }, "Usage: bmtrace report [OPTIONS] TRACE\n" },
		{ { "bmtrace", "help", "report" }, "Usage: bmtrace report [OPTIONS] TRACE\n" },
		{ { "bmtrace", "diff", "--help" }, "Usage: bmtrace diff [OPTIONS] BEFORE.json" },
		{ { "bmtrace", "help", "diff" }, "Usage: bmtrace diff [OPTIONS] BEFORE.json" },
		{ { "bmtrace", "serve", "--help" }, "Usage: bmtrace serve [OPTIONS]\n" },
		{ { "bmtrace", "help", "serve" }, "Usage: bmtrace serve [OPTIONS]\n" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int argc = 0;
		char *text;

		while (cases[i].argv[argc])
			argc++;
		text = help_of((char **)cases[i].argv, argc);
		if (strncmp(text, cases[i].first, strlen(cases[i].first)))
			fail_msg("case %zu: help starts '%.60s'", i, text);
		free(text);
	}
	/* each names its own options, not the others' */
	{
		char *report = help_of(ARGS("report", "--help"), 3);
		char *serve = help_of(ARGS("help", "serve"), 3);

		assert_non_null(strstr(report, "--stages toolchain"));
		assert_null(strstr(report, "--root"));
		assert_null(strstr(report, "--pid"));
		assert_non_null(strstr(serve, "--cgroup-parent"));
		assert_null(strstr(serve, "--json"));
		free(report);
		free(serve);
	}
}

static void test_help_version(void **state)
{
	struct config cfg;
	char err[256];

	assert_int_equal(parse(ARGS("--help"), 2, &cfg, err), 1);
	cli_free(&cfg);
	assert_int_equal(parse(ARGS("-V"), 2, &cfg, err), 1);
	cli_free(&cfg);
}

/* Each bad command line: rejected, and the error names what was wrong. */
static void test_bad_options(void **state)
{
	static const struct {
		char *argv[10];
		const char *says;
	} bad[] = {
		{ { "bmtrace", "--no-such-option", "--", "true" }, "--no-such-option" },
		{ { "bmtrace", "-Z", "--", "true" }, "-Z" },
		{ { "bmtrace", "--json" }, "--json" },
		{ { "bmtrace", "-p", "abc" }, "-p 'abc'" },
		{ { "bmtrace", "-p", "0" }, "-p '0'" },
		{ { "bmtrace", "-p", "12", "make" }, "no COMMAND" },
		{ { "bmtrace", "-p", "12", "-u", "nobody" }, "-u" },
		{ { "bmtrace", "--stage", "noequals", "--", "true" }, "--stage 'noequals'" },
		{ { "bmtrace", "--stage", "=x", "--", "true" }, "--stage '=x'" },
		{ { "bmtrace", "--ring-size", "lots", "--", "true" }, "--ring-size 'lots'" },
		{ { "bmtrace", "--ring-size", "2", "--", "true" }, "--ring-size '2'" },
		{ { "bmtrace" }, "no COMMAND" },
		{ { "bmtrace", "-q" }, "no COMMAND" },
		{ { "bmtrace", "report" }, "TRACE" },
		{ { "bmtrace", "report", "a", "b" }, "TRACE" },
		{ { "bmtrace", "report", "-w", "x", "a" }, "-w" },
		{ { "bmtrace", "--linger", "5", "--", "true" }, "--listen" },
		{ { "bmtrace", "--listen", ":9", "--linger", "x", "--", "true" }, "--linger 'x'" },
		{ { "bmtrace", "--pushgateway", "ftp://h", "--job", "j", "--", "true" }, "--pushgateway" },
		{ { "bmtrace", "--pushgateway", "http://h", "--", "true" }, "--job" },
		{ { "bmtrace", "--job", "j", "--", "true" }, "--pushgateway" },
		{ { "bmtrace", "report", "--listen", ":9", "a" }, "--listen" },
		/* what an error quotes is escaped: it stays one line */
		{ { "bmtrace", "--st\nage", "--", "true" }, "--st\\nage" },
		{ { "bmtrace", "-p", "1\n2" }, "-p '1\\n2'" },
		{ { "bmtrace", "--max-peak", "lots", "--", "true" }, "--max-peak 'lots'" },
		{ { "bmtrace", "--max-peak", "0", "--", "true" }, "--max-peak '0'" },
		{ { "bmtrace", "--budget", "-1G", "--", "true" }, "--budget '-1G'" },
		{ { "bmtrace", "--budget", "1G", "--max-peak", "2G", "--", "true" }, "give one" },
		{ { "bmtrace", "--memory-max", "lots", "--", "true" }, "--memory-max 'lots'" },
		{ { "bmtrace", "--memory-max", "4095", "--", "true" }, "--memory-max '4095'" },
		{ { "bmtrace", "--gate", "RSS", "--", "true" }, "--gate 'RSS'" },
		{ { "bmtrace", "--gate", "cgroup", "--", "true" }, "--gate cgroup" },
		{ { "bmtrace", "--cgroup", "-p", "12" }, "not with -p" },
		{ { "bmtrace", "report", "--memory-max", "1G", "a" }, "--cgroup" },
		{ { "bmtrace", "--svg" }, "--svg" },
		{ { "bmtrace", "diff", "a.json" }, "BEFORE.json AFTER.json" },
		{ { "bmtrace", "diff", "a", "b", "c" }, "BEFORE.json AFTER.json" },
		{ { "bmtrace", "diff", "--fail-if-peak-grows", "x", "a", "b" }, "'x'" },
		{ { "bmtrace", "diff", "--fail-if-peak-grows", "-5", "a", "b" }, "'-5'" },
		{ { "bmtrace", "diff", "a", "b", "--fail-if-peak-grows" }, "--fail-if-peak-grows" },
		{ { "bmtrace", "diff", "--stage", "x=y", "a", "b" }, "--stage" },
		{ { "bmtrace", "--stages", "gcc", "--", "true" }, "--stages 'gcc'" },
		/* an option with a value given twice: the last one would win silently */
		{ { "bmtrace", "-p", "1", "-p", "2" }, "--pid given twice ('1', '2')" },
		{ { "bmtrace", "--json", "a", "--json", "b", "--", "true" }, "--json given twice" },
		{ { "bmtrace", "-o", "a", "--output", "b", "--", "true" }, "--output given twice" },
		{ { "bmtrace", "--max-peak", "1G", "--max-peak", "2G", "--", "true" }, "twice" },
		{ { "bmtrace", "report", "-q", "--svg", "a", "--svg", "b", "t" }, "--svg given twice" },
		{ { "bmtrace", "diff", "-o", "a", "-o", "b", "x", "y" }, "--output given twice" },
		{ { "bmtrace", "serve", "--root", "a", "--expire", "1", "--expire", "2" }, "twice" },
		{ { "bmtrace", "help", "nosuch" }, "help: no subcommand 'nosuch'" },
		{ { "bmtrace", "help", "report", "diff" }, "at most one" },
		{ { "bmtrace", "--stages", "toolchain", "--stages", "toolchain", "--", "true" },
		  "twice" },
		{ { "bmtrace", "--label", "novalue", "--", "true" }, "--label 'novalue'" },
		{ { "bmtrace", "--label", "=v", "--", "true" }, "--label '=v'" },
		{ { "bmtrace", "--label", "a-b=v", "--", "true" }, "not a label name" },
		{ { "bmtrace", "--label", "__name__=v", "--", "true" }, "not a label name" },
		{ { "bmtrace", "--label", "stage=v", "--", "true" }, "not a label name" },
		{ { "bmtrace", "--label", "a=1", "--label", "a=2", "--", "true" }, "twice" },
		{ { "bmtrace", "--instance", "i", "--", "true" }, "--pushgateway" },
		{ { "bmtrace", "--pushgateway", "http://h", "--job", "j", "--instance", "" },
		  "--instance" },
		{ { "bmtrace", "--pushgateway", "http://h", "--job", "j", "--label", "job=x", "--",
		    "true" }, "--label job" },
		{ { "bmtrace", "serve", "--root", "x", "--label-env", "job" }, "NAME=VAR" },
		{ { "bmtrace", "serve", "--root", "x", "--label-env", "job=1X" }, "VAR" },
		{ { "bmtrace", "serve", "--root", "x", "--label-env", "tree=A" }, "own" },
		{ { "bmtrace", "serve", "--root", "x", "--min-peak", "0" }, "--min-peak '0'" },
		{ { "bmtrace", "serve", "--root", "x", "--label", "a=b" }, "--label" },
		{ { "bmtrace", "serve", "--root", "x", "--min-peak", "2Q" }, "--min-peak '2Q'" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config cfg;
		char err[256];
		int argc = 0;

		while (bad[i].argv[argc])
			argc++;
		assert_int_equal(parse((char **)bad[i].argv, argc, &cfg, err), -EINVAL);
		if (!strstr(err, bad[i].says))
			fail_msg("case %zu: error '%s' does not mention '%s'", i, err, bad[i].says);
		assert_null(strchr(err, '\n'));
		cli_free(&cfg);
	}
}

/* --cgroup, --memory-max (which implies it), --gate; report takes --gate alone. */
static void test_memory_limits(void **state)
{
	struct config cfg;
	char err[256];

	assert_int_equal(parse(ARGS("--cgroup", "--", "make"), 4, &cfg, err), 0);
	assert_true(cfg.cgroup);
	assert_int_equal(cfg.memory_max, 0);
	assert_int_equal(cfg.gate, BMT_GATE_RSS);
	cli_free(&cfg);
	assert_int_equal(parse(ARGS("--memory-max", "4G", "--gate", "cgroup", "--max-peak", "3G",
				    "--", "make"),
			       9, &cfg, err),
			 0);
	assert_true(cfg.cgroup);
	assert_int_equal(cfg.memory_max, 4ull << 30);
	assert_int_equal(cfg.gate, BMT_GATE_CGROUP);
	cli_free(&cfg);
	assert_int_equal(parse(ARGS("--gate", "anon", "--", "make"), 5, &cfg, err), 0);
	assert_int_equal(cfg.gate, BMT_GATE_ANON);
	cli_free(&cfg);
	/* a recording made with --cgroup is judged on its cgroup's peak */
	assert_int_equal(parse(ARGS("report", "--gate", "cgroup", "--max-peak", "1G", "t.bmt"), 7,
			       &cfg, err),
			 0);
	assert_int_equal(cfg.mode, MODE_REPORT);
	assert_int_equal(cfg.gate, BMT_GATE_CGROUP);
	cli_free(&cfg);
}

/* --label and --instance in the tracing modes; --label-env and --min-peak in serve. */
static void test_labels(void **state)
{
	char **a = ARGS("--label", "team=nightly", "--label", "branch=a=b\"c", "--pushgateway",
			"http://h", "--job", "j", "--instance", "runner-7", "--", "make");
	char **srv = ARGS("serve", "--root", "make", "--label-env", "job=CI_JOB_NAME",
			  "--label-env", "branch=GITHUB_REF_NAME", "--min-peak", "64M");
	struct config cfg;
	char err[256];

	assert_int_equal(parse(a, 13, &cfg, err), 0);
	assert_int_equal(cfg.n_labels, 2);
	assert_string_equal(cfg.labels[0].name, "team");
	assert_string_equal(cfg.labels[0].value, "nightly");
	assert_string_equal(cfg.labels[1].name, "branch");
	assert_string_equal(cfg.labels[1].value, "a=b\"c");
	assert_string_equal(cfg.instance, "runner-7");
	cli_free(&cfg);
	assert_null(cfg.labels);
	assert_int_equal(parse(srv, 10, &cfg, err), 0);
	assert_int_equal(cfg.n_label_envs, 2);
	assert_string_equal(cfg.label_envs[1].name, "branch");
	assert_string_equal(cfg.label_envs[1].value, "GITHUB_REF_NAME");
	assert_int_equal(cfg.min_peak, 64ull << 20);
	cli_free(&cfg);
}

static void test_stage_rules(void **state)
{
	char *good[] = { "cc=(^| )(cc|gcc)( |$)", "ld=ld", NULL };
	char *dup[] = { "cc=gcc", "cc=clang", NULL };
	char *badre[] = { "cc=(unclosed", NULL };
	char err[256];
	struct stages *s = stages__from_specs(good, err, sizeof(err));

	assert_non_null(s);
	assert_int_equal(stages__count(s), 2);
	assert_string_equal(stages__name(s, 0), "cc");
	assert_string_equal(stages__spec(s, 0), "cc=(^| )(cc|gcc)( |$)");
	assert_int_equal(stages__match(s, (char *[]){ "gcc", "-c", "a.c", NULL }), 0);
	assert_int_equal(stages__match(s, (char *[]){ "/usr/bin/ld", "-o", "a", NULL }), 1);
	assert_int_equal(stages__match(s, (char *[]){ "make", NULL }), -1);
	/* argv is joined by spaces: a rule may span arguments */
	assert_int_equal(stages__match(s, (char *[]){ "x", "gcc", NULL }), 0);
	assert_int_equal(stages__match(s, (char *[]){ NULL }), -1);
	stages__free(s);
	assert_null(stages__from_specs(dup, err, sizeof(err)));
	assert_non_null(strstr(err, "twice"));
	assert_null(stages__from_specs(badre, err, sizeof(err)));
	assert_non_null(strstr(err, "bad regular expression"));
	assert_null(stages__from_specs((char *[]){ "x=", NULL }, err, sizeof(err)));
	assert_non_null(strstr(err, "empty"));
	/* what makes regcomp take memory without bound is refused (found by fuzzing) */
	assert_null(stages__from_specs((char *[]){ "x=c(c++++++++++++++++++++++++++++++++++(", NULL }, err,
			       sizeof(err)));
	assert_non_null(strstr(err, "quantifier on a quantifier"));
	assert_null(stages__from_specs((char *[]){ "x=(ab){1000}", NULL }, err, sizeof(err)));
	assert_non_null(strstr(err, "over 255"));
	/* quantifiers inside brackets or escaped are plain characters */
	s = stages__from_specs((char *[]){ "x=[+*]+", "y=a\\++", "z=g(cc|\\+\\+)( |$)", NULL }, err,
		       sizeof(err));
	assert_non_null(s);
	assert_int_equal(stages__match(s, (char *[]){ "g++", NULL }), 0);
	stages__free(s);
}

/* A rule also matches with argv[0] cut to its base name: gcc runs its tools by full path. */
static void test_stage_base_name(void **state)
{
	char err[256];
	struct stages *s = stages__from_specs((char *[]){ "link=^(collect2|ld) ", "x=^/usr/bin/x$",
							  NULL },
					      err, sizeof(err));

	assert_non_null(s);
	assert_int_equal(stages__match(s, (char *[]){ "/usr/lib/gcc/x86_64-linux-gnu/12/collect2",
						      "-o", "prog", NULL }),
			 0);
	assert_int_equal(stages__match(s, (char *[]){ "/usr/bin/ld", "-o", "prog", NULL }), 0);
	/* an anchored rule is not fooled by "ld" inside an option */
	assert_int_equal(stages__match(s, (char *[]){ "gcc", "-Ibuild", "-c", "a.c", NULL }), -1);
	/* only argv[0] is cut, and the full line still matches */
	assert_int_equal(stages__match(s, (char *[]){ "cp", "/usr/bin/ld", "x", NULL }), -1);
	assert_int_equal(stages__match(s, (char *[]){ "/usr/bin/x", NULL }), 1);
	assert_int_equal(stages__match(s, (char *[]){ "/", NULL }), -1);
	stages__free(s);
}

/* --stages toolchain: each compiler, assembler and linker lands in its stage, drivers not. */
static void test_toolchain_rules(void **state)
{
	static const struct {
		char *argv[6];
		const char *stage; /* NULL: no rule matches */
	} cases[] = {
		{ { "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "-quiet", "-Ibuild", "a.c" }, "compile" },
		{ { "/usr/lib/gcc/x86_64-linux-gnu/12/cc1plus", "-quiet", "a.cc" }, "compile" },
		{ { "cc1obj", "a.m" }, "compile" },
		{ { "/usr/lib/llvm-14/bin/clang", "-cc1", "-triple", "x86_64" }, "compile" },
		{ { "clang++-14", "-O2", "-c", "a.cc" }, "compile" },
		{ { "clang", "-c", "a.c" }, "compile" },
		{ { "/root/.cargo/bin/rustc", "--crate-name", "x" }, "compile" },
		{ { "/usr/lib/go-1.19/pkg/tool/linux_amd64/compile", "-o", "x.a" }, "compile" },
		{ { "javac", "A.java" }, "compile" },
		{ { "as", "--64", "-o", "a.o" }, "assemble" },
		{ { "/usr/bin/clang", "-cc1as", "-triple" }, "assemble" },
		{ { "/usr/lib/gcc/x86_64-linux-gnu/12/collect2", "-plugin" }, "link" },
		{ { "/usr/bin/ld", "-o", "prog" }, "link" },
		{ { "ld.gold", "-o", "prog" }, "link" },
		{ { "/usr/bin/ld.lld", "-o", "prog" }, "link" },
		{ { "mold", "-run", "make" }, "link" },
		{ { "/usr/lib/go-1.19/pkg/tool/linux_amd64/link", "-o", "x" }, "link" },
		{ { "gcc", "-Ibuild", "-c", "a.c" }, NULL },
		{ { "clang", "a.o", "-o", "prog" }, NULL },
		{ { "make", "-C", "build" }, NULL },
		{ { "ldconfig" }, NULL },
		{ { "asm-tool", "-c" }, NULL },
	};
	char err[256];
	struct stages *s = stages__from_specs(stages__preset("toolchain"), err, sizeof(err));

	assert_non_null(s);
	assert_null(stages__preset("gcc"));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int m = stages__match(s, cases[i].argv);
		const char *got = m < 0 ? "none" : stages__name(s, m);
		const char *want = cases[i].stage ? cases[i].stage : "none";

		if (strcmp(got, want))
			fail_msg("case %zu (%s): stage %s, want %s", i, cases[i].argv[0], got, want);
	}
	stages__free(s);
}

/* --stage rules come before --stages', and one named like a built-in stage replaces it. */
static void test_stages_option(void **state)
{
	char *a[] = { "bmtrace", "--stages", "toolchain", "--stage", "link=^mylinker ",
		      "--stage", "bpf=-target bpf", "--", "make", NULL };
	struct config cfg;
	char err[256];

	assert_int_equal(parse(a, NARGS(a), &cfg, err), 0);
	assert_int_equal(stages__count(cfg.stages), 4);
	assert_string_equal(stages__name(cfg.stages, 0), "link");
	assert_string_equal(stages__name(cfg.stages, 1), "bpf");
	assert_string_equal(stages__name(cfg.stages, 2), "compile");
	assert_string_equal(stages__name(cfg.stages, 3), "assemble");
	/* the recording keeps the rules as expanded */
	assert_int_equal(cfg.n_stage_specs, 4);
	assert_string_equal(cfg.stage_specs[0], "link=^mylinker ");
	assert_int_equal(stages__match(cfg.stages, (char *[]){ "/usr/bin/ld", "x", NULL }), -1);
	assert_int_equal(stages__match(cfg.stages, (char *[]){ "cc1", "x.c", NULL }), 2);
	cli_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_run_mode),
	    cmocka_unit_test(test_command_options_untouched),
	    cmocka_unit_test(test_pid_and_report_modes),
	    cmocka_unit_test(test_help_version),
	    cmocka_unit_test(test_bad_options),
	    cmocka_unit_test(test_stage_rules),
	    cmocka_unit_test(test_labels),
	    cmocka_unit_test(test_report_options),
	    cmocka_unit_test(test_diff_mode),
	    cmocka_unit_test(test_stage_base_name),
	    cmocka_unit_test(test_toolchain_rules),
	    cmocka_unit_test(test_stages_option),
	    cmocka_unit_test(test_help_per_subcommand),
	    cmocka_unit_test(test_memory_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
