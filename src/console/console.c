/* console.c: console back ends: where a guest console's output goes and
 * its input comes from (the UARTs, virtio-console ports). */
#include "console/console.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "devices/serial.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/unix_socket.h"
#include "vm/vm.h"

#define ESCAPE_KEY 0x01 /* Ctrl-A */

enum console_kind { CON_STDIO, CON_PTY, CON_FILE, CON_UNIX };

struct console {
	struct event_loop *loop;
	struct console_sink sink;
	struct vm *vm;        /* for a UART's console: the VM and the UART */
	struct serial *port;
	const char *name;     /* "console" (COM1) or the port's name, for messages */
	enum console_kind kind;
	int in_fd, out_fd;
	bool in_watched;      /* in_fd is on the loop (until end of input) */
	bool held;            /* the reader asked us to stop reading for now */
	int winch_fd;         /* signalfd for SIGWINCH (stdio terminal), or -1 */
	void (*resized)(void *opaque);
	void *resized_opaque;
	int pty_slave_fd;     /* held open so the pty survives readers coming and going */
	bool raw;             /* stdio is a terminal we put in raw mode */
	bool escape;          /* the previous input byte was Ctrl-A */
	struct termios saved;
};

void console_write(struct console *c, const uint8_t *buf, size_t len)
{
	int fd = c ? c->out_fd : STDOUT_FILENO;

	while (len && fd >= 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* EAGAIN on a pty nobody reads, or a closed peer */
		buf += n;
		len -= (size_t)n;
	}
}

/* Ctrl-A x quits, Ctrl-A h helps, Ctrl-A Ctrl-A sends one Ctrl-A. */
static size_t filter_escapes(struct console *c, uint8_t *buf, size_t len)
{
	size_t out = 0;

	for (size_t i = 0; i < len; i++) {
		uint8_t b = buf[i];

		if (c->escape) {
			c->escape = false;
			if (b == 'x' || b == 'X') {
				info("\r\nquit (Ctrl-A x)\r");
				if (c->sink.quit)
					c->sink.quit(c->sink.quit_opaque);
				return out;
			}
			if (b == 'h' || b == '?')
				info("\r\nCtrl-A x: quit  Ctrl-A Ctrl-A: send Ctrl-A\r");
			else if (b == ESCAPE_KEY)
				buf[out++] = b;
			continue;
		}
		if (b == ESCAPE_KEY)
			c->escape = true;
		else
			buf[out++] = b;
	}
	return out;
}

static void on_input(void *opaque, uint32_t events)
{
	struct console *c = opaque;
	uint8_t buf[256];
	ssize_t n = read(c->in_fd, buf, sizeof(buf));
	size_t len;

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		event_loop_del(c->loop, c->in_fd); /* end of input */
		c->in_watched = false;
		if (c->kind == CON_UNIX) {
			close(c->in_fd);
			c->in_fd = c->out_fd = -1;
		}
		if (c->sink.hangup)
			c->sink.hangup(c->sink.opaque);
		return;
	}
	len = c->raw ? filter_escapes(c, buf, (size_t)n) : (size_t)n;
	if (len && c->sink.input)
		c->sink.input(c->sink.opaque, buf, len);
}

static int open_stdio(struct console *c)
{
	struct termios raw;

	struct stat st;

	c->out_fd = STDOUT_FILENO;
	/* Regular files and /dev/null cannot be polled: no console input then. */
	c->in_fd = fstat(STDIN_FILENO, &st) == 0 &&
		   (S_ISCHR(st.st_mode) ? isatty(STDIN_FILENO) : !S_ISREG(st.st_mode)) ?
		   STDIN_FILENO : -1;
	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &c->saved) < 0)
		return 0;
	raw = c->saved;
	cfmakeraw(&raw);
	raw.c_oflag |= OPOST | ONLCR; /* keep "\n" readable on the host terminal */
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
		return error_errno("cannot put the terminal in raw mode");
	c->raw = true;
	info("console on this terminal; Ctrl-A x quits\r");
	return 0;
}

static int open_pty(struct console *c)
{
	struct termios raw;
	const char *name;

	c->in_fd = c->out_fd = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (c->in_fd < 0 || grantpt(c->in_fd) < 0 || unlockpt(c->in_fd) < 0)
		return error_errno("cannot create a pty for the console");
	name = ptsname(c->in_fd);
	c->pty_slave_fd = name ? open(name, O_RDWR | O_NOCTTY | O_CLOEXEC) : -1;
	if (c->pty_slave_fd < 0)
		return error_errno("cannot open the console pty");
	if (tcgetattr(c->pty_slave_fd, &raw) == 0) {
		cfmakeraw(&raw);
		tcsetattr(c->pty_slave_fd, TCSANOW, &raw);
	}
	info("%s on %s", c->name, name);
	return 0;
}

static int open_file(struct console *c, const char *path)
{
	c->out_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (c->out_fd < 0)
		return error_errno("cannot open console file %s", path);
	return 0;
}

/* Listens on PATH and waits for one client before the guest starts. */
static int open_unix(struct console *c, const char *path)
{
	int lfd = unix_listen(path, 1, 0, "console socket");

	if (lfd < 0)
		return -1;
	info("%s: waiting for a connection on %s", c->name, path);
	c->in_fd = c->out_fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	close(lfd);
	unlink(path);
	if (c->in_fd < 0)
		return error_errno("accept on console socket %s", path);
	return 0;
}

static int open_kind(struct console *c, const char *spec)
{
	if (!strcmp(spec, "stdio")) {
		c->kind = CON_STDIO;
		return open_stdio(c);
	}
	if (!strcmp(spec, "pty")) {
		c->kind = CON_PTY;
		return open_pty(c);
	}
	if (str_starts_with(spec, "file:") && spec[5]) {
		c->kind = CON_FILE;
		return open_file(c, spec + 5);
	}
	if (str_starts_with(spec, "unix:") && spec[5]) {
		c->kind = CON_UNIX;
		return open_unix(c, spec + 5);
	}
	return error("unknown --console '%s': use stdio, pty, file:PATH or unix:PATH", spec);
}

static void serial_input(void *opaque, const uint8_t *buf, size_t len)
{
	struct console *c = opaque;

	serial_receive(c->port, buf, len);
}

static void serial_quit(void *opaque)
{
	struct console *c = opaque;

	vm_request_exit(c->vm, EXIT_SHUTDOWN);
}

struct console *console_open(struct vm *vm, const char *spec)
{
	return console_open_serial(vm, spec, vm->com1, "console");
}

struct console *console_open_serial(struct vm *vm, const char *spec, struct serial *port,
				    const char *name)
{
	struct console_sink sink = { .input = serial_input, .quit = serial_quit };
	struct console *c = console_open_on(&vm->loop, spec, name, &sink);

	if (c) {
		c->vm = vm;
		c->port = port;
		c->sink.opaque = c->sink.quit_opaque = c;
	}
	return c;
}

struct console *console_open_on(struct event_loop *loop, const char *spec, const char *name,
				 const struct console_sink *sink)
{
	struct console *c = calloc(1, sizeof(*c));

	if (!c) {
		error("out of memory for the console");
		return NULL;
	}
	c->loop = loop;
	c->sink = *sink;
	c->name = name;
	c->in_fd = c->out_fd = c->pty_slave_fd = c->winch_fd = -1;
	if (open_kind(c, spec) ||
	    (c->in_fd >= 0 && event_loop_add(loop, c->in_fd, EPOLLIN, on_input, c))) {
		console_close(c);
		return NULL;
	}
	c->in_watched = c->in_fd >= 0;
	return c;
}

void console_set_input(struct console *c, void (*input)(void *, const uint8_t *, size_t),
		       void (*hangup)(void *), void *opaque)
{
	c->sink.input = input;
	c->sink.hangup = hangup;
	c->sink.opaque = opaque;
}

void console_hold_input(struct console *c, bool hold)
{
	if (!c || c->held == hold)
		return;
	c->held = hold;
	if (c->in_watched)
		event_loop_set_events(c->loop, c->in_fd, hold ? 0 : EPOLLIN);
}

bool console_has_input(const struct console *c)
{
	return c && c->in_watched;
}

bool console_window_size(const struct console *c, uint16_t *cols, uint16_t *rows)
{
	struct winsize ws;

	if (!c || c->kind != CON_STDIO || !isatty(STDOUT_FILENO) ||
	    ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || !ws.ws_col || !ws.ws_row)
		return false;
	*cols = ws.ws_col;
	*rows = ws.ws_row;
	return true;
}

static void on_winch(void *opaque, uint32_t events)
{
	struct console *c = opaque;
	struct signalfd_siginfo si;

	while (read(c->winch_fd, &si, sizeof(si)) == sizeof(si))
		;
	if (c->resized)
		c->resized(c->resized_opaque);
}

int console_watch_resize(struct console *c, void (*resized)(void *opaque), void *opaque)
{
	uint16_t cols, rows;
	sigset_t set;

	if (!console_window_size(c, &cols, &rows))
		return 0; /* not a terminal: its size never changes */
	/* Blocked here, in the device thread, before any other thread starts
	 * (they inherit the mask), so SIGWINCH is only seen by the signalfd. */
	sigemptyset(&set);
	sigaddset(&set, SIGWINCH);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	c->winch_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (c->winch_fd < 0)
		return error_errno("signalfd(SIGWINCH)");
	c->resized = resized;
	c->resized_opaque = opaque;
	if (event_loop_add(c->loop, c->winch_fd, EPOLLIN, on_winch, c)) {
		close(c->winch_fd);
		c->winch_fd = -1;
		return -1;
	}
	return 0;
}

void console_restore_terminal(struct console *c)
{
	if (c && c->raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &c->saved);
}

void console_close(struct console *c)
{
	if (!c)
		return;
	console_restore_terminal(c);
	if (c->winch_fd >= 0) {
		event_loop_del(c->loop, c->winch_fd);
		close(c->winch_fd);
	}
	if (c->in_watched)
		event_loop_del(c->loop, c->in_fd);
	if (c->kind != CON_STDIO) {
		if (c->in_fd >= 0)
			close(c->in_fd);
		if (c->out_fd >= 0 && c->out_fd != c->in_fd)
			close(c->out_fd);
	}
	if (c->pty_slave_fd >= 0)
		close(c->pty_slave_fd);
	free(c);
}
