/* reader.h: reading back a dump file (ELF64 core or kdump-compressed), with
 * every header field checked against the file before use. */
#ifndef KVMINI_DUMP_READER_H
#define KVMINI_DUMP_READER_H

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "dump/kdump_format.h"

#define READER_MAX_RANGES 64

enum dump_kind { DUMP_KIND_ELF, DUMP_KIND_KDUMP };

struct dump_range {
	uint64_t paddr, size, offset; /* offset: ELF file offset of the range */
};

struct dump_reader {
	int fd;
	enum dump_kind kind;
	uint64_t file_size;
	uint8_t *notes;
	size_t notes_len;
	char *vmcoreinfo;          /* NUL-terminated, or NULL */
	int nranges;
	struct dump_range ranges[READER_MAX_RANGES];
	/* kdump only */
	struct disk_dump_header header;
	struct kdump_sub_header sub;
	uint64_t max_mapnr;
	uint8_t *bitmap2;
	uint64_t bitmap_len;
	uint64_t *rank;            /* dumped pages before each 64-page word */
	uint64_t desc_off;
	void *zstd;
};

int dump_reader_open(struct dump_reader *r, const char *path);
void dump_reader_close(struct dump_reader *r);
/* Copies guest-physical memory; -1 if any byte is not in the dump. */
int dump_reader_read(struct dump_reader *r, uint64_t pa, void *buf, uint64_t len);

/* Iterates notes: returns the next note after *pos (start at 0), or false. */
struct dump_note {
	const char *name;
	uint32_t type;
	const uint8_t *desc;
	uint32_t desc_len;
};
bool dump_reader_next_note(const struct dump_reader *r, size_t *pos, struct dump_note *n);

#endif
