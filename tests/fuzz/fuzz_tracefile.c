// modules: tracefile collector hooks mm deaths result names sizing tally record table stages escape util
/*
 * libFuzzer: any bytes as a recorded trace. `bmtrace report` must answer every file with
 * records or a one-line error, never a crash, an out-of-bounds read or a leak; every record
 * the reader hands out goes through the collector and its deaths, as in a replay.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "collector.h"
#include "deaths.h"
#include "tracefile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int fd = memfd_create("trace", 0);
	struct tracefile_reader *r;
	struct collector *c;
	struct deaths *d;
	struct bmt_run run;
	char path[64], err[256], **specs;
	const void *rec;
	size_t len;

	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = tracefile__open(path, &run, &specs, err, sizeof(err));
	if (r) {
		c = collector__new(NULL);
		d = deaths__new();
		if (c && d)
			collector__on_death(c, deaths__event, d);
		if (c && !run.attached)
			collector__add_root(c, run.root_pid, run.argv, run.start_ts);
		while (tracefile__next(r, &rec, &len, &run, err, sizeof(err)) > 0)
			if (c)
				collector__feed(c, rec, len);
		if (c)
			collector__result(c);
		collector__free(c);
		deaths__free(d);
		tracefile__close_reader(r);
	}
	close(fd);
	return 0;
}
