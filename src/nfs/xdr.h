/* xdr.h: XDR (RFC 4506) decoding and encoding over bounded buffers.
 * The decoder checks every length and count against the bytes left in the
 * message; a failed read sets `err`, returns zeros, and every later read
 * fails too, so callers check `err` once after decoding a whole argument. */
#ifndef KVMINI_NFS_XDR_H
#define KVMINI_NFS_XDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct xdr_dec {
	const uint8_t *buf;
	size_t len;
	size_t pos;
	bool err;
};

static inline void xdr_dec_init(struct xdr_dec *d, const void *buf, size_t len)
{
	d->buf = buf;
	d->len = len;
	d->pos = 0;
	d->err = false;
}

static inline size_t xdr_dec_left(const struct xdr_dec *d)
{
	return d->err ? 0 : d->len - d->pos;
}

uint32_t xdr_u32(struct xdr_dec *d);
int32_t xdr_i32(struct xdr_dec *d);
uint64_t xdr_u64(struct xdr_dec *d);
/* A bool must be 0 or 1; anything else is an error. */
bool xdr_bool(struct xdr_dec *d);
/* Fixed-length opaque of `len` bytes (plus padding): returns a pointer into
 * the message, or NULL on error. */
const uint8_t *xdr_opaque_fixed(struct xdr_dec *d, uint32_t len);
/* The last `n` bytes of an opaque of `total` bytes whose first part was
 * taken elsewhere (bulk data), then the padding of `total`: returns a
 * pointer into the message, or NULL on error. */
const uint8_t *xdr_opaque_rest(struct xdr_dec *d, uint32_t n, uint32_t total);
/* Variable-length opaque<max>: stores its length in *len. */
const uint8_t *xdr_opaque_var(struct xdr_dec *d, uint32_t max, uint32_t *len);
/* string<max>, copied NUL-terminated into out[max + 1]; refuses embedded
 * NUL bytes. Returns 0 or -1. */
int xdr_string(struct xdr_dec *d, uint32_t max, char *out);
/* Skips `n` bytes (plus padding). */
void xdr_skip(struct xdr_dec *d, uint32_t n);
/* Marks the decoder failed (for semantic errors found by the caller). */
static inline void xdr_fail(struct xdr_dec *d)
{
	d->err = true;
}

/* Encoder over a buffer that grows up to `max` bytes (then `err` is set).
 * `buf` is malloc'ed; xdr_enc_free() releases it. */
struct xdr_enc {
	uint8_t *buf;
	size_t len;
	size_t cap;
	size_t max;
	bool err;
};

void xdr_enc_init(struct xdr_enc *e, size_t max);
void xdr_enc_free(struct xdr_enc *e);
/* Reserves n bytes and returns a pointer to them (NULL on error). */
uint8_t *xdr_reserve(struct xdr_enc *e, size_t n);
void xdr_put_u32(struct xdr_enc *e, uint32_t v);
void xdr_put_u64(struct xdr_enc *e, uint64_t v);
static inline void xdr_put_bool(struct xdr_enc *e, bool v)
{
	xdr_put_u32(e, v ? 1 : 0);
}
void xdr_put_opaque_fixed(struct xdr_enc *e, const void *p, uint32_t len);
void xdr_put_opaque_var(struct xdr_enc *e, const void *p, uint32_t len);
void xdr_put_string(struct xdr_enc *e, const char *s);
/* Overwrites a u32 already encoded at `offset` (e.g. a count known late). */
void xdr_patch_u32(struct xdr_enc *e, size_t offset, uint32_t v);
/* Bytes of padding after an opaque of `len` bytes. */
static inline uint32_t xdr_pad(uint32_t len)
{
	return (4 - (len & 3)) & 3;
}

#endif
