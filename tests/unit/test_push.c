// modules: push prom deaths util
// SPDX-License-Identifier: MIT
/*
 * push: push-add to a real Pushgateway (Debian's prometheus-pushgateway, started here on a
 * loopback ephemeral port, in memory), read back; and the failures: nobody listening, a
 * silent server, a refused push, bad arguments.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "push.h"
#include "promtest.h"

#define MiB	      (1024ull * 1024)
#define GATEWAY	      "prometheus-pushgateway"
#define READY_WAIT_MS 15000

static const struct push_group ci_a = { "ci-build", "runner-a" };

struct fixture {
	pid_t gateway;
	int port;
	char url[64];
	struct prom_snapshot s;
	struct prom_stage stages[2];
	struct prom_command commands[2];
};

static void fill(struct fixture *fx)
{
	fx->stages[0] = (struct prom_stage){ "compile", 0, 4400 * MiB };
	fx->stages[1] = (struct prom_stage){ "li\"nk\n", 0, 900 * MiB };
	fx->commands[0] = (struct prom_command){ "clang", 0 };
	fx->commands[1] = (struct prom_command){ "evil\"}\n\xff", 0 };
	fx->s = (struct prom_snapshot){
		.tree_peak_bytes = 4345 * MiB,
		.processes_started = 214,
		.events = 1052113,
		.lost_events = 3,
		.stages = fx->stages,
		.n_stages = 2,
		.commands = fx->commands,
		.n_commands = 2,
	};
}

/* The gateway in its own process group, its output in a file nobody reads unless it fails. */
static pid_t start_gateway(int port)
{
	char listen[64];
	pid_t pid;

	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", port);
	pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_WRONLY);

		setpgid(0, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		/* Debian's default keeps pushes in /var/lib: in memory only, here */
		execlp(GATEWAY, GATEWAY, listen, "--persistence.file=", (char *)NULL);
		_exit(127);
	}
	return pid;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	fill(fx);
	/* a proxy in the environment must not capture loopback pushes */
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	if (fx->gateway > 0) {
		kill(-fx->gateway, SIGTERM);
		kill(fx->gateway, SIGTERM);
		waitpid(fx->gateway, NULL, 0);
	}
	free(fx);
	return 0;
}

/* Start the gateway and wait for /-/ready; skip() when it is not installed. */
static void need_gateway(struct fixture *fx)
{
	int waited = 0;

	if (!promtest_have(GATEWAY))
		skip();
	fx->port = promtest_free_port();
	assert_true(fx->port > 0);
	fx->gateway = start_gateway(fx->port);
	assert_true(fx->gateway > 0);
	while (promtest_request(fx->port, "GET", "/-/ready", NULL) != 200) {
		assert_int_equal(waitpid(fx->gateway, NULL, WNOHANG), 0); /* still running */
		assert_true(waited < READY_WAIT_MS);
		promtest_sleep_ms(50);
		waited += 50;
	}
	snprintf(fx->url, sizeof(fx->url), "http://127.0.0.1:%d/", fx->port);
}

static char *gateway_metrics(struct fixture *fx)
{
	char *body = NULL;

	assert_int_equal(promtest_request(fx->port, "GET", "/metrics", &body), 200);
	assert_non_null(body);
	return body;
}

/*
 * The value of the sample of family name whose labels contain each of the "k=\"v\""
 * strings given (NULL-ended); NAN when there is none.
 */
static double sample(const char *text, const char *name, ...)
{
	const char *line, *nl;
	char prefix[128];

	snprintf(prefix, sizeof(prefix), "%s{", name);
	for (line = text; *line; line = nl + 1) {
		const char *want;
		bool all = true;
		va_list ap;

		nl = strchr(line, '\n');
		if (!nl)
			break;
		if (strncmp(line, prefix, strlen(prefix)))
			continue;
		va_start(ap, name);
		while ((want = va_arg(ap, const char *))) {
			const char *at = memmem(line, (size_t)(nl - line), want, strlen(want));

			all &= at != NULL;
		}
		va_end(ap);
		if (all)
			return strtod(memrchr(line, ' ', (size_t)(nl - line)) + 1, NULL);
	}
	return NAN;
}

/* The lines of the families named bmtrace_*: what was pushed, as the gateway serves it. */
static char *bmtrace_families(const char *text)
{
	char *out = calloc(1, strlen(text) + 1), *o = out;
	const char *line, *nl;

	assert_non_null(out);
	for (line = text; *line && (nl = strchr(line, '\n')); line = nl + 1) {
		if (!strncmp(line, "bmtrace_", 8) || !strncmp(line, "# HELP bmtrace_", 15) ||
		    !strncmp(line, "# TYPE bmtrace_", 15)) {
			memcpy(o, line, (size_t)(nl - line) + 1);
			o += nl - line + 1;
		}
	}
	return out;
}

static void test_push_and_read_back(void **state)
{
	struct fixture *fx = *state;
	char err[256] = "", out[4096];
	double before = (double)time(NULL), last;
	char *m, *ours;
	int rc;

	need_gateway(fx);
	if (push_add(fx->url, &ci_a, &fx->s, true, 5, err, sizeof(err)))
		fail_msg("push_add: %s", err);
	m = gateway_metrics(fx);
	assert_true(sample(m, "bmtrace_tree_rss_peak_bytes", "job=\"ci-build\"",
			   "instance=\"runner-a\"", (char *)NULL) == 4345.0 * MiB);
	assert_true(sample(m, "bmtrace_events_total", "job=\"ci-build\"", "instance=\"runner-a\"",
			   (char *)NULL) == 1052113);
	assert_true(sample(m, "bmtrace_lost_events_total", "job=\"ci-build\"",
			   "instance=\"runner-a\"", (char *)NULL) == 3);
	assert_true(sample(m, "bmtrace_stage_rss_peak_bytes", "job=\"ci-build\"",
			   "instance=\"runner-a\"", "stage=\"li\\\"nk\\n\"",
			   (char *)NULL) == 900.0 * MiB);
	assert_false(isnan(sample(m, "bmtrace_command_rss_bytes", "job=\"ci-build\"",
				  "instance=\"runner-a\"", "command=\"evil\\\"}\\n\xef\xbf\xbd\"",
				  (char *)NULL)));
	assert_true(sample(m, "bmtrace_build_info", "job=\"ci-build\"", "instance=\"runner-a\"",
			   "version=\"" BMT_VERSION "\"", (char *)NULL) == 1);
	last = sample(m, "bmtrace_last_success_timestamp_seconds", "job=\"ci-build\"",
		      "instance=\"runner-a\"", (char *)NULL);
	assert_true(last >= before && last <= (double)time(NULL) + 1);
	if (promtest_have("promtool")) {
		ours = bmtrace_families(m);
		rc = promtest_check(ours, strlen(ours), out, sizeof(out));
		if (rc)
			fail_msg("promtool check metrics on the pushed data: %d: %s\n%s", rc, out,
				 ours);
		free(ours);
	}
	free(m);

	/* a failed run: its values replace the group's, the last success stays */
	fx->s.tree_peak_bytes = 5000 * MiB;
	if (push_add(fx->url, &ci_a, &fx->s, false, 5, err, sizeof(err)))
		fail_msg("push_add: %s", err);
	m = gateway_metrics(fx);
	assert_true(sample(m, "bmtrace_tree_rss_peak_bytes", "job=\"ci-build\"", "instance=\"runner-a\"", (char *)NULL) ==
		    5000.0 * MiB);
	assert_true(sample(m, "bmtrace_last_success_timestamp_seconds", "job=\"ci-build\"", "instance=\"runner-a\"",
			   (char *)NULL) == last);
	free(m);
}

/* A job name that is not URL-safe goes base64url-encoded and comes back whole. */
static void test_job_names(void **state)
{
	struct fixture *fx = *state;
	static const char *const jobs[] = { "a/b c", "x", "é?#%", "ab", "abc", "build.main~1-x" };
	char err[256], want[64], inst[64];
	char *m;

	need_gateway(fx);
	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		fx->s.events = i + 1;
		if (push_add(fx->url, &(struct push_group){ jobs[i], jobs[i] }, &fx->s, true, 5,
			     err, sizeof(err)))
			fail_msg("push_add job '%s': %s", jobs[i], err);
	}
	m = gateway_metrics(fx);
	for (size_t i = 0; i < sizeof(jobs) / sizeof(jobs[0]); i++) {
		snprintf(want, sizeof(want), "job=\"%s\"", jobs[i]);
		snprintf(inst, sizeof(inst), "instance=\"%s\"", jobs[i]);
		if (sample(m, "bmtrace_events_total", want, inst, (char *)NULL) != (double)(i + 1))
			fail_msg("job and instance '%s' not read back", jobs[i]);
	}
	free(m);
}

/*
 * Runners of one job, each its own instance: both groups are kept, each with its own values
 * and its own last success (a failed run of one leaves the other's untouched); an empty
 * instance is a group of its own too.
 */
static void test_instances(void **state)
{
	struct fixture *fx = *state;
	static const struct push_group b = { "ci-build", "runner-b" }, none = { "ci-build", "" };
	char err[256];
	double last_a;
	char *m;

	need_gateway(fx);
	fx->s.tree_peak_bytes = 100;
	if (push_add(fx->url, &ci_a, &fx->s, true, 5, err, sizeof(err)))
		fail_msg("push_add a: %s", err);
	fx->s.tree_peak_bytes = 200;
	if (push_add(fx->url, &b, &fx->s, false, 5, err, sizeof(err)) ||
	    push_add(fx->url, &none, &fx->s, true, 5, err, sizeof(err)))
		fail_msg("push_add b: %s", err);
	m = gateway_metrics(fx);
	assert_true(sample(m, "bmtrace_tree_rss_peak_bytes", "job=\"ci-build\"",
			   "instance=\"runner-a\"", (char *)NULL) == 100);
	assert_true(sample(m, "bmtrace_tree_rss_peak_bytes", "job=\"ci-build\"",
			   "instance=\"runner-b\"", (char *)NULL) == 200);
	assert_true(sample(m, "bmtrace_tree_rss_peak_bytes", "job=\"ci-build\"",
			   "instance=\"\"", (char *)NULL) == 200);
	last_a = sample(m, "bmtrace_last_success_timestamp_seconds", "instance=\"runner-a\"",
			(char *)NULL);
	assert_false(isnan(last_a));
	assert_true(isnan(sample(m, "bmtrace_last_success_timestamp_seconds",
				 "instance=\"runner-b\"", (char *)NULL)));
	free(m);
	/* b succeeds later: a's last success is still its own */
	if (push_add(fx->url, &b, &fx->s, true, 5, err, sizeof(err)))
		fail_msg("push_add b: %s", err);
	m = gateway_metrics(fx);
	assert_true(sample(m, "bmtrace_last_success_timestamp_seconds", "instance=\"runner-a\"",
			   (char *)NULL) == last_a);
	assert_false(isnan(sample(m, "bmtrace_last_success_timestamp_seconds",
				  "instance=\"runner-b\"", (char *)NULL)));
	free(m);
}

/* The gateway refuses a push inconsistent with what it holds: its reason is said. */
static void test_refused(void **state)
{
	struct fixture *fx = *state;
	static const char body[] = "# TYPE bmtrace_processes counter\nbmtrace_processes 1\n";
	char err[256] = "", seed[256], *out;

	need_gateway(fx);
	snprintf(seed, sizeof(seed),
		 "POST /metrics/job/seed HTTP/1.0\r\nContent-Length: %zu\r\n\r\n%s", strlen(body),
		 body);
	out = promtest_raw(fx->port, seed, strlen(seed));
	assert_non_null(out);
	if (!strstr(out, " 200 "))
		fail_msg("seeding the gateway: %s", out);
	free(out);
	assert_int_equal(push_add(fx->url, &ci_a, &fx->s, true, 5, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "pushgateway answered HTTP 400: pushed metrics are invalid"));
	assert_null(strchr(err, '\n'));
}

static void test_nobody_listening(void **state)
{
	struct fixture *fx = *state;
	char url[64], err[256] = "";
	int port = promtest_free_port();

	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	assert_int_equal(push_add(url, &ci_a, &fx->s, true, 2, err, sizeof(err)), -1);
	assert_memory_equal(err, "pushgateway: ", 13);
	assert_null(strchr(err, '\n'));
}

/* A server that accepts and never answers: the push gives up after its timeout. */
static void test_silent_server(void **state)
{
	struct fixture *fx = *state;
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	char url[64], err[256] = "";
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	time_t t0;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
	assert_int_equal(listen(fd, 4), 0); /* never accepted: the kernel completes connects */
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", ntohs(sa.sin_port));
	t0 = time(NULL);
	assert_int_equal(push_add(url, &ci_a, &fx->s, true, 1, err, sizeof(err)), -1);
	assert_true(time(NULL) - t0 <= 3);
	assert_non_null(strstr(err, "pushgateway: "));
	assert_non_null(strcasestr(err, "timeout") ?: strcasestr(err, "timed out"));
	close(fd);
}

static void test_bad_arguments(void **state)
{
	struct fixture *fx = *state;
	char err[256];

	assert_int_equal(push_add("ftp://127.0.0.1:1", &ci_a, &fx->s, true, 1, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "http://"));
	assert_int_equal(push_add("127.0.0.1:9091", &ci_a, &fx->s, true, 1, err, sizeof(err)), -1);
	assert_int_equal(push_add("http://127.0.0.1:1", &(struct push_group){"", "a"}, &fx->s, true,
				  1, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "job"));
	assert_int_equal(push_add("http://127.0.0.1:1", &(struct push_group){NULL, "a"}, &fx->s,
				  true, 1, err, sizeof(err)),
			 -1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_push_and_read_back), T(test_job_names),	   T(test_instances), T(test_refused),
		T(test_nobody_listening),   T(test_silent_server), T(test_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
