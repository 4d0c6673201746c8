/* test_nsm_state.c: the NSM state number and client list kept in the
 * state directory: odd numbers bumped at every start, clients persisted
 * and read back for notification, damaged files survived. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nfs/nsm_state.h"

static char dir[] = "/tmp/kvmini-nsm-XXXXXX";

static int setup(void **state)
{
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void write_file(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void state_is_odd_and_grows(void **state)
{
	struct nsm_state s;
	uint32_t first;

	assert_int_equal(nsm_state_open(&s, dir), 0);
	first = s.state;
	assert_true(first % 2 == 1);
	assert_int_equal(s.nclients, 0);
	nsm_state_close(&s);
	assert_int_equal(nsm_state_open(&s, dir), 0);
	assert_int_equal(s.state, first + 2);
	nsm_state_close(&s);
	/* Even (a crash mid-write of an old scheme) or damaged: still odd, still up. */
	write_file("nsm_state", "40\n");
	assert_int_equal(nsm_state_open(&s, dir), 0);
	assert_int_equal(s.state, 43);
	nsm_state_close(&s);
	write_file("nsm_state", "garbage");
	assert_int_equal(nsm_state_open(&s, dir), 0);
	assert_true(s.state % 2 == 1);
	nsm_state_close(&s);
}

static void clients_persist_for_notification(void **state)
{
	struct nsm_state s;
	struct nsm_client *c;

	write_file("nsm_clients", "");
	assert_int_equal(nsm_state_open(&s, dir), 0);
	assert_int_equal(nsm_state_add_client(&s, "10.0.2.15", "guest one"), 0);
	assert_int_equal(nsm_state_add_client(&s, "fd00::2", "v6"), 0);
	assert_int_equal(nsm_state_add_client(&s, "10.0.2.15", "guest one"), 0); /* once */
	assert_int_equal(s.nclients, 2);
	assert_int_equal(nsm_state_pending(&s), 0);  /* clients of this run */
	nsm_state_close(&s);

	assert_int_equal(nsm_state_open(&s, dir), 0);
	assert_int_equal(s.nclients, 2);
	assert_int_equal(nsm_state_pending(&s), 2);
	c = nsm_state_find(&s, "10.0.2.15");
	assert_non_null(c);
	assert_string_equal(c->name, "guest_one"); /* blanks cannot go on the line */
	assert_true(c->to_notify && !c->active);
	assert_int_equal(nsm_state_remove(&s, c), 0);
	nsm_state_close(&s);

	assert_int_equal(nsm_state_open(&s, dir), 0);
	assert_int_equal(s.nclients, 1);
	assert_non_null(nsm_state_find(&s, "fd00::2"));
	nsm_state_close(&s);
}

static void bad_lines_are_skipped(void **state)
{
	struct nsm_state s;

	write_file("nsm_clients", "not-an-address name\n10.1.1.1\n10.1.1.2 ok\n"
				  "10.1.1.2 duplicate\n300.1.1.1 bad\n");
	assert_int_equal(nsm_state_open(&s, dir), 0);
	assert_int_equal(s.nclients, 1);
	assert_non_null(nsm_state_find(&s, "10.1.1.2"));
	nsm_state_close(&s);
}

static void no_directory_means_nothing_kept(void **state)
{
	struct nsm_state s;

	assert_int_equal(nsm_state_open(&s, NULL), 0);
	assert_int_equal(s.state, 1);
	assert_int_equal(nsm_state_add_client(&s, "10.0.0.1", "x"), 0);
	nsm_state_close(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(state_is_odd_and_grows),
		cmocka_unit_test(clients_persist_for_notification),
		cmocka_unit_test(bad_lines_are_skipped),
		cmocka_unit_test(no_directory_means_nothing_kept),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
