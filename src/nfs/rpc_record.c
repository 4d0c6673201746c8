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
		size_t room = r->cap - r->len;

		if (r->peek_limit && r->peek_limit - r->len < room)
			room = r->peek_limit - r->len;
		*dst = r->buf + r->len;
		*len = r->frag_left < room ? r->frag_left : room;
	}
}

/* Makes room for more of the current fragment, doubling the buffer (so a
 * client that announces a large fragment and sends little holds little). */
static int grow(struct rpc_record_reader *r)
{
	size_t need = r->len + r->frag_left;
	size_t cap = r->cap ? r->cap * 2 : 4096;
	uint8_t *p;

	if (r->len < r->cap || !r->frag_left)
		return 0;
	if (cap > need)
		cap = need;
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
	r->frag_left = len;
	r->peek_limit = 0;
	if (r->peek_size && r->last && r->fragments == 1 && len > r->peek_size && len >= r->peek_min)
		r->peek_limit = r->peek_size;
	if (grow(r))
		return RPC_RECORD_NOMEM;
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
	if (r->frag_left && r->peek_limit && r->len == r->peek_limit) {
		r->peek_limit = 0;
		return RPC_RECORD_PEEK;
	}
	if (r->frag_left)
		return grow(r) ? RPC_RECORD_NOMEM : RPC_RECORD_MORE;
	return end_fragment(r);
}

enum rpc_record_status rpc_record_skip(struct rpc_record_reader *r, size_t n)
{
	r->peek_limit = 0;
	r->frag_left -= (uint32_t)n;
	if (r->frag_left)
		return grow(r) ? RPC_RECORD_NOMEM : RPC_RECORD_MORE;
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
	r->peek_limit = 0;
	if (!buf)
		buf = malloc(1); /* an empty record still gets a buffer */
	return buf;
}
