/* kdump_format.h: the kdump-compressed (diskdump) file layout, header
 * version 6, as makedumpfile writes it and crash reads it (diskdump.h). */
#ifndef KVMINI_DUMP_KDUMP_FORMAT_H
#define KVMINI_DUMP_KDUMP_FORMAT_H

#include <stdint.h>

#define KDUMP_SIGNATURE "KDUMP   "
#define KDUMP_HEADER_VERSION 6
#define KDUMP_BLOCK_SIZE 4096

/* Compression flags in disk_dump_header.status and page_desc.flags. */
#define DUMP_DH_COMPRESSED_ZLIB 0x1
#define DUMP_DH_COMPRESSED_LZO  0x2
#define DUMP_DH_COMPRESSED_SNAPPY 0x4
#define DUMP_DH_COMPRESSED_INCOMPLETE 0x8
#define DUMP_DH_COMPRESSED_ZSTD 0x20

#define KDUMP_DL_EXCLUDE_ZERO 1

struct kdump_utsname {
	char sysname[65], nodename[65], release[65], version[65], machine[65], domainname[65];
};

struct disk_dump_header {
	char signature[8];
	int32_t header_version;
	struct kdump_utsname utsname;
	char pad0[6];
	int64_t timestamp_sec, timestamp_usec;
	uint32_t status;
	int32_t block_size;
	int32_t sub_hdr_size;      /* blocks */
	uint32_t bitmap_blocks;    /* both bitmaps */
	uint32_t max_mapnr;        /* 32-bit, obsolete: see max_mapnr_64 */
	uint32_t total_ram_blocks;
	uint32_t device_blocks;
	uint32_t written_blocks;
	uint32_t current_cpu;
	int32_t nr_cpus;
	/* followed by nr_cpus task pointers */
};

_Static_assert(__builtin_offsetof(struct disk_dump_header, timestamp_sec) == 408, "timestamp");
_Static_assert(sizeof(struct disk_dump_header) == 464, "disk_dump_header is 464 bytes");

struct kdump_sub_header {
	uint64_t phys_base;
	int32_t dump_level;
	int32_t split;
	uint64_t start_pfn, end_pfn;
	uint64_t offset_vmcoreinfo, size_vmcoreinfo;
	uint64_t offset_note, size_note;
	uint64_t offset_eraseinfo, size_eraseinfo;
	uint64_t start_pfn_64, end_pfn_64, max_mapnr_64;
};

_Static_assert(sizeof(struct kdump_sub_header) == 104, "kdump_sub_header is 104 bytes");

struct kdump_page_desc {
	uint64_t offset;     /* of the page data in the file */
	uint32_t size;       /* of the (compressed) data */
	uint32_t flags;      /* DUMP_DH_COMPRESSED_* or 0: stored as is */
	uint64_t page_flags;
};

_Static_assert(sizeof(struct kdump_page_desc) == 24, "page_desc is 24 bytes");

#endif
