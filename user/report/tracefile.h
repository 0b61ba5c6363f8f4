/* SPDX-License-Identifier: MIT */
/*
 * tracefile - a recorded event stream (`bmtrace -w FILE`), replayed by
 * `bmtrace report FILE` through the same collector as a live run.
 *
 * Format (version 1): one gzip stream (zcat shows it) holding
 *   header:  "BMTRACE\0", u32 version, u32 header bytes, then the fields of
 *            struct bmt_run that are known at start (page size, kernel release,
 *            start times, root pid, attached), the command's argv and the stage
 *            specs (each a u32 count, then NUL-terminated strings);
 *   records: the kernel's records (bpf/bmtrace.h) exactly as received, each
 *            self-describing by hdr.size;
 *   end:     a record of type BMT_TRACE_END with the run's end: exit status,
 *            signal, end time, the BPF stats. A file without it is truncated.
 * Integers are little-endian (checked at build time). The exact byte layout is at the
 * top of tracefile.c.
 */
#ifndef BMT_TRACEFILE_H
#define BMT_TRACEFILE_H

#include <stddef.h>
#include "run.h"

#define BMT_TRACE_VERSION 1
#define BMT_TRACE_END 0x7fff /* record type of the end record; never used by the kernel */
#define BMT_TRACE_REC_MAX (1u << 20) /* larger records are corruption */

struct tracefile_writer;
struct tracefile_reader;

/*
 * Create path and write the header from run (argv, page_size, kernel, start_ts,
 * start_realtime_ns, root_pid, attached) and the stage specs (NULL-terminated, may be
 * NULL). NULL with errno set on failure.
 */
struct tracefile_writer *tracefile__create(const char *path, const struct bmt_run *run,
					   char *const stage_specs[]);
/*
 * The recording's file descriptor, open until tracefile__close: to give the file to a user
 * through it (privilege__give_fd), never by path, which a link swapped in could redirect.
 */
int tracefile__fd(const struct tracefile_writer *w);
/* Append one record; 0 or -errno. */
int tracefile__write(struct tracefile_writer *w, const void *rec, size_t len);
/* Write the end record from run (exit_code, signal, end_ts, stats), flush and close. */
int tracefile__close(struct tracefile_writer *w, const struct bmt_run *run);
/* Close without an end record (error paths); the file reads as truncated. */
void tracefile__abort(struct tracefile_writer *w);

/*
 * Open a trace and read its header into run (argv allocated, owned by the reader) and
 * the stage specs into *stage_specs (NULL-terminated, owned by the reader). NULL on
 * failure with a one-line reason in err ("not a bmtrace trace", "unsupported trace
 * version 7 (this bmtrace reads 1)", "corrupt header", ...).
 */
struct tracefile_reader *tracefile__open(const char *path, struct bmt_run *run,
					 char ***stage_specs, char *err, size_t errlen);
/*
 * Next record: 1 with *rec and *len set (valid until the next call), 0 at the end record
 * (run's end fields filled in), -1 on error with a one-line reason in err ("truncated
 * after 1234 records", "corrupt record at offset N", gzip's own CRC error).
 */
int tracefile__next(struct tracefile_reader *r, const void **rec, size_t *len,
		    struct bmt_run *run, char *err, size_t errlen);
void tracefile__close_reader(struct tracefile_reader *r);

#endif /* BMT_TRACEFILE_H */
