// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * bmtrace.bpf.c - follow a process tree and stream every RSS counter change
 * of its address spaces.
 *
 * The counters come from one of two sources, chosen at start-up (user/kernel/tracer.c):
 *   btf-percpu  only the BTF raw tracepoint, rss_stat_exact: it has the mm pointer and reads
 *               the counter's exact value itself, in O(1) loads for the common event
 *               (pcpu_sum.h). The per-CPU offsets it needs are found once by the self-test
 *               program, rss_stat_check, which also compares its values with the kernel's.
 *   tracepoint  the fallback: the classic tracepoint (exact value, but only a hashed mm_id)
 *               paired with the BTF one (the mm pointer). Both run back to back on one CPU
 *               with preemption off, so a per-CPU slot pairs them: whichever runs first
 *               stashes its half, the second completes the event. Halves that find no
 *               partner are counted. The kernel sums every CPU's slot under the counter's
 *               lock and builds the classic record on every change: the cost of this path.
 *
 * Tree membership is decided here, at fork, before the child can run: only
 * processes in `procs` and address spaces in `mms` produce records. Anything
 * else costs two lookups.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "bmtrace.h"
/* possible CPUs (the loaded object's constant): the counters' slots */
const volatile __u32 nr_cpus = 1;
#define BMT_PC_SUM_ALL __noinline
/* nr_cpus is a constant the verifier knows (const volatile: set before the load) */
#define BMT_PC_NCPU(ncpu) ((ncpu) < nr_cpus ? (ncpu) : nr_cpus)
#include "pcpu_sum.h"

/* The loads pcpu_sum.h reads a counter with: direct, through bpf_rdonly_cast. */
struct bmt_pc_src {
	__u64 fbc;   /* struct percpu_counter * */
	__u64 slots; /* its counters: the per-CPU pointer, before a CPU's offset is added */
};

/*
 * Weak: a kernel without this kfunc (6.1) must still load the object, so that the classic
 * tracepoint, which never calls it, can be the source there (libbpf refuses the whole object
 * over a strong ksym it cannot find; the btf-percpu programs then fail alone).
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

/*
 * The per-CPU offsets (the kernel's __per_cpu_offset[]), found once by rss_stat_check. The
 * BTF has no __percpu tags and the per-CPU symbols are not exported without
 * CONFIG_KALLSYMS_ALL, so bpf_per_cpu_ptr cannot be used: see find_cpu_offsets.
 */
__u64 cpu_off[BMT_PC_MAX_CPUS];
__u32 cpu_off_ready;
/* BMTRACE_RUNS=off (tests, docs/DEVELOPMENT.md): a record per event, no runs */
const volatile bool no_runs = false;
const volatile __u32 page_shift = 12;

static __always_inline __s64 bmt_pc_count(const struct bmt_pc_src *s)
{
	const struct percpu_counter *fbc =
		bpf_rdonly_cast((void *)s->fbc, bpf_core_type_id_kernel(struct percpu_counter));

	return fbc->count;
}

static __always_inline int bmt_pc_locked(const struct bmt_pc_src *s)
{
	const struct percpu_counter *fbc =
		bpf_rdonly_cast((void *)s->fbc, bpf_core_type_id_kernel(struct percpu_counter));

	return fbc->lock.raw_lock.val.counter != 0; /* held, or wanted: a flush under way */
}

static __always_inline __s32 bmt_pc_slot(const struct bmt_pc_src *s, __u32 cpu)
{
	/* the kfunc wants a named struct: refcount_struct is one s32 */
	const struct refcount_struct *slot =
		bpf_rdonly_cast((void *)(s->slots + cpu_off[cpu & (BMT_PC_MAX_CPUS - 1)]),
				bpf_core_type_id_kernel(struct refcount_struct));

	return slot->refs.counter;
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";

/* Force a wake-up when this much data waits in the ring; otherwise userspace drains on a timer. */
const volatile __u64 wakeup_bytes = 1 << 20;

#define MM_PENDING 0x1 /* met while being built (fork copy, exec); no process bound yet */

struct mm_state {
	__u32 key;
	__u32 nr_procs; /* traced processes using it */
	__u32 creator; /* tgid whose context met it first, for MM_PENDING */
	__u32 flags;
	__s64 bytes[BMT_NR_MEMBERS];
	__u64 addr; /* the mm_struct's address as a number (the verifier keeps the key a pointer) */
	struct bmt_pc_cache pc[BMT_NR_MEMBERS]; /* btf-percpu: each counter's cache */
	/*
	 * CPU + 1 that last ran a counter (0: none since bytes[] was last written): bytes[] then
	 * lags that run's last value, and the run may still be open.
	 */
	__u16 run_cpu[BMT_NR_MEMBERS];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BMT_MAX_PROCS);
	__type(key, __u32);
	__type(value, struct bmt_proc);
} procs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BMT_MAX_PROCS);
	__type(key, __u64);
	__type(value, struct mm_state);
} mms SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 32 << 20);
} rb SEC(".maps");

/* Each CPU's run (bmtrace.h); userspace sizes it to the possible CPUs and maps it. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bmt_cpu_run);
} runs SEC(".maps");

/*
 * The current phase (bmtrace.h): read by every event of a run, written once per phase. A
 * section of its own, so that no other variable's writes share its cache line. Even: a
 * phase of increases (runs start only in these); odd: a phase of decreases.
 */
__u64 phase_now SEC(".data.phase") = 0;

enum { PHASE_UP, PHASE_DOWN, PHASE_KEEP }; /* what an opening record wants of its phase */

#define HAVE_BTF 0x1
#define HAVE_TP 0x2

struct pair_slot {
	__u64 mm;
	__s64 bytes;
	__s32 member;
	__u32 have;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pair_slot);
} pair SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bmt_stats_val);
} stats SEC(".maps");

#define EXEC_REC_MAX (sizeof(struct bmt_exec) + BMT_FILENAME_MAX + BMT_ARGV_MAX)


__u32 next_key; /* last mm key handed out */
/* 1 once a process was adopted (-p, serve): its mm is bound at its first event */
__u32 adopting;

static const __u32 zero;

static __always_inline struct bmt_stats_val *stats_val(void)
{
	return bpf_map_lookup_elem(&stats, &zero);
}

static __always_inline struct bmt_stats *stat(void)
{
	struct bmt_stats_val *v = stats_val();

	return v ? &v->s : NULL;
}

#define STAT_INC(field)                                                                            \
	do {                                                                                       \
		struct bmt_stats *__s = stat();                                                    \
		if (__s)                                                                           \
			__s->field++;                                                              \
	} while (0)

/*
 * Records go without a wake-up; userspace drains on a timer, or when the ring is filling up.
 * The fill level is read every 64th record of a CPU only: it shares cache lines with the
 * reader and the other CPUs, and reading it on every record made a tree of processes
 * faulting on two CPUs 25% slower (deeptree 300 4 1: 1.06 s -> 0.79 s, 8 A/B pairs).
 */
static __always_inline __u64 wake_flags(void)
{
	struct bmt_stats_val *sv = stats_val();

	if (sv && (sv->records & 63))
		return BPF_RB_NO_WAKEUP;
	return bpf_ringbuf_query(&rb, BPF_RB_AVAIL_DATA) >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP :
									  BPF_RB_NO_WAKEUP;
}

/* Room for a record of size bytes after its struct bmt_wire; the record's header filled in. */
static __always_inline void *reserve(__u32 size, __u16 type, __u64 ts)
{
	struct bmt_wire *w = bpf_ringbuf_reserve(&rb, sizeof(*w) + size, 0);
	struct bmt_stats_val *sv = stats_val();
	struct bmt_hdr *h;

	if (!w) {
		if (sv)
			sv->s.lost++;
		return NULL;
	}
	if (sv)
		sv->records++;
	h = (void *)(w + 1);
	h->type = type;
	h->flags = 0;
	h->size = size;
	h->ts = ts;
	return h;
}

struct phase_try {
	__u64 old, next;
	int dir;
};

/* One compare-and-swap of phase_now to the next number of the wanted parity. */
static long phase_try(__u32 i, void *ctx)
{
	struct phase_try *t = ctx;
	__u64 want = t->dir == PHASE_KEEP ? t->old & 1 : (__u64)t->dir, next, seen;

	next = t->old + ((t->old & 1) == want ? 2 : 1);
	seen = __sync_val_compare_and_swap(&phase_now, t->old, next);
	if (seen == t->old) {
		t->next = next;
		return 1;
	}
	t->old = seen; /* another CPU's phase came first: try from it */
	return 0;
}

/*
 * The next phase, of kind dir: its number << 2 | how far it is from the one before (1 or 2);
 * 0 when 4096 other CPUs' phases came first. A global function, with bpf_loop: the verifier
 * checks it once.
 */
__noinline __u64 take_phase(int dir)
{
	struct phase_try t = { phase_now, 0, dir };

	bpf_loop(4096, phase_try, &t, 0);
	return t.next ? t.next << 2 | (t.next - t.old) : 0;
}

/*
 * Send a reserved record as the first of a new phase (dir: PHASE_UP, PHASE_DOWN, or
 * PHASE_KEEP the current one's kind): every CPU's run ends at its next event. phase_now
 * moves to the next number of the wanted parity, by 1 or 2, which the record carries (in
 * run) so that userspace chains the phases; the phase is taken after the reservation
 * succeeded, so every phase has its record and userspace can wait for one still being
 * written.
 */
static __always_inline void submit_opens(void *rec, int dir)
{
	struct bmt_wire *w = (struct bmt_wire *)rec - 1;
	__u64 taken = take_phase(dir); /* a global function: verified once, not per caller */

	if (!taken) { /* 4096 other CPUs' phases in between: give up, counted */
		bpf_ringbuf_discard(w, 0);
		STAT_INC(lost);
		return;
	}
	w->kind = BMT_WIRE_OPENS;
	w->cpu = 0;
	w->run = taken & 3;
	w->phase = taken >> 2;
	bpf_ringbuf_submit(w, wake_flags());
}

/* Send a reserved record within phase: an increase (kind BMT_WIRE_IN or BMT_WIRE_RUN). */
static __always_inline void submit_in(void *rec, __u16 kind, __u32 cpu, __u32 run, __u64 phase)
{
	struct bmt_wire *w = (struct bmt_wire *)rec - 1;

	w->kind = kind;
	w->cpu = cpu;
	w->run = run;
	w->phase = phase;
	bpf_ringbuf_submit(w, wake_flags());
}

static __always_inline __u32 current_tgid(void)
{
	return bpf_get_current_pid_tgid() >> 32;
}

static __always_inline struct mm_state *register_mm(__u64 mm, __u32 creator, __u32 flags)
{
	struct mm_state fresh = {
		.key = __sync_fetch_and_add(&next_key, 1) + 1,
		.creator = creator,
		.flags = flags,
		.addr = mm,
	};

	if (bpf_map_update_elem(&mms, &mm, &fresh, BPF_ANY)) {
		STAT_INC(mms_full);
		return NULL;
	}
	return bpf_map_lookup_elem(&mms, &mm);
}

static __always_inline int all_zero(const struct mm_state *m)
{
	return !m->bytes[0] && !m->bytes[1] && !m->bytes[2] && !m->bytes[3];
}

/* A process stopped using mm: forget it once nobody traced uses it and its pages are gone. */
static __always_inline void release_mm(__u64 mm)
{
	struct mm_state *m = mm ? bpf_map_lookup_elem(&mms, &mm) : NULL;

	if (!m)
		return;
	if (m->nr_procs)
		m->nr_procs--;
	if (!m->nr_procs && all_zero(m))
		bpf_map_delete_elem(&mms, &mm);
}

/*
 * Make mm the address space of traced process tgid; returns its state. A pending mm built by
 * this process (exec) is claimed; any other unknown or stale entry gets a fresh key.
 */
static __always_inline struct mm_state *bind_mm(__u32 tgid, struct bmt_proc *p, __u64 mm,
						__u64 ts)
{
	struct mm_state *m = bpf_map_lookup_elem(&mms, &mm);
	struct bmt_mm *r;

	if (p->mm == mm && m)
		return m;
	if (!m || (m->flags & MM_PENDING && m->creator != tgid) ||
	    (!(m->flags & MM_PENDING) && !m->nr_procs))
		m = register_mm(mm, tgid, 0);
	if (!m)
		return NULL;
	m->flags &= ~MM_PENDING;
	m->nr_procs++;
	if (p->mm != mm) /* its entry was lost: the fresh one is this very mm's */
		release_mm(p->mm);
	p->mm = mm;
	r = reserve(sizeof(*r), BMT_REC_MM, ts);
	if (r) {
		r->pid = tgid;
		r->mm_key = m->key;
		submit_opens(r, PHASE_KEEP);
	}
	return m;
}

/*
 * An rss_stat event for an address space we have no entry for. It is ours when a traced
 * process is building it (fork copies it in the parent's context, exec fills the new one
 * before switching to it): keep it pending until fork or exec binds it. An adopted process
 * (-p) meets its own mm here the first time it faults.
 */
static __always_inline struct mm_state *unknown_mm(__u64 mm)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 tgid = current_tgid();
	struct mm_struct *mmp = (struct mm_struct *)mm;
	struct bmt_proc *p;

	/*
	 * Most events on the machine are other processes faulting their own pages: without an
	 * adopted process waiting for its mm, such an event is never ours, and the procs
	 * lookup (~40 ns here) is skipped.
	 */
	if ((__u64)task->mm == mm && !adopting)
		return NULL;
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (!p)
		return NULL;
	if ((__u64)task->mm == mm) {
		if (p->flags & BMT_PROC_ADOPTED)
			return bind_mm(tgid, p, mm, bpf_ktime_get_ns());
		return NULL; /* the root's own pre-exec copy of bmtrace: not the command's */
	}
	if (!BPF_CORE_READ(mmp, mm_users.counter))
		return NULL; /* torn down: an mm we never counted */
	return register_mm(mm, tgid, MM_PENDING);
}

/* ---- serve: trees ---- */

#include "trees.bpf.h"

/*
 * The state of an rss_stat event's address space when it is ours; NULL otherwise. *known:
 * it was followed already (its counter caches are valid).
 */
static __always_inline struct mm_state *rss_mm(__u64 mm, int *known)
{
	struct mm_state *m = bpf_map_lookup_elem(&mms, &mm);

	*known = !!m;
	return m ? m : unknown_mm(mm);
}

/* exec just switched to the mm it built: bind it before the ELF load counts. */
static __always_inline struct mm_state *claim_pending(struct mm_state *m, __u64 mm, __u64 ts)
{
	struct task_struct *task;
	struct bmt_proc *p;
	__u32 tgid;

	if (!(m->flags & MM_PENDING) || m->creator != current_tgid())
		return m;
	task = bpf_get_current_task_btf();
	tgid = current_tgid();
	p = bpf_map_lookup_elem(&procs, &tgid);
	if (p && (__u64)task->mm == mm)
		return bind_mm(tgid, p, mm, ts);
	return m;
}

/* ---- runs (bmtrace.h): a CPU's consecutive increases of one counter, in one record ---- */

#define bmt_barrier() asm volatile("" ::: "memory")

static __always_inline struct bmt_cpu_run *cpu_run(__u32 cpu)
{
	return bpf_map_lookup_elem(&runs, &cpu);
}

/*
 * Userspace reads a run between two equal even values of seq (user/core/merge.h). x86 keeps
 * stores in order, so compiler barriers suffice; elsewhere the increments are atomic.
 */
static __always_inline void run_seq(struct bmt_cpu_run *s)
{
#if defined(__TARGET_ARCH_x86)
	bmt_barrier();
	s->seq++;
	bmt_barrier();
#else
	__sync_fetch_and_add(&s->seq, 1);
#endif
}

/* This CPU's run, when it is the one of counter mb of the address space m is. */
static __always_inline int run_is(const struct bmt_cpu_run *s, const struct mm_state *m, __u64 mm,
				  __u32 mb)
{
	return s && s->open && s->mm == mm && s->member == mb && s->mm_key == m->key;
}

/*
 * End this CPU's run: its last value goes to the ring, in the run's phase. m: the state of
 * an address space at hand; when it is the run's, its bytes[] catch up with the run.
 */
static __always_inline void run_end(struct bmt_cpu_run *s, __u32 cpu, struct mm_state *m, __u64 mm)
{
	__u32 mb = s->member & (BMT_NR_MEMBERS - 1);
	struct bmt_rss *r;

	if (!s->open)
		return;
	r = reserve(sizeof(*r), BMT_REC_RSS, s->ts);
	if (r) {
		r->hdr.flags = s->events - 1 < 0xffff ? s->events - 1 : 0xffff;
		r->mm_key = s->mm_key;
		r->member = mb;
		r->bytes = s->bytes;
		submit_in(r, BMT_WIRE_RUN, cpu, s->run, s->phase);
	}
	if (m && s->mm == mm && s->mm_key == m->key && m->run_cpu[mb] == cpu + 1) {
		m->bytes[mb] = s->bytes;
		m->run_cpu[mb] = 0;
	}
	run_seq(s);
	s->open = 0;
	run_seq(s);
}

/*
 * The event extends this CPU's run (the caller checked that it is the run's counter): the
 * phase has not moved, the window not ended, the value not fallen.
 */
static __always_inline int run_grows(const struct bmt_cpu_run *s, __u64 ts, __s64 bytes)
{
	return ts < s->window_end && bytes >= (__s64)s->bytes;
}

#define NO_READ 3 /* run_set's path when the value came with the event (classic tracepoint) */

/* The event extends the run; path: how btf-percpu read the value, counted in the same stats. */
static __always_inline void run_set(struct bmt_cpu_run *s, __s64 bytes, __u64 ts, int path)
{
	struct bmt_stats_val *sv = stats_val();

	run_seq(s);
	s->events++;
	/* an unchanged value keeps its time: a maximum is reached at its first instant */
	if (bytes != (__s64)s->bytes) {
		s->bytes = bytes;
		s->ts = ts;
	}
	run_seq(s);
	if (sv) {
		sv->s.events++;
		sv->in_run++;
		if (path != NO_READ)
			sv->pc_path[path & 3]++;
	}
}

/* Start a run of counter mb of m on this CPU at the event just read (src, used: btf-percpu). */
static __always_inline void run_start(struct bmt_cpu_run *s, __u32 cpu, struct mm_state *m, __u64 mm,
				      __u32 mb, __s64 bytes, __u64 ts, const struct bmt_pc_src *src,
				      const struct bmt_pc_used *used, __u64 phase)
{
	run_seq(s);
	s->run++;
	s->open = 1;
	s->mm_key = m->key;
	s->phase = phase;
	s->member = mb;
	s->events = 1;
	s->bytes = bytes;
	s->ts = ts;
	run_seq(s);
	s->mm = mm;
	s->window_end = (ts / BMT_RUN_WINDOW_NS + 1) * BMT_RUN_WINDOW_NS;
	s->fbc = src ? src->fbc : 0;
	s->slots = src ? src->slots : 0;
	s->count = used ? used->count : 0;
	s->others = used ? used->others : 0;
	s->n = 0;
	m->run_cpu[mb & (BMT_NR_MEMBERS - 1)] = cpu + 1;
}

/*
 * Counter mb of m is bytes now (an event outside any run): keep it, send it, forget m once
 * its teardown is done. A decrease in a phase of increases opens a phase of decreases, an
 * increase in one of decreases the other way round; a counter another CPU ran opens one too
 * (its run must end, and bytes[] lags it). Otherwise the change stays in the phase, and an
 * increase starts a run when may_run (a user task's change, read exactly, of a bound
 * address space).
 */
static __always_inline void rss_change(struct mm_state *m, __u64 mm, __u32 mb, __s64 bytes,
				       __u64 ts, __u32 cpu, struct bmt_cpu_run *s, int may_run,
				       const struct bmt_pc_src *src, const struct bmt_pc_used *used)
{
	struct bmt_rss *r;
	__s64 before;
	__u64 phase;
	int mine, opens, down, run;

	barrier_var(mb); /* keep the mask: the verifier loses the caller's range check */
	mb &= BMT_NR_MEMBERS - 1;
	mine = run_is(s, m, mm, mb);
	before = mine ? (__s64)s->bytes : m->bytes[mb];
	down = bytes < before;
	phase = phase_now;
	/* another CPU's run of this counter must end; else a phase of the other kind */
	opens = (!mine && m->run_cpu[mb]) || (down ? !(phase & 1) : (phase & 1));
	run = !opens && !down && may_run && bytes > 0 && s && !(m->flags & MM_PENDING) &&
	      !no_runs;
	if (s && (mine || run))
		run_end(s, cpu, m, mm); /* this counter's run, or one a new run replaces */
	m->bytes[mb] = bytes;
	m->run_cpu[mb] = 0;
	STAT_INC(events);
	if (run) {
		run_start(s, cpu, m, mm, mb, bytes, ts, src, used, phase);
	} else {
		r = reserve(sizeof(*r), BMT_REC_RSS, ts);
		if (r) {
			r->mm_key = m->key;
			r->member = mb;
			r->bytes = bytes;
			if (opens)
				submit_opens(r, down ? PHASE_DOWN : PHASE_UP);
			else
				submit_in(r, BMT_WIRE_IN, 0, 0, phase);
		}
	}
	if (!bytes && !m->nr_procs && all_zero(m) &&
	    !BPF_CORE_READ((struct mm_struct *)mm, mm_users.counter))
		bpf_map_delete_elem(&mms, &mm); /* teardown done: the pointer may now be reused */
}

#define PF_KTHREAD 0x00200000 /* include/linux/sched.h */

/* A kernel thread (khugepaged) may change a counter on one CPU and trace on another. */
static __always_inline int in_kthread(void)
{
	return bpf_get_current_task_btf()->flags & PF_KTHREAD;
}

/* The run of this CPU, when this event may extend it (its counter, the same phase). */
static __always_inline struct bmt_cpu_run *run_of(__u32 cpu, __u64 mm, __u32 mb)
{
	struct bmt_cpu_run *s = cpu_run(cpu);

	if (s && s->open && s->mm == mm && s->member == mb && s->phase == phase_now &&
	    !in_kthread())
		return s;
	return NULL;
}

/* tracepoint source: the kernel's own value, from the classic record. */
static __always_inline void rss_event(__u64 mm, __u32 member, __s64 bytes)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct bmt_cpu_run *s = run_of(cpu, mm, member);
	__u64 ts = bpf_ktime_get_ns();
	struct mm_state *m;
	int known;

	if (member >= BMT_NR_MEMBERS)
		return;
	if (s && run_grows(s, ts, bytes)) {
		run_set(s, bytes, ts, NO_READ);
		return;
	}
	m = rss_mm(mm, &known);
	if (m)
		m = claim_pending(m, mm, ts);
	if (m)
		rss_change(m, mm, member, bytes, ts, cpu, cpu_run(cpu), !in_kthread(), NULL, NULL);
}

/* The address of counter member of mm, and of its per-CPU slots. */
static __always_inline void counter_src(struct bmt_pc_src *src, __u64 mm, __u32 member)
{
	const struct percpu_counter *fbc;

	src->fbc = mm + bpf_core_field_offset(struct mm_struct, rss_stat) +
		   member * bpf_core_type_size(struct percpu_counter);
	fbc = bpf_rdonly_cast((void *)src->fbc, bpf_core_type_id_kernel(struct percpu_counter));
	src->slots = (__u64)fbc->counters;
}

/* mm's counter member, in pages, through its cache c (pcpu_sum.h). */
static __always_inline __s64 exact_pages(struct bmt_pc_cache *c, __u64 mm, __u32 member,
					 __u32 cpu, int may_cache, enum bmt_pc_path *path,
					 struct bmt_pc_src *src, struct bmt_pc_used *used)
{
	counter_src(src, mm, member);
	return bmt_pc_read(c, src, cpu, nr_cpus, may_cache, path, used);
}

static __always_inline void count_read(enum bmt_pc_path path)
{
	struct bmt_stats_val *sv = stats_val();

	if (sv)
		sv->pc_path[path & 3]++;
}

/*
 * btf-percpu source: the whole event, from the BTF raw tracepoint alone. An event that
 * extends this CPU's run reads its value through the run (3 loads) and writes nothing else;
 * any other event of a followed counter goes through the counter's cache, emitted or not:
 * the cache relies on seeing them.
 */
SEC("tp_btf/rss_stat")
int BPF_PROG(rss_stat_exact, struct mm_struct *mm, int member)
{
	__u64 ts = 0, key = (__u64)mm;
	struct bmt_pc_used used;
	struct bmt_pc_src src;
	enum bmt_pc_path path;
	struct mm_state *m;
	struct bmt_cpu_run *s;
	__u32 mb = member, cpu;
	__s64 pages;
	int known, may_cache;

	if (mb >= BMT_NR_MEMBERS || !cpu_off_ready)
		return 0;
	cpu = bpf_get_smp_processor_id();
	s = run_of(cpu, key, mb);
	if (s) {
		struct bmt_pc_run pr = { s->count, s->others, s->n };

		src.fbc = s->fbc;
		src.slots = s->slots;
		ts = bpf_ktime_get_ns(); /* ~55 ns here: only our own events pay it */
		if (ts < s->window_end) {
			pages = bmt_pc_run_read(&pr, &src, cpu, nr_cpus, &path);
			if (pages >= 0 && run_grows(s, ts, pages << page_shift)) {
				s->count = pr.count;
				s->others = pr.others;
				s->n = pr.n;
				run_set(s, pages << page_shift, ts, path);
				return 0;
			}
		}
	}
	m = rss_mm(key, &known);
	if (!m)
		return 0;
	if (!ts)
		ts = bpf_ktime_get_ns();
	barrier_var(mb); /* keep the mask: the verifier loses the range check above */
	mb &= BMT_NR_MEMBERS - 1;
	may_cache = !in_kthread();
	pages = exact_pages(&m->pc[mb], m->addr, mb, cpu, may_cache, &path, &src, &used);
	count_read(path);
	if (known)
		m = claim_pending(m, key, ts);
	if (m)
		rss_change(m, key, mb, pages << page_shift, ts, cpu, cpu_run(cpu),
			   may_cache && path != BMT_PC_MOVED, &src, &used);
	return 0;
}

/* ---- the btf-percpu self-test (user/kernel/tracer.c runs it before anything is traced) ---- */

__u32 check_tgid;  /* the process whose own events are compared: bmtrace */
__u32 check_layout; /* 1: the kernel's counters are laid out as this file reads them; 2: not */
__u64 check_equal, check_differ, check_fast;
struct bmt_pc_cache check_pc[BMT_NR_MEMBERS];
/* a run's read (bmt_pc_run_read) from each event's state to the next one on the same CPU */
__u64 check_run_equal, check_run_differ;
struct bmt_pc_run check_run;
__u32 check_run_cpu, check_run_member, check_run_valid;

/* A pointer's value as a number (root-only programs may read it). */
static __always_inline __u64 addr_of(const void *p)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &p);
	return v;
}

/*
 * bpf_map_lookup_percpu_elem(map, 0, cpu) is the map's raw per-CPU pointer plus cpu's
 * offset; the raw pointer is struct bpf_array's pptrs[0]. The verifier refuses reading that
 * flexible array through the map pointer, so it is read by address.
 */
static __noinline int find_cpu_offsets(void)
{
	__u64 base = 0, map = addr_of(&stats);

	if (bpf_probe_read_kernel(&base, sizeof(base),
				  (void *)(map + bpf_core_field_offset(struct bpf_array, pptrs))))
		return -1;
	for (__u32 c = 0; c < BMT_PC_MAX_CPUS && c < nr_cpus; c++) {
		void *p = bpf_map_lookup_percpu_elem(&stats, &zero, c);

		if (!p)
			return -1;
		cpu_off[c] = addr_of(p) - base;
	}
	return 0;
}

/* The layout the exact reads assume: rss_stat[] an array of percpu_counter with counters. */
static __always_inline int layout_ok(void)
{
	return bpf_core_field_exists(struct percpu_counter, counters) &&
	       bpf_core_field_exists(struct bpf_array, pptrs) &&
	       bpf_core_field_size(struct mm_struct, rss_stat) ==
		       BMT_NR_MEMBERS * bpf_core_type_size(struct percpu_counter);
}

/* bmtrace's own faults: the exact value, through the same cache logic, vs the kernel's. */
SEC("tp/kmem/rss_stat")
int rss_stat_check(struct trace_event_raw_rss_stat *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 member = ctx->member;
	struct bmt_pc_used used;
	struct bmt_pc_src src;
	enum bmt_pc_path path;
	__s64 bytes;
	__u32 cpu;

	if (current_tgid() != check_tgid || !ctx->curr || member >= BMT_NR_MEMBERS)
		return 0;
	if (!check_layout)
		check_layout = layout_ok() ? 1 : 2;
	if (check_layout != 1)
		return 0;
	if (!cpu_off_ready) {
		if (find_cpu_offsets())
			return 0;
		cpu_off_ready = 1;
	}
	barrier_var(member);
	member &= BMT_NR_MEMBERS - 1;
	cpu = bpf_get_smp_processor_id();
	if (check_run_valid && check_run_cpu == cpu && check_run_member == member) {
		counter_src(&src, addr_of(task->mm), member);
		bytes = bmt_pc_run_read(&check_run, &src, cpu, nr_cpus, &path);
		if (bytes >= 0 && bytes << page_shift == ctx->size)
			__sync_fetch_and_add(&check_run_equal, 1);
		else if (bytes >= 0)
			__sync_fetch_and_add(&check_run_differ, 1);
	}
	bytes = exact_pages(&check_pc[member], addr_of(task->mm), member, cpu, !in_kthread(), &path,
			    &src, &used)
		<< page_shift;
	/* the next event on this CPU reads on from this one's state, as a run does */
	check_run.count = used.count;
	check_run.others = used.others;
	check_run.n = 0;
	check_run_cpu = cpu;
	check_run_member = member;
	check_run_valid = path != BMT_PC_MOVED;
	if (bytes == ctx->size)
		__sync_fetch_and_add(&check_equal, 1);
	else
		__sync_fetch_and_add(&check_differ, 1);
	if (path == BMT_PC_FAST)
		__sync_fetch_and_add(&check_fast, 1);
	return 0;
}

static __always_inline struct pair_slot *slot(void)
{
	return bpf_map_lookup_elem(&pair, &zero);
}

/*
 * A half found no partner. While the two programs are being attached, every event on the
 * machine leaves one: count only halves that may be ours (a tp half has no mm to check).
 */
static __always_inline void count_unpaired(struct pair_slot *s)
{
	if (s->have == HAVE_BTF && !bpf_map_lookup_elem(&mms, &s->mm))
		return;
	STAT_INC(unpaired);
}

/*
 * The hot path is a process faulting its own pages: then the mm is current->mm (the classic
 * record says so with curr == 1) and the classic program completes the event alone. Only
 * curr == 0 events (fork copies, exec, teardown, reclaim) need the pointer from tp_btf.
 * Both programs decide the same way, at the same instant.
 */
SEC("tp_btf/rss_stat")
int BPF_PROG(rss_stat_btf, struct mm_struct *mm, int member)
{
	struct pair_slot *s;

	if (mm == bpf_get_current_task_btf()->mm)
		return 0;
	s = slot();
	if (!s)
		return 0;
	if (s->have == HAVE_TP && s->member == member) {
		s->have = 0;
		rss_event((__u64)mm, member, s->bytes);
		return 0;
	}
	if (s->have)
		count_unpaired(s);
	s->mm = (__u64)mm;
	s->member = member;
	s->have = HAVE_BTF;
	return 0;
}

SEC("tp/kmem/rss_stat")
int rss_stat_tp(struct trace_event_raw_rss_stat *ctx)
{
	__s32 member = ctx->member;
	struct pair_slot *s;

	if (ctx->curr) {
		rss_event((__u64)bpf_get_current_task_btf()->mm, member, ctx->size);
		return 0;
	}
	s = slot();
	if (!s)
		return 0;
	if (s->have == HAVE_BTF && s->member == member) {
		s->have = 0;
		rss_event(s->mm, member, ctx->size);
		return 0;
	}
	if (s->have)
		count_unpaired(s);
	s->bytes = ctx->size;
	s->member = member;
	s->have = HAVE_TP;
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sched_process_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	struct bmt_proc *pp = bpf_map_lookup_elem(&procs, &ptgid);
	struct bmt_proc cp = {};
	struct mm_state *pm = NULL, *cm;
	__u64 ts, cmm = (__u64)child->mm;
	struct bmt_fork *r;
	__u16 flags = 0;

	if (ctgid == ptgid)
		return 0; /* a new thread of a process */
	if (!pp) {
		__u32 tree;

		if (!targ_serve)
			return 0;
		ts = bpf_ktime_get_ns();
		tree = cgroup_tree(dfl_cgroup(child), ctgid, child->comm, ts);
		if (tree)
			join(ctgid, tree, 0, child->comm, ts);
		return 0;
	}
	ts = bpf_ktime_get_ns();
	if (!pp->mm && pp->flags & BMT_PROC_ADOPTED && parent->mm)
		bind_mm(ptgid, pp, (__u64)parent->mm, ts);
	if (pp->mm)
		pm = bpf_map_lookup_elem(&mms, &pp->mm);
	if (cmm && cmm == pp->mm) {
		flags = BMT_FORK_SHARED_MM; /* vfork, posix_spawn: one address space, counted once */
		cm = pm;
	} else if (cmm) {
		cm = bpf_map_lookup_elem(&mms, &cmm);
		if (!cm || !(cm->flags & MM_PENDING) || cm->creator != ptgid)
			cm = register_mm(cmm, ptgid, 0);
	} else {
		cm = NULL;
	}
	if (cm) {
		cm->flags &= ~MM_PENDING;
		cm->nr_procs++;
	}
	cp.mm = cm ? cmm : 0;
	cp.tree = pp->tree;
	if (bpf_map_update_elem(&procs, &ctgid, &cp, BPF_NOEXIST)) {
		STAT_INC(procs_full);
		if (cm)
			release_mm(cmm);
		return 0;
	}
	tree_get(cp.tree);
	/* re-read: a hash update may have recycled an element we held a pointer to */
	pm = pp->mm ? bpf_map_lookup_elem(&mms, &pp->mm) : NULL;
	cm = cp.mm ? bpf_map_lookup_elem(&mms, &cmm) : NULL;
	r = reserve(sizeof(*r), BMT_REC_FORK, ts);
	if (!r)
		return 0;
	r->hdr.flags = flags;
	r->ppid = ptgid;
	r->pid = ctgid;
	r->parent_mm_key = pm ? pm->key : 0;
	r->child_mm_key = cm ? cm->key : 0;
	bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), child->comm);
	submit_opens(r, PHASE_KEEP);
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(sched_process_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 tgid = p->tgid;
	struct bmt_proc *ps = bpf_map_lookup_elem(&procs, &tgid);
	struct mm_struct *mm = p->mm;
	struct mm_state *m;
	struct bmt_exec *r;
	__u64 ts, arg_start, arg_end;
	__u32 fn_len, argv_len = 0, size;
	long n;

	if (!mm)
		return 0;
	ts = bpf_ktime_get_ns();
	if (!ps && targ_serve) {
		/* a --root name starts a tree; else its cgroup may be one (set up before we ran) */
		char comm[BMT_COMM_LEN] = {};
		__u32 tree;

		bpf_get_current_comm(comm, sizeof(comm)); /* p is current; map keys live on the stack */
		tree = bpf_map_lookup_elem(&roots, comm) ? new_tree(0, BMT_TREE_ROOT, tgid, comm, ts) :
							   cgroup_tree(dfl_cgroup(p), tgid, comm, ts);
		if (tree)
			ps = join(tgid, tree, BMT_PROC_ADOPTED, comm, ts);
	}
	if (!ps)
		return 0;
	m = bind_mm(tgid, ps, (__u64)mm, ts);
	/* the largest size, so that it is reserved before its phase is taken (submit_opens) */
	r = reserve(EXEC_REC_MAX, BMT_REC_EXEC, ts);
	if (!r)
		return 0;
	r->pid = tgid;
	r->mm_key = m ? m->key : 0;
	bpf_probe_read_kernel_str(r->comm, sizeof(r->comm), p->comm);
	n = bpf_probe_read_kernel_str(r->data, BMT_FILENAME_MAX, bprm->filename);
	fn_len = n > 0 ? n : 0;
	if (!fn_len) {
		r->data[0] = 0;
		fn_len = 1;
	}
	if (fn_len > BMT_FILENAME_MAX)
		fn_len = BMT_FILENAME_MAX;
	arg_start = mm->arg_start;
	arg_end = mm->arg_end;
	if (arg_end > arg_start) {
		/*
		 * 64 bits wide: verifiers before 6.2 or so lose the bound through the 32-bit
		 * register copy the compiler makes of a __u32 (6.1 refused the program).
		 */
		__u64 len = arg_end - arg_start;

		if (len > BMT_ARGV_MAX) {
			len = BMT_ARGV_MAX;
			r->hdr.flags |= BMT_EXEC_ARGV_TRUNCATED;
		}
		if (!bpf_probe_read_user(r->data + fn_len, len, (void *)arg_start))
			argv_len = len;
	}
	r->filename_len = fn_len;
	r->argv_len = argv_len;
	size = sizeof(*r) + fn_len + argv_len;
	if (size > EXEC_REC_MAX)
		size = EXEC_REC_MAX;
	r->hdr.size = size; /* the record's own size: the rest of the reservation is unused */
	submit_opens(r, PHASE_KEEP);
	return 0;
}

/*
 * Whether sched_process_exit passes group_dead (kernels after 6.1), set by userspace from the
 * kernel's BTF: the verifier drops the branch this kernel cannot run.
 */
const volatile bool exit_has_group_dead = true;

SEC("tp_btf/sched_process_exit")
int BPF_PROG(sched_process_exit, struct task_struct *p)
{
	__u32 tgid = p->tgid;
	struct bmt_proc *ps;
	struct bmt_exit *r;
	bool group_dead;

	if (exit_has_group_dead)
		group_dead = ctx[1];
	else /* do_exit counted this thread out of signal->live before the tracepoint */
		group_dead = !p->signal->live.counter;
	if (!group_dead)
		return 0;
	ps = bpf_map_lookup_elem(&procs, &tgid);
	if (!ps)
		return 0;
	release_mm(ps->mm);
	tree_put(ps->tree);
	bpf_map_delete_elem(&procs, &tgid);
	r = reserve(sizeof(*r), BMT_REC_EXIT, bpf_ktime_get_ns());
	if (!r)
		return 0;
	r->pid = tgid;
	r->exit_code = p->exit_code;
	submit_opens(r, PHASE_KEEP);
	return 0;
}

/* serve: a running process moved into a tree's cgroup (a CI job unit, a container). */
SEC("tp_btf/cgroup_attach_task")
int BPF_PROG(cgroup_attach_task, struct cgroup *dst, const char *path, struct task_struct *task,
	     bool threadgroup)
{
	__u32 tgid = task->tgid, tree;
	__u64 ts;

	if (!targ_serve || bpf_map_lookup_elem(&procs, &tgid))
		return 0; /* not serving, or in a tree already: a tree keeps its members */
	/* only the unified (v2) hierarchy: v1 hierarchies number their cgroups apart */
	if (BPF_CORE_READ(dst, root) != BPF_CORE_READ(task, cgroups, dfl_cgrp, root))
		return 0;
	ts = bpf_ktime_get_ns();
	tree = cgroup_tree(dst, tgid, task->comm, ts);
	if (tree)
		join(tgid, tree, BMT_PROC_ADOPTED, task->comm, ts);
	return 0;
}

static __always_inline void oom_victim(__u32 tgid)
{
	struct bmt_oom *r;

	if (!bpf_map_lookup_elem(&procs, &tgid))
		return;
	r = reserve(sizeof(*r), BMT_REC_OOM, bpf_ktime_get_ns());
	if (!r)
		return;
	r->pid = tgid;
	r->pad = 0;
	submit_opens(r, PHASE_KEEP);
}

/*
 * The OOM killer chose its victim (mark_oom_victim), before the SIGKILL is delivered and the
 * OOM reaper frees its memory. Recent kernels pass the task (Linux 6.18:
 * btf_trace_mark_victim(void *, struct task_struct *, uid_t)), older ones its pid alone:
 * tracer.c loads whichever of these two programs the kernel's BTF calls for.
 */
SEC("tp_btf/mark_victim")
int BPF_PROG(mark_victim, struct task_struct *task)
{
	oom_victim(task->tgid);
	return 0;
}

/* The classic tracepoint's pid is the victim thread's: its group leader's unless it exited. */
SEC("tp/oom/mark_victim")
int mark_victim_tp(struct trace_event_raw_mark_victim *ctx)
{
	oom_victim(ctx->pid);
	return 0;
}
