/* rpc_msg.c: encoding and decoding of ONC RPC call/reply headers and of
 * AUTH_SYS credentials, with every length checked. */
#include <string.h>

#include "nfs/rpc_msg.h"

int rpc_decode_auth_sys(const uint8_t *body, uint32_t len, struct rpc_cred *cred)
{
	struct xdr_dec d;

	xdr_dec_init(&d, body, len);
	cred->stamp = xdr_u32(&d);
	if (xdr_string(&d, RPC_AUTH_SYS_MAX_NAME, cred->machine))
		return -1;
	cred->uid = xdr_u32(&d);
	cred->gid = xdr_u32(&d);
	cred->ngids = xdr_u32(&d);
	if (d.err || cred->ngids > RPC_AUTH_SYS_MAX_GIDS)
		return -1;
	for (uint32_t i = 0; i < cred->ngids; i++)
		cred->gids[i] = xdr_u32(&d);
	/* The body must be exactly the credential, nothing after it. */
	if (d.err || xdr_dec_left(&d))
		return -1;
	return 0;
}

static void set_anonymous(struct rpc_cred *cred)
{
	memset(cred, 0, sizeof(*cred));
	cred->flavor = RPC_AUTH_NONE;
	cred->uid = 65534;
	cred->gid = 65534;
}

/* opaque_auth: flavor + body<400>. */
static const uint8_t *decode_opaque_auth(struct xdr_dec *d, uint32_t *flavor, uint32_t *len)
{
	*flavor = xdr_u32(d);
	return xdr_opaque_var(d, RPC_AUTH_MAX_BODY, len);
}

enum rpc_header_result rpc_decode_call(struct xdr_dec *d, struct rpc_call_header *h,
				       enum rpc_auth_stat *auth_stat)
{
	uint32_t flavor, len, vflavor, vlen;
	const uint8_t *body;

	memset(h, 0, sizeof(*h));
	*auth_stat = RPC_AUTH_OK;
	h->xid = xdr_u32(d);
	if (d->err)
		return RPC_HDR_GARBAGE;
	if (xdr_u32(d) != RPC_CALL || d->err)
		return RPC_HDR_NOT_CALL;
	h->rpcvers = xdr_u32(d);
	h->prog = xdr_u32(d);
	h->vers = xdr_u32(d);
	h->proc = xdr_u32(d);
	if (d->err)
		return RPC_HDR_GARBAGE;
	if (h->rpcvers != 2)
		return RPC_HDR_BAD_RPCVERS;
	body = decode_opaque_auth(d, &flavor, &len);
	decode_opaque_auth(d, &vflavor, &vlen);
	if (d->err) {
		*auth_stat = RPC_AUTH_BADCRED;
		return RPC_HDR_AUTH_ERROR;
	}
	set_anonymous(&h->cred);
	if (flavor == RPC_AUTH_SYS) {
		if (rpc_decode_auth_sys(body, len, &h->cred)) {
			set_anonymous(&h->cred);
			*auth_stat = RPC_AUTH_BADCRED;
			return RPC_HDR_AUTH_ERROR;
		}
		h->cred.flavor = RPC_AUTH_SYS;
	} else if (flavor != RPC_AUTH_NONE) {
		*auth_stat = RPC_AUTH_TOOWEAK;
		return RPC_HDR_AUTH_ERROR;
	}
	if (vflavor != RPC_AUTH_NONE) {
		*auth_stat = RPC_AUTH_BADVERF;
		return RPC_HDR_AUTH_ERROR;
	}
	return RPC_HDR_OK;
}

static void encode_reply_start(struct xdr_enc *e, uint32_t xid, uint32_t reply_stat)
{
	xdr_put_u32(e, xid);
	xdr_put_u32(e, RPC_REPLY);
	xdr_put_u32(e, reply_stat);
}

void rpc_encode_accepted(struct xdr_enc *e, uint32_t xid, enum rpc_accept_stat stat)
{
	encode_reply_start(e, xid, RPC_MSG_ACCEPTED);
	xdr_put_u32(e, RPC_AUTH_NONE); /* verifier */
	xdr_put_u32(e, 0);
	xdr_put_u32(e, stat);
}

void rpc_encode_prog_mismatch(struct xdr_enc *e, uint32_t xid, uint32_t low, uint32_t high)
{
	rpc_encode_accepted(e, xid, RPC_PROG_MISMATCH);
	xdr_put_u32(e, low);
	xdr_put_u32(e, high);
}

void rpc_encode_rpc_mismatch(struct xdr_enc *e, uint32_t xid)
{
	encode_reply_start(e, xid, RPC_MSG_DENIED);
	xdr_put_u32(e, RPC_MISMATCH);
	xdr_put_u32(e, 2);
	xdr_put_u32(e, 2);
}

void rpc_encode_auth_error(struct xdr_enc *e, uint32_t xid, enum rpc_auth_stat stat)
{
	encode_reply_start(e, xid, RPC_MSG_DENIED);
	xdr_put_u32(e, RPC_AUTH_ERROR);
	xdr_put_u32(e, stat);
}

void rpc_encode_call(struct xdr_enc *e, uint32_t xid, uint32_t prog, uint32_t vers,
		     uint32_t proc, const struct rpc_cred *cred)
{
	xdr_put_u32(e, xid);
	xdr_put_u32(e, RPC_CALL);
	xdr_put_u32(e, 2);
	xdr_put_u32(e, prog);
	xdr_put_u32(e, vers);
	xdr_put_u32(e, proc);
	if (cred && cred->flavor == RPC_AUTH_SYS) {
		size_t at;

		xdr_put_u32(e, RPC_AUTH_SYS);
		at = e->len;
		xdr_put_u32(e, 0);
		xdr_put_u32(e, cred->stamp);
		xdr_put_string(e, cred->machine);
		xdr_put_u32(e, cred->uid);
		xdr_put_u32(e, cred->gid);
		xdr_put_u32(e, cred->ngids);
		for (uint32_t i = 0; i < cred->ngids && i < RPC_AUTH_SYS_MAX_GIDS; i++)
			xdr_put_u32(e, cred->gids[i]);
		xdr_patch_u32(e, at, (uint32_t)(e->len - at - 4));
	} else {
		xdr_put_u32(e, RPC_AUTH_NONE);
		xdr_put_u32(e, 0);
	}
	xdr_put_u32(e, RPC_AUTH_NONE);
	xdr_put_u32(e, 0);
}

int rpc_decode_reply(struct xdr_dec *d, uint32_t xid)
{
	uint32_t flavor, len, stat;

	if (xdr_u32(d) != xid || xdr_u32(d) != RPC_REPLY || d->err)
		return -1;
	if (xdr_u32(d) != RPC_MSG_ACCEPTED || d->err)
		return -1;
	decode_opaque_auth(d, &flavor, &len);
	stat = xdr_u32(d);
	if (d->err)
		return -1;
	return (int)stat;
}
