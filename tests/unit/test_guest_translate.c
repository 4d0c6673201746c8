/* test_guest_translate.c: the debugger's walk of x86-64 page tables in
 * guest RAM (src/debug/guest_translate.c): 4 KiB, 2 MiB and 1 GiB pages,
 * non-present entries, tables outside RAM, paging off. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "debug/guest_translate.h"

#define P   0x1ULL
#define RW  0x2ULL
#define PS  0x80ULL

static void put(struct guest_memory *mem, uint64_t gpa, uint64_t v)
{
	assert_int_equal(guest_write(mem, gpa, &v, 8), 0);
}

static struct kvm_sregs long_mode(uint64_t cr3)
{
	struct kvm_sregs s;

	memset(&s, 0, sizeof(s));
	s.cr0 = 0x80000001;
	s.cr4 = 0x20;
	s.efer = 0x500;
	s.cr3 = cr3;
	return s;
}

static void walks(void **state)
{
	struct guest_memory mem;
	struct kvm_sregs s = long_mode(0x1000);
	uint64_t gpa;
	/* Kernel-style address: PML4 511, PDPT 510, PD 1, PT 2. */
	uint64_t va = 0xffffffff80000000ULL | (1ULL << 21) | (2ULL << 12) | 0x123;

	assert_int_equal(guest_memory_create(&mem, 64ULL << 20), 0);
	put(&mem, 0x1000 + 511 * 8, 0x2000 | P | RW);
	put(&mem, 0x2000 + 510 * 8, 0x3000 | P | RW);
	put(&mem, 0x3000 + 1 * 8, 0x4000 | P | RW);
	put(&mem, 0x4000 + 2 * 8, 0x1234000 | P | RW);
	assert_int_equal(guest_walk(&mem, &s, va, &gpa), 0);
	assert_int_equal(gpa, 0x1234123);
	/* A 2 MiB page in PD entry 3. */
	put(&mem, 0x3000 + 3 * 8, 0x600000 | P | PS);
	assert_int_equal(guest_walk(&mem, &s, 0xffffffff80600000ULL + 0x54321, &gpa), 0);
	assert_int_equal(gpa, 0x654321);
	/* A 1 GiB page in PDPT entry 0 of PML4 entry 0. */
	put(&mem, 0x1000, 0x5000 | P);
	put(&mem, 0x5000, 0x40000000 | P | PS);
	assert_int_equal(guest_walk(&mem, &s, 0x12345678, &gpa), 0);
	assert_int_equal(gpa, 0x52345678);
	/* Not present. */
	assert_int_equal(guest_walk(&mem, &s, 0xffffffff80000000ULL + (5ULL << 21), &gpa), -1);
	assert_int_equal(guest_walk(&mem, &s, 0x00007f0000000000ULL, &gpa), -1);
	/* A table pointer outside RAM. */
	put(&mem, 0x3000 + 7 * 8, 0x7ff00000000ULL | P);
	assert_int_equal(guest_walk(&mem, &s, 0xffffffff80000000ULL + (7ULL << 21), &gpa), -1);
	/* CR3 outside RAM. */
	s.cr3 = 0xfff0000000ULL;
	assert_int_equal(guest_walk(&mem, &s, 0, &gpa), -1);
	guest_memory_destroy(&mem);
}

static void paging_off_and_unsupported_modes(void **state)
{
	struct guest_memory mem;
	struct kvm_sregs s = long_mode(0x1000);
	uint64_t gpa;

	assert_int_equal(guest_memory_create(&mem, 16ULL << 20), 0);
	s.cr0 = 1;
	assert_int_equal(guest_walk(&mem, &s, 0xabcdef, &gpa), 0);
	assert_int_equal(gpa, 0xabcdef);
	s = long_mode(0x1000);
	s.cr4 |= 1ULL << 12; /* LA57 */
	assert_int_equal(guest_walk(&mem, &s, 0, &gpa), -1);
	s = long_mode(0x1000);
	s.efer = 0; /* 32-bit paging */
	assert_int_equal(guest_walk(&mem, &s, 0, &gpa), -1);
	guest_memory_destroy(&mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(walks),
		cmocka_unit_test(paging_off_and_unsupported_modes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
