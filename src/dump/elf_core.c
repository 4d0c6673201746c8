/* elf_core.c: the ELF64 core dump: ELF header, PT_NOTE (vCPU states and
 * VMCOREINFO), one PT_LOAD per guest RAM range; zero pages are left as holes. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "dump/ram_walk.h"
#include "dump/writers.h"
#include "util/log.h"

#define RUN_MAX (4ULL << 20)

struct elf_ctx {
	struct dump_file *f;
	struct dump_progress *progress;
	uint64_t region_gpa, region_offset; /* current PT_LOAD */
};

static int write_run(void *opaque, uint64_t gpa, const uint8_t *host, uint64_t len)
{
	struct elf_ctx *c = opaque;

	if (host)
		dump_file_pwrite(c->f, host, len, c->region_offset + (gpa - c->region_gpa));
	dump_progress_add(c->progress, len);
	return c->f->err;
}

static void fill_headers(const struct dump_source *src, Elf64_Ehdr *eh, Elf64_Phdr *ph,
			 size_t notes_len, uint64_t *data_start)
{
	const struct guest_memory *mem = src->mem;
	uint64_t off;

	memset(eh, 0, sizeof(*eh));
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = (Elf64_Half)(1 + mem->nregions);
	off = sizeof(*eh) + sizeof(Elf64_Phdr) * (uint64_t)eh->e_phnum;
	ph[0] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = off, .p_filesz = notes_len,
			      .p_align = 4 };
	off = (off + notes_len + DUMP_PAGE_SIZE - 1) & ~(DUMP_PAGE_SIZE - 1);
	*data_start = off;
	for (int i = 0; i < mem->nregions; i++) {
		const struct mem_region *r = &mem->regions[i];

		ph[1 + i] = (Elf64_Phdr){
			.p_type = PT_LOAD, .p_flags = PF_R | PF_W | PF_X, .p_offset = off,
			.p_vaddr = r->gpa, .p_paddr = r->gpa, .p_filesz = r->size,
			.p_memsz = r->size,
			.p_align = 0, /* as /proc/vmcore: crash takes it for kdump, not netdump */
		};
		off += r->size;
	}
}

int dump_write_elf(const struct dump_source *src, struct dump_file *f,
		   struct dump_progress *progress)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[1 + MEM_MAX_REGIONS];
	uint8_t *notes = NULL;
	size_t notes_len;
	uint64_t data_start;
	struct elf_ctx c = { .f = f, .progress = progress };

	if (dump_notes_build(src, &notes, &notes_len))
		return -1;
	fill_headers(src, &eh, ph, notes_len, &data_start);
	dump_file_pwrite(f, &eh, sizeof(eh), 0);
	dump_file_pwrite(f, ph, sizeof(ph[0]) * eh.e_phnum, eh.e_phoff);
	dump_file_pwrite(f, notes, notes_len, ph[0].p_offset);
	free(notes);
	for (int i = 0; i < src->mem->nregions && !f->err; i++) {
		c.region_gpa = ph[1 + i].p_paddr;
		c.region_offset = ph[1 + i].p_offset;
		ram_walk_region(src->mem, &src->mem->regions[i], RUN_MAX, write_run, &c);
	}
	dump_file_set_size(f, ph[eh.e_phnum - 1].p_offset + ph[eh.e_phnum - 1].p_filesz);
	return f->err ? -1 : 0;
}
