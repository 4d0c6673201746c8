/* kvm.h: opening /dev/kvm and checking the capabilities kvmini needs. */
#ifndef KVMINI_KVM_H
#define KVMINI_KVM_H

#include <linux/kvm.h>

/* Opens /dev/kvm with a one-line error saying what to do when it cannot. */
int kvm_open(void);
/* Fails with a clear error unless every capability kvmini relies on is there. */
int kvm_check_capabilities(int kvm_fd);
/* KVM_GET_SUPPORTED_CPUID, allocated; free() it. */
struct kvm_cpuid2 *kvm_supported_cpuid(int kvm_fd);

#endif
