/* console_ports.c: parsing --port NAME=KIND and opening each named port's
 * back end (console/console.h) for a virtio-console device. */
#include "virtio/console_ports.h"

#include <string.h>

#include "util/log.h"

int virtio_console_parse_port(const char *spec, char *name, const char **kind)
{
	const char *eq = strchr(spec, '=');
	size_t len = eq ? (size_t)(eq - spec) : 0;

	if (!eq || !len || len > VCON_NAME_MAX || !eq[1])
		return error("--port '%s': use NAME=KIND, e.g. org.test.0=unix:/tmp/p.sock", spec);
	for (size_t i = 0; i < len; i++) {
		char ch = spec[i];

		if (!(ch >= 'a' && ch <= 'z') && !(ch >= 'A' && ch <= 'Z') && !(ch >= '0' && ch <= '9') &&
		    ch != '.' && ch != '_' && ch != '-' && ch != ':')
			return error("--port '%s': a name has letters, digits and . _ - : only", spec);
	}
	memcpy(name, spec, len);
	name[len] = '\0';
	*kind = eq + 1;
	return 0;
}

int virtio_console_open_ports(struct virtio_dev *dev, struct event_loop *loop,
			      const char *const *specs, int n, const char *console_kind,
			      const struct console_sink *sink)
{
	bool stdio_taken = console_kind && !strcmp(console_kind, "stdio");

	for (int i = 0; i < n; i++) {
		char name[VCON_NAME_MAX + 1];
		struct console *backend;
		const char *kind;

		if (virtio_console_parse_port(specs[i], name, &kind))
			return -1;
		if (!strcmp(kind, "stdio") && stdio_taken)
			return error("--port %s: stdio is taken already", specs[i]);
		stdio_taken |= !strcmp(kind, "stdio");
		backend = console_open_on(loop, kind, name, sink);
		if (!backend)
			return -1;
		if (virtio_console_add_port(dev, name, backend)) {
			console_close(backend);
			return -1;
		}
	}
	return 0;
}
