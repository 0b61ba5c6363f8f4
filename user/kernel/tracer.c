// SPDX-License-Identifier: MIT
/* tracer - load, attach and drain the BPF side (see tracer.h). */
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "escape.h"
#include "kbtf.h"
#include "merge.h"
#include "privilege.h"
#include "tracer.h"
#include "bmtrace.skel.h"

/*
 * The default ring: 8 MiB, or 1 MiB per CPU where there are more than 8 (the event rate
 * grows with the CPUs faulting at once). A fault storm on one CPU writes ~16 MB/s of
 * records and the ring is drained every 50 ms, woken early at a quarter full: 8 MiB is
 * seconds of slack. Its pages are mapped twice into bmtrace (libbpf's wrap-around
 * mapping), so each MiB here is two of bmtrace's RSS.
 */
#define RING_MIN (8ull << 20)
#define RING_PER_CPU (1ull << 20)
#define RING_MAX (256ull << 20)

enum source {
	SRC_AUTO,       /* btf-percpu when its self-test passes, else tracepoint */
	SRC_BTF,        /* rss_stat_exact alone (bpf/bmtrace.bpf.c) */
	SRC_TRACEPOINT, /* the classic tracepoint paired with the BTF one */
};

static const char *const source_names[] = {
	[SRC_BTF] = "btf-percpu",
	[SRC_TRACEPOINT] = "tracepoint",
};

struct tracer {
	struct bmtrace *skel;
	struct kbtf_choice kernel; /* what this kernel runs (read_kernel) */
	struct ring_buffer *rb;
	struct merge *merge;              /* the ring's records, in order, to fn */
	const struct bmt_cpu_run *runs;   /* each CPU's run, mapped from the BPF side */
	size_t runs_len;
	int n_runs;
	tracer_record_fn fn;
	void *ctx;
	int stop;
	bool no_runs; /* BMTRACE_RUNS=off */
	struct bpf_link *check_link; /* the self-test's, detached at the first drain */
	enum source source;
};

static int verbose;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (!verbose)
		return 0; /* failures become bmtrace's own one-line errors; -v shows libbpf's */
	return vfprintf(stderr, fmt, args);
}

#define TRACEFS "/sys/kernel/tracing"
#define RSS_STAT "/events/kmem/rss_stat"

/*
 * Can this process reach the rss_stat tracepoint in tracefs, where libbpf reads its id?
 * 0 yes; -EACCES tracefs is mounted but closed to it (mode 0700 root, and it is not uid 0
 * nor has CAP_DAC_READ_SEARCH); -ENOENT mounted without the tracepoint; -ENODEV not mounted.
 * Checked with the effective ids and capabilities (AT_EACCESS), as the open will be.
 */
static int tracefs_state(void)
{
	struct statfs st;

	if (!statfs(TRACEFS, &st) && st.f_type == TRACEFS_MAGIC) {
		if (!faccessat(AT_FDCWD, TRACEFS RSS_STAT, F_OK, AT_EACCESS))
			return 0;
		return errno == EACCES ? -EACCES : -ENOENT;
	}
	/* kernels that only have it under debugfs */
	if (!faccessat(AT_FDCWD, "/sys/kernel/debug/tracing" RSS_STAT, F_OK, AT_EACCESS))
		return 0;
	return -ENODEV;
}

/* The BPF side's per-CPU runs, mapped read-only. */
static int map_runs(struct tracer *t, char *err, size_t errlen)
{
	long page = sysconf(_SC_PAGESIZE);
	void *p;

	t->runs_len = ((size_t)t->n_runs * sizeof(*t->runs) + page - 1) / page * page;
	p = mmap(NULL, t->runs_len, PROT_READ, MAP_SHARED, bpf_map__fd(t->skel->maps.runs), 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot map the per-CPU runs: %s", strerror(errno));
		t->runs_len = 0;
		return -errno;
	}
	t->runs = p;
	return 0;
}

/* Every capability tracing needs and this process lacks, named in one line (privilege.h). */
static int check_privileges(const struct tracer_opts *o, char *err, size_t errlen)
{
	struct privilege_need need = { o->user, o->switch_user, o->give_files, !!o->serve,
				       tracefs_state(), geteuid() };

	return privilege__check(privilege__effective(), &need, err, errlen);
}

/* libbpf finds classic tracepoints' ids in tracefs: mount it when nobody has. */
static int ensure_tracefs(char *err, size_t errlen)
{
	if (!tracefs_state())
		return 0;
	if (access(TRACEFS, F_OK) == 0 && mount("nodev", TRACEFS, "tracefs", 0, NULL) &&
	    errno != EBUSY) {
		snprintf(err, errlen, "cannot mount tracefs on " TRACEFS ": %s", strerror(errno));
		return -errno;
	}
	if (!tracefs_state())
		return 0;
	snprintf(err, errlen,
		 "this kernel has no kmem:rss_stat tracepoint (needs Linux 6.2+ with "
		 "CONFIG_TRACEPOINTS and CONFIG_BPF_EVENTS)");
	return -ENOENT;
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct tracer *t = ctx;

	return merge__push(t->merge, data, len) == -ENOMEM ? -ENOMEM : 0;
}

static int on_merged(void *ctx, const void *rec, size_t len)
{
	struct tracer *t = ctx;

	return t->fn(t->ctx, rec, len);
}

static uint64_t ring_size(uint64_t want)
{
	uint64_t page = sysconf(_SC_PAGESIZE), size = page;

	if (!want) {
		int ncpu = libbpf_num_possible_cpus();

		want = ncpu > 0 ? ncpu * RING_PER_CPU : RING_MIN;
		want = want < RING_MIN ? RING_MIN : want > RING_MAX ? RING_MAX : want;
	}
	while (size < want)
		size <<= 1;
	return size;
}

static int fill_serve_maps(struct tracer *t, const struct tracer_serve *sv, char *err,
			   size_t errlen)
{
	__u32 one = 1;

	for (size_t i = 0; i < sv->n_roots; i++) {
		char comm[BMT_COMM_LEN] = {};

		/* the kernel keeps 15 characters of a program's name */
		strncpy(comm, sv->roots[i], sizeof(comm) - 1);
		if (bpf_map__update_elem(t->skel->maps.roots, comm, sizeof(comm), &one, sizeof(one),
					 BPF_ANY))
			goto fail;
	}
	for (size_t i = 0; i < sv->n_cg_parents; i++)
		if (bpf_map__update_elem(t->skel->maps.cg_parents, &sv->cg_parents[i],
					 sizeof(sv->cg_parents[i]), &one, sizeof(one), BPF_ANY))
			goto fail;
	return 0;
fail:
	snprintf(err, errlen, "cannot set up the trees to follow: %s", strerror(errno));
	return -errno;
}

int tracer__new_cgroup_tree(struct tracer *t, uint64_t cgid, uint32_t *tree)
{
	struct bmt_tree_state ts = { .cgroup_id = cgid };
	struct bmtrace__bss *bss = t->skel->bss;
	uint32_t id;

	if (bpf_map__lookup_elem(t->skel->maps.cg_trees, &cgid, sizeof(cgid), tree,
				 sizeof(*tree), 0) == 0)
		return -EEXIST;
	if (__atomic_load_n(&bss->live_trees, __ATOMIC_RELAXED) >=
	    t->skel->rodata->max_trees) {
		__atomic_add_fetch(&bss->trees_dropped, 1, __ATOMIC_RELAXED);
		return -ENOSPC;
	}
	/* the same counter the kernel hands ids from, in the mapped .bss: never a clash */
	id = __atomic_add_fetch(&bss->next_tree, 1, __ATOMIC_SEQ_CST);
	if (bpf_map__update_elem(t->skel->maps.trees, &id, sizeof(id), &ts, sizeof(ts),
				 BPF_NOEXIST))
		return -errno;
	if (bpf_map__update_elem(t->skel->maps.cg_trees, &cgid, sizeof(cgid), &id, sizeof(id),
				 BPF_NOEXIST)) {
		int e = errno;

		bpf_map__delete_elem(t->skel->maps.trees, &id, sizeof(id), 0);
		if (e == EEXIST && !bpf_map__lookup_elem(t->skel->maps.cg_trees, &cgid,
							 sizeof(cgid), tree, sizeof(*tree), 0))
			return -EEXIST;
		return -e;
	}
	__atomic_add_fetch(&bss->live_trees, 1, __ATOMIC_SEQ_CST);
	*tree = id;
	return 0;
}

uint32_t tracer__thread_batch(const struct tracer *t)
{
	return t->kernel.thread_batch;
}

uint64_t tracer__trees_dropped(const struct tracer *t)
{
	return t->skel->bss->trees_dropped;
}

/*
 * What this kernel has (kbtf.h), into t->kernel for load(): which program variants it runs.
 * One line in err when it lacks a tracepoint bmtrace needs.
 */
static int read_kernel(struct tracer *t, const struct tracer_opts *opts, char *err,
		       size_t errlen)
{
	struct kbtf *k = kbtf__open(NULL);
	int rc;

	if (!k) {
		snprintf(err, errlen, "cannot read the kernel's BTF: %s", strerror(errno));
		return -1;
	}
	rc = kbtf__choose(k, opts->serve != NULL, &t->kernel, err, errlen);
	kbtf__close(k);
	if (!rc && verbose)
		fprintf(stderr, "bmtrace: sched_process_exit %s group_dead; threads batch %u faults\n",
			t->kernel.exit_has_group_dead ? "passes" : "does not pass",
			t->kernel.thread_batch);
	return rc;
}

/* BMTRACE_COUNTER_SOURCE (README, "Development"): force a source, for tests. */
static int source_wanted(enum source *src, char *err, size_t errlen)
{
	const char *v = getenv("BMTRACE_COUNTER_SOURCE");

	*src = SRC_AUTO;
	if (!v || !*v)
		return 0;
	for (enum source i = SRC_BTF; i <= SRC_TRACEPOINT; i++)
		if (!strcmp(v, source_names[i])) {
			*src = i;
			return 0;
		}
	snprintf(err, errlen, "BMTRACE_COUNTER_SOURCE is btf-percpu or tracepoint, not '%s'", v);
	return -EINVAL;
}

/*
 * BMTRACE_RUNS=off (docs/DEVELOPMENT.md): a record per rss event, no runs, for the tests that
 * compare the two sources value for value.
 */
static int runs_wanted(struct tracer *t, char *err, size_t errlen)
{
	const char *v = getenv("BMTRACE_RUNS");

	t->no_runs = v && !strcmp(v, "off");
	if (!v || !*v || t->no_runs || !strcmp(v, "on"))
		return 0;
	snprintf(err, errlen, "BMTRACE_RUNS is on or off, not '%s'", v);
	return -EINVAL;
}

/*
 * The possible CPUs, when they are 0..N-1 (N <= BMT_PC_MAX_CPUS): the CPUs btf-percpu sums.
 * 0 otherwise (a hole in the mask, or more CPUs than it reads), with the reason in why.
 */
static int possible_cpus(char *why, size_t len)
{
	char buf[64] = "", *end = buf;
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	unsigned long last = 0;

	if (f) {
		if (!fgets(buf, sizeof(buf), f))
			buf[0] = 0;
		fclose(f);
	}
	if (!strcmp(buf, "0\n"))
		return 1;
	if (!strncmp(buf, "0-", 2))
		last = strtoul(buf + 2, &end, 10);
	if (end == buf || end == buf + 2 || *end != '\n') {
		snprintf(why, len, "the possible CPUs are not 0..N-1 (%.*s)", (int)strcspn(buf, "\n"),
			 buf);
		return 0;
	}
	if (last + 1 > BMT_PC_MAX_CPUS) {
		snprintf(why, len, "%lu possible CPUs, more than the %d it reads", last + 1,
			 BMT_PC_MAX_CPUS);
		return 0;
	}
	return (int)last + 1;
}

/* Open and load the BPF object for source src (SRC_BTF or SRC_TRACEPOINT). */
static int load(struct tracer *t, const struct tracer_opts *opts, enum source src, int ncpu,
		char *err, size_t errlen)
{
	struct bmtrace *sk = bmtrace__open();
	int btf = src == SRC_BTF, rc;

	t->skel = sk;
	if (!sk) {
		snprintf(err, errlen, "cannot open the BPF object: %s", strerror(errno));
		return -errno;
	}
	sk->rodata->wakeup_bytes = ring_size(opts->ring_bytes) / 4;
	sk->rodata->nr_cpus = ncpu;
	sk->rodata->no_runs = t->no_runs;
	sk->rodata->page_shift = __builtin_ctzl(sysconf(_SC_PAGESIZE));
	sk->rodata->exit_has_group_dead = t->kernel.exit_has_group_dead;
	if (opts->serve) {
		sk->rodata->targ_serve = true;
		sk->rodata->max_trees = opts->serve->max_trees;
	} else {
		bpf_program__set_autoload(sk->progs.cgroup_attach_task, false);
	}
	bpf_program__set_autoload(sk->progs.rss_stat_exact, btf);
	bpf_program__set_autoload(sk->progs.rss_stat_check, btf);
	bpf_program__set_autoattach(sk->progs.rss_stat_check, false);
	bpf_program__set_autoload(sk->progs.rss_stat_btf, !btf);
	bpf_program__set_autoload(sk->progs.rss_stat_tp, !btf);
	/* the OOM killer's victims: one of two programs, as the kernel passes them */
	bpf_program__set_autoload(t->kernel.mark_victim_task ? sk->progs.mark_victim_tp
							 : sk->progs.mark_victim,
				  false);
	bpf_map__set_max_entries(sk->maps.rb, ring_size(opts->ring_bytes));
	t->n_runs = libbpf_num_possible_cpus();
	if (t->n_runs < 1) {
		snprintf(err, errlen, "cannot count the possible CPUs: %s", strerror(-t->n_runs));
		return t->n_runs;
	}
	bpf_map__set_max_entries(sk->maps.runs, t->n_runs);
	if (opts->max_procs) {
		bpf_map__set_max_entries(sk->maps.procs, opts->max_procs);
		bpf_map__set_max_entries(sk->maps.mms, opts->max_procs);
	}
	rc = bmtrace__load(sk);
	if (rc)
		snprintf(err, errlen,
			 "the kernel refused bmtrace's BPF programs (%s); rerun with -v for the "
			 "verifier's log",
			 strerror(-rc));
	return rc;
}

#define CHECK_PAGES 64

/*
 * Detaching the self-test's program from the classic tracepoint waits for an RCU grace
 * period in the kernel (tracepoint_synchronize_unregister: 83 ms measured with strace).
 * COMMAND need not wait for it: the program does nothing any more (check_tgid is 0) and is
 * detached at the first drain, once COMMAND runs. Not on a thread: a thread makes glibc set
 * a handler for its SIGSETXID, and COMMAND would not inherit that signal ignored.
 */
static void detach_check(struct tracer *t)
{
	bpf_link__destroy(t->check_link);
	t->check_link = NULL;
}

/*
 * btf-percpu's self-test: with rss_stat_check on the classic tracepoint, fault in and free
 * CHECK_PAGES pages of our own; every value the BTF path computes (cache included) must be
 * the kernel's. 0, or -1 with the reason in why.
 */
static int self_test(struct tracer *t, char *why, size_t len)
{
	struct bmtrace__bss *bss = t->skel->bss;
	long page = sysconf(_SC_PAGESIZE);
	struct bpf_link *link;
	uint64_t equal, differ, fast, run_equal, run_differ;
	char *mem;

	bss->check_tgid = getpid();
	link = bpf_program__attach(t->skel->progs.rss_stat_check);
	if (!link) {
		snprintf(why, len, "its self-test cannot attach to kmem:rss_stat: %s",
			 strerror(errno));
		return -1;
	}
	mem = mmap(NULL, CHECK_PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (mem != MAP_FAILED) {
		for (int i = 0; i < CHECK_PAGES; i++)
			((volatile char *)mem)[i * page] = 1;
		munmap(mem, CHECK_PAGES * page);
	}
	__atomic_store_n(&bss->check_tgid, 0, __ATOMIC_SEQ_CST); /* it counts no more */
	t->check_link = link;
	equal = __atomic_load_n(&bss->check_equal, __ATOMIC_SEQ_CST);
	differ = __atomic_load_n(&bss->check_differ, __ATOMIC_SEQ_CST);
	fast = __atomic_load_n(&bss->check_fast, __ATOMIC_SEQ_CST);
	run_equal = __atomic_load_n(&bss->check_run_equal, __ATOMIC_SEQ_CST);
	run_differ = __atomic_load_n(&bss->check_run_differ, __ATOMIC_SEQ_CST);
	if (bss->check_layout == 2)
		snprintf(why, len, "this kernel's mm_struct.rss_stat is not an array of percpu_counter");
	else if (!bss->cpu_off_ready)
		snprintf(why, len, "the per-CPU offsets were not found");
	else if (differ)
		snprintf(why, len, "its self-test: %" PRIu64 " of %" PRIu64
			 " values differed from the kernel's", differ, differ + equal);
	else if (run_differ)
		snprintf(why, len, "its self-test: %" PRIu64 " of %" PRIu64
			 " values read as a run differed from the kernel's", run_differ,
			 run_differ + run_equal);
	else if (equal < CHECK_PAGES || run_equal < CHECK_PAGES / 2)
		snprintf(why, len, "its self-test saw %" PRIu64 " of %d page faults (%" PRIu64
			 " read as a run)", equal, CHECK_PAGES, run_equal);
	else
		snprintf(why, len, "self-test: %" PRIu64 " values equal to the kernel's, %" PRIu64
			 " of them from the per-counter cache, and %" PRIu64 " read as a run",
			 equal, fast, run_equal);
	return bss->check_layout == 1 && bss->cpu_off_ready && !differ && !run_differ &&
		       equal >= CHECK_PAGES && run_equal >= CHECK_PAGES / 2 ?
		       0 : -1;
}

/*
 * Load the counter source wanted: btf-percpu when it loads and passes its self-test (or is
 * forced), else the classic tracepoint. -v says which, and why.
 */
static int load_source(struct tracer *t, const struct tracer_opts *opts, char *err,
		       size_t errlen)
{
	char why[256] = "BMTRACE_COUNTER_SOURCE=tracepoint";
	int ncpu = libbpf_num_possible_cpus();
	enum source want;

	if (source_wanted(&want, err, errlen))
		return -EINVAL;
	t->source = SRC_TRACEPOINT;
	if (want != SRC_TRACEPOINT && possible_cpus(why, sizeof(why)) == ncpu) {
		if (load(t, opts, SRC_BTF, ncpu, why, sizeof(why)) == 0 &&
		    self_test(t, why, sizeof(why)) == 0)
			t->source = SRC_BTF;
		if (t->source != SRC_BTF) {
			detach_check(t);
			bmtrace__destroy(t->skel);
			t->skel = NULL;
		}
	}
	if (want == SRC_BTF && t->source != SRC_BTF) {
		snprintf(err, errlen, "BMTRACE_COUNTER_SOURCE=btf-percpu, but the BTF path cannot "
			 "be used: %s", why);
		return -ENOTSUP;
	}
	if (verbose)
		esc_say(stderr, "counter source: %s (%s)", source_names[t->source], why);
	return t->source == SRC_BTF ? 0 : load(t, opts, SRC_TRACEPOINT, ncpu, err, errlen);
}

struct tracer *tracer__open(const struct tracer_opts *opts, char *err, size_t errlen)
{
	struct tracer *t = calloc(1, sizeof(*t));
	int rc;

	if (!t) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	verbose = opts->verbose;
	libbpf_set_print(print_libbpf);
	t->fn = opts->fn;
	t->ctx = opts->ctx;
	if (check_privileges(opts, err, errlen))
		goto fail;
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(err, errlen,
			 "this kernel exposes no BTF (/sys/kernel/btf/vmlinux): bmtrace needs a "
			 "kernel built with CONFIG_DEBUG_INFO_BTF=y");
		goto fail;
	}
	if (runs_wanted(t, err, errlen) || read_kernel(t, opts, err, errlen) ||
	    ensure_tracefs(err, errlen) ||
	    load_source(t, opts, err, errlen))
		goto fail;
	if (opts->serve && fill_serve_maps(t, opts->serve, err, errlen))
		goto fail;
	rc = bmtrace__attach(t->skel);
	if (rc) {
		snprintf(err, errlen,
			 "cannot attach to the sched/rss_stat tracepoints (%s); rerun with -v for "
			 "details",
			 strerror(-rc));
		goto fail;
	}
	t->rb = ring_buffer__new(bpf_map__fd(t->skel->maps.rb), on_record, t, NULL);
	if (!t->rb) {
		snprintf(err, errlen, "cannot map the ring buffer: %s", strerror(errno));
		goto fail;
	}
	t->merge = merge__new(on_merged, t);
	if (!t->merge) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (map_runs(t, err, errlen))
		goto fail;
	return t;
fail:
	tracer__close(t);
	return NULL;
}

const char *tracer__counter_source(const struct tracer *t)
{
	return source_names[t->source];
}

int tracer__add_pid(struct tracer *t, uint32_t pid, uint32_t flags, uint32_t tree)
{
	struct bmt_proc v = { .flags = flags, .tree = tree };
	struct bmt_tree_state ts;

	if (flags & BMT_PROC_ADOPTED) /* before it is in procs: its first event must find it */
		__atomic_store_n(&t->skel->bss->adopting, 1, __ATOMIC_SEQ_CST);
	if (bpf_map__update_elem(t->skel->maps.procs, &pid, sizeof(pid), &v, sizeof(v),
				 BPF_NOEXIST))
		return -errno;
	/*
	 * Count it in its tree, as a traced fork would have, so the tree lives until it exits.
	 * Not atomic against the kernel's own counting of the same tree: a fork or exit in it
	 * right now may be lost from the count, which only decides when --max-trees frees a
	 * place (the tree's report comes from its processes).
	 */
	if (tree && !bpf_map__lookup_elem(t->skel->maps.trees, &tree, sizeof(tree), &ts,
					  sizeof(ts), 0)) {
		ts.nr_procs++;
		bpf_map__update_elem(t->skel->maps.trees, &tree, sizeof(tree), &ts, sizeof(ts),
				     BPF_EXIST);
	}
	return 0;
}

void tracer__prioritize(void)
{
	if (setpriority(PRIO_PROCESS, 0, -20) && verbose)
		esc_say(stderr, "cannot raise the reader's priority: %s", strerror(errno));
}

int tracer__fd(const struct tracer *t)
{
	return ring_buffer__epoll_fd(t->rb);
}

/*
 * Each CPU's open run, read between two equal even values of its seq (bmtrace.h), to the
 * merge: the values that no record carries yet.
 */
static int read_runs(struct tracer *t)
{
	for (int cpu = 0; cpu < t->n_runs; cpu++) {
		const struct bmt_cpu_run *r = &t->runs[cpu];
		struct bmt_cpu_run copy;
		int ok = 0, rc;

		for (int tries = 0; tries < 1000 && !ok; tries++) {
			uint32_t seq = __atomic_load_n(&r->seq, __ATOMIC_ACQUIRE);

			if (seq & 1)
				continue; /* being written: a few instructions */
			memcpy(&copy, (const void *)r, sizeof(copy));
			__atomic_thread_fence(__ATOMIC_ACQUIRE);
			ok = __atomic_load_n(&r->seq, __ATOMIC_RELAXED) == seq;
		}
		rc = ok ? merge__run(t->merge, cpu, &copy) : 0;
		if (rc)
			return rc;
	}
	return 0;
}

static int drain(struct tracer *t, bool final)
{
	long n;
	int rc;

	if (t->check_link)
		detach_check(t);
	/* the runs first: a run that ends after it was read has its record in the ring by then */
	rc = read_runs(t);
	if (rc)
		return rc;
	rc = ring_buffer__consume(t->rb);
	if (rc < 0)
		return rc;
	n = merge__flush(t->merge, final);
	return n < 0 ? (int)n : (int)(n > INT32_MAX ? INT32_MAX : n);
}

int tracer__drain(struct tracer *t)
{
	return drain(t, false);
}

int tracer__drain_last(struct tracer *t)
{
	return drain(t, true);
}

/* The stats map summed over CPUs; zero when it cannot be read. */
static void stats_sum(const struct tracer *t, struct bmt_stats_val *out)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bmt_stats_val *per;
	__u32 zero = 0;

	memset(out, 0, sizeof(*out));
	if (ncpu <= 0)
		return;
	per = calloc(ncpu, sizeof(*per));
	if (!per)
		return;
	if (!bpf_map__lookup_elem(t->skel->maps.stats, &zero, sizeof(zero), per,
				  sizeof(*per) * ncpu, 0)) {
		for (int i = 0; i < ncpu; i++) {
			out->s.events += per[i].s.events;
			out->s.lost += per[i].s.lost;
			out->s.unpaired += per[i].s.unpaired;
			out->s.procs_full += per[i].s.procs_full;
			out->s.mms_full += per[i].s.mms_full;
			for (int p = 0; p < 3; p++)
				out->pc_path[p] += per[i].pc_path[p];
			out->in_run += per[i].in_run;
			out->records += per[i].records;
		}
	}
	free(per);
}

void tracer__stats(const struct tracer *t, struct bmt_stats *out)
{
	struct bmt_stats_val v;

	stats_sum(t, &v);
	*out = v.s;
}

/*
 * -v, at the end: how btf-percpu read its counters, and with kernel.bpf_stats_enabled=1 the
 * run time of every attached program per rss event (what `make bench` reports).
 */
static void say_costs(const struct tracer *t)
{
	uint64_t ns = 0, runs = 0, fast, full, moved;
	struct bmt_stats_val v;
	struct bpf_program *p;

	stats_sum(t, &v);
	fast = v.pc_path[BMT_PC_FAST];
	full = v.pc_path[BMT_PC_FULL];
	moved = v.pc_path[BMT_PC_MOVED];
	if (t->source == SRC_BTF)
		esc_say(stderr, "btf-percpu reads: %" PRIu64 " from the cache, %" PRIu64
			" full sums, %" PRIu64 " snapshots of a moving counter", fast, full, moved);
	esc_say(stderr, "%" PRIu64 " rss events, %" PRIu64 " of them within runs; %" PRIu64
		" records, %" PRIu64 " of them opening a phase; merge: %" PRIu64 " refused, %" PRIu64
		" phases given up",
		(uint64_t)v.s.events, (uint64_t)v.in_run, (uint64_t)v.records,
		merge__phases(t->merge), merge__bad(t->merge), merge__gaps(t->merge));
	bpf_object__for_each_program(p, t->skel->obj) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (p == t->skel->progs.rss_stat_check || bpf_program__fd(p) < 0 ||
		    bpf_obj_get_info_by_fd(bpf_program__fd(p), &info, &len))
			continue;
		ns += info.run_time_ns;
		runs += info.run_cnt;
	}
	if (runs && v.s.events)
		esc_say(stderr, "BPF run time: %" PRIu64 " ns in %" PRIu64 " runs, %.1f ns per "
			"rss event (%" PRIu64 " events)", ns, runs, (double)ns / v.s.events,
			(uint64_t)v.s.events);
}

void tracer__close(struct tracer *t)
{
	if (!t)
		return;
	if (verbose && t->rb)
		say_costs(t);
	ring_buffer__free(t->rb);
	merge__free(t->merge);
	detach_check(t);
	if (t->runs_len)
		munmap((void *)t->runs, t->runs_len);
	bmtrace__destroy(t->skel);
	free(t);
}
