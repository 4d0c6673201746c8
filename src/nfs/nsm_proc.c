/* nsm_proc.c: the status monitor program (100024 version 1) as the
 * server-side statd: SM_NOTIFY from a client that restarted releases its
 * locks; SM_STAT answers this server's state number. SM_MON, SM_UNMON and
 * SM_UNMON_ALL are the interface a host's own lock manager uses to ask its
 * local statd to watch peers; kvmini watches its clients itself, so MON
 * answers STAT_FAIL (as rpc.statd does for callers it does not serve) and
 * the UNMONs report the state number. */
#include <string.h>

#include "nfs/nlm_internal.h"
#include "util/log.h"

#define SM_MAXSTRLEN 1024

static uint32_t state_of(struct nlm_service *s)
{
	uint32_t st;

	pthread_mutex_lock(&s->mu);
	st = s->nsm.state;
	pthread_mutex_unlock(&s->mu);
	return st;
}

static enum rpc_accept_stat sm_null(void *o, struct rpc_call *c, struct rpc_reply *r)
{
	return RPC_SUCCESS;
}

static enum rpc_accept_stat sm_stat(void *o, struct rpc_call *c, struct rpc_reply *r)
{
	char name[SM_MAXSTRLEN + 1];

	if (xdr_string(&c->args, SM_MAXSTRLEN, name))
		return nlm_garbage(o, "SM_STAT");
	xdr_put_u32(&r->enc, NSM_STAT_SUCC);
	xdr_put_u32(&r->enc, state_of(o));
	return RPC_SUCCESS;
}

/* mon_id: mon_name, then my_id (my_name, my_prog, my_vers, my_proc). */
static int decode_mon_id(struct xdr_dec *d)
{
	char name[SM_MAXSTRLEN + 1];

	xdr_string(d, SM_MAXSTRLEN, name);
	xdr_string(d, SM_MAXSTRLEN, name);
	xdr_u32(d);
	xdr_u32(d);
	xdr_u32(d);
	return d->err ? -1 : 0;
}

static enum rpc_accept_stat sm_mon(void *o, struct rpc_call *c, struct rpc_reply *r)
{
	if (decode_mon_id(&c->args) || !xdr_opaque_fixed(&c->args, 16))
		return nlm_garbage(o, "SM_MON");
	xdr_put_u32(&r->enc, NSM_STAT_FAIL);
	xdr_put_u32(&r->enc, state_of(o));
	return RPC_SUCCESS;
}

static enum rpc_accept_stat sm_unmon(void *o, struct rpc_call *c, struct rpc_reply *r)
{
	if (decode_mon_id(&c->args))
		return nlm_garbage(o, "SM_UNMON");
	xdr_put_u32(&r->enc, state_of(o));
	return RPC_SUCCESS;
}

static enum rpc_accept_stat sm_unmon_all(void *o, struct rpc_call *c, struct rpc_reply *r)
{
	char name[SM_MAXSTRLEN + 1];

	xdr_string(&c->args, SM_MAXSTRLEN, name);
	xdr_u32(&c->args);
	xdr_u32(&c->args);
	xdr_u32(&c->args);
	if (c->args.err)
		return nlm_garbage(o, "SM_UNMON_ALL");
	xdr_put_u32(&r->enc, state_of(o));
	return RPC_SUCCESS;
}

/* stat_chge: the restarted host's name and its new state. */
static enum rpc_accept_stat sm_notify(void *o, struct rpc_call *c, struct rpc_reply *r)
{
	struct nlm_service *s = o;
	char name[SM_MAXSTRLEN + 1];

	xdr_string(&c->args, SM_MAXSTRLEN, name);
	xdr_i32(&c->args);
	if (c->args.err)
		return nlm_garbage(s, "SM_NOTIFY");
	pthread_mutex_lock(&s->mu);
	nlm_op_client_rebooted(s, name, (const struct sockaddr *)&c->peer, c->peer_len);
	pthread_mutex_unlock(&s->mu);
	return RPC_SUCCESS;
}

static const struct rpc_proc nsm_procs[SM_COUNT] = {
	[SM_NULL] = { "NULL", sm_null, true },
	[SM_STAT] = { "STAT", sm_stat, true },
	[SM_MON] = { "MON", sm_mon, true },
	[SM_UNMON] = { "UNMON", sm_unmon, true },
	[SM_UNMON_ALL] = { "UNMON_ALL", sm_unmon_all, true },
	[SM_NOTIFY] = { "NOTIFY", sm_notify, false },
};

int nsm_register_program(struct nlm_service *s, struct rpc_server *srv)
{
	struct rpc_program p = {
		.prog = NSM_PROG,
		.vers = NSM_VERS,
		.name = "status",
		.procs = nsm_procs,
		.nprocs = SM_COUNT,
		.opaque = s,
	};

	if (rpc_server_add_program(srv, &p))
		return error("nsm: cannot add the status monitor program");
	return 0;
}
