/* disks.c: `kvmini run --disk PATH[,readonly]`: each disk becomes a
 * virtio-blk device on the VM's PCI bus. */
#include "virtio/disks.h"

#include "util/log.h"
#include "virtio/blk.h"
#include "virtio/pci.h"
#include "vm/vm.h"

static void destroy_blk(void *arg)
{
	virtio_blk_destroy(arg);
}

int virtio_disks_add(struct vm *vm)
{
	for (int i = 0; i < vm->cfg.ndisks; i++) {
		struct virtio_dev *dev = vm_zalloc(vm, sizeof(*dev));
		struct disk disk;

		if (!dev || disk_open(&disk, vm->cfg.disks[i]))
			return -1;
		if (virtio_blk_init(dev, &disk)) {
			disk_close(&disk);
			return -1;
		}
		if (vm_add_cleanup(vm, destroy_blk, dev) || virtio_pci_add(vm, dev))
			return -1;
	}
	return 0;
}
