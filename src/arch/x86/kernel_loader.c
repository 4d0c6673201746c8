/* kernel_loader.c: bzImage (boot protocol 2.12+, 64-bit entry) and ELF64
 * vmlinux parsing, with every offset and size checked against the file. */
#include "arch/x86/kernel_loader.h"

#include <elf.h>
#include <string.h>

#include "util/log.h"

#define BZIMAGE_MIN_VERSION 0x020c /* xloadflags and the 64-bit entry */
#define ELF_MAX_PHDRS 64

enum kernel_format kernel_detect(const uint8_t *buf, size_t len)
{
	uint32_t magic;

	if (len >= SELFMAG && !memcmp(buf, ELFMAG, SELFMAG))
		return KERNEL_ELF64;
	if (len >= 0x206) {
		memcpy(&magic, buf + 0x202, 4);
		if (magic == SETUP_HDR_MAGIC)
			return KERNEL_BZIMAGE;
	}
	return KERNEL_UNKNOWN;
}

int bzimage_parse(const uint8_t *buf, size_t len, struct kernel_image *img)
{
	struct setup_header *h = &img->hdr;
	size_t setup_size, hdr_end;

	memset(img, 0, sizeof(*img));
	if (len < SETUP_HEADER_OFFSET + sizeof(*h))
		return error("bzImage truncated: %zu bytes is shorter than its setup header", len);
	memcpy(h, buf + SETUP_HEADER_OFFSET, sizeof(*h));
	if (h->header != SETUP_HDR_MAGIC || h->boot_flag != BOOT_FLAG_MAGIC)
		return error("not a bzImage: no HdrS/0xAA55 magic in the setup header");
	if (h->version < BZIMAGE_MIN_VERSION)
		return error("bzImage boot protocol %u.%02u is too old: 64-bit entry needs 2.12",
			     h->version >> 8, h->version & 0xff);
	if (!(h->xloadflags & XLF_KERNEL_64))
		return error("bzImage has no 64-bit entry point (XLF_KERNEL_64 unset): "
			     "build the kernel for x86_64");
	/* The header's own length: 0x202 + the jump's target byte. */
	hdr_end = 0x202 + buf[0x201];
	if (hdr_end > SETUP_HEADER_OFFSET + sizeof(*h))
		hdr_end = SETUP_HEADER_OFFSET + sizeof(*h);
	memset((uint8_t *)h + (hdr_end - SETUP_HEADER_OFFSET), 0,
	       sizeof(*h) - (hdr_end - SETUP_HEADER_OFFSET));
	setup_size = ((size_t)(h->setup_sects ? h->setup_sects : 4) + 1) * 512;
	if (setup_size >= len)
		return error("bzImage truncated: %zu bytes, setup code alone claims %zu", len,
			     setup_size);
	img->format = KERNEL_BZIMAGE;
	img->has_setup_header = 1;
	img->load_start = KERNEL_LOAD_ADDR;
	img->entry = KERNEL_LOAD_ADDR + 0x200;
	img->load_end = KERNEL_LOAD_ADDR + (len - setup_size);
	if (KERNEL_LOAD_ADDR + h->init_size > img->load_end)
		img->load_end = KERNEL_LOAD_ADDR + h->init_size;
	return 0;
}

static int check_elf_header(const Elf64_Ehdr *eh, size_t len)
{
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return error("ELF kernel is not 64-bit little-endian");
	if (eh->e_machine != EM_X86_64)
		return error("ELF kernel is not for x86-64 (e_machine %u)", eh->e_machine);
	if (eh->e_type != ET_EXEC)
		return error("ELF kernel is not an executable (e_type %u)", eh->e_type);
	if (eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 ||
	    eh->e_phnum > ELF_MAX_PHDRS)
		return error("ELF kernel has a bad program header table (%u entries of %u bytes)",
			     eh->e_phnum, eh->e_phentsize);
	if (eh->e_phoff > len || (size_t)eh->e_phnum * sizeof(Elf64_Phdr) > len - eh->e_phoff)
		return error("ELF kernel truncated: program headers lie past the end of the file");
	return 0;
}

static int check_segment(const Elf64_Phdr *ph, size_t len, int i)
{
	if (ph->p_offset > len || ph->p_filesz > len - ph->p_offset)
		return error("ELF kernel truncated: segment %d lies past the end of the file", i);
	if (ph->p_filesz > ph->p_memsz)
		return error("ELF kernel segment %d has more file bytes than memory bytes", i);
	if (ph->p_paddr + ph->p_memsz < ph->p_paddr)
		return error("ELF kernel segment %d wraps around the address space", i);
	return 0;
}

int elf64_parse(const uint8_t *buf, size_t len, struct kernel_image *img)
{
	Elf64_Ehdr eh;
	int loads = 0;

	memset(img, 0, sizeof(*img));
	if (len < sizeof(eh))
		return error("ELF kernel truncated: %zu bytes", len);
	memcpy(&eh, buf, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || check_elf_header(&eh, len))
		return memcmp(eh.e_ident, ELFMAG, SELFMAG) ? error("not an ELF file") : -1;
	img->format = KERNEL_ELF64;
	img->load_start = UINT64_MAX;
	img->entry = eh.e_entry;
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, buf + eh.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		if (check_segment(&ph, len, i))
			return -1;
		loads++;
		if (ph.p_paddr < img->load_start)
			img->load_start = ph.p_paddr;
		if (ph.p_paddr + ph.p_memsz > img->load_end)
			img->load_end = ph.p_paddr + ph.p_memsz;
		/* vmlinux's e_entry may be virtual: enter at its physical twin. */
		if (eh.e_entry >= ph.p_vaddr && eh.e_entry - ph.p_vaddr < ph.p_memsz)
			img->entry = ph.p_paddr + (eh.e_entry - ph.p_vaddr);
	}
	if (!loads)
		return error("ELF kernel has no loadable segment");
	return 0;
}

static int load_elf_segments(struct guest_memory *mem, const uint8_t *buf)
{
	Elf64_Ehdr eh;

	memcpy(&eh, buf, sizeof(eh));
	for (int i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		uint8_t *dst;

		memcpy(&ph, buf + eh.e_phoff + (size_t)i * sizeof(ph), sizeof(ph));
		if (ph.p_type != PT_LOAD)
			continue;
		dst = gpa_to_hva(mem, ph.p_paddr, ph.p_memsz);
		if (!dst)
			return error("ELF kernel segment %d (0x%llx+0x%llx) lies outside guest RAM; "
				     "give the guest more --memory", i,
				     (unsigned long long)ph.p_paddr, (unsigned long long)ph.p_memsz);
		memcpy(dst, buf + ph.p_offset, ph.p_filesz);
		memset(dst + ph.p_filesz, 0, ph.p_memsz - ph.p_filesz);
	}
	return 0;
}

int kernel_load(struct guest_memory *mem, const uint8_t *buf, size_t len, struct kernel_image *img)
{
	size_t setup_size;
	uint8_t *dst;

	switch (kernel_detect(buf, len)) {
	case KERNEL_ELF64:
		if (elf64_parse(buf, len, img))
			return -1;
		return load_elf_segments(mem, buf);
	case KERNEL_BZIMAGE:
		if (bzimage_parse(buf, len, img))
			return -1;
		if (!gpa_to_hva(mem, img->load_start, img->load_end - img->load_start))
			return error("kernel needs %llu MiB from 1 MiB up, more than guest RAM; "
				     "give the guest more --memory",
				     (unsigned long long)((img->load_end - img->load_start) >> 20) + 1);
		setup_size = ((size_t)(img->hdr.setup_sects ? img->hdr.setup_sects : 4) + 1) * 512;
		dst = gpa_to_hva(mem, img->load_start, len - setup_size);
		memcpy(dst, buf + setup_size, len - setup_size);
		return 0;
	default:
		return error("kernel is neither a bzImage nor an ELF64 vmlinux (unknown magic)");
	}
}
