/* test_nfs_xdr.c: the XDR decoder, record marking and RPC header parsing
 * of the NFS server against truncated, oversized and lying input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "nfs/rpc_msg.h"
#include "nfs/rpc_record.h"
#include "nfs/xdr.h"

static void u32_and_u64(void **state)
{
	const uint8_t buf[] = { 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2 };
	struct xdr_dec d;

	xdr_dec_init(&d, buf, sizeof(buf));
	assert_int_equal(xdr_u32(&d), 7);
	assert_true(xdr_u64(&d) == ((1ULL << 32) | 2));
	assert_false(d.err);
	assert_int_equal(xdr_u32(&d), 0); /* past the end */
	assert_true(d.err);
	assert_int_equal(xdr_u32(&d), 0); /* and stays failed */
}

static void short_reads_fail(void **state)
{
	const uint8_t buf[] = { 0, 0, 0 };
	struct xdr_dec d;

	xdr_dec_init(&d, buf, sizeof(buf));
	xdr_u32(&d);
	assert_true(d.err);
	xdr_dec_init(&d, buf, 0);
	xdr_u64(&d);
	assert_true(d.err);
}

/* The tail of an opaque whose head went elsewhere (a WRITE whose pipe
 * filled): its bytes, then the padding of the whole opaque. */
static void opaque_rest_pads_the_whole(void **state)
{
	/* an opaque of 6 bytes whose first 3 were spliced: "def", 2 pad bytes */
	const uint8_t rest[] = { 'd', 'e', 'f', 0, 0 };
	struct xdr_dec d;
	const uint8_t *p;

	xdr_dec_init(&d, rest, sizeof(rest));
	p = xdr_opaque_rest(&d, 3, 6);
	assert_non_null(p);
	assert_memory_equal(p, "def", 3);
	assert_int_equal(xdr_dec_left(&d), 0);

	xdr_dec_init(&d, rest, sizeof(rest) - 1); /* padding cut short */
	assert_null(xdr_opaque_rest(&d, 3, 6));
	assert_true(d.err);

	xdr_dec_init(&d, rest, sizeof(rest));
	assert_null(xdr_opaque_rest(&d, 7, 6)); /* more than the whole */
	assert_true(d.err);
}

static void opaque_lengths_checked(void **state)
{
	/* length 5, 5 bytes, 3 bytes of padding */
	const uint8_t ok[] = { 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o', 0, 0, 0 };
	/* length 0xffffffff with 4 bytes */
	const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c', 'd' };
	/* length 5 but the padding is missing */
	const uint8_t nopad[] = { 0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o' };
	struct xdr_dec d;
	uint32_t len;
	const uint8_t *p;

	xdr_dec_init(&d, ok, sizeof(ok));
	p = xdr_opaque_var(&d, 16, &len);
	assert_non_null(p);
	assert_int_equal(len, 5);
	assert_memory_equal(p, "hello", 5);
	assert_int_equal(xdr_dec_left(&d), 0);

	xdr_dec_init(&d, ok, sizeof(ok));
	assert_null(xdr_opaque_var(&d, 4, &len)); /* over the maximum */
	assert_true(d.err);

	xdr_dec_init(&d, huge, sizeof(huge));
	assert_null(xdr_opaque_var(&d, UINT32_MAX, &len));
	assert_true(d.err);

	xdr_dec_init(&d, nopad, sizeof(nopad));
	assert_null(xdr_opaque_var(&d, 16, &len));
	assert_true(d.err);
}

static void strings_refuse_nul(void **state)
{
	const uint8_t bad[] = { 0, 0, 0, 3, 'a', 0, 'b', 0 };
	const uint8_t good[] = { 0, 0, 0, 3, 'a', 'b', 'c', 0 };
	char out[8];
	struct xdr_dec d;

	xdr_dec_init(&d, bad, sizeof(bad));
	assert_int_equal(xdr_string(&d, 7, out), -1);
	xdr_dec_init(&d, good, sizeof(good));
	assert_int_equal(xdr_string(&d, 7, out), 0);
	assert_string_equal(out, "abc");
	xdr_dec_init(&d, good, sizeof(good));
	assert_int_equal(xdr_string(&d, 2, out), -1);
}

static void bools_are_0_or_1(void **state)
{
	const uint8_t buf[] = { 0, 0, 0, 1, 0, 0, 0, 2 };
	struct xdr_dec d;

	xdr_dec_init(&d, buf, sizeof(buf));
	assert_true(xdr_bool(&d));
	assert_false(xdr_bool(&d));
	assert_true(d.err);
}

static void encoder_limits(void **state)
{
	struct xdr_enc e;

	xdr_enc_init(&e, 12);
	xdr_put_u32(&e, 1);
	xdr_put_opaque_var(&e, "abc", 3);
	assert_false(e.err);
	assert_int_equal(e.len, 12);
	assert_memory_equal(e.buf + 4, "\0\0\0\3abc\0", 8);
	xdr_put_u32(&e, 2);
	assert_true(e.err);
	xdr_enc_free(&e);
}

static enum rpc_record_status feed(struct rpc_record_reader *r, const uint8_t *data, size_t len)
{
	enum rpc_record_status st = RPC_RECORD_MORE;

	while (len) {
		uint8_t *dst;
		size_t want;

		rpc_record_want(r, &dst, &want);
		if (want > len)
			want = len;
		memcpy(dst, data, want);
		st = rpc_record_got(r, want);
		if (st != RPC_RECORD_MORE)
			return st;
		data += want;
		len -= want;
	}
	return st;
}

static void records_reassembled(void **state)
{
	const uint8_t stream[] = { 0, 0, 0, 2, 'a', 'b', 0x80, 0, 0, 3, 'c', 'd', 'e' };
	struct rpc_record_reader r;
	uint8_t *rec;
	size_t len;

	rpc_record_init(&r, 100);
	/* Byte by byte: a fragment header split anywhere. */
	for (size_t i = 0; i < sizeof(stream); i++) {
		enum rpc_record_status st = feed(&r, stream + i, 1);

		assert_int_equal(st, i == sizeof(stream) - 1 ? RPC_RECORD_DONE : RPC_RECORD_MORE);
	}
	rec = rpc_record_take(&r, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(rec, "abcde", 5);
	free(rec);
	assert_true(rpc_record_idle(&r));
	rpc_record_free(&r);
}

static void records_bounded(void **state)
{
	const uint8_t big[] = { 0x80, 0, 0, 101 };
	const uint8_t two[] = { 0, 0, 0, 60, 0x80, 0, 0, 60 };
	const uint8_t empty[] = { 0, 0, 0, 0 };
	struct rpc_record_reader r;
	uint8_t body[60] = { 0 };

	rpc_record_init(&r, 100);
	assert_int_equal(feed(&r, big, sizeof(big)), RPC_RECORD_TOO_BIG);
	rpc_record_free(&r);

	/* Two fragments of 60: the second takes the record over 100. */
	rpc_record_init(&r, 100);
	assert_int_equal(feed(&r, two, 4), RPC_RECORD_MORE);
	assert_int_equal(feed(&r, body, 60), RPC_RECORD_MORE);
	assert_int_equal(feed(&r, two + 4, 4), RPC_RECORD_TOO_BIG);
	rpc_record_free(&r);

	/* Endless empty fragments. */
	rpc_record_init(&r, 100);
	for (int i = 0; i < RPC_RECORD_MAX_FRAGMENTS; i++)
		assert_int_equal(feed(&r, empty, 4), RPC_RECORD_MORE);
	assert_int_equal(feed(&r, empty, 4), RPC_RECORD_TOO_BIG);
	rpc_record_free(&r);
}

static void records_peek_and_skip(void **state)
{
	uint8_t stream[4 + 40];
	struct rpc_record_reader r;
	uint8_t *dst, *rec;
	size_t want, len;

	stream[0] = 0x80;
	stream[1] = stream[2] = 0;
	stream[3] = 40;
	for (int i = 0; i < 40; i++)
		stream[4 + i] = (uint8_t)i;
	rpc_record_init(&r, 100);
	r.peek_size = 8;
	r.peek_min = 16;
	assert_int_equal(feed(&r, stream, 4), RPC_RECORD_MORE);
	rpc_record_want(&r, &dst, &want);
	assert_int_equal(want, 8); /* only the peek */
	memcpy(dst, stream + 4, 8);
	assert_int_equal(rpc_record_got(&r, 8), RPC_RECORD_PEEK);
	assert_int_equal(rpc_record_frag_left(&r), 32);
	/* The caller takes 30 bytes itself; 2 more come through the buffer. */
	assert_int_equal(rpc_record_skip(&r, 30), RPC_RECORD_MORE);
	assert_int_equal(feed(&r, stream + 4 + 38, 2), RPC_RECORD_DONE);
	rec = rpc_record_take(&r, &len);
	assert_int_equal(len, 10);
	assert_memory_equal(rec, stream + 4, 8);
	assert_int_equal(rec[8], 38);
	free(rec);
	/* Short records and multi-fragment ones are never peeked. */
	stream[3] = 12;
	assert_int_equal(feed(&r, stream, 4 + 12), RPC_RECORD_DONE);
	free(rpc_record_take(&r, &len));
	assert_int_equal(len, 12);
	rpc_record_free(&r);
}

static size_t build_call(uint8_t *buf, uint32_t flavor, const uint8_t *cred, uint32_t cred_len)
{
	struct xdr_enc e;
	size_t len;

	xdr_enc_init(&e, 1024);
	xdr_put_u32(&e, 42);    /* xid */
	xdr_put_u32(&e, 0);     /* CALL */
	xdr_put_u32(&e, 2);
	xdr_put_u32(&e, 100003);
	xdr_put_u32(&e, 3);
	xdr_put_u32(&e, 1);
	xdr_put_u32(&e, flavor);
	xdr_put_opaque_var(&e, cred, cred_len);
	xdr_put_u32(&e, 0);
	xdr_put_u32(&e, 0);
	xdr_put_u32(&e, 0xabcdef01); /* an argument */
	len = e.len;
	memcpy(buf, e.buf, len);
	xdr_enc_free(&e);
	return len;
}

static size_t auth_sys_body(uint8_t *buf, uint32_t ngids, uint32_t claimed_gids)
{
	struct xdr_enc e;
	size_t len;

	xdr_enc_init(&e, 1024);
	xdr_put_u32(&e, 1);
	xdr_put_string(&e, "host");
	xdr_put_u32(&e, 1000);
	xdr_put_u32(&e, 100);
	xdr_put_u32(&e, claimed_gids);
	for (uint32_t i = 0; i < ngids; i++)
		xdr_put_u32(&e, 10 + i);
	len = e.len;
	memcpy(buf, e.buf, len);
	xdr_enc_free(&e);
	return len;
}

static void call_headers(void **state)
{
	uint8_t cred[512], msg[1024];
	struct rpc_call_header h;
	enum rpc_auth_stat auth;
	struct xdr_dec d;
	size_t clen, mlen;

	clen = auth_sys_body(cred, 2, 2);
	mlen = build_call(msg, RPC_AUTH_SYS, cred, (uint32_t)clen);
	xdr_dec_init(&d, msg, mlen);
	assert_int_equal(rpc_decode_call(&d, &h, &auth), RPC_HDR_OK);
	assert_int_equal(h.xid, 42);
	assert_int_equal(h.prog, 100003);
	assert_int_equal(h.cred.uid, 1000);
	assert_int_equal(h.cred.ngids, 2);
	assert_string_equal(h.cred.machine, "host");
	assert_int_equal(xdr_u32(&d), 0xabcdef01);

	/* 17 groups, one too many. */
	clen = auth_sys_body(cred, 17, 17);
	mlen = build_call(msg, RPC_AUTH_SYS, cred, (uint32_t)clen);
	xdr_dec_init(&d, msg, mlen);
	assert_int_equal(rpc_decode_call(&d, &h, &auth), RPC_HDR_AUTH_ERROR);
	assert_int_equal(auth, RPC_AUTH_BADCRED);

	/* Claims 5 groups, carries 2. */
	clen = auth_sys_body(cred, 2, 5);
	mlen = build_call(msg, RPC_AUTH_SYS, cred, (uint32_t)clen);
	xdr_dec_init(&d, msg, mlen);
	assert_int_equal(rpc_decode_call(&d, &h, &auth), RPC_HDR_AUTH_ERROR);

	/* Unknown flavour. */
	mlen = build_call(msg, 6, cred, 4);
	xdr_dec_init(&d, msg, mlen);
	assert_int_equal(rpc_decode_call(&d, &h, &auth), RPC_HDR_AUTH_ERROR);
	assert_int_equal(auth, RPC_AUTH_TOOWEAK);

	/* Every truncation of a good call is refused, never read past. */
	clen = auth_sys_body(cred, 2, 2);
	mlen = build_call(msg, RPC_AUTH_SYS, cred, (uint32_t)clen);
	for (size_t cut = 0; cut < mlen - 4; cut++) {
		uint8_t *copy = malloc(cut ? cut : 1);

		memcpy(copy, msg, cut);
		xdr_dec_init(&d, copy, cut);
		assert_int_not_equal(rpc_decode_call(&d, &h, &auth), RPC_HDR_OK);
		free(copy);
	}
}

static void replies_encoded(void **state)
{
	struct xdr_enc e;
	struct xdr_dec d;

	xdr_enc_init(&e, 256);
	rpc_encode_prog_mismatch(&e, 9, 3, 3);
	xdr_dec_init(&d, e.buf, e.len);
	assert_int_equal(rpc_decode_reply(&d, 9), RPC_PROG_MISMATCH);
	assert_int_equal(xdr_u32(&d), 3);
	assert_int_equal(xdr_u32(&d), 3);
	xdr_dec_init(&d, e.buf, e.len);
	assert_int_equal(rpc_decode_reply(&d, 10), -1); /* another xid */
	xdr_enc_free(&e);

	xdr_enc_init(&e, 256);
	rpc_encode_auth_error(&e, 9, RPC_AUTH_BADCRED);
	xdr_dec_init(&d, e.buf, e.len);
	assert_int_equal(rpc_decode_reply(&d, 9), -1); /* denied */
	xdr_enc_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(u32_and_u64),
		cmocka_unit_test(short_reads_fail),
		cmocka_unit_test(opaque_lengths_checked),
		cmocka_unit_test(opaque_rest_pads_the_whole),
		cmocka_unit_test(strings_refuse_nul),
		cmocka_unit_test(bools_are_0_or_1),
		cmocka_unit_test(encoder_limits),
		cmocka_unit_test(records_reassembled),
		cmocka_unit_test(records_bounded),
		cmocka_unit_test(records_peek_and_skip),
		cmocka_unit_test(call_headers),
		cmocka_unit_test(replies_encoded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
