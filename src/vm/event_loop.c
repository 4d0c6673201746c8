/* event_loop.c: an epoll loop with one callback per file descriptor. */
#include "vm/event_loop.h"

#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util/log.h"

int event_loop_init(struct event_loop *loop)
{
	memset(loop, 0, sizeof(*loop));
	for (int i = 0; i < EVENT_LOOP_MAX; i++)
		loop->sources[i].fd = -1;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0)
		return error_errno("epoll_create1");
	return 0;
}

void event_loop_destroy(struct event_loop *loop)
{
	if (loop->epfd >= 0)
		close(loop->epfd);
	loop->epfd = -1;
}

int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_fn fn, void *opaque)
{
	struct epoll_event ev = { .events = events };
	int i;

	for (i = 0; i < EVENT_LOOP_MAX && loop->sources[i].fd >= 0; i++)
		;
	if (i == EVENT_LOOP_MAX)
		return error("event loop: too many sources");
	loop->sources[i] = (struct event_source){ fd, fn, opaque };
	ev.data.u32 = (uint32_t)i;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		loop->sources[i].fd = -1;
		return error_errno("epoll_ctl(ADD, fd %d)", fd);
	}
	return 0;
}

void event_loop_del(struct event_loop *loop, int fd)
{
	for (int i = 0; i < EVENT_LOOP_MAX; i++) {
		if (loop->sources[i].fd == fd) {
			epoll_ctl(loop->epfd, EPOLL_CTL_DEL, fd, NULL);
			loop->sources[i].fd = -1;
		}
	}
}

int event_loop_set_events(struct event_loop *loop, int fd, uint32_t events)
{
	for (int i = 0; i < EVENT_LOOP_MAX; i++) {
		struct epoll_event ev = { .events = events, .data.u32 = (uint32_t)i };

		if (loop->sources[i].fd == fd)
			return epoll_ctl(loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0 ? -1 : 0;
	}
	return -1;
}

int event_loop_run(struct event_loop *loop)
{
	struct epoll_event evs[16];

	while (!loop->stop) {
		int n = epoll_wait(loop->epfd, evs, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return error_errno("epoll_wait");
		}
		for (int i = 0; i < n && !loop->stop; i++) {
			struct event_source *s = &loop->sources[evs[i].data.u32];

			if (s->fd >= 0)
				s->fn(s->opaque, evs[i].events);
		}
	}
	return 0;
}

void event_loop_stop(struct event_loop *loop)
{
	loop->stop = true;
}
