/* test_memd_policy.c: memd's plan: spare memory reclaimed (virtio-mem
 * first), pressure relieved (balloon first) within the budget, over-budget
 * guests shrunk, floors and block sizes respected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "memd/policy.h"

#define M (1ULL << 20)
#define G (1ULL << 30)

static const struct memd_policy pol = {
	.budget = 4 * G, .step = 256 * M, .low_pct = 10, .high_pct = 40, .min_guest = 256 * M,
};

static struct memd_vm hotplug_vm(uint64_t requested, uint64_t avail, uint64_t total)
{
	return (struct memd_vm){ .alive = true, .hotplug = true, .region_size = 4 * G,
				 .block_size = 2 * M, .requested = requested, .stats = true,
				 .avail = avail, .total = total, .boot_memory = 512 * M };
}

static void idle_guests_left_alone(void **unused)
{
	struct memd_vm vms[2] = { hotplug_vm(512 * M, 300 * M, G), hotplug_vm(0, 100 * M, 512 * M) };
	struct memd_action a[4];

	assert_int_equal(memd_plan(vms, 2, &pol, a), 0);
}

static void spare_memory_moves_to_pressured_guest(void **unused)
{
	struct memd_vm vms[2] = { hotplug_vm(G, 1200 * M, 1536 * M), hotplug_vm(0, 20 * M, 512 * M) };
	struct memd_action a[4];
	struct memd_policy tight = pol;

	tight.budget = 1536 * M + 512 * M; /* exactly what they hold */
	assert_int_equal(memd_plan(vms, 2, &tight, a), 2);
	assert_int_equal(a[0].vm, 0);
	assert_int_equal(a[0].kind, MEMD_SET_HOTPLUG);
	assert_int_equal(a[0].value, G - 256 * M);
	assert_int_equal(a[1].vm, 1);
	assert_int_equal(a[1].kind, MEMD_SET_HOTPLUG);
	assert_int_equal(a[1].value, 256 * M);
}

static void growth_capped_by_budget(void **unused)
{
	struct memd_vm vms[1] = { hotplug_vm(0, 10 * M, 512 * M) };
	struct memd_action a[2];
	struct memd_policy tight = pol;

	tight.budget = 512 * M + 101 * M;
	assert_int_equal(memd_plan(vms, 1, &tight, a), 1);
	assert_int_equal(a[0].value, 100 * M); /* rounded down to the 2 MiB block */
	tight.budget = 512 * M;
	assert_int_equal(memd_plan(vms, 1, &tight, a), 0);
}

static void balloon_deflated_before_hotplug(void **unused)
{
	struct memd_vm v = hotplug_vm(0, 10 * M, 512 * M);
	struct memd_action a[2];

	v.balloon = true;
	v.balloon_memory = 512 * M;
	v.balloon_size = 100 * M;
	assert_int_equal(memd_plan(&v, 1, &pol, a), 1);
	assert_int_equal(a[0].kind, MEMD_SET_BALLOON);
	assert_int_equal(a[0].value, 0);
	assert_int_equal(a[0].delta, (int64_t)(100 * M));
}

static void balloon_inflated_when_no_hotplug(void **unused)
{
	struct memd_vm v = { .alive = true, .balloon = true, .balloon_memory = G, .stats = true,
			     .avail = 900 * M, .total = G, .boot_memory = G };
	struct memd_action a[2];

	assert_int_equal(memd_plan(&v, 1, &pol, a), 1);
	assert_int_equal(a[0].kind, MEMD_SET_BALLOON);
	assert_int_equal(a[0].value, 256 * M);
	assert_int_equal(a[0].delta, -(int64_t)(256 * M));
}

static void over_budget_shrinks_but_not_below_floor(void **unused)
{
	struct memd_vm vms[2] = { hotplug_vm(G, 200 * M, 1536 * M), hotplug_vm(0, 300 * M, 512 * M) };
	struct memd_action a[4];
	struct memd_policy tight = pol;

	tight.budget = G;
	tight.min_guest = 512 * M;
	/* guest 0 holds 1.5G and is not under pressure: it shrinks by a step;
	 * guest 1 is at the floor */
	assert_int_equal(memd_plan(vms, 2, &tight, a), 1);
	assert_int_equal(a[0].vm, 0);
	assert_int_equal(a[0].value, G - 256 * M);
}

static void guests_without_stats_or_dead_ignored(void **unused)
{
	struct memd_vm vms[2] = { hotplug_vm(G, 0, 0), hotplug_vm(0, 10 * M, 512 * M) };
	struct memd_action a[4];

	vms[0].stats = false;
	vms[1].alive = false;
	assert_int_equal(memd_plan(vms, 2, &pol, a), 0);
	assert_int_equal(memd_grant(&vms[0]), 512 * M + G);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(idle_guests_left_alone),
		cmocka_unit_test(spare_memory_moves_to_pressured_guest),
		cmocka_unit_test(growth_capped_by_budget),
		cmocka_unit_test(balloon_deflated_before_hotplug),
		cmocka_unit_test(balloon_inflated_when_no_hotplug),
		cmocka_unit_test(over_budget_shrinks_but_not_below_floor),
		cmocka_unit_test(guests_without_stats_or_dead_ignored),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
