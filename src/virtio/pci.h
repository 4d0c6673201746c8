/* pci.h: the virtio-pci modern (1.x) transport in the monitor. */
#ifndef KVMINI_VIRTIO_PCI_H
#define KVMINI_VIRTIO_PCI_H

#include "virtio/virtio.h"

struct vm;

/* Puts `dev` (ops and priv set) on the VM's PCI bus, with its queues over
 * the VM's RAM and its notifications and interrupts through KVM. */
int virtio_pci_add(struct vm *vm, struct virtio_dev *dev);

#endif
