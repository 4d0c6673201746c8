/* vmem_host_bench.c: kvmini's side of plugging and unplugging SIZE of
 * virtio-mem, without a guest (the monitor has no virtio-pci transport
 * yet): a KVM VM without vCPUs, a hotplug region of 2*SIZE, PLUG requests
 * of 64 blocks (as Linux and the test guest send them) until SIZE is
 * plugged, one word written per 4 KiB page (as the guest does), then
 * UNPLUG requests; prints the times and the memfd blocks given back.
 * Built and run by bench/mem_bench.py against build/obj. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "hotplug/vmem_region.h"
#include "vm/vm.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int requests(struct vmem_hotplug *r, uint16_t type, uint64_t blocks)
{
	for (uint64_t b = 0; b < blocks; b += 64) {
		struct virtio_mem_req q = { .type = type };
		struct virtio_mem_resp resp;

		q.u.plug.addr = r->state.addr + b * r->state.block_size;
		q.u.plug.nb_blocks = (uint16_t)(blocks - b < 64 ? blocks - b : 64);
		if (vmem_region_request(r, &q, sizeof(q), &resp) != VIRTIO_MEM_RESP_ACK)
			return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t size = (argc > 1 ? strtoull(argv[1], NULL, 0) : 1024) << 20, blocks, before;
	struct vm vm;
	struct vmem_hotplug *r;
	const char *err;
	double t0, t1, t2, t3;

	memset(&vm, 0, sizeof(vm));
	vm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	vm.vm_fd = vm.kvm_fd < 0 ? -1 : ioctl(vm.kvm_fd, KVM_CREATE_VM, 0);
	pthread_mutex_init(&vm.pause_lock, NULL);
	pthread_cond_init(&vm.pause_cond, NULL);
	io_bus_init(&vm.mmio);
	if (vm.vm_fd < 0 || guest_memory_create(&vm.mem, 64ULL << 20) ||
	    vmem_region_create(&vm, 2 * size, VMEM_DEFAULT_BLOCK) ||
	    vmem_region_resize(vm.vmem, size, &err))
		return 1;
	r = vm.vmem;
	blocks = size / r->state.block_size;
	t0 = now();
	if (requests(r, VIRTIO_MEM_REQ_PLUG, blocks))
		return 1;
	t1 = now();
	for (uint64_t off = 0; off < size; off += 4096)
		*(volatile uint64_t *)(r->host + off) = off;
	t2 = now();
	before = vmem_region_resident(r);
	if (requests(r, VIRTIO_MEM_REQ_UNPLUG, blocks))
		return 1;
	t3 = now();
	printf("{\"plug_us\": %.0f, \"touch_ms\": %.0f, \"unplug_us\": %.0f, \"before\": %llu, "
	       "\"after\": %llu}\n", (t1 - t0) * 1e6, (t2 - t1) * 1e3, (t3 - t2) * 1e6,
	       (unsigned long long)before, (unsigned long long)vmem_region_resident(r));
	vmem_region_destroy(r);
	guest_memory_destroy(&vm.mem);
	return 0;
}
