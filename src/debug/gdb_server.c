/* gdb_server.c: the GDB stub's endpoint and thread.
 *
 * The stub runs in its own thread (not the device event loop): it blocks in
 * poll() on the listening socket or the one client, plus an eventfd the
 * vCPU threads write when they stop. One client at a time; others wait in
 * the backlog and attach when it leaves. Attaching stops the VM (like
 * QEMU); detaching or disconnecting removes every breakpoint and lets the
 * guest run on. Client bytes go through the framing layer (gdb_packet.c);
 * bad checksums get `-`, overlong packets an error reply, and a client that
 * vanishes mid-packet is simply dropped. */
#include "debug/gdb_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "debug/gdb_stub.h"
#include "util/log.h"
#include "util/parse.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

static int listen_unix(struct gdb_stub *s, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (!*path || strlen(path) >= sizeof(sa.sun_path))
		return error("--gdb unix:%s: give a socket path shorter than %zu bytes", path,
			     sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error_errno("gdb: socket");
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 4) < 0) {
		error_errno("gdb: cannot listen on %s", path);
		close(fd);
		return -1;
	}
	strcpy(s->unix_path, path);
	info("gdb: listening on unix:%s", path);
	return fd;
}

/* Binds and listens on the first address `host` resolves to; fills `sa`. */
static int bind_tcp(const char *host, const char *port, struct sockaddr_storage *sa,
		    socklen_t *salen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res;
	int fd, one = 1, ret = getaddrinfo(host, port, &hints, &res);

	if (ret)
		return error("--gdb tcp:%s:%s: %s", host, port, gai_strerror(ret));
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		*salen = sizeof(*sa);
		if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 4) < 0 ||
		    getsockname(fd, (struct sockaddr *)sa, salen) < 0) {
			error_errno("gdb: cannot listen on tcp:%s:%s", host, port);
			close(fd);
			fd = -1;
		}
	} else {
		error_errno("gdb: socket");
	}
	freeaddrinfo(res);
	return fd;
}

/* "HOST:PORT" (HOST empty: 127.0.0.1; [IPv6] in brackets); port 0 lets the
 * kernel pick. */
static int listen_tcp(const char *hostport)
{
	char host[256], addr[INET6_ADDRSTRLEN], portstr[8];
	const char *colon = strrchr(hostport, ':');
	struct sockaddr_storage sa;
	socklen_t salen;
	uint64_t port;
	int fd;

	if (!colon || (size_t)(colon - hostport) >= sizeof(host) ||
	    parse_u64(colon + 1, 0, 65535, &port))
		return error("--gdb tcp:%s: give tcp:HOST:PORT, e.g. tcp:127.0.0.1:1234", hostport);
	memcpy(host, hostport, (size_t)(colon - hostport));
	host[colon - hostport] = '\0';
	if (!host[0])
		strcpy(host, "127.0.0.1");
	if (host[0] == '[' && host[strlen(host) - 1] == ']') { /* [IPv6] */
		memmove(host, host + 1, strlen(host) - 2);
		host[strlen(host) - 2] = '\0';
	}
	snprintf(portstr, sizeof(portstr), "%u", (unsigned)port);
	fd = bind_tcp(host, portstr, &sa, &salen);
	if (fd < 0)
		return -1;
	if (sa.ss_family == AF_INET6) {
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&sa;

		inet_ntop(AF_INET6, &a6->sin6_addr, addr, sizeof(addr));
		info("gdb: listening on tcp:[%s]:%u", addr, ntohs(a6->sin6_port));
	} else {
		struct sockaddr_in *a4 = (struct sockaddr_in *)&sa;

		inet_ntop(AF_INET, &a4->sin_addr, addr, sizeof(addr));
		info("gdb: listening on tcp:%s:%u", addr, ntohs(a4->sin_port));
	}
	return fd;
}

static int open_listener(struct gdb_stub *s, const char *spec)
{
	if (str_starts_with(spec, "tcp:"))
		return listen_tcp(spec + 4);
	if (str_starts_with(spec, "unix:"))
		return listen_unix(s, spec + 5);
	return error("unknown --gdb '%s': use tcp:HOST:PORT or unix:PATH", spec);
}

static void send_raw(struct gdb_stub *s, const char *buf, size_t len)
{
	while (len && !s->client_lost) {
		ssize_t n = send(s->client_fd, buf, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			s->client_lost = true;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

static void send_packet(struct gdb_stub *s, const char *data, size_t len, bool binary)
{
	s->tx_len = gdb_frame(data, len, binary, s->tx, sizeof(s->tx));
	if (s->tx_len < 0) {
		s->tx_len = gdb_frame("E01", 3, false, s->tx, sizeof(s->tx));
		warn("gdb: reply too long for one packet");
	}
	send_raw(s, s->tx, (size_t)s->tx_len);
}

static void send_stop_reply(struct gdb_stub *s)
{
	char buf[128];
	int n = gdb_format_stop(s, buf, sizeof(buf));

	s->gdb_waiting = false;
	send_packet(s, buf, (size_t)n, false);
}

static void handle_packet(struct gdb_stub *s)
{
	if (!s->no_ack)
		send_raw(s, "+", 1);
	s->out_len = 0;
	s->out[0] = '\0';
	s->out_binary = false;
	s->out_none = false;
	gdb_handle_packet(s, s->rx.buf, s->rx.len);
	if (!s->out_none)
		send_packet(s, s->out, s->out_len, s->out_binary);
}

static void handle_rx_event(struct gdb_stub *s, enum gdb_rx_event ev)
{
	switch (ev) {
	case GDB_RX_PACKET:
		handle_packet(s);
		break;
	case GDB_RX_BAD_CHECKSUM:
		if (!s->no_ack)
			send_raw(s, "-", 1);
		break;
	case GDB_RX_OVERLONG:
		if (!s->no_ack)
			send_raw(s, "+", 1);
		send_packet(s, "E01", 3, false);
		break;
	case GDB_RX_INTERRUPT:
		if (s->gdb_waiting) {
			gdb_stop_all(s, GDB_SIGINT);
			send_stop_reply(s);
		}
		break;
	case GDB_RX_NAK:
		if (s->tx_len > 0)
			send_raw(s, s->tx, (size_t)s->tx_len);
		break;
	default:
		break;
	}
}

static void client_attach(struct gdb_stub *s, int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	s->client_fd = fd;
	s->client_lost = false;
	s->no_ack = false;
	s->gdb_waiting = false;
	s->tx_len = 0;
	s->g_vcpu = 0;
	s->c_vcpu = -1;
	gdb_rx_reset(&s->rx);
	pthread_mutex_lock(&s->lock);
	s->attached = true;
	pthread_mutex_unlock(&s->lock);
	gdb_stop_all(s, GDB_SIGTRAP); /* gdb expects a stopped target */
	info("gdb: debugger attached; the guest is stopped");
}

static void client_detach(struct gdb_stub *s)
{
	close(s->client_fd);
	s->client_fd = -1;
	gdb_release(s);
	info("gdb: debugger gone; the guest runs on");
}

static void read_client(struct gdb_stub *s)
{
	uint8_t buf[4096];
	ssize_t n = recv(s->client_fd, buf, sizeof(buf), 0);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		s->client_lost = true;
		return;
	}
	for (ssize_t i = 0; i < n && !s->client_lost; i++)
		handle_rx_event(s, gdb_rx_feed(&s->rx, buf[i]));
}

static void report_pending_stop(struct gdb_stub *s)
{
	bool pending;

	pthread_mutex_lock(&s->lock);
	pending = s->stopped && s->stop_unreported;
	pthread_mutex_unlock(&s->lock);
	if (pending && s->gdb_waiting && s->client_fd >= 0)
		send_stop_reply(s);
}

static bool shutting_down(struct gdb_stub *s)
{
	bool down;

	pthread_mutex_lock(&s->lock);
	down = s->shutting_down;
	pthread_mutex_unlock(&s->lock);
	return down;
}

/* The VM ended: tell gdb the "process" exited with the VM's status. */
static void say_goodbye(struct gdb_stub *s)
{
	char buf[8];
	int n;

	if (s->client_fd < 0)
		return;
	n = snprintf(buf, sizeof(buf), "W%02x", __atomic_load_n(&s->vm->exit_status,
							       __ATOMIC_ACQUIRE) & 0xff);
	send_packet(s, buf, (size_t)n, false);
	close(s->client_fd);
	s->client_fd = -1;
}

static void *server_thread(void *arg)
{
	struct gdb_stub *s = arg;

	pthread_setname_np(pthread_self(), "gdbstub");
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = s->wake_fd, .events = POLLIN },
			{ .fd = s->client_fd >= 0 ? s->client_fd : s->listen_fd, .events = POLLIN },
		};
		uint64_t v;

		if (poll(p, 2, -1) < 0 && errno != EINTR) {
			error_errno("gdb: poll");
			break;
		}
		if (p[0].revents && read(s->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			break;
		if (shutting_down(s))
			break;
		if (s->client_fd < 0 && (p[1].revents & POLLIN)) {
			int fd = accept4(s->listen_fd, NULL, NULL, SOCK_CLOEXEC);

			if (fd >= 0)
				client_attach(s, fd);
		} else if (s->client_fd >= 0 && p[1].revents) {
			read_client(s);
		}
		if (s->client_fd >= 0 && s->client_lost)
			client_detach(s);
		report_pending_stop(s);
	}
	say_goodbye(s);
	return NULL;
}

static uint32_t supported_guestdbg(struct vm *vm)
{
	int flags = ioctl(vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_GUEST_DEBUG2);

	if (flags > 0)
		return (uint32_t)flags;
	return KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP | KVM_GUESTDBG_USE_SW_BP |
	       KVM_GUESTDBG_USE_HW_BP | KVM_GUESTDBG_INJECT_DB | KVM_GUESTDBG_INJECT_BP;
}

/* Closes the stub's descriptors; its memory belongs to the VM (vm_zalloc),
 * so vCPU threads that still run until vm_destroy() never see it freed. */
static void close_stub(struct gdb_stub *s)
{
	pthread_mutex_lock(&s->lock);
	s->shutting_down = true;
	s->attached = false;
	pthread_mutex_unlock(&s->lock);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	if (s->client_fd >= 0)
		close(s->client_fd);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	s->listen_fd = s->client_fd = s->wake_fd = -1;
	if (s->unix_path[0])
		unlink(s->unix_path);
}

static struct gdb_stub *alloc_stub(struct vm *vm)
{
	struct gdb_stub *s = vm_zalloc(vm, sizeof(*s));

	if (!s) {
		error("gdb: out of memory for the stub");
		return NULL;
	}
	s->vm = vm;
	s->listen_fd = s->client_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->actions = vm_zalloc(vm, (size_t)vm->ncpus * sizeof(*s->actions));
	s->stepping = vm_zalloc(vm, (size_t)vm->ncpus * sizeof(*s->stepping));
	if (s->wake_fd < 0 || !s->actions || !s->stepping) {
		error_errno("gdb: cannot set up the stub");
		close_stub(s);
		return NULL;
	}
	s->guestdbg_flags = supported_guestdbg(vm);
	s->soft_watch = !gdb_probe_data_breakpoints(vm->kvm_fd);
	if (s->soft_watch)
		info("gdb: this KVM does not report data breakpoints; watchpoints single-step");
	return s;
}

struct gdb_stub *gdb_server_start(struct vm *vm, const char *spec, bool wait_for_gdb)
{
	struct gdb_stub *s = alloc_stub(vm);
	sigset_t all, old;
	int ret;

	if (!s)
		return NULL;
	s->listen_fd = open_listener(s, spec);
	if (s->listen_fd < 0 || gdb_control_init(s)) {
		close_stub(s);
		return NULL;
	}
	if (wait_for_gdb) {
		/* Held before the first instruction: vCPUs start parked. */
		s->stopped = true;
		s->held_pauses = 1;
		s->stop = (struct gdb_stop){ .vcpu = 0, .signal = GDB_SIGTRAP };
		vm_pause(vm);
		info("gdb: vCPUs wait for the debugger to continue (--gdb-wait)");
	}
	/* The stub thread takes no signals: SIGINT/SIGTERM go to the VM's signalfd. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	ret = pthread_create(&s->thread, NULL, server_thread, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret) {
		errno = ret;
		error_errno("gdb: cannot start the stub thread");
		if (wait_for_gdb)
			vm_resume(vm);
		close_stub(s);
		return NULL;
	}
	s->thread_started = true;
	return s;
}

void gdb_server_stop(struct gdb_stub *s)
{
	uint64_t one = 1;

	if (!s)
		return;
	pthread_mutex_lock(&s->lock);
	s->shutting_down = true;
	pthread_mutex_unlock(&s->lock);
	if (write(s->wake_fd, &one, sizeof(one)) < 0)
		warn("gdb: cannot wake the stub thread");
	if (s->thread_started)
		pthread_join(s->thread, NULL);
	close_stub(s);
}
