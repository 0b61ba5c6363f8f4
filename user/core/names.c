// SPDX-License-Identifier: MIT
/* names - a process's command line and command, shared by fork until exec (names.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "names.h"
#include "util.h"

void names__free(struct names *n)
{
	free(n->argv);
	free(n->buf);
	free(n);
}

struct names *names__new(const char *data, size_t len, const char *comm)
{
	struct names *n = calloc(1, sizeof(*n));
	size_t argc = 0, i, off;

	if (!n)
		return NULL;
	n->refs = 1;
	snprintf(n->comm, sizeof(n->comm), "%s", comm ? comm : "");
	n->buf = malloc(len + 1);
	if (!n->buf)
		goto fail;
	memcpy(n->buf, data, len);
	n->buf[len] = '\0'; /* a truncated last argument still ends */
	for (off = 0; off < len; off += strlen(n->buf + off) + 1)
		argc++;
	n->argv = calloc(argc + 1, sizeof(char *));
	if (!n->argv)
		goto fail;
	for (i = 0, off = 0; i < argc; i++, off += strlen(n->buf + off) + 1)
		n->argv[i] = n->buf + off;
	return n;
fail:
	names__put(n);
	return NULL;
}

struct names *names__from_argv(char *const argv[])
{
	size_t len = 0;
	struct names *n;
	char *buf;

	for (size_t i = 0; argv && argv[i]; i++)
		len += strlen(argv[i]) + 1;
	buf = malloc(len + 1);
	if (!buf)
		return NULL;
	for (size_t i = 0, off = 0; argv && argv[i]; off += strlen(argv[i]) + 1, i++)
		memcpy(buf + off, argv[i], strlen(argv[i]) + 1);
	n = names__new(buf, len, argv && argv[0] ? util_basename(argv[0]) : "");
	free(buf);
	return n;
}
