/* disks.h: virtio-blk disks of `kvmini run`. */
#ifndef KVMINI_VIRTIO_DISKS_H
#define KVMINI_VIRTIO_DISKS_H

struct vm;

/* Adds one virtio-blk PCI device per vm->cfg.disks entry. */
int virtio_disks_add(struct vm *vm);

#endif
