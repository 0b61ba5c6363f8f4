// SPDX-License-Identifier: MIT
/* cgroup - a fresh memory cgroup for one run (see cgroup.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cgroup.h"
#include "util.h"

struct cgroup {
	int version;
	uint64_t limit;
	char path[PATH_MAX];
};

/* Where a hierarchy is mounted, and bmtrace's cgroup in it. */
struct hier {
	char root[PATH_MAX];  /* the mount's root inside the hierarchy */
	char point[PATH_MAX]; /* its mount point */
	char own[PATH_MAX];   /* bmtrace's cgroup, from /proc/self/cgroup */
	int mounted, member;
};

/* mountinfo escapes space, tab, newline and backslash as \ooo: undo it in place. */
static void unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* Is word one of the comma-separated items of list? */
static int has_item(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; p; p = strchr(p, ',')) {
		p += *p == ',';
		if (!strncmp(p, word, n) && (p[n] == ',' || !p[n]))
			return 1;
	}
	return 0;
}

static void set_str(char *dst, const char *src)
{
	snprintf(dst, PATH_MAX, "%s", src);
}

/* One mountinfo line: a cgroup2 mount, or a v1 mount with the memory controller. */
static void mount_line(char *line, struct hier *v2, struct hier *v1)
{
	char *f[8] = {0}, *save = NULL, *sep, *tok;
	struct hier *h = NULL;
	int n = 0;

	sep = strstr(line, " - ");
	if (!sep)
		return;
	*sep = '\0';
	for (tok = strtok_r(line, " ", &save); tok && n < 5; tok = strtok_r(NULL, " ", &save))
		f[n++] = tok;
	if (n < 5)
		return;
	save = NULL;
	for (tok = strtok_r(sep + 3, " \n", &save); tok && n < 8;
	     tok = strtok_r(NULL, " \n", &save))
		f[n++] = tok;
	if (n < 8)
		return;
	/* f[3] root, f[4] mount point, f[5] fstype, f[7] super options */
	if (!strcmp(f[5], "cgroup2"))
		h = v2;
	else if (!strcmp(f[5], "cgroup") && has_item(f[7], "memory"))
		h = v1;
	if (!h || h->mounted)
		return;
	unescape(f[3]);
	unescape(f[4]);
	set_str(h->root, f[3]);
	set_str(h->point, f[4]);
	h->mounted = 1;
}

/* One /proc/self/cgroup line: "0::/path" (v2) or "N:controllers:/path" (v1). */
static void cgroup_line(char *line, struct hier *v2, struct hier *v1)
{
	char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL, *nl;
	struct hier *h;

	if (!c2)
		return;
	*c1 = *c2 = '\0';
	h = !strcmp(line, "0") && c2 == c1 + 1 ? v2 : has_item(c1 + 1, "memory") ? v1 : NULL;
	if (!h)
		return;
	nl = strchr(c2 + 1, '\n');
	if (nl)
		*nl = '\0';
	set_str(h->own, c2 + 1);
	h->member = 1;
}

/* Run fn over each line of root/rel. -errno when it cannot be read. */
typedef void line_fn(char *line, struct hier *v2, struct hier *v1);

static int each_line(const char *root, const char *rel, line_fn *fn, struct hier *v2,
		     struct hier *v1)
{
	char path[PATH_MAX], *buf, *line, *save = NULL;

	snprintf(path, sizeof(path), "%s%s", root, rel);
	buf = util_read_file(path, NULL);
	if (!buf)
		return -errno;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		fn(line, v2, v1);
	free(buf);
	return 0;
}

/*
 * The directory of bmtrace's cgroup in h, under root: the mount point plus the cgroup's path
 * below the mount's root. -ENOENT when the cgroup lies outside what is mounted.
 */
static int own_dir(const char *root, const struct hier *h, char *out)
{
	size_t rl = strlen(h->root);
	const char *rest = h->own;

	if (strcmp(h->root, "/")) {
		if (strncmp(h->own, h->root, rl) || (h->own[rl] && h->own[rl] != '/'))
			return -ENOENT;
		rest = h->own + rl;
	}
	if (snprintf(out, PATH_MAX, "%s%s%s", root, strcmp(h->point, "/") ? h->point : "",
		     strcmp(rest, "/") ? rest : "") >= PATH_MAX)
		return -ENAMETOOLONG;
	return 0;
}

static char *read_at(const char *dir, const char *file)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	return util_read_file(path, NULL);
}

static int write_at(const char *dir, const char *file, const char *val)
{
	char path[PATH_MAX];
	size_t len = strlen(val);
	int fd, rc = 0;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != (ssize_t)len)
		rc = -errno;
	if (close(fd) && !rc)
		rc = -errno;
	return rc;
}

/* Does dir's file list the memory controller (space-separated)? */
static int lists_memory(const char *dir, const char *file)
{
	char *s = read_at(dir, file), *save = NULL;
	int found = 0;

	for (char *w = s ? strtok_r(s, " \n", &save) : NULL; w && !found;
	     w = strtok_r(NULL, " \n", &save))
		found = !strcmp(w, "memory");
	free(s);
	return found;
}

/*
 * v2: the directory to create the run's cgroup in, into parent. Beside bmtrace's own cgroup
 * when the memory controller reaches it; in the root when bmtrace is there (the root may hold
 * processes and still give its children controllers). -errno with the reason in err.
 */
static int v2_parent(const char *root, const struct hier *h, char *parent, char *err, size_t errlen)
{
	char own[PATH_MAX], top[PATH_MAX];
	int rc = own_dir(root, h, own);

	if (rc) {
		snprintf(err, errlen, "bmtrace's cgroup %s is not under the cgroup2 mount", h->own);
		return rc;
	}
	snprintf(top, sizeof(top), "%s%s", root, strcmp(h->point, "/") ? h->point : "");
	if (!strcmp(own, top)) {
		set_str(parent, own);
		if (lists_memory(own, "cgroup.subtree_control"))
			return 0;
		if (!lists_memory(own, "cgroup.controllers")) {
			snprintf(err, errlen, "cgroup v2 at %s has no memory controller", own);
			return -ENOENT;
		}
		rc = write_at(own, "cgroup.subtree_control", "+memory");
		if (rc)
			snprintf(err, errlen, "cannot enable the memory controller in %s: %s", own,
				 strerror(-rc));
		return rc;
	}
	if (!lists_memory(own, "cgroup.controllers")) {
		snprintf(
		    err, errlen,
		    "the memory controller is not enabled for bmtrace's cgroup %s (its parent's "
		    "cgroup.subtree_control lacks memory)",
		    h->own);
		return -ENOENT;
	}
	*strrchr(own, '/') = '\0';
	set_str(parent, own);
	return 0;
}

static int limit_str(uint64_t limit, char *buf, size_t len)
{
	return snprintf(buf, len, "%" PRIu64 "\n", limit);
}

/* Make dir/bmtrace-TAG (or -TAG.N when a stale one is there) into cg->path. */
static int make_dir(struct cgroup *cg, const char *parent, unsigned long tag, char *err,
		    size_t errlen)
{
	char suffix[16] = "";

	for (int i = 0; i < 100; i++) {
		if (i)
			snprintf(suffix, sizeof(suffix), ".%d", i);
		if (snprintf(cg->path, sizeof(cg->path), "%s/bmtrace-%lu%s", parent, tag, suffix) >=
		    (int)sizeof(cg->path)) {
			errno = ENAMETOOLONG;
			break;
		}
		if (!mkdir(cg->path, 0755))
			return 0;
		if (errno != EEXIST)
			break;
	}
	snprintf(err, errlen, "cannot create a cgroup in %s: %s", parent, strerror(errno));
	return -errno;
}

int cgroup__create(const char *root, unsigned long tag, uint64_t limit, struct cgroup **out,
		   char *err, size_t errlen)
{
	struct hier v2 = {0}, v1 = {0};
	char parent[PATH_MAX], lim[32];
	struct cgroup *cg;
	int rc;

	rc = each_line(root, "/proc/self/mountinfo", mount_line, &v2, &v1);
	if (!rc)
		rc = each_line(root, "/proc/self/cgroup", cgroup_line, &v2, &v1);
	if (rc) {
		snprintf(err, errlen, "cannot read %s/proc/self/mountinfo and cgroup: %s", root,
			 strerror(-rc));
		return rc;
	}
	cg = calloc(1, sizeof(*cg));
	if (!cg)
		return -ENOMEM;
	cg->limit = limit;
	rc = -ENOENT;
	if (v2.mounted && v2.member)
		rc = v2_parent(root, &v2, parent, err, errlen);
	if (!rc) {
		cg->version = 2;
	} else if (v1.mounted && v1.member) {
		rc = own_dir(root, &v1, parent);
		cg->version = 1;
		if (rc)
			snprintf(err, errlen, "bmtrace's memory cgroup %s is not under its mount",
				 v1.own);
		else if (errlen)
			err[0] = '\0'; /* v2's reason, if any, no longer applies */
	} else if (!(v2.mounted && v2.member)) {
		snprintf(err, errlen,
			 "no memory cgroup: neither cgroup v2 nor a v1 memory "
			 "hierarchy is mounted for bmtrace");
	}
	if (!rc)
		rc = make_dir(cg, parent, tag, err, errlen);
	if (!rc && limit != BMT_CGROUP_NONE) {
		limit_str(limit, lim, sizeof(lim));
		rc = write_at(cg->path, cg->version == 2 ? "memory.max" : "memory.limit_in_bytes",
			      lim);
		if (rc) {
			snprintf(err, errlen, "cannot set the memory limit of %s: %s", cg->path,
				 strerror(-rc));
			rmdir(cg->path);
		}
	}
	if (rc) {
		free(cg);
		return rc;
	}
	*out = cg;
	return 0;
}

int cgroup__enter(struct cgroup *cg, pid_t pid)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d\n", (int)pid);
	return write_at(cg->path, "cgroup.procs", buf);
}

/* The number in dir/file ("max" reads as BMT_CGROUP_NONE). 0 or -errno. */
static int read_u64(const char *dir, const char *file, uint64_t *out)
{
	char *s = read_at(dir, file), *end;
	int rc = 0;

	if (!s)
		return -errno;
	errno = 0;
	if (!strncmp(s, "max", 3))
		*out = BMT_CGROUP_NONE;
	else if ((*out = strtoull(s, &end, 10)), errno || end == s)
		rc = -EINVAL;
	free(s);
	return rc;
}

/* The value of the "key N" line of dir/file. 0 or -errno (-ENOENT: no such line). */
static int read_key(const char *dir, const char *file, const char *key, uint64_t *out)
{
	char *s = read_at(dir, file), *save = NULL;
	size_t kl = strlen(key);
	int rc = -ENOENT;

	if (!s)
		return -errno;
	for (char *l = strtok_r(s, "\n", &save); l && rc; l = strtok_r(NULL, "\n", &save))
		if (!strncmp(l, key, kl) && l[kl] == ' ') {
			*out = strtoull(l + kl + 1, NULL, 10);
			rc = 0;
		}
	free(s);
	return rc;
}

int cgroup__read(struct cgroup *cg, struct bmt_cgroup *st)
{
	int v2 = cg->version == 2, rc;

	*st = (struct bmt_cgroup){ .version = cg->version,
				   .limit_bytes = cg->limit,
				   .swap_peak_bytes = BMT_CGROUP_NONE,
				   .memsw_peak_bytes = BMT_CGROUP_NONE };
	snprintf(st->path, sizeof(st->path), "%s", cg->path);
	rc = read_u64(cg->path, v2 ? "memory.peak" : "memory.max_usage_in_bytes", &st->peak_bytes);
	if (!rc)
		rc = read_key(cg->path, v2 ? "memory.events" : "memory.oom_control", "oom_kill",
			      &st->oom_kills);
	if (rc)
		return rc;
	/* optional: a kernel without swap accounting has no such file */
	if (v2 && read_u64(cg->path, "memory.swap.peak", &st->swap_peak_bytes))
		st->swap_peak_bytes = BMT_CGROUP_NONE;
	if (!v2 && read_u64(cg->path, "memory.memsw.max_usage_in_bytes", &st->memsw_peak_bytes))
		st->memsw_peak_bytes = BMT_CGROUP_NONE;
	return 0;
}

int cgroup__read_peak(const char *dir, uint64_t *peak)
{
	return read_u64(dir, "memory.peak", peak);
}

/* Does it still hold a process? */
static int populated(const struct cgroup *cg)
{
	char *s = read_at(cg->path, "cgroup.procs");
	int any = s && strspn(s, " \n") != strlen(s);

	free(s);
	return any;
}

int cgroup__remove(struct cgroup *cg, unsigned wait_ms)
{
	struct timespec tick = {0, 10 * 1000000L};

	/* an exiting process leaves the cgroup only once it is reaped: give it time */
	for (unsigned waited = 0;; waited += 10) {
		if (!populated(cg)) {
			if (!rmdir(cg->path))
				return 0;
			if (errno != EBUSY)
				return -errno;
		}
		if (waited >= wait_ms)
			return -EBUSY;
		nanosleep(&tick, NULL);
	}
}

const char *cgroup__path(const struct cgroup *cg)
{
	return cg->path;
}

void cgroup__free(struct cgroup *cg)
{
	free(cg);
}
