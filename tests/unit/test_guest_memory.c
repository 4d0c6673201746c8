/* test_guest_memory.c: RAM layout around the 32-bit hole and the bounds
 * checks every guest-supplied address goes through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vm/memory.h"

static void layout_small(void **state)
{
	struct guest_memory mem;

	assert_int_equal(guest_memory_create(&mem, 64ULL << 20), 0);
	assert_int_equal(mem.nregions, 1);
	assert_int_equal(guest_low_ram_end(&mem), 64ULL << 20);
	assert_non_null(gpa_to_hva(&mem, 0, 64ULL << 20));
	assert_null(gpa_to_hva(&mem, 0, (64ULL << 20) + 1));
	assert_null(gpa_to_hva(&mem, 64ULL << 20, 1));
	assert_null(gpa_to_hva(&mem, (64ULL << 20) - 1, UINT64_MAX)); /* overflowing length */
	assert_null(gpa_to_hva(&mem, UINT64_MAX, 2));
	guest_memory_destroy(&mem);
}

static void layout_split(void **state)
{
	struct guest_memory mem;

	assert_int_equal(guest_memory_create(&mem, 5ULL << 30), 0);
	assert_int_equal(mem.nregions, 2);
	assert_int_equal(mem.regions[0].size, MEM_HOLE_START);
	assert_int_equal(mem.regions[1].gpa, MEM_HOLE_END);
	assert_int_equal(mem.regions[1].size, (5ULL << 30) - MEM_HOLE_START);
	assert_null(gpa_to_hva(&mem, MEM_HOLE_START, 1));     /* the hole is not RAM */
	assert_null(gpa_to_hva(&mem, MEM_HOLE_START - 4, 8));  /* straddles into the hole */
	assert_non_null(gpa_to_hva(&mem, MEM_HOLE_END, 4096));
	assert_ptr_equal(gpa_to_hva(&mem, MEM_HOLE_END, 1), mem.host + MEM_HOLE_START);
	guest_memory_destroy(&mem);
}

static void bad_sizes(void **state)
{
	struct guest_memory mem;

	assert_int_equal(guest_memory_create(&mem, 8ULL << 20), -1);
	assert_int_equal(guest_memory_create(&mem, (64ULL << 20) + 4096), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout_small),
		cmocka_unit_test(layout_split),
		cmocka_unit_test(bad_sizes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
