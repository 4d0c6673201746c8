/* rpc_client.h: a small blocking ONC RPC client, for a server that must
 * call its clients back (NLM GRANTED and _RES messages, NSM notifications)
 * or ask a port mapper. Call it from a worker (rpc_server_submit) or a
 * thread of its own, never from the event loop. */
#ifndef KVMINI_NFS_RPC_CLIENT_H
#define KVMINI_NFS_RPC_CLIENT_H

#include <stdint.h>
#include <sys/socket.h>

#include "nfs/rpc_msg.h"
#include "nfs/xdr.h"

#define PMAP_PROG 100000
#define PMAP_VERS 2
#define PMAP_PORT 111

/* Calls prog/vers/proc at `addr` over `proto` (IPPROTO_UDP: retransmits
 * every second; IPPROTO_TCP: one record mark), with `args` already XDR
 * encoded, AUTH_SYS `cred` or AUTH_NONE (cred NULL). On success the reply's
 * results are copied into `res` (initialised by the caller with
 * xdr_enc_init) and 0 is returned; else -1 with errno (ETIMEDOUT,
 * EPROTO for a reply that is not SUCCESS or does not decode). */
int rpc_client_call(const struct sockaddr *addr, socklen_t addr_len, int proto, uint32_t prog,
		    uint32_t vers, uint32_t proc, const struct rpc_cred *cred, const void *args,
		    size_t args_len, struct xdr_enc *res, int timeout_ms);
/* PMAP v2 GETPORT at addr's host port `pmap_port` (111 normally). Stores
 * the port (0: not registered). Returns 0 or -1. */
int rpc_pmap_getport(const struct sockaddr *addr, socklen_t addr_len, uint16_t pmap_port,
		     uint32_t prog, uint32_t vers, int proto, uint16_t *port, int timeout_ms);
/* PMAP v2 SET/UNSET at 127.0.0.1:111 (registration with a running rpcbind). */
int rpc_pmap_set(uint32_t prog, uint32_t vers, int proto, uint16_t port, int set);

#endif
