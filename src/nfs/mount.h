/* mount.h: the MOUNT v3 program (RFC 1813 appendix I): MNT hands out the
 * root handle of the export (or of a directory beneath it), UMNT/UMNTALL
 * forget a client, DUMP lists the mounts, EXPORT the export. */
#ifndef KVMINI_NFS_MOUNT_H
#define KVMINI_NFS_MOUNT_H

#include <pthread.h>

#include "nfs/export.h"
#include "nfs/rpc_server.h"

#define MOUNT_PROG 100005
#define MOUNT_VERS 3
#define MOUNT_MAX_ENTRIES 64
#define MOUNT_MAXPATH 1024

struct nfs_mountd {
	struct nfs_export *exp;
	pthread_mutex_t lock;
	unsigned n;
	struct mount_entry {
		char host[64];
		char path[MOUNT_MAXPATH + 1];
	} list[MOUNT_MAX_ENTRIES];
};

void mountd_init(struct nfs_mountd *m, struct nfs_export *exp);
void mountd_destroy(struct nfs_mountd *m);
int mountd_register(struct rpc_server *srv, struct nfs_mountd *m);

#endif
