/* take.h: one dump of the whole VM, in every format asked for. */
#ifndef KVMINI_DUMP_TAKE_H
#define KVMINI_DUMP_TAKE_H

struct vm;
struct dump_options;

/* Pauses the VM (from any thread), writes DIR/vmcore-PID-SEQ-REASON.{elf,kdump}
 * and resumes it; -1 if a file could not be written (said why). */
int dump_take(struct vm *vm, const struct dump_options *o, const char *reason,
	      int crashing_cpu, unsigned seq);

#endif
