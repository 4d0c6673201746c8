/* vmem_state.h: the virtio-mem device model as pure state: a region of
 * equal blocks, a plugged-block bitmap, the requested/usable/plugged sizes,
 * and the handling of the driver's PLUG/UNPLUG/UNPLUG_ALL/STATE requests
 * (virtio 1.2, 5.15). The host side (memfd, KVM slots) hears about every
 * block-state change through a callback. */
#ifndef KVMINI_VMEM_STATE_H
#define KVMINI_VMEM_STATE_H

#include <linux/virtio_mem.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VMEM_DEFAULT_BLOCK (2ULL << 20)
/* The usable region reaches this far beyond the requested size, so the
 * driver can plug around blocks it cannot use (as QEMU does). */
#define VMEM_USABLE_EXTRA (256ULL << 20)

/* Blocks [first, first + count) became plugged (or unplugged). Returns 0,
 * or -1 if the host could not back (or release) them: a plug is then
 * undone and answered BUSY. */
typedef int (*vmem_change_fn)(void *opaque, uint64_t first, uint64_t count, bool plugged);

struct vmem_state {
	uint64_t addr;        /* guest-physical start, block-aligned */
	uint64_t region_size; /* bytes, a multiple of block_size */
	uint64_t block_size;  /* a power of two, at least 4 KiB */
	uint64_t nblocks;
	uint64_t *bitmap;     /* bit set: block plugged */
	uint64_t plugged_blocks;
	uint64_t requested_size;
	uint64_t usable_size;
	vmem_change_fn on_change;
	void *opaque;
};

int vmem_state_init(struct vmem_state *s, uint64_t addr, uint64_t region_size,
		    uint64_t block_size);
void vmem_state_free(struct vmem_state *s);

/* Checks a requested size: NULL if acceptable, else the reason. */
const char *vmem_check_size(const struct vmem_state *s, uint64_t size);
/* Sets the size the driver should plug up to (and grows the usable region);
 * returns -1 with *err set when vmem_check_size() refuses it. */
int vmem_set_requested(struct vmem_state *s, uint64_t size, const char **err);

/* Handles one request of `len` bytes; fills *resp. Returns the response type. */
uint16_t vmem_handle_request(struct vmem_state *s, const void *req, size_t len,
			     struct virtio_mem_resp *resp);

bool vmem_block_plugged(const struct vmem_state *s, uint64_t block);
static inline uint64_t vmem_plugged_size(const struct vmem_state *s)
{
	return s->plugged_blocks * s->block_size;
}
/* The virtio-mem configuration space as the driver reads it. */
void vmem_config(const struct vmem_state *s, struct virtio_mem_config *cfg);

#endif
