/* vmcoreinfo.h: the guest's VMCOREINFO, as handed over through fw_cfg. */
#ifndef KVMINI_DUMP_VMCOREINFO_H
#define KVMINI_DUMP_VMCOREINFO_H

struct vm;
struct dump_source;

/* Copies the text into src->vmcoreinfo (malloc'ed); -1 if the guest gave
 * none or an invalid one (said on stderr). */
int dump_read_vmcoreinfo(struct vm *vm, struct dump_source *src);

#endif
