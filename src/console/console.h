/* console.h: where the guest's serial console goes: stdio (raw, Ctrl-A x to
 * quit), a pty, a file, or a unix socket. */
#ifndef KVMINI_CONSOLE_H
#define KVMINI_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

struct vm;
struct console;
struct serial;

/* Parses `spec` ("stdio", "pty", "file:PATH", "unix:PATH"), opens it and
 * feeds its input to the VM's COM1 through the VM's event loop. */
struct console *console_open(struct vm *vm, const char *spec);
/* The same for another UART (COM2 with --serial2): its input goes to
 * `port`; `name` labels the messages ("COM2 on /dev/pts/3"). */
struct console *console_open_serial(struct vm *vm, const char *spec, struct serial *port,
				    const char *name);
/* Sends guest output; drops it where no reader can take it (pty, socket gone). */
void console_write(struct console *c, const uint8_t *buf, size_t len);
/* Puts the terminal back as it was (also done by console_close). */
void console_restore_terminal(struct console *c);
/* Restores the terminal and closes descriptors. */
void console_close(struct console *c);

#endif
