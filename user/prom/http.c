// SPDX-License-Identifier: MIT
/*
 * http - the /metrics endpoint on libmicrohttpd (http.h).
 *
 * The listening socket is made here, not by libmicrohttpd, so that a bad address or a port
 * in use is reported with its reason; libmicrohttpd closes it when stopped. Pages are
 * reference counted: one reference while current, one per response still sending it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include "http.h"
#include "prom.h"

#define BACKLOG 64
#define ALLOW	"GET, HEAD"

static const char index_html[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>bmtrace</title></head>\n"
	"<body><h1>bmtrace</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n";

struct page {
	struct http_server *srv;
	size_t refs;
	size_t len;
	char *data;
};

struct http_server {
	struct MHD_Daemon *mhd;
	uint16_t port;
	pthread_mutex_t lock; /* guards cur, every page's refs, scrapes */
	struct page *cur;
	uint64_t scrapes;
	struct MHD_Response *index, *not_found, *not_allowed, *unavailable;
};

static void fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Drop a reference; the caller holds srv->lock. Returns the page to free, or NULL. */
static struct page *page_put_locked(struct page *p)
{
	return p && --p->refs == 0 ? p : NULL;
}

static void page_free(struct page *p)
{
	if (p) {
		free(p->data);
		free(p);
	}
}

/* A response is done with its page (libmicrohttpd's thread, or http__stop). */
static void page_release(void *cls)
{
	struct page *p = cls;
	struct page *dead;

	pthread_mutex_lock(&p->srv->lock);
	dead = page_put_locked(p);
	pthread_mutex_unlock(&p->srv->lock);
	page_free(dead);
}

int http__publish(struct http_server *srv, char *data, size_t len)
{
	struct page *p = malloc(sizeof(*p)), *dead;

	if (!p) {
		free(data);
		return -ENOMEM;
	}
	*p = (struct page){ .srv = srv, .refs = 1, .len = len, .data = data };
	pthread_mutex_lock(&srv->lock);
	dead = page_put_locked(srv->cur);
	srv->cur = p;
	pthread_mutex_unlock(&srv->lock);
	page_free(dead);
	return 0;
}

/* The current page with a reference taken for a response, or NULL. */
static struct page *page_get(struct http_server *srv)
{
	struct page *p;

	pthread_mutex_lock(&srv->lock);
	p = srv->cur;
	if (p) {
		p->refs++;
		srv->scrapes++;
	}
	pthread_mutex_unlock(&srv->lock);
	return p;
}

static enum MHD_Result serve_metrics(struct http_server *srv, struct MHD_Connection *conn)
{
	struct page *p = page_get(srv);
	struct MHD_Response *resp;
	enum MHD_Result ret;

	if (!p)
		return MHD_queue_response(conn, MHD_HTTP_SERVICE_UNAVAILABLE, srv->unavailable);
	resp = MHD_create_response_from_buffer_with_free_callback_cls(p->len, p->data,
								       page_release, p);
	if (!resp) {
		page_release(p);
		return MHD_NO; /* out of memory: libmicrohttpd closes the connection */
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, PROM_CONTENT_TYPE);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
	MHD_destroy_response(resp);
	return ret;
}

/*
 * Answered on the first call, with the headers only: a request body is never read (the
 * connection is closed after the answer then).
 */
static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	struct http_server *srv = cls;
	bool metrics = !strcmp(url, "/metrics"), root = !strcmp(url, "/");

	if (!metrics && !root)
		return MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, srv->not_found);
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, srv->not_allowed);
	if (root)
		return MHD_queue_response(conn, MHD_HTTP_OK, srv->index);
	return serve_metrics(srv, conn);
}

static struct MHD_Response *static_response(const char *body, const char *type)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);

	if (r)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	return r;
}

static int make_responses(struct http_server *srv)
{
	srv->index = static_response(index_html, "text/html; charset=utf-8");
	srv->not_found = static_response("404 not found: try /metrics\n", "text/plain");
	srv->not_allowed = static_response("405 method not allowed: GET or HEAD\n", "text/plain");
	srv->unavailable = static_response("503 no metrics yet\n", "text/plain");
	if (!srv->index || !srv->not_found || !srv->not_allowed || !srv->unavailable)
		return -ENOMEM;
	if (MHD_add_response_header(srv->not_allowed, MHD_HTTP_HEADER_ALLOW, ALLOW) != MHD_YES)
		return -ENOMEM;
	return 0;
}

static void free_responses(struct http_server *srv)
{
	struct MHD_Response *all[] = { srv->index, srv->not_found, srv->not_allowed,
				       srv->unavailable };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (all[i])
			MHD_destroy_response(all[i]);
}

/* Split "HOST:PORT", "[HOST]:PORT", ":PORT" or "PORT" into host (maybe empty) and port. */
static int split_listen(const char *spec, char *host, size_t hostlen, const char **port)
{
	const char *colon = strrchr(spec, ':');
	size_t n;

	if (!colon) {
		*host = '\0';
		*port = spec;
		return 0;
	}
	*port = colon + 1;
	n = (size_t)(colon - spec);
	if (n && spec[0] == '[') {
		if (spec[n - 1] != ']')
			return -EINVAL;
		spec++;
		n -= 2;
	} else if (memchr(spec, ':', n)) {
		return -EINVAL; /* an IPv6 address without brackets */
	}
	if (n >= hostlen)
		return -EINVAL;
	memcpy(host, spec, n);
	host[n] = '\0';
	return 0;
}

static bool valid_port(const char *s)
{
	unsigned long v = 0;

	if (!*s || strlen(s) > 5)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (unsigned long)(*s - '0');
	}
	return v <= 65535;
}

int http_parse_listen(const char *spec, struct sockaddr_storage *addr, socklen_t *len,
		      char *err, size_t errlen)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res;
	char host[256];
	const char *port;
	int rc;

	if (!spec || split_listen(spec, host, sizeof(host), &port) || !valid_port(port)) {
		fail(err, errlen, "--listen '%s': expected ADDR:PORT, [IPV6]:PORT or PORT",
		     spec ? spec : "");
		return -EINVAL;
	}
	rc = getaddrinfo(*host ? host : HTTP_DEFAULT_ADDR, port, &hints, &res);
	if (rc) {
		fail(err, errlen, "--listen '%s': %s", spec, gai_strerror(rc));
		return -EINVAL;
	}
	memcpy(addr, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* A listening socket, or -1 with the reason in err. */
static int listen_on(const char *spec, uint16_t *port, bool *v6, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1;

	if (http_parse_listen(spec, &ss, &len, err, errlen))
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, BACKLOG) ||
	    getsockname(fd, (struct sockaddr *)&ss, &len)) {
		fail(err, errlen, "--listen %s: cannot listen there: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*v6 = ss.ss_family == AF_INET6;
	*port = ntohs(*v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
			  : ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

struct http_server *http__start(const struct http_opts *opts, char *err, size_t errlen)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	unsigned int max = opts->max_conns ? opts->max_conns : HTTP_DEFAULT_MAX_CONNS;
	unsigned int timeout = opts->timeout_s ? opts->timeout_s : HTTP_DEFAULT_TIMEOUT_S;
	unsigned int flags = MHD_USE_AUTO_INTERNAL_THREAD;
	sigset_t all, old;
	bool v6;
	int fd;

	if (!srv || make_responses(srv)) {
		fail(err, errlen, "cannot start the HTTP server: %s", strerror(ENOMEM));
		goto fail;
	}
	pthread_mutex_init(&srv->lock, NULL);
	fd = listen_on(opts->listen, &srv->port, &v6, err, errlen);
	if (fd < 0)
		goto fail_mutex;
	if (v6)
		flags |= MHD_USE_IPv6;
	/* its thread inherits a mask that blocks every signal: they stay the caller's own */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	srv->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv,
				    MHD_OPTION_LISTEN_SOCKET, fd,
				    MHD_OPTION_CONNECTION_LIMIT, max,
				    MHD_OPTION_CONNECTION_TIMEOUT, timeout,
				    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_CONN_MEMORY,
				    MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!srv->mhd) {
		fail(err, errlen, "--listen %s: cannot start the HTTP server", opts->listen);
		if (fcntl(fd, F_GETFD) >= 0) /* whether libmicrohttpd closed it varies */
			close(fd);
		goto fail_mutex;
	}
	return srv;
fail_mutex:
	pthread_mutex_destroy(&srv->lock);
fail:
	if (srv)
		free_responses(srv);
	free(srv);
	return NULL;
}

uint16_t http__port(const struct http_server *srv)
{
	return srv->port;
}

uint64_t http__scrapes(struct http_server *srv)
{
	uint64_t n;

	pthread_mutex_lock(&srv->lock);
	n = srv->scrapes;
	pthread_mutex_unlock(&srv->lock);
	return n;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int http__linger(struct http_server *srv, unsigned int seconds, int stop_fd)
{
	int64_t end = now_ms() + (int64_t)seconds * 1000, left;
	struct pollfd pfd = { .fd = stop_fd, .events = POLLIN };

	while ((left = end - now_ms()) > 0) {
		int n = poll(&pfd, stop_fd >= 0 ? 1 : 0, left > 1000 ? 1000 : (int)left);

		if (n > 0)
			return 1;
	}
	return 0;
}

void http__stop(struct http_server *srv)
{
	struct page *dead;

	if (!srv)
		return;
	MHD_stop_daemon(srv->mhd); /* every response is destroyed: only cur holds a page now */
	dead = page_put_locked(srv->cur);
	page_free(dead);
	free_responses(srv);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
}
