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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cell),
		cmocka_unit_test(test_say),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
