// SPDX-License-Identifier: MIT
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include "harness.h"

struct itest_env itest;

int itest_init(void)
{
	itest.bmtrace = getenv("BMTRACE");
	itest.workloads = getenv("WORKLOADS");
	itest.fixtures = getenv("FIXTURES");
	if (!itest.bmtrace || !itest.workloads || !itest.fixtures) {
		fprintf(stderr,
			"itest: set BMTRACE (the bmtrace binary), WORKLOADS (the built "
			"workloads) and FIXTURES (tests/fixtures): `make integration` does\n");
		return -1;
	}
	snprintf(itest.memhog, sizeof(itest.memhog), "%s/memhog", itest.workloads);
	itest.privileged = geteuid() == 0 && access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	return 0;
}

void itest_need_root(void)
{
	if (!itest.privileged)
		skip();
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int itest_setup(void **state)
{
	struct itest_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return -1;
	ctx->param = *state;
	snprintf(ctx->dir, sizeof(ctx->dir), "/tmp/bmtrace-itest.XXXXXX");
	if (!mkdtemp(ctx->dir)) {
		free(ctx);
		return -1;
	}
	snprintf(ctx->fifo, sizeof(ctx->fifo), "%s/peak.fifo", ctx->dir);
	snprintf(ctx->pids, sizeof(ctx->pids), "%s/peak.pids", ctx->dir);
	snprintf(ctx->out, sizeof(ctx->out), "%s/stdout", ctx->dir);
	snprintf(ctx->err, sizeof(ctx->err), "%s/stderr", ctx->dir);
	if (mkfifo(ctx->fifo, 0600)) {
		free(ctx);
		return -1;
	}
	*state = ctx;
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	remove(path);
	return 0;
}

int itest_teardown(void **state)
{
	struct itest_ctx *ctx = *state;
	int i;

	for (i = 0; i < ctx->nworkload; i++)
		kill(ctx->workload[i], SIGKILL);
	for (i = 0; i < ctx->npgids; i++)
		kill(-ctx->pgids[i], SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (!getenv("ITEST_KEEP"))
		nftw(ctx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	else
		fprintf(stderr, "itest: kept %s\n", ctx->dir);
	free(ctx);
	return 0;
}

const char *itest_path(struct itest_ctx *ctx, const char *name)
{
	static char bufs[16][PATH_MAX + 64];
	static int next;
	char *b = bufs[next++ % 16];

	snprintf(b, sizeof(bufs[0]), "%s/%s", ctx->dir, name);
	return b;
}

static void child_exec(struct itest_ctx *ctx, const char *const argv[], const char *const env[])
{
	int out = open(ctx->out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int err = open(ctx->err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	int in = open("/dev/null", O_RDONLY);
	sigset_t none;
	int sig;

	setpgid(0, 0);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	if (out < 0 || err < 0 || in < 0)
		_exit(121);
	dup2(in, 0);
	dup2(out, 1);
	dup2(err, 2);
	for (; env && *env; env++)
		putenv(strdup(*env));
	execv(argv[0], (char *const *)argv);
	fprintf(stderr, "itest: exec %s: %s\n", argv[0], strerror(errno));
	_exit(122);
}

pid_t itest_start(struct itest_ctx *ctx, const char *const argv[], const char *const env[])
{
	pid_t pid;
	int i;

	fprintf(stderr, "  $");
	for (i = 0; env && env[i]; i++)
		fprintf(stderr, " %s", env[i]);
	for (i = 0; argv[i]; i++)
		fprintf(stderr, " %s", argv[i]);
	fprintf(stderr, "\n");
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		child_exec(ctx, argv, env);
	setpgid(pid, pid); /* as the child does: no race on who runs first */
	if (ctx->npgids < (int)(sizeof(ctx->pgids) / sizeof(ctx->pgids[0])))
		ctx->pgids[ctx->npgids++] = pid;
	return pid;
}

static int shell_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

int itest_wait(struct itest_ctx *ctx, pid_t pid, int timeout_s)
{
	double end = now_s() + timeout_s;
	int status;

	for (;;) {
		pid_t got = waitpid(pid, &status, WNOHANG);

		if (got == pid)
			return shell_status(status);
		if (got < 0 && errno != EINTR) {
			fprintf(stderr, "itest: waitpid %d: %s\n", (int)pid, strerror(errno));
			return -1;
		}
		if (now_s() > end)
			break;
		sleep_ms(10);
	}
	fprintf(stderr, "itest: pid %d still running after %d s: killed\n", (int)pid, timeout_s);
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

int itest_run(struct itest_ctx *ctx, const char *const argv[], const char *const env[])
{
	return itest_wait(ctx, itest_start(ctx, argv, env), ITEST_TIMEOUT_S);
}

void itest_dump_err(struct itest_ctx *ctx, const char *what)
{
	char *s = itest_slurp(ctx->err, NULL);

	fprintf(stderr, "---- stderr of %s ----\n%s---- end ----\n", what, s ? s : "(none)\n");
	free(s);
}

const char *const *itest_oracle_env(struct itest_ctx *ctx)
{
	static char fifo[PATH_MAX + 32], pids[PATH_MAX + 32];
	static const char *env[3];

	snprintf(fifo, sizeof(fifo), "BMT_PEAK_FIFO=%s", ctx->fifo);
	snprintf(pids, sizeof(pids), "BMT_PEAK_PIDS=%s", ctx->pids);
	env[0] = fifo;
	env[1] = pids;
	env[2] = NULL;
	return env;
}

static int still_running(pid_t pid)
{
	int status;

	/* waitpid for our own children, kill(0) for others (bmtrace -p's target is ours). */
	if (waitpid(pid, &status, WNOHANG) == pid) {
		fprintf(stderr, "itest: pid %d ended early (status %d)\n", (int)pid,
			shell_status(status));
		return 0;
	}
	return 1;
}

int itest_wait_peak(struct itest_ctx *ctx, pid_t *pids, int max, pid_t watch)
{
	double end = now_s() + ITEST_TIMEOUT_S;
	char *s, *p;
	int n = 0;

	while (access(ctx->pids, F_OK)) {
		if (now_s() > end) {
			fprintf(stderr, "itest: no peak pids file after %d s\n", ITEST_TIMEOUT_S);
			return -1;
		}
		if (watch > 0 && !still_running(watch))
			return -1;
		sleep_ms(5);
	}
	s = itest_slurp(ctx->pids, NULL);
	unlink(ctx->pids);
	if (!s)
		return -1;
	for (p = s; *p && n < max;) {
		char *e;
		long v = strtol(p, &e, 10);

		if (e == p)
			break;
		pids[n++] = (pid_t)v;
		if (ctx->nworkload < ITEST_MAX_PIDS)
			ctx->workload[ctx->nworkload++] = (pid_t)v;
		p = e;
		while (*p == '\n')
			p++;
	}
	free(s);
	return n;
}

int itest_release(struct itest_ctx *ctx)
{
	double end = now_s() + 10;
	int fd;

	/* Non-blocking: ENXIO while no reader has the fifo open yet (or any more). */
	while ((fd = open(ctx->fifo, O_WRONLY | O_NONBLOCK)) < 0) {
		if (errno != ENXIO || now_s() > end) {
			fprintf(stderr, "itest: release %s: %s\n", ctx->fifo, strerror(errno));
			return -1;
		}
		sleep_ms(5);
	}
	if (write(fd, "x", 1) != 1) {
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

uint64_t itest_proc_rss(pid_t pid)
{
	char path[64], line[256];
	uint64_t kb, sum = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if ((sscanf(line, "RssAnon: %lu kB", &kb) == 1) ||
		    (sscanf(line, "RssFile: %lu kB", &kb) == 1) ||
		    (sscanf(line, "RssShmem: %lu kB", &kb) == 1))
			sum += kb * 1024;
	}
	fclose(f);
	return sum;
}

char *itest_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0, got;
	char *buf;

	if (!f)
		return NULL;
	buf = malloc(cap + 1);
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			char *bigger = realloc(buf, 2 * cap + 1);

			if (!bigger) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = bigger;
			cap *= 2;
		}
	}
	fclose(f);
	if (!buf)
		return NULL;
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

int itest_spit(const char *path, const void *buf, size_t len)
{
	FILE *f = fopen(path, "wb");
	int rc = 0;

	if (!f)
		return -1;
	if (fwrite(buf, 1, len, f) != len)
		rc = -1;
	if (fclose(f))
		rc = -1;
	return rc;
}

cJSON *itest_load_json(const char *path)
{
	char *s = itest_slurp(path, NULL);
	cJSON *j;

	if (!s) {
		fprintf(stderr, "itest: no JSON at %s\n", path);
		return NULL;
	}
	j = cJSON_Parse(s);
	if (!j)
		fprintf(stderr, "itest: invalid JSON in %s near: %.60s\n", path,
			cJSON_GetErrorPtr() ? cJSON_GetErrorPtr() : "?");
	free(s);
	return j;
}

cJSON *itest_jget(const cJSON *root, const char *path)
{
	char key[128];
	const cJSON *j = root;

	while (j && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		j = cJSON_GetObjectItemCaseSensitive(j, key);
		path += n + (path[n] == '.');
	}
	return (cJSON *)j;
}

double itest_jnum(const cJSON *root, const char *path)
{
	const cJSON *j = itest_jget(root, path);

	if (!cJSON_IsNumber(j)) {
		fprintf(stderr, "itest: JSON field %s missing or not a number\n", path);
		fail();
	}
	return j->valuedouble;
}

void itest_expect_mib(const char *what, double bytes, double lo_mib, double hi_mib)
{
	double mib = bytes / MIB;
	int ok = mib >= lo_mib && mib <= hi_mib;

	fprintf(stderr, "  %-40s %8.1f MiB  (want %.1f .. %.1f) %s\n", what, mib, lo_mib, hi_mib,
		ok ? "ok" : "FAIL");
	if (!ok)
		fail_msg("%s: %.1f MiB outside %.1f .. %.1f MiB", what, mib, lo_mib, hi_mib);
}
