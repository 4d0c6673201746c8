/* fh_cache.c: open files by file handle (see fh_cache.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nfs/fh.h"
#include "nfs/fh_cache.h"

#define WAYS 4

struct fh_cache_entry {
	uint8_t fh[NFS3_FHSIZE];
	uint32_t len;            /* 0: free slot */
	int fd;                  /* O_PATH */
	int rd_fd;               /* O_RDONLY, -1 until needed */
	unsigned refs;           /* borrowers */
	bool dropped;            /* out of the table: closed at the last put */
	uint64_t used;           /* LRU clock */
};

struct fh_cache {
	pthread_mutex_t lock;
	unsigned sets;
	uint64_t clock;
	struct fh_cache_entry **slots; /* sets * WAYS, NULL when free */
};

struct fh_cache *fh_cache_new(unsigned sets)
{
	struct fh_cache *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->sets = sets;
	c->slots = calloc((size_t)sets * WAYS, sizeof(*c->slots));
	if (!c->slots) {
		free(c);
		return NULL;
	}
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

static void entry_close(struct fh_cache_entry *e)
{
	close(e->fd);
	if (e->rd_fd >= 0)
		close(e->rd_fd);
	free(e);
}

void fh_cache_free(struct fh_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < (size_t)c->sets * WAYS; i++)
		if (c->slots[i])
			entry_close(c->slots[i]); /* no borrowers once the server stopped */
	free(c->slots);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static struct fh_cache_entry **set_of(struct fh_cache *c, const uint8_t *data, uint32_t len)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (uint32_t i = 0; i < len; i++)
		h = (h ^ data[i]) * 16777619u;
	return c->slots + (size_t)(h & (c->sets - 1)) * WAYS;
}

/* Called locked: the set's matching entry, borrowed, or NULL. */
static struct fh_cache_entry *lookup(struct fh_cache *c, struct fh_cache_entry **set,
				     const uint8_t *data, uint32_t len)
{
	for (int i = 0; i < WAYS; i++) {
		struct fh_cache_entry *e = set[i];

		if (e && e->len == len && !memcmp(e->fh, data, len)) {
			e->refs++;
			e->used = ++c->clock;
			return e;
		}
	}
	return NULL;
}

/* Called locked: a free way, or the least recently used unborrowed one
 * (dropped from the table), or NULL when all are borrowed. */
static struct fh_cache_entry **victim(struct fh_cache_entry **set, struct fh_cache_entry **old)
{
	struct fh_cache_entry **best = NULL;

	*old = NULL;
	for (int i = 0; i < WAYS; i++) {
		if (!set[i])
			return &set[i];
		if (!set[i]->refs && (!best || set[i]->used < (*best)->used))
			best = &set[i];
	}
	if (best)
		*old = *best;
	return best;
}

/* Puts a freshly opened file in the table and borrows it; if another
 * thread cached the same handle meanwhile, borrows that one and closes fd.
 * False if there is no room (every way borrowed) or no memory. */
static bool insert(struct fh_cache *c, const uint8_t *data, uint32_t len, int fd, struct fh_ref *ref)
{
	struct fh_cache_entry *e = calloc(1, sizeof(*e)), *old = NULL, *twin, **slot = NULL;
	struct fh_cache_entry **set = set_of(c, data, len);

	if (!e)
		return false;
	memcpy(e->fh, data, len);
	e->len = len;
	e->fd = fd;
	e->rd_fd = -1;
	e->refs = 1;
	pthread_mutex_lock(&c->lock);
	twin = lookup(c, set, data, len);
	if (!twin)
		slot = victim(set, &old);
	if (slot) {
		e->used = ++c->clock;
		*slot = e;
	}
	pthread_mutex_unlock(&c->lock);
	if (old)
		entry_close(old);
	if (twin) {
		free(e);
		close(fd);
		e = twin;
	} else if (!slot) {
		free(e);
		return false;
	}
	ref->fd = e->fd;
	ref->entry = e;
	return true;
}

int fh_cache_get(struct fh_cache *c, const struct nfs_export *exp, const uint8_t *data,
		 uint32_t len, struct fh_ref *ref, bool cached_only)
{
	struct fh_cache_entry *e = NULL;
	int fd;

	ref->fd = -1;
	ref->entry = NULL;
	if (c && len && len <= NFS3_FHSIZE) {
		pthread_mutex_lock(&c->lock);
		e = lookup(c, set_of(c, data, len), data, len);
		pthread_mutex_unlock(&c->lock);
	}
	if (e) {
		ref->fd = e->fd;
		ref->entry = e;
		return 0;
	}
	if (cached_only)
		return -EAGAIN;
	fd = fh_open(exp, data, len);
	if (fd < 0)
		return fd;
	if (!c || !insert(c, data, len, fd, ref)) {
		ref->fd = fd;
		ref->entry = NULL;
	}
	return 0;
}

static int reopen_rdonly(int fd)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	return open(path, O_RDONLY | O_CLOEXEC);
}

int fh_cache_read_fd(struct fh_cache *c, struct fh_ref *ref)
{
	struct fh_cache_entry *e = ref->entry;
	int fd;

	if (!e)
		return -EINVAL; /* uncached: the caller opens as the caller */
	pthread_mutex_lock(&c->lock);
	fd = e->rd_fd;
	pthread_mutex_unlock(&c->lock);
	if (fd >= 0)
		return fd;
	fd = reopen_rdonly(e->fd);
	if (fd < 0)
		return -errno;
	pthread_mutex_lock(&c->lock);
	if (e->rd_fd < 0)
		e->rd_fd = fd;
	else
		close(fd); /* another thread opened it first */
	fd = e->rd_fd;
	pthread_mutex_unlock(&c->lock);
	return fd;
}

static void unlink_entry(struct fh_cache *c, struct fh_cache_entry *e)
{
	struct fh_cache_entry **set = set_of(c, e->fh, e->len);

	for (int i = 0; i < WAYS; i++)
		if (set[i] == e)
			set[i] = NULL;
	e->dropped = true;
}

void fh_cache_drop(struct fh_cache *c, struct fh_ref *ref)
{
	if (!ref->entry)
		return;
	pthread_mutex_lock(&c->lock);
	if (!ref->entry->dropped)
		unlink_entry(c, ref->entry);
	pthread_mutex_unlock(&c->lock);
}

void fh_cache_forget(struct fh_cache *c, const uint8_t *data, uint32_t len)
{
	struct fh_cache_entry *e, *closing = NULL;

	if (!c || !len || len > NFS3_FHSIZE)
		return;
	pthread_mutex_lock(&c->lock);
	e = lookup(c, set_of(c, data, len), data, len);
	if (e) {
		unlink_entry(c, e);
		if (--e->refs == 0)
			closing = e;
	}
	pthread_mutex_unlock(&c->lock);
	if (closing)
		entry_close(closing);
}

void fh_cache_put(struct fh_cache *c, struct fh_ref *ref)
{
	struct fh_cache_entry *e = ref->entry;
	bool last;

	if (!e) {
		if (ref->fd >= 0)
			close(ref->fd);
		ref->fd = -1;
		return;
	}
	pthread_mutex_lock(&c->lock);
	last = --e->refs == 0 && e->dropped;
	pthread_mutex_unlock(&c->lock);
	if (last)
		entry_close(e);
	ref->fd = -1;
	ref->entry = NULL;
}
