/* creds.h: acting as the caller. A worker thread switches its own
 * file-system uid, gid and groups (per-thread system calls, not glibc's
 * process-wide wrappers) so the kernel checks permissions as it would for
 * the caller, after root_squash / all_squash. */
#ifndef KVMINI_NFS_CREDS_H
#define KVMINI_NFS_CREDS_H

#include "nfs/export.h"
#include "nfs/rpc_msg.h"

/* The ids the caller maps to on this export. */
void nfs_map_cred(const struct nfs_export *exp, const struct rpc_cred *cred, uint32_t *uid,
		  uint32_t *gid);
/* Switches this thread to the caller's ids. Returns 0 or -errno. */
int nfs_become(const struct nfs_export *exp, const struct rpc_cred *cred);
/* Back to the server's own ids (root). */
void nfs_become_server(const struct nfs_export *exp);

#endif
