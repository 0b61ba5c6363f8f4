// SPDX-License-Identifier: MIT
/*
 * sampler - the bench's /proc peer of bmtrace: what a build harness that polls `ps`
 * does. It runs a command and, every INTERVAL ms, finds the command's descendants
 * (a scan of /proc/[pid]/stat for parent pids) and sums their resident memory
 * (/proc/[pid]/statm's resident pages: RssAnon + RssFile + RssShmem, the kernel's
 * get_mm_rss()). It reports the largest sum it saw.
 *
 *   sampler [-o FILE] [-d DELAY_MS] INTERVAL_MS -- COMMAND [ARG...]
 *
 * The first sample is taken DELAY_MS (default 0) after the command starts: the phase of
 * the sampling grid against the workload. A real harness's grid has no relation to when
 * a build's compiler peaks; the bench spreads the phase over the interval across runs, so
 * that a workload's fixed timing does not make a sampler lucky or unlucky every time.
 * FILE (default stderr) gets "peak_bytes N", "samples N" and "max_processes N" (the most
 * seen at once) lines.
 * sampler exits with the command's status (128+N for signal N). It stops as soon as the
 * command ends (a pidfd), so its wall time is the command's.
 *
 * What it cannot see, by design: anything that rises and falls between two samples (a
 * 20 ms spike under a 150 ms interval), processes started and ended between samples, and
 * descendants whose parent died (they are reparented away from the tree). Like `ps`, it
 * counts a fork child's inherited pages again (the raw sum).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct proc {
	int pid, ppid;
	signed char in; /* -1 unknown, 0 outside the tree, 1 in it */
};

static struct proc *procs;
static size_t nprocs, cap;
static long page_size;

static void usage(void)
{
	fprintf(stderr, "usage: sampler [-o FILE] [-d DELAY_MS] INTERVAL_MS -- COMMAND [ARG...]\n");
	exit(2);
}

static int by_pid(const void *a, const void *b)
{
	return ((const struct proc *)a)->pid - ((const struct proc *)b)->pid;
}

static struct proc *find(int pid)
{
	struct proc key = {.pid = pid};

	return bsearch(&key, procs, nprocs, sizeof(*procs), by_pid);
}

/* Every process of the system with its parent, sorted by pid. */
static void scan(void)
{
	char path[64], buf[512], *p;
	struct dirent *e;
	DIR *d = opendir("/proc");
	FILE *f;

	nprocs = 0;
	if (!d)
		return;
	while ((e = readdir(d))) {
		int pid, ppid;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid = atoi(e->d_name);
		snprintf(path, sizeof(path), "/proc/%d/stat", pid);
		f = fopen(path, "r");
		if (!f)
			continue; /* gone */
		p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
		fclose(f);
		if (!p || sscanf(p, ") %*c %d", &ppid) != 1)
			continue;
		if (nprocs == cap) {
			cap = cap ? 2 * cap : 1024;
			procs = realloc(procs, cap * sizeof(*procs));
			if (!procs) {
				perror("sampler");
				exit(1);
			}
		}
		procs[nprocs++] = (struct proc){pid, ppid, -1};
	}
	closedir(d);
	qsort(procs, nprocs, sizeof(*procs), by_pid);
}

/* Is p the root or below it? Memoized; parent chains are short and acyclic. */
static int in_tree(struct proc *p, int root)
{
	struct proc *parent;

	if (p->in < 0) {
		parent = p->pid == root ? NULL : find(p->ppid);
		p->in = p->pid == root || (parent && parent != p && in_tree(parent, root));
	}
	return p->in;
}

/* The resident bytes of the tree under root now; *n: how many processes it had. */
static unsigned long long sample(int root, size_t *n)
{
	unsigned long long sum = 0, size, resident;
	char path[64];
	size_t i;
	FILE *f;

	scan();
	*n = 0;
	for (i = 0; i < nprocs; i++) {
		if (!in_tree(&procs[i], root))
			continue;
		snprintf(path, sizeof(path), "/proc/%d/statm", procs[i].pid);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu %llu", &size, &resident) == 2) {
			sum += resident * page_size;
			++*n;
		}
		fclose(f);
	}
	return sum;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
	unsigned long long peak = 0, samples = 0, max_procs = 0;
	const char *out = NULL;
	long long next;
	long interval, delay = 0;
	int opt, pidfd, st;
	pid_t pid;
	FILE *f;

	while ((opt = getopt(argc, argv, "+o:d:")) != -1) {
		if (opt == 'o')
			out = optarg;
		else if (opt == 'd' && (delay = atol(optarg)) >= 0)
			continue;
		else
			usage();
	}
	if (argc - optind < 3 || strcmp(argv[optind + 1], "--") ||
	    (interval = atol(argv[optind])) < 1)
		usage();
	page_size = sysconf(_SC_PAGESIZE);
	pid = fork();
	if (pid < 0) {
		perror("sampler: fork");
		return 1;
	}
	if (pid == 0) {
		execvp(argv[optind + 2], argv + optind + 2);
		fprintf(stderr, "sampler: %s: %s\n", argv[optind + 2], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		perror("sampler: pidfd_open");
		return 1;
	}
	next = now_ms() + delay;
	for (;;) {
		struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
		long long wait = next - now_ms();
		size_t n;

		if (poll(&pfd, 1, wait > 0 ? (int)wait : 0) > 0)
			break; /* the command ended */
		if (wait > 0)
			continue; /* a signal: not yet time */
		unsigned long long sum = sample(pid, &n);

		samples++;
		if (sum > peak)
			peak = sum;
		if (n > max_procs)
			max_procs = n;
		next += interval;
		if (next < now_ms())
			next = now_ms(); /* a sample took longer than the interval: no burst */
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			perror("sampler: waitpid");
			return 1;
		}
	f = out ? fopen(out, "w") : stderr;
	if (!f) {
		perror(out);
		return 1;
	}
	fprintf(f, "peak_bytes %llu\nsamples %llu\nmax_processes %llu\n", peak, samples, max_procs);
	if (out && fclose(f)) {
		perror(out);
		return 1;
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
