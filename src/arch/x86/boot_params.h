/* boot_params.h: the Linux x86 boot protocol's zero page and setup header
 * (Documentation/arch/x86/boot.rst, zero-page.rst), at their fixed offsets. */
#ifndef KVMINI_BOOT_PARAMS_H
#define KVMINI_BOOT_PARAMS_H

#include <stdint.h>

#define SETUP_HEADER_OFFSET 0x1f1
#define SETUP_HDR_MAGIC 0x53726448 /* "HdrS" */
#define BOOT_FLAG_MAGIC 0xAA55
#define LOADED_HIGH     0x01
#define CAN_USE_HEAP    0x80
#define XLF_KERNEL_64   0x01
#define E820_MAX_ENTRIES_ZEROPAGE 128
#define E820_RAM      1
#define E820_RESERVED 2
#define E820_ACPI     3

struct setup_header {
	uint8_t setup_sects;
	uint16_t root_flags;
	uint32_t syssize;
	uint16_t ram_size;
	uint16_t vid_mode;
	uint16_t root_dev;
	uint16_t boot_flag;
	uint16_t jump;
	uint32_t header;
	uint16_t version;
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t type_of_loader;
	uint8_t loadflags;
	uint16_t setup_move_size;
	uint32_t code32_start;
	uint32_t ramdisk_image;
	uint32_t ramdisk_size;
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;
	uint8_t ext_loader_ver;
	uint8_t ext_loader_type;
	uint32_t cmd_line_ptr;
	uint32_t initrd_addr_max;
	uint32_t kernel_alignment;
	uint8_t relocatable_kernel;
	uint8_t min_alignment;
	uint16_t xloadflags;
	uint32_t cmdline_size;
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;
	uint64_t pref_address;
	uint32_t init_size;
	uint32_t handover_offset;
	uint32_t kernel_info_offset;
} __attribute__((packed));

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

struct boot_params {
	uint8_t _pad0[0x070];
	uint64_t acpi_rsdp_addr;            /* 0x070 */
	uint8_t _pad1[0x0c0 - 0x078];
	uint32_t ext_ramdisk_image;         /* 0x0c0 */
	uint32_t ext_ramdisk_size;          /* 0x0c4 */
	uint32_t ext_cmd_line_ptr;          /* 0x0c8 */
	uint8_t _pad2[0x1e8 - 0x0cc];
	uint8_t e820_entries;               /* 0x1e8 */
	uint8_t _pad3[SETUP_HEADER_OFFSET - 0x1e9];
	struct setup_header hdr;            /* 0x1f1 */
	uint8_t _pad4[0x2d0 - 0x1f1 - sizeof(struct setup_header)];
	struct e820_entry e820_table[E820_MAX_ENTRIES_ZEROPAGE]; /* 0x2d0 */
	uint8_t _pad5[0x1000 - 0x2d0 - E820_MAX_ENTRIES_ZEROPAGE * sizeof(struct e820_entry)];
} __attribute__((packed));

_Static_assert(sizeof(struct setup_header) == 0x26c - 0x1f1, "setup_header layout");
_Static_assert(sizeof(struct boot_params) == 4096, "boot_params is one page");

#endif
