/* console_ports.h: the host side of virtio-console ports from command-line
 * specs (--port NAME=KIND), shared by `kvmini run` and `kvmini vhost-user
 * console`. */
#ifndef KVMINI_VIRTIO_CONSOLE_PORTS_H
#define KVMINI_VIRTIO_CONSOLE_PORTS_H

#include "console/console.h"
#include "virtio/console.h"

/* "NAME=KIND": checks NAME (1-63 of [A-Za-z0-9._:-]) and splits it into
 * name (NUL-terminated, VCON_NAME_MAX + 1 bytes) and *kind. */
int virtio_console_parse_port(const char *spec, char *name, const char **kind);
/* Opens each spec's back end on `loop` and adds it as a named port (ids 1
 * on). `console_kind` is port 0's or the UART's back end: stdio cannot be
 * used twice. `sink` gives Ctrl-A x its meaning on a stdio port. */
int virtio_console_open_ports(struct virtio_dev *dev, struct event_loop *loop,
			      const char *const *specs, int n, const char *console_kind,
			      const struct console_sink *sink);

#endif
