/* test_kernel_loader.c: bzImage and ELF64 parsing and loading, including
 * truncated files, wrong magic and segments outside guest RAM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/kernel_loader.h"

#define BZ_PAYLOAD 4096

static uint8_t *make_bzimage(size_t *len)
{
	size_t setup = 2 * 512;
	uint8_t *b = calloc(1, setup + BZ_PAYLOAD);
	struct setup_header h = { 0 };

	h.setup_sects = 1;
	h.boot_flag = BOOT_FLAG_MAGIC;
	h.header = SETUP_HDR_MAGIC;
	h.version = 0x020f;
	h.xloadflags = XLF_KERNEL_64;
	h.init_size = 0x10000;
	h.cmdline_size = 2047;
	memcpy(b + SETUP_HEADER_OFFSET, &h, sizeof(h));
	b[0x200] = 0xeb;
	b[0x201] = 0x26c - 0x202;
	memset(b + setup, 0x90, BZ_PAYLOAD);
	*len = setup + BZ_PAYLOAD;
	return b;
}

static void bzimage_ok(void **state)
{
	size_t len;
	uint8_t *b = make_bzimage(&len);
	struct kernel_image img;

	assert_int_equal(kernel_detect(b, len), KERNEL_BZIMAGE);
	assert_int_equal(bzimage_parse(b, len, &img), 0);
	assert_int_equal(img.entry, 0x100200);
	assert_int_equal(img.load_end, 0x100000 + 0x10000);
	assert_int_equal(img.hdr.cmdline_size, 2047);
	free(b);
}

static void bzimage_bad(void **state)
{
	size_t len;
	uint8_t *b = make_bzimage(&len);
	struct kernel_image img;

	/* truncated: header present, payload missing */
	assert_int_equal(bzimage_parse(b, 1024, &img), -1);
	assert_int_equal(bzimage_parse(b, 0x210, &img), -1);
	/* old protocol */
	b[0x206] = 0x0b;
	assert_int_equal(bzimage_parse(b, len, &img), -1);
	b[0x206] = 0x0f;
	/* 32-bit only */
	b[0x236] = 0;
	assert_int_equal(bzimage_parse(b, len, &img), -1);
	b[0x236] = XLF_KERNEL_64;
	/* setup_sects pointing past the end */
	b[0x1f1] = 200;
	assert_int_equal(bzimage_parse(b, len, &img), -1);
	b[0x1f1] = 1;
	/* wrong magic */
	b[0x1fe] = 0;
	assert_int_equal(bzimage_parse(b, len, &img), -1);
	assert_int_equal(kernel_detect((const uint8_t *)"hello", 5), KERNEL_UNKNOWN);
	free(b);
}

struct elf_file {
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	uint8_t code[64];
} __attribute__((packed));

static void make_elf(struct elf_file *f)
{
	memset(f, 0, sizeof(*f));
	memcpy(f->eh.e_ident, ELFMAG, SELFMAG);
	f->eh.e_ident[EI_CLASS] = ELFCLASS64;
	f->eh.e_ident[EI_DATA] = ELFDATA2LSB;
	f->eh.e_type = ET_EXEC;
	f->eh.e_machine = EM_X86_64;
	f->eh.e_entry = 0xffffffff81000010ULL; /* virtual, like vmlinux */
	f->eh.e_phoff = offsetof(struct elf_file, ph);
	f->eh.e_phentsize = sizeof(Elf64_Phdr);
	f->eh.e_phnum = 1;
	f->ph[0].p_type = PT_LOAD;
	f->ph[0].p_offset = offsetof(struct elf_file, code);
	f->ph[0].p_vaddr = 0xffffffff81000000ULL;
	f->ph[0].p_paddr = 0x1000000;
	f->ph[0].p_filesz = sizeof(f->code);
	f->ph[0].p_memsz = 0x2000;
	memset(f->code, 0xcc, sizeof(f->code));
}

static void elf_ok_and_loaded(void **state)
{
	struct elf_file f;
	struct kernel_image img;
	struct guest_memory mem;
	uint8_t *p;

	make_elf(&f);
	assert_int_equal(elf64_parse((uint8_t *)&f, sizeof(f), &img), 0);
	assert_int_equal(img.entry, 0x1000010); /* translated to physical */
	assert_int_equal(guest_memory_create(&mem, 32ULL << 20), 0);
	assert_int_equal(kernel_load(&mem, (uint8_t *)&f, sizeof(f), &img), 0);
	p = gpa_to_hva(&mem, 0x1000000, 0x2000);
	assert_non_null(p);
	assert_int_equal(p[0], 0xcc);
	assert_int_equal(p[sizeof(f.code)], 0); /* bss zeroed */
	guest_memory_destroy(&mem);
}

static void elf_bad(void **state)
{
	struct elf_file f;
	struct kernel_image img;
	struct guest_memory mem;

	make_elf(&f);
	assert_int_equal(elf64_parse((uint8_t *)&f, 40, &img), -1);           /* truncated */
	assert_int_equal(elf64_parse((uint8_t *)&f, sizeof(f) - 8, &img), -1); /* segment past end */
	f.eh.e_machine = EM_386;
	assert_int_equal(elf64_parse((uint8_t *)&f, sizeof(f), &img), -1);
	make_elf(&f);
	f.eh.e_ident[EI_CLASS] = ELFCLASS32;
	assert_int_equal(elf64_parse((uint8_t *)&f, sizeof(f), &img), -1);
	make_elf(&f);
	f.eh.e_phnum = 1000;
	assert_int_equal(elf64_parse((uint8_t *)&f, sizeof(f), &img), -1);
	make_elf(&f);
	f.ph[0].p_filesz = 0x3000; /* more file than memory, and past the end */
	assert_int_equal(elf64_parse((uint8_t *)&f, sizeof(f), &img), -1);
	make_elf(&f);
	f.ph[0].p_paddr = ~0ULL - 0x100; /* wraps */
	assert_int_equal(elf64_parse((uint8_t *)&f, sizeof(f), &img), -1);
	make_elf(&f);
	f.ph[0].p_type = PT_NOTE; /* nothing to load */
	assert_int_equal(elf64_parse((uint8_t *)&f, sizeof(f), &img), -1);
	/* a segment outside guest RAM is refused at load time */
	make_elf(&f);
	f.ph[0].p_paddr = 0x7ff000; /* ends past 8 MiB... */
	assert_int_equal(guest_memory_create(&mem, 16ULL << 20), 0);
	f.ph[0].p_paddr = 0xfff000; /* ...and this one past 16 MiB */
	assert_int_equal(kernel_load(&mem, (uint8_t *)&f, sizeof(f), &img), -1);
	f.ph[0].p_paddr = 0xd0000000; /* in the 32-bit hole */
	assert_int_equal(kernel_load(&mem, (uint8_t *)&f, sizeof(f), &img), -1);
	guest_memory_destroy(&mem);
	assert_int_equal(kernel_load(NULL, (const uint8_t *)"MZ garbage", 10, &img), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(bzimage_ok),
		cmocka_unit_test(bzimage_bad),
		cmocka_unit_test(elf_ok_and_loaded),
		cmocka_unit_test(elf_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
