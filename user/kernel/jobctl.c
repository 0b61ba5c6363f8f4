// SPDX-License-Identifier: MIT
/* jobctl - COMMAND's signals and stops through bmtrace (jobctl.h). */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include "escape.h"
#include "jobctl.h"

/* Forwarded to COMMAND, or they end -p tracing; SIGCHLD tells COMMAND's state changed. */
const int jobctl_signals[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT };
const int jobctl_n_signals = sizeof(jobctl_signals) / sizeof(jobctl_signals[0]);

/* Was this signal typed at our terminal? Then COMMAND, in our process group, has it too. */
static int from_our_tty(const struct signalfd_siginfo *si, pid_t child)
{
	return si->ssi_code == SI_KERNEL && child > 0 && getpgid(child) == getpgrp();
}

/*
 * COMMAND stopped. A job-control stop (Ctrl-Z, the terminal touched from the background, a
 * SIGTSTP it sent itself alone) is the job's: bmtrace stops with the same signal, as sudo
 * does, so the shell sees the job stopped rather than waiting on a bmtrace that runs. A
 * SIGSTOP is a pause by whoever sent it, who continues COMMAND alone: bmtrace keeps tracing.
 */
static void stop_with(pid_t child, int sig)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
	sigset_t one, mask;

	if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)
		return;
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigaction(sig, &dfl, &old);
	sigprocmask(SIG_BLOCK, &one, &mask);
	raise(sig); /* pending while blocked: one stop, however many were queued */
	sigprocmask(SIG_UNBLOCK, &one, NULL); /* stopped here until continued */
	sigprocmask(SIG_SETMASK, &mask, NULL);
	sigaction(sig, &old, NULL);
	/* fg or bg continued our process group; COMMAND in another one needs it too */
	if (child > 0 && getpgid(child) != getpgrp())
		kill(child, SIGCONT);
}

void jobctl__signal(struct jobctl *j, const struct signalfd_siginfo *si)
{
	int status;

	if (si->ssi_signo == SIGCHLD) {
		/* WUNTRACED: a stop is followed, never taken for the end */
		if (j->child > 0 && !j->root_done &&
		    waitpid(j->child, &status, WNOHANG | WUNTRACED) == j->child) {
			if (WIFSTOPPED(status)) {
				stop_with(j->child, WSTOPSIG(status));
			} else {
				j->status = status;
				j->root_done = 1;
			}
		}
		return;
	}
	if (j->child <= 0) {
		j->stop = 1; /* -p: Ctrl-C ends the tracing, not the traced process */
		return;
	}
	if (si->ssi_signo == SIGTSTP && j->root_done) {
		/* --wait-all, COMMAND gone: what is left of the job stops, and bmtrace with it */
		stop_with(-1, SIGTSTP);
		return;
	}
	if (!j->root_done && !from_our_tty(si, j->child))
		kill(j->child, si->ssi_signo);
	if (j->verbose)
		esc_say(stderr, "got signal %u, waiting for COMMAND", si->ssi_signo);
}
