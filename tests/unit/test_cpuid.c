/* test_cpuid.c: the CPUID table built for a vCPU: topology leaves, the
 * hypervisor bit and the KVM leaves, from a synthetic supported table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/cpuid.h"

static struct kvm_cpuid2 *supported(void)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + 8 * sizeof(c->entries[0]));

	c->nent = 5;
	c->entries[0] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0x1f };
	c->entries[1] = (struct kvm_cpuid_entry2){ .function = 1, .ebx = 0xff0800, .edx = 1 << 28 };
	c->entries[2] = (struct kvm_cpuid_entry2){ .function = 0x40000000, .eax = 0x40000001 };
	c->entries[3] = (struct kvm_cpuid_entry2){ .function = 0x40000001, .eax = 0x7efa };
	c->entries[4] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0, .ebx = 99 };
	return c;
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid2 *c, uint32_t fn, uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

static void topology_for(int ncpus, int apic)
{
	struct kvm_cpuid2 *s = supported();
	struct kvm_cpuid2 *out = calloc(1, sizeof(*out) + 16 * sizeof(out->entries[0]));
	const struct kvm_cpuid_entry2 *e;

	assert_int_equal(x86_cpuid_build(s, ncpus, apic, out, 16), 0);
	e = find(out, 1, 0);
	assert_int_equal((e->ebx >> 16) & 0xff, ncpus);
	assert_int_equal(e->ebx >> 24, apic);
	assert_true(e->ecx & (1U << 31));
	assert_int_equal(!!(e->edx & (1 << 28)), ncpus > 1);
	for (uint32_t leaf = 0xb; leaf <= 0x1f; leaf += 0x1f - 0xb) {
		assert_int_equal(find(out, leaf, 0)->ebx, 1);
		assert_int_equal(find(out, leaf, 1)->ebx, ncpus);
		assert_int_equal(find(out, leaf, 1)->edx, apic);
		assert_int_equal(find(out, leaf, 2)->ebx, 0);
		assert_true((1 << find(out, leaf, 1)->eax) >= ncpus);
	}
	e = find(out, 0x40000000, 0);
	assert_memory_equal(&e->ebx, "KVMK", 4);
	assert_memory_equal(&e->ecx, "VMKV", 4);
	e = find(out, 0x40000001, 0);
	assert_true(e->eax & 1);          /* CLOCKSOURCE */
	assert_true(e->eax & (1 << 3));   /* CLOCKSOURCE2 */
	assert_true(e->eax & (1 << 24));  /* CLOCKSOURCE_STABLE_BIT */
	free(s);
	free(out);
}

static void one_cpu(void **state) { topology_for(1, 0); }
static void four_cpus(void **state) { topology_for(4, 3); }
static void many_cpus(void **state) { topology_for(255, 200); }

static void too_small_output(void **state)
{
	struct kvm_cpuid2 *s = supported();
	struct kvm_cpuid2 *out = calloc(1, sizeof(*out) + 6 * sizeof(out->entries[0]));

	assert_int_equal(x86_cpuid_build(s, 2, 0, out, 6), -1);
	free(s);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_cpu),
		cmocka_unit_test(four_cpus),
		cmocka_unit_test(many_cpus),
		cmocka_unit_test(too_small_output),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
