/* SPDX-License-Identifier: MIT */
/*
 * jobctl - bmtrace as a transparent wrapper of COMMAND's job: which signal goes where.
 *
 * - Signals sent to bmtrace alone (kill, a CI runner's SIGTERM) are forwarded to COMMAND;
 *   those typed at bmtrace's terminal reached COMMAND already, in the same process group.
 * - A job-control stop of COMMAND (Ctrl-Z, tty input from the background, a SIGTSTP it sent
 *   itself) stops bmtrace with the same signal, as sudo does, so the shell sees the job
 *   stopped; a SIGSTOP someone sent COMMAND is theirs to continue: bmtrace keeps tracing.
 * - With -p (no COMMAND of ours), a signal ends the tracing, never the traced process.
 */
#ifndef BMT_JOBCTL_H
#define BMT_JOBCTL_H

#include <sys/signalfd.h>
#include <sys/types.h>

struct jobctl {
	pid_t child;   /* COMMAND; -1 with -p */
	int root_done; /* COMMAND (or the -p root) has ended */
	int stop;      /* -p: a signal ended the tracing */
	int status;    /* COMMAND's wait status, once root_done */
	int verbose;   /* say which signal is being waited out */
};

/* The signals bmtrace reads while tracing, besides SIGTSTP, read too once COMMAND has exec'd. */
extern const int jobctl_signals[];
extern const int jobctl_n_signals;

/* One signal bmtrace received (through the event loop's signalfd). */
void jobctl__signal(struct jobctl *j, const struct signalfd_siginfo *si);

#endif /* BMT_JOBCTL_H */
