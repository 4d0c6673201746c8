/* vmem_region.h: the host side of virtio-mem: a hotplug region above RAM
 * backed by its own memfd. Only plugged blocks are KVM memory slots (one
 * slot per maximal run of plugged blocks), so a guest access to an
 * unplugged block never reaches host memory: it exits to kvmini as MMIO,
 * where reads see zeros, writes are dropped, and both are counted.
 * Unplugged blocks are returned to the host with fallocate(PUNCH_HOLE),
 * so plugging them again gives zeroed memory. */
#ifndef KVMINI_VMEM_REGION_H
#define KVMINI_VMEM_REGION_H

#include <pthread.h>
#include <stdint.h>

#include "hotplug/vmem_state.h"

struct vm;

/* KVM memory slots of the region start here (boot RAM uses the first few). */
#define VMEM_SLOT_BASE 256
/* At most this many separate plugged runs (each one KVM slot). */
#define VMEM_MAX_RUNS 4096
/* The region starts on a 1 GiB boundary above RAM and the 32-bit hole. */
#define VMEM_REGION_ALIGN (1ULL << 30)

/* runs[i] is KVM slot VMEM_SLOT_BASE + i. */
struct vmem_run {
	uint64_t first, count; /* blocks; count 0: unused */
};

struct vmem_hotplug {
	struct vm *vm;
	struct vmem_state state;
	int memfd;
	uint8_t *host;
	pthread_mutex_t lock;
	struct vmem_run runs[VMEM_MAX_RUNS];
	uint64_t slot_failures;
	uint64_t unplugged_reads, unplugged_writes;
	/* Set by the virtio device: tells the driver the config changed. */
	void (*config_changed)(void *opaque);
	void *config_opaque;
};

/* Guest-physical address where a hotplug region of `block_size` blocks
 * would start for this VM's RAM. */
uint64_t vmem_region_gpa(const struct vm *vm, uint64_t block_size);

/* Creates the region (nothing plugged, requested size 0) and its MMIO
 * guard; the result is stored in vm->vmem. */
int vmem_region_create(struct vm *vm, uint64_t size, uint64_t block_size);
void vmem_region_destroy(struct vmem_hotplug *r);

/* The API's resize: sets the requested size (-1 and *err if refused). */
int vmem_region_resize(struct vmem_hotplug *r, uint64_t size, const char **err);
/* One driver request, with vCPUs paused around memory-slot changes. */
uint16_t vmem_region_request(struct vmem_hotplug *r, const void *req, size_t len,
			     struct virtio_mem_resp *resp);
/* Bytes of the memfd the host really holds (st_blocks). */
uint64_t vmem_region_resident(const struct vmem_hotplug *r);

#endif
