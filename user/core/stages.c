// SPDX-License-Identifier: MIT
/* stages - NAME=REGEX rules matched against argv at exec (see stages.h). */
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "escape.h"
#include "stages.h"
#include "util.h"

struct rule {
	char *spec; /* "NAME=REGEX" as given */
	char *name;
	regex_t re;
};

struct stages {
	struct rule *rules;
	size_t n, cap;
	char *joined; /* scratch for the joined argv */
	size_t joined_cap;
};

static void rule_free(struct rule *r)
{
	free(r->spec);
	free(r->name);
}

struct stages *stages__new(void)
{
	return calloc(1, sizeof(struct stages));
}

void stages__free(struct stages *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		regfree(&s->rules[i].re);
		rule_free(&s->rules[i]);
	}
	free(s->rules);
	free(s->joined);
	free(s);
}

static int find(const struct stages *s, const char *name)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->rules[i].name, name))
			return (int)i;
	return -1;
}

#define RULE_MAX 1024  /* bytes of a regular expression */
#define REPEAT_MAX 255 /* the largest {n,m} bound */

/*
 * Refuse what makes glibc's regcomp take memory without bound: a quantifier on a quantifier
 * ("a++", "a*{9}": undefined in POSIX anyway; a 40-byte one took 2 GiB), large {n,m} bounds
 * and very long expressions. Returns a reason, or NULL when re is fine to compile.
 */
static const char *too_costly(const char *re)
{
	int quantified = 0; /* the previous token was a quantifier */

	if (strlen(re) > RULE_MAX)
		return "longer than 1024 bytes";
	for (const char *p = re; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			quantified = 0;
		} else if (*p == '[') {
			/* a bracket expression: "]" first is a member, then up to the closing one */
			p += p[1] == '^' ? 2 : 1;
			if (*p == ']')
				p++;
			while (*p && *p != ']')
				p++;
			if (!*p)
				return NULL; /* unterminated: regcomp says so */
			quantified = 0;
		} else if (*p == '*' || *p == '+' || *p == '?' || *p == '{') {
			if (quantified)
				return "a quantifier on a quantifier (like a++)";
			if (*p == '{') {
				for (const char *q = p + 1; *q && *q != '}'; q++)
					if (*q >= '0' && *q <= '9' && strtoul(q, NULL, 10) > REPEAT_MAX)
						return "a repetition bound over 255";
			}
			quantified = 1;
		} else {
			quantified = 0;
		}
	}
	return NULL;
}

int stages__add(struct stages *s, const char *spec, char *err, size_t errlen)
{
	const char *why;
	const char *eq = strchr(spec, '=');
	struct rule r = {}, *rules;
	int rc;

	if (!eq || eq == spec) {
		snprintf(err, errlen, "'%s': expected NAME=REGEX", spec);
		return -EINVAL;
	}
	if (!eq[1]) {
		snprintf(err, errlen, "'%s': empty regular expression", spec);
		return -EINVAL;
	}
	why = too_costly(eq + 1);
	if (why) {
		snprintf(err, errlen, "'%.*s': regular expression refused: %s",
			 (int)(eq - spec), spec, why);
		return -EINVAL;
	}
	r.spec = strdup(spec);
	r.name = strndup(spec, eq - spec);
	if (!r.spec || !r.name) {
		rule_free(&r);
		return -ENOMEM;
	}
	if (find(s, r.name) >= 0) {
		snprintf(err, errlen, "'%s' is defined twice", r.name);
		rule_free(&r);
		return -EINVAL;
	}
	rc = regcomp(&r.re, eq + 1, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char why[128];

		regerror(rc, &r.re, why, sizeof(why));
		snprintf(err, errlen, "'%s': bad regular expression: %s", r.name, why);
		rule_free(&r);
		return -EINVAL;
	}
	rules = util_grow(s->rules, &s->cap, s->n, sizeof(*rules), 8);
	if (!rules) {
		regfree(&r.re);
		rule_free(&r);
		return -ENOMEM;
	}
	s->rules = rules;
	s->rules[s->n++] = r;
	return 0;
}

struct stages *stages__from_specs(char *const specs[], char *err, size_t errlen)
{
	struct stages *s = stages__new();

	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (size_t i = 0; specs && specs[i]; i++) {
		char why[256];
		struct esc_cell e;

		if (!stages__add(s, specs[i], why, sizeof(why)))
			continue;
		esc_init(&e, ESC_MAX_COLS);
		esc_put(&e, why); /* it quotes the rule as given */
		snprintf(err, errlen, "--stage %s", e.buf);
		stages__free(s);
		return NULL;
	}
	return s;
}

/*
 * --stages toolchain. Written for the line with argv[0] cut to its base name. clang runs its
 * compiler in the driver's own process unless told not to: a clang given -c is compiling;
 * with -fno-integrated-cc1 the work is in a `clang -cc1` child. go's tools are named
 * compile and link; collect2 is gcc's wrapper around ld, and its child ld matches too.
 */
#define CLANG "clang(\\+\\+)?(-[0-9.]+)?"
static char *const toolchain[] = {
	(char[]){ "compile=^(cc1|cc1plus|cc1obj|rustc|compile|javac)( |$)|"
		  "^" CLANG " -cc1( |$)|^" CLANG " (.* )?-c( |$)" },
	(char[]){ "assemble=^as( |$)|^" CLANG " -cc1as( |$)" },
	(char[]){ "link=^(collect2|ld|ld\\.bfd|ld\\.gold|ld\\.lld|ld\\.mold|lld|mold|link)( |$)" },
	NULL,
};
#undef CLANG

const char stages__preset_names[] = "toolchain";

char *const *stages__preset(const char *name)
{
	return !strcmp(name, "toolchain") ? toolchain : NULL;
}

size_t stages__count(const struct stages *s)
{
	return s ? s->n : 0;
}

const char *stages__name(const struct stages *s, size_t i)
{
	return s->rules[i].name;
}

const char *stages__spec(const struct stages *s, size_t i)
{
	return s->rules[i].spec;
}

/* argv joined by single spaces into the scratch buffer; NULL on allocation failure. */
static const char *join(struct stages *s, char *const argv[])
{
	size_t len = 1, off = 0;

	for (size_t i = 0; argv[i]; i++)
		len += strlen(argv[i]) + 1;
	if (len > s->joined_cap) {
		char *p = realloc(s->joined, len);

		if (!p)
			return NULL;
		s->joined = p;
		s->joined_cap = len;
	}
	for (size_t i = 0; argv[i]; i++) {
		size_t n = strlen(argv[i]);

		if (i)
			s->joined[off++] = ' ';
		memcpy(s->joined + off, argv[i], n);
		off += n;
	}
	s->joined[off] = '\0';
	return s->joined;
}

int stages__match(const struct stages *s, char *const argv[])
{
	const char *line, *slash;
	const char *base; /* the line with argv[0] cut to its base name: a suffix of line */

	if (!s || !s->n || !argv)
		return -1;
	/* the scratch buffer is an implementation detail: matching is logically const */
	line = join((struct stages *)s, argv);
	if (!line)
		return -1;
	slash = argv[0] ? strrchr(argv[0], '/') : NULL;
	base = slash ? line + (slash - argv[0]) + 1 : NULL;
	for (size_t i = 0; i < s->n; i++)
		if (!regexec(&s->rules[i].re, line, 0, NULL, 0) ||
		    (base && !regexec(&s->rules[i].re, base, 0, NULL, 0)))
			return (int)i;
	return -1;
}
