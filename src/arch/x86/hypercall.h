/* hypercall.h: KVM hypercalls forwarded to user space. */
#ifndef KVMINI_HYPERCALL_H
#define KVMINI_HYPERCALL_H

#include <linux/kvm.h>
#include <stdbool.h>

struct vm;
struct vcpu;

/* Asks KVM to forward KVM_HC_MAP_GPA_RANGE; true if it will. */
bool x86_hypercall_enable(struct vm *vm);
void x86_hypercall_adjust_cpuid(struct kvm_cpuid_entry2 *kvm_features, bool enabled);
/* Answers a KVM_EXIT_HYPERCALL in vcpu->run. */
void x86_handle_hypercall(struct vcpu *vcpu);

#endif
