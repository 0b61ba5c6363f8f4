// modules: kbtf
// SPDX-License-Identifier: MIT
/*
 * kbtf: which program variants a kernel gets, from BTF files built here in the shapes of the
 * kernels bmtrace meets (6.1: sched_process_exit without group_dead, rss_stat with its count,
 * per-thread RSS batching; 6.18: the opposite), and from the running kernel's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/btf.h>
#include "kbtf.h"

/*
 * A kernel's shape: how many arguments each tracepoint has (-1: none), the batching, and
 * whether mark_victim passes a task (a pointer) or a pid.
 */
struct shape {
	int fork, exec, exit, rss_stat, cgroup_attach;
	bool task_rss_stat, mark_victim_task;
};

static const struct shape linux_6_1 = { 2, 3, 1, 3, 3, true, false };
static const struct shape linux_6_18 = { 2, 3, 2, 2, 3, false, true };

/* typedef btf_trace_NAME: a pointer to void (void *__data, int, ... nargs ints) */
static void add_tp(struct btf *b, const char *name, int nargs, int int_id, int voidp)
{
	char tname[64];
	int proto, i;

	if (nargs < 0)
		return;
	proto = btf__add_func_proto(b, 0);
	assert_true(proto > 0);
	assert_int_equal(btf__add_func_param(b, "__data", voidp), 0);
	for (i = 0; i < nargs; i++)
		assert_int_equal(btf__add_func_param(b, "arg", int_id), 0);
	snprintf(tname, sizeof(tname), "btf_trace_%s", name);
	assert_true(btf__add_typedef(b, tname, btf__add_ptr(b, proto)) > 0);
}

/* A raw BTF file of shape s at path. */
static void write_btf(const char *path, const struct shape *s)
{
	struct btf *b = btf__new_empty();
	int int_id, voidp;
	const void *raw;
	__u32 size;
	FILE *f;

	assert_non_null(b);
	int_id = btf__add_int(b, "int", 4, BTF_INT_SIGNED);
	voidp = btf__add_ptr(b, 0);
	assert_true(int_id > 0 && voidp > 0);
	add_tp(b, "sched_process_fork", s->fork, int_id, voidp);
	add_tp(b, "sched_process_exec", s->exec, int_id, voidp);
	add_tp(b, "sched_process_exit", s->exit, int_id, voidp);
	add_tp(b, "rss_stat", s->rss_stat, int_id, voidp);
	add_tp(b, "cgroup_attach_task", s->cgroup_attach, int_id, voidp);
	if (s->mark_victim_task) { /* (void *, struct task_struct *, uid_t) */
		int task = btf__add_struct(b, "task_struct", 4), taskp, proto;

		assert_true(task > 0);
		assert_int_equal(btf__add_field(b, "pid", int_id, 0, 0), 0);
		taskp = btf__add_ptr(b, task); /* before the prototype: its params follow it */
		proto = btf__add_func_proto(b, 0);
		assert_true(taskp > 0 && proto > 0);
		assert_int_equal(btf__add_func_param(b, "__data", voidp), 0);
		assert_int_equal(btf__add_func_param(b, "task", taskp), 0);
		assert_int_equal(btf__add_func_param(b, "uid", int_id), 0);
		assert_true(btf__add_typedef(b, "btf_trace_mark_victim", btf__add_ptr(b, proto)) > 0);
	} else {
		add_tp(b, "mark_victim", 1, int_id, voidp); /* (void *, int pid) */
	}
	if (s->task_rss_stat) {
		assert_true(btf__add_struct(b, "task_rss_stat", 4) > 0);
		assert_int_equal(btf__add_field(b, "events", int_id, 0, 0), 0);
	}
	raw = btf__raw_data(b, &size);
	assert_non_null(raw);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(raw, 1, size, f), size);
	assert_int_equal(fclose(f), 0);
	btf__free(b);
}

/* kbtf__choose on a kernel of shape s: its return value, *c and the error line in err. */
static int choose(const struct shape *s, bool serve, struct kbtf_choice *c, char *err,
		  size_t errlen)
{
	char path[] = "/tmp/test_kbtf.XXXXXX";
	struct kbtf *k;
	int fd = mkstemp(path), rc;

	assert_true(fd >= 0);
	close(fd);
	write_btf(path, s);
	k = kbtf__open(path);
	unlink(path);
	assert_non_null(k);
	err[0] = '\0';
	rc = kbtf__choose(k, serve, c, err, errlen);
	kbtf__close(k);
	return rc;
}

static void test_linux_6_1(void **state)
{
	struct kbtf_choice c = { true, 0, true };
	char err[256];

	assert_int_equal(choose(&linux_6_1, false, &c, err, sizeof(err)), 0);
	assert_false(c.exit_has_group_dead);
	assert_int_equal(c.thread_batch, 64);
	assert_false(c.mark_victim_task);
}

static void test_linux_6_18(void **state)
{
	struct kbtf_choice c = { false, 64, false };
	char err[256];

	assert_int_equal(choose(&linux_6_18, true, &c, err, sizeof(err)), 0);
	assert_true(c.exit_has_group_dead);
	assert_int_equal(c.thread_batch, 0);
	assert_true(c.mark_victim_task);
}

/* One line naming what is missing, whichever it is; serve alone needs cgroup_attach_task. */
static void test_missing_tracepoint(void **state)
{
	static const char *const names[] = { "sched_process_fork", "sched_process_exec",
					      "sched_process_exit", "rss_stat" };
	struct kbtf_choice c;
	char err[256];
	size_t i;

	for (i = 0; i < 4; i++) {
		struct shape s = linux_6_1;
		int *nargs[] = { &s.fork, &s.exec, &s.exit, &s.rss_stat };

		*nargs[i] = -1;
		assert_int_equal(choose(&s, false, &c, err, sizeof(err)), -ENOENT);
		assert_non_null(strstr(err, names[i]));
		assert_null(strchr(err, '\n'));
	}
	struct shape s = linux_6_18;

	s.cgroup_attach = -1;
	assert_int_equal(choose(&s, false, &c, err, sizeof(err)), 0);
	assert_int_equal(choose(&s, true, &c, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cgroup_attach_task"));
}

static void test_no_file(void **state)
{
	errno = 0;
	assert_null(kbtf__open("/nonexistent/bmtrace-test-btf"));
	assert_int_equal(errno, ENOENT);
}

/* The running kernel: whatever its release, fork passes (parent, child). */
static void test_running_kernel(void **state)
{
	struct kbtf *k;

	if (access("/sys/kernel/btf/vmlinux", R_OK))
		skip();
	k = kbtf__open(NULL);
	assert_non_null(k);
	assert_int_equal(kbtf__tp_nargs(k, "sched_process_fork"), 2);
	assert_int_equal(kbtf__tp_nargs(k, "bmtrace_no_such_tracepoint"), -ENOENT);
	assert_true(kbtf__has_struct(k, "task_struct"));
	assert_false(kbtf__has_struct(k, "bmtrace_no_such_struct"));
	kbtf__close(k);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linux_6_1),
		cmocka_unit_test(test_linux_6_18),
		cmocka_unit_test(test_missing_tracepoint),
		cmocka_unit_test(test_no_file),
		cmocka_unit_test(test_running_kernel),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
