/* mem.h: the virtio-mem device (ID 24) on the shared virtio core: one
 * request queue answered by the hotplug region (hotplug/vmem_region.h). */
#ifndef KVMINI_VIRTIO_MEM_H
#define KVMINI_VIRTIO_MEM_H

#include "virtio/virtio.h"

struct vmem_hotplug;

extern const struct virtio_device_ops virtio_mem_ops;

/* Serves `region` (owned by the VM) through `dev`; mem-resize then sends
 * the transport's configuration-change signal. */
int virtio_mem_init(struct virtio_dev *dev, struct vmem_hotplug *region);

#endif
