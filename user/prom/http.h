/* SPDX-License-Identifier: MIT */
/*
 * http - the /metrics endpoint: a libmicrohttpd server that serves the latest published
 * page.
 *
 * Threading: libmicrohttpd answers every request on one thread of its own. The tracing
 * thread never shares the collector with it: after each drain it renders a page
 * (prom_render_alloc, with no lock held) and hands it over with http__publish, which only
 * swaps a pointer under the server's mutex. A scrape takes a reference to the current page
 * under that mutex and sends it without holding the lock; a page is freed when it has been
 * replaced and the last response sending it is done. So every scrape sees one whole
 * snapshot, as of the last publish, a slow client never delays tracing, and a scrape never
 * waits on a render.
 *
 * Signals: the server's thread blocks them all, so a signal sent to the process (SIGCHLD,
 * SIGINT, ...) reaches the caller's own thread or signalfd, never the server's.
 *
 * Requests: GET and HEAD only; /metrics (the page, PROM_CONTENT_TYPE) and / (a small HTML
 * index linking it); 404 for any other path, 405 with "Allow: GET, HEAD" for another method
 * on those two; 503 while nothing has been published. Bounded: connections (max_conns),
 * memory per connection (its request headers included: larger requests get 431 or 413),
 * idle time (a slow or silent client is dropped after timeout_s).
 */
#ifndef BMT_HTTP_H
#define BMT_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HTTP_DEFAULT_ADDR      "127.0.0.1"
#define HTTP_DEFAULT_MAX_CONNS 64
#define HTTP_DEFAULT_TIMEOUT_S 10
#define HTTP_CONN_MEMORY       (32 * 1024) /* per connection: request line and headers */

struct http_server;

struct http_opts {
	const char *listen;     /* "ADDR:PORT", "[V6ADDR]:PORT", ":PORT" or "PORT" (ADDR
				 * HTTP_DEFAULT_ADDR); PORT 0 picks a free port */
	unsigned int max_conns; /* 0: HTTP_DEFAULT_MAX_CONNS */
	unsigned int timeout_s; /* 0: HTTP_DEFAULT_TIMEOUT_S */
};

/*
 * Parse a --listen value (names like "localhost" are resolved). Returns 0, or -EINVAL with a
 * one-line reason in err.
 */
int http_parse_listen(const char *spec, struct sockaddr_storage *addr, socklen_t *len,
		      char *err, size_t errlen);

/* Listen and serve in a thread of libmicrohttpd's. NULL with a one-line reason in err. */
struct http_server *http__start(const struct http_opts *opts, char *err, size_t errlen);

/*
 * Serve page[0..len) from now on. Takes ownership of page (malloc'd, e.g. by
 * prom_render_alloc), even on failure. Returns 0 or -ENOMEM.
 */
int http__publish(struct http_server *srv, char *page, size_t len);

/* The port listened on (the one picked for PORT 0). */
uint16_t http__port(const struct http_server *srv);

/* GET or HEAD requests of /metrics answered with a page so far. */
uint64_t http__scrapes(struct http_server *srv);

/*
 * --linger: keep serving the last page for seconds, so that the last scrape sees the final
 * values. Returns early (1) when stop_fd (e.g. the caller's signalfd; -1: none) becomes
 * readable, else 0 once the time is up.
 */
int http__linger(struct http_server *srv, unsigned int seconds, int stop_fd);

/* Stop listening, close every connection, free everything. NULL is a no-op. */
void http__stop(struct http_server *srv);

#endif /* BMT_HTTP_H */
