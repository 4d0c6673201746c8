/* backend.h: a vhost-user backend serving one virtio device on a unix
 * socket: one frontend (QEMU, Cloud Hypervisor, UML's virtio_uml) at a
 * time; when it leaves, the device is stopped and the next may connect. */
#ifndef KVMINI_VHOST_USER_BACKEND_H
#define KVMINI_VHOST_USER_BACKEND_H

#include "virtio/virtio.h"

struct vu_backend;

/* Listens on `path` for frontends of `dev` (ops and priv already set),
 * using `loop` for the socket, kicks and the device's own descriptors. */
struct vu_backend *vu_backend_open(struct virtio_dev *dev, struct event_loop *loop,
				   const char *path);
void vu_backend_close(struct vu_backend *vu);

#endif
