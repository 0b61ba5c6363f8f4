/* SPDX-License-Identifier: MIT */
/*
 * serve - `bmtrace serve`: follow many trees at once (decided in the kernel: --root
 * execs and child cgroups of --cgroup-parent) and export them to Prometheus on /metrics.
 */
#ifndef BMT_SERVE_H
#define BMT_SERVE_H

#include "cli.h"

/* Run until SIGINT/SIGTERM/SIGHUP; returns the exit status (0, or 125 after saying why). */
int serve_main(const struct config *cfg);

#endif /* BMT_SERVE_H */
