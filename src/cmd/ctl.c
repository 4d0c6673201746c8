/* ctl.c: `kvmini ctl SOCKET COMMAND [key=value...]`: one request to a
 * running VM's control socket; prints the JSON reply. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "util/log.h"
#include "util/parse.h"
#include "util/unix_socket.h"

static const char ctl_help[] =
"usage: kvmini ctl SOCKET COMMAND [key=value ...]\n"
"\n"
"Sends {\"cmd\": COMMAND, key: value, ...} to the control socket of a VM\n"
"started with `kvmini run --api unix:SOCKET` and prints the JSON reply.\n"
"Values that are whole numbers are sent as numbers. `help` lists commands.\n"
"Exit status: 0 if the VM answered ok, 1 if it refused, 2 on usage errors.\n";

static json_t *build_request(int argc, char **argv)
{
	json_t *req = json_pack("{s:s}", "cmd", argv[0]);
	uint64_t num;

	for (int i = 1; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!eq || eq == argv[i]) {
			error("argument '%s' is not key=value", argv[i]);
			json_decref(req);
			return NULL;
		}
		*eq = '\0';
		if (parse_u64(eq + 1, 0, INT64_MAX, &num) == 0)
			json_object_set_new(req, argv[i], json_integer((json_int_t)num));
		else
			json_object_set_new(req, argv[i], json_string(eq + 1));
	}
	return req;
}

/* Reads one newline-terminated reply. */
static char *read_reply(int fd)
{
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap);

	while (buf) {
		ssize_t n = read(fd, buf + len, cap - len - 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		buf[len] = '\0';
		if (memchr(buf, '\n', len))
			return buf;
		if (len + 1 == cap) {
			char *bigger = cap < (1 << 20) ? realloc(buf, cap * 2) : NULL;

			if (!bigger)
				break;
			buf = bigger;
			cap *= 2;
		}
	}
	free(buf);
	return NULL;
}

int cmd_ctl(int argc, char **argv)
{
	json_t *req, *reply;
	char *text, *answer;
	int fd, ok;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(ctl_help, stdout);
		return 0;
	}
	if (argc < 3) {
		fputs(ctl_help, stderr);
		return 2;
	}
	req = build_request(argc - 2, argv + 2);
	if (!req)
		return 2;
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	fd = unix_connect(argv[1], "control socket");
	if (fd < 0 || !text || dprintf(fd, "%s\n", text) < 0) {
		free(text);
		if (fd >= 0)
			close(fd);
		return 1;
	}
	free(text);
	answer = read_reply(fd);
	close(fd);
	if (!answer)
		return error("no reply from %s", argv[1]), 1;
	fputs(answer, stdout);
	reply = json_loads(answer, 0, NULL);
	ok = json_is_true(json_object_get(reply, "ok"));
	json_decref(reply);
	free(answer);
	return ok ? 0 : 1;
}
