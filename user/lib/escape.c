// SPDX-License-Identifier: MIT
/* escape - strings from other processes made safe to show (escape.h). */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "escape.h"
#include "util.h"

void esc_init(struct esc_cell *c, int max)
{
	memset(c, 0, sizeof(*c));
	c->max = max < ESC_MAX_COLS ? max : ESC_MAX_COLS;
}

void esc_put_raw(struct esc_cell *c, const char *s, size_t len, int cols)
{
	if (c->full)
		return;
	if (c->cols + cols > c->max) {
		c->full = true;
		c->len = c->cut_len;
		c->cols = c->cut_cols;
		memcpy(c->buf + c->len, "\xe2\x80\xa6", 3); /* … */
		c->len += 3;
		c->cols++;
		c->buf[c->len] = '\0';
		return;
	}
	memcpy(c->buf + c->len, s, len);
	c->len += len;
	c->cols += cols;
	c->buf[c->len] = '\0';
	if (c->cols < c->max) {
		c->cut_len = c->len;
		c->cut_cols = c->cols;
	}
}

/* Characters a terminal acts on rather than shows, or that reorder the line. */
static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x200e && cp <= 0x200f) ||
	       (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * The first character at p as it is shown: itself, or its escape (a backslash doubled when
 * bs). Writes it to out (at least 8 bytes) and returns how many bytes of p it took; *outlen
 * and *cols get its shown size.
 */
static int esc_one(const unsigned char *p, char *out, size_t *outlen, int *cols, bool bs)
{
	uint32_t cp;
	int n = util_utf8_decode((const char *)p, &cp);

	if (bs && n == 1 && cp == '\\') { /* doubled: every backslash shown starts an escape */
		out[0] = out[1] = '\\';
		*outlen = 2;
		*cols = 2;
		return 1;
	}
	if (n && !is_control(cp)) {
		memcpy(out, p, (size_t)n);
		*outlen = (size_t)n;
		*cols = 1;
		return n;
	}
	if (n == 1 && (cp == '\n' || cp == '\t' || cp == '\r')) {
		out[0] = '\\';
		out[1] = cp == '\n' ? 'n' : cp == '\t' ? 't' : 'r';
		*outlen = 2;
	} else if (n > 1 && cp > 0xff) { /* a bidi or line control */
		*outlen = (size_t)snprintf(out, 8, "\\u%04x", (unsigned int)cp);
	} else { /* one byte: a C0 control, DEL, or not valid UTF-8 (C1 go byte by byte) */
		*outlen = (size_t)snprintf(out, 8, "\\x%02x", *p);
		n = 1;
	}
	*cols = (int)*outlen;
	return n;
}

void esc_put(struct esc_cell *c, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char esc[8];
	size_t len;
	int cols;

	while (*p && !c->full) {
		p += esc_one(p, esc, &len, &cols, true);
		esc_put_raw(c, esc, len, cols);
	}
}

void esc_say(FILE *f, const char *fmt, ...)
{
	const unsigned char *p;
	char msg[4096], esc[8];
	va_list ap;
	size_t len;
	int cols;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fputs("bmtrace: ", f);
	for (p = (const unsigned char *)msg; *p;) {
		/* backslashes stay single: the message quotes cells escaped already */
		p += esc_one(p, esc, &len, &cols, false);
		fwrite(esc, 1, len, f);
	}
	fputc('\n', f);
}

enum which { ALL, OPERANDS, OPTIONS /* all but the operands */ };

/* argv from i on, escaped, separated by single spaces: those of argv that `which` says. */
static void put_args(struct esc_cell *c, char *const *argv, size_t i, enum which which)
{
	for (; argv[i] && !c->full; i++) {
		if (which != ALL && esc_is_operand(argv, i) != (which == OPERANDS))
			continue;
		if (c->cols)
			esc_put_raw(c, " ", 1, 1);
		esc_put(c, argv[i]);
	}
}

/*
 * Options that take the next argument as their value, in the tools a build runs most
 * (gcc, cc1, as, collect2 and ld, clang -cc1, rustc, javac): their values are no operands.
 */
static const char *const value_opts[] = {
	"-o", "-I", "-D", "-U", "-x", "-L", "-T", "-MF", "-MT", "-MQ", "-include", "-imacros",
	"-isystem", "-iquote", "-idirafter", "-imultiarch", "-iprefix", "-isysroot", "--sysroot",
	"-dumpdir", "-dumpbase", "-dumpbase-ext", "-auxbase", "-auxbase-strip", "-plugin",
	"-dynamic-linker", "-m", "-z", "-e", "-soname", "-rpath", "-Map", "-main-file-name",
	"-resource-dir", "-internal-isystem", "-internal-externc-isystem", "-object-file-name",
	"-triple", "-target", "-Xlinker", "-Xassembler", "-Xclang", "-mllvm", "--out-dir",
	"--crate-name", "--crate-type", "--edition", "--emit", "--target", "--cfg", "--extern",
	"-C", "-d", "-cp", "-classpath", "-sourcepath",
};

bool esc_is_operand(char *const *argv, size_t i)
{
	const char *prev;

	if (!i || argv[i][0] == '-')
		return false;
	prev = argv[i - 1];
	if (i < 2 || prev[0] != '-')
		return true;
	for (size_t k = 0; k < sizeof(value_opts) / sizeof(value_opts[0]); k++)
		if (!strcmp(prev, value_opts[k]))
			return false;
	/* after another option, a word that names no file is taken for its value (-O 2) */
	return strchr(argv[i], '.') || strchr(argv[i], '/');
}

/* What follows argv[0]'s last '/' (argv[0] itself when it has none or ends there). */
static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

void esc_put_operands(struct esc_cell *c, char *const *argv)
{
	if (argv && argv[0])
		put_args(c, argv, 1, OPERANDS);
}

void esc_put_argv(struct esc_cell *c, char *const *argv)
{
	struct esc_cell whole = *c, head, ops;
	const char *base;
	int avail;

	if (!argv)
		return;
	put_args(&whole, argv, 0, ALL);
	if (!whole.full || !argv[0]) {
		*c = whole;
		return;
	}
	/* too long: the program by its base name (its path is in the JSON) */
	base = base_name(argv[0]);
	whole = *c;
	esc_put(&whole, base);
	put_args(&whole, argv, 1, ALL);
	avail = c->max - c->cols - (c->cols ? 1 : 0);
	esc_init(&ops, avail - (int)strlen(base) - 2);
	put_args(&ops, argv, 1, OPERANDS);
	if (!whole.full || !ops.cols || avail < 2 * (int)strlen(base) + 8) {
		*c = whole;
		return;
	}
	/* still too long: the options are cut, the operands (a compiler's source file) kept */
	esc_init(&head, avail - ops.cols - 1);
	esc_put(&head, base);
	put_args(&head, argv, 1, OPTIONS);
	if (c->cols)
		esc_put_raw(c, " ", 1, 1);
	esc_put_raw(c, head.buf, head.len, head.cols);
	esc_put_raw(c, " ", 1, 1);
	esc_put_raw(c, ops.buf, ops.len, ops.cols);
}
