/* run_devices.c: the virtio devices `kvmini run` puts on the VM's PCI
 * bus: one virtio-blk per --disk, virtio-net for --net, and virtio-mem for
 * the --hotplug region. */
#include "virtio/run_devices.h"

#include "util/log.h"
#include "virtio/blk.h"
#include "virtio/mem.h"
#include "virtio/net.h"
#include "virtio/pci.h"
#include "vm/vm.h"

static void destroy_blk(void *arg)
{
	virtio_blk_destroy(arg);
}

static int add_disks(struct vm *vm)
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

static void destroy_net(void *arg)
{
	virtio_net_destroy(arg);
}

/* --net: one queue pair per vCPU unless queues= says otherwise. */
static int add_net(struct vm *vm)
{
	struct net_options o;
	struct virtio_dev *dev;
	struct tap *tap;

	if (!vm->cfg.net)
		return 0;
	if (net_options_parse(vm->cfg.net, &o))
		return -1;
	if (!o.queues_set)
		o.queues = vm->cfg.ncpus < TAP_MAX_QUEUES ? vm->cfg.ncpus : TAP_MAX_QUEUES;
	dev = vm_zalloc(vm, sizeof(*dev));
	if (!dev || !(tap = tap_open(&o)))
		return -1;
	if (virtio_net_init(dev, tap, &o)) {
		tap_close(tap);
		return -1;
	}
	if (vm_add_cleanup(vm, destroy_net, dev) || virtio_pci_add(vm, dev))
		return -1;
	vm->net = dev;
	return 0;
}

static int add_hotplug_memory(struct vm *vm)
{
	struct virtio_dev *dev;

	if (!vm->vmem)
		return 0;
	dev = vm_zalloc(vm, sizeof(*dev));
	if (!dev || virtio_mem_init(dev, vm->vmem))
		return -1;
	return virtio_pci_add(vm, dev);
}

int virtio_run_devices_add(struct vm *vm)
{
	return add_disks(vm) || add_net(vm) || add_hotplug_memory(vm);
}
