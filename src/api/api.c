/* api.c: the control socket server: accepts clients, frames requests by
 * newline, parses JSON strictly, dispatches to registered commands. */
#include "api/api.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <stdio.h>
#include <unistd.h>

#include "util/log.h"
#include "util/parse.h"
#include "util/unix_socket.h"
#include "vm/vm.h"

#define API_MAX_COMMANDS 32
#define API_MAX_CLIENTS 8
#define API_MAX_REQUEST 65536

struct api_client {
	struct api *api;
	int fd;
	size_t len;
	char buf[API_MAX_REQUEST];
};

struct api {
	struct vm *vm;           /* NULL for servers without a VM (backends) */
	struct event_loop *loop;
	char path[128];
	int listen_fd;
	int ncommands;
	struct api_command {
		const char *name;
		const char *help;
		api_handler_fn fn;
		void *opaque;
	} commands[API_MAX_COMMANDS];
	struct api_client *clients[API_MAX_CLIENTS];
};

int api_register(struct api *api, const char *cmd, const char *help, api_handler_fn fn,
		 void *opaque)
{
	if (api->ncommands == API_MAX_COMMANDS)
		return error("too many API commands");
	api->commands[api->ncommands++] = (struct api_command){ cmd, help, fn, opaque };
	return 0;
}

static void send_json(int fd, json_t *reply)
{
	char *text = json_dumps(reply, JSON_COMPACT);
	size_t len;

	if (!text)
		return;
	len = strlen(text);
	text[len] = '\n'; /* json_dumps leaves room for the terminating NUL */
	if (send(fd, text, len + 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		warn("API client: reply lost: %s", strerror(errno));
	free(text);
}

static json_t *error_reply(const char *msg)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static json_t *help_reply(struct api *api)
{
	json_t *cmds = json_object();

	for (int i = 0; i < api->ncommands; i++)
		json_object_set_new(cmds, api->commands[i].name, json_string(api->commands[i].help));
	return json_pack("{s:b, s:o}", "ok", 1, "commands", cmds);
}

static json_t *dispatch(struct api *api, json_t *req)
{
	const char *cmd = json_string_value(json_object_get(req, "cmd"));
	const char *err = NULL;
	json_t *reply;

	if (!cmd)
		return error_reply("request has no \"cmd\" string");
	if (!strcmp(cmd, "help"))
		return help_reply(api);
	for (int i = 0; i < api->ncommands; i++) {
		if (strcmp(cmd, api->commands[i].name))
			continue;
		reply = api->commands[i].fn(api->vm, req, &err, api->commands[i].opaque);
		if (!reply)
			return error_reply(err ? err : "command failed");
		json_object_set_new(reply, "ok", json_true());
		return reply;
	}
	return error_reply("unknown command; send {\"cmd\": \"help\"} for the list");
}

static void handle_line(struct api_client *c, char *line)
{
	json_error_t jerr;
	json_t *req, *reply;
	char msg[200];

	req = json_loads(line, JSON_REJECT_DUPLICATES, &jerr);
	if (!req || !json_is_object(req)) {
		snprintf(msg, sizeof(msg), "malformed JSON request: %s",
			 req ? "not an object" : jerr.text);
		reply = error_reply(msg);
	} else {
		reply = dispatch(c->api, req);
	}
	send_json(c->fd, reply);
	json_decref(reply);
	json_decref(req);
}

static void drop_client(struct api_client *c)
{
	struct api *api = c->api;

	for (int i = 0; i < API_MAX_CLIENTS; i++)
		if (api->clients[i] == c)
			api->clients[i] = NULL;
	event_loop_del(api->loop, c->fd);
	close(c->fd);
	free(c);
}

static void on_client(void *opaque, uint32_t events)
{
	struct api_client *c = opaque;
	ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, MSG_DONTWAIT);
	char *nl;

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		drop_client(c);
		return;
	}
	c->len += (size_t)n;
	while ((nl = memchr(c->buf, '\n', c->len))) {
		size_t used = (size_t)(nl - c->buf) + 1;

		*nl = '\0';
		handle_line(c, c->buf);
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
	}
	if (c->len == sizeof(c->buf)) {
		json_t *reply = error_reply("request longer than 64 KiB; closing");

		send_json(c->fd, reply);
		json_decref(reply);
		drop_client(c);
	}
}

static void on_accept(void *opaque, uint32_t events)
{
	struct api *api = opaque;
	struct api_client *c;
	int fd = accept4(api->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	int slot;

	if (fd < 0)
		return;
	for (slot = 0; slot < API_MAX_CLIENTS && api->clients[slot]; slot++)
		;
	c = slot < API_MAX_CLIENTS ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		json_t *reply = error_reply("too many API clients");

		send_json(fd, reply);
		json_decref(reply);
		close(fd);
		return;
	}
	c->api = api;
	c->fd = fd;
	api->clients[slot] = c;
	if (event_loop_add(api->loop, fd, EPOLLIN, on_client, c))
		drop_client(c);
}

static int listen_unix(struct api *api, const char *path)
{
	snprintf(api->path, sizeof(api->path), "%s", path);
	api->listen_fd = unix_listen(path, API_MAX_CLIENTS, SOCK_NONBLOCK, "API socket");
	if (api->listen_fd < 0)
		return -1;
	return event_loop_add(api->loop, api->listen_fd, EPOLLIN, on_accept, api);
}

struct api *api_open(struct vm *vm, const char *spec)
{
	struct api *api = api_open_loop(&vm->loop, spec);

	if (!api)
		return NULL;
	api->vm = vm;
	if (api_register_vm_commands(api)) {
		api_close(api);
		return NULL;
	}
	return api;
}

struct api *api_open_loop(struct event_loop *loop, const char *spec)
{
	struct api *api = calloc(1, sizeof(*api));

	if (!api) {
		error("out of memory for the API");
		return NULL;
	}
	api->loop = loop;
	api->listen_fd = -1;
	if (!str_starts_with(spec, "unix:") || !spec[5]) {
		error("unknown --api '%s': use unix:PATH", spec);
		free(api);
		return NULL;
	}
	if (listen_unix(api, spec + 5)) {
		api_close(api);
		return NULL;
	}
	return api;
}

void api_close(struct api *api)
{
	if (!api)
		return;
	for (int i = 0; i < API_MAX_CLIENTS; i++)
		if (api->clients[i])
			drop_client(api->clients[i]);
	if (api->listen_fd >= 0) {
		event_loop_del(api->loop, api->listen_fd);
		close(api->listen_fd);
		unlink(api->path);
	}
	free(api);
}

int api_get_size(json_t *request, const char *key, unsigned long long *out, const char **err)
{
	json_t *v = json_object_get(request, key);
	uint64_t size;

	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = (unsigned long long)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && parse_size(json_string_value(v), &size) == 0) {
		*out = size;
		return 0;
	}
	*err = v ? "size must be a non-negative integer or a string like \"512M\""
		 : "missing size argument";
	return -1;
}
