/* cpu_state.h: the state of one stopped vCPU as a dump records it. */
#ifndef KVMINI_DUMP_CPU_STATE_H
#define KVMINI_DUMP_CPU_STATE_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

struct vcpu;

/* MSRs a debugger needs beyond what kvm_sregs holds (EFER, FS/GS base). */
enum dump_msr {
	DUMP_MSR_KERNEL_GS_BASE,
	DUMP_MSR_STAR,
	DUMP_MSR_LSTAR,
	DUMP_MSR_CSTAR,
	DUMP_MSR_SFMASK,
	DUMP_MSR_SYSENTER_CS,
	DUMP_MSR_SYSENTER_ESP,
	DUMP_MSR_SYSENTER_EIP,
	DUMP_MSR_TSC_AUX,
	DUMP_MSR_PAT,
	DUMP_MSR_DEBUGCTL,
	DUMP_MSR_TSC,
	DUMP_NMSRS
};

struct dump_cpu {
	int id;
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_debugregs debugregs;
	uint64_t msrs[DUMP_NMSRS];
	uint32_t msr_valid;      /* bit n: msrs[n] was read */
	bool have_debugregs;
};

/* Reads every register group of a vCPU that is not in KVM_RUN. */
int dump_cpu_capture(struct vcpu *vcpu, struct dump_cpu *out);
const char *dump_msr_name(enum dump_msr m);

#endif
