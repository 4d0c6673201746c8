/* nlm_proc.c: the NLM program (100021, versions 1, 3 and 4): decoding each
 * procedure's arguments, running it under the service lock and encoding
 * the result, or for the _MSG forms sending it back as a _RES call. */
#include <netinet/in.h>
#include <string.h>

#include "nfs/nlm_internal.h"
#include "util/log.h"

enum rpc_accept_stat nlm_garbage(struct nlm_service *s, const char *what)
{
	pthread_mutex_lock(&s->mu);
	s->stats.bad_args++;
	if (!s->warned_bad_args) {
		s->warned_bad_args = true;
		warn("nlm: malformed %s arguments (further ones are only counted)", what);
	}
	pthread_mutex_unlock(&s->mu);
	return RPC_GARBAGE_ARGS;
}

typedef int (*decode_fn)(struct xdr_dec *d, uint32_t vers, struct nlm_args *a);

static struct nlm_request request(const struct rpc_call *call, const struct nlm_args *a,
				  bool monitored)
{
	return (struct nlm_request){
		.a = a,
		.vers = call->h.vers,
		.proto = call->proto,
		.peer = (const struct sockaddr *)&call->peer,
		.peer_len = call->peer_len,
		.monitored = monitored,
	};
}

static enum rpc_accept_stat proc_null(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	return RPC_SUCCESS;
}

/* The _MSG forms answer through a call to the client's matching _RES
 * procedure; the RPC reply itself is empty, as Linux's lockd sends. */
static enum rpc_accept_stat finish(struct nlm_service *s, struct rpc_call *call,
				   struct rpc_reply *r, struct xdr_enc *res, uint32_t res_proc)
{
	if (!res_proc) {
		size_t n = res->len;
		uint8_t *p = xdr_reserve(&r->enc, n);

		if (!p && n) {
			xdr_enc_free(res);
			return RPC_SYSTEM_ERR;
		}
		if (n)
			memcpy(p, res->buf, n);
		xdr_enc_free(res);
		return RPC_SUCCESS;
	}
	pthread_mutex_lock(&s->mu);
	nlm_queue_res(s, (const struct sockaddr *)&call->peer, call->peer_len, call->proto,
		      call->h.vers, res_proc, res);
	pthread_mutex_unlock(&s->mu);
	return RPC_SUCCESS;
}

static enum rpc_accept_stat do_test(void *opaque, struct rpc_call *call, struct rpc_reply *r,
				    uint32_t res_proc)
{
	struct nlm_service *s = opaque;
	struct nlm_args a;
	struct nlm_holder holder;
	uint8_t oh[NLM_MAXNETOBJ];
	struct nlm_request rq;
	struct xdr_enc res;
	enum nlm_stat st;

	if (nlm_decode_test(&call->args, call->h.vers, &a))
		return nlm_garbage(s, "TEST");
	rq = request(call, &a, false);
	memset(&holder, 0, sizeof(holder));
	pthread_mutex_lock(&s->mu);
	st = nlm_op_test(s, &rq, &holder, oh);
	pthread_mutex_unlock(&s->mu);
	xdr_enc_init(&res, 4096);
	nlm_encode_testres(&res, call->h.vers, a.cookie, st, &holder);
	return finish(s, call, r, &res, res_proc);
}

typedef enum nlm_stat (*op_fn)(struct nlm_service *s, const struct nlm_request *rq);

static enum nlm_stat op_nm_lock(struct nlm_service *s, const struct nlm_request *rq)
{
	return nlm_op_lock(s, rq);
}

static enum rpc_accept_stat do_simple(void *opaque, struct rpc_call *call, struct rpc_reply *r,
				      decode_fn decode, op_fn op, const char *name,
				      uint32_t res_proc, bool monitored)
{
	struct nlm_service *s = opaque;
	struct nlm_args a;
	struct nlm_request rq;
	struct xdr_enc res;
	enum nlm_stat st;

	if (decode(&call->args, call->h.vers, &a))
		return nlm_garbage(s, name);
	if (!monitored)
		a.block = false; /* NM_LOCK never blocks */
	rq = request(call, &a, monitored);
	pthread_mutex_lock(&s->mu);
	st = op(s, &rq);
	pthread_mutex_unlock(&s->mu);
	xdr_enc_init(&res, 2048);
	nlm_encode_res(&res, call->h.vers, a.cookie, st);
	return finish(s, call, r, &res, res_proc);
}

#define SIMPLE(fname, decode, op, label, res_proc, monitored)                                  \
	static enum rpc_accept_stat fname(void *o, struct rpc_call *c, struct rpc_reply *r)  \
	{                                                                                     \
		return do_simple(o, c, r, decode, op, label, res_proc, monitored);            \
	}

SIMPLE(proc_lock, nlm_decode_lock, nlm_op_lock, "LOCK", 0, true)
SIMPLE(proc_cancel, nlm_decode_cancel, nlm_op_cancel, "CANCEL", 0, true)
SIMPLE(proc_unlock, nlm_decode_unlock, nlm_op_unlock, "UNLOCK", 0, true)
SIMPLE(proc_lock_msg, nlm_decode_lock, nlm_op_lock, "LOCK_MSG", NLMPROC_LOCK_RES, true)
SIMPLE(proc_cancel_msg, nlm_decode_cancel, nlm_op_cancel, "CANCEL_MSG", NLMPROC_CANCEL_RES, true)
SIMPLE(proc_unlock_msg, nlm_decode_unlock, nlm_op_unlock, "UNLOCK_MSG", NLMPROC_UNLOCK_RES, true)
SIMPLE(proc_nm_lock, nlm_decode_lock, op_nm_lock, "NM_LOCK", 0, false)

static enum rpc_accept_stat proc_test(void *o, struct rpc_call *c, struct rpc_reply *r)
{
	return do_test(o, c, r, 0);
}

static enum rpc_accept_stat proc_test_msg(void *o, struct rpc_call *c, struct rpc_reply *r)
{
	return do_test(o, c, r, NLMPROC_TEST_RES);
}

/* GRANTED is meant for a client's lock manager: nothing of ours waits. */
static enum rpc_accept_stat proc_granted(void *o, struct rpc_call *c, struct rpc_reply *r)
{
	struct nlm_args a;

	if (nlm_decode_test(&c->args, c->h.vers, &a))
		return nlm_garbage(o, "GRANTED");
	nlm_encode_res(&r->enc, c->h.vers, a.cookie, NLM_DENIED);
	return RPC_SUCCESS;
}

static enum rpc_accept_stat proc_granted_msg(void *o, struct rpc_call *c, struct rpc_reply *r)
{
	struct nlm_args a;

	if (nlm_decode_test(&c->args, c->h.vers, &a))
		return nlm_garbage(o, "GRANTED_MSG");
	return RPC_SUCCESS;
}

/* Answers to calls we never make (TEST_RES...UNLOCK_RES) are dropped;
 * GRANTED_RES settles a GRANTED callback by its cookie. */
static enum rpc_accept_stat proc_res(void *o, struct rpc_call *c, struct rpc_reply *r)
{
	struct nlm_service *s = o;
	struct nlm_args a;

	if (nlm_decode_res(&c->args, &a))
		return nlm_garbage(s, "_RES");
	if (c->h.proc == NLMPROC_GRANTED_RES) {
		pthread_mutex_lock(&s->mu);
		nlm_granted_answer(s, a.cookie, a.stat);
		pthread_mutex_unlock(&s->mu);
	}
	return RPC_SUCCESS;
}

static enum rpc_accept_stat do_share(void *opaque, struct rpc_call *call, struct rpc_reply *r,
				     bool unshare)
{
	struct nlm_service *s = opaque;
	struct nlm_args a;
	struct nlm_request rq;
	enum nlm_stat st;

	if (nlm_decode_share(&call->args, call->h.vers, &a))
		return nlm_garbage(s, unshare ? "UNSHARE" : "SHARE");
	rq = request(call, &a, true);
	pthread_mutex_lock(&s->mu);
	st = nlm_op_share(s, &rq, unshare);
	pthread_mutex_unlock(&s->mu);
	nlm_encode_shareres(&r->enc, call->h.vers, a.cookie, st, 0);
	return RPC_SUCCESS;
}

static enum rpc_accept_stat proc_share(void *o, struct rpc_call *c, struct rpc_reply *r)
{
	return do_share(o, c, r, false);
}

static enum rpc_accept_stat proc_unshare(void *o, struct rpc_call *c, struct rpc_reply *r)
{
	return do_share(o, c, r, true);
}

static enum rpc_accept_stat proc_free_all(void *o, struct rpc_call *c, struct rpc_reply *r)
{
	struct nlm_service *s = o;
	struct nlm_args a;

	if (nlm_decode_notify(&c->args, c->h.vers, &a))
		return nlm_garbage(s, "FREE_ALL");
	pthread_mutex_lock(&s->mu);
	nlm_op_client_rebooted(s, a.lock.caller_name, (const struct sockaddr *)&c->peer,
			       c->peer_len);
	pthread_mutex_unlock(&s->mu);
	return RPC_SUCCESS;
}

static const struct rpc_proc nlm_procs[NLMPROC_COUNT] = {
	[NLMPROC_NULL] = { "NULL", proc_null, true },
	[NLMPROC_TEST] = { "TEST", proc_test, false },
	[NLMPROC_LOCK] = { "LOCK", proc_lock, false },
	[NLMPROC_CANCEL] = { "CANCEL", proc_cancel, false },
	[NLMPROC_UNLOCK] = { "UNLOCK", proc_unlock, false },
	[NLMPROC_GRANTED] = { "GRANTED", proc_granted, true },
	[NLMPROC_TEST_MSG] = { "TEST_MSG", proc_test_msg, false },
	[NLMPROC_LOCK_MSG] = { "LOCK_MSG", proc_lock_msg, false },
	[NLMPROC_CANCEL_MSG] = { "CANCEL_MSG", proc_cancel_msg, false },
	[NLMPROC_UNLOCK_MSG] = { "UNLOCK_MSG", proc_unlock_msg, false },
	[NLMPROC_GRANTED_MSG] = { "GRANTED_MSG", proc_granted_msg, true },
	[NLMPROC_TEST_RES] = { "TEST_RES", proc_res, true },
	[NLMPROC_LOCK_RES] = { "LOCK_RES", proc_res, true },
	[NLMPROC_CANCEL_RES] = { "CANCEL_RES", proc_res, true },
	[NLMPROC_UNLOCK_RES] = { "UNLOCK_RES", proc_res, true },
	[NLMPROC_GRANTED_RES] = { "GRANTED_RES", proc_res, false },
	[NLMPROC_SHARE] = { "SHARE", proc_share, false },
	[NLMPROC_UNSHARE] = { "UNSHARE", proc_unshare, false },
	[NLMPROC_NM_LOCK] = { "NM_LOCK", proc_nm_lock, false },
	[NLMPROC_FREE_ALL] = { "FREE_ALL", proc_free_all, false },
};

int nlm_register_programs(struct nlm_service *s, struct rpc_server *srv)
{
	/* Version 1 ends at GRANTED_RES; 3 and 4 add SHARE..FREE_ALL. */
	static const uint32_t versions[] = { 1, 3, 4 };

	for (unsigned i = 0; i < 3; i++) {
		struct rpc_program p = {
			.prog = NLM_PROG,
			.vers = versions[i],
			.name = "nlockmgr",
			.procs = nlm_procs,
			.nprocs = versions[i] == 1 ? NLMPROC_GRANTED_RES + 1 : NLMPROC_COUNT,
			.opaque = s,
		};

		if (rpc_server_add_program(srv, &p))
			return error("nlm: cannot add NLM version %u", versions[i]);
	}
	return 0;
}
