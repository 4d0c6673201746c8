/* rpc_record.c: fragment reassembly for RPC over TCP. */
#include <stdlib.h>
#include <string.h>

#include "nfs/rpc_record.h"

void rpc_record_init(struct rpc_record_reader *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void rpc_record_free(struct rpc_record_reader *r)
{
	free(r->buf);
	r->buf = NULL;
	r->len = r->cap = 0;
}

void rpc_record_want(struct rpc_record_reader *r, uint8_t **dst, size_t *len)
{
	if (r->hdr_got < 4) {
		*dst = r->hdr + r->hdr_got;
		*len = 4 - r->hdr_got;
	} else {
		*dst = r->buf + r->len;
		*len = r->frag_left;
	}
}

static int grow(struct rpc_record_reader *r, size_t need)
{
	size_t cap = r->cap ? r->cap : 4096;
	uint8_t *p;

	if (need <= r->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	if (cap > r->max)
		cap = r->max;
	p = realloc(r->buf, cap);
	if (!p)
		return -1;
	r->buf = p;
	r->cap = cap;
	return 0;
}

/* A complete fragment header arrived: check it and make room. */
static enum rpc_record_status start_fragment(struct rpc_record_reader *r)
{
	uint32_t h = (uint32_t)r->hdr[0] << 24 | (uint32_t)r->hdr[1] << 16 |
		     (uint32_t)r->hdr[2] << 8 | r->hdr[3];
	uint32_t len = h & ~RPC_RECORD_LAST;

	r->last = !!(h & RPC_RECORD_LAST);
	if (++r->fragments > RPC_RECORD_MAX_FRAGMENTS || len > r->max - r->len)
		return RPC_RECORD_TOO_BIG;
	if (grow(r, r->len + len))
		return RPC_RECORD_NOMEM;
	r->frag_left = len;
	return RPC_RECORD_MORE;
}

static enum rpc_record_status end_fragment(struct rpc_record_reader *r)
{
	r->hdr_got = 0;
	return r->last ? RPC_RECORD_DONE : RPC_RECORD_MORE;
}

enum rpc_record_status rpc_record_got(struct rpc_record_reader *r, size_t n)
{
	enum rpc_record_status st;

	if (r->hdr_got < 4) {
		r->hdr_got += (uint32_t)n;
		if (r->hdr_got < 4)
			return RPC_RECORD_MORE;
		st = start_fragment(r);
		if (st != RPC_RECORD_MORE || r->frag_left)
			return st;
		return end_fragment(r);
	}
	r->len += n;
	r->frag_left -= (uint32_t)n;
	if (r->frag_left)
		return RPC_RECORD_MORE;
	return end_fragment(r);
}

uint8_t *rpc_record_take(struct rpc_record_reader *r, size_t *len)
{
	uint8_t *buf = r->buf;

	*len = r->len;
	r->buf = NULL;
	r->len = r->cap = 0;
	r->hdr_got = 0;
	r->frag_left = 0;
	r->fragments = 0;
	r->last = 0;
	if (!buf)
		buf = malloc(1); /* an empty record still gets a buffer */
	return buf;
}
