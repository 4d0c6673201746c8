/* hypercall.c: the KVM hypercalls that reach user space. KVM handles most
 * itself; with KVM_CAP_EXIT_HYPERCALL it forwards KVM_HC_MAP_GPA_RANGE
 * (a guest marking memory shared/private, used by confidential guests).
 * kvmini's RAM is one plain memfd, so any in-RAM range is accepted. */
#include "arch/x86/hypercall.h"

#include <errno.h>
#include <linux/kvm_para.h>
#include <sys/ioctl.h>

#include "util/log.h"
#include "vm/memory.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

#define PAGE_SIZE 4096ULL
#define KVM_FEATURE_HC_MAP_GPA_RANGE_BIT 16

bool x86_hypercall_enable(struct vm *vm)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_EXIT_HYPERCALL };
	int mask = ioctl(vm->vm_fd, KVM_CHECK_EXTENSION, KVM_CAP_EXIT_HYPERCALL);

	if (mask <= 0 || !(mask & (1 << KVM_HC_MAP_GPA_RANGE)))
		return false;
	cap.args[0] = 1ULL << KVM_HC_MAP_GPA_RANGE;
	return ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) == 0;
}

/* Unless the hypercall exit is on, do not let guests believe MAP_GPA_RANGE works. */
void x86_hypercall_adjust_cpuid(struct kvm_cpuid_entry2 *kvm_features, bool enabled)
{
	if (!enabled)
		kvm_features->eax &= ~(1U << KVM_FEATURE_HC_MAP_GPA_RANGE_BIT);
}

static uint64_t map_gpa_range(struct vm *vm, uint64_t gpa, uint64_t npages)
{
	if (gpa % PAGE_SIZE || !npages || npages > UINT64_MAX / PAGE_SIZE ||
	    !gpa_to_hva(&vm->mem, gpa, npages * PAGE_SIZE))
		return (uint64_t)-KVM_EINVAL;
	return 0;
}

void x86_handle_hypercall(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;

	switch (run->hypercall.nr) {
	case KVM_HC_MAP_GPA_RANGE:
		run->hypercall.ret = map_gpa_range(vcpu->vm, run->hypercall.args[0],
						   run->hypercall.args[1]);
		break;
	default:
		run->hypercall.ret = (uint64_t)-KVM_ENOSYS;
		break;
	}
}
