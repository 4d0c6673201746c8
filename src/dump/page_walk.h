/* page_walk.h: x86-64 guest virtual to physical translation through the
 * guest's page tables (4 or 5 levels, 2 MiB and 1 GiB pages). */
#ifndef KVMINI_DUMP_PAGE_WALK_H
#define KVMINI_DUMP_PAGE_WALK_H

#include <stdint.h>

/* Reads guest-physical memory; returns 0 or -1 if the range is not RAM. */
typedef int (*phys_read_fn)(void *ctx, uint64_t pa, void *buf, uint64_t len);

/* Returns 0 with *pa set, or -1 if `va` is not mapped. */
int page_walk(phys_read_fn read, void *ctx, uint64_t cr3, uint64_t cr4, uint64_t va,
	      uint64_t *pa);

#define X86_START_KERNEL_MAP 0xffffffff80000000ULL

#endif
