/* vmcoreinfo.c: fetches the guest's VMCOREINFO: the ELF note whose address
 * the guest wrote into fw_cfg's etc/vmcoreinfo, checked before use. */
#include <elf.h>
#include <stdlib.h>
#include <string.h>

#include "devices/fw_cfg.h"
#include "dump/dump_source.h"
#include "dump/vmcoreinfo.h"
#include "util/log.h"
#include "vm/vm.h"

#define VMCOREINFO_MAX (1U << 20)

int dump_read_vmcoreinfo(struct vm *vm, struct dump_source *src)
{
	uint64_t paddr;
	uint32_t size, name_len;
	Elf64_Nhdr h;
	char name[12];

	if (fw_cfg_vmcoreinfo(vm, &paddr, &size))
		return -1; /* the guest gave none */
	if (size < sizeof(h) || size > VMCOREINFO_MAX ||
	    guest_read(&vm->mem, paddr, &h, sizeof(h)))
		return error("guest VMCOREINFO at 0x%llx (%u bytes) is not in RAM; dumping without it",
			     (unsigned long long)paddr, size);
	name_len = (h.n_namesz + 3) & ~3U;
	if (h.n_namesz != sizeof("VMCOREINFO") ||
	    guest_read(&vm->mem, paddr + sizeof(h), name, sizeof(name)) ||
	    memcmp(name, "VMCOREINFO", sizeof("VMCOREINFO")) ||
	    h.n_descsz > size - sizeof(h) - name_len)
		return error("guest VMCOREINFO note at 0x%llx is malformed; dumping without it",
			     (unsigned long long)paddr);
	src->vmcoreinfo = calloc(1, h.n_descsz + 1);
	if (!src->vmcoreinfo)
		return error("out of memory for VMCOREINFO");
	if (guest_read(&vm->mem, paddr + sizeof(h) + name_len, src->vmcoreinfo, h.n_descsz)) {
		free(src->vmcoreinfo);
		src->vmcoreinfo = NULL;
		return error("guest VMCOREINFO text is not in RAM; dumping without it");
	}
	src->vmcoreinfo_len = strnlen(src->vmcoreinfo, h.n_descsz);
	return 0;
}
