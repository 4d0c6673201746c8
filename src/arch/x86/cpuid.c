/* cpuid.c: CPUID for each vCPU: what KVM supports, this VM's topology
 * (leaves 1, 4, 0xB, 0x1F, 0x80000008), the hypervisor bit and KVM's
 * paravirtual leaves (kvmclock, both MSR sets, the TSC-stable bit). */
#include "arch/x86/cpuid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86/hypercall.h"
#include "util/log.h"
#include "vm/vcpu.h"
#include "vm/vm.h"

#define CPUID1_ECX_HYPERVISOR (1U << 31)
#define CPUID1_EDX_HTT        (1U << 28)
#define CPUID_EXT_EDX_PDPE1GB (1U << 26)

#define KVM_FEATURE_CLOCKSOURCE        0
#define KVM_FEATURE_CLOCKSOURCE2       3
#define KVM_FEATURE_CLOCKSOURCE_STABLE 24

/* "KVMKVMKVM\0\0\0" as ebx, ecx, edx. */
#define KVM_SIG_EBX 0x4b4d564b
#define KVM_SIG_ECX 0x564b4d56
#define KVM_SIG_EDX 0x0000004d

static unsigned bits_for(int n)
{
	unsigned b = 0;

	while ((1 << b) < n)
		b++;
	return b;
}

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

static void remove_leaf(struct kvm_cpuid2 *c, uint32_t fn)
{
	uint32_t j = 0;

	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function != fn)
			c->entries[j++] = c->entries[i];
	c->nent = j;
}

/* Leaf 0xB / 0x1F: one thread per core, `ncpus` cores in one package. */
static int add_topology_leaf(struct kvm_cpuid2 *c, int capacity, uint32_t fn, int ncpus,
			     int apic_id)
{
	remove_leaf(c, fn);
	if ((int)c->nent + 3 > capacity)
		return -1;
	for (uint32_t sub = 0; sub < 3; sub++) {
		struct kvm_cpuid_entry2 *e = &c->entries[c->nent++];

		memset(e, 0, sizeof(*e));
		e->function = fn;
		e->index = sub;
		e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		e->edx = (uint32_t)apic_id;
		e->ecx = sub;
		if (sub == 0) {          /* SMT level */
			e->eax = 0;
			e->ebx = 1;
			e->ecx |= 1U << 8;
		} else if (sub == 1) {   /* core level */
			e->eax = bits_for(ncpus);
			e->ebx = (uint32_t)ncpus;
			e->ecx |= 2U << 8;
		}
	}
	return 0;
}

static void set_leaf1(struct kvm_cpuid_entry2 *e, int ncpus, int apic_id)
{
	e->ebx = (e->ebx & 0x0000ffff) | ((uint32_t)ncpus << 16) | ((uint32_t)apic_id << 24);
	e->ebx = (e->ebx & 0xffff00ff) | (8U << 8); /* CLFLUSH line: 64 bytes */
	e->ecx |= CPUID1_ECX_HYPERVISOR;
	if (ncpus > 1)
		e->edx |= CPUID1_EDX_HTT;
	else
		e->edx &= ~CPUID1_EDX_HTT;
}

static void set_cache_leaf4(struct kvm_cpuid_entry2 *e, int ncpus)
{
	uint32_t level = (e->eax >> 5) & 7;
	uint32_t sharing = level >= 3 ? (uint32_t)ncpus - 1 : 0;

	if (!(e->eax & 0x1f))
		return; /* no more caches */
	e->eax = (e->eax & 0x3fff) | (sharing << 14) | (((uint32_t)ncpus - 1) << 26);
}

static void set_kvm_leaves(struct kvm_cpuid2 *c)
{
	struct kvm_cpuid_entry2 *sig = find(c, KVM_CPUID_SIGNATURE, 0);
	struct kvm_cpuid_entry2 *feat = find(c, KVM_CPUID_FEATURES, 0);

	if (sig) {
		sig->eax = KVM_CPUID_FEATURES;
		sig->ebx = KVM_SIG_EBX;
		sig->ecx = KVM_SIG_ECX;
		sig->edx = KVM_SIG_EDX;
	}
	/* KVM reports what it implements; kvmclock and its stable bit are the
	 * ones guests must see for kvm-clock, so insist on them being there. */
	if (feat)
		feat->eax |= (1U << KVM_FEATURE_CLOCKSOURCE) | (1U << KVM_FEATURE_CLOCKSOURCE2) |
			     (1U << KVM_FEATURE_CLOCKSOURCE_STABLE);
}

int x86_cpuid_build(const struct kvm_cpuid2 *supported, int ncpus, int apic_id,
		    struct kvm_cpuid2 *out, int capacity)
{
	struct kvm_cpuid_entry2 *e;

	if ((int)supported->nent > capacity)
		return -1;
	out->nent = supported->nent;
	memcpy(out->entries, supported->entries, supported->nent * sizeof(out->entries[0]));
	for (uint32_t i = 0; i < out->nent; i++) {
		e = &out->entries[i];
		if (e->function == 1)
			set_leaf1(e, ncpus, apic_id);
		else if (e->function == 4)
			set_cache_leaf4(e, ncpus);
		else if (e->function == 0x80000008)
			e->ecx = (e->ecx & ~0xf0ffU) | (bits_for(ncpus) << 12) | ((uint32_t)ncpus - 1);
	}
	if (add_topology_leaf(out, capacity, 0xb, ncpus, apic_id))
		return -1;
	e = find(out, 0, 0);
	if (e && e->eax >= 0x1f && add_topology_leaf(out, capacity, 0x1f, ncpus, apic_id))
		return -1;
	set_kvm_leaves(out);
	return 0;
}

bool x86_cpuid_has_1g_pages(const struct kvm_cpuid2 *supported)
{
	for (uint32_t i = 0; i < supported->nent; i++)
		if (supported->entries[i].function == 0x80000001)
			return supported->entries[i].edx & CPUID_EXT_EDX_PDPE1GB;
	return false;
}

int x86_cpuid_setup(struct vcpu *vcpu)
{
	const struct kvm_cpuid2 *supported = vcpu->vm->supported_cpuid;
	int capacity = (int)supported->nent + 8;
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (size_t)capacity * sizeof(c->entries[0]));
	int ret = 0;

	if (!c)
		return error("out of memory for CPUID");
	if (x86_cpuid_build(supported, vcpu->vm->ncpus, vcpu->id, c, capacity)) {
		ret = error("CPUID table overflow");
		goto out;
	}
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == KVM_CPUID_FEATURES)
			x86_hypercall_adjust_cpuid(&c->entries[i], vcpu->vm->hypercall_exit);
	if (ioctl(vcpu->fd, KVM_SET_CPUID2, c) < 0)
		ret = error_errno("vCPU %d: KVM_SET_CPUID2", vcpu->id);
out:
	free(c);
	return ret;
}
