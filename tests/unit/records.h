/* SPDX-License-Identifier: MIT */
/*
 * records.h - build the records of bpf/bmtrace.h by hand and feed them to a collector.
 *
 * Two layers:
 * - rec_*(buf, ts, ...) lay one record out in buf (at least REC_BUF_MAX bytes, 8-aligned)
 *   and return its size; usable wherever records are needed (collector, trace files);
 * - feed_*(f, ...) build a record with the feeder's next timestamp, feed it, assert that
 *   the collector accepted it and return the timestamp it carried, so a test can compare
 *   peak times with the record that produced them.
 *
 * The fake clock is monotonic: every record is `step` ns after the previous one
 * (feeder_wait() adds a gap, e.g. the 20 ms of a spike).
 */
#ifndef BMT_TEST_RECORDS_H
#define BMT_TEST_RECORDS_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include "bmtrace.h"
#include "collector.h"

#define KiB  1024ull
#define MiB  (1024 * KiB)
#define GiB  (1024 * MiB)
#define MSEC 1000000ull

/* A NULL-terminated argv from string literals: ARGV("cc", "-c", "a.c"). */
#define ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Room for the largest record: an exec with a full filename and argv. */
#define REC_BUF_MAX (sizeof(struct bmt_exec) + BMT_FILENAME_MAX + BMT_ARGV_MAX)

/* A record buffer with the alignment of the ring buffer's records. */
struct rec_buf {
	_Alignas(8) unsigned char b[REC_BUF_MAX];
};

static inline void rec_hdr(void *buf, uint16_t type, uint16_t flags, uint32_t size, uint64_t ts)
{
	struct bmt_hdr *h = buf;

	memset(buf, 0, size);
	h->type = type;
	h->flags = flags;
	h->size = size;
	h->ts = ts;
}

static inline void rec_comm(char dst[BMT_COMM_LEN], const char *comm)
{
	memset(dst, 0, BMT_COMM_LEN);
	if (comm)
		strncpy(dst, comm, BMT_COMM_LEN - 1); /* the kernel's comm: 15 chars and a NUL */
}

static inline size_t rec_rss(void *buf, uint64_t ts, uint32_t mm_key, uint32_t member,
			     uint64_t bytes)
{
	struct bmt_rss *r = buf;

	rec_hdr(buf, BMT_REC_RSS, 0, sizeof(*r), ts);
	r->mm_key = mm_key;
	r->member = member;
	r->bytes = bytes;
	return sizeof(*r);
}

static inline size_t rec_fork(void *buf, uint64_t ts, uint16_t flags, uint32_t ppid, uint32_t pid,
			      uint32_t parent_mm_key, uint32_t child_mm_key, const char *comm)
{
	struct bmt_fork *r = buf;

	rec_hdr(buf, BMT_REC_FORK, flags, sizeof(*r), ts);
	r->ppid = ppid;
	r->pid = pid;
	r->parent_mm_key = parent_mm_key;
	r->child_mm_key = child_mm_key;
	rec_comm(r->comm, comm);
	return sizeof(*r);
}

static inline size_t rec_mm(void *buf, uint64_t ts, uint32_t pid, uint32_t mm_key)
{
	struct bmt_mm *r = buf;

	rec_hdr(buf, BMT_REC_MM, 0, sizeof(*r), ts);
	r->pid = pid;
	r->mm_key = mm_key;
	return sizeof(*r);
}

/*
 * An exec record as the BPF side lays it out: filename (NUL included), then the argv
 * strings, each NUL-terminated, cut at BMT_ARGV_MAX bytes with BMT_EXEC_ARGV_TRUNCATED
 * (the last string then has no NUL). comm is the kernel's: the filename's basename, cut.
 */
static inline size_t rec_exec(void *buf, uint64_t ts, uint32_t pid, uint32_t mm_key,
			      const char *filename, const char *const argv[])
{
	struct bmt_exec *r = buf;
	const char *base = strrchr(filename, '/') ? strrchr(filename, '/') + 1 : filename;
	size_t fn_len = strlen(filename) + 1, argv_len = 0;
	uint16_t flags = 0;
	char *p;

	if (fn_len > BMT_FILENAME_MAX)
		fn_len = BMT_FILENAME_MAX;
	rec_hdr(buf, BMT_REC_EXEC, 0, sizeof(*r), ts);
	r->pid = pid;
	r->mm_key = mm_key;
	rec_comm(r->comm, base);
	memcpy(r->data, filename, fn_len);
	r->data[fn_len - 1] = '\0';
	p = r->data + fn_len;
	for (size_t i = 0; argv && argv[i]; i++) {
		size_t n = strlen(argv[i]) + 1;

		if (argv_len + n > BMT_ARGV_MAX) {
			n = BMT_ARGV_MAX - argv_len;
			flags |= BMT_EXEC_ARGV_TRUNCATED;
		}
		memcpy(p + argv_len, argv[i], n);
		argv_len += n;
		if (flags)
			break;
	}
	r->filename_len = fn_len;
	r->argv_len = argv_len;
	r->hdr.flags = flags;
	r->hdr.size = sizeof(*r) + fn_len + argv_len;
	return r->hdr.size;
}

static inline size_t rec_exit(void *buf, uint64_t ts, uint32_t pid, int32_t exit_code)
{
	struct bmt_exit *r = buf;

	rec_hdr(buf, BMT_REC_EXIT, 0, sizeof(*r), ts);
	r->pid = pid;
	r->exit_code = exit_code;
	return sizeof(*r);
}

/* The OOM killer chose pid. */
static inline size_t rec_oom(void *buf, uint64_t ts, uint32_t pid)
{
	struct bmt_oom *r = buf;

	rec_hdr(buf, BMT_REC_OOM, 0, sizeof(*r), ts);
	r->pid = pid;
	return sizeof(*r);
}

/* -p: a process found running at attach, its counters from /proc/PID/status. */
static inline size_t rec_adopt(void *buf, uint64_t ts, uint32_t pid, uint32_t ppid,
			       const char *comm, uint64_t file, uint64_t anon, uint64_t swap,
			       uint64_t shmem)
{
	struct bmt_adopt *r = buf;

	rec_hdr(buf, BMT_REC_ADOPT, 0, sizeof(*r), ts);
	r->pid = pid;
	r->ppid = ppid;
	r->bytes[BMT_FILE] = file;
	r->bytes[BMT_ANON] = anon;
	r->bytes[BMT_SWAP] = swap;
	r->bytes[BMT_SHMEM] = shmem;
	rec_comm(r->comm, comm);
	return sizeof(*r);
}

/* Feeds records with a monotonic fake clock. */
struct feeder {
	struct collector *c;
	uint64_t ts;	/* of the last record fed (or add_root) */
	uint64_t step;	/* ns between two records */
	uint64_t n_rss; /* RSS records fed and accepted */
	uint64_t n_fed; /* records fed and accepted */
};

static inline void feeder_init(struct feeder *f, struct collector *c)
{
	memset(f, 0, sizeof(*f));
	f->c = c;
	f->ts = 1000 * MSEC; /* not 0: a zero peak time must mean "no peak" */
	f->step = MSEC;
}

static inline uint64_t feeder_tick(struct feeder *f)
{
	f->ts += f->step;
	return f->ts;
}

/* Leave a gap of ns before the next record (plus the usual step). */
static inline void feeder_wait(struct feeder *f, uint64_t ns)
{
	f->ts += ns;
}

/* Feed a built record; it must be accepted. Returns its ts. */
static inline uint64_t feed_ok(struct feeder *f, const void *rec, size_t len)
{
	const struct bmt_hdr *h = rec;

	assert_int_equal(collector__feed(f->c, rec, len), 0);
	f->n_fed++;
	if (h->type == BMT_REC_RSS)
		f->n_rss++;
	return h->ts;
}

static inline uint64_t feed_add_root(struct feeder *f, uint32_t pid, const char *const argv[])
{
	uint64_t ts = feeder_tick(f);

	assert_int_equal(collector__add_root(f->c, pid, (char *const *)argv, ts), 0);
	return ts;
}

static inline uint64_t feed_rss(struct feeder *f, uint32_t mm_key, uint32_t member, uint64_t bytes)
{
	struct rec_buf rb;

	return feed_ok(f, rb.b, rec_rss(rb.b, feeder_tick(f), mm_key, member, bytes));
}

/* fork() without CLONE_VM: the child's copied counters must have been fed before. */
static inline uint64_t feed_fork(struct feeder *f, uint32_t ppid, uint32_t pid,
				 uint32_t parent_mm_key, uint32_t child_mm_key, const char *comm)
{
	struct rec_buf rb;

	return feed_ok(
	    f, rb.b,
	    rec_fork(rb.b, feeder_tick(f), 0, ppid, pid, parent_mm_key, child_mm_key, comm));
}

/* vfork / posix_spawn: the child shares its parent's address space. */
static inline uint64_t feed_vfork(struct feeder *f, uint32_t ppid, uint32_t pid, uint32_t mm_key,
				  const char *comm)
{
	struct rec_buf rb;

	return feed_ok(
	    f, rb.b,
	    rec_fork(rb.b, feeder_tick(f), BMT_FORK_SHARED_MM, ppid, pid, mm_key, mm_key, comm));
}

static inline uint64_t feed_mm(struct feeder *f, uint32_t pid, uint32_t mm_key)
{
	struct rec_buf rb;

	return feed_ok(f, rb.b, rec_mm(rb.b, feeder_tick(f), pid, mm_key));
}

static inline uint64_t feed_exec(struct feeder *f, uint32_t pid, uint32_t mm_key,
				 const char *filename, const char *const argv[])
{
	struct rec_buf rb;

	return feed_ok(f, rb.b, rec_exec(rb.b, feeder_tick(f), pid, mm_key, filename, argv));
}

/* An exit with its wait(2) status: a signal number in the low 7 bits, or code << 8. */
static inline uint64_t feed_exit_status(struct feeder *f, uint32_t pid, int32_t status)
{
	struct rec_buf rb;

	return feed_ok(f, rb.b, rec_exit(rb.b, feeder_tick(f), pid, status));
}

static inline uint64_t feed_exit(struct feeder *f, uint32_t pid)
{
	return feed_exit_status(f, pid, 0);
}

static inline uint64_t feed_oom(struct feeder *f, uint32_t pid)
{
	struct rec_buf rb;

	return feed_ok(f, rb.b, rec_oom(rb.b, feeder_tick(f), pid));
}

static inline uint64_t feed_adopt(struct feeder *f, uint32_t pid, uint32_t ppid, const char *comm,
				  uint64_t file, uint64_t anon, uint64_t swap, uint64_t shmem)
{
	struct rec_buf rb;

	return feed_ok(f, rb.b,
		       rec_adopt(rb.b, feeder_tick(f), pid, ppid, comm, file, anon, swap, shmem));
}

/*
 * -p: the names of an adopted process (/proc/PID/exe and cmdline), sent right after its
 * ADOPT as an exec record that binds no address space (mm_key 0).
 */
static inline uint64_t feed_adopt_names(struct feeder *f, uint32_t pid, const char *exe,
					const char *const argv[])
{
	return feed_exec(f, pid, 0, exe, argv);
}

#endif /* BMT_TEST_RECORDS_H */
