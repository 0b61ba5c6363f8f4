/* SPDX-License-Identifier: MIT */
/*
 * loop - the one event loop of bmtrace (after redis's ae.h): descriptors with callbacks,
 * the signals the process reads through one signalfd, and a tick.
 *
 * Every mode runs on it: the tracing modes (the ring buffer, signals, a -p root's pidfd)
 * and serve (the ring buffer, signals). It is the only place that sets up epoll and a
 * signalfd.
 *
 * Invariants:
 * - the tick runs after every wake-up and at least every tick_ms: the BPF side sends its
 *   records without waking anyone, so the tick is where they are drained;
 * - the signals given to loop__catch are blocked for the whole process from that call on
 *   (the mask before it is kept, for a child to restore before exec) and are delivered
 *   only to the signal callback, one siginfo at a time, in the order they were queued;
 * - loop__run returns the value given to loop__stop, after the callbacks of the wake-up
 *   that stopped it have run.
 */
#ifndef BMT_LOOP_H
#define BMT_LOOP_H

#include <signal.h>
#include <stdint.h>
#include <sys/signalfd.h>

struct loop;

typedef void (*loop_fd_fn)(struct loop *l, int fd, void *ctx);
typedef void (*loop_signal_fn)(struct loop *l, const struct signalfd_siginfo *si, void *ctx);
typedef void (*loop_tick_fn)(struct loop *l, void *ctx);

/* A loop that ticks at least every tick_ms. NULL with errno set. */
struct loop *loop__new(unsigned int tick_ms, loop_tick_fn tick, void *ctx);
void loop__free(struct loop *l);

/*
 * Read sigs (n of them, added to those caught already) through the loop's signalfd. The
 * first call saves the process's mask as it was (loop__old_mask). 0 or -errno.
 */
int loop__catch(struct loop *l, const int *sigs, int n, loop_signal_fn fn, void *ctx);

/* The signal mask before the first loop__catch: what a child restores before exec. */
const sigset_t *loop__old_mask(const struct loop *l);

/* The signalfd (-1 before loop__catch): readable when a caught signal is pending. */
int loop__signal_fd(const struct loop *l);

/* Call fn whenever fd is readable. 0 or -errno. */
int loop__add_fd(struct loop *l, int fd, loop_fd_fn fn, void *ctx);

/* Run until loop__stop; returns its rc, or -errno when epoll fails. */
int loop__run(struct loop *l);

/* Make loop__run return rc once the current wake-up is handled. */
void loop__stop(struct loop *l, int rc);

#endif /* BMT_LOOP_H */
