/* test_virtio_rng.c: virtio-rng against a fake driver: device-writable
 * buffers are filled, device-readable or mixed ones fail alone and are
 * counted, malformed chains too; a request beyond what the token bucket
 * holds gets the burst, the next one waits (held, not failed, not
 * dropped) and is completed empty if the driver goes away. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "fake_driver.h"
#include "virtio/rng.h"

static struct fake_driver *start_rng(uint64_t rate, uint64_t burst)
{
	struct fake_driver *f = fd_new();

	assert_int_equal(virtio_rng_init(&f->dev, rate, burst), 0);
	assert_int_equal(fd_start(f, 0), 0);
	return f;
}

static void stop_rng(struct fake_driver *f)
{
	f->dev.ops->stop(&f->dev);
	virtio_rng_destroy(&f->dev);
	fd_free(f);
}

static int zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return 0;
	return 1;
}

static void fills_writable_buffers(void **state)
{
	struct fake_driver *f = start_rng(1 << 20, 64 << 10);
	uint64_t a = fd_alloc(f, NULL, 100), b = fd_alloc(f, NULL, 28);
	struct fake_buf two[2] = { { a, 100, 1 }, { b, 28, 1 } };
	uint32_t id, len;
	struct rng_stats s;

	fd_kick(f, 0, two, 2);
	assert_int_equal(fd_used(f, 0, &id, &len), 1);
	assert_int_equal(len, 128);
	assert_false(zero(fd_ptr(f, a), 100));
	assert_false(zero(fd_ptr(f, b), 28));
	assert_int_equal(f->interrupts[0], 1);
	virtio_rng_stats(&f->dev, &s);
	assert_int_equal(s.bytes, 128);
	assert_int_equal(s.requests, 1);
	stop_rng(f);
}

static void wrong_direction_fails_alone(void **state)
{
	struct fake_driver *f = start_rng(1 << 20, 64 << 10);
	uint64_t r = fd_alloc(f, NULL, 32), w = fd_alloc(f, NULL, 32);
	struct fake_buf readable = { r, 32, 0 };
	struct fake_buf mixed[2] = { { r, 16, 0 }, { w, 16, 1 } };
	struct fake_buf outside = { FD_GPA + FD_MEM - 8, 64, 1 };
	struct fake_buf good = { w, 32, 1 };
	uint32_t id, len;
	struct rng_stats s;

	fd_kick(f, 0, &readable, 1);
	fd_kick(f, 0, mixed, 2);
	fd_kick(f, 0, &outside, 1);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(fd_used(f, 0, &id, &len), 1);
		assert_int_equal(len, 0);
	}
	assert_true(zero(fd_ptr(f, r), 32) && zero(fd_ptr(f, w), 32)); /* nothing written */
	fd_kick(f, 0, &good, 1);
	assert_int_equal(fd_used(f, 0, &id, &len), 1);
	assert_int_equal(len, 32);
	virtio_rng_stats(&f->dev, &s);
	assert_int_equal(s.bad_chains, 2);
	assert_int_equal(f->dev.vqs[0].errors, 1);
	stop_rng(f);
}

static void over_the_limit_requests_wait(void **state)
{
	/* 1 byte per second, 16 in the bucket: nothing more comes during the test */
	struct fake_driver *f = start_rng(1, 16);
	struct fake_buf first = { fd_alloc(f, NULL, 64), 64, 1 };
	struct fake_buf second = { fd_alloc(f, NULL, 64), 64, 1 };
	uint32_t id, len;
	struct rng_stats s;
	uint16_t head;

	fd_kick(f, 0, &first, 1);
	assert_int_equal(fd_used(f, 0, &id, &len), 1);
	assert_int_equal(len, 16); /* the burst */
	head = fd_kick(f, 0, &second, 1);
	assert_int_equal(fd_used(f, 0, &id, &len), 0); /* waiting for tokens */
	f->dev.ops->queue_notify(&f->dev, &f->dev.vqs[0]); /* a kick does not fail it */
	assert_int_equal(fd_used(f, 0, &id, &len), 0);
	virtio_rng_stats(&f->dev, &s);
	assert_true(s.waits >= 1);
	assert_int_equal(s.bad_chains, 0);
	f->dev.ops->stop(&f->dev); /* the driver goes away: completed empty */
	assert_int_equal(fd_used(f, 0, &id, &len), 1);
	assert_int_equal(id, head);
	assert_int_equal(len, 0);
	virtio_rng_destroy(&f->dev);
	fd_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(fills_writable_buffers),
		cmocka_unit_test(wrong_direction_fails_alone),
		cmocka_unit_test(over_the_limit_requests_wait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
