// SPDX-License-Identifier: MIT
/*
 * memhog - a workload whose memory is known exactly, one subcommand per case of
 * README's "What is measured". Sizes are MiB. Memory is anonymous mmap touched through a
 * volatile pointer, one write per 4 KiB page, so gcc -O2 keeps every write.
 *
 *   memhog hold N            touch N, wait at the peak, exit 0
 *   memhog forkexec P C      touch P, fork + exec "memhog hold C"; tree ~P+C, raw ~2P
 *   memhog spawn P C         same with posix_spawn; tree ~P+C, raw ~P+C
 *   memhog vfork P C         same with vfork + exec; tree ~P+C, raw ~P+C
 *   memhog execinto P C      touch P, then exec "memhog hold C"; ~max(P, C)
 *   memhog threads T N       T threads touch N each, all alive at the peak; T*N
 *   memhog spike P S MS      touch P, fork a child that touches S new MiB for MS ms, no
 *                            wait at the peak (the spike is the point); tree ~P+S, raw ~2P+S
 *   memhog cow P             touch P, fork, the child rewrites all P; tree ~P, raw ~2P
 *   memhog tree D W N        a fork tree D levels below the root, W children per node, each
 *                            process touches N after its forks; (1+W+..+W^D)*N
 *   memhog late N            wait at the start (see below), then touch N and wait at the peak
 *   memhog exit CODE | kill SIG | touchfile PATH | sleep MS
 *   memhog demo              the README demo: "skc" 300 MiB runs "clang" 100 MiB
 *
 * Waiting at the peak (the test oracle, accounting.md). When the whole workload has
 * reached its peak, the top-level process writes the pids of every live workload
 * process, one per line, to $BMT_PEAK_PIDS (temp file + rename), then blocks opening
 * and reading $BMT_PEAK_FIFO until a byte arrives (or the writer closes). Without
 * BMT_PEAK_FIFO the peak is held 50 ms. Then every process exits.
 *
 * Children report readiness up the tree by writing their pid to a "ready" pipe and then
 * block on a "go" pipe until the top-level process closes its write end. Exec'd
 * children find both through MEMHOG_READY_FD and MEMHOG_GO_FD; the top-level process
 * has neither. `late` writes the pids file and waits on the fifo once more before it
 * touches anything, so a test can attach to it (bmtrace -p) first.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MIB	 (1024UL * 1024)
#define PAGE	 4096UL
#define MAX_PIDS 4096

extern char **environ;

static const char *prog = "memhog";
static char self[PATH_MAX]; /* this executable, for the exec cases */

/* The readiness pipes; -1 when unused. */
static int ready_r = -1, ready_w = -1; /* children -> top level: "pid\n" */
static int go_r = -1, go_w = -1;       /* top level -> children: EOF = release */
static int is_child;		       /* a workload child, not the top level */

static void die(const char *what)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, strerror(errno));
	exit(100);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: %s hold N | forkexec P C | spawn P C | vfork P C | "
		"execinto P C | threads T N | spike P S MS | cow P | tree D W N | "
		"late N | exit CODE | kill SIG | touchfile PATH | sleep MS | demo\n",
		prog);
	exit(2);
}

static long arg_num(char **argv, int argc, int i)
{
	char *end;
	long v;

	if (i >= argc)
		usage();
	errno = 0;
	v = strtol(argv[i], &end, 10);
	if (errno || end == argv[i] || *end || v < 0)
		usage();
	return v;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Map mib MiB of fresh anonymous memory and make every 4 KiB page resident. */
static volatile char *touch_new(long mib)
{
	size_t len = (size_t)mib * MIB;
	volatile char *p;
	size_t off;
	void *m;

	if (!len)
		return NULL;
	m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		die("mmap");
	/* Small pages only: one rss_stat event per page, the same on every THP setting. */
	madvise(m, len, MADV_NOHUGEPAGE);
	p = m;
	for (off = 0; off < len; off += PAGE)
		p[off] = 1;
	return p;
}

/* Write every page again (a fork child breaking copy-on-write). */
static void rewrite(volatile char *p, long mib)
{
	size_t len = (size_t)mib * MIB, off;

	for (off = 0; off < len; off += PAGE)
		p[off] = 2;
}

static int env_fd(const char *name)
{
	const char *s = getenv(name);

	return s ? atoi(s) : -1;
}

/* Clear FD_CLOEXEC: the end an exec'd child needs. */
static void keep_on_exec(int fd)
{
	if (fcntl(fd, F_SETFD, 0) < 0)
		die("fcntl");
}

/*
 * The top level creates both pipes. The ends that only it uses are close-on-exec, and a
 * fork child closes them in after_fork(), so the go pipe reaches EOF exactly when the
 * top level closes go_w.
 */
static void sync_init(void)
{
	int rp[2], gp[2];
	char buf[16];

	if (is_child)
		return;
	if (pipe2(rp, O_CLOEXEC) || pipe2(gp, O_CLOEXEC))
		die("pipe");
	ready_r = rp[0];
	ready_w = rp[1];
	go_r = gp[0];
	go_w = gp[1];
	keep_on_exec(ready_w);
	keep_on_exec(go_r);
	snprintf(buf, sizeof(buf), "%d", ready_w);
	setenv("MEMHOG_READY_FD", buf, 1);
	snprintf(buf, sizeof(buf), "%d", go_r);
	setenv("MEMHOG_GO_FD", buf, 1);
}

/* In a fork child (no exec): become a workload child. */
static void after_fork(void)
{
	if (!is_child) {
		close(ready_r);
		close(go_w);
		ready_r = go_w = -1;
		is_child = 1;
	}
}

static void write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("write");
		buf += n;
		len -= n;
	}
}

static void write_pids_file(const char *path, const pid_t *pids, int n)
{
	char tmp[PATH_MAX + 32], line[32];
	int fd, i;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		die(tmp);
	for (i = 0; i < n; i++) {
		int len = snprintf(line, sizeof(line), "%d\n", (int)pids[i]);

		write_all(fd, line, len);
	}
	if (close(fd) || rename(tmp, path))
		die(path);
}

/* Tell the test where we are, then wait for its byte; 50 ms without a test. */
static void oracle_wait(const pid_t *pids, int n)
{
	const char *fifo = getenv("BMT_PEAK_FIFO");
	const char *pfile = getenv("BMT_PEAK_PIDS");
	char c;
	int fd;

	if (!fifo) {
		sleep_ms(50);
		return;
	}
	if (pfile)
		write_pids_file(pfile, pids, n);
	fd = open(fifo, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(fifo);
	while (read(fd, &c, 1) < 0 && errno == EINTR)
		;
	close(fd);
}

/*
 * The whole workload is at its peak when this process and its `children` descendants
 * have all called it. The top level waits for their reports, runs the oracle and
 * releases everyone; a child reports and waits for the release.
 */
static void peak(int children)
{
	static pid_t pids[MAX_PIDS];
	char buf[256];
	size_t have = 0;
	int n = 0;

	if (is_child) {
		int len = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());

		write_all(ready_w, buf, len);
		while (read(go_r, buf, sizeof(buf)) < 0 && errno == EINTR)
			; /* EOF: released */
		return;
	}
	/* Our children have their copies: EOF on the ready pipe now means they all died. */
	if (ready_w >= 0) {
		close(ready_w);
		ready_w = -1;
	}
	pids[n++] = getpid();
	while (n < children + 1) {
		char *nl;
		ssize_t got = read(ready_r, buf + have, sizeof(buf) - 1 - have);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			die("ready pipe");
		have += got;
		buf[have] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			size_t line = nl + 1 - buf;

			if (n < MAX_PIDS)
				pids[n++] = atoi(buf);
			memmove(buf, buf + line, have - line + 1);
			have -= line;
		}
	}
	oracle_wait(pids, n);
	if (go_w >= 0) {
		close(go_w);
		go_w = -1;
	}
}

/* Wait for every child; 0 when all exited 0. */
static int reap_all(void)
{
	int status, rc = 0;

	while (wait(&status) > 0)
		if (!WIFEXITED(status) || WEXITSTATUS(status))
			rc = 1;
	return rc;
}

/* argv for "memhog hold MIB", in buf. */
static char **hold_argv(long mib, char *buf, size_t len, char *args[4])
{
	snprintf(buf, len, "%ld", mib);
	args[0] = "memhog";
	args[1] = "hold";
	args[2] = buf;
	args[3] = NULL;
	return args;
}

static int cmd_hold(long n)
{
	touch_new(n);
	peak(0);
	return 0;
}

enum spawn_how { HOW_FORK, HOW_SPAWN, HOW_VFORK };

static int cmd_parent_child(long p, long c, enum spawn_how how)
{
	char buf[32], *args[4];
	pid_t pid;

	hold_argv(c, buf, sizeof(buf), args);
	sync_init();
	touch_new(p);
	switch (how) {
	case HOW_FORK:
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid == 0) {
			execv(self, args);
			die("execv");
		}
		break;
	case HOW_SPAWN:
		errno = posix_spawn(&pid, self, NULL, NULL, args, environ);
		if (errno)
			die("posix_spawn");
		break;
	case HOW_VFORK:
		pid = vfork();
		if (pid < 0)
			die("vfork");
		if (pid == 0) {
			execv(self, args);
			_exit(127);
		}
		break;
	}
	peak(1);
	return reap_all();
}

static int cmd_execinto(long p, long c)
{
	char buf[32], *args[4];

	touch_new(p);
	execv(self, hold_argv(c, buf, sizeof(buf), args));
	die("execv");
	return 100;
}

struct thread_arg {
	long mib;
	pthread_barrier_t *at_peak, *release;
};

static void *thread_main(void *a)
{
	struct thread_arg *t = a;

	touch_new(t->mib);
	pthread_barrier_wait(t->at_peak);
	pthread_barrier_wait(t->release);
	return NULL;
}

static int cmd_threads(long nthreads, long mib)
{
	pthread_barrier_t at_peak, release;
	struct thread_arg arg = {mib, &at_peak, &release};
	pthread_t *tids = calloc(nthreads, sizeof(*tids));
	long i;

	if (!tids || nthreads < 1)
		usage();
	pthread_barrier_init(&at_peak, NULL, nthreads + 1);
	pthread_barrier_init(&release, NULL, nthreads + 1);
	for (i = 0; i < nthreads; i++) {
		errno = pthread_create(&tids[i], NULL, thread_main, &arg);
		if (errno)
			die("pthread_create");
	}
	pthread_barrier_wait(&at_peak);
	peak(0);
	pthread_barrier_wait(&release);
	for (i = 0; i < nthreads; i++)
		pthread_join(tids[i], NULL);
	free(tids);
	return 0;
}

static int cmd_spike(long p, long s, long ms)
{
	pid_t pid;

	touch_new(p);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		touch_new(s);
		sleep_ms(ms);
		_exit(0);
	}
	return reap_all();
}

static int cmd_cow(long p)
{
	volatile char *mem;
	pid_t pid;

	sync_init();
	mem = touch_new(p);
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		after_fork();
		rewrite(mem, p);
		peak(0);
		_exit(0);
	}
	peak(1);
	return reap_all();
}

static long tree_size(long depth, long width)
{
	long n = 1, level = 1, i;

	for (i = 0; i < depth; i++) {
		level *= width;
		n += level;
	}
	return n;
}

/* This node forks its subtree first, then touches its own memory: nothing is inherited. */
static void tree_node(long depth, long width, long mib)
{
	long i;

	for (i = 0; depth > 0 && i < width; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			after_fork();
			tree_node(depth - 1, width, mib);
			peak(0);
			_exit(reap_all());
		}
	}
	touch_new(mib);
}

static int cmd_tree(long depth, long width, long mib)
{
	long n = tree_size(depth, width);

	if (n > MAX_PIDS)
		usage();
	sync_init();
	tree_node(depth, width, mib);
	peak(n - 1);
	return reap_all();
}

static int cmd_late(long n)
{
	pid_t me = getpid();

	oracle_wait(&me, 1);
	return cmd_hold(n);
}

static int cmd_kill(int sig)
{
	signal(sig, SIG_DFL);
	raise(sig);
	return 100;
}

static int cmd_touchfile(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		die(path);
	write_all(fd, "memhog\n", 7);
	if (close(fd))
		die(path);
	return 0;
}

/*
 * The README demo: a compiler driver "skc" holds 300 MiB of IR while it runs "clang"
 * (100 MiB) for code generation. Both are this program under another name: symlinks in
 * a temp dir, so the kernel's comm and the exec'd file name are skc and clang.
 */
static char demo_dir[] = "/tmp/memhog-demo.XXXXXX";

static void demo_link(const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s", demo_dir, name);
	if (symlink(self, out))
		die("symlink");
}

static int cmd_demo(void)
{
	char skc[PATH_MAX], clang[PATH_MAX];
	char *args[] = {"skc", "-O2", "-c", "big.sk", "-o", "big.o", NULL};

	if (!mkdtemp(demo_dir))
		die("mkdtemp");
	demo_link("skc", skc, sizeof(skc));
	demo_link("clang", clang, sizeof(clang));
	setenv("MEMHOG_DEMO_DIR", demo_dir, 1);
	execv(skc, args);
	die("execv skc");
	return 100;
}

static int demo_skc(void)
{
	const char *dir = getenv("MEMHOG_DEMO_DIR");
	char clang[PATH_MAX];
	char *args[] = {"clang", "-cc1", "-O2", "-emit-obj", "big.ll", "-o", "big.o", NULL};
	pid_t pid;
	int rc;

	fprintf(stderr, "skc: compiling big.sk: parsing and building IR (300 MiB)\n");
	touch_new(300);
	sleep_ms(300);
	fprintf(stderr, "skc: running clang for code generation, still holding the IR\n");
	snprintf(clang, sizeof(clang), "%s/clang", dir ? dir : ".");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		execv(clang, args);
		die("execv clang");
	}
	rc = reap_all();
	if (dir) {
		unlink(clang);
		snprintf(clang, sizeof(clang), "%s/skc", dir);
		unlink(clang);
		rmdir(dir);
	}
	fprintf(stderr, "skc: done\n");
	return rc;
}

static int demo_clang(void)
{
	fprintf(stderr, "clang: generating code (100 MiB)\n");
	touch_new(100);
	sleep_ms(300);
	fprintf(stderr, "clang: wrote big.o\n");
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd, *base;
	long a, b;
	ssize_t n;

	base = strrchr(argv[0], '/');
	base = base ? base + 1 : argv[0];
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0)
		die("readlink /proc/self/exe");
	self[n] = '\0';
	if (!strcmp(base, "skc"))
		return demo_skc();
	if (!strcmp(base, "clang"))
		return demo_clang();

	ready_w = env_fd("MEMHOG_READY_FD");
	go_r = env_fd("MEMHOG_GO_FD");
	is_child = ready_w >= 0 && go_r >= 0;
	if (argc < 2)
		usage();
	cmd = argv[1];
	if (!strcmp(cmd, "demo"))
		return cmd_demo();
	if (!strcmp(cmd, "touchfile") && argc > 2)
		return cmd_touchfile(argv[2]);
	if (!strcmp(cmd, "kill"))
		return cmd_kill(argc > 2 ? (int)arg_num(argv, argc, 2) : SIGTERM);
	a = arg_num(argv, argc, 2);
	if (!strcmp(cmd, "hold"))
		return cmd_hold(a);
	if (!strcmp(cmd, "late"))
		return cmd_late(a);
	if (!strcmp(cmd, "cow"))
		return cmd_cow(a);
	if (!strcmp(cmd, "exit"))
		return (int)a;
	if (!strcmp(cmd, "sleep")) {
		sleep_ms(a);
		return 0;
	}
	b = arg_num(argv, argc, 3);
	if (!strcmp(cmd, "forkexec"))
		return cmd_parent_child(a, b, HOW_FORK);
	if (!strcmp(cmd, "spawn"))
		return cmd_parent_child(a, b, HOW_SPAWN);
	if (!strcmp(cmd, "vfork"))
		return cmd_parent_child(a, b, HOW_VFORK);
	if (!strcmp(cmd, "execinto"))
		return cmd_execinto(a, b);
	if (!strcmp(cmd, "threads"))
		return cmd_threads(a, b);
	if (!strcmp(cmd, "spike"))
		return cmd_spike(a, b, arg_num(argv, argc, 4));
	if (!strcmp(cmd, "tree"))
		return cmd_tree(a, b, arg_num(argv, argc, 4));
	usage();
	return 2;
}
