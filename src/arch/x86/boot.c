/* boot.c: the Linux boot protocol: zero page, command line, initrd, e820. */
#include "arch/x86/x86.h"

#include <string.h>

#include "util/log.h"
#include "vm/vm.h"

#define DEFAULT_INITRD_ADDR_MAX 0x7fffffffULL
#define LOADER_TYPE_UNDEFINED 0xff

int x86_e820_build(const struct vm *vm, struct e820_entry *table, int max)
{
	const struct guest_memory *mem = &vm->mem;
	int n = 0;

	if (max < 2 + mem->nregions)
		return -1;
	table[n++] = (struct e820_entry){ 0, EBDA_START, E820_RAM };
	table[n++] = (struct e820_entry){ EBDA_START, 0x100000 - EBDA_START, E820_RESERVED };
	table[n++] = (struct e820_entry){ 0x100000, mem->regions[0].size - 0x100000, E820_RAM };
	for (int i = 1; i < mem->nregions; i++)
		table[n++] = (struct e820_entry){ mem->regions[i].gpa, mem->regions[i].size, E820_RAM };
	return n;
}

static int place_cmdline(struct vm *vm, struct boot_params *zp, const char *cmdline)
{
	uint64_t max = BOOT_CMDLINE_MAX;
	size_t len = strlen(cmdline);

	if (zp->hdr.cmdline_size && zp->hdr.cmdline_size < max)
		max = zp->hdr.cmdline_size + 1ULL;
	if (len + 1 > max)
		return error("command line of %zu bytes is longer than the kernel accepts (%llu)",
			     len, (unsigned long long)(max - 1));
	if (guest_write(&vm->mem, BOOT_CMDLINE_ADDR, cmdline, len + 1))
		return error("no guest RAM for the command line");
	zp->hdr.cmd_line_ptr = (uint32_t)BOOT_CMDLINE_ADDR;
	zp->ext_cmd_line_ptr = 0;
	return 0;
}

/* The initrd goes as high as the header allows, below the 32-bit hole. */
static int place_initrd(struct vm *vm, struct boot_params *zp, const struct kernel_image *img,
			const uint8_t *initrd, size_t len)
{
	uint64_t limit = zp->hdr.initrd_addr_max ? zp->hdr.initrd_addr_max : DEFAULT_INITRD_ADDR_MAX;
	uint64_t top = guest_low_ram_end(&vm->mem);
	uint64_t addr;

	if (limit + 1 < top)
		top = limit + 1;
	if (len > top || ((top - len) & ~0xfffULL) < img->load_end)
		return error("initrd of %zu KiB does not fit between the kernel (ends at 0x%llx) "
			     "and 0x%llx: give the guest more --memory", len >> 10,
			     (unsigned long long)img->load_end, (unsigned long long)top);
	addr = (top - len) & ~0xfffULL;
	if (guest_write(&vm->mem, addr, initrd, len))
		return error("initrd at 0x%llx is outside guest RAM", (unsigned long long)addr);
	zp->hdr.ramdisk_image = (uint32_t)addr;
	zp->hdr.ramdisk_size = (uint32_t)len;
	zp->ext_ramdisk_image = (uint32_t)(addr >> 32);
	zp->ext_ramdisk_size = (uint32_t)((uint64_t)len >> 32);
	return 0;
}

static void init_setup_header(struct boot_params *zp, const struct kernel_image *img)
{
	if (img->has_setup_header) {
		zp->hdr = img->hdr;
	} else {
		/* An ELF vmlinux has no header: describe ourselves as protocol 2.15. */
		zp->hdr.boot_flag = BOOT_FLAG_MAGIC;
		zp->hdr.header = SETUP_HDR_MAGIC;
		zp->hdr.version = 0x020f;
		zp->hdr.initrd_addr_max = DEFAULT_INITRD_ADDR_MAX;
		zp->hdr.kernel_alignment = 0x1000000;
	}
	zp->hdr.type_of_loader = LOADER_TYPE_UNDEFINED;
	zp->hdr.loadflags |= LOADED_HIGH | CAN_USE_HEAP;
	zp->hdr.heap_end_ptr = 0xfe00;
	zp->hdr.vid_mode = 0xffff; /* "normal" */
	zp->hdr.code32_start = (uint32_t)img->load_start;
}

int x86_boot_prepare(struct vm *vm, const uint8_t *kernel, size_t kernel_len,
		     const uint8_t *initrd, size_t initrd_len, struct kernel_image *img)
{
	struct boot_params *zp = gpa_to_hva(&vm->mem, BOOT_ZERO_PAGE, sizeof(*zp));
	uint64_t rsdp;
	int n;

	if (kernel_load(&vm->mem, kernel, kernel_len, img))
		return -1;
	if (img->load_start < 0x100000)
		return error("kernel loads at 0x%llx, below 1 MiB where kvmini keeps boot data",
			     (unsigned long long)img->load_start);
	memset(zp, 0, sizeof(*zp));
	init_setup_header(zp, img);
	if (place_cmdline(vm, zp, vm->cfg.cmdline ? vm->cfg.cmdline : ""))
		return -1;
	if (initrd && place_initrd(vm, zp, img, initrd, initrd_len))
		return -1;
	n = x86_e820_build(vm, zp->e820_table, E820_MAX_ENTRIES_ZEROPAGE);
	if (n < 0)
		return error("e820 table overflow");
	zp->e820_entries = (uint8_t)n;
	if (x86_acpi_build(vm, &rsdp) || x86_mptable_build(vm))
		return -1;
	zp->acpi_rsdp_addr = rsdp;
	return 0;
}
