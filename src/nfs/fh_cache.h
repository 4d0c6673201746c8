/* fh_cache.h: a bounded cache of open files by file handle, so a READ
 * does not pay open_by_handle_at, the handle's MAC check and a reopen for
 * every call. Each entry holds the O_PATH fd (a handle is cached only after
 * fh_open accepted it, and a hit needs the exact same handle bytes) and,
 * once a READ needed it, a read-only fd opened with the server's
 * credentials; callers still check the caller's permission every time.
 *
 * Entries are borrowed (fh_cache_get .. fh_cache_put) and never closed
 * while borrowed. REMOVE and RENAME forget the handle of the name they
 * unlink or replace (fh_cache_forget); a file whose last link went some
 * other way (a host process) is dropped at its next use (the caller sees
 * st_nlink == 0 and calls fh_cache_drop), so a removed file's handle goes
 * stale as it does without the cache. Set-
 * associative with LRU replacement inside each set; thread-safe. */
#ifndef KVMINI_NFS_FH_CACHE_H
#define KVMINI_NFS_FH_CACHE_H

#include <stdbool.h>
#include <stdint.h>

struct nfs_export;
struct fh_cache;
struct fh_cache_entry;

/* A borrowed file: fd is O_PATH; entry NULL when it was not cached (the
 * fd is then the borrower's and fh_cache_put closes it). */
struct fh_ref {
	int fd;
	struct fh_cache_entry *entry;
};

/* A cache of up to `sets` * 4 files (sets a power of two). */
struct fh_cache *fh_cache_new(unsigned sets);
void fh_cache_free(struct fh_cache *c);
/* Like fh_open: returns 0 with *ref filled, or fh_open's -errno. With
 * cached_only, a handle not in the cache is not opened: -EAGAIN. */
int fh_cache_get(struct fh_cache *c, const struct nfs_export *exp, const uint8_t *data,
		 uint32_t len, struct fh_ref *ref, bool cached_only);
/* The entry's read-only fd, opened (as whoever the calling thread is,
 * from the O_PATH fd) on first use. Returns the fd (owned by the cache
 * or, for an uncached ref, by the ref) or -errno. */
int fh_cache_read_fd(struct fh_cache *c, struct fh_ref *ref);
void fh_cache_put(struct fh_cache *c, struct fh_ref *ref);
/* Forgets a handle if cached (its file is about to lose a link): closed
 * now, or by its last borrower. */
void fh_cache_forget(struct fh_cache *c, const uint8_t *data, uint32_t len);
/* Forgets the ref's handle (its file lost its last link); still borrowed
 * until fh_cache_put. */
void fh_cache_drop(struct fh_cache *c, struct fh_ref *ref);

#endif
