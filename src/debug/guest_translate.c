/* guest_translate.c: guest-virtual to guest-physical translation for the
 * debugger: KVM_TRANSLATE first, then a software walk of the 4-level x86-64
 * page tables in guest RAM (4 KiB, 2 MiB and 1 GiB pages). */
#include "debug/guest_translate.h"

#include <string.h>
#include <sys/ioctl.h>

#include "vm/vcpu.h"
#include "vm/vm.h"

#define CR0_PG    (1ULL << 31)
#define CR4_PAE   (1ULL << 5)
#define CR4_LA57  (1ULL << 12)
#define EFER_LMA  (1ULL << 10)
#define PTE_P     (1ULL << 0)
#define PTE_PS    (1ULL << 7)
#define PTE_ADDR  0x000ffffffffff000ULL
#define PAGE_SIZE 4096ULL

static int read_entry(const struct guest_memory *mem, uint64_t table, unsigned idx,
		      uint64_t *entry)
{
	return guest_read(mem, (table & PTE_ADDR) + idx * 8ULL, entry, sizeof(*entry));
}

int guest_walk(const struct guest_memory *mem, const struct kvm_sregs *sregs,
	       uint64_t gva, uint64_t *gpa)
{
	uint64_t entry = sregs->cr3;

	if (!(sregs->cr0 & CR0_PG)) {
		*gpa = gva;
		return 0;
	}
	if (!(sregs->efer & EFER_LMA) || !(sregs->cr4 & CR4_PAE) || (sregs->cr4 & CR4_LA57))
		return -1; /* 32-bit and 5-level paging are not walked */
	for (int level = 3; level >= 0; level--) {
		unsigned shift = 12 + 9 * (unsigned)level;
		unsigned idx = (unsigned)((gva >> shift) & 511);

		if (read_entry(mem, entry, idx, &entry) || !(entry & PTE_P))
			return -1;
		/* PS in a PDPTE (1 GiB) or a PDE (2 MiB) ends the walk. */
		if ((level == 2 || level == 1) && (entry & PTE_PS)) {
			uint64_t mask = (1ULL << shift) - 1;

			*gpa = ((entry & PTE_ADDR) & ~mask) | (gva & mask);
			return 0;
		}
	}
	*gpa = (entry & PTE_ADDR) | (gva & (PAGE_SIZE - 1));
	return 0;
}

int guest_translate(struct vcpu *vcpu, uint64_t gva, uint64_t *gpa)
{
	struct kvm_translation tr = { .linear_address = gva };
	struct kvm_sregs sregs;

	if (ioctl(vcpu->fd, KVM_TRANSLATE, &tr) == 0 && tr.valid) {
		*gpa = tr.physical_address;
		return 0;
	}
	if (ioctl(vcpu->fd, KVM_GET_SREGS, &sregs) < 0)
		return -1;
	return guest_walk(&vcpu->vm->mem, &sregs, gva, gpa);
}

static size_t guest_virt_copy(struct vcpu *vcpu, uint64_t gva, uint8_t *buf, size_t len,
			      bool is_write)
{
	size_t done = 0;

	while (done < len) {
		uint64_t addr = gva + done, gpa;
		size_t chunk = (size_t)(PAGE_SIZE - (addr & (PAGE_SIZE - 1)));
		uint8_t *host;

		if (chunk > len - done)
			chunk = len - done;
		if (guest_translate(vcpu, addr, &gpa))
			break;
		host = gpa_to_hva(&vcpu->vm->mem, gpa, chunk);
		if (!host)
			break;
		if (is_write)
			memcpy(host, buf + done, chunk);
		else
			memcpy(buf + done, host, chunk);
		done += chunk;
	}
	return done;
}

size_t guest_virt_read(struct vcpu *vcpu, uint64_t gva, void *buf, size_t len)
{
	return guest_virt_copy(vcpu, gva, buf, len, false);
}

size_t guest_virt_write(struct vcpu *vcpu, uint64_t gva, const void *buf, size_t len)
{
	return guest_virt_copy(vcpu, gva, (uint8_t *)buf, len, true);
}
