// SPDX-License-Identifier: MIT
/* escape - strings from other processes made safe to show (escape.h). */
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

void esc_put(struct esc_cell *c, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	char esc[16];
	uint32_t cp;
	int n;

	while (*p && !c->full) {
		n = util_utf8_decode((const char *)p, &cp);
		if (n == 1 && cp == '\\') { /* doubled: every backslash shown starts an escape */
			esc_put_raw(c, "\\\\", 2, 2);
		} else if (n && !is_control(cp)) {
			esc_put_raw(c, (const char *)p, (size_t)n, 1);
		} else if (n == 1 && (cp == '\n' || cp == '\t' || cp == '\r')) {
			esc[0] = '\\';
			esc[1] = cp == '\n' ? 'n' : cp == '\t' ? 't' : 'r';
			esc_put_raw(c, esc, 2, 2);
		} else if (n > 1 && cp > 0xff) { /* a bidi or line control */
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned int)cp);
			esc_put_raw(c, esc, 6, 6);
		} else { /* one byte: a C0 control, DEL, or not valid UTF-8 (C1 go byte by byte) */
			snprintf(esc, sizeof(esc), "\\x%02x", *p);
			esc_put_raw(c, esc, 4, 4);
			n = 1;
		}
		p += n;
	}
}

void esc_put_argv(struct esc_cell *c, char *const *argv)
{
	for (; argv && *argv && !c->full; argv++) {
		if (c->cols)
			esc_put_raw(c, " ", 1, 1);
		esc_put(c, *argv);
	}
}
