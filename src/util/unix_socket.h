/* unix_socket.h: listening on and connecting to unix stream sockets. */
#ifndef KVMINI_UNIX_SOCKET_H
#define KVMINI_UNIX_SOCKET_H

/* Replaces any file at `path` with a listening socket; `what` names it in
 * errors ("API socket"). Extra socket flags: SOCK_NONBLOCK. Returns the fd. */
int unix_listen(const char *path, int backlog, int flags, const char *what);
/* Connects to `path`; returns the fd or -1 with an error naming `what`. */
int unix_connect(const char *path, const char *what);

#endif
