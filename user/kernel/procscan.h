/* SPDX-License-Identifier: MIT */
/*
 * procscan - adopt a tree that is already running (-p PID).
 *
 * The only place bmtrace reads /proc: once, at attach, to find the processes
 * that exist before any event can tell about them. Each found process is first
 * added to the traced set (so nothing it does from then on is missed), then its
 * counters are read from /proc/PID/status and emitted as a BMT_REC_ADOPT record,
 * followed by a BMT_REC_EXEC record (mm key 0) with its names. Scans repeat
 * until one finds no new process: children forked meanwhile by an adopted
 * process are followed by the kernel and skipped here.
 */
#ifndef BMT_PROCSCAN_H
#define BMT_PROCSCAN_H

#include <stddef.h>
#include <stdint.h>

struct procscan_ops {
	/* add pid to the traced set: 0, -EEXIST when already traced, or -errno */
	int (*add)(void *ctx, uint32_t pid);
	/* one synthetic record */
	int (*emit)(void *ctx, const void *rec, size_t len);
	void *ctx;
};

/* 0 with *found set, or -errno with a one-line reason in err (no such process, ...). */
int procscan__adopt(uint32_t root, const struct procscan_ops *ops, size_t *found, char *err,
		    size_t errlen);

/*
 * Emit pid's ADOPT record (counters from /proc/PID/status) and its names, for a process the
 * kernel already traces (serve: a process that joined a tree). 0 (also when it is gone) or a
 * negative errno from ops->emit.
 */
int procscan__seed(uint32_t pid, uint32_t ppid, const struct procscan_ops *ops);

/* A running process's argv from /proc/PID/cmdline, as one free()-able block; NULL if gone. */
char **procscan__argv(uint32_t pid);

/* Read a whole small file (/proc) into a malloc'd buffer; -errno on failure. */
int procscan__read(const char *path, char **buf, size_t *len, size_t max);

/* CLOCK_MONOTONIC now, in ns: the clock of the kernel's records. */
uint64_t procscan__now(void);

#endif /* BMT_PROCSCAN_H */
