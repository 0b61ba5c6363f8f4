/* SPDX-License-Identifier: MIT */
/* util - small helpers shared by several modules. Look here before writing another. */
#ifndef BMT_UTIL_H
#define BMT_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Write path atomically: fn writes into a temp file created (O_EXCL, mode 0644) in
 * the same directory, which is then fsynced and renamed over path, so a reader never
 * sees half a file. "-" writes to stdout instead. Returns 0, fn's negative result, or
 * -errno; on failure the temp file is removed and path is untouched. The temp file is
 * opened O_EXCL|O_NOFOLLOW under a fresh name, so a link planted at path or at a temp name
 * is never written through: the rename replaces a link at path with the new file.
 */
int util_write_atomic(const char *path, int (*fn)(FILE *f, void *ctx), void *ctx);

/*
 * Could util_write_atomic write path? A temp file is created beside it and removed: 0, or
 * -errno (-EISDIR when path is a directory). "-" is always writable. For checking every
 * output before a long run, so a typo costs seconds, not a build.
 */
int util_probe_writable(const char *path);

/*
 * From now on util_write_atomic hands each temp file it creates to fn (NULL: none) by its
 * descriptor, with the path it will be renamed to, before anything is written: to give it to
 * the invoking user (privilege__give_fd), never by path.
 */
void util_on_create(void (*fn)(void *ctx, int fd, const char *path), void *ctx);

/*
 * The whole file at path, NUL-terminated, malloc'ed; *len (may be NULL) is its length
 * without the NUL. NULL with errno set.
 */
char *util_read_file(const char *path, size_t *len);

/*
 * Parse a size: plain bytes ("1048576") or a number with a binary suffix K, M, G, T
 * (case-insensitive, optional "i"/"iB"/"B": "4G", "3500M", "512KiB", "1.5G").
 * Returns 0 or -EINVAL (empty, negative, junk, overflow).
 */
int util_parse_size(const char *s, uint64_t *out);

/* "812.0 KiB", "1.23 GiB", "17 B": three significant digits, binary units. */
const char *util_fmt_bytes(uint64_t bytes, char *buf, size_t len);

/* 1052113 as "1,052,113". */
const char *util_fmt_count(uint64_t v, char *buf, size_t len);

/*
 * The code point of the valid UTF-8 sequence at s in *cp, and its length (1 to 4); 0 when
 * s does not start one (overlong, surrogate, past U+10FFFF, cut short by the NUL).
 */
int util_utf8_decode(const char *s, uint32_t *cp);

/*
 * A malloc'd copy of s (NULL reads as "") in which each byte that is not part of valid UTF-8
 * becomes U+FFFD, and with controls each control character too (C0 but '\n', DEL, C1).
 * NULL on allocation failure.
 */
char *util_utf8_clean(const char *s, int controls);

/*
 * Room for element n of arr (elem bytes each, *cap allocated): arr itself while n < *cap,
 * else arr reallocated to twice *cap (first when *cap is 0), *cap updated. NULL when that
 * fails, arr and *cap then unchanged. For one array per capacity: parallel arrays would
 * disagree with *cap after a failure.
 */
void *util_grow(void *arr, size_t *cap, size_t n, size_t elem, size_t first);

/* The part after the last '/', or the whole string. */
const char *util_basename(const char *path);

#endif /* BMT_UTIL_H */
