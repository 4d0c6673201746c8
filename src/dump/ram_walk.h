/* ram_walk.h: guest RAM in runs of pages, each run either data or zeros.
 * Never-touched memfd ranges are found with SEEK_DATA/SEEK_HOLE, so holes
 * are reported without reading (or allocating) them. */
#ifndef KVMINI_DUMP_RAM_WALK_H
#define KVMINI_DUMP_RAM_WALK_H

#include <stdbool.h>
#include <stdint.h>

#include "vm/memory.h"

#define DUMP_PAGE_SIZE 4096ULL

/* `host` is NULL for zero runs. Returns nonzero to stop the walk. */
typedef int (*ram_run_fn)(void *ctx, uint64_t gpa, const uint8_t *host, uint64_t len);

/* Walks region `r` of `mem` in increasing gpa order; runs are at most
 * `max_run` bytes (a multiple of the page size). */
int ram_walk_region(const struct guest_memory *mem, const struct mem_region *r,
		    uint64_t max_run, ram_run_fn fn, void *ctx);
bool page_is_zero(const uint8_t *page);

#endif
