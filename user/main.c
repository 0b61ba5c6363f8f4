// SPDX-License-Identifier: MIT
/*
 * bmtrace - how much memory did a command's whole process tree hold at its worst
 * moment, when, and who held it.
 *
 * main is thin: parse the command line, run the subcommand it names, return its status.
 * Records flow one way: kernel (bpf/) -> tracer -> collector (and the recording) -> reports;
 * README, "How it works", names the file of each step.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "cli.h"
#include "cmd.h"
#include "escape.h"
#include "status.h"

/* The subcommands (cli.c knows their words): each mode and the function that runs it. */
static const struct cmd {
	enum bmt_mode mode;
	int (*fn)(struct config *cfg);
} cmds[] = {
	{ MODE_RUN, cmd_trace },	 /* bmtrace [OPTIONS] -- COMMAND */
	{ MODE_PID, cmd_trace },	 /* bmtrace [OPTIONS] -p PID */
	{ MODE_REPORT, cmd_report }, /* bmtrace report [OPTIONS] TRACE */
	{ MODE_DIFF, cmd_diff },	 /* bmtrace diff BEFORE.json AFTER.json */
	{ MODE_SERVE, cmd_serve },	 /* bmtrace serve [OPTIONS] */
};

/*
 * Started with 0, 1 or 2 closed, bmtrace's first descriptor (a BPF map, the ring, a report)
 * would take that number, and `--json -` or the summary would be written into it. Each
 * closed one gets /dev/null, close-on-exec, so COMMAND still finds it closed, as it would
 * without bmtrace. Stdout's is read-only: `--json -` fails (EBADF) as on a closed stdout;
 * the summary on a closed stderr just goes nowhere, as any tool's messages would.
 */
static void hold_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int nul = open("/dev/null", (fd == 1 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);

		if (nul >= 0 && nul != fd) { /* a lower one was closed too and took it: move */
			dup3(nul, fd, O_CLOEXEC);
			close(nul);
		}
	}
}

int main(int argc, char **argv)
{
	struct config cfg;
	char err[512];
	int rc;

	hold_std_fds();
	rc = cli_parse(argc, argv, &cfg, stdout, err, sizeof(err));
	if (rc) {
		if (rc < 0)
			esc_say(stderr, "%s", err);
		cli_free(&cfg);
		return rc < 0 ? BMT_EXIT_BMTRACE : 0;
	}
	rc = BMT_EXIT_BMTRACE;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (cmds[i].mode == cfg.mode)
			rc = cmds[i].fn(&cfg);
	cli_free(&cfg);
	return rc;
}
