// SPDX-License-Identifier: MIT
/*
 * bmtrace - how much memory did a command's whole process tree hold at its worst
 * moment, when, and who held it.
 *
 * main is thin: parse -> trace (or replay) -> report -> exit status. Records flow
 * one way: kernel -> tracer -> collector (and the recording) -> reports.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include "escape.h"
#include "budget.h"
#include "cli.h"
#include "collector.h"
#include "diff.h"
#include "http.h"
#include "procscan.h"
#include "prom.h"
#include "push.h"
#include "report.h"
#include "run.h"
#include "runner.h"
#include "serve.h"
#include "timeline.h"
#include "tracefile.h"
#include "tracer.h"
#include "util.h"

#define EXIT_BMTRACE 125 /* bmtrace itself could not run */
#define DRAIN_MS 50      /* records are sent without wake-ups: drain at least this often */

struct session {
	struct config *cfg;
	struct collector *coll;
	struct tracer *tracer;
	struct tracefile_writer *rec;
	int rec_errno;     /* the recording failed: reported at the end, the command unharmed */
	uint64_t feed_errors;
	struct bmt_run run;
	struct runner_creds creds;
	char **attached_argv; /* -p: the root's cmdline */
	struct http_server *http; /* --listen */
	uint64_t published;   /* when /metrics last got a new page */
	struct timeline *tl;  /* --timeline, --svg */
	int tl_errno;         /* the timeline ran out of memory: those reports fail */
};

static void die_line(const char *what, const char *why)
{
	esc_say(stderr, "%s%s%s", what, why ? ": " : "", why ? why : "");
}

/* Every record, live or synthetic: into the recording, then the collector. */
static int on_record(void *ctx, const void *rec, size_t len)
{
	struct session *s = ctx;
	int rc;

	if (s->rec && !s->rec_errno) {
		rc = tracefile__write(s->rec, rec, len);
		if (rc)
			s->rec_errno = -rc;
	}
	rc = collector__feed(s->coll, rec, len);
	if (rc == -ENOMEM)
		return rc;
	if (rc)
		s->feed_errors++;
	return 0;
}

/* Every change of the tree total: the timeline, and when it first went over the budget. */
static void on_sample(void *ctx, const struct bmt_sample *smp)
{
	struct session *s = ctx;

	if (s->run.budget_bytes && !s->run.over_budget_ts && smp->tree_bytes > s->run.budget_bytes)
		s->run.over_budget_ts = smp->ts;
	if (s->tl && !s->tl_errno && timeline__add(s->tl, smp))
		s->tl_errno = ENOMEM;
}

static int add_pid(void *ctx, uint32_t pid)
{
	struct session *s = ctx;

	return tracer__add_pid(s->tracer, pid, BMT_PROC_ADOPTED, 0);
}

/* util_set_owner's: an output file that stays root's. */
static void warn_owner(const char *path, int err)
{
	esc_say(stderr, "warning: cannot give %s to COMMAND's user: %s", path, strerror(-err));
}

static int write_text(FILE *f, void *ctx)
{
	struct session *s = ctx;
	const struct bmt_result *r = collector__result(s->coll);

	return r ? report_text(f, &s->run, r) : -ENOMEM;
}

/* One report written (rc 0) or not (-errno, said on stderr); 1 when it failed. */
static int report_done(const char *opt, const char *path, int rc)
{
	if (rc)
		esc_say(stderr, "%s %s: cannot write it: %s", opt, path, strerror(-rc));
	return rc != 0;
}

/* The metrics of this run as they stand: live while tracing, final at the end. */
static int prom_snapshot_of(struct session *s, struct prom_snapshot *snap)
{
	const struct bmt_result *r = collector__result(s->coll);

	memset(snap, 0, sizeof(*snap));
	return r ? prom_snapshot_fill(snap, r, &s->run) : -ENOMEM;
}

#define PUBLISH_NS 100000000ull /* a new /metrics page at most every 100 ms */

/*
 * Render the metrics for /metrics. The page is built here, in the tracing thread, and handed
 * over whole: a scrape always sees one consistent moment and never waits for tracing.
 */
static void publish(struct session *s, int force)
{
	struct prom_snapshot snap;
	uint64_t now = procscan__now();
	size_t len;
	char *page;

	if (!s->http || (!force && now - s->published < PUBLISH_NS))
		return;
	s->published = now;
	if (s->tracer)
		tracer__stats(s->tracer, &s->run.stats);
	if (prom_snapshot_of(s, &snap))
		return;
	page = prom_render_alloc(&snap, 1, &len);
	if (page)
		http__publish(s->http, page, len);
	prom_snapshot_clear(&snap);
}

/* --prometheus and --pushgateway: the final metrics; returns the number that failed. */
static int write_prometheus(struct session *s)
{
	const struct config *cfg = s->cfg;
	struct prom_snapshot snap;
	char err[512];
	int failed = 0;

	if (!cfg->prometheus && !cfg->pushgateway)
		return 0;
	if (prom_snapshot_of(s, &snap)) {
		die_line("cannot build the metrics", strerror(ENOMEM));
		return 1;
	}
	if (cfg->prometheus)
		failed += report_done("--prometheus", cfg->prometheus,
				      prom_write_file(cfg->prometheus, &snap));
	if (cfg->pushgateway &&
	    push_add(cfg->pushgateway, cfg->job, &snap, s->run.exit_code == 0, 0, err,
		     sizeof(err))) {
		die_line(err, NULL);
		failed++;
	}
	prom_snapshot_clear(&snap);
	return failed;
}

/* Write every report asked for; returns 0 or the number of reports that failed. */
static int write_reports(struct session *s)
{
	const struct config *cfg = s->cfg;
	const struct bmt_result *r = collector__result(s->coll);
	int failed = 0, rc;

	if (!r) {
		die_line("cannot build the result", strerror(ENOMEM));
		return 1;
	}
	if (!cfg->quiet) {
		if (cfg->output)
			rc = util_write_atomic(cfg->output, write_text, s);
		else
			rc = report_text(stderr, &s->run, r);
		if (rc) {
			esc_say(stderr, "%s%s: cannot write the summary: %s",
				cfg->output ? "-o " : "stderr", cfg->output ? cfg->output : "",
				strerror(-rc));
			failed++;
		}
	}
	if (cfg->json)
		failed += report_done("--json", cfg->json, report_json(cfg->json, &s->run, r));
	if (cfg->timeline)
		failed += report_done("--timeline", cfg->timeline, s->tl_errno ? -s->tl_errno :
					report_timeline(cfg->timeline, &s->run, r, s->tl));
	if (cfg->svg)
		failed += report_done("--svg", cfg->svg, s->tl_errno ? -s->tl_errno :
					report_svg(cfg->svg, &s->run, r, s->tl));
	if (cfg->markdown)
		failed += report_done("--markdown", cfg->markdown,
				      report_markdown(cfg->markdown, &s->run, r));
	failed += write_prometheus(s);
	/* the summary says it last; without one on stderr, the exit status is still explained */
	if ((cfg->quiet || cfg->output) && budget_gate_fails(&s->run, r))
		report_text_over_budget(stderr, &s->run, r);
	return failed;
}

/* bmtrace's status once COMMAND's is known (code) and the reports are written. */
static int final_status(struct session *s, int code, int reports_failed)
{
	const struct bmt_result *r;

	if (reports_failed)
		return code ? code : EXIT_BMTRACE;
	r = collector__result(s->coll);
	if (!code && r && budget_gate_fails(&s->run, r))
		return BMT_EXIT_BUDGET;
	return code;
}

/*
 * Every output path, checked before COMMAND starts (or a replay reads its trace): a typo
 * costs seconds, not a build. What fails later (a full disk) is said at the end.
 */
static int check_outputs(const struct config *cfg)
{
	const struct {
		const char *opt, *path;
	} outs[] = { { "-o", cfg->output },	    { "--json", cfg->json },
		     { "--timeline", cfg->timeline }, { "--svg", cfg->svg },
		     { "--markdown", cfg->markdown }, { "--prometheus", cfg->prometheus },
		     { "-w", cfg->record } };
	int rc;

	for (size_t i = 0; i < sizeof(outs) / sizeof(outs[0]); i++) {
		if (!outs[i].path || (rc = util_probe_writable(outs[i].path)) == 0)
			continue;
		esc_say(stderr, "%s %s: cannot write there: %s", outs[i].opt, outs[i].path,
			strerror(-rc));
		return -1;
	}
	return 0;
}

/* Compile the stage rules and make the collector; -1 after saying why. */
static int new_collector(struct session *s, char *const specs[], struct stages **stages)
{
	char err[512];

	*stages = cli_stages(specs, err, sizeof(err));
	if (!*stages) {
		die_line(err, NULL);
		return -1;
	}
	s->coll = collector__new(*stages);
	if (s->coll && (s->cfg->timeline || s->cfg->svg))
		s->tl = timeline__new();
	if (!s->coll || ((s->cfg->timeline || s->cfg->svg) && !s->tl)) {
		die_line("out of memory", NULL);
		return -1;
	}
	if (s->tl || s->cfg->budget_bytes)
		collector__on_sample(s->coll, on_sample, s);
	return 0;
}

/* The budget is an option, given again to `bmtrace report`: not in the recording. */
static void set_budget(struct session *s)
{
	s->run.budget_bytes = s->cfg->budget_bytes;
	s->run.budget_gate = s->cfg->budget_gate;
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
	if (!s->cfg->record)
		return 0;
	s->rec = tracefile__create(s->cfg->record, &s->run, s->cfg->stage_specs);
	if (!s->rec) {
		/* O_NOFOLLOW: a link planted at the path is refused, never written through */
		esc_say(stderr, "-w %s: cannot create it: %s", s->cfg->record,
			errno == ELOOP ? "it is a symbolic link (not followed)" : strerror(errno));
		return -1;
	}
	/* under sudo, the invoking user's (its descriptor: never a path swapped meanwhile) */
	if (s->creds.uid != (uid_t)-1) {
		int rc = tracefile__chown(s->rec, s->creds.uid, s->creds.gid);

		if (rc)
			warn_owner(s->cfg->record, rc);
	}
	return 0;
}

/* Is path a file bmtrace writes (not absent, not "-" for stdout)? */
static int is_file(const char *path)
{
	return path && strcmp(path, "-");
}

/*
 * Under sudo (or -u): COMMAND runs as that user, who gets the output files (through their
 * descriptors, util_set_owner and open_recording); the tracer's check asks for what it takes.
 */
static void act_for(struct session *s, struct tracer_opts *o, char *who, size_t len)
{
	const struct config *c = s->cfg;

	if (s->creds.uid == (uid_t)-1)
		return;
	if (s->creds.name)
		snprintf(who, len, "%s", s->creds.name);
	else
		snprintf(who, len, "uid %u", s->creds.uid);
	o->user = who;
	o->switch_user = c->mode == MODE_RUN;
	o->give_files = (!c->quiet && is_file(c->output)) || is_file(c->json) ||
			is_file(c->timeline) || is_file(c->svg) || is_file(c->markdown) ||
			is_file(c->prometheus) || is_file(c->record);
	util_set_owner(s->creds.uid, s->creds.gid, warn_owner);
}

/* Was this signal typed at our terminal? Then COMMAND, in our process group, has it too. */
static int from_our_tty(const struct signalfd_siginfo *si, pid_t child)
{
	return si->ssi_code == SI_KERNEL && child > 0 && getpgid(child) == getpgrp();
}

struct loop_state {
	pid_t child;     /* MODE_RUN: COMMAND; else -1 */
	int pidfd;       /* MODE_PID: the root; else -1 */
	int root_done;
	int stop;        /* a signal ended -p tracing */
	int status;      /* COMMAND's wait status */
};

/*
 * COMMAND stopped. A job-control stop (Ctrl-Z, the terminal touched from the background, a
 * SIGTSTP it sent itself alone) is the job's: bmtrace stops with the same signal, as sudo
 * does, so the shell sees the job stopped rather than waiting on a bmtrace that runs. A
 * SIGSTOP is a pause by whoever sent it, who continues COMMAND alone: bmtrace keeps tracing.
 */
static void stop_with(pid_t child, int sig)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL }, old;
	sigset_t one, mask;

	if (sig != SIGTSTP && sig != SIGTTIN && sig != SIGTTOU)
		return;
	sigemptyset(&one);
	sigaddset(&one, sig);
	sigaction(sig, &dfl, &old);
	sigprocmask(SIG_BLOCK, &one, &mask);
	raise(sig); /* pending while blocked: one stop, however many were queued */
	sigprocmask(SIG_UNBLOCK, &one, NULL); /* stopped here until continued */
	sigprocmask(SIG_SETMASK, &mask, NULL);
	sigaction(sig, &old, NULL);
	/* fg or bg continued our process group; COMMAND in another one needs it too */
	if (child > 0 && getpgid(child) != getpgrp())
		kill(child, SIGCONT);
}

static void handle_signal(struct session *s, struct loop_state *ls,
			  const struct signalfd_siginfo *si)
{
	int status;

	if (si->ssi_signo == SIGCHLD) {
		/* WUNTRACED: a stop is followed, never taken for the end */
		if (ls->child > 0 && !ls->root_done &&
		    waitpid(ls->child, &status, WNOHANG | WUNTRACED) == ls->child) {
			if (WIFSTOPPED(status)) {
				stop_with(ls->child, WSTOPSIG(status));
			} else {
				ls->status = status;
				ls->root_done = 1;
			}
		}
		return;
	}
	if (ls->child <= 0) {
		ls->stop = 1; /* -p: Ctrl-C ends the tracing, not the traced process */
		return;
	}
	if (si->ssi_signo == SIGTSTP && ls->root_done) {
		/* --wait-all, COMMAND gone: what is left of the job stops, and bmtrace with it */
		stop_with(-1, SIGTSTP);
		return;
	}
	if (!ls->root_done && !from_our_tty(si, ls->child))
		kill(ls->child, si->ssi_signo);
	if (s->cfg->verbose)
		esc_say(stderr, "got signal %u, waiting for COMMAND", si->ssi_signo);
}

/* Trace until the root is done (and, with --wait-all, every descendant). */
static int event_loop(struct session *s, struct loop_state *ls, int sfd)
{
	struct epoll_event ev[4];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0)
		return -errno;
	epoll_ctl(ep, EPOLL_CTL_ADD, tracer__fd(s->tracer),
		  &(struct epoll_event){ .events = EPOLLIN, .data.fd = tracer__fd(s->tracer) });
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &(struct epoll_event){ .events = EPOLLIN, .data.fd = sfd });
	if (ls->pidfd >= 0)
		epoll_ctl(ep, EPOLL_CTL_ADD, ls->pidfd,
			  &(struct epoll_event){ .events = EPOLLIN, .data.fd = ls->pidfd });
	for (;;) {
		int n = epoll_wait(ep, ev, 4, DRAIN_MS);

		if (tracer__drain(s->tracer) < 0) {
			close(ep);
			return -ENOMEM;
		}
		publish(s, 0);
		for (int i = 0; i < n; i++) {
			struct signalfd_siginfo si;

			if (ev[i].data.fd == sfd) {
				while (read(sfd, &si, sizeof(si)) == sizeof(si))
					handle_signal(s, ls, &si);
			} else if (ev[i].data.fd == ls->pidfd) {
				ls->root_done = 1;
			}
		}
		if (ls->stop)
			break;
		if (ls->root_done && (!s->cfg->wait_all || !collector__alive(s->coll)))
			break;
	}
	tracer__drain(s->tracer);
	close(ep);
	return 0;
}

static int exit_status_of(struct session *s, int status)
{
	if (WIFSIGNALED(status)) {
		s->run.signal = WTERMSIG(status);
		s->run.exit_code = -1;
		return 128 + WTERMSIG(status);
	}
	s->run.exit_code = WEXITSTATUS(status);
	return s->run.exit_code;
}

static int start_command(struct session *s, struct loop_state *ls, const sigset_t *old_mask)
{
	struct runner r;
	int rc = runner__spawn(&r, s->cfg->argv, &s->creds, old_mask);
	if (rc) {
		die_line("cannot start COMMAND", strerror(-rc));
		return -EXIT_BMTRACE;
	}
	ls->child = r.pid;
	s->run.root_pid = r.pid;
	rc = tracer__add_pid(s->tracer, r.pid, 0, 0);
	s->run.start_ts = procscan__now();
	if (!rc)
		rc = collector__add_root(s->coll, r.pid, s->cfg->argv, s->run.start_ts);
	if (!rc && open_recording(s))
		rc = -EIO;
	if (rc) {
		if (rc != -EIO)
			die_line("cannot follow COMMAND", strerror(-rc));
		close(r.gate_fd); /* the child sees EOF and exits 125 */
		waitpid(r.pid, NULL, 0);
		return -EXIT_BMTRACE;
	}
	rc = runner__release(&r);
	if (rc) {
		esc_say(stderr, "%s: %s", s->cfg->argv[0], strerror(rc > 0 ? rc : -rc));
		waitpid(r.pid, &ls->status, 0);
		tracefile__abort(s->rec);
		s->rec = NULL;
		return -(rc == ENOENT ? 127 : rc > 0 ? 126 : EXIT_BMTRACE);
	}
	return 0;
}

static int attach_pid(struct session *s, struct loop_state *ls)
{
	struct procscan_ops ops = { add_pid, on_record, s };
	char err[256];
	size_t found;

	ls->pidfd = syscall(SYS_pidfd_open, s->cfg->pid, 0);
	if (ls->pidfd < 0) {
		esc_say(stderr, "-p %u: %s", s->cfg->pid,
			errno == ESRCH ? "no such process" : strerror(errno));
		return -EXIT_BMTRACE;
	}
	s->run.root_pid = s->cfg->pid;
	s->run.attached = 1;
	s->run.argv = s->attached_argv = procscan__argv(s->cfg->pid);
	s->run.start_ts = procscan__now();
	if (open_recording(s))
		return -EXIT_BMTRACE;
	if (procscan__adopt(s->cfg->pid, &ops, &found, err, sizeof(err))) {
		die_line(err, NULL);
		return -EXIT_BMTRACE;
	}
	/* as strace does: the moment from which nothing is missed, for people and scripts */
	if (!s->cfg->quiet)
		esc_say(stderr, "attached to PID %u and %zu descendants", s->cfg->pid,
			found ? found - 1 : 0);
	return 0;
}

/* Signals bmtrace reads through a signalfd: forwarded to COMMAND, or they end -p tracing. */
static const int caught[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/*
 * Once COMMAND has exec'd, a Ctrl-Z is COMMAND's to act on: bmtrace reads SIGTSTP too and
 * stops only when COMMAND does (stop_with), so a COMMAND that ignores it is not left running
 * untraced. Until then, its default action stops bmtrace and the child at the gate alike.
 */
static void catch_tstp(int sfd, sigset_t *mask)
{
	if (sfd < 0)
		return;
	sigaddset(mask, SIGTSTP);
	sigprocmask(SIG_BLOCK, mask, NULL);
	signalfd(sfd, mask, 0);
}

static int trace(struct config *cfg)
{
	struct session s = { .cfg = cfg };
	struct loop_state ls = { .child = -1, .pidfd = -1 };
	struct tracer_opts topts = { cfg->ring_bytes, cfg->verbose, on_record, &s, NULL,
				     cfg->max_procs };
	struct stages *stages = NULL;
	sigset_t mask, old_mask;
	int sfd = -1, code = EXIT_BMTRACE, rc;
	char err[512], who[64];

	/* -p too: under sudo the output files are the invoking user's (if SUDO_UID makes sense) */
	if (runner__resolve_creds(cfg->user, &s.creds, err, sizeof(err))) {
		if (cfg->mode == MODE_RUN) {
			die_line(err, NULL);
			return EXIT_BMTRACE;
		}
		runner__free_creds(&s.creds);
	}
	act_for(&s, &topts, who, sizeof(who));
	if (check_outputs(cfg) || new_collector(&s, cfg->stage_specs, &stages))
		goto out;
	fill_machine(&s.run);
	set_budget(&s);
	s.run.argv = cfg->argv;
	sigemptyset(&mask);
	for (size_t i = 0; i < sizeof(caught) / sizeof(caught[0]); i++)
		sigaddset(&mask, caught[i]);
	sigprocmask(SIG_BLOCK, &mask, &old_mask);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	s.tracer = tracer__open(&topts, err, sizeof(err));
	if (!s.tracer) {
		die_line(err, NULL);
		goto out;
	}
	snprintf(s.run.counter_source, sizeof(s.run.counter_source), "%s",
		 tracer__counter_source(s.tracer));
	if (cfg->listen) {
		s.http = http__start(&(struct http_opts){ .listen = cfg->listen }, err, sizeof(err));
		if (!s.http) {
			esc_say(stderr, "%s", err);
			goto out;
		}
		publish(&s, 1);
	}
	rc = cfg->mode == MODE_RUN ? start_command(&s, &ls, &old_mask) : attach_pid(&s, &ls);
	if (rc) {
		code = -rc;
		goto out;
	}
	if (cfg->mode == MODE_RUN)
		catch_tstp(sfd, &mask);
	tracer__prioritize(); /* COMMAND is forked already: it keeps its own niceness */
	if (event_loop(&s, &ls, sfd)) {
		die_line("out of memory while tracing; the report would be wrong", NULL);
		goto out;
	}
	s.run.end_ts = procscan__now();
	tracer__stats(s.tracer, &s.run.stats);
	code = cfg->mode == MODE_RUN ? exit_status_of(&s, ls.status) : 0;
	if (s.rec) {
		rc = s.rec_errno ? -s.rec_errno : tracefile__close(s.rec, &s.run);
		if (s.rec_errno)
			tracefile__abort(s.rec);
		s.rec = NULL;
		if (rc) {
			esc_say(stderr, "-w %s: the recording failed: %s", cfg->record,
				strerror(-rc));
			code = code ? code : EXIT_BMTRACE;
		}
	}
	code = final_status(&s, code, write_reports(&s));
	if (s.http) {
		publish(&s, 1); /* the final values, for the last scrape */
		if (cfg->linger)
			http__linger(s.http, cfg->linger, sfd);
	}
out:
	http__stop(s.http);
	if (s.rec)
		tracefile__abort(s.rec);
	tracer__close(s.tracer);
	collector__free(s.coll);
	timeline__free(s.tl);
	stages__free(stages);
	runner__free_creds(&s.creds);
	free(s.attached_argv);
	if (sfd >= 0)
		close(sfd);
	if (ls.pidfd >= 0)
		close(ls.pidfd);
	return code;
}

static int replay(struct config *cfg)
{
	struct session s = { .cfg = cfg, .creds = { .uid = (uid_t)-1 } };
	struct tracefile_reader *r;
	struct stages *stages = NULL;
	char err[512], **recorded;
	const void *rec;
	size_t len;
	int rc, code = EXIT_BMTRACE;

	if (check_outputs(cfg))
		return EXIT_BMTRACE;
	r = tracefile__open(cfg->trace, &s.run, &recorded, err, sizeof(err));
	if (!r) {
		esc_say(stderr, "%s: %s", cfg->trace, err);
		return EXIT_BMTRACE;
	}
	set_budget(&s);
	/* the stages given now, or else those the recording was made with */
	if (new_collector(&s, cfg->n_stage_specs ? cfg->stage_specs : recorded, &stages))
		goto out;
	if (!s.run.attached &&
	    collector__add_root(s.coll, s.run.root_pid, s.run.argv, s.run.start_ts)) {
		die_line("out of memory", NULL);
		goto out;
	}
	while ((rc = tracefile__next(r, &rec, &len, &s.run, err, sizeof(err))) > 0)
		if (on_record(&s, rec, len)) {
			die_line("out of memory", NULL);
			goto out;
		}
	if (rc < 0) {
		esc_say(stderr, "%s: %s", cfg->trace, err);
		goto out;
	}
	code = final_status(&s, 0, write_reports(&s));
out:
	collector__free(s.coll);
	timeline__free(s.tl);
	stages__free(stages);
	tracefile__close_reader(r);
	return code;
}

static cJSON *load_result(const char *path)
{
	char *text = util_read_file(path, NULL);
	cJSON *doc;

	if (!text) {
		esc_say(stderr, "diff: %s: %s", path, strerror(errno));
		return NULL;
	}
	doc = cJSON_Parse(text);
	free(text);
	if (!doc)
		esc_say(stderr, "diff: %s: not JSON (a bmtrace --json result is)", path);
	return doc;
}

static int write_diff_text(FILE *f, void *ctx)
{
	return diff__text(f, ctx);
}

static int write_diff_json(FILE *f, void *ctx)
{
	char *text = diff__json(ctx);
	int rc = text && fputs(text, f) != EOF && fputc('\n', f) != EOF ? 0 : text ? -EIO : -ENOMEM;

	cJSON_free(text);
	return rc;
}

/* bmtrace diff: 0, BMT_EXIT_BUDGET when the peak grew too much, 125 on bad input. */
static int diff_files(const struct config *cfg)
{
	struct diff_opts opts = { cfg->before, cfg->after, cfg->fail_if_peak_grows,
				  cfg->max_growth_pct };
	cJSON *before = check_outputs(cfg) ? NULL : load_result(cfg->before);
	cJSON *after = before ? load_result(cfg->after) : NULL;
	struct diff *d = NULL;
	const char *out = cfg->output ? cfg->output : "-";
	char err[512];
	int code = EXIT_BMTRACE, rc;

	if (!after)
		goto out;
	d = diff__new(before, after, &opts, err, sizeof(err));
	if (!d) {
		esc_say(stderr, "diff: %s", err);
		goto out;
	}
	rc = util_write_atomic(out, cfg->diff_json ? write_diff_json : write_diff_text, d);
	if (rc) {
		esc_say(stderr, "diff: -o %s: cannot write it: %s", out, strerror(-rc));
		goto out;
	}
	code = diff__fails(d) ? BMT_EXIT_BUDGET : 0;
out:
	diff__free(d);
	cJSON_Delete(before);
	cJSON_Delete(after);
	return code;
}

/*
 * Started with 0, 1 or 2 closed, bmtrace's first descriptor (a BPF map, the ring, a report)
 * would take that number, and `--json -` or the summary would be written into it. Each
 * closed one gets /dev/null, close-on-exec, so COMMAND still finds it closed, as it would
 * without bmtrace. Stdout's is read-only: `--json -` fails (EBADF) as on a closed stdout;
 * the summary on a closed stderr just goes nowhere, as any tool's messages would.
 */
static void hold_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int nul = open("/dev/null", (fd == 1 ? O_RDONLY : O_WRONLY) | O_CLOEXEC);

		if (nul >= 0 && nul != fd) { /* a lower one was closed too and took it: move */
			dup3(nul, fd, O_CLOEXEC);
			close(nul);
		}
	}
}

int main(int argc, char **argv)
{
	struct config cfg;
	char err[512];
	int rc;

	hold_std_fds();
	rc = cli_parse(argc, argv, &cfg, stdout, err, sizeof(err));

	if (rc) {
		if (rc < 0)
			die_line(err, NULL);
		cli_free(&cfg);
		return rc < 0 ? EXIT_BMTRACE : 0;
	}
	rc = cfg.mode == MODE_SERVE  ? serve_main(&cfg) :
	     cfg.mode == MODE_REPORT ? replay(&cfg) : cfg.mode == MODE_DIFF ? diff_files(&cfg) :
							       trace(&cfg);
	cli_free(&cfg);
	return rc;
}
