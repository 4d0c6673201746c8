/* nlm.h: the NFSv3 lock service: NLM (program 100021, versions 1, 3, 4)
 * with real OFD locks on the exported files, blocked requests granted
 * through callbacks to the client's lock manager, and NSM (program 100024)
 * for reclaiming locks after a restart (state number and client list in
 * the state directory, SM_NOTIFY to the old clients, a grace period).
 *
 * Usage (from `kvmini nfsd`):
 *   struct nlm_service *nlm = nlm_service_new(&cfg);
 *   nlm_service_register(nlm, srv);    // before rpc_server_start
 *   rpc_server_start(srv); nlm_service_start(nlm);
 *   ... rpc_server_stop(srv); nlm_service_free(nlm);
 */
#ifndef KVMINI_NFS_NLM_H
#define KVMINI_NFS_NLM_H

#include <stdint.h>

#include "nfs/rpc_server.h"

struct nlm_service;

struct nlm_config {
	/* Opens the file an NFS handle names (an O_PATH fd is fine); returns
	 * the fd or -errno (-ESTALE for a file that is gone). */
	int (*open_fh)(void *ctx, const uint8_t *fh, uint32_t len);
	void *open_ctx;
	bool read_only;          /* the export refuses writes: no exclusive locks */
	const char *state_dir;   /* NSM state and client list; NULL: none kept */
	unsigned grace_seconds;  /* after a restart with known clients (0: 90) */
	const char *nsm_name;    /* this server's name in SM_NOTIFY */
	uint16_t client_pmap_port; /* the clients' port mappers (0: 111) */
};

struct nlm_service *nlm_service_new(const struct nlm_config *cfg);
/* Adds NLM v1, v3, v4 and NSM v1 to `srv`. Returns 0 or -1. */
int nlm_service_register(struct nlm_service *nlm, struct rpc_server *srv);
/* Starts the service thread: retries blocked locks whose holder is not an
 * NLM client, ends the grace period, notifies the clients of the previous
 * run. Returns 0 or -1. */
int nlm_service_start(struct nlm_service *nlm);
/* Stops the threads and releases every lock. Call after rpc_server_stop. */
void nlm_service_free(struct nlm_service *nlm);

#endif
