// SPDX-License-Identifier: MIT
/* util - small helpers shared by several modules (util.h). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include "util.h"

#define TEMP_ATTEMPTS 100

static void (*created_fn)(void *ctx, int fd, const char *path);
static void *created_ctx;

void util_on_create(void (*fn)(void *ctx, int fd, const char *path), void *ctx)
{
	created_fn = fn;
	created_ctx = ctx;
}

/* "dir/.base.XXXXXX" beside path; the suffix comes from the pid, a counter and the clock. */
static void temp_name(char *buf, size_t len, const char *path)
{
	static unsigned int counter;
	const char *base = util_basename(path);
	struct timespec now;
	unsigned int r;

	clock_gettime(CLOCK_MONOTONIC, &now);
	r = (unsigned int)now.tv_nsec ^ (unsigned int)getpid() << 8 ^ ++counter * 2654435761u;
	snprintf(buf, len, "%.*s.%s.%06x", (int)(base - path), path, base, r & 0xffffff);
}

/* Create a new temp file beside path; returns its fd or -errno. */
static int temp_create(char *buf, size_t len, const char *path)
{
	int i, fd;

	if (strlen(path) + 16 > len)
		return -ENAMETOOLONG;
	for (i = 0; i < TEMP_ATTEMPTS; i++) {
		temp_name(buf, len, path);
		fd = open(buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd >= 0 || errno != EEXIST)
			return fd >= 0 ? fd : -errno;
	}
	return -EEXIST;
}

/* Push f's buffer to the kernel and, for a file, to the disk; 0 or -errno. */
static int flush_sync(FILE *f, bool sync)
{
	if (fflush(f) || (sync && fsync(fileno(f))))
		return -errno;
	return ferror(f) ? -EIO : 0;
}

int util_write_atomic(const char *path, int (*fn)(FILE *f, void *ctx), void *ctx)
{
	char tmp[4096];
	FILE *f;
	int fd, err;

	if (!strcmp(path, "-")) {
		err = fn(stdout, ctx);
		return err < 0 ? err : flush_sync(stdout, false);
	}
	fd = temp_create(tmp, sizeof(tmp), path);
	if (fd < 0)
		return fd;
	if (created_fn)
		created_fn(created_ctx, fd, path);
	f = fdopen(fd, "w");
	if (!f) {
		err = -errno;
		close(fd);
		goto cleanup;
	}
	err = fn(f, ctx);
	if (err >= 0)
		err = flush_sync(f, true);
	if (fclose(f) && err >= 0)
		err = -errno;
	if (err >= 0 && rename(tmp, path))
		err = -errno;
cleanup:
	if (err < 0) {
		unlink(tmp);
		return err;
	}
	return 0;
}

int util_probe_writable(const char *path)
{
	char tmp[4096];
	struct stat st;
	int fd;

	if (!strcmp(path, "-"))
		return 0;
	if (!*path)
		return -ENOENT;
	if (!stat(path, &st) && S_ISDIR(st.st_mode))
		return -EISDIR;
	fd = temp_create(tmp, sizeof(tmp), path);
	if (fd < 0)
		return fd;
	close(fd);
	unlink(tmp);
	return 0;
}

char *util_read_file(const char *path, size_t *len)
{
	size_t n = 0, cap = 65536;
	char *buf = malloc(cap), *grown;
	FILE *f = fopen(path, "r");
	int err;

	if (!f || !buf)
		goto fail;
	for (;;) {
		n += fread(buf + n, 1, cap - n - 1, f);
		if (n < cap - 1)
			break;
		grown = realloc(buf, cap * 2);
		if (!grown)
			goto fail;
		buf = grown;
		cap *= 2;
	}
	if (ferror(f)) {
		errno = EIO;
		goto fail;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
fail:
	err = errno ? errno : ENOMEM;
	if (f)
		fclose(f);
	free(buf);
	errno = err;
	return NULL;
}

/* Binary multiplier of a suffix ("", "K", "Mi", "GiB", "tb", "B"), or 0 if it is junk. */
static uint64_t size_suffix(const char *s)
{
	static const char units[] = "KMGT";
	const char *u;
	uint64_t mult = 1;

	if (*s && (u = strchr(units, toupper((unsigned char)*s)))) {
		mult <<= 10 * (u - units + 1);
		s++;
		if (*s == 'i' || *s == 'I')
			s++;
	}
	if (*s == 'b' || *s == 'B')
		s++;
	return *s ? 0 : mult;
}

int util_parse_size(const char *s, uint64_t *out)
{
	uint64_t whole = 0, frac = 0, scale = 1, mult;
	const char *p = s;
	bool digits = false;

	for (; *p >= '0' && *p <= '9'; p++, digits = true) {
		unsigned int d = (unsigned int)(*p - '0');

		if (whole > (UINT64_MAX - d) / 10)
			return -EINVAL;
		whole = whole * 10 + d;
	}
	if (*p == '.') {
		if (!(p[1] >= '0' && p[1] <= '9'))
			return -EINVAL;
		/* Six decimals are plenty; keeping frac * mult within 64 bits (10^6 * 2^40). */
		for (p++; *p >= '0' && *p <= '9'; p++, digits = true) {
			if (scale < 1000000) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				scale *= 10;
			}
		}
	}
	mult = size_suffix(p);
	if (!digits || !mult || (frac && mult == 1) || whole > UINT64_MAX / mult)
		return -EINVAL;
	whole *= mult;
	if (whole > UINT64_MAX - frac * mult / scale)
		return -EINVAL;
	*out = whole + frac * mult / scale;
	return 0;
}

const char *util_fmt_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes / 1024;
	size_t u = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%u B", (unsigned int)bytes);
		return buf;
	}
	/* Move up a unit where rounding would print "1024.0". */
	while (v >= 1023.95 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, v < 9.995 ? "%.2f %s" : "%.1f %s", v, units[u]);
	return buf;
}

const char *util_fmt_count(uint64_t v, char *buf, size_t len)
{
	char digits[24], out[32];
	int n = snprintf(digits, sizeof(digits), "%" PRIu64, v), i, o = 0;

	for (i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			out[o++] = ',';
		out[o++] = digits[i];
	}
	out[o] = '\0';
	snprintf(buf, len, "%s", out);
	return buf;
}

const char *util_basename(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

int util_utf8_decode(const char *str, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	int n, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, *cp = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, *cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, *cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80) /* the terminating NUL stops here too */
			return 0;
		*cp = *cp << 6 | (s[i] & 0x3f);
	}
	if (*cp < min[n] || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

char *util_utf8_clean(const char *s, int controls)
{
	const char *p = s ? s : "";
	char *out = malloc(strlen(p) * 3 + 1), *o = out;
	uint32_t cp;
	int n;

	if (!out)
		return NULL;
	while (*p) {
		n = util_utf8_decode(p, &cp);
		if (n && (!controls || ((cp >= 0x20 || cp == '\n') && cp != 0x7f &&
					(cp < 0x80 || cp > 0x9f)))) {
			memcpy(o, p, (size_t)n);
			o += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3); /* U+FFFD */
			o += 3;
		}
		p += n ? n : 1;
	}
	*o = '\0';
	return out;
}

void *util_grow(void *arr, size_t *cap, size_t n, size_t elem, size_t first)
{
	size_t want;
	void *v;

	if (arr && n < *cap)
		return arr;
	want = *cap ? 2 * *cap : first;
	v = realloc(arr, want * elem);
	if (v)
		*cap = want;
	return v;
}
