/* SPDX-License-Identifier: MIT */
/*
 * bmtrace.h - the only types shared by the BPF programs and userspace.
 *
 * Every record the kernel side emits starts with struct bmt_hdr; userspace
 * dispatches on hdr.type and rejects unknown types and records shorter than
 * their type requires. The same records, unchanged, form the body of a
 * recorded trace (user/tracefile.h), so live runs and replays share one path.
 *
 * Address spaces are named by mm keys: small integers the BPF side hands out
 * from a counter when it first meets an mm_struct. A key is never reused, so a
 * freed and reallocated mm_struct (same pointer, same rss_stat mm_id) always
 * gets a new key and can never inherit the old one's counters. Keys stay at or below
 * BMT_MM_KEY_MAX (2^31 address spaces in one run); the keys above are userspace's own (the
 * address spaces -p seeds from /proc), and a record naming one is malformed.
 */
#ifndef BMTRACE_H
#define BMTRACE_H

#ifdef __BPF__
/* vmlinux.h provides __u8.. __u64 */
#else
#include <linux/types.h>
#endif

#define BMT_COMM_LEN 16
#define BMT_FILENAME_MAX 256
#define BMT_ARGV_MAX 8192 /* argv bytes kept per exec; longer argv is truncated and flagged */
/* processes and address spaces followed at once (maps procs, mms): the default, and how far
 * --max-processes may raise it (the kernel's PID_MAX_LIMIT) */
#define BMT_MAX_PROCS 65536
#define BMT_MAX_PROCS_LIMIT 4194304
#define BMT_PID_MAX 4194304 /* the kernel's PID_MAX_LIMIT: no pid is larger */
#define BMT_MM_KEY_MAX 0x7fffffffu

/* rss_stat members, as the kernel numbers them (MM_FILEPAGES..MM_SHMEMPAGES). */
enum bmt_member {
	BMT_FILE = 0,
	BMT_ANON = 1,
	BMT_SWAP = 2,
	BMT_SHMEM = 3,
	BMT_NR_MEMBERS = 4,
};

enum bmt_rec_type {
	BMT_REC_RSS = 1,   /* one counter of one address space changed */
	BMT_REC_FORK = 2,  /* a traced process created a process */
	BMT_REC_MM = 3,    /* a traced process switched to another address space (exec) */
	BMT_REC_EXEC = 4,  /* the names of a process after exec */
	BMT_REC_EXIT = 5,  /* the last thread of a traced process exited */
	BMT_REC_ADOPT = 6, /* userspace only: a process already running at attach (-p) */
	BMT_REC_TREE = 7,  /* serve: a tree starts (a --root exec, or a new child cgroup) */
	BMT_REC_JOIN = 8,  /* serve: a process enters a tree other than by a traced fork */
	BMT_REC_OOM = 9,   /* the OOM killer chose a traced process as its victim */
	BMT_REC_MAX,
};

struct bmt_hdr {
	__u16 type;
	__u16 flags;
	__u32 size; /* whole record, header included */
	__u64 ts;   /* CLOCK_MONOTONIC ns */
};

/* hdr.flags: how many more events this value stands for (a run's, bmtrace.h "runs") */
struct bmt_rss {
	struct bmt_hdr hdr;
	__u32 mm_key;
	__u32 member; /* enum bmt_member */
	__u64 bytes;  /* the counter's exact value after the change */
};

#define BMT_FORK_SHARED_MM 0x1 /* CLONE_VM without CLONE_THREAD: vfork, posix_spawn */

struct bmt_fork {
	struct bmt_hdr hdr; /* flags: BMT_FORK_* */
	__u32 ppid;
	__u32 pid;
	__u32 parent_mm_key; /* 0 when the parent's address space is not known yet */
	__u32 child_mm_key;
	char comm[BMT_COMM_LEN];
};

struct bmt_mm {
	struct bmt_hdr hdr;
	__u32 pid;
	__u32 mm_key;
};

#define BMT_EXEC_ARGV_TRUNCATED 0x1

struct bmt_exec {
	struct bmt_hdr hdr; /* flags: BMT_EXEC_* */
	__u32 pid;
	__u32 mm_key;
	__u32 filename_len; /* bytes of data[] holding the filename, NUL included */
	__u32 argv_len;     /* bytes after it: the arguments, each NUL-terminated */
	char comm[BMT_COMM_LEN];
	char data[]; /* filename, then argv */
};

struct bmt_exit {
	struct bmt_hdr hdr;
	__u32 pid;
	__s32 exit_code; /* task->exit_code: status << 8 | signal, as wait(2) encodes it */
};

#define BMT_TREE_ROOT 1   /* hdr.flags of a TREE record: a process exec'd a --root name */
#define BMT_TREE_CGROUP 2 /* a process appeared in a child cgroup of a --cgroup-parent */

struct bmt_tree {
	struct bmt_hdr hdr; /* flags: BMT_TREE_* */
	__u32 tree;
	__u32 pid;          /* the process that started it; its JOIN follows */
	__u64 cgroup_id;    /* BMT_TREE_CGROUP: the child cgroup's id (its directory's inode) */
	char comm[BMT_COMM_LEN];
};

#define BMT_JOIN_SEED 0x1 /* hdr.flags: running already: seed its counters from /proc */

struct bmt_join {
	struct bmt_hdr hdr; /* flags: BMT_JOIN_*; without SEED it counts from its next exec */
	__u32 pid;
	__u32 tree;
	char comm[BMT_COMM_LEN];
};

struct bmt_adopt {
	struct bmt_hdr hdr;
	__u32 pid;
	__u32 ppid;
	__u64 bytes[BMT_NR_MEMBERS]; /* seeded from /proc/PID/status at attach */
	char comm[BMT_COMM_LEN];     /* /proc/PID/comm; an EXEC record with its argv follows */
};

/*
 * The OOM killer chose pid (a thread group) to kill: the kernel's oom/mark_victim, when it
 * marks the victim, before SIGKILL is delivered and before the OOM reaper frees its memory.
 * Its EXIT follows with signal 9.
 */
struct bmt_oom {
	struct bmt_hdr hdr;
	__u32 pid;
	__u32 pad;
};

/* A traced process, the value of the BPF procs map (key: tgid); userspace adds the root. */
struct bmt_proc {
	__u64 mm;    /* the mm_struct it uses; 0 until known */
	__u32 flags; /* BMT_PROC_* */
	__u32 tree;  /* serve: the tree it belongs to; 0 in the tracing modes */
};

#define BMT_PROC_ADOPTED 0x1 /* found running at attach: bind its mm when first seen */

/* serve: a tree, the value of the BPF trees map (key: tree id). */
struct bmt_tree_state {
	__u64 cgroup_id; /* 0 for a --root tree */
	__u32 nr_procs;  /* traced processes in it; the last to exit ends it */
	__u32 pad;
};

/* Counters the BPF side keeps in .bss; userspace reads them for the report. */
struct bmt_stats {
	__u64 events;       /* rss_stat events for traced address spaces */
	__u64 lost;         /* records the ring buffer had no room for */
	__u64 unpaired;     /* rss_stat halves (tp / tp_btf) that found no partner */
	__u64 procs_full;   /* processes not traced: procs map full */
	__u64 mms_full;     /* address spaces not traced: mms map full */
};

/*
 * btf-percpu (bpf/pcpu_sum.h): the cache of one counter of one address space, zeroed when
 * the address space is first followed, and how a read went.
 */
#define BMT_PC_MAX_CPUS 1024 /* possible CPUs the BTF path reads; more: the classic path */

struct bmt_pc_cache {
	__u32 seq;     /* tickets handed out */
	__u32 pad;
	__u64 sum_tag; /* tag << 32 | (u32)others */
	__u64 cpu_tag; /* tag << 32 | (cpu + 1); 0: nothing saved */
	__u64 cnt_tag; /* tag << 32 | (u32)count */
};

/* A run's own state of its counter (pcpu_sum.h, bmt_pc_run_read). */
struct bmt_pc_run {
	__s64 count;  /* the counter's count when others was summed */
	__s32 others; /* the other CPUs' slots then */
	__u32 n;      /* events since */
};

enum bmt_pc_path {
	BMT_PC_FAST = 0,  /* two loads and the cache */
	BMT_PC_FULL = 1,  /* every slot */
	BMT_PC_MOVED = 2, /* every slot; count moved (or its lock was held) each try: a snapshot */
};

/* The value of the BPF stats map (per CPU): bmt_stats, and how btf-percpu read counters. */
struct bmt_stats_val {
	struct bmt_stats s;
	__u64 pc_path[3]; /* reads by enum bmt_pc_path (bpf/pcpu_sum.h): fast, full, moved */
	__u64 in_run;     /* events a run absorbed: no record of their own */
	__u64 records;    /* records reserved in the ring */
};

/*
 * The ring's records and runs (user/core/merge.c puts them back in order).
 *
 * A run is a CPU's consecutive increases of one counter of one address space, made by the
 * process's own faults, within one millisecond of CLOCK_MONOTONIC (windows aligned to whole
 * milliseconds, the timeline's). It costs no record per event: the CPU keeps the run's latest
 * value in its struct bmt_cpu_run, and writes one record when the run ends. Every record
 * carries a phase: phases of increases (even numbers; the only ones runs start in) alternate
 * with phases of decreases (odd). A record opens a new phase (BMT_WIRE_OPENS), which ends
 * every CPU's run at its next event, when it is a decrease in a phase of increases or the
 * other way round, an increase of a counter another CPU ran, or any record that is not a
 * change (fork, exec, exit, ...); otherwise it belongs to the current phase (BMT_WIRE_IN: a
 * change outside a run; BMT_WIRE_RUN: a run's last value). An opening record's `run` says
 * how far its phase number is from the one before (1 or 2), so the phases chain. In a phase
 * of increases a run's intermediate values can never be a peak, of the tree, its anon part
 * or a timeline window; in one of decreases every change has its record: the merger feeds
 * a phase's opening record, then its changes by time, and the collector sees exactly the
 * maxima it would have seen from every event.
 */
#define BMT_WIRE_OPENS 1 /* the first record of phase `phase`, `run` after the one before */
#define BMT_WIRE_IN 2    /* a change within phase `phase` */
#define BMT_WIRE_RUN 3   /* the latest value of run `run` of CPU `cpu`, in phase `phase` */

/* Before each record in the ring; the record (struct bmt_hdr first) follows. */
struct bmt_wire {
	__u64 phase;
	__u32 run;
	__u16 cpu;
	__u16 kind; /* BMT_WIRE_* */
};

#define BMT_RUN_WINDOW_NS 1000000ull /* runs end at every whole millisecond */

/*
 * One per possible CPU, in a mmap-able array: the run the CPU holds. The BPF side writes it
 * with seq odd; userspace reads the fields up to ts between two equal even values of seq.
 */
struct bmt_cpu_run {
	__u32 seq;
	__u32 run;    /* the run's number on this CPU */
	__u32 open;   /* 1 while the run can still grow */
	__u32 mm_key;
	__u64 phase;
	__u32 member;
	__u32 events; /* events in the run so far */
	__u64 bytes;  /* the counter after the run's latest event */
	__u64 ts;     /* that event's time */
	/* the BPF side's own: */
	__u64 mm;         /* the struct mm_struct's address */
	__u64 window_end; /* the run ends at its first event at or after this */
	__u64 fbc;        /* the counter: struct percpu_counter's address */
	__u64 slots;      /* its per-CPU pointer */
	__s64 count;      /* the counter's count when others was summed */
	__s32 others;     /* the other CPUs' slots then */
	__u32 n;          /* events since the run's last full sum */
	__u64 pad2[4];    /* 128 bytes: a CPU's run shares no cache line with another's */
};

#endif /* BMTRACE_H */
