/* run_devices.c: the virtio devices `kvmini run` puts on the VM's PCI
 * bus: one virtio-blk per --disk, virtio-net for --net, virtio-mem for the
 * --hotplug region, virtio-balloon with --balloon, virtio-console for
 * --console virtio / --port, virtio-rng for --rng. */
#include "virtio/run_devices.h"

#include "balloon/balloon.h"
#include "console/console.h"
#include "util/log.h"
#include "virtio/balloon.h"
#include "virtio/blk.h"
#include "virtio/console_ports.h"
#include "virtio/mem.h"
#include "virtio/net.h"
#include "virtio/pci.h"
#include "virtio/rng.h"
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

static void destroy_balloon(void *arg)
{
	virtio_balloon_destroy(arg);
}

static int add_balloon(struct vm *vm)
{
	struct virtio_dev *dev;

	if (!vm->cfg.balloon)
		return 0;
	dev = vm_zalloc(vm, sizeof(*dev));
	if (!dev || virtio_balloon_init(dev))
		return -1;
	if (vm_add_cleanup(vm, destroy_balloon, dev) || virtio_pci_add(vm, dev))
		return -1;
	vm->balloon = virtio_balloon_model(dev);
	/* Targets can be set before the driver starts the device. */
	pthread_mutex_lock(&vm->balloon->lock);
	vm->balloon->memory_size = vm->mem.size;
	pthread_mutex_unlock(&vm->balloon->lock);
	return 0;
}

static void destroy_console(void *arg)
{
	virtio_console_destroy(arg);
}

static void quit_vm(void *vm)
{
	vm_request_exit(vm, EXIT_SHUTDOWN);
}

static int add_console(struct vm *vm)
{
	struct console_sink sink = { .quit = quit_vm, .quit_opaque = vm };
	struct virtio_dev *dev;

	if (!vm->cfg.virtio_console && !vm->cfg.nports)
		return 0;
	dev = vm_zalloc(vm, sizeof(*dev));
	if (!dev || virtio_console_init(dev, 1 + (uint32_t)vm->cfg.nports))
		return -1;
	if (vm_add_cleanup(vm, destroy_console, dev) ||
	    virtio_console_open_ports(dev, &vm->loop, vm->cfg.ports, vm->cfg.nports,
				      vm->cfg.console, &sink))
		return -1;
	vm->virtio_console = dev;
	return virtio_pci_add(vm, dev);
}

static void destroy_rng(void *arg)
{
	virtio_rng_destroy(arg);
}

static int add_rng(struct vm *vm)
{
	struct virtio_dev *dev;

	if (!vm->cfg.rng_rate)
		return 0;
	dev = vm_zalloc(vm, sizeof(*dev));
	if (!dev || virtio_rng_init(dev, vm->cfg.rng_rate, vm->cfg.rng_burst))
		return -1;
	if (vm_add_cleanup(vm, destroy_rng, dev))
		return -1;
	return virtio_pci_add(vm, dev);
}

int virtio_run_devices_add(struct vm *vm)
{
	return add_disks(vm) || add_net(vm) || add_hotplug_memory(vm) || add_balloon(vm) || add_console(vm) ||
	       add_rng(vm);
}

int virtio_run_devices_attach_console(struct vm *vm)
{
	if (!vm->cfg.virtio_console)
		return 0;
	return virtio_console_set_console(vm->virtio_console, vm->console, false);
}
