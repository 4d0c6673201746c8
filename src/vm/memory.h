/* memory.h: guest RAM, one memfd split around the 32-bit device hole. */
#ifndef KVMINI_MEMORY_H
#define KVMINI_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MEM_HOLE_START 0xC0000000ULL  /* 3 GiB: PCI, IOAPIC, LAPIC live above */
#define MEM_HOLE_END   0x100000000ULL /* 4 GiB */
#define MEM_MAX_REGIONS 4

/* One guest-physical RAM range backed by [memfd_offset, +size) of the memfd. */
struct mem_region {
	uint64_t gpa;
	uint64_t size;
	uint64_t memfd_offset;
	uint8_t *host;
};

struct guest_memory {
	int memfd;
	uint8_t *host;       /* the whole memfd, mapped contiguously */
	uint64_t size;       /* bytes of RAM */
	int nregions;
	struct mem_region regions[MEM_MAX_REGIONS];
};

/* Creates `size` bytes of RAM (a multiple of 2 MiB, at least 16 MiB). */
int guest_memory_create(struct guest_memory *mem, uint64_t size);
void guest_memory_destroy(struct guest_memory *mem);
/* Registers every region as a KVM memory slot. */
int guest_memory_map_kvm(struct guest_memory *mem, int vm_fd);

/* Host pointer for [gpa, gpa+len) if the whole range is RAM in one region,
 * else NULL. Every guest-supplied address goes through this check. */
void *gpa_to_hva(const struct guest_memory *mem, uint64_t gpa, uint64_t len);
/* Copies to/from guest RAM; -1 if the range is not entirely RAM. */
int guest_write(const struct guest_memory *mem, uint64_t gpa, const void *src, uint64_t len);
int guest_read(const struct guest_memory *mem, uint64_t gpa, void *dst, uint64_t len);
/* Highest RAM address below 4 GiB, exclusive. */
uint64_t guest_low_ram_end(const struct guest_memory *mem);

#endif
