// modules: escape util
// SPDX-License-Identifier: MIT
/* escape: cells of hostile text, and the one-line errors that quote it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "escape.h"

static const char *cell(const char *s, int max)
{
	static struct esc_cell c;

	esc_init(&c, max);
	esc_put(&c, s);
	return c.buf;
}

static void test_cell(void **state)
{
	assert_string_equal(cell("make -j2", 40), "make -j2");
	assert_string_equal(cell("a\nb\tc\rd", 40), "a\\nb\\tc\\rd");
	assert_string_equal(cell("\x1b[31mred", 40), "\\x1b[31mred");
	assert_string_equal(cell("bad \xff\xfe utf8", 40), "bad \\xff\\xfe utf8");
	assert_string_equal(cell("rtl \xe2\x80\xae here", 40), "rtl \\u202e here");
	assert_string_equal(cell("caf\xc3\xa9", 40), "caf\xc3\xa9");
	/* a backslash is doubled: "\\n" (two bytes) never reads as a newline */
	assert_string_equal(cell("back\\nslash", 40), "back\\\\nslash");
	/* cut where the ellipsis still fits; an escape is never cut in half */
	assert_string_equal(cell("abcdefghij", 5), "abcd\xe2\x80\xa6");
	assert_string_equal(cell("ab\x1b", 5), "ab\xe2\x80\xa6");
}

/* esc_say's line, read back from a temp file. */
static char *say(const char *fmt, const char *arg)
{
	static char buf[8192];
	FILE *f = tmpfile();
	size_t n;

	assert_non_null(f);
	esc_say(f, fmt, arg);
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void test_say(void **state)
{
	char long_path[3000];

	assert_string_equal(say("cannot write %s", "/tmp/x"), "bmtrace: cannot write /tmp/x\n");
	/* a newline or a terminal escape in a path cannot break the line or act on the tty */
	assert_string_equal(say("-o %s: no", "a\nb\x1b[2Jc"), "bmtrace: -o a\\nb\\x1b[2Jc: no\n");
	assert_string_equal(say("%s", "\xff"), "bmtrace: \\xff\n");
	/* single there: an error quotes cells that are escaped already */
	assert_string_equal(say("--stage %s", "'a\\x1b'"), "bmtrace: --stage 'a\\x1b'\n");
	/* never cut like a cell: a long path is shown whole */
	memset(long_path, 'p', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	assert_int_equal(strlen(say("%s", long_path)), strlen("bmtrace: ") + 2999 + 1);
}

static const char *argv_cell(char *const *argv, int max)
{
	static struct esc_cell c;

	esc_init(&c, max);
	esc_put_argv(&c, argv);
	return c.buf;
}

/* A shortened argv keeps its operands: the file a compiler compiles is what a user needs. */
static void test_argv_operands(void **state)
{
	char *cc1[] = { "/usr/lib/gcc/x86_64-linux-gnu/12/cc1", "-quiet", "-I", "build",
			"-imultiarch", "x86_64-linux-gnu", "src/heavy.c", "-quiet", "-dumpdir",
			"build/", "-dumpbase", "heavy.c", "-O2", "-o", "/tmp/ccAfIjJl.s", NULL };
	char *ld[] = { "/usr/bin/ld", "-plugin", "/usr/lib/gcc/liblto_plugin.so", "-o",
		       "build/prog", "build/heavy.o", "build/main.o", NULL };
	char *opts[] = { "/usr/bin/longprogram", "-a", "-b", "-c", "-d", "-e", "-f", NULL };

	/* what fits is shown whole, as it was */
	assert_string_equal(argv_cell(ld, 100), "/usr/bin/ld -plugin /usr/lib/gcc/liblto_plugin.so "
						"-o build/prog build/heavy.o build/main.o");
	/* the options are cut; the source file, not -dumpbase's or -o's value, stays */
	assert_string_equal(argv_cell(cc1, 50), "cc1 -quiet -I build -imultiarch x86_6\xe2\x80\xa6 "
						"src/heavy.c");
	assert_string_equal(argv_cell(ld, 40), "ld -plugin /\xe2\x80\xa6 build/heavy.o "
					       "build/main.o");
	/* the base name alone may be enough */
	assert_string_equal(argv_cell(ld, 85), "ld -plugin /usr/lib/gcc/liblto_plugin.so -o "
					       "build/prog build/heavy.o build/main.o");
	/* no operand: cut at the end, as any text */
	assert_string_equal(argv_cell(opts, 20), "longprogram -a -b -\xe2\x80\xa6");
	/* operands that fill the cell alone are cut too */
	assert_string_equal(argv_cell((char *[]){ "cc", "-c", "a-very-long-file-name-here.c",
						  NULL },
				      20),
			    "cc\xe2\x80\xa6 a-very-long-fil\xe2\x80\xa6");
	assert_true(esc_is_operand(cc1, 6));
	assert_false(esc_is_operand(cc1, 3));  /* -I's value */
	assert_false(esc_is_operand(cc1, 11)); /* -dumpbase's */
	assert_false(esc_is_operand((char *[]){ "x", "-O", "2", NULL }, 2));
	assert_true(esc_is_operand((char *[]){ "sh", "-c", "./cc1 hold 24", NULL }, 2));
	assert_true(esc_is_operand((char *[]){ "memhog", "hold", "24", NULL }, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cell),
		cmocka_unit_test(test_say),
		cmocka_unit_test(test_argv_operands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
