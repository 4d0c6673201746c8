/* memmap.h: the guest memory a virtio device may touch: guest-physical
 * ranges mapped into this process. Built from the VM's RAM in the monitor,
 * or from a vhost-user frontend's memory table in a backend process. Every
 * guest-supplied address goes through vmem_translate(). */
#ifndef KVMINI_MEMMAP_H
#define KVMINI_MEMMAP_H

#include <stdint.h>

#define VMEM_MAX_REGIONS 8

struct vmem_region {
	uint64_t gpa;    /* guest-physical start */
	uint64_t size;
	uint64_t uaddr;  /* the frontend's own virtual address (vhost-user ring addresses) */
	uint8_t *hva;    /* where it is mapped here */
};

struct vmem_map {
	int nregions;
	struct vmem_region r[VMEM_MAX_REGIONS];
};

/* Host pointer for [gpa, gpa+len) when it lies within one region, else NULL. */
void *vmem_translate(const struct vmem_map *m, uint64_t gpa, uint64_t len);
/* The same for a frontend virtual address. */
void *vmem_translate_uaddr(const struct vmem_map *m, uint64_t uaddr, uint64_t len);

#endif
