/* test_nlm_table.c: the NLM lock table: wire ranges, conflicts, POSIX
 * merge/split per owner, the blocked queue's grant order, cancel, shares. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "nfs/nlm_table.h"

static const int owner_a, owner_b, owner_c;
#define A (&owner_a)
#define B (&owner_b)
#define C (&owner_c)

static struct nlm_range rg(uint64_t start, uint64_t end, bool excl)
{
	return (struct nlm_range){ .start = start, .end = end, .excl = excl };
}

static void wire_ranges(void **state)
{
	struct nlm_range r = nlm_range_from_wire(10, 5, true);

	assert_int_equal(r.start, 10);
	assert_int_equal(r.end, 14);
	assert_true(r.excl);
	assert_int_equal(nlm_range_wire_len(&r), 5);
	r = nlm_range_from_wire(100, 0, false);
	assert_int_equal(r.end, NLM_OFFSET_MAX);
	assert_int_equal(nlm_range_wire_len(&r), 0);
	/* Lengths running past the largest offset mean "to end of file". */
	r = nlm_range_from_wire(UINT64_MAX - 3, 10, false);
	assert_int_equal(r.start, NLM_OFFSET_MAX);
	assert_int_equal(r.end, NLM_OFFSET_MAX);
	r = nlm_range_from_wire(NLM_OFFSET_MAX - 1, UINT64_MAX, false);
	assert_int_equal(r.end, NLM_OFFSET_MAX);
	r = nlm_range_from_wire(0, NLM_OFFSET_MAX + 1, false);
	assert_int_equal(r.end, NLM_OFFSET_MAX);
	r = nlm_range_from_wire(0, NLM_OFFSET_MAX, false);
	assert_int_equal(r.end, NLM_OFFSET_MAX - 1);
}

static void conflicts(void **state)
{
	struct nlm_table t;
	struct nlm_range r;

	nlm_table_init(&t);
	r = rg(0, 99, false);
	assert_int_equal(nlm_table_set(&t, A, &r), 0);
	r = rg(50, 60, false);
	assert_null(nlm_table_conflict(&t, B, &r)); /* shared + shared */
	r.excl = true;
	assert_ptr_equal(nlm_table_conflict(&t, B, &r)->owner, A);
	assert_null(nlm_table_conflict(&t, A, &r)); /* own locks never conflict */
	r = rg(100, 200, true);
	assert_null(nlm_table_conflict(&t, B, &r)); /* adjacent, not overlapping */
	r = rg(99, 99, true);
	assert_non_null(nlm_table_conflict(&t, B, &r));
	nlm_table_free(&t);
}

static unsigned pieces(struct nlm_table *t, const void *owner, struct nlm_range *out)
{
	return nlm_table_owner_pieces(t, owner, 0, NLM_OFFSET_MAX, out, 8);
}

static bool has(struct nlm_range *p, unsigned n, uint64_t s, uint64_t e, bool x)
{
	for (unsigned i = 0; i < n; i++)
		if (p[i].start == s && p[i].end == e && p[i].excl == x)
			return true;
	return false;
}

static void posix_merge_and_split(void **state)
{
	struct nlm_table t;
	struct nlm_range p[8], r;

	nlm_table_init(&t);
	r = rg(0, 9, true);
	nlm_table_set(&t, A, &r);
	r = rg(10, 19, true);
	nlm_table_set(&t, A, &r);          /* touching: merges */
	assert_int_equal(pieces(&t, A, p), 1);
	assert_true(has(p, 1, 0, 19, true));

	r = rg(5, 14, false);
	nlm_table_set(&t, A, &r);          /* downgrade the middle: splits */
	assert_int_equal(pieces(&t, A, p), 3);
	assert_true(has(p, 3, 0, 4, true));
	assert_true(has(p, 3, 5, 14, false));
	assert_true(has(p, 3, 15, 19, true));

	assert_int_equal(nlm_table_clear(&t, A, 2, 16), 0);
	assert_int_equal(pieces(&t, A, p), 2);
	assert_true(has(p, 2, 0, 1, true));
	assert_true(has(p, 2, 17, 19, true));

	r = rg(0, NLM_OFFSET_MAX, false);
	nlm_table_set(&t, A, &r);          /* whole file, shared */
	assert_int_equal(pieces(&t, A, p), 1);
	assert_true(has(p, 1, 0, NLM_OFFSET_MAX, false));
	assert_int_equal(nlm_table_clear(&t, A, 100, NLM_OFFSET_MAX), 0);
	assert_int_equal(pieces(&t, A, p), 1);
	assert_true(has(p, 1, 0, 99, false));

	/* Clipped copies for restoring part of an owner's locks. */
	assert_int_equal(nlm_table_owner_pieces(&t, A, 50, 200, p, 8), 1);
	assert_true(has(p, 1, 50, 99, false));

	r = rg(500, 600, true);
	nlm_table_set(&t, B, &r);
	nlm_table_clear_owner(&t, A);
	assert_false(nlm_table_owner_holds(&t, A));
	assert_true(nlm_table_owner_holds(&t, B));
	assert_int_equal(nlm_table_clear(&t, B, 0, NLM_OFFSET_MAX), 0);
	assert_true(nlm_table_empty(&t));
	nlm_table_free(&t);
}

static void queue_grant_order(void **state)
{
	struct nlm_table t;
	struct nlm_range r = rg(0, 99, true);
	struct nlm_block b1 = { .owner = B, .r = rg(10, 20, true) };
	struct nlm_block b2 = { .owner = C, .r = rg(15, 30, false) };
	struct nlm_block b3 = { .owner = C, .r = rg(200, 300, true) };

	nlm_table_init(&t);
	nlm_table_set(&t, A, &r);
	nlm_queue_append(&t, &b1);
	nlm_queue_append(&t, &b2);
	nlm_queue_append(&t, &b3);
	assert_int_equal(nlm_queue_length(&t), 3);
	/* b3 is free of A's lock; b1 and b2 wait. */
	assert_ptr_equal(nlm_queue_next_grantable(&t, NULL), &b3);
	assert_null(nlm_queue_next_grantable(&t, &b3));

	/* A releases: the oldest waiter comes first... */
	nlm_table_clear_owner(&t, A);
	assert_ptr_equal(nlm_queue_next_grantable(&t, NULL), &b1);
	/* ...and once it holds its range, b2 (overlapping, shared) must wait. */
	nlm_table_set(&t, B, &b1.r);
	nlm_queue_remove(&t, &b1);
	assert_ptr_equal(nlm_queue_next_grantable(&t, NULL), &b3);
	assert_null(nlm_queue_next_grantable(&t, &b3));
	nlm_table_clear_owner(&t, B);
	assert_ptr_equal(nlm_queue_next_grantable(&t, NULL), &b2);
	nlm_queue_remove(&t, &b2);
	nlm_queue_remove(&t, &b3);
	assert_true(nlm_table_empty(&t));
	nlm_table_free(&t);
}

static void cancel_finds_exact_request(void **state)
{
	struct nlm_table t;
	struct nlm_block b1 = { .owner = B, .r = rg(0, 9, true) };
	struct nlm_block b2 = { .owner = B, .r = rg(0, 9, false) };
	struct nlm_range want = rg(0, 9, true), other = rg(0, 10, true);

	nlm_table_init(&t);
	nlm_queue_append(&t, &b1);
	nlm_queue_append(&t, &b2);
	assert_ptr_equal(nlm_queue_find(&t, B, &want), &b1);
	assert_null(nlm_queue_find(&t, B, &other));
	assert_null(nlm_queue_find(&t, A, &want));
	want.excl = false;
	assert_ptr_equal(nlm_queue_find(&t, B, &want), &b2);
	nlm_queue_remove(&t, &b2);          /* cancel */
	assert_null(nlm_queue_find(&t, B, &want));
	assert_int_equal(nlm_queue_length(&t), 1);
	nlm_queue_remove(&t, &b2);          /* twice is harmless */
	nlm_queue_remove(&t, &b1);
	assert_int_equal(nlm_queue_length(&t), 0);
	nlm_table_free(&t);
}

static void shares(void **state)
{
	struct nlm_table t;

	nlm_table_init(&t);
	/* A reads and denies writers. */
	assert_int_equal(nlm_share_add(&t, A, 2, 1), 0);
	assert_int_equal(nlm_share_add(&t, B, 0, 1), 0);        /* another reader */
	assert_int_equal(nlm_share_add(&t, C, 0, 3), -EAGAIN);  /* a writer */
	assert_int_equal(nlm_share_add(&t, C, 1, 0), -EAGAIN);  /* denies readers */
	assert_int_equal(nlm_share_add(&t, A, 0, 1), 0);        /* A relaxes */
	nlm_share_remove(&t, B);
	assert_int_equal(nlm_share_add(&t, C, 0, 3), 0);
	nlm_share_remove(&t, A);
	nlm_share_remove(&t, C);
	assert_true(nlm_table_empty(&t));
	nlm_table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(wire_ranges),
		cmocka_unit_test(conflicts),
		cmocka_unit_test(posix_merge_and_split),
		cmocka_unit_test(queue_grant_order),
		cmocka_unit_test(cancel_finds_exact_request),
		cmocka_unit_test(shares),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
