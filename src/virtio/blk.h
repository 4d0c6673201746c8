/* blk.h: the virtio-blk device, served with io_uring into guest memory. */
#ifndef KVMINI_VIRTIO_BLK_H
#define KVMINI_VIRTIO_BLK_H

#include "block/disk.h"
#include "virtio/virtio.h"

extern const struct virtio_device_ops virtio_blk_ops;

/* Creates the device state for `disk` (which it then owns) in dev->priv. */
int virtio_blk_init(struct virtio_dev *dev, struct disk *disk);
void virtio_blk_destroy(struct virtio_dev *dev);

#endif
