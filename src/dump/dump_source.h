/* dump_source.h: what a dump writer is given: the stopped vCPUs' state, the
 * guest's RAM, its VMCOREINFO and what was derived from it. */
#ifndef KVMINI_DUMP_SOURCE_H
#define KVMINI_DUMP_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "dump/cpu_state.h"
#include "vm/memory.h"

enum dump_compression {
	DUMP_COMPRESS_ZSTD,
	DUMP_COMPRESS_ZLIB,
};

struct dump_source {
	const struct guest_memory *mem;
	int ncpus;
	struct dump_cpu *cpus;
	int crashing_cpu;          /* -1: none (dump on request) */
	const char *reason;        /* "panic", "triple-fault", "request" */
	time_t time;
	char *vmcoreinfo;          /* the guest's VMCOREINFO text, NUL-terminated, or NULL */
	size_t vmcoreinfo_len;
	uint64_t phys_base;
	uint64_t kaslr_offset;
	bool have_phys_base, have_kaslr, phys_base_from_idt;
	char osrelease[65];
	enum dump_compression compression;
};

/* Fills phys_base, the KASLR offset and the release from VMCOREINFO, or
 * phys_base from the crashing vCPU's CR3 and IDT when there is none. */
void dump_source_derive(struct dump_source *src);

/* Builds the PT_NOTE contents: per vCPU a CORE NT_PRSTATUS, then the
 * VMCOREINFO note, per vCPU a QEMU CPU-state note and a KVMINI note, and
 * a KVMINI dump note (phys_base, KASLR offset, reason).
 * Sets *out (malloc'ed) and *len; -1 when out of memory. */
int dump_notes_build(const struct dump_source *src, uint8_t **out, size_t *len);

#endif
