/* unix_socket.c: unix stream sockets with one-line errors. */
#include "util/unix_socket.h"

#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "util/log.h"

static int make_address(struct sockaddr_un *sa, const char *path, const char *what)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return error("%s path too long (over %zu bytes): %s", what,
			     sizeof(sa->sun_path) - 1, path);
	strcpy(sa->sun_path, path);
	return 0;
}

int unix_listen(const char *path, int backlog, int flags, const char *what)
{
	struct sockaddr_un sa;
	int fd;

	if (make_address(&sa, path, what))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	if (fd < 0)
		return error_errno("socket for %s", what);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, backlog) < 0) {
		error_errno("cannot listen on %s %s", what, path);
		close(fd);
		return -1;
	}
	return fd;
}

int unix_connect(const char *path, const char *what)
{
	struct sockaddr_un sa;
	int fd;

	if (make_address(&sa, path, what))
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return error_errno("socket for %s", what);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		error_errno("cannot connect to %s %s", what, path);
		close(fd);
		return -1;
	}
	return fd;
}
