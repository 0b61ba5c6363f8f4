// SPDX-License-Identifier: MIT
/*
 * tracefile - write and read recorded event streams (API in tracefile.h).
 *
 * Version 1, the bytes inside the one gzip stream. Integers are little-endian, which is
 * the host's order: bmtrace only builds for little-endian machines (asserted below), so
 * kernel records can be stored exactly as received.
 *
 *   offset size  header
 *        0    8  magic "BMTRACE\0"
 *        8    4  u32 version (1)
 *       12    4  u32 header bytes: the whole header, magic included; records start here
 *       16    8  u64 start_ts (CLOCK_MONOTONIC ns of time zero)
 *       24    8  u64 start_realtime_ns (wall clock at time zero)
 *       32    4  u32 page_size
 *       36    4  u32 root_pid
 *       40    4  u32 attached (0 or 1)
 *       44       kernel release, NUL-terminated (at most BMT_KERNEL_LEN bytes with the NUL)
 *                u32 argc, then argc NUL-terminated strings
 *                u32 number of stage specs, then that many NUL-terminated strings
 *                the counter source ("btf-percpu", "tracepoint"), NUL-terminated; absent
 *                from traces written before it was added (their source: the tracepoint)
 *                u32 thread_batch (run.h); absent from traces recorded before it was
 *                (a reader skips any bytes left before "header bytes": room for fields a
 *                later writer may append without breaking version-1 readers)
 *
 *   records      struct bmt_hdr-framed records (bpf/bmtrace.h), back to back, unpadded,
 *                hdr.size bytes each, sizeof(struct bmt_hdr) <= size <= BMT_TRACE_REC_MAX
 *
 *   end record   struct trace_end (below): hdr.type BMT_TRACE_END, hdr.ts = end_ts, then
 *                s32 exit_code, s32 signal, u64 end_ts, u64 ring_bytes, struct bmt_stats
 *                (5 x u64); with --cgroup, struct trace_cgroup follows in the same record
 *                (hdr.size covers it; a reader that does not know it skips it): u32
 *                version, u32 path_len, u64 peak, limit, oom_kills, swap_peak, memsw_peak,
 *                then path_len bytes of the cgroup's path; the stream ends after it
 *
 * Records in reader errors are counted from 1 and byte offsets are in the uncompressed
 * stream, so `zcat TRACE | xxd -s OFFSET` shows the culprit.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "tracefile.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "trace files are little-endian and hold kernel records in host order");

#define TRACE_MAGIC "BMTRACE" /* its terminating NUL is the magic's 8th byte */
#define TRACE_MAGIC_LEN 8
#define TRACE_PREFIX_LEN 16 /* magic, version, header bytes */
#define TRACE_FIXED_LEN 44  /* the prefix and the fixed-size fields */
#define TRACE_HEADER_MAX (16u << 20)
/* More strings than exec(2) can pass (argv and envp share at most 6 MiB, pointers included). */
#define TRACE_STRS_MAX (1u << 20)
/* Large buffers: the writer sits on the ring-buffer hot path, so zlib batches the syscalls. */
#define WRITE_BUFFER (256u << 10)
#define READ_BUFFER (128u << 10)
#define REC_INITIAL (16u << 10) /* an exec record with a long argv fits */

struct trace_end {
	struct bmt_hdr hdr;
	__s32 exit_code;
	__s32 signal;
	__u64 end_ts;
	__u64 ring_bytes;
	struct bmt_stats stats;
};

_Static_assert(sizeof(struct trace_end) == 80, "struct trace_end has padding");

/* --cgroup: the run's memory cgroup, after struct trace_end in the end record. */
struct trace_cgroup {
	__u32 version;
	__u32 path_len;
	__u64 peak, limit, oom_kills, swap_peak, memsw_peak;
};

_Static_assert(sizeof(struct trace_cgroup) == 48, "struct trace_cgroup has padding");

/* ---- writer ---- */

struct tracefile_writer {
	gzFile gz;
	int fd; /* gz's, for tracefile__fd */
	int err; /* the first write error (-errno); every later write fails with it too */
};

/* An errno for a zlib failure; saved_errno is errno right after the failing call. */
static int zerr_to_errno(int zerr, int saved_errno)
{
	if (zerr == Z_ERRNO && saved_errno)
		return -saved_errno;
	return zerr == Z_MEM_ERROR ? -ENOMEM : -EIO;
}

static int writer_put(struct tracefile_writer *w, const void *buf, size_t len)
{
	int saved_errno, zerr;

	if (w->err)
		return w->err;
	if (gzwrite(w->gz, buf, len) == (int)len)
		return 0;
	saved_errno = errno;
	gzerror(w->gz, &zerr);
	w->err = zerr_to_errno(zerr, saved_errno);
	return w->err;
}

static size_t strv_count(char *const *v)
{
	size_t n = 0;

	while (v && v[n])
		n++;
	return n;
}

/* Bytes a string vector takes in the header: its count, then each string with its NUL. */
static size_t strv_bytes(char *const *v)
{
	size_t bytes = sizeof(uint32_t);

	for (; v && *v; v++)
		bytes += strlen(*v) + 1;
	return bytes;
}

static void put(char **p, const void *src, size_t len)
{
	memcpy(*p, src, len);
	*p += len;
}

static void put_u32(char **p, uint32_t v)
{
	put(p, &v, sizeof(v));
}

static void put_u64(char **p, uint64_t v)
{
	put(p, &v, sizeof(v));
}

static void put_str(char **p, const char *s, size_t len)
{
	put(p, s, len);
	*(*p)++ = '\0';
}

static void put_strv(char **p, char *const *v)
{
	put_u32(p, strv_count(v));
	for (; v && *v; v++)
		put_str(p, *v, strlen(*v));
}

/* The header in memory, so that it reaches zlib in one write. NULL with errno set. */
static char *header_build(const struct bmt_run *run, char *const specs[], size_t *lenp)
{
	size_t klen = strnlen(run->kernel, BMT_KERNEL_LEN - 1);
	size_t slen = strnlen(run->counter_source, sizeof(run->counter_source) - 1);
	size_t len = TRACE_FIXED_LEN + klen + 1 + strv_bytes(run->argv) + strv_bytes(specs) +
		     slen + 1 + sizeof(run->thread_batch);
	char *hdr, *p;

	/* the same limits the reader enforces: never write a file bmtrace refuses to read */
	if (strv_count(run->argv) > TRACE_STRS_MAX || strv_count(specs) > TRACE_STRS_MAX ||
	    len > TRACE_HEADER_MAX) {
		errno = E2BIG;
		return NULL;
	}
	hdr = malloc(len);
	if (!hdr)
		return NULL;
	p = hdr;
	put(&p, TRACE_MAGIC, TRACE_MAGIC_LEN);
	put_u32(&p, BMT_TRACE_VERSION);
	put_u32(&p, len);
	put_u64(&p, run->start_ts);
	put_u64(&p, run->start_realtime_ns);
	put_u32(&p, run->page_size);
	put_u32(&p, run->root_pid);
	put_u32(&p, run->attached ? 1 : 0);
	put_str(&p, run->kernel, klen);
	put_strv(&p, run->argv);
	put_strv(&p, specs);
	put_str(&p, run->counter_source, slen);
	put_u32(&p, run->thread_batch);
	*lenp = len;
	return hdr;
}

/* NULL with errno set. */
static struct tracefile_writer *writer_open(const char *path)
{
	struct tracefile_writer *w;
	int fd, err;

	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	/* O_NOFOLLOW: under sudo, never write through a link someone planted at path */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = errno;
		free(w);
		errno = err;
		return NULL;
	}
	w->fd = fd;
	w->gz = gzdopen(fd, "wb1");
	if (!w->gz) {
		close(fd);
		free(w);
		errno = ENOMEM;
		return NULL;
	}
	gzbuffer(w->gz, WRITE_BUFFER);
	return w;
}

struct tracefile_writer *tracefile__create(const char *path, const struct bmt_run *run,
					   char *const stage_specs[])
{
	struct tracefile_writer *w = NULL;
	size_t hdr_len;
	char *hdr;
	int err;

	hdr = header_build(run, stage_specs, &hdr_len);
	if (hdr)
		w = writer_open(path);
	if (!w) {
		err = errno;
		free(hdr);
		errno = err;
		return NULL;
	}
	err = writer_put(w, hdr, hdr_len);
	free(hdr);
	if (err) {
		tracefile__abort(w);
		errno = -err;
		return NULL;
	}
	return w;
}

int tracefile__fd(const struct tracefile_writer *w)
{
	return w->fd;
}

int tracefile__write(struct tracefile_writer *w, const void *rec, size_t len)
{
	struct bmt_hdr h;

	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, rec, sizeof(h));
	/* hdr.size frames the stream: a record it does not describe would corrupt the rest */
	if (h.size < sizeof(h) || h.size > len || h.size > BMT_TRACE_REC_MAX ||
	    h.type == BMT_TRACE_END)
		return -EINVAL;
	return writer_put(w, rec, h.size);
}

int tracefile__close(struct tracefile_writer *w, const struct bmt_run *run)
{
	const struct bmt_cgroup *c = &run->cgroup;
	struct trace_cgroup cg = { c->version, (__u32)strnlen(c->path, sizeof(c->path)),
				   c->peak_bytes, c->limit_bytes, c->oom_kills,
				   c->swap_peak_bytes, c->memsw_peak_bytes };
	size_t tail = c->version ? sizeof(cg) + cg.path_len : 0;
	struct trace_end end = {
		.hdr = { .type = BMT_TRACE_END, .size = sizeof(end) + tail, .ts = run->end_ts },
		.exit_code = run->exit_code,
		.signal = run->signal,
		.end_ts = run->end_ts,
		.ring_bytes = run->ring_bytes,
		.stats = run->stats,
	};
	int err, zerr;

	err = writer_put(w, &end, sizeof(end));
	if (!err && tail)
		err = writer_put(w, &cg, sizeof(cg));
	if (!err && tail)
		err = writer_put(w, c->path, cg.path_len);
	/* gzclose flushes zlib's buffers: a full disk often shows only here */
	zerr = gzclose(w->gz);
	if (!err && zerr != Z_OK)
		err = zerr_to_errno(zerr, errno);
	free(w);
	return err;
}

void tracefile__abort(struct tracefile_writer *w)
{
	if (!w)
		return;
	gzclose(w->gz);
	free(w);
}

/* ---- reader ---- */

struct tracefile_reader {
	gzFile gz;
	char *header; /* the header after its prefix; argv and specs point into it */
	char **argv;
	char **specs;
	void *rec; /* the current record; malloc's alignment suits the collector's casts */
	size_t rec_cap;
	uint64_t records; /* data records returned so far */
	uint64_t offset;  /* uncompressed bytes consumed */
	bool ended;
	struct trace_end end;
	struct bmt_cgroup cgroup; /* from the end record; version 0 without --cgroup */
};

__attribute__((format(printf, 3, 4))) static int fail(char *err, size_t errlen,
						      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

/* gzerror's text without the "<fd:3>: " that gzdopen'ed streams put before it. */
static const char *gz_message(gzFile gz, int *zerr)
{
	const char *msg = gzerror(gz, zerr);
	const char *p;

	if (strncmp(msg, "<fd:", 4) == 0 && (p = strstr(msg, ">: ")))
		return p + 3;
	return msg;
}

static bool gz_failed(gzFile gz)
{
	int zerr;

	gzerror(gz, &zerr);
	return zerr != Z_OK;
}

/*
 * After a short read: a clean or a cut end of the stream is truncation, anything else
 * gzip's or the system's error.
 */
static int read_failed(struct tracefile_reader *r, char *err, size_t errlen)
{
	int zerr;
	const char *msg = gz_message(r->gz, &zerr);

	switch (zerr) {
	case Z_OK:
	case Z_BUF_ERROR: /* zlib's "unexpected end of file" */
		return fail(err, errlen, "truncated after %" PRIu64 " records", r->records);
	case Z_ERRNO:
		return fail(err, errlen, "read error: %s", msg);
	default:
		return fail(err, errlen, "gzip: %s", msg);
	}
}

static int read_exact(struct tracefile_reader *r, void *buf, size_t len, char *err,
		      size_t errlen)
{
	if (gzread(r->gz, buf, len) != (int)len)
		return read_failed(r, err, errlen);
	r->offset += len;
	return 0;
}

struct cursor {
	char *p, *end;
};

static bool get(struct cursor *c, void *dst, size_t len)
{
	if ((size_t)(c->end - c->p) < len)
		return false;
	memcpy(dst, c->p, len);
	c->p += len;
	return true;
}

/* The next NUL-terminated string, or NULL if its NUL is missing. */
static char *get_str(struct cursor *c)
{
	char *s = c->p;
	char *nul = memchr(s, '\0', c->end - s);

	if (!nul)
		return NULL;
	c->p = nul + 1;
	return s;
}

/* A u32 count and that many strings, as a NULL-terminated vector pointing into the header. */
static char **get_strv(struct cursor *c)
{
	uint32_t n, i;
	char **v;

	/* every string takes at least its NUL, so the bytes left bound the allocation */
	if (!get(c, &n, sizeof(n)) || n > TRACE_STRS_MAX || n > (size_t)(c->end - c->p))
		return NULL;
	v = calloc((size_t)n + 1, sizeof(*v));
	if (!v)
		return NULL;
	for (i = 0; i < n; i++) {
		v[i] = get_str(c);
		if (!v[i]) {
			free(v);
			return NULL;
		}
	}
	return v;
}

/* The fields after the prefix, from r->header (len bytes). */
static int header_parse(struct tracefile_reader *r, size_t len, struct bmt_run *run)
{
	struct cursor c = { r->header, r->header + len };
	uint32_t attached;
	const char *kernel;

	memset(run, 0, sizeof(*run));
	run->exit_code = -1; /* until the end record says otherwise */
	if (!get(&c, &run->start_ts, sizeof(run->start_ts)) ||
	    !get(&c, &run->start_realtime_ns, sizeof(run->start_realtime_ns)) ||
	    !get(&c, &run->page_size, sizeof(run->page_size)) ||
	    !get(&c, &run->root_pid, sizeof(run->root_pid)) ||
	    !get(&c, &attached, sizeof(attached)))
		return -1;
	run->attached = attached != 0;
	kernel = get_str(&c);
	if (!kernel || strlen(kernel) >= BMT_KERNEL_LEN)
		return -1;
	/* NOLINTNEXTLINE(clang-analyzer-security.insecureAPI.strcpy): length checked above */
	strcpy(run->kernel, kernel);
	r->argv = get_strv(&c);
	if (!r->argv)
		return -1;
	r->specs = get_strv(&c);
	if (!r->specs)
		return -1;
	run->argv = r->argv;
	if (c.p < c.end) { /* absent before the counter source was recorded */
		const char *src = get_str(&c);

		if (!src || strlen(src) >= sizeof(run->counter_source))
			return -1;
		/* NOLINTNEXTLINE(clang-analyzer-security.insecureAPI.strcpy): length checked */
		strcpy(run->counter_source, src);
	}
	/* absent from traces recorded before it was (they read as 0) */
	if (c.p < c.end && !get(&c, &run->thread_batch, sizeof(run->thread_batch)))
		return -1;
	return 0;
}

static int header_read(struct tracefile_reader *r, struct bmt_run *run, char *err,
		       size_t errlen)
{
	char prefix[TRACE_PREFIX_LEN];
	uint32_t version, len;
	int n;

	n = gzread(r->gz, prefix, sizeof(prefix));
	if (n > 0 && memcmp(prefix, TRACE_MAGIC, n < TRACE_MAGIC_LEN ? n : TRACE_MAGIC_LEN))
		return fail(err, errlen, "not a bmtrace trace (bad magic)");
	if (n == 0 && !gz_failed(r->gz))
		return fail(err, errlen, "empty file");
	if (n != sizeof(prefix))
		return read_failed(r, err, errlen);
	r->offset = n;
	memcpy(&version, prefix + TRACE_MAGIC_LEN, sizeof(version));
	memcpy(&len, prefix + TRACE_MAGIC_LEN + sizeof(version), sizeof(len));
	if (version != BMT_TRACE_VERSION)
		return fail(err, errlen, "unsupported trace version %" PRIu32
			    " (this bmtrace reads %d)", version, BMT_TRACE_VERSION);
	if (len < TRACE_FIXED_LEN || len > TRACE_HEADER_MAX)
		return fail(err, errlen, "corrupt header");
	r->header = malloc(len - TRACE_PREFIX_LEN);
	if (!r->header)
		return fail(err, errlen, "out of memory");
	if (read_exact(r, r->header, len - TRACE_PREFIX_LEN, err, errlen))
		return -1;
	if (header_parse(r, len - TRACE_PREFIX_LEN, run))
		return fail(err, errlen, "corrupt header");
	return 0;
}

struct tracefile_reader *tracefile__open(const char *path, struct bmt_run *run,
					 char ***stage_specs, char *err, size_t errlen)
{
	struct tracefile_reader *r;
	struct bmt_run hrun;
	int fd;

	r = calloc(1, sizeof(*r));
	if (!r) {
		fail(err, errlen, "out of memory");
		return NULL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fail(err, errlen, "%s", strerror(errno));
		free(r);
		return NULL;
	}
	r->gz = gzdopen(fd, "rb");
	if (!r->gz) {
		close(fd);
		fail(err, errlen, "out of memory");
		goto fail;
	}
	gzbuffer(r->gz, READ_BUFFER);
	if (header_read(r, &hrun, err, errlen))
		goto fail;
	/* a run is only touched once the whole header is known to be good */
	*run = hrun;
	if (stage_specs)
		*stage_specs = r->specs;
	return r;
fail:
	tracefile__close_reader(r);
	return NULL;
}

/* Room for a record of size bytes (at most BMT_TRACE_REC_MAX, checked by the caller). */
static int rec_reserve(struct tracefile_reader *r, size_t size)
{
	size_t cap = r->rec_cap ? r->rec_cap : REC_INITIAL;
	void *rec;

	if (size <= r->rec_cap)
		return 0;
	while (cap < size)
		cap *= 2;
	rec = realloc(r->rec, cap);
	if (!rec)
		return -1;
	r->rec = rec;
	r->rec_cap = cap;
	return 0;
}

/* --cgroup: the trace_cgroup after the end record proper, if there is one. */
static void cgroup_fill(const struct tracefile_reader *r, struct bmt_cgroup *c)
{
	const struct bmt_hdr *h = r->rec;
	struct trace_cgroup cg;

	memset(c, 0, sizeof(*c));
	if (h->size < sizeof(r->end) + sizeof(cg))
		return;
	memcpy(&cg, (const char *)r->rec + sizeof(r->end), sizeof(cg));
	if (!cg.version || cg.path_len >= sizeof(c->path) ||
	    cg.path_len > h->size - sizeof(r->end) - sizeof(cg))
		return; /* corrupt: as without --cgroup */
	*c = (struct bmt_cgroup){ .version = (int)cg.version, .peak_bytes = cg.peak,
				  .limit_bytes = cg.limit, .oom_kills = cg.oom_kills,
				  .swap_peak_bytes = cg.swap_peak, .memsw_peak_bytes = cg.memsw_peak };
	memcpy(c->path, (const char *)r->rec + sizeof(r->end) + sizeof(cg), cg.path_len);
}

static void end_fill(const struct tracefile_reader *r, struct bmt_run *run)
{
	run->exit_code = r->end.exit_code;
	run->signal = r->end.signal;
	run->end_ts = r->end.end_ts;
	run->ring_bytes = r->end.ring_bytes;
	run->stats = r->end.stats;
	run->cgroup = r->cgroup;
}

/* The end record is in r->rec, read from byte offset at. */
static int end_read(struct tracefile_reader *r, uint64_t at, struct bmt_run *run, char *err,
		    size_t errlen)
{
	const struct bmt_hdr *h = r->rec;
	char extra;
	int n;

	if (h->size < sizeof(r->end))
		return fail(err, errlen, "corrupt record %" PRIu64 " at byte offset %" PRIu64,
			    r->records + 1, at);
	memcpy(&r->end, r->rec, sizeof(r->end));
	cgroup_fill(r, &r->cgroup);
	/* read on to the end of the stream: only there does gzip check its CRC and length */
	n = gzread(r->gz, &extra, 1);
	if (n > 0)
		return fail(err, errlen, "data after the end record at byte offset %" PRIu64,
			    r->offset);
	if (n < 0 || gz_failed(r->gz))
		return read_failed(r, err, errlen);
	r->ended = true;
	end_fill(r, run);
	return 0;
}

int tracefile__next(struct tracefile_reader *r, const void **rec, size_t *len,
		    struct bmt_run *run, char *err, size_t errlen)
{
	uint64_t at = r->offset;
	struct bmt_hdr *h;

	if (r->ended) {
		end_fill(r, run);
		return 0;
	}
	if (rec_reserve(r, sizeof(*h)))
		return fail(err, errlen, "out of memory");
	if (read_exact(r, r->rec, sizeof(*h), err, errlen))
		return -1;
	h = r->rec;
	if (h->size < sizeof(*h) || h->size > BMT_TRACE_REC_MAX)
		return fail(err, errlen, "corrupt record %" PRIu64 " at byte offset %" PRIu64,
			    r->records + 1, at);
	if (rec_reserve(r, h->size))
		return fail(err, errlen, "out of memory");
	h = r->rec;
	if (read_exact(r, h + 1, h->size - sizeof(*h), err, errlen))
		return -1;
	if (h->type == BMT_TRACE_END)
		return end_read(r, at, run, err, errlen);
	r->records++;
	*rec = h;
	*len = h->size;
	return 1;
}

void tracefile__close_reader(struct tracefile_reader *r)
{
	if (!r)
		return;
	if (r->gz)
		gzclose(r->gz);
	free(r->header);
	free(r->argv);
	free(r->specs);
	free(r->rec);
	free(r);
}
