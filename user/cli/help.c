// SPDX-License-Identifier: MIT
/* help - bmtrace's help texts (cli.h: cli_help). */
#include <stdio.h>
#include "cli.h"

/*
 * The help texts, one per subcommand; the option lists the tracing modes and report share
 * are written once. The man page (doc/man.sh) and the shell completions are made from them.
 */
static const char usage_head[] =
"Usage: bmtrace [OPTIONS] -- COMMAND [ARG...]   run COMMAND, trace its whole process tree\n"
"       bmtrace [OPTIONS] -p PID                trace the tree under a running PID\n"
"       bmtrace report [OPTIONS] TRACE          rebuild the reports from a recorded trace\n"
"       bmtrace diff [OPTIONS] BEFORE.json AFTER.json   compare two results\n"
"       bmtrace serve [OPTIONS]                 export many trees to Prometheus, for CI hosts\n"
"       bmtrace help [report|diff|serve]        the help of bmtrace or of a subcommand\n"
"\n"
"Tells how much memory COMMAND's whole process tree held at its worst moment, when,\n"
"and who held it: every RSS change of every process is seen (eBPF, no sampling), and\n"
"pages a fork child shares with its parent are counted once.\n"
"\n";

static const char usage_outputs[] =
"Output (each file is replaced atomically: nobody ever reads half of one):\n"
"  -o, --output FILE     the summary goes to FILE (default: stderr when tracing, so\n"
"                        COMMAND's output is never touched; stdout for report)\n"
"      --json FILE       the result as JSON, schema 1 ('-' for stdout)\n"
"      --timeline FILE   the tree total over time as CSV, a column per stage (gzip\n"
"                        when FILE ends in .gz); its largest row is the peak, exactly\n"
"      --svg FILE        a chart of the timeline, stacked by stage, the peak labelled\n"
"      --markdown FILE   a Markdown summary, e.g. --markdown \"$GITHUB_STEP_SUMMARY\"\n"
"      --prometheus FILE  the final metrics as a node_exporter textfile\n"
"      --perfetto FILE   the run as a Chrome/Perfetto JSON trace: each process's\n"
"                        memory over time, the tree total, exec and exit; open it in\n"
"                        ui.perfetto.dev or chrome://tracing\n"
"  -q, --quiet           no summary on the terminal (-o FILE is still written)\n";

static const char usage_budget[] =
"Budget:\n"
"      --max-peak SIZE   CI gate: exit 98 when the peak tree RSS exceeds SIZE (4G,\n"
"                        3500M, 512K, bytes) and COMMAND succeeded; the last line\n"
"                        says by how much and when\n"
"      --budget SIZE     the same report (headroom, how many instances of the command\n"
"                        that dominates the peak fit) without failing the run\n"
"      --gate rss|anon|cgroup  which peak --max-peak and --budget judge (default\n"
"                        rss, the tree RSS; cgroup needs --cgroup)\n";

static const char usage_memory[] =
"Memory limits:\n"
"      --cgroup          run COMMAND in a fresh memory cgroup of its own (v2, or v1 on\n"
"                        hybrid hosts), removed after; its peak is what the OOM killer\n"
"                        counts (page cache, tmpfs, kernel memory; each page once)\n"
"      --memory-max SIZE  --cgroup with that limit: would the build survive a 4G\n"
"                        runner? OOM kills are reported with who held the memory\n";

static const char usage_stages[] =
"Attribution:\n"
"      --stage NAME=REGEX  a build stage: processes whose argv (joined by spaces, or\n"
"                        the same with argv[0] cut to its base name) matches REGEX\n"
"                        at exec, and their descendants (repeatable; the first\n"
"                        matching rule wins; POSIX extended regex)\n"
"      --stages toolchain  built-in rules: compile (cc1, cc1plus, rustc, javac, go's\n"
"                        compile, clang -c), assemble (as), link (collect2, ld, gold,\n"
"                        lld, mold, go's link); --stage rules come first\n";

static const char usage_help[] =
"  -h, --help            this text\n";

static const char usage_trace[] =
"  -w, --record FILE     save the event stream (gzip) for 'bmtrace report'\n"
"Prometheus:\n"
"      --listen ADDR:PORT  serve /metrics while tracing (ADDR defaults to 127.0.0.1)\n"
"      --linger SECONDS  keep serving the final values after COMMAND ends, so the\n"
"                        last scrape sees them (Ctrl-C ends it early)\n"
"      --pushgateway URL --job NAME  push-add the final metrics (the batch-job\n"
"                        pattern for CI), with a last-success timestamp, grouped by\n"
"                        job and instance\n"
"      --instance NAME   the push's instance (default: the host name), so runners\n"
"                        never overwrite each other\n"
"      --label NAME=VALUE  a label on every series of --listen, --prometheus and\n"
"                        --pushgateway (repeatable); a textfile's series also carry\n"
"                        run=\"FILE's name without .prom\" unless --label run=... is given\n";

static const char usage_running[] =
"Running:\n"
"  -p, --pid PID         attach to a running process and its descendants\n"
"  -u, --user USER       run COMMAND as USER (under sudo the default is the invoking\n"
"                        user, so builds never leave root-owned files)\n"
"      --wait-all        keep tracing until every descendant has exited, not just\n"
"                        COMMAND\n"
"      --progress        a live status line at the bottom of the terminal (tree now,\n"
"                        peak so far, processes, the largest), erased at the end; and\n"
"                        any time, kill -USR1 prints that line on stderr, as dd does\n"
"      --ring-size SIZE  kernel-to-bmtrace buffer (default 8M, 1M per CPU past 8);\n"
"                        losses are counted and reported\n"
"      --max-processes N  processes (and address spaces) followed at once (default\n"
"                        65536); more are counted and reported, never silently dropped\n"
"  -v, --verbose         libbpf's log and bmtrace's debug messages\n"
"  -V, --version         the version\n";

static const char usage_tail[] =
"\n"
"Exit status: COMMAND's own; 128+N if it died of signal N; 125 if bmtrace itself\n"
"could not run; 126/127 if COMMAND could not be executed / was not found; 98 if\n"
"COMMAND succeeded but its peak exceeded --max-peak (or diff --fail-if-peak-grows).\n"
"\n"
"Examples:\n"
"  sudo bmtrace -- make -j2\n"
"  sudo bmtrace --stages toolchain -- make -j2\n"
"  sudo bmtrace --stage compile='^cc1(plus)? ' --stage link='^(collect2|ld) ' -- make\n"
"  sudo bmtrace -w build.bmt --json peak.json --svg peak.svg -- ./build.sh\n"
"  sudo bmtrace --max-peak 3500M --markdown \"$GITHUB_STEP_SUMMARY\" -- make -j4\n"
"  bmtrace report build.bmt --stage link='^(collect2|ld) ' --timeline mem.csv.gz\n"
"  bmtrace diff main.json branch.json --fail-if-peak-grows 5\n"
"\n"
"'bmtrace help report', 'help diff' and 'help serve' give each subcommand's options.\n";

static const char usage_report[] =
"Usage: bmtrace report [OPTIONS] TRACE\n"
"\n"
"Rebuilds the reports of a run from its recording (bmtrace -w TRACE), without root:\n"
"the same reports, byte for byte, or others (new stage rules, a budget). The summary\n"
"goes to stdout (to stderr when another report does: --json -).\n"
"\n";

static const char usage_report_tail[] =
"\n"
"Exit status: 0; 98 if the recorded COMMAND succeeded but its peak exceeded --max-peak;\n"
"125 if the trace cannot be read (a one-line reason).\n"
"\n"
"Examples:\n"
"  bmtrace report build.bmt > summary.txt\n"
"  bmtrace report build.bmt --stages toolchain --svg chart.svg --max-peak 4G\n";

static const char usage_diff[] =
"Usage: bmtrace diff [OPTIONS] BEFORE.json AFTER.json\n"
"\n"
"Compares two results (--json of two runs): the peak, the anon peak, the duration, each\n"
"stage's and each command's own peak, with absolute and relative change.\n"
"\n"
"Options:\n"
"      --json            JSON instead of the table\n"
"  -o, --output FILE     write to FILE instead of stdout\n"
"      --fail-if-peak-grows PCT  exit 98 when the peak grew by more than PCT percent\n"
"  -h, --help            this text\n"
"\n"
"Exit status: 0; 98 if the peak grew by more than --fail-if-peak-grows; 125 if a\n"
"result cannot be read (a one-line reason).\n"
"\n"
"Example:\n"
"  bmtrace diff main.json branch.json --fail-if-peak-grows 5\n";

static const char usage_serve[] =
"Usage: bmtrace serve [OPTIONS]\n"
"\n"
"A daemon for CI hosts: each tree's live memory on /metrics, and each ended tree's\n"
"peak into the histogram bmtrace_tree_peak_bytes; trees are decided in the kernel,\n"
"no child missed. SIGTERM or SIGINT stops it (exit 0).\n"
"\n"
"Options:\n"
"      --root NAME       a process that execs a program named NAME (15 characters, as\n"
"                        the kernel keeps it) starts a tree: it and its descendants,\n"
"                        those forked before that exec included (repeatable)\n"
"      --cgroup-parent DIR  each child cgroup of DIR (cgroup v2) is a tree: a CI job\n"
"                        unit, a container (repeatable)\n"
"      --listen ADDR:PORT  default 127.0.0.1:9977\n"
"      --expire SECONDS  ended trees stay in /metrics this long (default 300)\n"
"      --max-trees N     trees followed at once (default 1000); more are counted in\n"
"                        bmtrace_trees_dropped_total\n"
"      --label-env NAME=VAR  label each tree NAME=\"the value of VAR in its root's\n"
"                        environment\" (e.g. job=CI_JOB_NAME; read at the tree's start,\n"
"                        at most 128 bytes; repeatable)\n"
"      --min-peak SIZE   a tree whose peak stayed under SIZE is not exported\n"
"      --max-processes N  processes followed at once over all trees (default 65536)\n"
"  -u, --user USER       once attached, run as USER keeping only CAP_BPF\n"
"      --stage NAME=REGEX, --stages toolchain  as when tracing, within each tree\n"
"  -v, --verbose         libbpf's log and bmtrace's debug messages\n"
"  -h, --help            this text\n"
"\n"
"Example:\n"
"  sudo bmtrace serve --root make --stages toolchain --user nobody\n";

void cli_help(enum bmt_mode mode, FILE *out)
{
	switch (mode) {
	case MODE_REPORT:
		fputs(usage_report, out);
		fputs(usage_outputs, out);
		fputs(usage_budget, out);
		fputs(usage_stages, out);
		fputs(usage_help, out);
		fputs(usage_report_tail, out);
		return;
	case MODE_DIFF:
		fputs(usage_diff, out);
		return;
	case MODE_SERVE:
		fputs(usage_serve, out);
		return;
	default:
		fputs(usage_head, out);
		fputs(usage_outputs, out);
		fputs(usage_trace, out);
		fputs(usage_budget, out);
		fputs(usage_memory, out);
		fputs(usage_stages, out);
		fputs(usage_running, out);
		fputs(usage_help, out);
		fputs(usage_tail, out);
	}
}
