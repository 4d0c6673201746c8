/* portmap.c: PMAP v2 procedures NULL, SET, UNSET, GETPORT, DUMP over the
 * server's own program table. */
#include "nfs/portmap.h"
#include "nfs/rpc_client.h"

static enum rpc_accept_stat pmap_null(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	return RPC_SUCCESS;
}

static enum rpc_accept_stat pmap_set(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	for (int i = 0; i < 4; i++)
		xdr_u32(&call->args);
	if (call->args.err)
		return RPC_GARBAGE_ARGS;
	xdr_put_bool(&r->enc, false);
	return RPC_SUCCESS;
}

static enum rpc_accept_stat pmap_getport(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	uint32_t prog = xdr_u32(&call->args);
	uint32_t vers = xdr_u32(&call->args);
	uint32_t prot = xdr_u32(&call->args);
	uint32_t port = 0;

	xdr_u32(&call->args);
	if (call->args.err)
		return RPC_GARBAGE_ARGS;
	if ((prot == IPPROTO_TCP || prot == IPPROTO_UDP) && rpc_server_has_program(call->srv, prog, vers))
		port = rpc_server_port(call->srv, (int)prot);
	xdr_put_u32(&r->enc, port);
	return RPC_SUCCESS;
}

static enum rpc_accept_stat pmap_dump(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	static const int protos[] = { IPPROTO_TCP, IPPROTO_UDP };
	const struct rpc_program *p;

	for (unsigned i = 0; (p = rpc_server_program(call->srv, i)); i++) {
		for (int k = 0; k < 2; k++) {
			uint16_t port = rpc_server_port(call->srv, protos[k]);

			if (!port)
				continue;
			xdr_put_bool(&r->enc, true);
			xdr_put_u32(&r->enc, p->prog);
			xdr_put_u32(&r->enc, p->vers);
			xdr_put_u32(&r->enc, (uint32_t)protos[k]);
			xdr_put_u32(&r->enc, port);
		}
	}
	xdr_put_bool(&r->enc, false);
	return RPC_SUCCESS;
}

static const struct rpc_proc pmap_procs[] = {
	{ "NULL", pmap_null, true },
	{ "SET", pmap_set, true },
	{ "UNSET", pmap_set, true },
	{ "GETPORT", pmap_getport, true },
	{ "DUMP", pmap_dump, true },
	{ "CALLIT", NULL, false },
};

int portmap_register(struct rpc_server *srv)
{
	struct rpc_program prog = {
		.prog = PMAP_PROG,
		.vers = PMAP_VERS,
		.name = "portmap",
		.procs = pmap_procs,
		.nprocs = sizeof(pmap_procs) / sizeof(pmap_procs[0]),
	};

	return rpc_server_add_program(srv, &prog);
}
