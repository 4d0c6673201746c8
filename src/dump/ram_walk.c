/* ram_walk.c: guest RAM as runs of data pages and zero pages, skipping the
 * memfd's holes without touching them. */
#include "dump/ram_walk.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

bool page_is_zero(const uint8_t *page)
{
	const uint64_t *w = (const uint64_t *)(const void *)page;
	uint64_t acc = 0;

	for (size_t i = 0; i < DUMP_PAGE_SIZE / 8; i += 8)
		acc |= w[i] | w[i + 1] | w[i + 2] | w[i + 3] | w[i + 4] | w[i + 5] | w[i + 6] |
		       w[i + 7];
	return acc == 0;
}

/* Splits [off, end) of data into runs of zero pages and non-zero pages. */
static int walk_data(const struct mem_region *r, uint64_t off, uint64_t end,
		     uint64_t max_run, ram_run_fn fn, void *ctx)
{
	while (off < end) {
		bool zero = page_is_zero(r->host + off);
		uint64_t len = DUMP_PAGE_SIZE;
		int ret;

		while (off + len < end && len < max_run &&
		       page_is_zero(r->host + off + len) == zero)
			len += DUMP_PAGE_SIZE;
		ret = fn(ctx, r->gpa + off, zero ? NULL : r->host + off, len);
		if (ret)
			return ret;
		off += len;
	}
	return 0;
}

static int walk_hole(const struct mem_region *r, uint64_t off, uint64_t end,
		     uint64_t max_run, ram_run_fn fn, void *ctx)
{
	while (off < end) {
		uint64_t len = end - off < max_run ? end - off : max_run;
		int ret = fn(ctx, r->gpa + off, NULL, len);

		if (ret)
			return ret;
		off += len;
	}
	return 0;
}

static uint64_t page_down(uint64_t v)
{
	return v & ~(DUMP_PAGE_SIZE - 1);
}

int ram_walk_region(const struct guest_memory *mem, const struct mem_region *r,
		    uint64_t max_run, ram_run_fn fn, void *ctx)
{
	uint64_t off = 0;
	int ret = 0;

	while (off < r->size && !ret) {
		off_t base = (off_t)(r->memfd_offset + off);
		off_t data = lseek(mem->memfd, base, SEEK_DATA);
		off_t hole;
		uint64_t data_off, hole_off;

		if (data < 0 && errno == ENXIO) /* only a hole up to the end of the memfd */
			return walk_hole(r, off, r->size, max_run, fn, ctx);
		if (data < 0) /* no SEEK_DATA: read everything */
			return walk_data(r, off, r->size, max_run, fn, ctx);
		data_off = page_down((uint64_t)data - r->memfd_offset);
		if (data_off > r->size)
			data_off = r->size;
		if (data_off > off && (ret = walk_hole(r, off, data_off, max_run, fn, ctx)))
			return ret;
		off = data_off;
		if (off >= r->size)
			break;
		hole = lseek(mem->memfd, (off_t)(r->memfd_offset + off), SEEK_HOLE);
		hole_off = hole < 0 ? r->size : (uint64_t)hole - r->memfd_offset;
		hole_off = (hole_off + DUMP_PAGE_SIZE - 1) & ~(DUMP_PAGE_SIZE - 1);
		if (hole_off > r->size)
			hole_off = r->size;
		if (hole_off <= off)
			hole_off = off + DUMP_PAGE_SIZE;
		ret = walk_data(r, off, hole_off, max_run, fn, ctx);
		off = hole_off;
	}
	return ret;
}
