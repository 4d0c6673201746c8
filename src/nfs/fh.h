/* fh.h: NFSv3 file handles: the kernel's own handle for the inode (from
 * name_to_handle_at, so it holds inode and generation and survives a
 * server restart), the export's fsid, and an HMAC-SHA256 (truncated to
 * 16 bytes) under the export's key, so a client cannot make up a handle
 * for a file it was never given. */
#ifndef KVMINI_NFS_FH_H
#define KVMINI_NFS_FH_H

#include <stdint.h>

#include "nfs/export.h"

#define NFS3_FHSIZE 64

struct nfs_fh {
	uint32_t len;
	uint8_t data[NFS3_FHSIZE];
};

/* Makes the handle of the file open at `fd` (O_PATH is fine). Returns 0 or
 * -errno (-EXDEV for a file on another file system). */
int fh_from_fd(const struct nfs_export *exp, int fd, struct nfs_fh *fh);
/* Checks a client's handle and opens its file with O_PATH|O_NOFOLLOW.
 * Returns the fd, -EBADHANDLE (10001 is NFS3ERR_BADHANDLE: we return
 * -EBADR) for a malformed or forged handle, or -ESTALE for a file that is
 * gone. Needs CAP_DAC_READ_SEARCH (call it with the server's own creds). */
int fh_open(const struct nfs_export *exp, const uint8_t *data, uint32_t len);

#endif
