/* guest_translate.h: guest-virtual to guest-physical translation through a
 * vCPU's own page tables (KVM_TRANSLATE, or a 4-level walk of guest RAM). */
#ifndef KVMINI_GUEST_TRANSLATE_H
#define KVMINI_GUEST_TRANSLATE_H

#include <linux/kvm.h>
#include <stdint.h>

#include "vm/memory.h"

struct vcpu;

/* Walks the page tables described by `sregs` (CR0.PG, CR3, CR4, EFER.LMA)
 * in `mem`: paging off maps 1:1; long mode walks 4 levels with 1 GiB and
 * 2 MiB pages. Returns 0 and the physical address, or -1 if not mapped
 * (or a table lies outside RAM, or the mode is not 64-bit/flat). */
int guest_walk(const struct guest_memory *mem, const struct kvm_sregs *sregs,
	       uint64_t gva, uint64_t *gpa);

/* Translates with the vCPU's current state: KVM_TRANSLATE when it answers,
 * else guest_walk(). Call with the vCPU stopped. */
int guest_translate(struct vcpu *vcpu, uint64_t gva, uint64_t *gpa);

/* Copies between a host buffer and guest-virtual memory, page by page.
 * Returns the number of bytes done (stops at the first unmapped page). */
size_t guest_virt_read(struct vcpu *vcpu, uint64_t gva, void *buf, size_t len);
size_t guest_virt_write(struct vcpu *vcpu, uint64_t gva, const void *buf, size_t len);

#endif
