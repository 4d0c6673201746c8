/* compress_pool.h: per-page compression of a run of guest pages, shared
 * between the dumping thread and helper threads (one per spare CPU). */
#ifndef KVMINI_DUMP_COMPRESS_POOL_H
#define KVMINI_DUMP_COMPRESS_POOL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "dump/dump_source.h"

#define POOL_MAX_THREADS 4
#define POOL_MAX_PAGES 1024 /* per call of compress_pool_run */

/* One slice of pages: compressed pages back to back in `out`, each page's
 * size and kdump flags (0: stored as is). */
struct compress_slice {
	void *zstd;
	const uint8_t *in;
	size_t npages;
	uint8_t *out;
	size_t out_len;
	uint32_t size[POOL_MAX_PAGES];
	uint32_t flags[POOL_MAX_PAGES];
};

struct compress_pool {
	enum dump_compression kind;
	int nthreads;              /* including the caller */
	struct compress_slice *slices[POOL_MAX_THREADS];
	pthread_t helpers[POOL_MAX_THREADS];
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	unsigned generation;
	int active;                /* slices in use for the current run */
	int pending;
	int stop;
};

int compress_pool_init(struct compress_pool *p, enum dump_compression kind);
void compress_pool_destroy(struct compress_pool *p);
/* Compresses `npages` (<= POOL_MAX_PAGES) pages; the results are in
 * p->slices[0 .. p->nthreads-1], in page order. Returns the slices used. */
int compress_pool_run(struct compress_pool *p, const uint8_t *pages, size_t npages);

#endif
