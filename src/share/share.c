/* share.c: `kvmini run --share`: parsing the option, the guest's kernel
 * command-line words, and the NFS server child (see share.h). */
#include "share/share.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/parse.h"

#define SHARE_START_TIMEOUT_MS 10000

struct share {
	pid_t pid;
	int out_fd; /* the server's stdout, held open so it never gets SIGPIPE */
};

static int parse_field(const char *field, struct share_options *o)
{
	size_t n;

	if (!strcmp(field, "ro")) {
		o->read_only = true;
		return 0;
	}
	if (!str_starts_with(field, "tag="))
		return error("--share: unknown option '%s' (tag=NAME, ro)", field);
	n = strspn(field + 4, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
	if (n == 0 || field[4 + n] || n >= sizeof(o->tag))
		return error("--share: tag '%s' must be 1 to %zu letters, digits, '_' or '-'",
			     field + 4, sizeof(o->tag) - 1);
	snprintf(o->tag, sizeof(o->tag), "%s", field + 4);
	return 0;
}

int share_parse(const char *spec, struct share_options *o)
{
	char buf[4096], *rest = buf, *dir, *field;
	struct stat st;

	memset(o, 0, sizeof(*o));
	snprintf(o->tag, sizeof(o->tag), "share");
	if (strlen(spec) >= sizeof(buf))
		return error("--share: the argument is too long");
	snprintf(buf, sizeof(buf), "%s", spec);
	dir = next_field(&rest);
	if (!dir || !*dir)
		return error("--share DIR[,tag=NAME][,ro]: give a directory");
	while ((field = next_field(&rest)))
		if (parse_field(field, o))
			return -1;
	if (!realpath(dir, o->dir))
		return error_errno("--share %s", dir);
	if (stat(o->dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return error("--share %s is not a directory", dir);
	if (strpbrk(o->dir, " \t\n\"'\\,"))
		return error("--share %s: the path cannot go on a kernel command line (spaces, "
			     "quotes, commas or backslashes)", o->dir);
	return 0;
}

static void prefix_mask(int prefix, char *out, size_t size)
{
	struct in_addr mask = { htonl(prefix ? ~0u << (32 - prefix) : 0) };

	inet_ntop(AF_INET, &mask, out, (socklen_t)size);
}

int share_cmdline_words(const struct share_options *o, const struct tap_link *link,
			char *buf, size_t size)
{
	char host[INET_ADDRSTRLEN], guest[INET_ADDRSTRLEN], mask[INET_ADDRSTRLEN];
	char opts[128];
	int n;

	inet_ntop(AF_INET, &link->host, host, sizeof(host));
	inet_ntop(AF_INET, &link->guest, guest, sizeof(guest));
	prefix_mask(link->prefix, mask, sizeof(mask));
	snprintf(opts, sizeof(opts), "vers=3,proto=tcp,port=%d,mountport=%d,mountproto=tcp%s",
		 SHARE_NFS_PORT, SHARE_NFS_PORT, o->read_only ? ",ro" : "");
	if (!strcmp(o->tag, "root"))
		n = snprintf(buf, size, "ip=%s::%s:%s::eth0:off root=/dev/nfs nfsroot=%s:%s,%s %s",
			     guest, host, mask, host, o->dir, opts, o->read_only ? "ro" : "rw");
	else
		n = snprintf(buf, size, "ip=%s::%s:%s::eth0:off kvmini.share.%s=%s:%s "
			     "kvmini.share_opts=%s", guest, host, mask, o->tag, host, o->dir, opts);
	return n < 0 || (size_t)n >= size ? -1 : n;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void exec_nfsd(const struct share_options *o, const char *listen, const char *portmap,
		      int ready_fd)
{
	const char *argv[] = { "kvmini", "nfsd", "--export", o->dir, "--listen", listen,
			       "--portmap", portmap, o->read_only ? "--read-only" : NULL, NULL };

	prctl(PR_SET_PDEATHSIG, SIGTERM); /* the server goes with the VM */
	if (dup2(ready_fd, STDOUT_FILENO) < 0)
		_exit(127);
	close_range(3, ~0u, 0); /* nothing of the VM (KVM, guest memory) */
	execv("/proc/self/exe", (char *const *)argv);
	_exit(127);
}

/* Waits for the child's "nfsd: port=..." line (it serves from then on). */
static int wait_ready(int fd, pid_t pid)
{
	char line[256];
	size_t got = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!memchr(line, '\n', got)) {
		ssize_t n;
		long left;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = SHARE_START_TIMEOUT_MS - ((t.tv_sec - t0.tv_sec) * 1000 +
						 (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return error("--share: the NFS server (pid %d) did not start within %d s", pid,
				     SHARE_START_TIMEOUT_MS / 1000);
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return error_errno("--share: waiting for the NFS server");
		n = read(fd, line + got, sizeof(line) - 1 - got);
		if (n == 0)
			return error("--share: the NFS server ended before serving (see its message "
				     "above)");
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return error_errno("--share: reading the NFS server's start line");
		if (n > 0)
			got += (size_t)n;
		if (got == sizeof(line) - 1)
			break;
	}
	line[got] = '\0';
	if (!strstr(line, "nfsd: port="))
		return error("--share: unexpected start line from the NFS server: %s", line);
	return 0;
}

struct share *share_start(const struct share_options *o, const struct tap_link *link)
{
	char host[INET_ADDRSTRLEN], listen[64], portmap[64];
	struct share *s;
	int pipefd[2];
	pid_t pid;

	inet_ntop(AF_INET, &link->host, host, sizeof(host));
	snprintf(listen, sizeof(listen), "%s:%d", host, SHARE_NFS_PORT);
	snprintf(portmap, sizeof(portmap), "%s:%d", host, SHARE_PORTMAP_PORT);
	s = calloc(1, sizeof(*s));
	if (s)
		s->out_fd = -1;
	if (!s || pipe2(pipefd, O_CLOEXEC) < 0) {
		error_errno("--share: cannot start the NFS server");
		free(s);
		return NULL;
	}
	pid = fork();
	if (pid == 0)
		exec_nfsd(o, listen, portmap, pipefd[1]);
	close(pipefd[1]);
	if (pid < 0) {
		error_errno("--share: cannot start the NFS server");
		close(pipefd[0]);
		free(s);
		return NULL;
	}
	s->pid = pid;
	s->out_fd = pipefd[0];
	if (wait_ready(pipefd[0], pid)) {
		share_stop(s);
		return NULL;
	}
	info("--share %s: NFSv3 on %s (tag %s)", o->dir, listen, o->tag);
	return s;
}

void share_stop(struct share *s)
{
	int status;

	if (!s)
		return;
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		while (waitpid(s->pid, &status, 0) < 0 && errno == EINTR)
			;
	}
	if (s->out_fd >= 0)
		close(s->out_fd);
	free(s);
}
