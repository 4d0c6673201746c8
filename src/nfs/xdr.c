/* xdr.c: bounded XDR decoder and growing XDR encoder. */
#include <stdlib.h>
#include <string.h>

#include "nfs/xdr.h"

static const uint8_t *take(struct xdr_dec *d, size_t n)
{
	const uint8_t *p;

	if (d->err || n > d->len - d->pos) {
		d->err = true;
		return NULL;
	}
	p = d->buf + d->pos;
	d->pos += n;
	return p;
}

uint32_t xdr_u32(struct xdr_dec *d)
{
	const uint8_t *p = take(d, 4);

	if (!p)
		return 0;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int32_t xdr_i32(struct xdr_dec *d)
{
	return (int32_t)xdr_u32(d);
}

uint64_t xdr_u64(struct xdr_dec *d)
{
	uint64_t hi = xdr_u32(d);

	return hi << 32 | xdr_u32(d);
}

bool xdr_bool(struct xdr_dec *d)
{
	uint32_t v = xdr_u32(d);

	if (v > 1)
		d->err = true;
	return v == 1 && !d->err;
}

const uint8_t *xdr_opaque_fixed(struct xdr_dec *d, uint32_t len)
{
	uint32_t pad = xdr_pad(len);
	const uint8_t *p;

	if (d->err || (size_t)len + pad > d->len - d->pos) {
		d->err = true;
		return NULL;
	}
	p = take(d, (size_t)len + pad);
	return p;
}

const uint8_t *xdr_opaque_rest(struct xdr_dec *d, uint32_t n, uint32_t total)
{
	uint32_t pad = xdr_pad(total);

	if (d->err || n > total || (size_t)n + pad > d->len - d->pos) {
		d->err = true;
		return NULL;
	}
	return take(d, (size_t)n + pad);
}

const uint8_t *xdr_opaque_var(struct xdr_dec *d, uint32_t max, uint32_t *len)
{
	uint32_t n = xdr_u32(d);

	*len = 0;
	if (d->err || n > max) {
		d->err = true;
		return NULL;
	}
	*len = n;
	return xdr_opaque_fixed(d, n);
}

int xdr_string(struct xdr_dec *d, uint32_t max, char *out)
{
	uint32_t n;
	const uint8_t *p = xdr_opaque_var(d, max, &n);

	out[0] = 0;
	if (!p)
		return -1;
	if (memchr(p, 0, n)) {
		d->err = true;
		return -1;
	}
	memcpy(out, p, n);
	out[n] = 0;
	return 0;
}

void xdr_skip(struct xdr_dec *d, uint32_t n)
{
	xdr_opaque_fixed(d, n);
}

void xdr_enc_init(struct xdr_enc *e, size_t max)
{
	memset(e, 0, sizeof(*e));
	e->max = max;
}

void xdr_enc_free(struct xdr_enc *e)
{
	free(e->buf);
	e->buf = NULL;
	e->len = e->cap = 0;
}

uint8_t *xdr_reserve(struct xdr_enc *e, size_t n)
{
	uint8_t *p;

	if (e->err || n > e->max - e->len) {
		e->err = true;
		return NULL;
	}
	if (e->len + n > e->cap) {
		size_t cap = e->cap ? e->cap : 512;

		while (cap < e->len + n)
			cap *= 2;
		if (cap > e->max)
			cap = e->max;
		p = realloc(e->buf, cap);
		if (!p) {
			e->err = true;
			return NULL;
		}
		e->buf = p;
		e->cap = cap;
	}
	p = e->buf + e->len;
	e->len += n;
	return p;
}

static void store_u32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

void xdr_put_u32(struct xdr_enc *e, uint32_t v)
{
	uint8_t *p = xdr_reserve(e, 4);

	if (p)
		store_u32(p, v);
}

void xdr_put_u64(struct xdr_enc *e, uint64_t v)
{
	xdr_put_u32(e, v >> 32);
	xdr_put_u32(e, (uint32_t)v);
}

void xdr_put_opaque_fixed(struct xdr_enc *e, const void *src, uint32_t len)
{
	uint32_t pad = xdr_pad(len);
	uint8_t *p = xdr_reserve(e, (size_t)len + pad);

	if (!p)
		return;
	if (len)
		memcpy(p, src, len);
	memset(p + len, 0, pad);
}

void xdr_put_opaque_var(struct xdr_enc *e, const void *p, uint32_t len)
{
	xdr_put_u32(e, len);
	xdr_put_opaque_fixed(e, p, len);
}

void xdr_put_string(struct xdr_enc *e, const char *s)
{
	xdr_put_opaque_var(e, s, (uint32_t)strlen(s));
}

void xdr_patch_u32(struct xdr_enc *e, size_t offset, uint32_t v)
{
	if (!e->err && offset + 4 <= e->len)
		store_u32(e->buf + offset, v);
}
