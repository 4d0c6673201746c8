/* compress_pool.c: compresses runs of 4 KiB pages (zstd or zlib) on every
 * CPU: the caller takes the first slice, helper threads the others. */
#include "dump/compress_pool.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "dump/kdump_format.h"
#include "util/log.h"

#define PAGE KDUMP_BLOCK_SIZE
#define ZSTD_LEVEL (-1) /* zstd's fast mode: a stopped guest waits for the dump */
#define MIN_PAGES_PER_SLICE 64

static void compress_slice(struct compress_slice *s, enum dump_compression kind)
{
	s->out_len = 0;
	for (size_t i = 0; i < s->npages; i++) {
		const uint8_t *page = s->in + i * PAGE;
		uint8_t *dst = s->out + s->out_len;
		size_t n = 0;

		if (kind == DUMP_COMPRESS_ZLIB) {
			uLongf len = PAGE;

			if (compress2(dst, &len, page, PAGE, 1) == Z_OK)
				n = len;
		} else {
			n = ZSTD_compressCCtx(s->zstd, dst, PAGE, page, PAGE, ZSTD_LEVEL);
			if (ZSTD_isError(n))
				n = 0;
		}
		if (n == 0 || n >= PAGE) { /* does not shrink: stored as is */
			memcpy(dst, page, PAGE);
			n = PAGE;
			s->flags[i] = 0;
		} else {
			s->flags[i] = kind == DUMP_COMPRESS_ZLIB ? DUMP_DH_COMPRESSED_ZLIB
								 : DUMP_DH_COMPRESSED_ZSTD;
		}
		s->size[i] = (uint32_t)n;
		s->out_len += n;
	}
}

struct helper_arg {
	struct compress_pool *pool;
	int index;
};

static void *helper(void *opaque)
{
	struct helper_arg *a = opaque;
	struct compress_pool *p = a->pool;
	int index = a->index;
	unsigned seen = 0;

	free(a);
	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (p->generation == seen && !p->stop)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->stop) {
			pthread_mutex_unlock(&p->lock);
			return NULL;
		}
		seen = p->generation;
		if (index >= p->active) { /* not needed for this run */
			pthread_mutex_unlock(&p->lock);
			continue;
		}
		pthread_mutex_unlock(&p->lock);
		compress_slice(p->slices[index], p->kind);
		pthread_mutex_lock(&p->lock);
		if (--p->pending == 0)
			pthread_cond_signal(&p->done);
		pthread_mutex_unlock(&p->lock);
	}
}

static int start_helpers(struct compress_pool *p, int wanted)
{
	sigset_t all, old;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	while (p->nthreads < wanted) {
		struct helper_arg *a = malloc(sizeof(*a));

		if (!a)
			break;
		*a = (struct helper_arg){ p, p->nthreads };
		if (pthread_create(&p->helpers[p->nthreads], NULL, helper, a)) {
			free(a);
			break;
		}
		p->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return 0;
}

int compress_pool_init(struct compress_pool *p, enum dump_compression kind)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	int wanted = cpus < 1 ? 1 : cpus > POOL_MAX_THREADS ? POOL_MAX_THREADS : (int)cpus;

	memset(p, 0, sizeof(*p));
	p->kind = kind;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	for (int i = 0; i < wanted; i++) {
		struct compress_slice *s = calloc(1, sizeof(*s));

		if (!s || !(s->out = malloc(POOL_MAX_PAGES * PAGE)) ||
		    !(s->zstd = ZSTD_createCCtx())) {
			if (s) {
				free(s->out);
				free(s);
			}
			if (i == 0)
				return error("out of memory for the dump compressor");
			wanted = i;
			break;
		}
		p->slices[i] = s;
	}
	p->nthreads = 1; /* the caller */
	return start_helpers(p, wanted);
}

void compress_pool_destroy(struct compress_pool *p)
{
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (int i = 1; i < p->nthreads; i++)
		pthread_join(p->helpers[i], NULL);
	for (int i = 0; i < POOL_MAX_THREADS; i++) {
		if (!p->slices[i])
			continue;
		ZSTD_freeCCtx(p->slices[i]->zstd);
		free(p->slices[i]->out);
		free(p->slices[i]);
	}
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
}

int compress_pool_run(struct compress_pool *p, const uint8_t *pages, size_t npages)
{
	int used = (int)(npages / MIN_PAGES_PER_SLICE);
	size_t per, start = 0;

	used = used < 1 ? 1 : used > p->nthreads ? p->nthreads : used;
	per = (npages + (size_t)used - 1) / (size_t)used;
	for (int i = 0; i < used; i++) {
		size_t n = npages - start < per ? npages - start : per;

		p->slices[i]->in = pages + start * PAGE;
		p->slices[i]->npages = n;
		start += n;
	}
	if (used > 1) {
		pthread_mutex_lock(&p->lock);
		p->pending = used - 1;
		p->active = used;
		p->generation++;
		pthread_cond_broadcast(&p->work);
		pthread_mutex_unlock(&p->lock);
	}
	compress_slice(p->slices[0], p->kind);
	if (used > 1) {
		pthread_mutex_lock(&p->lock);
		while (p->pending > 0)
			pthread_cond_wait(&p->done, &p->lock);
		pthread_mutex_unlock(&p->lock);
	}
	return used;
}
