/* event_loop.h: the device thread's epoll loop (console input, sockets, timers). */
#ifndef KVMINI_EVENT_LOOP_H
#define KVMINI_EVENT_LOOP_H

#include <stdbool.h>
#include <stdint.h>

typedef void (*event_fn)(void *opaque, uint32_t events);

#define EVENT_LOOP_MAX 64

struct event_loop {
	int epfd;
	bool stop;
	struct event_source {
		int fd;
		event_fn fn;
		void *opaque;
	} sources[EVENT_LOOP_MAX];
};

int event_loop_init(struct event_loop *loop);
void event_loop_destroy(struct event_loop *loop);
/* Calls fn(opaque, epoll events) whenever fd has `events` (EPOLLIN...). */
int event_loop_add(struct event_loop *loop, int fd, uint32_t events, event_fn fn, void *opaque);
void event_loop_del(struct event_loop *loop, int fd);
/* Changes the events watched on fd (0: none for now); thread-safe. */
int event_loop_set_events(struct event_loop *loop, int fd, uint32_t events);
/* Runs until event_loop_stop() is called from a callback. */
int event_loop_run(struct event_loop *loop);
void event_loop_stop(struct event_loop *loop);

#endif
