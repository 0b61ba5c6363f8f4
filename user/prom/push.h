/* SPDX-License-Identifier: MIT */
/*
 * push - the final metrics to a Prometheus Pushgateway at the end of a run: the batch-job
 * pattern. push-add (POST): the group's other metrics stay, so the last success
 * timestamp of an earlier run survives a failed one and an alert on
 * time() - bmtrace_last_success_timestamp_seconds sees CI failing.
 */
#ifndef BMT_PUSH_H
#define BMT_PUSH_H

#include <stdbool.h>
#include <stddef.h>
#include "prom.h"

#define PUSH_TIMEOUT_S	       10 /* the whole request */
#define PUSH_CONNECT_TIMEOUT_S 5

/*
 * The Pushgateway's group of a push: its metrics replace only those of the same group, so
 * runners of one job, each its own instance (by default the host name), never overwrite
 * each other, and each keeps its own last success.
 */
struct push_group {
	const char *job;      /* not empty */
	const char *instance; /* may be empty */
};

/*
 * POST the rendering of s (one tree) to URL/metrics/job/JOB/instance/INSTANCE (a value is
 * base64url-encoded, as .../job@base64/..., when it holds anything but [A-Za-z0-9._~-] or
 * is empty), with Content-Type "text/plain; version=0.0.4". url: http:// or https:// and
 * the gateway's base (a trailing '/' is fine). When succeeded,
 * bmtrace_last_success_timestamp_seconds is now (s->last_success_time is ignored either
 * way). timeout_s 0: PUSH_TIMEOUT_S. Returns 0, or -1 with a one-line reason in err (curl's,
 * or the gateway's status and the first line of its answer).
 */
int push_add(const char *url, const struct push_group *group, const struct prom_snapshot *s,
	     bool succeeded, unsigned int timeout_s, char *err, size_t errlen);

#endif /* BMT_PUSH_H */
