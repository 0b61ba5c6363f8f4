// SPDX-License-Identifier: MIT
/* cli - parse bmtrace's command line (see cli.h and interface.md). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "util.h"

#ifndef BMT_VERSION
#define BMT_VERSION "0.0.0"
#endif

static const char usage[] =
"Usage: bmtrace [OPTIONS] -- COMMAND [ARG...]   run COMMAND, trace its whole process tree\n"
"       bmtrace [OPTIONS] -p PID                trace the tree under a running PID\n"
"       bmtrace report [OPTIONS] TRACE          rebuild the reports from a recorded trace\n"
"\n"
"Tells how much memory COMMAND's whole process tree held at its worst moment, when,\n"
"and who held it: every RSS change of every process is seen (eBPF, no sampling), and\n"
"pages a fork child shares with its parent are counted once.\n"
"\n"
"Output:\n"
"  -o, --output FILE     the summary goes to FILE (default: stderr; COMMAND's output\n"
"                        is never touched)\n"
"      --json FILE       the result as JSON, schema 1 ('-' for stdout)\n"
"  -w, --record FILE     save the event stream (gzip) for 'bmtrace report'\n"
"  -q, --quiet           no summary\n"
"Attribution:\n"
"      --stage NAME=REGEX  a build stage: processes whose argv (joined by spaces)\n"
"                        matches REGEX at exec, and their descendants (repeatable;\n"
"                        the first matching rule wins; POSIX extended regex)\n"
"Running:\n"
"  -p, --pid PID         attach to a running process and its descendants\n"
"  -u, --user USER       run COMMAND as USER (under sudo the default is the invoking\n"
"                        user, so builds never leave root-owned files)\n"
"      --wait-all        keep tracing until every descendant has exited, not just\n"
"                        COMMAND\n"
"      --ring-size SIZE  kernel-to-bmtrace buffer (default 32M); losses are reported\n"
"  -v, --verbose         libbpf's log and bmtrace's debug messages\n"
"  -h, --help            this text\n"
"  -V, --version         the version\n"
"\n"
"Exit status: COMMAND's own; 128+N if it died of signal N; 125 if bmtrace itself\n"
"could not run; 126/127 if COMMAND could not be executed / was not found.\n"
"\n"
"Examples:\n"
"  sudo bmtrace -- make -j2\n"
"  sudo bmtrace --stage cc='(^| )(cc|gcc|clang)( |$)' --stage ld='(^| )ld( |$)' -- make\n"
"  sudo bmtrace -w build.bmt --json peak.json -- ./build.sh\n"
"  bmtrace report build.bmt --stage link='collect2|ld'\n";

enum { OPT_JSON = 256, OPT_STAGE, OPT_WAIT_ALL, OPT_RING };

static const struct option options[] = {
	{ "output", required_argument, NULL, 'o' },  { "json", required_argument, NULL, OPT_JSON },
	{ "record", required_argument, NULL, 'w' },  { "quiet", no_argument, NULL, 'q' },
	{ "stage", required_argument, NULL, OPT_STAGE }, { "pid", required_argument, NULL, 'p' },
	{ "user", required_argument, NULL, 'u' },    { "wait-all", no_argument, NULL, OPT_WAIT_ALL },
	{ "ring-size", required_argument, NULL, OPT_RING },
	{ "verbose", no_argument, NULL, 'v' },       { "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },       {}
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

/* The option as the user wrote it, for error messages. */
static const char *opt_name(int c, char *buf, size_t len)
{
	for (const struct option *o = options; o->name; o++)
		if (o->val == c) {
			snprintf(buf, len, "--%s", o->name);
			return buf;
		}
	snprintf(buf, len, "-%c", c);
	return buf;
}

static int fail(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return -EINVAL;
}

int cli_parse(int argc, char **argv, struct config *cfg, FILE *out, char *err, size_t errlen)
{
	int report = argc > 1 && !strcmp(argv[1], "report");
	char name[32], *end;
	int c, rc;

	memset(cfg, 0, sizeof(*cfg));
	if (report) {
		argv++;
		argc--;
	}
	opterr = 0;
	optind = 0; /* glibc: 0 fully resets getopt, whose state would leak between parses */
	/* '+': stop at COMMAND, whose own options are its business */
	while ((c = getopt_long(argc, argv, report ? ":o:qvhV" : "+:o:w:qp:u:vhV", options,
				NULL)) != -1) {
		switch (c) {
		case 'o':
			cfg->output = optarg;
			break;
		case OPT_JSON:
			cfg->json = optarg;
			break;
		case 'w':
			cfg->record = optarg;
			break;
		case 'q':
			cfg->quiet = 1;
			break;
		case OPT_STAGE:
			if (!strchr(optarg, '=') || *optarg == '=')
				return fail(err, errlen, "--stage '%s': expected NAME=REGEX%s",
					    optarg, "");
			if ((rc = add_stage(cfg, optarg)))
				return rc;
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
		case 'u':
			cfg->user = optarg;
			break;
		case OPT_WAIT_ALL:
			cfg->wait_all = 1;
			break;
		case OPT_RING:
			if (util_parse_size(optarg, &cfg->ring_bytes) || cfg->ring_bytes < 4096 ||
			    cfg->ring_bytes > (1ull << 30))
				return fail(err, errlen,
					    "--ring-size '%s': expected a size from 4K to 1G%s",
					    optarg, "");
			break;
		case 'v':
			cfg->verbose = 1;
			break;
		case 'h':
			fputs(usage, out);
			return 1;
		case 'V':
			fprintf(out, "bmtrace %s\n", BMT_VERSION);
			return 1;
		case ':':
			return fail(err, errlen, "%s needs a value%s",
				    optopt ? opt_name(optopt, name, sizeof(name)) : argv[optind - 1],
				    "");
		default:
			if (optopt)
				return fail(err, errlen, "unknown option '-%s'%s",
					    (char[]){ (char)optopt, 0 }, " (see bmtrace --help)");
			return fail(err, errlen, "unknown option '%s'%s", argv[optind - 1],
				    " (see bmtrace --help)");
		}
	}
	if (report) {
		if (cfg->record || cfg->user || cfg->wait_all || cfg->mode == MODE_PID)
			return fail(err, errlen, "report: %s applies only while tracing%s",
				    cfg->record ? "-w" : cfg->user ? "-u" :
				    cfg->wait_all ? "--wait-all" : "-p", "");
		cfg->mode = MODE_REPORT;
		if (optind != argc - 1)
			return fail(err, errlen, "report: expected one TRACE file%s%s",
				    optind < argc ? ", got more" : "", "");
		cfg->trace = argv[optind];
		return 0;
	}
	if (cfg->mode == MODE_PID) {
		if (optind < argc)
			return fail(err, errlen, "-p traces a running process: no COMMAND ('%s')%s",
				    argv[optind], "");
		if (cfg->user)
			return fail(err, errlen, "-u applies to a COMMAND bmtrace starts, not -p%s%s",
				    "", "");
		return 0;
	}
	if (optind >= argc)
		return fail(err, errlen, "no COMMAND to run: bmtrace [OPTIONS] -- COMMAND [ARG...]%s%s",
			    "", "");
	cfg->argv = argv + optind;
	return 0;
}

void cli_free(struct config *cfg)
{
	free(cfg->stage_specs);
	cfg->stage_specs = NULL;
}

struct stages *cli_stages(char *const specs[], char *err, size_t errlen)
{
	struct stages *s = stages__new();

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; specs && specs[i]; i++) {
		char why[256];

		if (stages__add(s, specs[i], why, sizeof(why))) {
			snprintf(err, errlen, "--stage: %s", why);
			stages__free(s);
			return NULL;
		}
	}
	return s;
}
