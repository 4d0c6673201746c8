/* cpu_state.c: capture of a stopped vCPU's registers, debug registers and
 * the MSRs a debugger needs, for the dump writers. */
#include "dump/cpu_state.h"

#include <string.h>
#include <sys/ioctl.h>

#include "util/log.h"
#include "vm/vcpu.h"

static const struct { uint32_t index; const char *name; } msr_table[DUMP_NMSRS] = {
	[DUMP_MSR_KERNEL_GS_BASE] = { 0xc0000102, "KERNEL_GS_BASE" },
	[DUMP_MSR_STAR]           = { 0xc0000081, "STAR" },
	[DUMP_MSR_LSTAR]          = { 0xc0000082, "LSTAR" },
	[DUMP_MSR_CSTAR]          = { 0xc0000083, "CSTAR" },
	[DUMP_MSR_SFMASK]         = { 0xc0000084, "SFMASK" },
	[DUMP_MSR_SYSENTER_CS]    = { 0x174, "SYSENTER_CS" },
	[DUMP_MSR_SYSENTER_ESP]   = { 0x175, "SYSENTER_ESP" },
	[DUMP_MSR_SYSENTER_EIP]   = { 0x176, "SYSENTER_EIP" },
	[DUMP_MSR_TSC_AUX]        = { 0xc0000103, "TSC_AUX" },
	[DUMP_MSR_PAT]            = { 0x277, "PAT" },
	[DUMP_MSR_DEBUGCTL]       = { 0x1d9, "DEBUGCTL" },
	[DUMP_MSR_TSC]            = { 0x10, "TSC" },
};

const char *dump_msr_name(enum dump_msr m)
{
	return (unsigned)m < DUMP_NMSRS ? msr_table[m].name : "?";
}

/* One MSR at a time: KVM stops a batch at the first MSR it does not know. */
static void capture_msrs(struct vcpu *vcpu, struct dump_cpu *out)
{
	for (int i = 0; i < DUMP_NMSRS; i++) {
		struct {
			struct kvm_msrs hdr;
			struct kvm_msr_entry e;
		} m = { .hdr.nmsrs = 1, .e.index = msr_table[i].index };

		if (ioctl(vcpu->fd, KVM_GET_MSRS, &m) == 1) {
			out->msrs[i] = m.e.data;
			out->msr_valid |= 1U << i;
		}
	}
}

int dump_cpu_capture(struct vcpu *vcpu, struct dump_cpu *out)
{
	memset(out, 0, sizeof(*out));
	out->id = vcpu->id;
	if (ioctl(vcpu->fd, KVM_GET_REGS, &out->regs) < 0)
		return error_errno("vCPU %d: cannot read its registers for the dump", vcpu->id);
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &out->sregs) < 0)
		return error_errno("vCPU %d: cannot read its special registers for the dump",
				   vcpu->id);
	out->have_debugregs = ioctl(vcpu->fd, KVM_GET_DEBUGREGS, &out->debugregs) == 0;
	capture_msrs(vcpu, out);
	return 0;
}
