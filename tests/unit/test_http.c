// modules: http prom deaths util
// SPDX-License-Identifier: MIT
/*
 * http: the /metrics endpoint on a loopback ephemeral port. Methods and paths, 50
 * concurrent scrapes while pages are published as fast as they render, malformed,
 * oversized and slow requests, a connection flood; the server keeps serving after each.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "http.h"
#include "prom.h"
#include "promtest.h"

#define SCRAPERS	    50
#define SCRAPES_PER_THREAD  20
#define TEST_TIMEOUT_S	    1 /* idle connections are dropped after this */
#define MAX_CONNS	    64

struct fixture {
	struct http_server *srv;
	int port;
	int fds_before;
};

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* A page whose tree bytes and events are both k: a torn page would show two values. */
static char *page_of(uint64_t k, size_t *len)
{
	struct prom_command cmd = { "cc1", k };
	struct prom_snapshot s = { .tree_bytes = k, .events = k, .commands = &cmd,
				   .n_commands = 1 };

	return prom_render_alloc(&s, 1, len);
}

static void publish(struct http_server *srv, uint64_t k)
{
	size_t len;
	char *page = page_of(k, &len);

	assert_non_null(page);
	assert_int_equal(http__publish(srv, page, len), 0);
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct http_opts o = { .listen = "127.0.0.1:0", .max_conns = MAX_CONNS,
			       .timeout_s = TEST_TIMEOUT_S };
	char err[256];

	if (!fx)
		return -1;
	fx->fds_before = count_fds();
	fx->srv = http__start(&o, err, sizeof(err));
	if (!fx->srv) {
		fprintf(stderr, "http__start: %s\n", err);
		free(fx);
		return -1;
	}
	fx->port = http__port(fx->srv);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;

	http__stop(fx->srv);
	/* the listening socket and every connection closed */
	assert_int_equal(count_fds(), fx->fds_before);
	free(fx);
	return 0;
}

static char *raw(int port, const char *request)
{
	return promtest_raw(port, request, strlen(request));
}

/* The value of the sample line starting with name (no labels), or -1. */
static int64_t value_of(const char *text, const char *name)
{
	char key[128];
	const char *p;

	snprintf(key, sizeof(key), "\n%s ", name);
	p = strstr(text, key);
	return p ? (int64_t)strtoull(p + strlen(key), NULL, 10) : -1;
}

static void assert_serves(struct fixture *fx)
{
	char *body = NULL;

	assert_int_equal(promtest_request(fx->port, "GET", "/metrics", &body), 200);
	assert_non_null(body);
	assert_non_null(strstr(body, "\nbmtrace_build_info{version="));
	free(body);
}

static void test_listen_port(void **state)
{
	struct fixture *fx = *state;

	assert_true(fx->port > 0);
}

static void test_nothing_published(void **state)
{
	struct fixture *fx = *state;

	assert_int_equal(promtest_request(fx->port, "GET", "/metrics", NULL), 503);
	assert_int_equal(promtest_request(fx->port, "GET", "/", NULL), 200);
	assert_int_equal(http__scrapes(fx->srv), 0);
}

static void test_get_metrics(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	char *want = page_of(42, &len), *out, *body, promtool[4096];

	publish(fx->srv, 42);
	out = raw(fx->port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_non_null(out);
	assert_memory_equal(out, "HTTP/1.1 200 OK\r\n", 17);
	assert_non_null(strcasestr(out, "\r\nContent-Type: " PROM_CONTENT_TYPE "\r\n"));
	body = strstr(out, "\r\n\r\n") + 4;
	assert_string_equal(body, want);
	assert_int_equal(http__scrapes(fx->srv), 1);
	/* a query string is not part of the path */
	assert_int_equal(promtest_request(fx->port, "GET", "/metrics?x=1", NULL), 200);
	if (promtest_have("promtool")) {
		int rc = promtest_check(body, strlen(body), promtool, sizeof(promtool));

		if (rc)
			fail_msg("promtool check metrics: %d: %s", rc, promtool);
	}
	free(out);
	free(want);
}

static void test_head(void **state)
{
	struct fixture *fx = *state;
	size_t len;
	char *want = page_of(7, &len), *out, cl[64];

	publish(fx->srv, 7);
	out = raw(fx->port, "HEAD /metrics HTTP/1.0\r\n\r\n");
	assert_non_null(out);
	assert_memory_equal(out, "HTTP/1.1 200 OK\r\n", 17);
	snprintf(cl, sizeof(cl), "\r\nContent-Length: %zu\r\n", len);
	assert_non_null(strcasestr(out, cl));
	assert_string_equal(strstr(out, "\r\n\r\n"), "\r\n\r\n"); /* no body */
	free(out);
	free(want);
}

static void test_index(void **state)
{
	struct fixture *fx = *state;
	char *body = NULL;

	assert_int_equal(promtest_request(fx->port, "GET", "/", &body), 200);
	assert_non_null(strstr(body, "<a href=\"/metrics\">"));
	free(body);
	assert_int_equal(promtest_request(fx->port, "HEAD", "/", NULL), 200);
}

static void test_methods_and_paths(void **state)
{
	struct fixture *fx = *state;
	static const char *const methods[] = { "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
					       "TRACE", "FOO" };
	static const char *const paths[] = { "/nope", "/metrics/", "/metricsX", "/index.html",
					     "/../metrics", "//metrics" };
	char *out;

	publish(fx->srv, 1);
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		assert_int_equal(promtest_request(fx->port, methods[i], "/metrics", NULL), 405);
		assert_int_equal(promtest_request(fx->port, methods[i], "/", NULL), 405);
	}
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		assert_int_equal(promtest_request(fx->port, "GET", paths[i], NULL), 404);
	out = raw(fx->port, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
			    "Connection: close\r\n\r\nhello");
	assert_non_null(out);
	assert_memory_equal(out, "HTTP/1.1 405 ", 13);
	assert_non_null(strcasestr(out, "\r\nAllow: GET, HEAD\r\n"));
	free(out);
	assert_int_equal(http__scrapes(fx->srv), 0);
	assert_serves(fx);
}

/* Scrapers all at once, while a publisher replaces the page as fast as it renders. */
struct storm {
	struct fixture *fx;
	pthread_barrier_t start;
	atomic_bool stop;
	atomic_int ok, torn, failed;
	atomic_uint_fast64_t published;
};

static void *publisher(void *arg)
{
	struct storm *st = arg;
	uint64_t k = 1;

	pthread_barrier_wait(&st->start);
	for (; !atomic_load(&st->stop) && k < 10000000; k++) {
		size_t len;
		char *page = page_of(k, &len);

		if (!page || http__publish(st->fx->srv, page, len))
			atomic_fetch_add(&st->failed, 1);
	}
	atomic_store(&st->published, k);
	return NULL;
}

static void *scraper(void *arg)
{
	struct storm *st = arg;

	pthread_barrier_wait(&st->start);
	for (int i = 0; i < SCRAPES_PER_THREAD; i++) {
		char *body = NULL;
		int status = promtest_request(st->fx->port, "GET", "/metrics", &body);

		if (status != 200 || !body) {
			atomic_fetch_add(&st->failed, 1);
		} else if (value_of(body, "bmtrace_tree_rss_bytes") !=
				   value_of(body, "bmtrace_events_total") ||
			   !strstr(body, "\nbmtrace_build_info{")) {
			atomic_fetch_add(&st->torn, 1);
		} else {
			atomic_fetch_add(&st->ok, 1);
		}
		free(body);
	}
	return NULL;
}

static void test_concurrent_scrapes(void **state)
{
	struct fixture *fx = *state;
	struct storm st = { .fx = fx };
	pthread_t pub, th[SCRAPERS];

	publish(fx->srv, 0);
	pthread_barrier_init(&st.start, NULL, SCRAPERS + 1 + 1);
	assert_int_equal(pthread_create(&pub, NULL, publisher, &st), 0);
	for (int i = 0; i < SCRAPERS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, scraper, &st), 0);
	pthread_barrier_wait(&st.start);
	for (int i = 0; i < SCRAPERS; i++)
		pthread_join(th[i], NULL);
	atomic_store(&st.stop, true);
	pthread_join(pub, NULL);
	pthread_barrier_destroy(&st.start);
	printf("  %d scrapes answered, %" PRIu64 " pages published meanwhile\n",
	       atomic_load(&st.ok), (uint64_t)atomic_load(&st.published));
	assert_int_equal(atomic_load(&st.failed), 0);
	assert_int_equal(atomic_load(&st.torn), 0);
	assert_int_equal(atomic_load(&st.ok), SCRAPERS * SCRAPES_PER_THREAD);
	assert_true(atomic_load(&st.published) > 1);
	assert_int_equal(http__scrapes(fx->srv), SCRAPERS * SCRAPES_PER_THREAD);
	assert_serves(fx);
}

/* Send junk and read the answer: its status, or 0 when the server just closed. */
static int send_junk(int port, const char *junk, size_t len)
{
	int fd = promtest_connect(port), status = 0;
	char *out;

	assert_true(fd >= 0);
	promtest_send_all(fd, junk, len); /* the server may close before reading it all */
	shutdown(fd, SHUT_WR);
	out = promtest_read_all(fd, NULL);
	if (out && *out)
		assert_int_equal(sscanf(out, "HTTP/1.%*d %d", &status), 1);
	free(out);
	close(fd);
	return status;
}

static void refused(int port, const char *junk, size_t len)
{
	int status = send_junk(port, junk, len);

	if (status && status < 400)
		fail_msg("answered %d to %.40s", status, junk);
}

static void test_malformed(void **state)
{
	struct fixture *fx = *state;
	static const char nuls[] = "GET /metrics\0 HTTP/1.1\r\nHost: x\r\n\r\n";
	static const char chunked[] =
		"GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n";
	static const char *const junk[] = {
		"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", /* a TLS hello */
		"garbage\r\n\r\n",
		"GET\r\n\r\n",
		"GET /metrics HTTP/9.9\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nno colon here\r\n\r\n",
		"GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
		"\r\n\r\n\r\n\r\n",
	};
	char bytes[4096];

	publish(fx->srv, 3);
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		refused(fx->port, junk[i], strlen(junk[i]));
		assert_serves(fx);
	}
	send_junk(fx->port, nuls, sizeof(nuls) - 1); /* libmicrohttpd reads up to the NUL */
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (char)(i * 7919 % 251);
	refused(fx->port, bytes, sizeof(bytes));
	assert_serves(fx);
	/* a GET with a broken body is answered from its headers; the body is never read */
	send_junk(fx->port, chunked, strlen(chunked));
	assert_serves(fx);
}

/* Headers or a URL beyond the per-connection memory: refused, memory bounded. */
static void test_oversized(void **state)
{
	struct fixture *fx = *state;
	size_t big = 4 * HTTP_CONN_MEMORY;
	char *req = malloc(big + 128);

	publish(fx->srv, 4);
	memcpy(req, "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ", 40);
	memset(req + 40, 'a', big);
	memcpy(req + 40 + big, "\r\n\r\n", 4);
	refused(fx->port, req, big + 44);
	assert_serves(fx);

	memcpy(req, "GET /", 5);
	memset(req + 5, 'm', big);
	memcpy(req + 5 + big, " HTTP/1.1\r\n\r\n", 13);
	refused(fx->port, req, big + 18);
	assert_serves(fx);

	/* many small headers */
	for (size_t off = 0; off + 8 < big; off += 8)
		memcpy(req + off, "A: b\r\n  ", 8);
	memcpy(req, "GET /metrics HTTP/1.1\r\n", 23);
	memcpy(req + big - 8, "\r\n\r\n\r\n\r\n", 8);
	refused(fx->port, req, big);
	assert_serves(fx);
	free(req);
}

/* Silent and trickling partial requests: others are served meanwhile; silent ones dropped. */
static void test_slow_clients(void **state)
{
	struct fixture *fx = *state;
	static const char part[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n";
	int silent[10], trickle[5];
	char c;

	publish(fx->srv, 5);
	for (int i = 0; i < 10; i++) {
		silent[i] = promtest_connect(fx->port);
		assert_true(silent[i] >= 0);
		assert_true(promtest_send_all(silent[i], part, sizeof(part) - 1));
	}
	for (int i = 0; i < 5; i++) {
		trickle[i] = promtest_connect(fx->port);
		assert_true(trickle[i] >= 0);
		assert_true(promtest_send_all(trickle[i], "GET /metrics HTTP/1.1\r\nX: ", 26));
	}
	/* 2 s of trickling one byte at a time, every 250 ms, while others are served */
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < 5; i++)
			promtest_send_all(trickle[i], "a", 1);
		assert_serves(fx);
		promtest_sleep_ms(250);
	}
	/* the silent ones were dropped after TEST_TIMEOUT_S, without an answer */
	for (int i = 0; i < 10; i++) {
		assert_int_equal(recv(silent[i], &c, 1, 0), 0);
		close(silent[i]);
	}
	for (int i = 0; i < 5; i++)
		close(trickle[i]);
	assert_serves(fx);
}

/* More idle connections than allowed: the extra ones are refused, service resumes. */
static void test_connection_flood(void **state)
{
	struct fixture *fx = *state;
	int fds[MAX_CONNS + 16], n = 0, served = 0;

	publish(fx->srv, 6);
	for (; n < MAX_CONNS + 16; n++) {
		fds[n] = promtest_connect(fx->port);
		if (fds[n] < 0)
			break;
	}
	/* idle connections time out after TEST_TIMEOUT_S: within 5 s, scrapes work again */
	for (int i = 0; i < 50 && !served; i++) {
		served = promtest_request(fx->port, "GET", "/metrics", NULL) == 200;
		if (!served)
			promtest_sleep_ms(100);
	}
	assert_true(served);
	while (n--)
		close(fds[n]);
	assert_serves(fx);
}

/* A response still sending an old page when a new one is published, then the server stops. */
static void test_stop_while_sending(void **state)
{
	struct fixture *fx = *state;
	size_t len = 16 << 20;
	char *big = malloc(len);
	int fd;

	assert_non_null(big);
	memset(big, '#', len);
	big[len - 1] = '\n';
	assert_int_equal(http__publish(fx->srv, big, len), 0);
	fd = promtest_connect(fx->port);
	assert_true(fd >= 0);
	assert_true(promtest_send_all(fd, "GET /metrics HTTP/1.0\r\n\r\n", 25));
	promtest_sleep_ms(100); /* the response is under way, its reader not reading */
	publish(fx->srv, 8);
	assert_serves(fx);
	close(fd);
	/* teardown stops the server: ASan sees any leak or use after free of either page */
}

struct linger_scrape {
	struct fixture *fx;
	int status;
};

static void *scrape_once(void *arg)
{
	struct linger_scrape *ls = arg;

	promtest_sleep_ms(300);
	ls->status = promtest_request(ls->fx->port, "GET", "/metrics", NULL);
	return NULL;
}

static void test_linger(void **state)
{
	struct fixture *fx = *state;
	struct linger_scrape ls = { fx, 0 };
	struct timespec a, b;
	pthread_t th;
	int pipefd[2];

	publish(fx->srv, 9);
	assert_int_equal(pthread_create(&th, NULL, scrape_once, &ls), 0);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(http__linger(fx->srv, 1, -1), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	pthread_join(th, NULL);
	assert_int_equal(ls.status, 200);
	assert_true(b.tv_sec - a.tv_sec + (b.tv_nsec - a.tv_nsec) / 1e9 >= 0.99);

	assert_int_equal(pipe(pipefd), 0);
	assert_int_equal(write(pipefd[1], "x", 1), 1);
	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(http__linger(fx->srv, 30, pipefd[0]), 1);
	clock_gettime(CLOCK_MONOTONIC, &b);
	assert_true(b.tv_sec - a.tv_sec < 2);
	close(pipefd[0]);
	close(pipefd[1]);
	assert_int_equal(http__linger(fx->srv, 0, -1), 0);
}

/* The server's thread blocks every signal: SIGCHLD and SIGINT stay the caller's. */
static void test_signals_blocked(void **state)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int others = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char path[300], line[256];
		unsigned long long blocked = 0;
		FILE *f;

		if (e->d_name[0] == '.' || atoi(e->d_name) == gettid())
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue; /* a thread that just ended */
		while (fgets(line, sizeof(line), f))
			sscanf(line, "SigBlk: %llx", &blocked);
		fclose(f);
		assert_true(blocked & 1ull << (SIGCHLD - 1));
		assert_true(blocked & 1ull << (SIGINT - 1));
		assert_true(blocked & 1ull << (SIGTERM - 1));
		others++;
	}
	closedir(d);
	assert_true(others >= 1);
}

static void test_parse_listen(void **state)
{
	static const char *const bad[] = { "", "abc", "1.2.3.4:", "1.2.3.4:70000", "::1:80",
					   "[::1:80", "[::1]", "127.0.0.1:8x", "127.0.0.1:-1",
					   "no.such.host.invalid:80", ":", "1.2.3.4:123456" };
	struct sockaddr_storage ss;
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	socklen_t len;
	char err[256];

	assert_int_equal(http_parse_listen("9100", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(ntohs(in->sin_port), 9100);
	assert_int_equal(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(http_parse_listen(":0", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ntohl(in->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(http_parse_listen("0.0.0.0:9", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(in->sin_addr.s_addr, 0);
	assert_int_equal(ntohs(in->sin_port), 9);
	assert_int_equal(http_parse_listen("[::1]:9100", &ss, &len, err, sizeof(err)), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(ntohs(((struct sockaddr_in6 *)&ss)->sin6_port), 9100);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (!http_parse_listen(bad[i], &ss, &len, err, sizeof(err)))
			fail_msg("accepted --listen '%s'", bad[i]);
		assert_non_null(strstr(err, "--listen"));
		assert_null(strchr(err, '\n'));
	}
}

static void test_port_in_use(void **state)
{
	struct fixture *fx = *state;
	char spec[32], err[256] = "";
	struct http_opts o = { .listen = spec };

	snprintf(spec, sizeof(spec), "127.0.0.1:%d", fx->port);
	assert_null(http__start(&o, err, sizeof(err)));
	assert_non_null(strstr(err, "--listen 127.0.0.1:"));
	assert_non_null(strstr(err, "cannot listen there"));
	assert_non_null(strstr(err, strerror(EADDRINUSE)));
}

static void test_ipv6_loopback(void **state)
{
	struct http_opts o = { .listen = "[::1]:0" };
	struct http_server *srv;
	char err[256];

	srv = http__start(&o, err, sizeof(err));
	if (!srv) {
		printf("SKIP: no IPv6 loopback here: %s\n", err);
		skip();
	}
	assert_true(http__port(srv) > 0);
	http__stop(srv);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_listen_port),	  T(test_nothing_published),
		T(test_get_metrics),	  T(test_head),
		T(test_index),		  T(test_methods_and_paths),
		T(test_concurrent_scrapes), T(test_malformed),
		T(test_oversized),	  T(test_slow_clients),
		T(test_connection_flood), T(test_stop_while_sending),
		T(test_linger),		  T(test_port_in_use),
		T(test_signals_blocked),
		cmocka_unit_test(test_parse_listen), cmocka_unit_test(test_ipv6_loopback),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
