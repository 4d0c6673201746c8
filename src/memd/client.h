/* client.h: memd's connection to one VM's control socket: one JSON request,
 * one reply line, with a timeout; reconnects after a failure. */
#ifndef KVMINI_MEMD_CLIENT_H
#define KVMINI_MEMD_CLIENT_H

#include <jansson.h>
#include <stddef.h>

#define MEMD_REPLY_MAX 65536

struct memd_conn {
	const char *path;
	int fd;
	size_t len;
	char buf[MEMD_REPLY_MAX];
};

void memd_conn_init(struct memd_conn *c, const char *path);
void memd_conn_close(struct memd_conn *c);
/* Sends `req` (not consumed) and returns the parsed reply object, or NULL
 * if the VM cannot be reached or answers garbage within `timeout_ms`. */
json_t *memd_call(struct memd_conn *c, json_t *req, int timeout_ms);

#endif
