/* test_virtio_mem.c: the virtio-mem device through a real split virtqueue
 * of the shared core (no transport): requests in, answers out on the used
 * ring, malformed chains refused, config space and config-change signal.
 * Uses a KVM VM for the region's memory slots; skips without /dev/kvm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "hotplug/vmem_region.h"
#include "virtio/mem.h"
#include "vm/vm.h"

#define BLK (2ULL << 20)
#define QSIZE 8

/* "Guest memory" for the rings and buffers: 64 KiB at guest address 0. */
struct guest {
	struct vring_desc desc[QSIZE];
	uint16_t avail[3 + QSIZE];
	uint8_t used[4 + 8 * QSIZE + 2];
	struct virtio_mem_req req;
	struct virtio_mem_resp resp;
	uint8_t pad[65536];
} __attribute__((aligned(4096)));

static struct guest g;
static struct vm vm;
static struct virtio_dev dev;
static struct vmem_map map;
static int config_changes;

static void on_config(struct virtio_dev *d)
{
	config_changes++;
}

static uint64_t gpa_of(const void *p)
{
	return (uint64_t)((const uint8_t *)p - (const uint8_t *)&g);
}

static int setup(void **state)
{
	memset(&vm, 0, sizeof(vm));
	memset(&dev, 0, sizeof(dev));
	vm.kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (vm.kvm_fd < 0)
		return 0;
	vm.vm_fd = ioctl(vm.kvm_fd, KVM_CREATE_VM, 0);
	pthread_mutex_init(&vm.pause_lock, NULL);
	pthread_cond_init(&vm.pause_cond, NULL);
	io_bus_init(&vm.mmio);
	assert_int_equal(guest_memory_create(&vm.mem, 32ULL << 20), 0);
	assert_int_equal(vmem_region_create(&vm, 64ULL << 20, BLK), 0);
	assert_int_equal(virtio_mem_init(&dev, vm.vmem), 0);
	dev.config_changed = on_config;
	map.nregions = 1;
	map.r[0] = (struct vmem_region){ 0, sizeof(g), 0, (uint8_t *)&g };
	dev.mem = &map;
	assert_int_equal(vq_setup(&dev.vqs[0], &map, QSIZE, gpa_of(g.desc), gpa_of(g.avail),
				  gpa_of(g.used)), 0);
	*state = &dev;
	return 0;
}

static int teardown(void **state)
{
	if (!*state)
		return 0;
	vmem_region_destroy(vm.vmem);
	guest_memory_destroy(&vm.mem);
	close(vm.vm_fd);
	close(vm.kvm_fd);
	return 0;
}

static uint16_t used_idx(void) { uint16_t v; memcpy(&v, g.used + 2, 2); return v; }

static uint32_t used_len(uint16_t i)
{
	uint32_t v;

	memcpy(&v, g.used + 4 + 8 * (i % QSIZE) + 4, 4);
	return v;
}

/* Posts one chain (req readable, resp writable of resp_len) and kicks. */
static uint16_t send(uint16_t type, uint64_t block, uint16_t nb, uint32_t resp_len)
{
	uint16_t before = used_idx();

	memset(&g.req, 0, sizeof(g.req));
	g.req.type = type;
	g.req.u.plug.addr = vm.vmem->state.addr + block * BLK;
	g.req.u.plug.nb_blocks = nb;
	g.resp.type = 0xffff;
	g.desc[0] = (struct vring_desc){ gpa_of(&g.req), sizeof(g.req), VRING_DESC_F_NEXT, 1 };
	g.desc[1] = (struct vring_desc){ gpa_of(&g.resp), resp_len, VRING_DESC_F_WRITE, 0 };
	g.avail[2 + g.avail[1] % QSIZE] = 0;
	g.avail[1]++;
	dev.ops->queue_notify(&dev, &dev.vqs[0]);
	assert_int_equal(used_idx(), (uint16_t)(before + 1));
	return g.resp.type;
}

static void requests_through_the_queue(void **state)
{
	struct virtio_mem_config cfg;
	const char *err;

	if (!*state)
		skip();
	assert_int_equal(dev.ops->device_id, 24);
	assert_int_equal(vmem_region_resize(vm.vmem, 8 * BLK, &err), 0);
	assert_int_equal(config_changes, 1);
	dev.ops->read_config(&dev, 0, &cfg, sizeof(cfg));
	assert_int_equal(cfg.requested_size, 8 * BLK);
	assert_int_equal(cfg.block_size, BLK);
	assert_int_equal(send(VIRTIO_MEM_REQ_PLUG, 0, 4, sizeof(g.resp)), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(used_len(used_idx() - 1), sizeof(g.resp));
	assert_int_equal(send(VIRTIO_MEM_REQ_PLUG, 4, 8, sizeof(g.resp)), VIRTIO_MEM_RESP_NACK);
	assert_int_equal(send(VIRTIO_MEM_REQ_STATE, 0, 4, sizeof(g.resp)), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(g.resp.u.state.state, VIRTIO_MEM_STATE_PLUGGED);
	dev.ops->read_config(&dev, 0, &cfg, sizeof(cfg));
	assert_int_equal(cfg.plugged_size, 4 * BLK);
	/* no room for the answer: the chain comes back unanswered, state untouched */
	assert_int_equal(send(VIRTIO_MEM_REQ_UNPLUG, 0, 4, 2), 0xffff);
	assert_int_equal(used_len(used_idx() - 1), 0);
	assert_int_equal(vmem_plugged_size(&vm.vmem->state), 4 * BLK);
	assert_int_equal(send(VIRTIO_MEM_REQ_UNPLUG_ALL, 0, 0, sizeof(g.resp)), VIRTIO_MEM_RESP_ACK);
	assert_int_equal(vmem_plugged_size(&vm.vmem->state), 0);
}

static void malformed_chain(void **state)
{
	uint16_t before;

	if (!*state)
		skip();
	before = used_idx();
	g.desc[0] = (struct vring_desc){ 0xfffffff000ULL, 24, 0, 0 }; /* outside guest memory */
	g.avail[2 + g.avail[1] % QSIZE] = 0;
	g.avail[1]++;
	dev.ops->queue_notify(&dev, &dev.vqs[0]);
	assert_int_equal(used_idx(), (uint16_t)(before + 1));
	assert_int_equal(used_len(before), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(requests_through_the_queue),
		cmocka_unit_test(malformed_chain),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
