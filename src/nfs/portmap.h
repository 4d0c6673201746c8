/* portmap.h: a port mapper (PMAP v2, RFC 1833) that answers for the
 * programs of one RPC server, so clients such as libnfs find MOUNT, NFS,
 * NLM and NSM without a system rpcbind. */
#ifndef KVMINI_NFS_PORTMAP_H
#define KVMINI_NFS_PORTMAP_H

#include "nfs/rpc_server.h"

/* Adds program 100000 version 2 to `srv`: GETPORT answers srv's own TCP
 * or UDP port for every program version registered on srv (including
 * ones added after this call), DUMP lists them; SET and UNSET are refused
 * (programs join through rpc_server_add_program). */
int portmap_register(struct rpc_server *srv);

#endif
