/* test_parse.c: size strings, numbers and option fields. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "util/parse.h"

static void sizes_accepted(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("4096", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("64K", &v), 0);
	assert_int_equal(v, 64 << 10);
	assert_int_equal(parse_size("256M", &v), 0);
	assert_int_equal(v, 256ULL << 20);
	assert_int_equal(parse_size("4G", &v), 0);
	assert_int_equal(v, 4ULL << 30);
	assert_int_equal(parse_size("4GiB", &v), 0);
	assert_int_equal(v, 4ULL << 30);
	assert_int_equal(parse_size("1t", &v), 0);
	assert_int_equal(v, 1ULL << 40);
}

static void sizes_refused(void **state)
{
	uint64_t v;
	const char *bad[] = { "", "M", "-1M", " 4G", "4X", "4GG", "4G ", "0x10M",
			      "99999999999999999999", "17179869184G", NULL };

	for (int i = 0; bad[i]; i++)
		assert_int_equal(parse_size(bad[i], &v), -1);
	assert_int_equal(parse_size(NULL, &v), -1);
}

static void numbers(void **state)
{
	uint64_t v;

	assert_int_equal(parse_u64("8", 1, 255, &v), 0);
	assert_int_equal(v, 8);
	assert_int_equal(parse_u64("0x10", 1, 255, &v), 0);
	assert_int_equal(v, 16);
	assert_int_equal(parse_u64("0", 1, 255, &v), -1);
	assert_int_equal(parse_u64("256", 1, 255, &v), -1);
	assert_int_equal(parse_u64("-1", 0, 255, &v), -1);
	assert_int_equal(parse_u64("3x", 0, 255, &v), -1);
	assert_int_equal(parse_u64("", 0, 255, &v), -1);
}

static void fields(void **state)
{
	char buf[] = "disk.img,readonly,serial=abc";
	char *rest = buf;

	assert_string_equal(next_field(&rest), "disk.img");
	assert_string_equal(next_field(&rest), "readonly");
	assert_string_equal(next_field(&rest), "serial=abc");
	assert_null(next_field(&rest));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes_accepted),
		cmocka_unit_test(sizes_refused),
		cmocka_unit_test(numbers),
		cmocka_unit_test(fields),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
