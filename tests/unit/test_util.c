// modules: util privilege
// SPDX-License-Identifier: MIT
/* util: size parsing and formatting, basename, atomic writes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "privilege.h"
#include "util.h"

#define KiB 1024ull
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)
#define TiB (1024 * GiB)

static void test_parse_size(void **state)
{
	static const struct {
		const char *in;
		int err;
		uint64_t want;
	} cases[] = {
		{ "4G", 0, 4 * GiB },
		{ "3500M", 0, 3500 * MiB },
		{ "512K", 0, 512 * KiB },
		{ "512KiB", 0, 512 * KiB },
		{ "512kib", 0, 512 * KiB },
		{ "2mb", 0, 2 * MiB },
		{ "2Mi", 0, 2 * MiB },
		{ "1.5G", 0, 3 * GiB / 2 },
		{ "0.5k", 0, 512 },
		{ "1T", 0, TiB },
		{ "1048576", 0, 1048576 },
		{ "17B", 0, 17 },
		{ "0", 0, 0 },
		{ "18446744073709551615", 0, UINT64_MAX },
		{ "16777215T", 0, 16777215 * TiB },
		{ "", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "1 ", -EINVAL, 0 },
		{ "12X", -EINVAL, 0 },
		{ "G", -EINVAL, 0 },
		{ "1.", -EINVAL, 0 },
		{ "1.5", -EINVAL, 0 }, /* a fraction of a byte */
		{ "1GG", -EINVAL, 0 },
		{ "1iB", -EINVAL, 0 },
		{ "99999999999T", -EINVAL, 0 },
		{ "16777216T", -EINVAL, 0 },
		{ "18446744073709551616", -EINVAL, 0 },
		{ "99999999999999999999999", -EINVAL, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t got = 12345;
		int err = util_parse_size(cases[i].in, &got);

		if (err != cases[i].err || (!err && got != cases[i].want))
			fail_msg("\"%s\": got %d/%llu, want %d/%llu", cases[i].in, err,
				 (unsigned long long)got, cases[i].err,
				 (unsigned long long)cases[i].want);
		if (err)
			assert_int_equal(got, 12345); /* untouched on error */
	}
}

static void test_fmt_bytes(void **state)
{
	static const struct {
		uint64_t in;
		const char *want;
	} cases[] = {
		{ 0, "0 B" },
		{ 17, "17 B" },
		{ 1023, "1023 B" },
		{ 1024, "1.00 KiB" },
		{ 1536, "1.50 KiB" },
		{ 10 * KiB, "10.0 KiB" },
		{ 812 * KiB, "812.0 KiB" },
		{ 1320702444, "1.23 GiB" },
		{ 180 * MiB, "180.0 MiB" },
		{ MiB - 1, "1.00 MiB" }, /* not "1024.0 KiB" */
		{ 4 * GiB + 300 * MiB, "4.29 GiB" },
		{ TiB, "1.00 TiB" },
		{ UINT64_MAX, "16.0 EiB" },
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(util_fmt_bytes(cases[i].in, buf, sizeof(buf)), cases[i].want);
	/* A short buffer is cut, not overrun. */
	assert_string_equal(util_fmt_bytes(812 * KiB, buf, 4), "812");
}

static void test_basename(void **state)
{
	assert_string_equal(util_basename("/usr/bin/make"), "make");
	assert_string_equal(util_basename("make"), "make");
	assert_string_equal(util_basename("out/"), "");
	assert_string_equal(util_basename("/"), "");
	assert_string_equal(util_basename(""), "");
}

static void test_fmt_count(void **state)
{
	char buf[32];

	assert_string_equal(util_fmt_count(0, buf, sizeof(buf)), "0");
	assert_string_equal(util_fmt_count(999, buf, sizeof(buf)), "999");
	assert_string_equal(util_fmt_count(1000, buf, sizeof(buf)), "1,000");
	assert_string_equal(util_fmt_count(1052113, buf, sizeof(buf)), "1,052,113");
	assert_string_equal(util_fmt_count(UINT64_MAX, buf, sizeof(buf)),
			    "18,446,744,073,709,551,615");
	/* a short buffer is cut, never overrun */
	assert_string_equal(util_fmt_count(1052113, buf, 4), "1,0");
}

/* A scratch directory per test. */
struct scratch {
	char dir[64];
	char path[128];
};

static int scratch_setup(void **state)
{
	struct scratch *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	strcpy(s->dir, "/tmp/bmt-test-util-XXXXXX");
	if (!mkdtemp(s->dir)) {
		free(s);
		return -1;
	}
	snprintf(s->path, sizeof(s->path), "%s/out.json", s->dir);
	umask(022);
	*state = s;
	return 0;
}

static int scratch_teardown(void **state)
{
	struct scratch *s = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	if (system(cmd))
		return -1;
	free(s);
	return 0;
}

static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

static char *slurp(const char *path)
{
	static char buf[256];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int write_str(FILE *f, void *ctx)
{
	return fputs(ctx, f) == EOF ? -EIO : 0;
}

static int write_then_fail(FILE *f, void *ctx)
{
	fputs("half a fi", f);
	fflush(f);
	return -EIO;
}

static int write_positive(FILE *f, void *ctx)
{
	fputs("ok", f);
	return 7;
}

/* Larger than the first read, so the buffer grows; the exact bytes, a NUL after them. */
static void test_read_file(void **state)
{
	struct scratch *s = *state;
	size_t len = 200000, got;
	char *big = malloc(len + 1), *back;

	assert_non_null(big);
	for (size_t i = 0; i < len; i++)
		big[i] = (char)('a' + i % 26);
	big[len] = '\0';
	assert_int_equal(util_write_atomic(s->path, write_str, big), 0);
	back = util_read_file(s->path, &got);
	assert_non_null(back);
	assert_int_equal(got, len);
	assert_string_equal(back, big);
	free(back);
	free(big);
	errno = 0;
	assert_null(util_read_file("/nonexistent-dir/x", NULL));
	assert_int_equal(errno, ENOENT);
}

/* Every output is checked before a run: a missing directory, a directory, a file as a
 * directory are refused; a writable place is, and the probe leaves nothing behind. */
static void test_probe_writable(void **state)
{
	struct scratch *s = *state;
	char path[192];

	assert_int_equal(util_probe_writable(s->path), 0);
	assert_int_equal(util_probe_writable("-"), 0);
	assert_int_equal(count_entries(s->dir), 0);
	assert_int_equal(util_probe_writable(s->dir), -EISDIR);
	assert_int_equal(util_probe_writable(""), -ENOENT);
	snprintf(path, sizeof(path), "%s/no/such/x", s->dir);
	assert_int_equal(util_probe_writable(path), -ENOENT);
	assert_int_equal(util_write_atomic(s->path, write_str, "x\n"), 0);
	snprintf(path, sizeof(path), "%s/x", s->path);
	assert_int_equal(util_probe_writable(path), -ENOTDIR);
	assert_int_equal(util_probe_writable(s->path), 0); /* an existing file: replaced later */
	assert_string_equal(slurp(s->path), "x\n");
	assert_int_equal(count_entries(s->dir), 1);
}

static void test_write_atomic(void **state)
{
	struct scratch *s = *state;
	struct stat st;

	assert_int_equal(util_write_atomic(s->path, write_str, "old\n"), 0);
	assert_string_equal(slurp(s->path), "old\n");
	assert_int_equal(stat(s->path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);

	assert_int_equal(util_write_atomic(s->path, write_str, "new\n"), 0);
	assert_string_equal(slurp(s->path), "new\n");
	assert_int_equal(count_entries(s->dir), 1);

	/* A positive result from fn is success. */
	assert_int_equal(util_write_atomic(s->path, write_positive, NULL), 0);
	assert_string_equal(slurp(s->path), "ok");
}

static void test_write_atomic_failure(void **state)
{
	struct scratch *s = *state;
	char missing[160];

	assert_int_equal(util_write_atomic(s->path, write_str, "old\n"), 0);
	assert_int_equal(util_write_atomic(s->path, write_then_fail, NULL), -EIO);
	assert_string_equal(slurp(s->path), "old\n");
	assert_int_equal(count_entries(s->dir), 1); /* no temp file left */

	snprintf(missing, sizeof(missing), "%s/no/such/dir.json", s->dir);
	assert_int_equal(util_write_atomic(missing, write_str, "x"), -ENOENT);

	/* The target is a directory: rename fails, nothing is left behind. */
	snprintf(missing, sizeof(missing), "%s/sub", s->dir);
	assert_int_equal(mkdir(missing, 0755), 0);
	assert_int_equal(util_write_atomic(missing, write_str, "x"), -EISDIR);
	assert_int_equal(count_entries(s->dir), 2);
}

/* A symlink at path is replaced, never followed: its target is left alone. */
static void test_write_atomic_symlink(void **state)
{
	struct scratch *s = *state;
	char target[160];
	struct stat st;

	snprintf(target, sizeof(target), "%s/target", s->dir);
	assert_int_equal(util_write_atomic(target, write_str, "precious\n"), 0);
	assert_int_equal(symlink(target, s->path), 0);
	assert_int_equal(util_write_atomic(s->path, write_str, "new\n"), 0);
	assert_string_equal(slurp(target), "precious\n");
	assert_int_equal(lstat(s->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_string_equal(slurp(s->path), "new\n");
}

static int warned, warned_err;

/* As main gives each output file to COMMAND's user (ctx: whose). */
static void give(void *ctx, int fd, const char *path)
{
	int rc = privilege__give_fd(ctx, fd);

	if (rc) {
		warned++;
		warned_err = rc;
	}
}

/*
 * util_on_create: each new file is handed over by its descriptor, so it goes to that owner
 * (as root), a link at path is replaced and its target keeps its owner; without the privilege
 * (not root) the file is still written, the writer's, and the hook says why.
 */
static void test_write_atomic_owner(void **state)
{
	struct scratch *s = *state;
	char target[160];
	struct stat st, tst;

	snprintf(target, sizeof(target), "%s/target", s->dir);
	assert_int_equal(util_write_atomic(target, write_str, "precious\n"), 0);
	assert_int_equal(stat(target, &tst), 0);
	assert_int_equal(symlink(target, s->path), 0);
	util_on_create(give, &(struct privilege_creds){ .uid = 12345, .gid = 23456 });
	assert_int_equal(util_write_atomic(s->path, write_str, "new\n"), 0);
	util_on_create(NULL, NULL);
	assert_int_equal(lstat(s->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_string_equal(slurp(s->path), "new\n");
	if (geteuid() == 0) {
		assert_int_equal(warned, 0);
		assert_int_equal(st.st_uid, 12345);
		assert_int_equal(st.st_gid, 23456);
	} else {
		assert_int_equal(warned, 1);
		assert_int_equal(warned_err, -EPERM);
		assert_int_equal(st.st_uid, geteuid());
	}
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_uid, tst.st_uid);
	assert_int_equal(st.st_gid, tst.st_gid);
	assert_string_equal(slurp(target), "precious\n");
	assert_int_equal(count_entries(s->dir), 2);
}

static void test_write_stdout(void **state)
{
	struct scratch *s = *state;
	int saved, fd;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	fd = open(s->path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(saved >= 0 && fd >= 0);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	assert_int_equal(util_write_atomic("-", write_str, "to stdout\n"), 0);
	assert_int_equal(util_write_atomic("-", write_then_fail, NULL), -EIO);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	assert_string_equal(slurp(s->path), "to stdout\nhalf a fi");
	assert_int_equal(count_entries(s->dir), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_fmt_bytes),
		cmocka_unit_test(test_basename),
		cmocka_unit_test(test_fmt_count),
		cmocka_unit_test_setup_teardown(test_read_file, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(test_probe_writable, scratch_setup, scratch_teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_failure, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_symlink, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_write_atomic_owner, scratch_setup,
						scratch_teardown),
		cmocka_unit_test_setup_teardown(test_write_stdout, scratch_setup, scratch_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
