/* take.c: taking one dump: stop every vCPU, capture their state and the
 * guest's VMCOREINFO, write each format atomically, let the guest go on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dump/dump.h"
#include "dump/take.h"
#include "dump/vmcoreinfo.h"
#include "dump/writers.h"
#include "util/log.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

static int write_format(const struct dump_source *src, const char *dir, const char *name,
			int (*writer)(const struct dump_source *, struct dump_file *,
				      struct dump_progress *))
{
	struct dump_file f;
	struct dump_progress progress;
	double seconds;

	if (dump_file_open(&f, dir, name))
		return -1;
	dump_progress_start(&progress, name, src->mem->size);
	if (writer(src, &f, &progress) && !f.err) {
		dump_file_abort(&f);
		return error("dump %s/%s abandoned", dir, name);
	}
	dump_progress_end(&progress);
	if (dump_file_commit(&f))
		return -1;
	seconds = dump_progress_elapsed(&progress);
	info("dump written: %s/%s (%llu MiB of RAM, %llu MiB written, in %.2f s)", dir, name,
	     (unsigned long long)(src->mem->size >> 20), (unsigned long long)(f.written >> 20),
	     seconds);
	return 0;
}

static int capture(struct vm *vm, struct dump_source *src)
{
	src->cpus = calloc((size_t)vm->ncpus, sizeof(*src->cpus));
	if (!src->cpus)
		return error("out of memory for the vCPU states of the dump");
	src->ncpus = vm->ncpus;
	for (int i = 0; i < vm->ncpus; i++)
		if (dump_cpu_capture(&vm->vcpus[i], &src->cpus[i]))
			return -1;
	dump_read_vmcoreinfo(vm, src);
	dump_source_derive(src);
	return 0;
}

static int write_all(const struct dump_source *src, const struct dump_options *o,
		     const char *base)
{
	char name[96];
	int ret = 0;

	if (o->formats & DUMP_FORMAT_ELF) {
		snprintf(name, sizeof(name), "%s.elf", base);
		ret |= write_format(src, o->dir, name, dump_write_elf);
	}
	if (o->formats & DUMP_FORMAT_KDUMP) {
		snprintf(name, sizeof(name), "%s.kdump", base);
		ret |= write_format(src, o->dir, name, dump_write_kdump);
	}
	return ret;
}

int dump_take(struct vm *vm, const struct dump_options *o, const char *reason,
	      int crashing_cpu, unsigned seq)
{
	struct dump_source src = { .mem = &vm->mem, .crashing_cpu = crashing_cpu,
				   .reason = reason, .time = time(NULL),
				   .compression = o->compression };
	char base[64];
	int ret;

	snprintf(base, sizeof(base), "vmcore-%d-%u-%s", (int)getpid(), seq, reason);
	info("dump (%s): stopping the guest and writing %s/%s", reason, o->dir, base);
	vm_pause(vm);
	ret = capture(vm, &src);
	if (ret == 0)
		ret = write_all(&src, o, base);
	vm_resume(vm);
	free(src.cpus);
	free(src.vmcoreinfo);
	return ret;
}
