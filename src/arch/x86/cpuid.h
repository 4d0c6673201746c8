/* cpuid.h: the CPUID table each vCPU sees. */
#ifndef KVMINI_CPUID_H
#define KVMINI_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

struct vcpu;

#define KVM_CPUID_SIGNATURE 0x40000000
#define KVM_CPUID_FEATURES  0x40000001

/* Builds this vCPU's CPUID (topology of the VM, hypervisor bit, KVM PV
 * leaves) from KVM_GET_SUPPORTED_CPUID and sets it. */
int x86_cpuid_setup(struct vcpu *vcpu);
/* Rewrites `cpuid` in place for vCPU `apic_id` of `ncpus`; `out` must have
 * room for cpuid->nent + 8 entries. Pure: unit-tested. */
int x86_cpuid_build(const struct kvm_cpuid2 *supported, int ncpus, int apic_id,
		    struct kvm_cpuid2 *out, int capacity);
bool x86_cpuid_has_1g_pages(const struct kvm_cpuid2 *supported);

#endif
