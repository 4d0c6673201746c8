/* balloon.h: the virtio-balloon device (ID 5) on the shared virtio core:
 * inflate/deflate, statistics and free page reporting queues over the
 * transport-independent model in balloon/balloon.h. */
#ifndef KVMINI_VIRTIO_BALLOON_H
#define KVMINI_VIRTIO_BALLOON_H

#include "virtio/virtio.h"

struct balloon;

extern const struct virtio_device_ops virtio_balloon_ops;

/* Creates the device state in dev->priv. Pages the guest gives up are
 * released with MADV_REMOVE on the transport's mapping of guest memory
 * (for vhost-user: the frontend's memfd regions, so holes are punched). */
int virtio_balloon_init(struct virtio_dev *dev);
void virtio_balloon_destroy(struct virtio_dev *dev);
/* The model, for the control socket's balloon commands. */
struct balloon *virtio_balloon_model(struct virtio_dev *dev);

#endif
