/* test_balloon.c: the balloon model: targets, inflate lists released as
 * merged ranges, statistics parsing, free page reports, config writes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "balloon/balloon.h"

struct host {
	int releases, notifies;
	uint64_t gpa[8], len[8];
	int fail;
};

static int release(void *opaque, uint64_t gpa, uint64_t len)
{
	struct host *h = opaque;

	if (h->releases < 8) {
		h->gpa[h->releases] = gpa;
		h->len[h->releases] = len;
	}
	h->releases++;
	return h->fail ? -1 : 0;
}

static void notify(void *opaque)
{
	((struct host *)opaque)->notifies++;
}

static void targets(void **unused)
{
	struct balloon b;
	struct host h = { 0 };
	const char *err;

	balloon_init(&b, 256 << 20, release, notify, &h);
	assert_int_equal(balloon_set_target(&b, 512 << 20, &err), -1);
	assert_non_null(strstr(err, "larger than the guest's memory"));
	assert_int_equal(balloon_set_target(&b, (128 << 20) + 1, &err), -1);
	assert_non_null(strstr(err, "multiple of the 4 KiB"));
	assert_int_equal(h.notifies, 0);
	assert_int_equal(balloon_set_target(&b, 192 << 20, &err), 0);
	assert_int_equal(b.num_pages, (64 << 20) / 4096);
	assert_int_equal(h.notifies, 1);
	balloon_destroy(&b);
}

static void inflate_merges_contiguous_pages(void **unused)
{
	struct balloon b;
	struct host h = { 0 };
	uint32_t pfns[] = { 0x100, 0x101, 0x102, 0x200, 0x104, 0x105 };

	balloon_init(&b, 256 << 20, release, NULL, &h);
	balloon_inflate(&b, pfns, sizeof(pfns));
	assert_int_equal(h.releases, 3);
	assert_int_equal(h.gpa[0], 0x100000);
	assert_int_equal(h.len[0], 3 * 4096);
	assert_int_equal(h.gpa[1], 0x200000);
	assert_int_equal(h.len[1], 4096);
	assert_int_equal(h.gpa[2], 0x104000);
	assert_int_equal(h.len[2], 2 * 4096);
	assert_int_equal(b.inflated, 6);
	assert_int_equal(b.released_bytes, 6 * 4096);
	/* a trailing partial PFN is ignored */
	balloon_inflate(&b, pfns, 3);
	assert_int_equal(h.releases, 3);
	balloon_deflate(&b, pfns, sizeof(pfns));
	assert_int_equal(b.deflated, 6);
	balloon_destroy(&b);
}

static void stats_parsed_and_checked(void **unused)
{
	struct balloon b;
	uint8_t buf[30];
	uint16_t tag;
	uint64_t val;

	balloon_init(&b, 256 << 20, NULL, NULL, NULL);
	tag = VIRTIO_BALLOON_S_MEMFREE;
	val = 100 << 20;
	memcpy(buf, &tag, 2);
	memcpy(buf + 2, &val, 8);
	tag = 999; /* a newer driver's tag: skipped */
	memcpy(buf + 10, &tag, 2);
	memcpy(buf + 12, &val, 8);
	tag = VIRTIO_BALLOON_S_MEMTOT;
	val = 250 << 20;
	memcpy(buf + 20, &tag, 2);
	memcpy(buf + 22, &val, 8);
	assert_int_equal(balloon_update_stats(&b, buf, 29), -1);
	assert_false(b.have_stats);
	assert_int_equal(balloon_update_stats(&b, buf, 30), 0);
	assert_true(b.have_stats);
	assert_int_equal(b.stats[VIRTIO_BALLOON_S_MEMFREE], 100 << 20);
	assert_int_equal(b.stats[VIRTIO_BALLOON_S_MEMTOT], 250 << 20);
	balloon_destroy(&b);
}

static void reports_release_and_count_failures(void **unused)
{
	struct balloon b;
	struct host h = { 0 };

	balloon_init(&b, 256 << 20, release, NULL, &h);
	balloon_free_page_report(&b, 0x400000, 4 << 20);
	assert_int_equal(b.reports, 1);
	assert_int_equal(b.released_bytes, 4 << 20);
	h.fail = 1;
	balloon_free_page_report(&b, 0x800000, 4 << 20);
	assert_int_equal(b.reported_bytes, 8 << 20);
	assert_int_equal(b.released_bytes, 4 << 20);
	assert_int_equal(b.release_errors, 1);
	balloon_destroy(&b);
}

static void config_actual_only(void **unused)
{
	struct balloon b;
	struct virtio_balloon_config cfg;
	uint32_t v = 1234;
	const char *err;

	balloon_init(&b, 256 << 20, NULL, NULL, NULL);
	balloon_set_target(&b, 255 << 20, &err);
	balloon_config_write(&b, 0, &v, 4); /* num_pages is the host's */
	balloon_config_write(&b, 4, &v, 2);
	assert_int_equal(b.actual, 0);
	balloon_config_write(&b, 4, &v, 4);
	balloon_config(&b, &cfg);
	assert_int_equal(cfg.num_pages, 256);
	assert_int_equal(cfg.actual, 1234);
	balloon_destroy(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(targets),
		cmocka_unit_test(inflate_merges_contiguous_pages),
		cmocka_unit_test(stats_parsed_and_checked),
		cmocka_unit_test(reports_release_and_count_failures),
		cmocka_unit_test(config_actual_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
