/* test_virtqueue.c: a fake driver builds split rings in a buffer standing
 * for guest memory and feeds the device well-formed and malformed chains:
 * buffers outside memory, loops, overflowing lengths, bad indirect tables,
 * out-of-range indexes, and a used index that wraps past 65535. Each bad
 * chain is refused alone; the queue keeps serving. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "virtio/virtqueue.h"

#define QSIZE 8
#define MEM_SIZE (1 << 20)
#define GPA_BASE 0x100000ULL
#define DESC_OFF 0x0
#define AVAIL_OFF 0x1000
#define USED_OFF 0x2000
#define DATA_OFF 0x10000

struct fake {
	uint8_t *ram;
	struct vmem_map map;
	struct virtqueue vq;
	struct vring_desc *desc;
	uint16_t *avail;
	uint16_t avail_idx;
};

static struct fake *fake_new(uint16_t used_start)
{
	struct fake *f = calloc(1, sizeof(*f));

	f->ram = calloc(1, MEM_SIZE);
	f->map.nregions = 1;
	f->map.r[0] = (struct vmem_region){ GPA_BASE, MEM_SIZE, GPA_BASE, f->ram };
	f->desc = (struct vring_desc *)(f->ram + DESC_OFF);
	f->avail = (uint16_t *)(f->ram + AVAIL_OFF);
	memcpy(f->ram + USED_OFF + 2, &used_start, 2);
	f->avail_idx = used_start;
	f->avail[1] = used_start;
	assert_int_equal(vq_setup(&f->vq, &f->map, QSIZE, GPA_BASE + DESC_OFF,
				  GPA_BASE + AVAIL_OFF, GPA_BASE + USED_OFF), 0);
	f->vq.last_avail = used_start;
	return f;
}

static void fake_free(struct fake *f)
{
	free(f->ram);
	free(f);
}

static void set_desc(struct fake *f, int i, uint64_t addr, uint32_t len, uint16_t flags,
		     uint16_t next)
{
	f->desc[i] = (struct vring_desc){ addr, len, flags, next };
}

static void make_available(struct fake *f, uint16_t head)
{
	f->avail[2 + f->avail_idx % QSIZE] = head;
	f->avail_idx++;
	f->avail[1] = f->avail_idx;
}

static uint16_t used_idx(struct fake *f)
{
	uint16_t v;

	memcpy(&v, f->ram + USED_OFF + 2, 2);
	return v;
}

/* A good two-buffer request: readable header, writable status. */
static void good_request(struct fake *f, int head)
{
	set_desc(f, head, GPA_BASE + DATA_OFF, 16, VRING_DESC_F_NEXT, (uint16_t)(head + 1));
	set_desc(f, head + 1, GPA_BASE + DATA_OFF + 64, 1, VRING_DESC_F_WRITE, 0);
	make_available(f, (uint16_t)head);
}

static int pop_and_push(struct fake *f, struct vq_elem *e)
{
	int got = vq_pop(&f->vq, e);

	if (got != 0)
		vq_push(&f->vq, e->head, 0);
	return got;
}

static void well_formed(void **state)
{
	struct fake *f = fake_new(0);
	struct vq_elem *e = malloc(sizeof(*e));

	good_request(f, 0);
	assert_int_equal(vq_pop(&f->vq, e), 1);
	assert_int_equal(e->out_num, 1);
	assert_int_equal(e->in_num, 1);
	assert_int_equal(e->out_len, 16);
	assert_ptr_equal(e->iov[0].iov_base, f->ram + DATA_OFF);
	vq_push(&f->vq, e->head, 1);
	assert_int_equal(used_idx(f), 1);
	assert_int_equal(vq_pop(&f->vq, e), 0); /* nothing more */
	free(e);
	fake_free(f);
}

static void bad_chains_fail_alone(void **state)
{
	struct fake *f = fake_new(0);
	struct vq_elem *e = malloc(sizeof(*e));

	/* 1: buffer outside guest memory */
	set_desc(f, 0, GPA_BASE + MEM_SIZE - 4, 16, 0, 0);
	make_available(f, 0);
	assert_int_equal(pop_and_push(f, e), -1);
	/* 2: a loop (0 -> 1 -> 0) */
	set_desc(f, 0, GPA_BASE + DATA_OFF, 4, VRING_DESC_F_NEXT, 1);
	set_desc(f, 1, GPA_BASE + DATA_OFF, 4, VRING_DESC_F_NEXT, 0);
	make_available(f, 0);
	assert_int_equal(pop_and_push(f, e), -1);
	/* 3: next index out of range */
	set_desc(f, 0, GPA_BASE + DATA_OFF, 4, VRING_DESC_F_NEXT, 200);
	make_available(f, 0);
	assert_int_equal(pop_and_push(f, e), -1);
	/* 4: address + length overflowing 64 bits */
	set_desc(f, 0, UINT64_MAX - 8, 0x100, 0, 0);
	make_available(f, 0);
	assert_int_equal(pop_and_push(f, e), -1);
	/* 5: readable after writable */
	set_desc(f, 0, GPA_BASE + DATA_OFF, 4, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(f, 1, GPA_BASE + DATA_OFF, 4, 0, 0);
	make_available(f, 0);
	assert_int_equal(pop_and_push(f, e), -1);
	/* the queue still serves a good request */
	good_request(f, 2);
	assert_int_equal(pop_and_push(f, e), 1);
	assert_int_equal(used_idx(f), 6);
	assert_int_equal(f->vq.errors, 5);
	free(e);
	fake_free(f);
}

static void bad_indirect_tables(void **state)
{
	struct fake *f = fake_new(0);
	struct vq_elem *e = malloc(sizeof(*e));
	struct vring_desc *table = (struct vring_desc *)(f->ram + 0x3000);

	/* length not a multiple of a descriptor */
	set_desc(f, 0, GPA_BASE + 0x3000, 20, VRING_DESC_F_INDIRECT, 0);
	make_available(f, 0);
	assert_int_equal(pop_and_push(f, e), -1);
	/* nested indirect */
	table[0] = (struct vring_desc){ GPA_BASE + 0x3000, 16, VRING_DESC_F_INDIRECT, 0 };
	set_desc(f, 0, GPA_BASE + 0x3000, 16, VRING_DESC_F_INDIRECT, 0);
	make_available(f, 0);
	assert_int_equal(pop_and_push(f, e), -1);
	/* a loop inside the table */
	table[0] = (struct vring_desc){ GPA_BASE + DATA_OFF, 4, VRING_DESC_F_NEXT, 1 };
	table[1] = (struct vring_desc){ GPA_BASE + DATA_OFF, 4, VRING_DESC_F_NEXT, 0 };
	set_desc(f, 0, GPA_BASE + 0x3000, 32, VRING_DESC_F_INDIRECT, 0);
	make_available(f, 0);
	assert_int_equal(pop_and_push(f, e), -1);
	/* a table outside memory */
	set_desc(f, 0, GPA_BASE + MEM_SIZE, 32, VRING_DESC_F_INDIRECT, 0);
	make_available(f, 0);
	assert_int_equal(pop_and_push(f, e), -1);
	/* a good indirect request still works */
	table[0] = (struct vring_desc){ GPA_BASE + DATA_OFF, 16, VRING_DESC_F_NEXT, 1 };
	table[1] = (struct vring_desc){ GPA_BASE + DATA_OFF + 64, 1, VRING_DESC_F_WRITE, 0 };
	set_desc(f, 0, GPA_BASE + 0x3000, 32, VRING_DESC_F_INDIRECT, 0);
	make_available(f, 0);
	assert_int_equal(vq_pop(&f->vq, e), 1);
	assert_int_equal(e->out_num + e->in_num, 2);
	free(e);
	fake_free(f);
}

static void used_index_wraps(void **state)
{
	struct fake *f = fake_new(65534);
	struct vq_elem *e = malloc(sizeof(*e));

	for (int i = 0; i < 4; i++) {
		good_request(f, 2 * (i % 2));
		assert_int_equal(pop_and_push(f, e), 1);
	}
	assert_int_equal(used_idx(f), 2); /* 65534 + 4, mod 2^16 */
	free(e);
	fake_free(f);
}

static void broken_available_index(void **state)
{
	struct fake *f = fake_new(0);
	struct vq_elem *e = malloc(sizeof(*e));

	/* the driver claims more buffers than the queue holds */
	f->avail[1] = QSIZE + 5;
	assert_int_equal(vq_pop(&f->vq, e), 0);
	assert_true(f->vq.broken);
	fake_free(f);
	/* a head index out of range stops the queue, too */
	f = fake_new(0);
	f->avail[2] = 99;
	f->avail[1] = 1;
	assert_int_equal(vq_pop(&f->vq, e), 0);
	assert_true(f->vq.broken);
	free(e);
	fake_free(f);
}

static void bad_ring_setup(void **state)
{
	struct fake *f = fake_new(0);
	struct virtqueue vq = { 0 };

	assert_int_equal(vq_setup(&vq, &f->map, 6, GPA_BASE, GPA_BASE + 0x1000, GPA_BASE + 0x2000), -1);
	assert_int_equal(vq_setup(&vq, &f->map, 8, GPA_BASE + MEM_SIZE - 8, GPA_BASE + 0x1000,
				  GPA_BASE + 0x2000), -1);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(well_formed),
		cmocka_unit_test(bad_chains_fail_alone),
		cmocka_unit_test(bad_indirect_tables),
		cmocka_unit_test(used_index_wraps),
		cmocka_unit_test(broken_available_index),
		cmocka_unit_test(bad_ring_setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
