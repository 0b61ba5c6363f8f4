// modules: tracefile privilege
// SPDX-License-Identifier: MIT
/*
 * tracefile: round trips, and every way a trace file can be bad must end in a one-line
 * reason, never a crash (the ASan/UBSan build runs the same cases).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include <cmocka.h>

#include "privilege.h"
#include "tracefile.h"

#define NRECS 20000
#define EXEC_BIG 9000 /* an exec record near the largest the kernel emits */

static char tmpdir[] = "/tmp/bmt-tracefile-XXXXXX";

static char *odd_argv[] = {
	"make", "", "two\nlines", "say \"hi\" 'there'", "\xff\xfe\x01\ttab", "-j2", NULL,
};
static char *specs[] = { "cc=^(cc1|gcc) ", "link=ld", "", NULL };

static const char *tmp(const char *name)
{
	static char path[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", tmpdir, name);
	return path[i];
}

static struct bmt_run sample_run(void)
{
	struct bmt_run run = {
		.argv = odd_argv,
		.root_pid = 4242,
		.attached = 1,
		.exit_code = 3,
		.signal = 9,
		.start_ts = 1000000007ull,
		.end_ts = 9000000011ull,
		.start_realtime_ns = 1700000000123456789ull,
		.page_size = 4096,
		.kernel = "6.1.0-28-amd64",
		.counter_source = "btf-percpu",
		.thread_batch = 64,
		.stats = { .events = 11, .lost = 22, .unpaired = 33, .procs_full = 44,
			   .mms_full = 55 },
		.ring_bytes = 1u << 24,
	};
	return run;
}

/* Record i of the sample stream: the kernel's types and sizes, a pattern as payload. */
static size_t sample_rec(uint64_t i, unsigned char *buf)
{
	static const uint16_t types[] = { BMT_REC_RSS, BMT_REC_FORK, BMT_REC_MM, BMT_REC_EXEC,
					  BMT_REC_EXIT, BMT_REC_ADOPT };
	static const size_t sizes[] = { sizeof(struct bmt_rss), sizeof(struct bmt_fork),
					sizeof(struct bmt_mm), 0, sizeof(struct bmt_exit),
					sizeof(struct bmt_adopt) };
	struct bmt_hdr h = { .type = types[i % 6], .flags = i & 0xffff, .ts = i * 1000 };
	size_t j;

	h.size = sizes[i % 6];
	if (!h.size) /* odd sizes, so later records start unaligned in the stream */
		h.size = i % 60 == 3 ? EXEC_BIG : sizeof(struct bmt_exec) + 1 + i % 301;
	memcpy(buf, &h, sizeof(h));
	for (j = sizeof(h); j < h.size; j++)
		buf[j] = (unsigned char)(i * 31 + j);
	return h.size;
}

static void write_sample(const char *path, const struct bmt_run *run, char *const sp[],
			 uint64_t nrecs)
{
	static unsigned char buf[EXEC_BIG];
	struct tracefile_writer *w;
	uint64_t i;

	w = tracefile__create(path, run, sp);
	assert_non_null(w);
	for (i = 0; i < nrecs; i++)
		assert_int_equal(tracefile__write(w, buf, sample_rec(i, buf)), 0);
	assert_int_equal(tracefile__close(w, run), 0);
}

/* Read path to its end: the result of the last call, err set, *nrecs the records seen. */
static int read_all(const char *path, char *err, size_t errlen, uint64_t *nrecs)
{
	struct tracefile_reader *r;
	struct bmt_run run;
	char **sp;
	const void *rec;
	size_t len;
	int ret;

	*nrecs = 0;
	err[0] = '\0';
	r = tracefile__open(path, &run, &sp, err, errlen);
	if (!r) {
		assert_true(err[0] != '\0');
		return -2;
	}
	while ((ret = tracefile__next(r, &rec, &len, &run, err, errlen)) == 1)
		(*nrecs)++;
	tracefile__close_reader(r);
	return ret;
}

static void *slurp(const char *path, size_t *len)
{
	struct stat st;
	void *buf;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc(st.st_size + 1);
	assert_non_null(buf);
	assert_int_equal(read(fd, buf, st.st_size), st.st_size);
	close(fd);
	*len = st.st_size;
	return buf;
}

static void spit(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* The uncompressed stream of a gzip file. */
static unsigned char *gz_slurp(const char *path, size_t *len)
{
	size_t cap = 1 << 20;
	unsigned char *buf = malloc(cap);
	gzFile gz = gzopen(path, "rb");
	int n;

	assert_non_null(gz);
	*len = 0;
	while ((n = gzread(gz, buf + *len, cap - *len)) > 0) {
		*len += n;
		if (*len == cap) {
			unsigned char *more = realloc(buf, cap *= 2);

			assert_non_null(more);
			buf = more;
		}
		assert_non_null(buf);
	}
	assert_int_equal(n, 0);
	assert_int_equal(gzclose(gz), Z_OK);
	return buf;
}

static void gz_spit(const char *path, const void *buf, size_t len)
{
	gzFile gz = gzopen(path, "wb");

	assert_non_null(gz);
	assert_int_equal(gzwrite(gz, buf, len), (int)len);
	assert_int_equal(gzclose(gz), Z_OK);
}

static uint32_t le32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static void set_le32(unsigned char *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Byte offset of record k (0-based) in an uncompressed stream. */
static size_t rec_offset(const unsigned char *raw, unsigned k)
{
	size_t off = le32(raw + 12);

	while (k--)
		off += le32(raw + off + offsetof(struct bmt_hdr, size));
	return off;
}

/* A sample trace, uncompressed, for the tests to damage. */
static unsigned char *sample_raw(uint64_t nrecs, size_t *len)
{
	struct bmt_run run = sample_run();
	const char *path = tmp("raw.bmt");

	write_sample(path, &run, specs, nrecs);
	return gz_slurp(path, len);
}

static void assert_open_fails(const char *path, const char *want)
{
	char err[256];
	uint64_t n;

	assert_int_equal(read_all(path, err, sizeof(err), &n), -2);
	assert_string_equal(err, want);
}

static void test_round_trip(void **state)
{
	static unsigned char want[EXEC_BIG];
	struct bmt_run in = sample_run(), out;
	const char *path = tmp("rt.bmt");
	struct tracefile_reader *r;
	const void *rec;
	char err[256], **sp;
	size_t len;
	uint64_t i;
	int k;

	write_sample(path, &in, specs, NRECS);
	memset(&out, 0xa5, sizeof(out));
	r = tracefile__open(path, &out, &sp, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(out.root_pid, 4242);
	assert_int_equal(out.attached, 1);
	assert_int_equal(out.exit_code, -1); /* not known before the end record */
	assert_int_equal(out.start_ts, in.start_ts);
	assert_int_equal(out.start_realtime_ns, in.start_realtime_ns);
	assert_int_equal(out.page_size, 4096);
	assert_string_equal(out.kernel, "6.1.0-28-amd64");
	assert_string_equal(out.counter_source, "btf-percpu");
	assert_int_equal(out.thread_batch, 64);
	for (k = 0; odd_argv[k]; k++)
		assert_string_equal(out.argv[k], odd_argv[k]);
	assert_null(out.argv[k]);
	for (k = 0; specs[k]; k++)
		assert_string_equal(sp[k], specs[k]);
	assert_null(sp[k]);

	for (i = 0; i < NRECS; i++) {
		assert_int_equal(tracefile__next(r, &rec, &len, &out, err, sizeof(err)), 1);
		assert_int_equal(len, sample_rec(i, want));
		assert_memory_equal(rec, want, len);
		assert_int_equal((uintptr_t)rec % 8, 0); /* the collector casts it */
	}
	assert_int_equal(tracefile__next(r, &rec, &len, &out, err, sizeof(err)), 0);
	assert_int_equal(out.exit_code, 3);
	assert_int_equal(out.signal, 9);
	assert_int_equal(out.end_ts, in.end_ts);
	assert_int_equal(out.ring_bytes, in.ring_bytes);
	assert_memory_equal(&out.stats, &in.stats, sizeof(in.stats));
	/* asking again after the end is harmless */
	assert_int_equal(tracefile__next(r, &rec, &len, &out, err, sizeof(err)), 0);
	tracefile__close_reader(r);
}

/* A trace's run cgroup, from its end record: without --cgroup, no cgroup; with it, every figure and the path. */
static struct bmt_cgroup read_cgroup(const char *path)
{
	struct tracefile_reader *r;
	struct bmt_run out;
	char err[256], **sp;
	const void *rec;
	size_t len;

	r = tracefile__open(path, &out, &sp, err, sizeof(err));
	assert_non_null(r);
	while (tracefile__next(r, &rec, &len, &out, err, sizeof(err)) == 1)
		;
	tracefile__close_reader(r);
	return out.cgroup;
}

static void test_cgroup_round_trip(void **state)
{
	struct bmt_run in = sample_run();
	const char *path = tmp("cgroup.bmt");
	struct bmt_cgroup out;

	write_sample(path, &in, specs, 3);
	out = read_cgroup(path);
	assert_int_equal(out.version, 0);
	in.cgroup = (struct bmt_cgroup){ .version = 1, .path = "/sys/fs/cgroup/memory/bmtrace-9",
					 .peak_bytes = 134217728, .limit_bytes = 134217728,
					 .oom_kills = 2, .swap_peak_bytes = UINT64_MAX,
					 .memsw_peak_bytes = 134479872 };
	write_sample(path, &in, specs, 3);
	out = read_cgroup(path);
	assert_int_equal(out.version, 1);
	assert_string_equal(out.path, in.cgroup.path);
	assert_int_equal(out.peak_bytes, in.cgroup.peak_bytes);
	assert_int_equal(out.limit_bytes, in.cgroup.limit_bytes);
	assert_int_equal(out.oom_kills, 2);
	assert_true(out.swap_peak_bytes == UINT64_MAX);
	assert_int_equal(out.memsw_peak_bytes, 134479872);
}

static void test_empty_lists(void **state)
{
	struct bmt_run in = sample_run(), out;
	const char *path = tmp("empty-lists.bmt");
	struct tracefile_reader *r;
	char err[256], **sp;
	const void *rec;
	size_t len;

	in.argv = NULL;
	in.attached = 0;
	write_sample(path, &in, NULL, 0);
	r = tracefile__open(path, &out, &sp, err, sizeof(err));
	assert_non_null(r);
	assert_null(out.argv[0]);
	assert_null(sp[0]);
	assert_int_equal(out.attached, 0);
	assert_int_equal(tracefile__next(r, &rec, &len, &out, err, sizeof(err)), 0);
	tracefile__close_reader(r);
}

static void test_create_file(void **state)
{
	struct bmt_run run = sample_run();
	const char *path = tmp("mode.bmt"), *link = tmp("link.bmt");
	struct stat st;
	char junk[4096], err[256];
	uint64_t n;

	memset(junk, 'x', sizeof(junk));
	spit(path, junk, sizeof(junk)); /* O_TRUNC: no old bytes after the new stream */
	umask(022);
	write_sample(path, &run, specs, 10);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	assert_int_equal(read_all(path, err, sizeof(err), &n), 0);
	assert_int_equal(n, 10);

	assert_int_equal(symlink(path, link), 0);
	errno = 0;
	assert_null(tracefile__create(link, &run, specs));
	assert_int_equal(errno, ELOOP);
	assert_null(tracefile__create(tmp("no/such/dir"), &run, specs));
	assert_int_equal(errno, ENOENT);
}

/*
 * tracefile__fd: the recording's descriptor, through which it is given to a user
 * (privilege__give_fd): that owner's (as root); EPERM else.
 */
static void test_chown(void **state)
{
	struct bmt_run run = sample_run();
	const char *path = tmp("owned.bmt");
	struct tracefile_writer *w = tracefile__create(path, &run, NULL);
	struct stat st;
	int rc;

	assert_non_null(w);
	rc = privilege__give_fd(&(struct privilege_creds){ .uid = 12345, .gid = 23456 },
				tracefile__fd(w));
	assert_int_equal(tracefile__close(w, &run), 0);
	assert_int_equal(stat(path, &st), 0);
	if (geteuid() == 0) {
		assert_int_equal(rc, 0);
		assert_int_equal(st.st_uid, 12345);
		assert_int_equal(st.st_gid, 23456);
	} else {
		assert_int_equal(rc, -EPERM);
		assert_int_equal(st.st_uid, geteuid());
	}
}

static void test_write_rejects_bad_records(void **state)
{
	struct bmt_run run = sample_run();
	struct tracefile_writer *w = tracefile__create(tmp("bad-write.bmt"), &run, NULL);
	struct bmt_rss rss = { .hdr = { .type = BMT_REC_RSS, .size = sizeof(rss) } };

	assert_non_null(w);
	assert_int_equal(tracefile__write(w, &rss, sizeof(rss.hdr) - 1), -EINVAL);
	assert_int_equal(tracefile__write(w, &rss, sizeof(rss) - 1), -EINVAL);
	rss.hdr.size = 3;
	assert_int_equal(tracefile__write(w, &rss, sizeof(rss)), -EINVAL);
	rss.hdr.size = sizeof(rss);
	rss.hdr.type = BMT_TRACE_END;
	assert_int_equal(tracefile__write(w, &rss, sizeof(rss)), -EINVAL);
	rss.hdr.type = BMT_REC_RSS;
	assert_int_equal(tracefile__write(w, &rss, sizeof(rss)), 0);
	assert_int_equal(tracefile__close(w, &run), 0);
}

static void test_disk_full(void **state)
{
	struct bmt_run run = sample_run();
	unsigned char buf[EXEC_BIG];
	struct tracefile_writer *w;
	int i, ret = 0;

	if (access("/dev/full", W_OK))
		skip();
	w = tracefile__create("/dev/full", &run, specs);
	assert_non_null(w);
	/* incompressible records, so zlib has to write long before the loop ends */
	for (i = 0; i < 4000 && !ret; i++) {
		size_t len = sample_rec(3, buf), j;

		for (j = sizeof(struct bmt_hdr); j < len; j++)
			buf[j] = rand();
		ret = tracefile__write(w, buf, len);
	}
	assert_int_equal(ret, -ENOSPC);
	assert_int_equal(tracefile__write(w, buf, sample_rec(0, buf)), -ENOSPC);
	assert_int_equal(tracefile__close(w, &run), -ENOSPC);
}

static void test_abort_reads_truncated(void **state)
{
	struct bmt_run run = sample_run();
	const char *path = tmp("abort.bmt");
	unsigned char buf[EXEC_BIG];
	struct tracefile_writer *w;
	char err[256];
	uint64_t i, n;

	w = tracefile__create(path, &run, specs);
	assert_non_null(w);
	for (i = 0; i < 77; i++)
		assert_int_equal(tracefile__write(w, buf, sample_rec(i, buf)), 0);
	tracefile__abort(w);
	assert_int_equal(read_all(path, err, sizeof(err), &n), -1);
	assert_int_equal(n, 77);
	assert_string_equal(err, "truncated after 77 records");
}

/* Cut the compressed file anywhere: a reason, never a crash. */
static void test_truncated_gzip(void **state)
{
	struct bmt_run run = sample_run();
	const char *path = tmp("whole.bmt"), *cut = tmp("cut.bmt");
	unsigned char *gz;
	size_t len, at;
	char err[256];
	uint64_t n;
	int ret;

	write_sample(path, &run, specs, 3000);
	gz = slurp(path, &len);
	for (at = 1; at < len; at += at < 64 || at > len - 64 ? 1 : 997) {
		spit(cut, gz, at);
		ret = read_all(cut, err, sizeof(err), &n);
		assert_true(ret < 0);
		if (strncmp(err, "truncated after ", 16) && strncmp(err, "gzip: ", 6) &&
		    strcmp(err, "not a bmtrace trace (bad magic)"))
			fail_msg("cut at %zu of %zu: unexpected \"%s\"", at, len, err);
		/* a cut inside the gzip header can look like a plain file, never later */
		if (at > 20 && strncmp(err, "truncated after ", 16))
			fail_msg("cut at %zu of %zu: \"%s\"", at, len, err);
	}
	free(gz);
}

/* Cut the uncompressed stream at every kind of place, in a well-formed gzip file. */
static void test_truncated_stream(void **state)
{
	const char *path = tmp("cut-raw.bmt");
	unsigned char *raw;
	size_t len, hdr_len;
	char err[256];
	uint64_t n;
	struct {
		size_t at;
		const char *want;
	} cases[6];
	size_t i;

	raw = sample_raw(10, &len);
	hdr_len = le32(raw + 12);
	cases[0].at = 7, cases[0].want = "truncated after 0 records";
	cases[1].at = 20, cases[1].want = "truncated after 0 records";
	cases[2].at = hdr_len + 5, cases[2].want = "truncated after 0 records";
	cases[3].at = rec_offset(raw, 4) + 20, cases[3].want = "truncated after 4 records";
	cases[4].at = rec_offset(raw, 10), cases[4].want = "truncated after 10 records";
	cases[5].at = len - 1, cases[5].want = "truncated after 10 records";
	for (i = 0; i < 6; i++) {
		gz_spit(path, raw, cases[i].at);
		read_all(path, err, sizeof(err), &n);
		assert_string_equal(err, cases[i].want);
	}
	free(raw);
}

static void test_corrupt_record(void **state)
{
	static const uint32_t bad_sizes[] = { 3, 0, 15, BMT_TRACE_REC_MAX + 1, 0x7fffffff };
	const char *path = tmp("corrupt.bmt");
	unsigned char *raw;
	char err[256], want[128];
	size_t len, off, i;
	uint64_t n;

	raw = sample_raw(10, &len);
	off = rec_offset(raw, 3);
	snprintf(want, sizeof(want), "corrupt record 4 at byte offset %zu", off);
	for (i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		unsigned char *bad = malloc(len);

		memcpy(bad, raw, len);
		set_le32(bad + off + offsetof(struct bmt_hdr, size), bad_sizes[i]);
		gz_spit(path, bad, len);
		assert_int_equal(read_all(path, err, sizeof(err), &n), -1);
		assert_int_equal(n, 3);
		assert_string_equal(err, want);
		free(bad);
	}
	free(raw);
}

static void test_corrupt_end(void **state)
{
	const char *path = tmp("corrupt-end.bmt");
	unsigned char *raw, *more;
	char err[256], want[128];
	size_t len, off;
	uint64_t n;

	raw = sample_raw(5, &len);
	off = rec_offset(raw, 5); /* the end record */

	/* an end record too short to hold the end */
	set_le32(raw + off + offsetof(struct bmt_hdr, size), 24);
	gz_spit(path, raw, off + 24);
	assert_int_equal(read_all(path, err, sizeof(err), &n), -1);
	snprintf(want, sizeof(want), "corrupt record 6 at byte offset %zu", off);
	assert_string_equal(err, want);
	set_le32(raw + off + offsetof(struct bmt_hdr, size), len - off);

	/* bytes after the end record */
	more = calloc(1, len + 8);
	memcpy(more, raw, len);
	gz_spit(path, more, len + 8);
	assert_int_equal(read_all(path, err, sizeof(err), &n), -1);
	snprintf(want, sizeof(want), "data after the end record at byte offset %zu", len);
	assert_string_equal(err, want);
	free(more);
	free(raw);
}

/* gzip's own checks: the CRC and length in its trailer, a damaged deflate block. */
static void test_gzip_errors(void **state)
{
	struct bmt_run run = sample_run();
	const char *path = tmp("crc.bmt"), *bad = tmp("crc-bad.bmt");
	unsigned char *gz;
	size_t len, at;
	char err[256];
	uint64_t n;

	write_sample(path, &run, specs, 2000);
	gz = slurp(path, &len);

	gz[len - 8] ^= 0x55; /* CRC-32 */
	spit(bad, gz, len);
	assert_int_equal(read_all(bad, err, sizeof(err), &n), -1);
	/* zlib decompresses ahead, so the records of the last chunk are lost with it */
	assert_string_equal(err, "gzip: incorrect data check");
	gz[len - 8] ^= 0x55;

	gz[len - 1] ^= 0x01; /* ISIZE */
	spit(bad, gz, len);
	assert_int_equal(read_all(bad, err, sizeof(err), &n), -1);
	assert_string_equal(err, "gzip: incorrect length check");
	gz[len - 1] ^= 0x01;

	for (at = 12; at < len - 8; at += len / 7) {
		int ret;

		gz[at] ^= 0xff;
		spit(bad, gz, len);
		ret = read_all(bad, err, sizeof(err), &n);
		assert_true(ret < 0);
		assert_true(err[0] != '\0');
		gz[at] ^= 0xff;
	}
	free(gz);
}

/* Random damage to the uncompressed stream: any outcome but a crash or a silent error. */
static void test_random_damage(void **state)
{
	const char *path = tmp("damaged.bmt");
	unsigned char *raw, *bad;
	size_t len;
	char err[256];
	uint64_t n;
	int i, j, ret;

	srand(1);
	raw = sample_raw(30, &len);
	bad = malloc(len);
	for (i = 0; i < 500; i++) {
		memcpy(bad, raw, len);
		for (j = 0; j < 1 + i % 4; j++)
			bad[rand() % len] ^= 1 << rand() % 8;
		gz_spit(path, bad, i % 5 ? len : (size_t)rand() % len);
		ret = read_all(path, err, sizeof(err), &n);
		assert_true(ret == 0 || (ret < 0 && err[0] && !strchr(err, '\n')));
	}
	free(bad);
	free(raw);
}

static void test_bad_magic(void **state)
{
	const char *path = tmp("magic.bmt");
	unsigned char *raw;
	size_t len;

	spit(path, "hello, world\n", 13);
	assert_open_fails(path, "not a bmtrace trace (bad magic)");
	spit(path, "BMX", 3);
	assert_open_fails(path, "not a bmtrace trace (bad magic)");
	spit(path, "BMT", 3); /* the start of a trace */
	assert_open_fails(path, "truncated after 0 records");
	gz_spit(path, "#!/bin/sh\necho hi\n", 18);
	assert_open_fails(path, "not a bmtrace trace (bad magic)");

	raw = sample_raw(1, &len);
	raw[7] = '!';
	gz_spit(path, raw, len);
	assert_open_fails(path, "not a bmtrace trace (bad magic)");
	free(raw);
}

static void test_bad_version(void **state)
{
	const char *path = tmp("version.bmt");
	unsigned char *raw;
	size_t len;

	raw = sample_raw(1, &len);
	set_le32(raw + 8, 7);
	gz_spit(path, raw, len);
	assert_open_fails(path, "unsupported trace version 7 (this bmtrace reads 1)");
	set_le32(raw + 8, 0);
	gz_spit(path, raw, len);
	assert_open_fails(path, "unsupported trace version 0 (this bmtrace reads 1)");
	free(raw);
}

static void test_corrupt_header(void **state)
{
	static const uint32_t bad_lens[] = { 0, 16, 43, 1u << 30, 0xffffffff };
	const char *path = tmp("header.bmt");
	unsigned char *raw;
	size_t len, hdr_len, argc_at, i;

	raw = sample_raw(1, &len);
	hdr_len = le32(raw + 12);
	for (i = 0; i < sizeof(bad_lens) / sizeof(bad_lens[0]); i++) {
		set_le32(raw + 12, bad_lens[i]);
		gz_spit(path, raw, len);
		assert_open_fails(path, "corrupt header");
	}
	set_le32(raw + 12, hdr_len);

	/* the counter source's NUL (the last string: the u32 thread_batch follows), then the kernel
	 * release's, replaced */
	raw[hdr_len - 5] = 'x';
	gz_spit(path, raw, len);
	assert_open_fails(path, "corrupt header");
	raw[hdr_len - 5] = '\0';
	argc_at = 44 + strlen((char *)raw + 44) + 1;
	raw[argc_at - 1] = 'x';
	gz_spit(path, raw, len);
	assert_open_fails(path, "corrupt header");
	raw[argc_at - 1] = '\0';

	/* counts no header could hold: the reader must not trust them for allocation */
	set_le32(raw + argc_at, 0xffffffff);
	gz_spit(path, raw, len);
	assert_open_fails(path, "corrupt header");
	set_le32(raw + argc_at, 1u << 20);
	gz_spit(path, raw, len);
	assert_open_fails(path, "corrupt header");
	free(raw);
}

static void test_header_room_for_more(void **state)
{
	const char *path = tmp("longer.bmt");
	unsigned char *raw, *longer;
	size_t len, hdr_len;
	char err[256];
	uint64_t n;

	/* fields appended by a later writer are skipped */
	raw = sample_raw(4, &len);
	hdr_len = le32(raw + 12);
	longer = calloc(1, len + 24);
	memcpy(longer, raw, hdr_len);
	memcpy(longer + hdr_len + 24, raw + hdr_len, len - hdr_len);
	set_le32(longer + 12, hdr_len + 24);
	gz_spit(path, longer, len + 24);
	assert_int_equal(read_all(path, err, sizeof(err), &n), 0);
	assert_int_equal(n, 4);
	free(longer);
	free(raw);
}

/*
 * A trace written before the counter source and thread_batch were recorded (the header's last
 * string and the u32 after it): read, with the source empty and thread_batch 0.
 */
static void test_header_without_counter_source(void **state)
{
	const char *path = tmp("nosource.bmt");
	size_t len, hdr_len, src_at, cut = strlen("btf-percpu") + 1, tail = sizeof(uint32_t);
	struct tracefile_reader *r;
	unsigned char *raw, *longer;
	struct bmt_run out;
	char err[256], **sp;

	raw = sample_raw(3, &len);
	hdr_len = le32(raw + 12);
	src_at = hdr_len - tail - cut;
	assert_memory_equal(raw + src_at, "btf-percpu", cut);
	memmove(raw + src_at, raw + hdr_len, len - hdr_len);
	set_le32(raw + 12, src_at);
	gz_spit(path, raw, len - cut - tail);
	memset(&out, 0xa5, sizeof(out));
	r = tracefile__open(path, &out, &sp, err, sizeof(err));
	assert_non_null(r);
	assert_string_equal(out.counter_source, "");
	assert_int_equal(out.thread_batch, 0);
	assert_string_equal(out.kernel, "6.1.0-28-amd64");
	tracefile__close_reader(r);
	free(raw);

	/* a source longer than any bmtrace writes is corruption */
	raw = sample_raw(1, &len);
	hdr_len = le32(raw + 12);
	src_at = hdr_len - tail - cut;
	memset(raw + src_at, 'x', cut - 1);
	longer = realloc(raw, len + 8);
	assert_non_null(longer);
	raw = longer;
	/* 8 more bytes before its NUL */
	memmove(raw + src_at + cut - 1 + 8, raw + src_at + cut - 1, len - (src_at + cut - 1));
	memset(raw + src_at + cut - 1, 'y', 8);
	set_le32(raw + 12, hdr_len + 8);
	gz_spit(path, raw, len + 8);
	assert_open_fails(path, "corrupt header");
	free(raw);
}

static void test_empty_file(void **state)
{
	const char *path = tmp("empty.bmt");

	spit(path, "", 0);
	assert_open_fails(path, "empty file");
	gz_spit(path, "", 0);
	assert_open_fails(path, "empty file");
}

static void test_missing_file(void **state)
{
	assert_open_fails(tmp("does-not-exist.bmt"), strerror(ENOENT));
	assert_open_fails(tmpdir, "read error: Is a directory");
}

static int setup(void **state)
{
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			unlinkat(dirfd(d), e->d_name, 0);
	closedir(d);
	return rmdir(tmpdir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_cgroup_round_trip),
		cmocka_unit_test(test_empty_lists),
		cmocka_unit_test(test_create_file),
		cmocka_unit_test(test_chown),
		cmocka_unit_test(test_write_rejects_bad_records),
		cmocka_unit_test(test_disk_full),
		cmocka_unit_test(test_abort_reads_truncated),
		cmocka_unit_test(test_truncated_gzip),
		cmocka_unit_test(test_truncated_stream),
		cmocka_unit_test(test_corrupt_record),
		cmocka_unit_test(test_corrupt_end),
		cmocka_unit_test(test_gzip_errors),
		cmocka_unit_test(test_random_damage),
		cmocka_unit_test(test_bad_magic),
		cmocka_unit_test(test_bad_version),
		cmocka_unit_test(test_corrupt_header),
		cmocka_unit_test(test_header_room_for_more),
		cmocka_unit_test(test_header_without_counter_source),
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
