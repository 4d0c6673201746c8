/* writers.h: the dump formats kvmini writes. */
#ifndef KVMINI_DUMP_WRITERS_H
#define KVMINI_DUMP_WRITERS_H

#include "dump/dump_file.h"
#include "dump/dump_source.h"
#include "dump/progress.h"

/* ELF64 core: PT_NOTE, then one PT_LOAD per RAM range (p_paddr = guest
 * physical, p_vaddr = the same: test guests and gdb see an identity map).
 * Zero pages become holes of a sparse file. */
int dump_write_elf(const struct dump_source *src, struct dump_file *f,
		   struct dump_progress *progress);
/* kdump-compressed (diskdump header version 6), zero pages shared, the
 * others compressed one by one. */
int dump_write_kdump(const struct dump_source *src, struct dump_file *f,
		     struct dump_progress *progress);

#endif
