/* test_vmem_region.c: the host side of virtio-mem on a real KVM VM (no
 * vCPUs): plugged runs become non-overlapping memory slots (merged and
 * split as blocks come and go, or KVM would refuse them), unplugged blocks
 * leave the memfd, come back zeroed, and guest accesses to them are
 * refused by the MMIO guard. Skips without /dev/kvm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "balloon/release.h"
#include "hotplug/vmem_region.h"
#include "vm/vm.h"

#define BLK (2ULL << 20)

struct fixture {
	struct vm vm;
	struct vmem_hotplug *r;
};

static int setup(void **state)
{
	static struct fixture f;

	memset(&f, 0, sizeof(f));
	f.vm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (f.vm.kvm_fd < 0)
		return 0;
	f.vm.vm_fd = ioctl(f.vm.kvm_fd, KVM_CREATE_VM, 0);
	pthread_mutex_init(&f.vm.pause_lock, NULL);
	pthread_cond_init(&f.vm.pause_cond, NULL);
	io_bus_init(&f.vm.mmio);
	assert_true(f.vm.vm_fd >= 0);
	assert_int_equal(guest_memory_create(&f.vm.mem, 32ULL << 20), 0);
	assert_int_equal(vmem_region_create(&f.vm, 64ULL << 20, BLK), 0);
	f.r = f.vm.vmem;
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (!f)
		return 0;
	vmem_region_destroy(f->r);
	guest_memory_destroy(&f->vm.mem);
	close(f->vm.vm_fd);
	close(f->vm.kvm_fd);
	return 0;
}

static uint16_t req(struct vmem_hotplug *r, uint16_t type, uint64_t block, uint16_t nb)
{
	struct virtio_mem_req q = { .type = type };
	struct virtio_mem_resp resp;

	q.u.plug.addr = r->state.addr + block * BLK;
	q.u.plug.nb_blocks = nb;
	return vmem_region_request(r, &q, sizeof(q), &resp);
}

static int nruns(struct vmem_hotplug *r)
{
	int n = 0;

	for (int i = 0; i < VMEM_MAX_RUNS; i++)
		n += r->runs[i].count != 0;
	return n;
}

static void fill(struct vmem_hotplug *r, uint64_t block, uint64_t n)
{
	memset(r->host + block * BLK, 0xa5, n * BLK);
}

static void plug_split_merge_release(void **state)
{
	struct fixture *f = *state;
	struct vmem_hotplug *r;
	const char *err;
	uint8_t data[8];

	if (!f)
		skip();
	r = f->r;
	assert_int_equal(r->state.addr, 1ULL << 32);
	assert_int_equal(vmem_region_resize(r, 16 * BLK, &err), 0);
	assert_int_equal(req(r, VIRTIO_MEM_REQ_PLUG, 0, 4), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(req(r, VIRTIO_MEM_REQ_PLUG, 4, 4), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(nruns(r), 1); /* merged: KVM refuses overlapping slots */
	fill(r, 0, 8);
	assert_int_equal(vmem_region_resident(r), 8 * BLK);
	assert_int_equal(req(r, VIRTIO_MEM_REQ_UNPLUG, 2, 2), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(nruns(r), 2);
	assert_int_equal(vmem_region_resident(r), 6 * BLK);
	/* the guard: accesses to an unplugged block are refused */
	memset(data, 0x11, sizeof(data));
	assert_true(io_bus_access(&f->vm.mmio, r->state.addr + 2 * BLK, data, 8, false));
	assert_int_equal(data[0] | data[7], 0);
	assert_true(io_bus_access(&f->vm.mmio, r->state.addr + 3 * BLK + 8, data, 4, true));
	assert_int_equal(r->unplugged_reads, 1);
	assert_int_equal(r->unplugged_writes, 1);
	/* plugged again: zeroed, and one run again */
	assert_int_equal(req(r, VIRTIO_MEM_REQ_PLUG, 2, 2), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(nruns(r), 1);
	for (uint64_t off = 2 * BLK; off < 4 * BLK; off += 4096)
		assert_int_equal(r->host[off], 0);
	assert_int_equal(r->host[0], 0xa5);
	assert_int_equal(vmem_region_resident(r), 8 * BLK); /* shmem reads allocate */
	/* a balloon release inside plugged memory punches the memfd; outside, refused */
	assert_int_equal(release_vm_range(&f->vm, r->state.addr, BLK), 0);
	assert_int_equal(vmem_region_resident(r), 7 * BLK);
	assert_int_equal(release_vm_range(&f->vm, r->state.addr + 10 * BLK, 4096), -1);
	assert_int_equal(req(r, VIRTIO_MEM_REQ_UNPLUG_ALL, 0, 0), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(nruns(r), 0);
	assert_int_equal(vmem_region_resident(r), 0);
}

static void many_runs(void **state)
{
	struct fixture *f = *state;
	struct vmem_hotplug *r;
	const char *err;

	if (!f)
		skip();
	r = f->r;
	assert_int_equal(vmem_region_resize(r, 32 * BLK, &err), 0);
	/* every other block: 16 separate slots */
	for (uint64_t b = 0; b < 32; b += 2)
		assert_int_equal(req(r, VIRTIO_MEM_REQ_PLUG, b, 1), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(nruns(r), 16);
	/* filling the gaps merges everything back into one */
	for (uint64_t b = 1; b < 32; b += 2)
		assert_int_equal(req(r, VIRTIO_MEM_REQ_PLUG, b, 1), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(nruns(r), 1);
	assert_int_equal(r->runs[0].count + r->runs[1].count + r->runs[2].count, 32);
	assert_int_equal(r->slot_failures, 0);
	assert_int_equal(req(r, VIRTIO_MEM_REQ_UNPLUG_ALL, 0, 0), VIRTIO_MEM_RESP_ACK);
}

static void boot_ram_release(void **state)
{
	struct fixture *f = *state;

	if (!f)
		skip();
	memset(f->vm.mem.host + (8 << 20), 1, 4 << 20);
	assert_int_equal(release_vm_range(&f->vm, 8 << 20, 4 << 20), 0);
	assert_int_equal(f->vm.mem.host[8 << 20], 0);
	assert_int_equal(release_vm_range(&f->vm, (32 << 20) - 4096, 8192), -1); /* past RAM */
	assert_int_equal(release_vm_range(&f->vm, 4097, 4096), -1);             /* not a page */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(plug_split_merge_release),
		cmocka_unit_test(many_runs),
		cmocka_unit_test(boot_ram_release),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
