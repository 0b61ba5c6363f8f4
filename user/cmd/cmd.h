/* SPDX-License-Identifier: MIT */
/*
 * cmd - bmtrace's subcommands, one file each, chosen by main.c's table. Each takes the
 * parsed command line and returns bmtrace's exit status (status.h).
 */
#ifndef BMT_CMD_H
#define BMT_CMD_H

#include "cli.h"

int cmd_trace(struct config *cfg);  /* -- COMMAND, -p PID (cmd_trace.c) */
int cmd_report(struct config *cfg); /* report TRACE (cmd_report.c) */
int cmd_diff(struct config *cfg);   /* diff BEFORE.json AFTER.json (cmd_diff.c) */
/* serve (serve.c): runs until SIGINT/SIGTERM/SIGHUP; 0, or 125 after saying why */
int cmd_serve(struct config *cfg);

#endif /* BMT_CMD_H */
