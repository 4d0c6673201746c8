/* vmem_state.c: virtio-mem requests on a plugged-block bitmap. Every
 * address and count from the driver is checked against the usable region
 * before a bit is touched; the answers follow virtio 1.2, 5.15.6. */
#include "hotplug/vmem_state.h"

#include <endian.h>
#include <stdlib.h>
#include <string.h>

#define WORD_BITS 64

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int vmem_state_init(struct vmem_state *s, uint64_t addr, uint64_t region_size,
		    uint64_t block_size)
{
	memset(s, 0, sizeof(*s));
	if (block_size < 4096 || (block_size & (block_size - 1)) || addr % block_size ||
	    region_size == 0 || region_size % block_size)
		return -1;
	s->addr = addr;
	s->region_size = region_size;
	s->block_size = block_size;
	s->nblocks = region_size / block_size;
	s->bitmap = calloc((s->nblocks + WORD_BITS - 1) / WORD_BITS, sizeof(uint64_t));
	return s->bitmap ? 0 : -1;
}

void vmem_state_free(struct vmem_state *s)
{
	free(s->bitmap);
	s->bitmap = NULL;
}

bool vmem_block_plugged(const struct vmem_state *s, uint64_t block)
{
	return block < s->nblocks && (s->bitmap[block / WORD_BITS] >> (block % WORD_BITS)) & 1;
}

static void set_blocks(struct vmem_state *s, uint64_t first, uint64_t count, bool plugged)
{
	for (uint64_t b = first; b < first + count; b++) {
		uint64_t bit = 1ULL << (b % WORD_BITS);

		if (plugged)
			s->bitmap[b / WORD_BITS] |= bit;
		else
			s->bitmap[b / WORD_BITS] &= ~bit;
	}
	if (plugged)
		s->plugged_blocks += count;
	else
		s->plugged_blocks -= count;
}

/* How many of blocks [first, first + count) are plugged. */
static uint64_t count_plugged(const struct vmem_state *s, uint64_t first, uint64_t count)
{
	uint64_t n = 0;

	for (uint64_t b = first; b < first + count; b++)
		n += vmem_block_plugged(s, b);
	return n;
}

const char *vmem_check_size(const struct vmem_state *s, uint64_t size)
{
	if (size > s->region_size)
		return "size is larger than the hotplug region (see `memory`: region_size)";
	if (size % s->block_size)
		return "size is not a multiple of the hotplug block size (see `memory`: block_size)";
	return NULL;
}

static uint64_t usable_for(const struct vmem_state *s, uint64_t requested)
{
	uint64_t want = requested ? align_up(requested + VMEM_USABLE_EXTRA, s->block_size) : 0;

	return want < s->region_size ? want : s->region_size;
}

int vmem_set_requested(struct vmem_state *s, uint64_t size, const char **err)
{
	uint64_t usable;

	*err = vmem_check_size(s, size);
	if (*err)
		return -1;
	s->requested_size = size;
	usable = usable_for(s, size);
	if (usable > s->usable_size)
		s->usable_size = usable; /* shrinks only with UNPLUG_ALL */
	return 0;
}

/* Turns (addr, nb_blocks) into a block range inside the usable region. */
static bool range_ok(const struct vmem_state *s, uint64_t addr, uint16_t nb, uint64_t *first)
{
	uint64_t usable_blocks = s->usable_size / s->block_size;

	if (nb == 0 || addr < s->addr || (addr - s->addr) % s->block_size)
		return false;
	*first = (addr - s->addr) / s->block_size;
	return *first < usable_blocks && nb <= usable_blocks - *first;
}

static uint16_t change(struct vmem_state *s, uint64_t first, uint64_t count, bool plugged)
{
	set_blocks(s, first, count, plugged);
	if (s->on_change && s->on_change(s->opaque, first, count, plugged)) {
		if (plugged) {
			set_blocks(s, first, count, false);
			return VIRTIO_MEM_RESP_BUSY;
		}
		/* Unplugged for the guest even if the host kept the memory. */
	}
	return VIRTIO_MEM_RESP_ACK;
}

static uint16_t plug(struct vmem_state *s, uint64_t addr, uint16_t nb)
{
	uint64_t first;

	if (!range_ok(s, addr, nb, &first) || count_plugged(s, first, nb))
		return VIRTIO_MEM_RESP_ERROR;
	if ((s->plugged_blocks + nb) * s->block_size > s->requested_size)
		return VIRTIO_MEM_RESP_NACK;
	return change(s, first, nb, true);
}

static uint16_t unplug(struct vmem_state *s, uint64_t addr, uint16_t nb)
{
	uint64_t first;

	if (!range_ok(s, addr, nb, &first) || count_plugged(s, first, nb) != nb)
		return VIRTIO_MEM_RESP_ERROR;
	return change(s, first, nb, false);
}

static uint16_t unplug_all(struct vmem_state *s)
{
	uint64_t b = 0;

	while (b < s->nblocks) {
		uint64_t end = b;

		if (!vmem_block_plugged(s, b)) {
			b++;
			continue;
		}
		while (end < s->nblocks && vmem_block_plugged(s, end))
			end++;
		change(s, b, end - b, false);
		b = end;
	}
	s->usable_size = usable_for(s, s->requested_size);
	return VIRTIO_MEM_RESP_ACK;
}

static uint16_t state(struct vmem_state *s, uint64_t addr, uint16_t nb, uint16_t *out)
{
	uint64_t first, n;

	if (!range_ok(s, addr, nb, &first))
		return VIRTIO_MEM_RESP_ERROR;
	n = count_plugged(s, first, nb);
	*out = n == nb ? VIRTIO_MEM_STATE_PLUGGED
		       : n == 0 ? VIRTIO_MEM_STATE_UNPLUGGED : VIRTIO_MEM_STATE_MIXED;
	return VIRTIO_MEM_RESP_ACK;
}

uint16_t vmem_handle_request(struct vmem_state *s, const void *buf, size_t len,
			     struct virtio_mem_resp *resp)
{
	struct virtio_mem_req req;
	uint16_t type, nb, st = 0;
	uint64_t addr;

	memset(resp, 0, sizeof(*resp));
	if (len < sizeof(req)) {
		resp->type = htole16(VIRTIO_MEM_RESP_ERROR);
		return VIRTIO_MEM_RESP_ERROR;
	}
	memcpy(&req, buf, sizeof(req));
	type = le16toh(req.type);
	addr = le64toh(req.u.plug.addr); /* the three request bodies share a layout */
	nb = le16toh(req.u.plug.nb_blocks);
	switch (type) {
	case VIRTIO_MEM_REQ_PLUG: type = plug(s, addr, nb); break;
	case VIRTIO_MEM_REQ_UNPLUG: type = unplug(s, addr, nb); break;
	case VIRTIO_MEM_REQ_UNPLUG_ALL: type = unplug_all(s); break;
	case VIRTIO_MEM_REQ_STATE: type = state(s, addr, nb, &st); break;
	default: type = VIRTIO_MEM_RESP_ERROR; break;
	}
	resp->type = htole16(type);
	resp->u.state.state = htole16(st);
	return type;
}

void vmem_config(const struct vmem_state *s, struct virtio_mem_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->block_size = htole64(s->block_size);
	cfg->addr = htole64(s->addr);
	cfg->region_size = htole64(s->region_size);
	cfg->usable_region_size = htole64(s->usable_size);
	cfg->plugged_size = htole64(vmem_plugged_size(s));
	cfg->requested_size = htole64(s->requested_size);
}
