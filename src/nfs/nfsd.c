/* nfsd.c: putting the NFS server together: export, RPC server, programs
 * (portmap, MOUNT, NFS), listeners and the optional rpcbind registration. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nfs/export.h"
#include "nfs/fh.h"
#include "nfs/mount.h"
#include "nfs/nlm.h"
#include "nfs/nfs3.h"
#include "nfs/nfsd.h"
#include "nfs/portmap.h"
#include "nfs/rpc_client.h"
#include "util/log.h"

struct nfsd {
	struct nfs_export exp;
	struct nfs_mountd mountd;
	struct rpc_server *srv;
	struct nlm_service *nlm;
	uint16_t port;
	uint16_t pmap_port;
	bool udp;
	bool registered;
};

static int listen_both(struct nfsd *d, const char *addr, bool udp, uint16_t *port)
{
	char spec[160];
	const char *colon;

	if (rpc_server_listen(d->srv, addr, IPPROTO_TCP, port))
		return -1;
	if (!udp)
		return 0;
	/* UDP on the same port as TCP (which may have been picked by the
	 * kernel for port 0). */
	colon = strrchr(addr, ':');
	if ((size_t)(colon - addr) + 8 > sizeof(spec))
		return error("nfsd: address too long");
	memcpy(spec, addr, (size_t)(colon - addr));
	sprintf(spec + (colon - addr), ":%u", *port);
	return rpc_server_listen(d->srv, spec, IPPROTO_UDP, NULL);
}

static int open_fh_for_locks(void *ctx, const uint8_t *fh, uint32_t len)
{
	return fh_open(ctx, fh, len);
}

/* The lock service (NLM, NSM) on the same server; its SM_NOTIFY name
 * defaults to the listen address, which is what clients mounted. */
static int add_lock_service(struct nfsd *d, const struct nfsd_options *opt)
{
	char name[128] = "";
	const char *listen = opt->listen ? opt->listen : "127.0.0.1:2049";
	const char *colon = strrchr(listen, ':');
	struct nlm_config cfg = {
		.open_fh = open_fh_for_locks,
		.open_ctx = &d->exp,
		.read_only = opt->read_only,
		.state_dir = opt->state_dir ? opt->state_dir : "/var/lib/kvmini/nfsd",
		.grace_seconds = opt->grace_seconds,
		.nsm_name = opt->nsm_name,
	};

	if (!cfg.nsm_name && colon && (size_t)(colon - listen) < sizeof(name)) {
		size_t n = (size_t)(colon - listen);

		if (listen[0] == '[' && n >= 2)
			memcpy(name, listen + 1, n - 2);
		else
			memcpy(name, listen, n);
		if (strcmp(name, "0.0.0.0") && strcmp(name, "::"))
			cfg.nsm_name = name;
	}
	d->nlm = nlm_service_new(&cfg);
	return d->nlm ? nlm_service_register(d->nlm, d->srv) : -1;
}

static int register_programs(struct nfsd *d)
{
	mountd_init(&d->mountd, &d->exp);
	return portmap_register(d->srv) || mountd_register(d->srv, &d->mountd) ||
	       nfs3_register(d->srv, &d->exp);
}

struct nfsd *nfsd_create(const struct nfsd_options *opt)
{
	struct nfs_export_options eo = {
		.path = opt->export_path,
		.state_dir = opt->state_dir,
		.read_only = opt->read_only,
		.no_root_squash = opt->no_root_squash,
		.all_squash = opt->all_squash,
		.anon_uid = opt->anon_uid,
		.anon_gid = opt->anon_gid,
	};
	struct rpc_server_config cfg = {
		.workers = opt->workers,
		.max_inflight = opt->max_inflight,
		.max_buffered = opt->max_buffered,
		.max_data = NFS3_MAX_IO,
		.max_record = NFS3_MAX_IO + 64 * 1024,
	};
	struct nfsd *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	if (!opt->export_path || nfs_export_open(&d->exp, &eo)) {
		if (!opt->export_path)
			error("nfsd: no export directory");
		free(d);
		return NULL;
	}
	d->udp = !opt->no_udp;
	d->srv = rpc_server_new(&cfg);
	if (!d->srv || register_programs(d) || (!opt->no_lock && add_lock_service(d, opt)) ||
	    listen_both(d, opt->listen ? opt->listen : "127.0.0.1:2049", d->udp, &d->port) ||
	    (opt->portmap_listen && listen_both(d, opt->portmap_listen, d->udp, &d->pmap_port))) {
		nfsd_destroy(d);
		return NULL;
	}
	if (opt->rpcbind) {
		const struct rpc_program *p;

		for (unsigned i = 0; (p = rpc_server_program(d->srv, i)); i++) {
			if (p->prog == PMAP_PROG)
				continue;
			if (rpc_pmap_set(p->prog, p->vers, IPPROTO_TCP, d->port, 1) ||
			    (d->udp && rpc_pmap_set(p->prog, p->vers, IPPROTO_UDP, d->port, 1))) {
				error_errno("nfsd: cannot register with rpcbind on 127.0.0.1:111");
				nfsd_destroy(d);
				return NULL;
			}
		}
		d->registered = true;
	}
	return d;
}

struct rpc_server *nfsd_rpc_server(struct nfsd *d)
{
	return d->srv;
}

int nfsd_start(struct nfsd *d)
{
	if (rpc_server_start(d->srv))
		return -1;
	return d->nlm ? nlm_service_start(d->nlm) : 0;
}

uint16_t nfsd_port(const struct nfsd *d)
{
	return d->port;
}

uint16_t nfsd_portmap_port(const struct nfsd *d)
{
	return d->pmap_port;
}

const char *nfsd_export_path(const struct nfsd *d)
{
	return d->exp.path;
}

static void unregister(struct nfsd *d)
{
	const struct rpc_program *p;

	for (unsigned i = 0; (p = rpc_server_program(d->srv, i)); i++) {
		if (p->prog == 100000)
			continue;
		rpc_pmap_set(p->prog, p->vers, IPPROTO_TCP, 0, 0);
		if (d->udp)
			rpc_pmap_set(p->prog, p->vers, IPPROTO_UDP, 0, 0);
	}
}

void nfsd_destroy(struct nfsd *d)
{
	if (!d)
		return;
	if (d->registered)
		unregister(d);
	if (d->srv)
		rpc_server_stop(d->srv);
	nlm_service_free(d->nlm);
	rpc_server_free(d->srv);
	mountd_destroy(&d->mountd);
	nfs_export_close(&d->exp);
	free(d);
}
