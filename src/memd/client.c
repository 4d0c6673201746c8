/* client.c: memd's control-socket client: newline-framed JSON with a
 * deadline, so one stuck VM cannot stall the broker. */
#include "memd/client.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"
#include "util/unix_socket.h"

void memd_conn_init(struct memd_conn *c, const char *path)
{
	c->path = path;
	c->fd = -1;
	c->len = 0;
}

void memd_conn_close(struct memd_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->len = 0;
}

static int send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Reads until a newline; returns the line (NUL-terminated in c->buf). */
static char *read_line(struct memd_conn *c, int timeout_ms)
{
	long long deadline = now_ms() + timeout_ms;
	char *nl;

	c->len = 0;
	while (!(nl = memchr(c->buf, '\n', c->len))) {
		struct pollfd pfd = { .fd = c->fd, .events = POLLIN };
		long long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0 || c->len + 1 >= sizeof(c->buf) || poll(&pfd, 1, (int)left) <= 0)
			return NULL;
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
		if (n <= 0)
			return NULL;
		c->len += (size_t)n;
	}
	*nl = '\0';
	return c->buf;
}

json_t *memd_call(struct memd_conn *c, json_t *req, int timeout_ms)
{
	char *text = json_dumps(req, JSON_COMPACT), *line;
	json_t *reply = NULL;
	int ret;

	if (!text)
		return NULL;
	if (c->fd < 0)
		c->fd = unix_connect(c->path, "VM control socket");
	ret = c->fd < 0 ? -1 : send_all(c->fd, text, strlen(text));
	if (ret == 0)
		ret = send_all(c->fd, "\n", 1);
	free(text);
	line = ret == 0 ? read_line(c, timeout_ms) : NULL;
	if (line)
		reply = json_loads(line, 0, NULL);
	if (!json_is_object(reply)) {
		json_decref(reply);
		memd_conn_close(c); /* reconnect next time */
		return NULL;
	}
	return reply;
}
