// SPDX-License-Identifier: MIT
/*
 * jflat - print a JSON document as one "path value" line per number or string, for
 * tests/vm/tests.sh: the VM has busybox (awk, grep) but no jq or python. Object keys and array
 * indexes join with dots: {"peak": {"processes": [{"pid": 7}]}} gives "peak.processes.0.pid 7".
 * A null prints as "null", so a test can tell it from a missing field. Integers print exactly
 * (up to 2^53, as cJSON holds them), other numbers with %.10g; a string as it is, but with
 * its backslashes and line breaks written \\ and \n, so that it stays on its line.
 *
 *   jflat FILE     exit 0; 1 (one line on stderr) when FILE cannot be read or parsed
 */
#include <stdio.h>
#include <string.h>
#include <cjson/cJSON.h>
#include "harness.h"

static void flat(const cJSON *j, char *path, size_t len, size_t cap)
{
	const cJSON *c;
	int i = 0;

	if (cJSON_IsNumber(j)) {
		if (j->valuedouble == (double)(long long)j->valuedouble)
			printf("%s %lld\n", path, (long long)j->valuedouble);
		else
			printf("%s %.10g\n", path, j->valuedouble);
		return;
	}
	if (cJSON_IsString(j)) {
		printf("%s ", path);
		for (const char *c = j->valuestring; *c; c++) {
			if (*c == '\\')
				fputs("\\\\", stdout);
			else if (*c == '\n')
				fputs("\\n", stdout);
			else
				putchar(*c);
		}
		putchar('\n');
		return;
	}
	if (cJSON_IsNull(j)) {
		printf("%s null\n", path);
		return;
	}
	for (c = j->child; c && (cJSON_IsObject(j) || cJSON_IsArray(j)); c = c->next, i++) {
		int n = cJSON_IsObject(j) ? snprintf(path + len, cap - len, "%s%s", len ? "." : "",
						     c->string)
					  : snprintf(path + len, cap - len, "%s%d", len ? "." : "",
						     i);

		if (n > 0 && (size_t)n < cap - len)
			flat(c, path, len + n, cap);
		path[len] = '\0';
	}
}

int main(int argc, char **argv)
{
	char path[1024] = "";
	cJSON *j;

	if (argc != 2) {
		fprintf(stderr, "usage: jflat FILE\n");
		return 1;
	}
	j = itest_load_json(argv[1]);
	if (!j)
		return 1;
	flat(j, path, 0, sizeof(path));
	cJSON_Delete(j);
	return 0;
}
