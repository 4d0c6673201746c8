/* run_devices.h: the virtio devices of `kvmini run`. */
#ifndef KVMINI_VIRTIO_RUN_DEVICES_H
#define KVMINI_VIRTIO_RUN_DEVICES_H

struct vm;

/* Adds one virtio-blk PCI device per vm->cfg.disks entry, virtio-net for
 * vm->cfg.net, and virtio-mem when the VM has a hotplug region. */
int virtio_run_devices_add(struct vm *vm);

#endif
