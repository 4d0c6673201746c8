/* nfsd.h: the embeddable NFSv3 server: one export served over TCP and UDP
 * on one address (MOUNT v3, NFS v3 and a port mapper on the same port, plus
 * optionally a port mapper on its own address and a registration with the
 * system's rpcbind). `kvmini nfsd` is a thin command around it;
 * `kvmini run --share DIR` can start one inside the monitor.
 *
 *   struct nfsd *d = nfsd_create(&opt);          // binds, registers
 *   rpc_server_add_program(nfsd_rpc_server(d), &nlm);   // optional extras
 *   nfsd_start(d); ... nfsd_destroy(d);          // stop and free
 */
#ifndef KVMINI_NFS_NFSD_H
#define KVMINI_NFS_NFSD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfs/rpc_server.h"

struct nfsd_options {
	const char *export_path;    /* required */
	const char *listen;         /* "ADDR:PORT", default "127.0.0.1:2049" */
	const char *portmap_listen; /* also a port mapper here ("ADDR:111"); NULL: none */
	const char *state_dir;      /* handle keys; default /var/lib/kvmini/nfsd */
	bool read_only;
	bool no_root_squash;
	bool all_squash;
	uint32_t anon_uid, anon_gid; /* 0: 65534 */
	bool no_udp;
	bool rpcbind;               /* register with the system rpcbind (127.0.0.1:111) */
	unsigned workers;           /* 0: default */
	unsigned max_inflight;
	size_t max_buffered;
	bool no_lock;               /* no NLM/NSM (lock service, nfs/nlm.h) */
	unsigned grace_seconds;     /* lock reclaim period after a restart (0: 90) */
	const char *nsm_name;       /* name in SM_NOTIFY (default: the listen address) */
};

struct nfsd;

struct nfsd *nfsd_create(const struct nfsd_options *opt);
/* The RPC server, to add programs (NLM, NSM) before nfsd_start(). */
struct rpc_server *nfsd_rpc_server(struct nfsd *d);
int nfsd_start(struct nfsd *d);
/* The bound NFS port and the extra port mapper's port (0 if none). */
uint16_t nfsd_port(const struct nfsd *d);
uint16_t nfsd_portmap_port(const struct nfsd *d);
const char *nfsd_export_path(const struct nfsd *d);
/* Stops serving, unregisters from rpcbind, frees everything. */
void nfsd_destroy(struct nfsd *d);

#endif
