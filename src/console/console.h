/* console.h: where a guest console goes: stdio (raw, Ctrl-A x to quit), a
 * pty, a file, or a unix socket. Used by the UARTs and by virtio-console
 * ports; input is delivered on an event loop to a sink. */
#ifndef KVMINI_CONSOLE_H
#define KVMINI_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct vm;
struct console;
struct serial;
struct event_loop;

/* Who takes a console's input. */
struct console_sink {
	void (*input)(void *opaque, const uint8_t *buf, size_t len);
	void (*hangup)(void *opaque);     /* end of input (peer gone); may be NULL */
	void *opaque;
	void (*quit)(void *quit_opaque);  /* Ctrl-A x on a raw terminal; may be NULL */
	void *quit_opaque;
};

/* Parses `spec` ("stdio", "pty", "file:PATH", "unix:PATH"), opens it and
 * feeds its input to the VM's COM1 through the VM's event loop. */
struct console *console_open(struct vm *vm, const char *spec);
/* The same for another UART (COM2 with --serial2): its input goes to
 * `port`; `name` labels the messages ("COM2 on /dev/pts/3"). */
struct console *console_open_serial(struct vm *vm, const char *spec, struct serial *port,
				    const char *name);
/* Any back end, its input going to `sink` from `loop`. A unix: socket
 * waits here for its one client. */
struct console *console_open_on(struct event_loop *loop, const char *spec, const char *name,
				 const struct console_sink *sink);
/* Sends input elsewhere from now on (Ctrl-A x keeps its meaning). */
void console_set_input(struct console *c, void (*input)(void *, const uint8_t *, size_t),
		       void (*hangup)(void *), void *opaque);
/* Stops reading input while the reader has no room (true), or resumes.
 * Thread-safe against the loop (epoll_ctl). */
void console_hold_input(struct console *c, bool hold);
/* Whether input can still come (an input side that has not ended). */
bool console_has_input(const struct console *c);
/* The terminal size when the console is stdio on a terminal. */
bool console_window_size(const struct console *c, uint16_t *cols, uint16_t *rows);
/* Calls resized(opaque) on the loop after each SIGWINCH, if the console is
 * stdio on a terminal (else does nothing). Blocks SIGWINCH in the calling
 * thread: call it before other threads start. */
int console_watch_resize(struct console *c, void (*resized)(void *opaque), void *opaque);
/* Sends guest output; drops it where no reader can take it (pty, socket gone). */
void console_write(struct console *c, const uint8_t *buf, size_t len);
/* Puts the terminal back as it was (also done by console_close). */
void console_restore_terminal(struct console *c);
/* Restores the terminal and closes descriptors. */
void console_close(struct console *c);

#endif
