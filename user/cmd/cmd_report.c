// SPDX-License-Identifier: MIT
/*
 * bmtrace report [OPTIONS] TRACE: rebuild every report from a recording (-w), without root.
 * The recorded records go through the same session as a live run's, so both give the same
 * bytes.
 */
#include <stdio.h>
#include "cmd.h"
#include "escape.h"
#include "session.h"
#include "status.h"
#include "tracefile.h"

int cmd_report(struct config *cfg)
{
	struct session s = { .creds = { .uid = (uid_t)-1 } };
	const struct stages *stages = cfg->stages;
	struct tracefile_reader *r;
	char err[512], **recorded;
	const void *rec;
	size_t len;
	int rc, code = BMT_EXIT_BMTRACE;

	if (session__check_outputs(cfg))
		return BMT_EXIT_BMTRACE;
	r = tracefile__open(cfg->trace, &s.run, &recorded, err, sizeof(err));
	if (!r) {
		esc_say(stderr, "%s: %s", cfg->trace, err);
		return BMT_EXIT_BMTRACE;
	}
	/* the stages given now, or else those the recording was made with */
	if (!cfg->n_stage_specs) {
		stages = s.own_stages = stages__from_specs(recorded, err, sizeof(err));
		if (!stages) {
			esc_say(stderr, "%s: %s", cfg->trace, err);
			goto out;
		}
	}
	if (session__init(&s, cfg, stages))
		goto out;
	if (!s.run.attached &&
	    collector__add_root(s.coll, s.run.root_pid, s.run.argv, s.run.start_ts)) {
		esc_say(stderr, "out of memory");
		goto out;
	}
	while ((rc = tracefile__next(r, &rec, &len, &s.run, err, sizeof(err))) > 0)
		if (session__record(&s, rec, len)) {
			esc_say(stderr, "out of memory");
			goto out;
		}
	if (rc < 0) {
		esc_say(stderr, "%s: %s", cfg->trace, err);
		goto out;
	}
	if (cfg->gate == BMT_GATE_CGROUP && !s.run.cgroup.version) {
		esc_say(stderr, "--gate cgroup: %s was not recorded with --cgroup: it has no cgroup "
			"peak to judge", cfg->trace);
		goto out;
	}
	code = session__finish(&s, 0);
out:
	session__free(&s);
	tracefile__close_reader(r);
	return code;
}
