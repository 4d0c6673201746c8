/* derive.c: what crash needs to place the kernel, from the guest's
 * VMCOREINFO (NUMBER(phys_base) in decimal, KERNELOFFSET in hex, OSRELEASE) or, without it, phys_base
 * from the crashing vCPU's first IDT handler through its page tables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dump/dump_source.h"
#include "dump/page_walk.h"

/* Value of "KEY=" at the start of a VMCOREINFO line, copied into buf. */
static const char *vmcoreinfo_value(const char *text, const char *key, char *buf, size_t size)
{
	size_t klen = strlen(key);

	for (const char *line = text; line && *line; line = strchr(line, '\n'), line += !!line) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		if (len > klen && !strncmp(line, key, klen) && line[klen] == '=') {
			len -= klen + 1;
			if (len >= size)
				len = size - 1;
			memcpy(buf, line + klen + 1, len);
			buf[len] = 0;
			return buf;
		}
	}
	return NULL;
}

static int hex_value(const char *text, const char *key, uint64_t *out)
{
	char buf[32], *end;

	if (!vmcoreinfo_value(text, key, buf, sizeof(buf)))
		return -1;
	*out = strtoull(buf, &end, 16);
	return end == buf ? -1 : 0;
}

static int dec_value(const char *text, const char *key, uint64_t *out)
{
	char buf[32], *end;

	if (!vmcoreinfo_value(text, key, buf, sizeof(buf)))
		return -1;
	*out = (uint64_t)strtoll(buf, &end, 10);
	return end == buf ? -1 : 0;
}

static int read_ram(void *ctx, uint64_t pa, void *buf, uint64_t len)
{
	return guest_read(ctx, pa, buf, len);
}

/* The IDT's first gate points into kernel text, mapped at
 * __START_KERNEL_map + phys - phys_base. */
static void phys_base_from_idt(struct dump_source *src)
{
	int cpu = src->crashing_cpu >= 0 && src->crashing_cpu < src->ncpus ? src->crashing_cpu : 0;
	const struct kvm_sregs *s;
	uint64_t gate_pa, handler_pa, handler, gate[2];

	if (src->ncpus == 0)
		return;
	s = &src->cpus[cpu].sregs;
	if (!(s->cr0 & 0x80000000) || !(s->efer & 0x400) || s->idt.limit < 15)
		return;
	if (page_walk(read_ram, (void *)src->mem, s->cr3, s->cr4, s->idt.base, &gate_pa) ||
	    guest_read(src->mem, gate_pa, gate, sizeof(gate)))
		return;
	handler = (gate[0] & 0xffff) | ((gate[0] >> 32) & 0xffff0000ULL) | (gate[1] << 32);
	if (handler < X86_START_KERNEL_MAP ||
	    page_walk(read_ram, (void *)src->mem, s->cr3, s->cr4, handler, &handler_pa))
		return;
	src->phys_base = handler_pa - (handler - X86_START_KERNEL_MAP);
	src->have_phys_base = true;
	src->phys_base_from_idt = true;
}

void dump_source_derive(struct dump_source *src)
{
	if (src->vmcoreinfo) {
		src->have_phys_base = !dec_value(src->vmcoreinfo, "NUMBER(phys_base)", &src->phys_base);
		src->have_kaslr = !hex_value(src->vmcoreinfo, "KERNELOFFSET", &src->kaslr_offset);
		vmcoreinfo_value(src->vmcoreinfo, "OSRELEASE", src->osrelease,
				 sizeof(src->osrelease));
	}
	if (!src->have_phys_base)
		phys_base_from_idt(src);
}
