// SPDX-License-Identifier: MIT
/* procscan - adopt a running tree from /proc (see procscan.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "bmtrace.h"
#include "procscan.h"
#include "util.h"

uint64_t procscan__now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

int procscan__read(const char *path, char **buf, size_t *len, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;
	size_t cap = 4096, n = 0;
	char *b = NULL;
	ssize_t r;

	if (fd < 0) {
		rc = -errno;
		return rc < 0 ? rc : -EIO; /* never 0: on 0 the callers read *buf */
	}
	for (;;) {
		char *nb = n + 1 >= cap || !b ? realloc(b, cap *= 2) : b;

		if (!nb) {
			free(b);
			close(fd);
			return -ENOMEM;
		}
		b = nb;
		r = read(fd, b + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || (n += r) >= max)
			break;
	}
	rc = r < 0 ? -errno : 0; /* before close(), which may change errno */
	close(fd);
	if (rc) {
		free(b);
		return rc;
	}
	if (n > max)
		n = max;
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}

/* ppid from /proc/PID/stat; the comm field may hold spaces and parentheses. */
static int read_ppid(uint32_t pid, uint32_t *ppid)
{
	char path[64], *buf, *p;
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "/proc/%u/stat", pid);
	rc = procscan__read(path, &buf, &len, 4096);
	if (rc)
		return rc;
	p = strrchr(buf, ')');
	/* NOLINTNEXTLINE(cert-err34-c): the kernel writes it; a ppid always fits */
	rc = p && sscanf(p + 1, " %*c %u", ppid) == 1 ? 0 : -EINVAL;
	free(buf);
	return rc;
}

static uint64_t status_kb(const char *status, const char *field)
{
	const char *p = strstr(status, field);

	return p ? strtoull(p + strlen(field), NULL, 10) * 1024 : 0;
}

static int emit_adopt(uint32_t pid, uint32_t ppid, const struct procscan_ops *ops)
{
	struct bmt_adopt a = { .hdr = { BMT_REC_ADOPT, 0, sizeof(a), procscan__now() } };
	char path[64], *status;
	size_t len;
	int rc;

	snprintf(path, sizeof(path), "/proc/%u/status", pid);
	rc = procscan__read(path, &status, &len, 1 << 16);
	if (rc)
		return rc;
	a.pid = pid;
	a.ppid = ppid;
	a.bytes[BMT_FILE] = status_kb(status, "\nRssFile:");
	a.bytes[BMT_ANON] = status_kb(status, "\nRssAnon:");
	a.bytes[BMT_SHMEM] = status_kb(status, "\nRssShmem:");
	a.bytes[BMT_SWAP] = status_kb(status, "\nVmSwap:");
	/* "Name:\t<comm>\n" is the first line */
	if (!strncmp(status, "Name:\t", 6))
		memcpy(a.comm, status + 6, strcspn(status + 6, "\n") < BMT_COMM_LEN ?
						   strcspn(status + 6, "\n") : BMT_COMM_LEN);
	free(status);
	return ops->emit(ops->ctx, &a, sizeof(a));
}

/*
 * The names of a running process, as an exec record that changes no address space. Its
 * filename is left empty: /proc/PID/exe is the resolved path (python3.11 for python3), so
 * the command keeps the comm the process shows everywhere else.
 */
static int emit_names(uint32_t pid, const struct procscan_ops *ops)
{
	char path[64], *cmdline = NULL, *comm = NULL;
	size_t argv_len = 0, comm_len, fn_len = 1;
	struct bmt_exec *r;
	int rc;

	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	if (procscan__read(path, &cmdline, &argv_len, BMT_ARGV_MAX))
		argv_len = 0;
	snprintf(path, sizeof(path), "/proc/%u/comm", pid);
	if (procscan__read(path, &comm, &comm_len, BMT_COMM_LEN))
		comm_len = 0;
	r = calloc(1, sizeof(*r) + fn_len + argv_len);
	if (!r) {
		free(cmdline);
		free(comm);
		return -ENOMEM;
	}
	r->hdr = (struct bmt_hdr){ BMT_REC_EXEC, 0, sizeof(*r) + fn_len + argv_len,
				   procscan__now() };
	r->pid = pid;
	r->filename_len = fn_len;
	r->argv_len = argv_len;
	if (comm_len)
		memcpy(r->comm, comm, strcspn(comm, "\n") < BMT_COMM_LEN ? strcspn(comm, "\n") :
									   BMT_COMM_LEN - 1);
	if (argv_len)
		memcpy(r->data + fn_len, cmdline, argv_len);
	rc = ops->emit(ops->ctx, r, r->hdr.size);
	free(r);
	free(cmdline);
	free(comm);
	return rc;
}

int procscan__seed(uint32_t pid, uint32_t ppid, const struct procscan_ops *ops)
{
	/* it may exit between the two reads: then it simply has no memory to seed */
	if (emit_adopt(pid, ppid, ops))
		return 0;
	return emit_names(pid, ops);
}

struct pidlist {
	struct pid_ppid {
		uint32_t pid, ppid;
	} *p;
	size_t n, cap;
};

static int pidlist_push(struct pidlist *l, uint32_t pid, uint32_t ppid)
{
	struct pid_ppid *v = util_grow(l->p, &l->cap, l->n, sizeof(*v), 256);

	if (!v)
		return -ENOMEM;
	l->p = v;
	l->p[l->n++] = (struct pid_ppid){ pid, ppid };
	return 0;
}

/* Every process on the machine with its parent. */
static int list_all(struct pidlist *all)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int rc = 0;

	if (!d)
		return -errno;
	all->n = 0;
	while (!rc && (e = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(e->d_name, &end, 10);
		uint32_t ppid;

		if (*end || !pid || read_ppid(pid, &ppid))
			continue; /* not a pid, or it just exited */
		rc = pidlist_push(all, pid, ppid);
	}
	closedir(d);
	return rc;
}

/* One pass: adopt every descendant of root not traced yet, parents first. */
static int scan_once(uint32_t root, const struct procscan_ops *ops, struct pidlist *all,
		     struct pidlist *tree, size_t *added)
{
	int rc = list_all(all);

	tree->n = 0;
	if (!rc)
		rc = pidlist_push(tree, root, 0);
	for (size_t i = 0; !rc && i < tree->n; i++) {
		uint32_t pid = tree->p[i].pid;

		for (size_t j = 0; !rc && j < all->n; j++)
			if (all->p[j].ppid == pid && all->p[j].pid != pid)
				rc = pidlist_push(tree, all->p[j].pid, pid);
		if (rc)
			break;
		rc = ops->add(ops->ctx, pid);
		if (rc == -EEXIST) {
			rc = 0; /* ours already, or the kernel followed its fork */
			continue;
		}
		if (rc)
			break;
		rc = procscan__seed(pid, tree->p[i].ppid, ops);
		(*added)++;
	}
	return rc;
}

char **procscan__argv(uint32_t pid)
{
	char path[64], *buf, **argv;
	size_t len, argc = 0;

	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	if (procscan__read(path, &buf, &len, BMT_ARGV_MAX))
		return NULL;
	for (size_t off = 0; off < len; off += strlen(buf + off) + 1)
		argc++;
	/* one block: the pointers, then the strings */
	argv = malloc((argc + 1) * sizeof(char *) + len + 1);
	if (argv) {
		char *strings = (char *)(argv + argc + 1);

		memcpy(strings, buf, len + 1);
		for (size_t i = 0, off = 0; i < argc; i++, off += strlen(strings + off) + 1)
			argv[i] = strings + off;
		argv[argc] = NULL;
	}
	free(buf);
	return argv;
}

int procscan__adopt(uint32_t root, const struct procscan_ops *ops, size_t *found, char *err,
		    size_t errlen)
{
	struct pidlist all = {}, tree = {};
	char path[64];
	size_t added;
	int rc;

	snprintf(path, sizeof(path), "/proc/%u", root);
	if (!root || access(path, F_OK)) {
		snprintf(err, errlen, "-p %u: no such process", root);
		return -ESRCH;
	}
	*found = 0;
	do {
		added = 0;
		rc = scan_once(root, ops, &all, &tree, &added);
		*found += added;
	} while (!rc && added);
	if (rc)
		snprintf(err, errlen, "-p %u: cannot adopt the running tree: %s", root,
			 strerror(-rc));
	free(all.p);
	free(tree.p);
	return rc;
}
