/* test_token_bucket.c: the rate limiter with an injected clock: starts
 * full, refills at the rate, never above the burst, keeps fractions of a
 * token across calls, tells how long to wait, ignores a clock going
 * backwards; and the "RATE[,burst=SIZE]" parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util/token_bucket.h"

#define SEC 1000000000ULL
#define MS 1000000ULL

static void starts_full_and_empties(void **state)
{
	struct token_bucket tb;

	tb_init(&tb, 1000, 300, 0);
	assert_int_equal(tb_take(&tb, 200, 0), 200);
	assert_int_equal(tb_take(&tb, 200, 0), 100); /* only what is left */
	assert_int_equal(tb_take(&tb, 1, 0), 0);
}

static void refills_at_the_rate_up_to_the_burst(void **state)
{
	struct token_bucket tb;

	tb_init(&tb, 1000, 300, 0);
	tb_take(&tb, 300, 0);
	assert_int_equal(tb_take(&tb, 1000, 100 * MS), 100); /* 0.1 s at 1000/s */
	assert_int_equal(tb_take(&tb, 1000, 10 * SEC), 300); /* capped at the burst */
}

static void fractions_are_not_lost(void **state)
{
	struct token_bucket tb;
	uint64_t got = 0;

	/* 3 tokens/s, asked every 100 ms: each step adds 0.3 of a token */
	tb_init(&tb, 3, 10, 0);
	tb_take(&tb, 10, 0);
	for (uint64_t t = 1; t <= 100; t++)
		got += tb_take(&tb, 10, t * 100 * MS);
	assert_int_equal(got, 30); /* 10 s at 3/s */
}

static void delay_until_enough(void **state)
{
	struct token_bucket tb;

	tb_init(&tb, 1000, 500, 0);
	assert_int_equal(tb_delay_ns(&tb, 100, 0), 0);
	tb_take(&tb, 500, 0);
	assert_int_equal(tb_delay_ns(&tb, 100, 0), 100 * MS);
	assert_int_equal(tb_delay_ns(&tb, 100, 40 * MS), 60 * MS);
	/* asking for more than the burst waits only for the burst */
	assert_int_equal(tb_delay_ns(&tb, 100000, 40 * MS), 460 * MS);
	assert_int_equal(tb_delay_ns(&tb, 100, 100 * MS), 0);
	assert_int_equal(tb_take(&tb, 100, 100 * MS), 100);
}

static void delay_rounds_up(void **state)
{
	struct token_bucket tb;

	tb_init(&tb, 3, 3, 0);
	tb_take(&tb, 3, 0);
	/* one token takes 333,333,333.3 ns: wait until it has fully accrued */
	assert_int_equal(tb_delay_ns(&tb, 1, 0), 333333334);
	assert_int_equal(tb_take(&tb, 1, 333333334), 1);
}

static void clock_going_backwards(void **state)
{
	struct token_bucket tb;

	tb_init(&tb, 1000, 100, 5 * SEC);
	tb_take(&tb, 100, 5 * SEC);
	assert_int_equal(tb_take(&tb, 100, 4 * SEC), 0);
	assert_int_equal(tb_take(&tb, 100, 5 * SEC + 50 * MS), 50);
}

static void huge_rates_do_not_overflow(void **state)
{
	struct token_bucket tb;

	tb_init(&tb, UINT64_MAX / 2, UINT64_MAX / 4, 0);
	tb_take(&tb, UINT64_MAX, 0);
	assert_int_equal(tb_take(&tb, UINT64_MAX, 3600 * SEC), UINT64_MAX / 4);
}

static void parses_specs(void **state)
{
	uint64_t rate, burst;

	assert_int_equal(tb_parse("1M", &rate, &burst), 0);
	assert_int_equal(rate, 1 << 20);
	assert_int_equal(burst, 64 << 10);
	assert_int_equal(tb_parse("1000", &rate, &burst), 0);
	assert_int_equal(burst, 1000); /* one second's worth below 64K */
	assert_int_equal(tb_parse("64K/s,burst=4K", &rate, &burst), 0);
	assert_int_equal(rate, 64 << 10);
	assert_int_equal(burst, 4 << 10);
	assert_int_equal(tb_parse("0", &rate, &burst), -1);
	assert_int_equal(tb_parse("fast", &rate, &burst), -1);
	assert_int_equal(tb_parse("1M,burst=0", &rate, &burst), -1);
	assert_int_equal(tb_parse("1M,bucket=4K", &rate, &burst), -1);
	assert_int_equal(tb_parse("", &rate, &burst), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(starts_full_and_empties),
		cmocka_unit_test(refills_at_the_rate_up_to_the_burst),
		cmocka_unit_test(fractions_are_not_lost),
		cmocka_unit_test(delay_until_enough),
		cmocka_unit_test(delay_rounds_up),
		cmocka_unit_test(clock_going_backwards),
		cmocka_unit_test(huge_rates_do_not_overflow),
		cmocka_unit_test(parses_specs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
