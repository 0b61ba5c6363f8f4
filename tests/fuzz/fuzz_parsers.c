// modules: cli help budget deaths escape prom stages util
/*
 * libFuzzer: any bytes as bmtrace's command line (NUL-separated arguments), and as a size and
 * a stage rule. Every input is accepted or refused with a one-line error; nothing crashes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "stages.h"
#include "util.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), *argv[MAX_ARGS + 2] = { "bmtrace" }, err[512];
	FILE *out = fopen("/dev/null", "w");
	struct stages *s = stages__new();
	struct config cfg;
	uint64_t bytes;
	int argc = 1;

	if (!buf || !out || !s)
		goto out;
	memcpy(buf, data, size);
	buf[size] = '\0';
	util_parse_size(buf, &bytes);
	if (!stages__add(s, buf, err, sizeof(err)))
		stages__match(s, (char *[]){ "gcc", "-c", buf, NULL });
	for (size_t off = 0; off <= size && argc <= MAX_ARGS; off += strlen(buf + off) + 1)
		argv[argc++] = buf + off;
	argv[argc] = NULL;
	if (cli_parse(argc, argv, &cfg, out, err, sizeof(err)) < 0 && strchr(err, '\n'))
		abort(); /* an error is one line */
	cli_free(&cfg);
out:
	stages__free(s);
	if (out)
		fclose(out);
	free(buf);
	return 0;
}
