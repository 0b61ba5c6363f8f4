/* SPDX-License-Identifier: MIT */
/*
 * harness - what the integration tests share: the environment (BMTRACE, WORKLOADS,
 * FIXTURES), running a program with a time limit, the peak oracle of
 * tests/workloads/memhog.c, /proc readings and JSON access.
 *
 * Every program is started in its own process group with default signal dispositions
 * and an empty signal mask, whatever the test runner inherited (a shell's `&` ignores
 * SIGINT), with stdout and stderr in files of the test's temp dir.
 */
#ifndef ITEST_HARNESS_H
#define ITEST_HARNESS_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <cjson/cJSON.h>

#define MIB		(1024.0 * 1024.0)
#define ITEST_TIMEOUT_S 60 /* any single program; a hang fails the test */
#define ITEST_MAX_PIDS	64

struct itest_env {
	const char *bmtrace;   /* $BMTRACE */
	const char *workloads; /* $WORKLOADS */
	const char *fixtures;  /* $FIXTURES */
	char memhog[PATH_MAX]; /* $WORKLOADS/memhog */
	int privileged;	       /* root and BTF: tracing tests can run */
};

extern struct itest_env itest;

/* A test's scratch: a temp dir with the oracle's fifo and pids file paths in it. */
struct itest_ctx {
	const void *param; /* the test's initial state (a case of a table), or NULL */
	char dir[PATH_MAX];
	char fifo[PATH_MAX + 16];
	char pids[PATH_MAX + 16];
	char out[PATH_MAX + 16]; /* stdout of the last program run */
	char err[PATH_MAX + 16]; /* stderr of the last program run */
	pid_t pgids[8];		 /* process groups to kill at teardown */
	int npgids;
	pid_t workload[ITEST_MAX_PIDS]; /* pids the oracle reported, killed at teardown */
	int nworkload;
};

/* Read BMTRACE, WORKLOADS, FIXTURES; 0, or -1 with a message when one is missing. */
int itest_init(void);

/* cmocka setup/teardown: a fresh temp dir with a fifo; kill leftovers, remove it. */
int itest_setup(void **state);
int itest_teardown(void **state);

/* In a tracing test: skip() unless root with BTF. */
void itest_need_root(void);

/* "DIR/name" in ctx's temp dir: a static buffer, valid for the next 15 calls. */
const char *itest_path(struct itest_ctx *ctx, const char *name);

/*
 * Start argv (argv[0] a path) with NULL-terminated "NAME=VALUE" strings added to the
 * environment (env may be NULL); stdout and stderr go to ctx->out and ctx->err. The pid.
 */
pid_t itest_start(struct itest_ctx *ctx, const char *const argv[], const char *const env[]);

/*
 * Wait for pid at most timeout_s seconds. The exit status as a shell reports it (128+N
 * for signal N), or -1 on timeout after killing pid's process group.
 */
int itest_wait(struct itest_ctx *ctx, pid_t pid, int timeout_s);

/* itest_start + itest_wait(ITEST_TIMEOUT_S). */
int itest_run(struct itest_ctx *ctx, const char *const argv[], const char *const env[]);

/* Print a program's stderr (ctx->err) to ours, to explain a failure. */
void itest_dump_err(struct itest_ctx *ctx, const char *what);

/* The env strings for the oracle: BMT_PEAK_FIFO and BMT_PEAK_PIDS of ctx, NULL-ended. */
const char *const *itest_oracle_env(struct itest_ctx *ctx);

/*
 * Wait until the workload writes its pids file (it is at its peak), read the pids and
 * remove the file. watch: a pid whose early exit means the file never comes (0: none).
 * The number of pids, or -1 on timeout or when watch ended.
 */
int itest_wait_peak(struct itest_ctx *ctx, pid_t *pids, int max, pid_t watch);

/* Let the workload waiting on the fifo go on. 0, or -1 when nobody waits on it. */
int itest_release(struct itest_ctx *ctx);

/* RssAnon + RssFile + RssShmem of /proc/PID/status in bytes; 0 when unreadable. */
uint64_t itest_proc_rss(pid_t pid);

/* A whole file, NUL-terminated, malloc'ed (*len without the NUL); NULL on error. */
char *itest_slurp(const char *path, size_t *len);

/* Write len bytes of buf to path (mode 0644). 0 or -1. */
int itest_spit(const char *path, const void *buf, size_t len);

/* Parse a JSON file; NULL (with a message) when it is missing or invalid. */
cJSON *itest_load_json(const char *path);

/* The item at a dotted path ("peak.bytes"), or NULL. */
cJSON *itest_jget(const cJSON *root, const char *path);

/* The number at a dotted path; fails the test when it is missing or not a number. */
double itest_jnum(const cJSON *root, const char *path);

/*
 * Assert lo <= bytes <= hi (given in MiB), printing what was measured either way, so a
 * run's log shows every number the tests saw.
 */
void itest_expect_mib(const char *what, double bytes, double lo_mib, double hi_mib);

#endif /* ITEST_HARNESS_H */
