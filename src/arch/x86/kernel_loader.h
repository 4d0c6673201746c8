/* kernel_loader.h: recognising and loading bzImage and ELF64 vmlinux kernels. */
#ifndef KVMINI_KERNEL_LOADER_H
#define KVMINI_KERNEL_LOADER_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86/boot_params.h"
#include "vm/memory.h"

#define KERNEL_LOAD_ADDR 0x100000ULL /* where a bzImage's 64-bit kernel goes */

enum kernel_format { KERNEL_UNKNOWN, KERNEL_BZIMAGE, KERNEL_ELF64 };

struct kernel_image {
	enum kernel_format format;
	uint64_t entry;           /* guest-physical 64-bit entry point */
	uint64_t load_start;      /* lowest guest-physical byte used */
	uint64_t load_end;        /* end of the kernel's footprint (init_size for bzImage) */
	/* bzImage only: the setup header to copy into the zero page. */
	int has_setup_header;
	struct setup_header hdr;
};

enum kernel_format kernel_detect(const uint8_t *buf, size_t len);
/* Each fills `img` or returns -1 with a one-line error naming the problem. */
int bzimage_parse(const uint8_t *buf, size_t len, struct kernel_image *img);
int elf64_parse(const uint8_t *buf, size_t len, struct kernel_image *img);
/* Parses and copies the kernel into guest RAM. */
int kernel_load(struct guest_memory *mem, const uint8_t *buf, size_t len, struct kernel_image *img);

#endif
