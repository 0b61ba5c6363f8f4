// SPDX-License-Identifier: MIT
/*
 * bmtrace [OPTIONS] -- COMMAND, bmtrace [OPTIONS] -p PID: trace a tree live.
 *
 * Load the BPF programs, start COMMAND held at a gate (or adopt the running tree), then run
 * the event loop until the root is done (with --wait-all, every descendant): each tick
 * drains the ring into the session and, with --listen, publishes /metrics.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "cgroup.h"
#include "cmd.h"
#include "escape.h"
#include "http.h"
#include "jobctl.h"
#include "loop.h"
#include "procscan.h"
#include "progress.h"
#include "prom.h"
#include "runner.h"
#include "session.h"
#include "status.h"
#include "tracer.h"
#include "util.h"

#define DRAIN_MS 50              /* records come without wake-ups: drain at least this often */
#define PUBLISH_NS 100000000ull /* a new /metrics page at most every 100 ms */
#define PROGRESS_NS 250000000ull /* the --progress line redrawn at most every 250 ms */
#define CGROUP_WAIT_MS 1000      /* for the processes of --cgroup's cgroup to be reaped */

struct live {
	struct session s;
	struct tracer *tracer;
	struct loop *loop;
	struct jobctl job;
	int pidfd;                /* -p: the root's, readable once it has exited */
	struct http_server *http; /* --listen */
	uint64_t published;       /* when /metrics last got a new page */
	char **attached_argv;     /* -p: the root's cmdline */
	struct progress *progress; /* --progress on a terminal */
	uint64_t drawn;           /* when the progress line was last drawn */
	struct cgroup *cg;        /* --cgroup: COMMAND's own memory cgroup */
};

/*
 * Render the metrics for /metrics. The page is built here, in the tracing thread, and handed
 * over whole: a scrape always sees one consistent moment and never waits for tracing.
 */
static void publish(struct live *lv, int force, int final)
{
	struct prom_snapshot snap;
	uint64_t now = procscan__now();
	size_t len;
	char *page;

	if (!lv->http || (!force && now - lv->published < PUBLISH_NS))
		return;
	lv->published = now;
	if (lv->tracer)
		tracer__stats(lv->tracer, &lv->s.run.stats);
	if (lv->cg && cgroup__read(lv->cg, &lv->s.run.cgroup))
		lv->s.run.cgroup.version = 0; /* not readable now: left out of this page */
	if (session__prom_snapshot(&lv->s, &snap, final))
		return;
	page = prom_render_alloc(&snap, 1, &len);
	if (page)
		http__publish(lv->http, page, len);
	prom_snapshot_clear(&snap);
}

/* ---- the event loop's callbacks ---- */

static void drain(struct live *lv)
{
	if (tracer__drain(lv->tracer) < 0)
		loop__stop(lv->loop, -ENOMEM);
}

/* Where the run stands, in at most cols columns (escape.h's widest cell at most). */
static void status(struct live *lv, int cols, struct esc_cell *line)
{
	drain(lv); /* what the kernel has sent so far */
	esc_init(line, cols);
	session__status(&lv->s, procscan__now(), line);
}

/* SIGUSR1: one status line on stderr, as dd prints one; COMMAND never sees the signal. */
static void on_signal(struct loop *l, const struct signalfd_siginfo *si, void *ctx)
{
	struct live *lv = ctx;
	struct esc_cell line;

	if (si->ssi_signo == SIGUSR1) {
		status(lv, ESC_MAX_COLS, &line);
		fprintf(stderr, "%s\n", line.buf);
		fflush(stderr);
	}
	jobctl__signal(&lv->job, si);
}

/* --progress: the live line redrawn, a few times a second. */
static void draw_progress(struct live *lv)
{
	uint64_t now = procscan__now();
	struct esc_cell line;

	if (!lv->progress || now - lv->drawn < PROGRESS_NS)
		return;
	lv->drawn = now;
	status(lv, progress__cols(lv->progress) - 1, &line);
	progress__draw(lv->progress, line.buf);
}

static void on_root_exit(struct loop *l, int fd, void *ctx)
{
	struct live *lv = ctx;

	lv->job.root_done = 1;
}


static void on_ring(struct loop *l, int fd, void *ctx)
{
	drain(ctx);
}

/* Drain, publish; stop once the root is done (and, with --wait-all, every descendant). */
static void on_tick(struct loop *l, void *ctx)
{
	struct live *lv = ctx;

	drain(lv);
	publish(lv, 0, 0);
	draw_progress(lv);
	if (lv->job.stop ||
	    (lv->job.root_done && (!lv->s.cfg->wait_all || !collector__alive(lv->s.coll))))
		loop__stop(l, 0);
}

/* ---- start ---- */

/* Each output file, at its creation: COMMAND's user's, through its descriptor. */
static void give_file(void *ctx, int fd, const char *path)
{
	const struct session *s = ctx;
	int rc = privilege__give_fd(&s->creds, fd);

	if (rc)
		esc_say(stderr, "warning: cannot give %s to COMMAND's user: %s", path,
			strerror(-rc));
}

/* procscan's view of -p: each process found joins the traced set, its records the session. */
static int adopt_add(void *ctx, uint32_t pid)
{
	struct live *lv = ctx;

	return tracer__add_pid(lv->tracer, pid, BMT_PROC_ADOPTED, 0);
}

static int adopt_emit(void *ctx, const void *rec, size_t len)
{
	struct live *lv = ctx;

	return session__record(&lv->s, rec, len);
}

static void fill_machine(struct bmt_run *run)
{
	struct utsname u;
	struct timespec ts;

	if (!uname(&u))
		snprintf(run->kernel, sizeof(run->kernel), "%s", u.release);
	run->page_size = sysconf(_SC_PAGESIZE);
	clock_gettime(CLOCK_REALTIME, &ts);
	run->start_realtime_ns = (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	run->exit_code = -1;
}

static int open_recording(struct session *s)
{
	const char *path = s->cfg->out[BMT_OUT_RECORD];

	if (!path)
		return 0;
	s->rec = tracefile__create(path, &s->run, s->cfg->stage_specs);
	if (!s->rec) {
		/* O_NOFOLLOW: a link planted at the path is refused, never written through */
		esc_say(stderr, "-w %s: cannot create it: %s", path,
			errno == ELOOP ? "it is a symbolic link (not followed)" : strerror(errno));
		return -1;
	}
	give_file(s, tracefile__fd(s->rec), path);
	return 0;
}

/*
 * Under sudo (or -u): COMMAND runs as that user, who gets the output files (through their
 * descriptors, give_file); the tracer's check asks for what it takes.
 */
static void act_for(struct session *s, struct tracer_opts *o, char *who, size_t len)
{
	if (s->creds.uid == (uid_t)-1)
		return;
	if (s->creds.name)
		snprintf(who, len, "%s", s->creds.name);
	else
		snprintf(who, len, "uid %u", s->creds.uid);
	o->user = who;
	o->switch_user = s->cfg->mode == MODE_RUN;
	o->give_files = session__writes_files(s->cfg);
	util_on_create(give_file, s);
}

/*
 * --cgroup: COMMAND's memory cgroup, made before anything starts, so a host without a usable
 * memory controller costs a one-line reason, not a build. 0, or -1 after saying why.
 */
static int make_cgroup(struct live *lv)
{
	const struct config *cfg = lv->s.cfg;
	const char *root = getenv("BMTRACE_CGROUP_ROOT"); /* tests: a fake cgroup tree */
	char err[512];

	if (!cfg->cgroup)
		return 0;
	if (cgroup__create(root ? root : "", (unsigned long)getpid(),
			   cfg->memory_max ? cfg->memory_max : BMT_CGROUP_NONE, &lv->cg, err,
			   sizeof(err))) {
		esc_say(stderr, "--%s: %s", cfg->memory_max ? "memory-max" : "cgroup", err);
		return -1;
	}
	return 0;
}

/* --cgroup: its figures when tracing stopped, into the run. */
static void read_cgroup(struct live *lv)
{
	int rc;

	if (!lv->cg)
		return;
	rc = cgroup__read(lv->cg, &lv->s.run.cgroup);
	if (rc) {
		lv->s.run.cgroup.version = 0;
		esc_say(stderr, "--cgroup: cannot read %s: %s", cgroup__path(lv->cg), strerror(-rc));
	}
}

/* --cgroup: removed once its processes are gone; kept, and said, while some still run. */
static void remove_cgroup(struct live *lv)
{
	int rc;

	if (!lv->cg)
		return;
	rc = cgroup__remove(lv->cg, CGROUP_WAIT_MS);
	if (rc == -EBUSY)
		esc_say(stderr, "warning: --cgroup: %s kept: processes of the tree still run in it",
			cgroup__path(lv->cg));
	else if (rc)
		esc_say(stderr, "warning: --cgroup: cannot remove %s: %s", cgroup__path(lv->cg),
			strerror(-rc));
	cgroup__free(lv->cg);
	lv->cg = NULL;
}

/* COMMAND held at the gate will not run: the child sees EOF and exits 125. */
static void abandon(struct runner *r)
{
	close(r->gate_fd);
	waitpid(r->pid, NULL, 0);
}

/* Fork COMMAND at the gate, follow it, release it; 0 or -(bmtrace's exit status). */
static int start_command(struct live *lv)
{
	struct session *s = &lv->s;
	struct runner r;
	int rc = runner__spawn(&r, s->cfg->argv, &s->creds, loop__old_mask(lv->loop));

	if (rc) {
		esc_say(stderr, "cannot start COMMAND: %s", strerror(-rc));
		return -BMT_EXIT_BMTRACE;
	}
	lv->job.child = r.pid;
	s->run.root_pid = r.pid;
	/* before it execs: all it and its descendants allocate is charged there */
	if (lv->cg && (rc = cgroup__enter(lv->cg, r.pid))) {
		esc_say(stderr, "--cgroup: cannot move COMMAND into %s: %s", cgroup__path(lv->cg),
			strerror(-rc));
		abandon(&r);
		return -BMT_EXIT_BMTRACE;
	}
	rc = tracer__add_pid(lv->tracer, r.pid, 0, 0);
	s->run.start_ts = procscan__now();
	if (!rc)
		rc = collector__add_root(s->coll, r.pid, s->cfg->argv, s->run.start_ts);
	if (!rc && open_recording(s))
		rc = -EIO;
	if (rc) {
		if (rc != -EIO)
			esc_say(stderr, "cannot follow COMMAND: %s", strerror(-rc));
		abandon(&r);
		return -BMT_EXIT_BMTRACE;
	}
	rc = runner__release(&r);
	if (rc) {
		esc_say(stderr, "%s: %s", s->cfg->argv[0], strerror(rc > 0 ? rc : -rc));
		waitpid(r.pid, NULL, 0);
		tracefile__abort(s->rec);
		s->rec = NULL;
		return -(rc == ENOENT ? BMT_EXIT_NOTFOUND : rc > 0 ? BMT_EXIT_NOEXEC : BMT_EXIT_BMTRACE);
	}
	/*
	 * Once COMMAND has exec'd, a Ctrl-Z is COMMAND's to act on: bmtrace reads SIGTSTP too and
	 * stops only when COMMAND does (jobctl), so a COMMAND that ignores it is not left running
	 * untraced. Until then, its default action stops bmtrace and the child at the gate alike.
	 */
	loop__catch(lv->loop, (const int[]){ SIGTSTP }, 1, on_signal, lv);
	return 0;
}

/* -p: adopt the running tree; 0 or -(bmtrace's exit status). */
static int attach_pid(struct live *lv)
{
	struct session *s = &lv->s;
	struct procscan_ops ops = { adopt_add, adopt_emit, lv };
	uint32_t pid = s->cfg->pid;
	char err[256];
	size_t found;

	lv->pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (lv->pidfd < 0) {
		esc_say(stderr, "-p %u: %s", pid, errno == ESRCH ? "no such process" : strerror(errno));
		return -BMT_EXIT_BMTRACE;
	}
	loop__add_fd(lv->loop, lv->pidfd, on_root_exit, lv);
	s->run.root_pid = pid;
	s->run.attached = 1;
	s->run.argv = lv->attached_argv = procscan__argv(pid);
	s->run.start_ts = procscan__now();
	if (open_recording(s))
		return -BMT_EXIT_BMTRACE;
	if (procscan__adopt(pid, &ops, &found, err, sizeof(err))) {
		esc_say(stderr, "%s", err);
		return -BMT_EXIT_BMTRACE;
	}
	/* as strace does: the moment from which nothing is missed, for people and scripts */
	if (!s->cfg->quiet)
		esc_say(stderr, "attached to PID %u and %zu descendants", pid, found ? found - 1 : 0);
	return 0;
}

/* Load, listen, start or attach: 0, or -(bmtrace's exit status) after saying why. */
static int setup(struct live *lv, struct tracer_opts *topts)
{
	struct config *cfg = lv->s.cfg;
	char err[512];
	int rc;

	lv->loop = loop__new(DRAIN_MS, on_tick, lv);
	if (!lv->loop ||
	    loop__catch(lv->loop, jobctl_signals, jobctl_n_signals, on_signal, lv)) {
		esc_say(stderr, "cannot set up signals: %s", strerror(errno));
		return -BMT_EXIT_BMTRACE;
	}
	lv->tracer = tracer__open(topts, err, sizeof(err));
	if (!lv->tracer) {
		esc_say(stderr, "%s", err);
		return -BMT_EXIT_BMTRACE;
	}
	snprintf(lv->s.run.counter_source, sizeof(lv->s.run.counter_source), "%s",
		 tracer__counter_source(lv->tracer));
	lv->s.run.thread_batch = tracer__thread_batch(lv->tracer);
	loop__add_fd(lv->loop, tracer__fd(lv->tracer), on_ring, lv);
	if (cfg->listen) {
		lv->http = http__start(&(struct http_opts){ .listen = cfg->listen }, err, sizeof(err));
		if (!lv->http) {
			esc_say(stderr, "%s", err);
			return -BMT_EXIT_BMTRACE;
		}
		publish(lv, 1, 0);
	}
	rc = cfg->mode == MODE_RUN ? start_command(lv) : attach_pid(lv);
	if (!rc)
		tracer__prioritize(); /* COMMAND is forked already: it keeps its own niceness */
	if (!rc && cfg->progress)
		lv->progress = progress__start(STDERR_FILENO);
	return rc;
}

int cmd_trace(struct config *cfg)
{
	struct live lv = { .s = { .cfg = cfg }, .job = { .child = -1, .verbose = cfg->verbose },
			   .pidfd = -1 };
	struct tracer_opts topts = { .ring_bytes = cfg->ring_bytes, .verbose = cfg->verbose,
				     .fn = session__record, .ctx = &lv.s,
				     .max_procs = cfg->max_procs };
	int code = BMT_EXIT_BMTRACE, rc;
	char err[512], who[64];

	/* -p too: under sudo the output files are the invoking user's (if SUDO_UID makes sense) */
	if (privilege__resolve(cfg->user, &lv.s.creds, err, sizeof(err))) {
		if (cfg->mode == MODE_RUN) {
			esc_say(stderr, "%s", err);
			return BMT_EXIT_BMTRACE;
		}
		privilege__free(&lv.s.creds);
	}
	act_for(&lv.s, &topts, who, sizeof(who));
	if (session__check_outputs(cfg) || session__init(&lv.s, cfg, cfg->stages))
		goto out;
	fill_machine(&lv.s.run);
	lv.s.run.argv = cfg->argv;
	if (make_cgroup(&lv))
		goto out;
	rc = setup(&lv, &topts);
	if (rc) {
		code = -rc;
		goto out;
	}
	if (loop__run(lv.loop)) {
		esc_say(stderr, "out of memory while tracing; the report would be wrong");
		goto out;
	}
	progress__end(lv.progress); /* erased before the summary comes */
	lv.progress = NULL;
	tracer__drain_last(lv.tracer);
	lv.s.run.end_ts = procscan__now();
	tracer__stats(lv.tracer, &lv.s.run.stats);
	read_cgroup(&lv);
	code = cfg->mode == MODE_RUN ? status_of_wait(&lv.s.run, lv.job.status) : 0;
	code = session__finish(&lv.s, code);
	if (lv.http) {
		publish(&lv, 1, 1); /* the final values, for the last scrape */
		if (cfg->linger)
			http__linger(lv.http, cfg->linger, loop__signal_fd(lv.loop));
	}
out:
	progress__end(lv.progress);
	remove_cgroup(&lv);
	http__stop(lv.http);
	tracer__close(lv.tracer);
	session__free(&lv.s);
	free(lv.attached_argv);
	if (lv.pidfd >= 0)
		close(lv.pidfd);
	loop__free(lv.loop);
	return code;
}
