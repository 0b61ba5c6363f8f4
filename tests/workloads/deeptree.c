// SPDX-License-Identifier: MIT
/*
 * deeptree N MIB [ROUNDS] - a tree of N live processes at once (process i forks i*2+1 and
 * i*2+2, so 300 processes are 9 levels deep), each touching MIB MiB of its own after its
 * forks (nothing big is inherited: tree peak = raw sum ~ N * MIB plus each process's
 * binary and libc). When all N hold their memory they are released together and exit,
 * each parent reaping its children; ROUNDS times (default 1), the root staying. A tracer
 * of the tree must count 1 + ROUNDS * (N - 1) processes.
 *
 * Memory is anonymous mmap touched through a volatile pointer, 4 KiB pages, no THP, so
 * every page is one rss_stat event and gcc -O2 keeps every write.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
	perror(what);
	_exit(100);
}

/* Map mib MiB and make every page resident; the mapping (NULL for 0). */
static void *touch(long mib)
{
	size_t len = (size_t)mib << 20, off;
	volatile char *p;
	void *m;

	if (!len)
		return NULL;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		die("deeptree: mmap");
	madvise(m, len, MADV_NOHUGEPAGE);
	p = m;
	for (off = 0; off < len; off += 4096)
		p[off] = 1;
	return m;
}

/* Reap every child; 0 when all exited 0. */
static int reap(void)
{
	int status, rc = 0;

	for (;;) {
		if (wait(&status) < 0) {
			if (errno == EINTR)
				continue;
			return rc;
		}
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			rc = 1;
	}
}

/*
 * Process `i` of the round: fork its children, touch, report ready, wait for the release
 * (EOF on go_r: only the root holds the write end), reap. Children exit from here; the
 * root gets its mapping back.
 */
static void *node(long i, long n, long mib, int ready_w, int go_r, int go_w)
{
	char c = 1;
	void *mem;

	for (long k = 2 * i + 1; k <= 2 * i + 2 && k < n; k++) {
		pid_t pid = fork();

		if (pid < 0)
			die("deeptree: fork");
		if (pid == 0) {
			if (go_w >= 0)
				close(go_w);
			node(k, n, mib, ready_w, go_r, -1);
		}
	}
	mem = touch(mib);
	if (i == 0)
		return mem;
	if (write(ready_w, &c, 1) != 1)
		die("deeptree: write");
	while (read(go_r, &c, 1) < 0 && errno == EINTR)
		;
	_exit(reap());
}

int main(int argc, char **argv)
{
	long n, mib, rounds = 1, got;
	int rp[2], gp[2], rc = 0;
	char buf[256];

	if (argc < 3 || argc > 4 || (n = atol(argv[1])) < 1 || (mib = atol(argv[2])) < 0 ||
	    (argc == 4 && (rounds = atol(argv[3])) < 1)) {
		fprintf(stderr, "usage: deeptree N MIB [ROUNDS]\n");
		return 2;
	}
	for (long r = 0; r < rounds; r++) {
		if (pipe(rp) || pipe(gp))
			die("deeptree: pipe");
		void *mem = node(0, n, mib, rp[1], gp[0], gp[1]);

		close(rp[1]);
		for (got = 0; got < n - 1;) {
			ssize_t k = read(rp[0], buf, sizeof(buf));

			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0)
				break; /* a process died before it was ready */
			got += k;
		}
		close(gp[1]); /* release the round */
		close(gp[0]);
		close(rp[0]);
		rc |= reap() || got != n - 1;
		if (mem)
			munmap(mem, (size_t)mib << 20);
	}
	printf("deeptree: %ld rounds of %ld processes x %ld MiB\n", rounds, n, mib);
	return rc;
}
