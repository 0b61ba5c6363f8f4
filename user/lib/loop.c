// SPDX-License-Identifier: MIT
/* loop - descriptors, signals and a tick on one epoll (loop.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/epoll.h>
#include "loop.h"

#define MAX_FDS 8 /* the ring, the signalfd, a pidfd: a handful, known at build time */

struct watch {
	int fd;
	loop_fd_fn fn;
	void *ctx;
};

struct loop {
	int ep;
	unsigned int tick_ms;
	loop_tick_fn tick;
	void *tick_ctx;
	struct watch fds[MAX_FDS];
	int n_fds;
	int sfd;
	sigset_t caught, old_mask;
	loop_signal_fn on_signal;
	void *signal_ctx;
	int stopped, rc;
};

struct loop *loop__new(unsigned int tick_ms, loop_tick_fn tick, void *ctx)
{
	struct loop *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->ep = epoll_create1(EPOLL_CLOEXEC);
	if (l->ep < 0) {
		free(l);
		return NULL;
	}
	l->tick_ms = tick_ms;
	l->tick = tick;
	l->tick_ctx = ctx;
	l->sfd = -1;
	sigemptyset(&l->caught);
	sigprocmask(SIG_SETMASK, NULL, &l->old_mask);
	return l;
}

void loop__free(struct loop *l)
{
	if (!l)
		return;
	if (l->sfd >= 0)
		close(l->sfd);
	close(l->ep);
	free(l);
}

/* Each pending siginfo to the callback, in order. */
static void read_signals(struct loop *l, int fd, void *ctx)
{
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si))
		l->on_signal(l, &si, l->signal_ctx);
}

int loop__catch(struct loop *l, const int *sigs, int n, loop_signal_fn fn, void *ctx)
{
	int first = l->sfd < 0, fd;

	for (int i = 0; i < n; i++)
		sigaddset(&l->caught, sigs[i]);
	if (sigprocmask(SIG_BLOCK, &l->caught, NULL))
		return -errno;
	fd = signalfd(l->sfd, &l->caught, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	l->sfd = fd;
	l->on_signal = fn;
	l->signal_ctx = ctx;
	return first ? loop__add_fd(l, fd, read_signals, NULL) : 0;
}

const sigset_t *loop__old_mask(const struct loop *l)
{
	return &l->old_mask;
}

int loop__signal_fd(const struct loop *l)
{
	return l->sfd;
}

int loop__add_fd(struct loop *l, int fd, loop_fd_fn fn, void *ctx)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = l->n_fds };

	if (l->n_fds == MAX_FDS)
		return -ENOSPC;
	if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev))
		return -errno;
	l->fds[l->n_fds++] = (struct watch){ fd, fn, ctx };
	return 0;
}

void loop__stop(struct loop *l, int rc)
{
	l->stopped = 1;
	l->rc = rc;
}

int loop__run(struct loop *l)
{
	struct epoll_event ev[MAX_FDS];

	l->stopped = 0;
	while (!l->stopped) {
		int n = epoll_wait(l->ep, ev, MAX_FDS, (int)l->tick_ms);

		if (n < 0 && errno != EINTR)
			return -errno;
		for (int i = 0; i < n; i++) {
			struct watch *w = &l->fds[ev[i].data.u32];

			w->fn(l, w->fd, w->ctx);
		}
		if (l->tick)
			l->tick(l, l->tick_ctx);
	}
	return l->rc;
}
