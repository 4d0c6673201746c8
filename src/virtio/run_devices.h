/* run_devices.h: the virtio devices of `kvmini run`. */
#ifndef KVMINI_VIRTIO_RUN_DEVICES_H
#define KVMINI_VIRTIO_RUN_DEVICES_H

struct vm;

/* Adds one virtio-blk PCI device per vm->cfg.disks entry, virtio-net for
 * vm->cfg.net, virtio-mem when the VM has a hotplug region, virtio-balloon
 * with --balloon, virtio-console and virtio-rng when asked for. */
int virtio_run_devices_add(struct vm *vm);
/* With --console virtio: port 0 of the virtio-console takes vm->console
 * (its input, and its output beside COM1's). */
int virtio_run_devices_attach_console(struct vm *vm);

#endif
