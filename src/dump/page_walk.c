/* page_walk.c: walks an x86-64 guest's page tables read from a dump or RAM. */
#include "dump/page_walk.h"

#define PTE_PRESENT 0x1ULL
#define PTE_LARGE   0x80ULL
#define PTE_ADDR    0x000ffffffffff000ULL
#define CR4_LA57    (1ULL << 12)

int page_walk(phys_read_fn read, void *ctx, uint64_t cr3, uint64_t cr4, uint64_t va,
	      uint64_t *pa)
{
	int levels = (cr4 & CR4_LA57) ? 5 : 4;
	uint64_t table = cr3 & PTE_ADDR;

	for (int level = levels; level >= 1; level--) {
		int shift = 12 + 9 * (level - 1);
		uint64_t index = (va >> shift) & 511, pte;

		if (read(ctx, table + index * 8, &pte, sizeof(pte)) || !(pte & PTE_PRESENT))
			return -1;
		if (level == 1 || ((level == 2 || level == 3) && (pte & PTE_LARGE))) {
			uint64_t mask = (1ULL << shift) - 1;

			*pa = ((pte & PTE_ADDR) & ~mask) | (va & mask);
			return 0;
		}
		table = pte & PTE_ADDR;
	}
	return -1;
}
