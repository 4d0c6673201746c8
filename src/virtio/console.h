/* console.h: the virtio-console device (ID 3): port 0 as a console (hvc0
 * in Linux, with its terminal size) and named ports (/dev/vportNpM), each
 * on a host back end from console/console.h. */
#ifndef KVMINI_VIRTIO_CONSOLE_H
#define KVMINI_VIRTIO_CONSOLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "virtio/virtio.h"

struct console;

#define VCON_MAX_PORTS 16 /* port 0 and up to 15 named ports */
#define VCON_NAME_MAX 63

extern const struct virtio_device_ops virtio_console_ops;

/* Counters of what the driver did wrong (for tests and messages). */
struct vcon_stats {
	uint64_t bad_chains;    /* malformed, or buffers of the wrong direction */
	uint64_t bad_control;   /* short control messages, unknown ports */
	uint64_t dropped_control; /* device->driver messages with no room */
};

/* Creates the device state in dev->priv with room for `max_ports` ports
 * (1..VCON_MAX_PORTS; port 0 is the console's slot). */
int virtio_console_init(struct virtio_dev *dev, uint32_t max_ports);
/* Port 0 becomes the console on `backend` (closed by the device if
 * `owned`). Its input goes to the guest's hvc0 from now on, and its
 * terminal size (stdio on a terminal) to the driver, again after each
 * SIGWINCH. */
int virtio_console_set_console(struct virtio_dev *dev, struct console *backend, bool owned);
/* Adds a named port at the next free id, on `backend` (owned from now on,
 * closed by virtio_console_destroy). */
int virtio_console_add_port(struct virtio_dev *dev, const char *name, struct console *backend);
/* Host input for port `id`: given to the guest as it posts buffers; what
 * does not fit yet is kept (the back end is held until it drains). */
void virtio_console_input(struct virtio_dev *dev, uint32_t id, const uint8_t *buf, size_t len);
/* The host's terminal changed size: config change and a resize message. */
void virtio_console_resized(struct virtio_dev *dev);
void virtio_console_stats(struct virtio_dev *dev, struct vcon_stats *out);
void virtio_console_destroy(struct virtio_dev *dev);

#endif
