/* SPDX-License-Identifier: MIT */
/*
 * xmlcheck.h - is a document well-formed XML 1.0, as a browser's strict parser demands of an
 * SVG file? And what text does it show? Enough of XML for what bmtrace writes: a declaration,
 * comments, elements with quoted attributes, character data, the five named entities and
 * numeric references. No DTD, no CDATA, no processing instructions besides the declaration
 * (a document with them is reported as not well-formed).
 *
 * Shared by the unit tests (tests/unit) and the integration tests (tests/integration).
 */
#ifndef BMT_TEST_XMLCHECK_H
#define BMT_TEST_XMLCHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define XML_MAX_DEPTH 64

struct xml_check {
	char err[160];	   /* why it is not well-formed, with the byte offset */
	char *text;	   /* the character data, entities decoded, each node ended by '\n' */
	size_t text_len;
	size_t elements;   /* elements seen */
};

static inline bool xml_fail(struct xml_check *x, const char *doc, const char *at, const char *why)
{
	snprintf(x->err, sizeof(x->err), "%s at byte %zu", why, (size_t)(at - doc));
	return false;
}

static inline bool xml_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static inline bool xml_name_char(char c)
{
	return xml_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

/* Valid UTF-8 with no character XML 1.0 forbids (C0 but tab, LF, CR; U+FFFE, U+FFFF). */
static inline const char *xml_bad_char(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 :
			(*p & 0xf8) == 0xf0 ? 4 : 0;

		if (!n || (n == 2 && *p < 0xc2) || (*p < 0x20 && *p != '\t' && *p != '\n' &&
						    *p != '\r'))
			return (const char *)p;
		for (int i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return (const char *)p;
		if (n == 3 && p[0] == 0xef && p[1] == 0xbf && (p[2] == 0xbe || p[2] == 0xbf))
			return (const char *)p;
		p += n;
	}
	return NULL;
}

/* An entity or character reference at p ('&'); its length, 0 when it is not one. */
static inline size_t xml_entity(const char *p, char *out, size_t *out_len)
{
	static const char *const names[][2] = {
		{ "&amp;", "&" }, { "&lt;", "<" },     { "&gt;", ">" },
		{ "&quot;", "\"" }, { "&apos;", "'" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strncmp(p, names[i][0], strlen(names[i][0]))) {
			*out_len = 1;
			*out = names[i][1][0];
			return strlen(names[i][0]);
		}
	if (p[1] == '#') {
		char *end;
		unsigned long cp = p[2] == 'x' ? strtoul(p + 3, &end, 16) :
						 strtoul(p + 2, &end, 10);

		if (*end != ';' || end == p + 2 || !cp || cp > 0x10ffff)
			return 0;
		*out_len = 1;
		*out = cp < 0x80 ? (char)cp : '?';
		return (size_t)(end - p) + 1;
	}
	return 0;
}

static inline void xml_add_text(struct xml_check *x, const char *s, size_t n)
{
	char *t = realloc(x->text, x->text_len + n + 2);

	if (!t)
		abort();
	memcpy(t + x->text_len, s, n);
	x->text = t;
	x->text_len += n;
	x->text[x->text_len] = '\0';
}

/* Character data up to the next '<': entities checked and decoded into x->text. */
static inline bool xml_chars(struct xml_check *x, const char *doc, const char **pp, char stop)
{
	const char *p = *pp, *run = p;
	char c;
	size_t n, len;

	while (*p && *p != stop && *p != '<') {
		if (*p == '&') {
			n = xml_entity(p, &c, &len);
			if (!n)
				return xml_fail(x, doc, p, "a bare '&'");
			if (!stop) {
				xml_add_text(x, run, (size_t)(p - run));
				xml_add_text(x, &c, len);
			}
			p += n;
			run = p;
			continue;
		}
		if (*p == '>' && p > doc + 1 && p[-1] == ']' && p[-2] == ']')
			return xml_fail(x, doc, p, "']]>' in character data");
		p++;
	}
	if (stop && *p != stop)
		return xml_fail(x, doc, p, "'<' or the end in an attribute value");
	if (!stop && p > run)
		xml_add_text(x, run, (size_t)(p - run));
	*pp = p;
	return true;
}

static inline void xml_skip_space(const char **p)
{
	while (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')
		(*p)++;
}

/* A tag at p ('<' then a name): its attributes; *closed for "/>". */
static inline bool xml_tag(struct xml_check *x, const char *doc, const char **pp, bool *closed,
			   const char **name, size_t *name_len)
{
	const char *p = *pp + 1, *attrs[32];
	size_t lens[32], n_attrs = 0;

	if (!xml_name_start(*p))
		return xml_fail(x, doc, p, "a tag without a name");
	*name = p;
	while (xml_name_char(*p))
		p++;
	*name_len = (size_t)(p - *name);
	for (;;) {
		const char *a = p;
		char q;

		xml_skip_space(&p);
		if (*p == '>' || (p[0] == '/' && p[1] == '>'))
			break;
		if (p == a || !xml_name_start(*p))
			return xml_fail(x, doc, p, "a malformed attribute");
		a = p;
		while (xml_name_char(*p))
			p++;
		for (size_t i = 0; i < n_attrs; i++)
			if (lens[i] == (size_t)(p - a) && !strncmp(attrs[i], a, lens[i]))
				return xml_fail(x, doc, a, "an attribute given twice");
		if (n_attrs < 32) {
			attrs[n_attrs] = a;
			lens[n_attrs++] = (size_t)(p - a);
		}
		xml_skip_space(&p);
		if (*p++ != '=')
			return xml_fail(x, doc, p - 1, "an attribute without '='");
		xml_skip_space(&p);
		q = *p++;
		if (q != '"' && q != '\'')
			return xml_fail(x, doc, p - 1, "an unquoted attribute value");
		if (!xml_chars(x, doc, &p, q))
			return false;
		p++;
	}
	*closed = *p == '/';
	*pp = p + (*closed ? 2 : 1);
	return true;
}

/* Check doc; true when well-formed. x->text holds its character data (free it). */
static inline bool xml_check(const char *doc, struct xml_check *x)
{
	const char *p = doc, *stack[XML_MAX_DEPTH], *bad = xml_bad_char(doc);
	size_t stack_len[XML_MAX_DEPTH], depth = 0;
	bool root_done = false;

	memset(x, 0, sizeof(*x));
	xml_add_text(x, "", 0);
	if (bad)
		return xml_fail(x, doc, bad, "a character XML forbids or invalid UTF-8");
	if (!strncmp(p, "<?xml ", 6)) {
		p = strstr(p, "?>");
		if (!p)
			return xml_fail(x, doc, doc, "an unterminated declaration");
		p += 2;
	}
	for (;;) {
		if (!depth) {
			xml_skip_space(&p);
			if (!*p)
				break;
			if (*p != '<')
				return xml_fail(x, doc, p, "text outside the root element");
		} else if (!xml_chars(x, doc, &p, 0)) {
			return false;
		}
		if (!*p)
			return xml_fail(x, doc, p, "the end inside an element");
		if (!strncmp(p, "<!--", 4)) {
			const char *end = strstr(p + 4, "--");

			if (!end || end[2] != '>')
				return xml_fail(x, doc, p, "a malformed comment");
			p = end + 3;
		} else if (p[1] == '/') {
			const char *name = p + 2;
			size_t n = 0;

			while (xml_name_char(name[n]))
				n++;
			if (!depth || n != stack_len[depth - 1] ||
			    strncmp(name, stack[depth - 1], n))
				return xml_fail(x, doc, p, "a closing tag that does not match");
			p = name + n;
			xml_skip_space(&p);
			if (*p++ != '>')
				return xml_fail(x, doc, p - 1, "a malformed closing tag");
			if (!--depth)
				root_done = true;
			xml_add_text(x, "\n", 1);
		} else {
			const char *name;
			size_t n;
			bool closed;

			if (root_done && !depth)
				return xml_fail(x, doc, p, "a second root element");
			if (!xml_tag(x, doc, &p, &closed, &name, &n))
				return false;
			x->elements++;
			if (closed) {
				root_done = root_done || !depth;
				continue;
			}
			if (depth == XML_MAX_DEPTH)
				return xml_fail(x, doc, p, "elements nested too deep");
			stack[depth] = name;
			stack_len[depth++] = n;
		}
	}
	if (!root_done)
		return xml_fail(x, doc, p, "no root element");
	return true;
}

#endif /* BMT_TEST_XMLCHECK_H */
