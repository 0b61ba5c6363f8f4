/* SPDX-License-Identifier: MIT */
/*
 * record - the shape check of the records of bpf/bmtrace.h, the one every reader uses
 * (the collector, serve's router) before it looks inside a record.
 *
 * A record passes when its buffer holds the whole fixed layout of its type, its header's
 * size lies between that layout and the buffer's length, and its fields are in range: an
 * RSS member below BMT_NR_MEMBERS, mm keys up to BMT_MM_KEY_MAX, pids up to BMT_PID_MAX, a
 * FORK or ADOPT whose pid is not its own parent, an EXEC whose filename and argv fit inside it. Past the check, a reader may cast the record to its
 * type's struct and read every fixed field.
 */
#ifndef BMT_RECORD_H
#define BMT_RECORD_H

#include <stddef.h>

/*
 * The size of the fixed layout of rec's type (sizeof(struct bmt_rss) for an RSS record,
 * ...), or -EINVAL: shorter than its type, an unknown type, a field out of range.
 */
int bmt_record_check(const void *rec, size_t len);

#endif /* BMT_RECORD_H */
