// SPDX-License-Identifier: MIT
/*
 * runstat - run a command and report its wall time and, with -s, the peak RSS and CPU
 * time of that one process alone, not of the processes it starts.
 *
 *   runstat [-s] -o FILE -- COMMAND [ARG...]
 *
 * FILE gets "key value" lines: wall_s (from the exec being let go to the reap), status
 * (as a shell reports it: 128+N for signal N), tree_cpu_s (user + system time of the
 * command and of every descendant it waited for, as wait4() reports it: for a tracer, its
 * own and the workload's, in which the time of BPF programs run by the workload's tasks is
 * charged) and, with -s, own_maxrss_kib, own_user_s, own_sys_s. runstat exits with the
 * command's status.
 *
 * Why not /usr/bin/time or wait4(): the rusage the kernel hands a parent for a reaped
 * child covers the child and every descendant it waited for (ru_maxrss is the largest of
 * them, CPU times their sum). A tracer's children are the traced workload, so those
 * figures are the workload's. With -s, runstat attaches to COMMAND with
 * PTRACE_SEIZE and only PTRACE_O_TRACEEXIT: the command then stops once, at its exit,
 * while its address space still exists, and runstat reads VmHWM from /proc/PID/status
 * and utime, stime (fields 14 and 15: the process's own, its children's are 16 and 17)
 * from /proc/PID/stat. No other stop happens but a signal's delivery, which is passed on
 * unchanged; the processes COMMAND starts are not traced. A traced command that receives
 * a signal per child pays a stop each time, so -s is for tracers, not workloads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct own {
	long maxrss_kib;
	double user_s, sys_s;
	int seen;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: runstat [-s] -o FILE -- COMMAND [ARG...]\n");
	exit(2);
}

/* The process's own figures, read at its exit stop. */
static void read_own(pid_t pid, struct own *own)
{
	char path[64], buf[4096], *p;
	unsigned long long ut, st;
	long tick = sysconf(_SC_CLK_TCK);
	FILE *f;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f) {
		while (fgets(buf, sizeof(buf), f))
			if (sscanf(buf, "VmHWM: %ld kB", &own->maxrss_kib) == 1)
				break;
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')'))) {
		/* after ") ": field 3 (state) onwards; utime and stime are fields 14, 15 */
		p += 2;
		for (i = 3; i < 14 && p; i++) {
			p = strchr(p, ' ');
			if (p)
				p++;
		}
		if (p && sscanf(p, "%llu %llu", &ut, &st) == 2) {
			own->user_s = (double)ut / tick;
			own->sys_s = (double)st / tick;
			own->seen = 1;
		}
	}
	fclose(f);
}

/* Wait for the traced command to end, letting every stop go on. Its wait status. */
static int wait_traced(pid_t pid, struct own *own, struct rusage *ru)
{
	int st;

	for (;;) {
		if (wait4(pid, &st, __WALL, ru) < 0) {
			if (errno == EINTR)
				continue;
			perror("runstat: waitpid");
			exit(1);
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			return st;
		if (!WIFSTOPPED(st))
			continue;
		if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
			read_own(pid, own);
			ptrace(PTRACE_CONT, pid, 0, 0);
		} else if (st >> 16) {
			ptrace(PTRACE_CONT, pid, 0, 0); /* another event stop (group stop) */
		} else {
			ptrace(PTRACE_CONT, pid, 0, WSTOPSIG(st)); /* deliver the signal */
		}
	}
}

int main(int argc, char **argv)
{
	const char *out = NULL;
	int opt, self = 0, gate[2], st, code;
	struct own own = {0};
	struct rusage ru;
	double t0, wall;
	pid_t pid;
	FILE *f;
	char c;

	while ((opt = getopt(argc, argv, "+so:")) != -1) {
		if (opt == 's')
			self = 1;
		else if (opt == 'o')
			out = optarg;
		else
			usage();
	}
	if (!out || optind >= argc)
		usage();
	if (pipe(gate)) {
		perror("runstat: pipe");
		return 1;
	}
	pid = fork();
	if (pid < 0) {
		perror("runstat: fork");
		return 1;
	}
	if (pid == 0) {
		/* held until the parent has attached */
		close(gate[1]);
		if (read(gate[0], &c, 1) != 1)
			_exit(125);
		close(gate[0]);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "runstat: %s: %s\n", argv[optind], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	close(gate[0]);
	if (self && ptrace(PTRACE_SEIZE, pid, 0, PTRACE_O_TRACEEXIT)) {
		perror("runstat: ptrace");
		kill(pid, SIGKILL);
		return 1;
	}
	t0 = now_s();
	if (write(gate[1], "x", 1) != 1) {
		perror("runstat: write");
		return 1;
	}
	close(gate[1]);
	if (self) {
		st = wait_traced(pid, &own, &ru);
	} else {
		while (wait4(pid, &st, 0, &ru) < 0)
			if (errno != EINTR) {
				perror("runstat: waitpid");
				return 1;
			}
	}
	wall = now_s() - t0;
	code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	f = fopen(out, "w");
	if (!f) {
		perror(out);
		return 1;
	}
	fprintf(f, "wall_s %.6f\nstatus %d\ntree_cpu_s %.3f\n", wall, code,
		ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
		    ru.ru_stime.tv_usec / 1e6);
	if (self && own.seen)
		fprintf(f, "own_maxrss_kib %ld\nown_user_s %.2f\nown_sys_s %.2f\n", own.maxrss_kib,
			own.user_s, own.sys_s);
	if (fclose(f)) {
		perror(out);
		return 1;
	}
	return code;
}
