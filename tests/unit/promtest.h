/* SPDX-License-Identifier: MIT */
/*
 * promtest - what the Prometheus tests share: promtool on a text, a raw HTTP client on
 * loopback, a free loopback port, a whole file or a page read into memory.
 */
#ifndef BMT_PROMTEST_H
#define BMT_PROMTEST_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROMTEST_IO_MS 5000 /* a test client gives up on a silent server after this */

/* Is prog on PATH? Prints "SKIP: ..." once per test binary when it is not. */
static inline bool promtest_have(const char *prog)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	if (system(cmd) == 0)
		return true;
	printf("SKIP: %s is not installed (Debian: make test-deps)\n", prog);
	return false;
}

/*
 * `promtool check metrics` on text: its exit status, its output in out. -1 when it could
 * not be run.
 */
static inline int promtest_check(const char *text, size_t len, char *out, size_t outlen)
{
	char tmp[] = "/tmp/bmt-promtool-XXXXXX", cmd[128];
	int fd = mkstemp(tmp), status;
	FILE *p;
	size_t n;

	if (fd < 0)
		return -1;
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics >%s 2>&1", tmp);
	p = popen(cmd, "w");
	if (!p) {
		unlink(tmp);
		return -1;
	}
	fwrite(text, 1, len, p);
	status = pclose(p);
	p = fopen(tmp, "r");
	n = p ? fread(out, 1, outlen - 1, p) : 0;
	out[n] = '\0';
	if (p)
		fclose(p);
	unlink(tmp);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A loopback port nobody listens on right now. */
static inline int promtest_free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	if (fd >= 0 && !bind(fd, (struct sockaddr *)&sa, len) &&
	    !getsockname(fd, (struct sockaddr *)&sa, &len))
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

/* A connected socket to 127.0.0.1:port, with send and receive timeouts; -1 on failure. */
static inline int promtest_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { PROMTEST_IO_MS / 1000, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static inline bool promtest_send_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);

		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Read until the peer closes (or the timeout): a malloc'd NUL-terminated buffer, or NULL. */
static inline char *promtest_read_all(int fd, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	ssize_t r;

	while (buf) {
		if (n + 1 == cap) {
			char *bigger = realloc(buf, cap *= 2);

			if (!bigger)
				break;
			buf = bigger;
		}
		r = recv(fd, buf + n, cap - n - 1, 0);
		if (r <= 0) {
			if (r < 0) {
				free(buf);
				return NULL;
			}
			buf[n] = '\0';
			if (len)
				*len = n;
			return buf;
		}
		n += (size_t)r;
	}
	free(buf);
	return NULL;
}

/*
 * Send request as is to 127.0.0.1:port and read the whole answer (it must close the
 * connection: use HTTP/1.0 or "Connection: close"). Malloc'd, or NULL.
 */
static inline char *promtest_raw(int port, const char *request, size_t reqlen)
{
	int fd = promtest_connect(port);
	char *out;

	if (fd < 0)
		return NULL;
	if (!promtest_send_all(fd, request, reqlen)) {
		close(fd);
		return NULL;
	}
	out = promtest_read_all(fd, NULL);
	close(fd);
	return out;
}

/* "METHOD PATH HTTP/1.0": the answer's status code (its body in *body when asked), or -1. */
static inline int promtest_request(int port, const char *method, const char *path, char **body)
{
	char req[512];
	char *out, *b;
	int status = -1;

	snprintf(req, sizeof(req), "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", method, path);
	out = promtest_raw(port, req, strlen(req));
	if (out && sscanf(out, "HTTP/1.%*d %d", &status) != 1)
		status = -1;
	if (body) {
		b = out ? strstr(out, "\r\n\r\n") : NULL;
		*body = b ? strdup(b + 4) : NULL;
	}
	free(out);
	return status;
}

static inline void promtest_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

#endif /* BMT_PROMTEST_H */
