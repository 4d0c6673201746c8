/* memmap.c: bounds-checked translation of guest addresses. */
#include "virtio/memmap.h"

#include <stddef.h>

static void *lookup(const struct vmem_map *m, uint64_t addr, uint64_t len, int by_uaddr)
{
	for (int i = 0; i < m->nregions; i++) {
		const struct vmem_region *r = &m->r[i];
		uint64_t base = by_uaddr ? r->uaddr : r->gpa;

		if (addr < base || addr - base >= r->size)
			continue;
		if (len > r->size - (addr - base))
			return NULL;
		return r->hva + (addr - base);
	}
	return NULL;
}

void *vmem_translate(const struct vmem_map *m, uint64_t gpa, uint64_t len)
{
	return lookup(m, gpa, len, 0);
}

void *vmem_translate_uaddr(const struct vmem_map *m, uint64_t uaddr, uint64_t len)
{
	return lookup(m, uaddr, len, 1);
}
