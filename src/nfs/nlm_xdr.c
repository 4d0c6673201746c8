/* nlm_xdr.c: NLM v1/v3/v4 argument decoding and result encoding. */
#include "nfs/nlm_xdr.h"

#include <string.h>

static struct nlm_netobj netobj(struct xdr_dec *d)
{
	struct nlm_netobj o = { 0 };

	o.data = xdr_opaque_var(d, NLM_MAXNETOBJ, &o.len);
	return o;
}

/* Versions 1 and 3 carry 32-bit offsets and lengths. */
static uint64_t offset(struct xdr_dec *d, uint32_t vers)
{
	return vers >= 4 ? xdr_u64(d) : xdr_u32(d);
}

static int lock_desc(struct xdr_dec *d, uint32_t vers, struct nlm_lock_desc *l)
{
	xdr_string(d, NLM_MAXNAME, l->caller_name);
	l->fh = netobj(d);
	l->oh = netobj(d);
	l->svid = xdr_i32(d);
	l->offset = offset(d, vers);
	l->len = offset(d, vers);
	return d->err ? -1 : 0;
}

static void clear(struct nlm_args *a)
{
	memset(a, 0, sizeof(*a));
}

int nlm_decode_test(struct xdr_dec *d, uint32_t vers, struct nlm_args *a)
{
	clear(a);
	a->cookie = netobj(d);
	a->excl = xdr_bool(d);
	return lock_desc(d, vers, &a->lock);
}

int nlm_decode_lock(struct xdr_dec *d, uint32_t vers, struct nlm_args *a)
{
	clear(a);
	a->cookie = netobj(d);
	a->block = xdr_bool(d);
	a->excl = xdr_bool(d);
	lock_desc(d, vers, &a->lock);
	a->reclaim = xdr_bool(d);
	a->state = xdr_i32(d);
	return d->err ? -1 : 0;
}

int nlm_decode_cancel(struct xdr_dec *d, uint32_t vers, struct nlm_args *a)
{
	clear(a);
	a->cookie = netobj(d);
	a->block = xdr_bool(d);
	a->excl = xdr_bool(d);
	return lock_desc(d, vers, &a->lock);
}

int nlm_decode_unlock(struct xdr_dec *d, uint32_t vers, struct nlm_args *a)
{
	clear(a);
	a->cookie = netobj(d);
	return lock_desc(d, vers, &a->lock);
}

int nlm_decode_share(struct xdr_dec *d, uint32_t vers, struct nlm_args *a)
{
	clear(a);
	a->cookie = netobj(d);
	xdr_string(d, NLM_MAXNAME, a->lock.caller_name);
	a->lock.fh = netobj(d);
	a->lock.oh = netobj(d);
	a->share_mode = xdr_u32(d);
	a->share_access = xdr_u32(d);
	a->reclaim = xdr_bool(d);
	if (!d->err && (a->share_mode > 3 || a->share_access > 3))
		xdr_fail(d);
	return d->err ? -1 : 0;
}

int nlm_decode_res(struct xdr_dec *d, struct nlm_args *a)
{
	clear(a);
	a->cookie = netobj(d);
	a->stat = xdr_u32(d);
	return d->err ? -1 : 0;
}

int nlm_decode_notify(struct xdr_dec *d, uint32_t vers, struct nlm_args *a)
{
	clear(a);
	xdr_string(d, NLM_MAXNAME, a->lock.caller_name);
	a->state = xdr_i32(d);
	return d->err ? -1 : 0;
}

uint32_t nlm_wire_stat(uint32_t vers, enum nlm_stat st)
{
	if (vers >= 4 || st <= NLM_DENIED_GRACE_PERIOD)
		return st;
	return st == NLM_DEADLCK ? NLM_DENIED : NLM_DENIED_NOLOCKS;
}

static void put_netobj(struct xdr_enc *e, struct nlm_netobj o)
{
	xdr_put_opaque_var(e, o.data, o.len);
}

static void put_offset(struct xdr_enc *e, uint32_t vers, uint64_t v)
{
	if (vers >= 4)
		xdr_put_u64(e, v);
	else
		xdr_put_u32(e, v > UINT32_MAX ? UINT32_MAX : (uint32_t)v);
}

void nlm_encode_res(struct xdr_enc *e, uint32_t vers, struct nlm_netobj cookie,
		    enum nlm_stat st)
{
	put_netobj(e, cookie);
	xdr_put_u32(e, nlm_wire_stat(vers, st));
}

void nlm_encode_testres(struct xdr_enc *e, uint32_t vers, struct nlm_netobj cookie,
			enum nlm_stat st, const struct nlm_holder *holder)
{
	nlm_encode_res(e, vers, cookie, st);
	if (st != NLM_DENIED)
		return;
	xdr_put_bool(e, holder->excl);
	xdr_put_u32(e, (uint32_t)holder->svid);
	put_netobj(e, holder->oh);
	put_offset(e, vers, holder->offset);
	put_offset(e, vers, holder->len);
}

void nlm_encode_shareres(struct xdr_enc *e, uint32_t vers, struct nlm_netobj cookie,
			 enum nlm_stat st, int32_t sequence)
{
	nlm_encode_res(e, vers, cookie, st);
	xdr_put_u32(e, (uint32_t)sequence);
}

void nlm_encode_testargs(struct xdr_enc *e, uint32_t vers, struct nlm_netobj cookie, bool excl,
			 const char *caller_name, struct nlm_netobj fh, struct nlm_netobj oh,
			 int32_t svid, uint64_t off, uint64_t len)
{
	put_netobj(e, cookie);
	xdr_put_bool(e, excl);
	xdr_put_string(e, caller_name);
	put_netobj(e, fh);
	put_netobj(e, oh);
	xdr_put_u32(e, (uint32_t)svid);
	put_offset(e, vers, off);
	put_offset(e, vers, len);
}
