/* SPDX-License-Identifier: MIT */
/*
 * cgroup - a fresh memory cgroup for one run (--cgroup, --memory-max): created before
 * COMMAND starts, COMMAND moved into it while held at the runner's gate (so everything it
 * execs is charged there), its peak and OOM kills read at the end, removed after.
 *
 * Invariants:
 * - the hierarchy is chosen at run time from /proc/self/mountinfo and /proc/self/cgroup:
 *   cgroup v2 when its memory controller reaches bmtrace's own cgroup, else the v1 "memory"
 *   hierarchy (hybrid hosts); neither: cgroup__create fails with a one-line reason;
 * - v2: the new cgroup is a sibling of bmtrace's own (a v2 cgroup holding processes cannot
 *   give its children a controller), or a child of the hierarchy's root when bmtrace is in
 *   the root; v1: a child of bmtrace's own, so the limits above it still apply;
 * - every path is read under root, a directory standing for "/": "" for the real system,
 *   $BMTRACE_CGROUP_ROOT in tests, a fake tree of plain files (ROOT/proc/self/mountinfo,
 *   ROOT/proc/self/cgroup, the mount points under ROOT). A control file written to is
 *   created when missing, which only a fake tree allows.
 *
 * The files, v2 / v1: the peak is memory.peak / memory.max_usage_in_bytes, the limit
 * memory.max / memory.limit_in_bytes, OOM kills the oom_kill line of memory.events /
 * memory.oom_control; swap, when the kernel keeps it: memory.swap.peak (swap alone) /
 * memory.memsw.max_usage_in_bytes (memory and swap together).
 */
#ifndef BMT_CGROUP_H
#define BMT_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "run.h"

struct cgroup;

/*
 * Create the run's cgroup under root ("" for "/"), named after tag (bmtrace's pid), with
 * limit bytes of memory (BMT_CGROUP_NONE: none). 0 and *out, or -errno with a one-line
 * reason in err (no memory controller usable, no permission, ...).
 */
int cgroup__create(const char *root, unsigned long tag, uint64_t limit, struct cgroup **out,
		   char *err, size_t errlen);

/* Move process pid into it (cgroup.procs). 0 or -errno. */
int cgroup__enter(struct cgroup *cg, pid_t pid);

/* Its figures now, into st (run.h). 0 or -errno (a file missing or unreadable). */
int cgroup__read(struct cgroup *cg, struct bmt_cgroup *st);

/*
 * Remove it, waiting up to wait_ms for the processes in it to be gone. 0; -EBUSY when
 * processes are still there (the cgroup is kept, they keep running in it); -errno.
 */
int cgroup__remove(struct cgroup *cg, unsigned wait_ms);

/*
 * The peak of an existing v2 cgroup directory (memory.peak), one bmtrace did not make (serve's
 * --cgroup-parent trees). 0 or -errno (not a cgroup, no memory controller there).
 */
int cgroup__read_peak(const char *dir, uint64_t *peak);

/* Its directory; valid until cgroup__free. */
const char *cgroup__path(const struct cgroup *cg);

void cgroup__free(struct cgroup *cg);

#endif /* BMT_CGROUP_H */
