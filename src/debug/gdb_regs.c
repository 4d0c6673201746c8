/* gdb_regs.c: mapping of gdb's x86-64 registers (features core, sse,
 * segments and kvmini's system registers) onto KVM's vCPU state. */
#include "debug/gdb_regs.h"

#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "util/log.h"
#include "vm/vcpu.h"

#define MSR_KERNEL_GS_BASE 0xc0000102

enum { F_CORE, F_SSE, F_SEGMENTS, F_SYS };

const char *const gdb_reg_features[] = {
	"org.gnu.gdb.i386.core",
	"org.gnu.gdb.i386.sse",
	"org.gnu.gdb.i386.segments",
	"org.kvmini.gdb.x86.sys",
};
const int gdb_reg_nfeatures = 4;

#define ST(field) offsetof(struct x86_cpu_state, field)
#define SZ(field) sizeof(((struct x86_cpu_state *)0)->field)
#define R64(n, f, t) { n, 64, t, NULL, F_CORE, ST(regs.f), 8 }
#define SEG(n, f) { n, 32, "int32", NULL, F_CORE, ST(sregs.f.selector), 2 }
#define FPR(i) { "st" #i, 80, "i387_ext", NULL, F_CORE, ST(fpu.fpr[i]), 10 }
#define FPC(n, f) { n, 32, "int", "float", F_CORE, ST(fpu.f), SZ(fpu.f) }
#define XMM(i) { "xmm" #i, 128, "vec128", NULL, F_SSE, ST(fpu.xmm[i]), 16 }
#define SYS(n, f, t) { n, 64, t, "system", F_SYS, ST(f), 8 }

const struct gdb_reg_desc gdb_reg_table[] = {
	R64("rax", rax, "int64"), R64("rbx", rbx, "int64"), R64("rcx", rcx, "int64"),
	R64("rdx", rdx, "int64"), R64("rsi", rsi, "int64"), R64("rdi", rdi, "int64"),
	R64("rbp", rbp, "data_ptr"), R64("rsp", rsp, "data_ptr"),
	R64("r8", r8, "int64"), R64("r9", r9, "int64"), R64("r10", r10, "int64"),
	R64("r11", r11, "int64"), R64("r12", r12, "int64"), R64("r13", r13, "int64"),
	R64("r14", r14, "int64"), R64("r15", r15, "int64"),
	R64("rip", rip, "code_ptr"),
	{ "eflags", 32, "int32", NULL, F_CORE, ST(regs.rflags), 4 },
	SEG("cs", cs), SEG("ss", ss), SEG("ds", ds), SEG("es", es), SEG("fs", fs), SEG("gs", gs),
	FPR(0), FPR(1), FPR(2), FPR(3), FPR(4), FPR(5), FPR(6), FPR(7),
	FPC("fctrl", fcw), FPC("fstat", fsw), FPC("ftag", ftwx),
	{ "fiseg", 32, "int", "float", F_CORE, 0, 0 },
	{ "fioff", 32, "int", "float", F_CORE, ST(fpu.last_ip), 4 },
	{ "foseg", 32, "int", "float", F_CORE, 0, 0 },
	{ "fooff", 32, "int", "float", F_CORE, ST(fpu.last_dp), 4 },
	FPC("fop", last_opcode),
	XMM(0), XMM(1), XMM(2), XMM(3), XMM(4), XMM(5), XMM(6), XMM(7),
	XMM(8), XMM(9), XMM(10), XMM(11), XMM(12), XMM(13), XMM(14), XMM(15),
	{ "mxcsr", 32, "int", "vector", F_SSE, ST(fpu.mxcsr), 4 },
	{ "fs_base", 64, "int64", NULL, F_SEGMENTS, ST(sregs.fs.base), 8 },
	{ "gs_base", 64, "int64", NULL, F_SEGMENTS, ST(sregs.gs.base), 8 },
	SYS("k_gs_base", kernel_gs_base, "int64"),
	SYS("cr0", sregs.cr0, "int64"), SYS("cr2", sregs.cr2, "int64"),
	SYS("cr3", sregs.cr3, "int64"), SYS("cr4", sregs.cr4, "int64"),
	SYS("cr8", sregs.cr8, "int64"), SYS("efer", sregs.efer, "int64"),
	SYS("gdtr_base", sregs.gdt.base, "int64"), SYS("idtr_base", sregs.idt.base, "int64"),
};
const int gdb_reg_count = sizeof(gdb_reg_table) / sizeof(gdb_reg_table[0]);

size_t gdb_regs_size(void)
{
	size_t n = 0;

	for (int i = 0; i < gdb_reg_count; i++)
		n += gdb_reg_table[i].bits / 8;
	return n;
}

struct msr_one {
	struct kvm_msrs hdr;
	struct kvm_msr_entry e;
};

int x86_state_get(struct vcpu *vcpu, struct x86_cpu_state *st)
{
	struct msr_one m = { .hdr.nmsrs = 1, .e.index = MSR_KERNEL_GS_BASE };

	memset(st, 0, sizeof(*st));
	if (ioctl(vcpu->fd, KVM_GET_REGS, &st->regs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_SREGS, &st->sregs) < 0 ||
	    ioctl(vcpu->fd, KVM_GET_FPU, &st->fpu) < 0)
		return error_errno("vCPU %d: cannot read registers for gdb", vcpu->id);
	if (ioctl(vcpu->fd, KVM_GET_MSRS, &m) == 1)
		st->kernel_gs_base = m.e.data;
	return 0;
}

int x86_state_set(struct vcpu *vcpu, const struct x86_cpu_state *st)
{
	struct msr_one m = { .hdr.nmsrs = 1, .e.index = MSR_KERNEL_GS_BASE,
			     .e.data = st->kernel_gs_base };

	if (ioctl(vcpu->fd, KVM_SET_REGS, &st->regs) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_SREGS, &st->sregs) < 0 ||
	    ioctl(vcpu->fd, KVM_SET_FPU, &st->fpu) < 0)
		return error_errno("vCPU %d: cannot write registers from gdb", vcpu->id);
	ioctl(vcpu->fd, KVM_SET_MSRS, &m);
	return 0;
}

int gdb_reg_read(const struct x86_cpu_state *st, int regno, uint8_t *out)
{
	const struct gdb_reg_desc *r;
	size_t n;

	if (regno < 0 || regno >= gdb_reg_count)
		return -1;
	r = &gdb_reg_table[regno];
	n = r->state_size < r->bits / 8 ? r->state_size : r->bits / 8;
	memset(out, 0, r->bits / 8);
	memcpy(out, (const uint8_t *)st + r->offset, n);
	return 0;
}

int gdb_reg_write(struct x86_cpu_state *st, int regno, const uint8_t *in)
{
	const struct gdb_reg_desc *r;
	size_t n;

	if (regno < 0 || regno >= gdb_reg_count)
		return -1;
	r = &gdb_reg_table[regno];
	n = r->state_size < r->bits / 8 ? r->state_size : r->bits / 8;
	memcpy((uint8_t *)st + r->offset, in, n);
	return 0;
}
