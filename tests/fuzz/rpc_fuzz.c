/* rpc_fuzz.c: libFuzzer target for the NFS server's input path: TCP record
 * marking, the RPC call header and credentials, then the XDR decoding of
 * NFSv3 and MOUNT arguments and the file-handle checks, on whatever bytes
 * the fuzzer makes. Built by `make fuzz` as build/fuzz/rpc_fuzz. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nfs/fh.h"
#include "nfs/rpc_msg.h"
#include "nfs/rpc_record.h"
#include "nfs/xdr.h"

static struct nfs_export fake_export = {
	.root_fd = -1,
	.mount_fd = -1, /* open_by_handle_at fails: only the checks run */
	.fsid = 0x12345678,
};

static void decode_sattr(struct xdr_dec *d)
{
	if (xdr_bool(d))
		xdr_u32(d);
	if (xdr_bool(d))
		xdr_u32(d);
	if (xdr_bool(d))
		xdr_u32(d);
	if (xdr_bool(d))
		xdr_u64(d);
	for (int i = 0; i < 2; i++)
		if (xdr_u32(d) == 2) {
			xdr_u32(d);
			xdr_u32(d);
		}
}

static void decode_fh(struct xdr_dec *d)
{
	uint32_t len;
	const uint8_t *p = xdr_opaque_var(d, NFS3_FHSIZE, &len);

	if (p)
		fh_open(&fake_export, p, len);
}

static void decode_name(struct xdr_dec *d)
{
	char name[256];

	xdr_string(d, 255, name);
}

/* The argument shapes of the NFSv3 procedures, decoded as the server does. */
static void decode_nfs3_args(struct xdr_dec *d, uint32_t proc)
{
	uint32_t len;

	switch (proc) {
	case 1: case 5: case 18: case 19: case 20: /* fh only */
		decode_fh(d);
		break;
	case 2:
		decode_fh(d);
		decode_sattr(d);
		if (xdr_bool(d))
			xdr_u64(d);
		break;
	case 3: case 12: case 13:
		decode_fh(d);
		decode_name(d);
		break;
	case 4: case 6: case 21:
		decode_fh(d);
		xdr_u64(d);
		xdr_u32(d);
		break;
	case 7:
		decode_fh(d);
		xdr_u64(d);
		xdr_u32(d);
		xdr_u32(d);
		xdr_opaque_var(d, 1 << 20, &len);
		break;
	case 8: case 9: case 10: case 11:
		decode_fh(d);
		decode_name(d);
		if (proc == 8 && xdr_u32(d) == 2)
			xdr_opaque_fixed(d, 8);
		else
			decode_sattr(d);
		if (proc == 10) {
			char target[4096];

			xdr_string(d, 4095, target);
		}
		break;
	case 14: case 15:
		decode_fh(d);
		if (proc == 14)
			decode_name(d);
		decode_fh(d);
		decode_name(d);
		break;
	case 16: case 17:
		decode_fh(d);
		xdr_u64(d);
		xdr_opaque_fixed(d, 8);
		xdr_u32(d);
		if (proc == 17)
			xdr_u32(d);
		break;
	}
}

static void decode_record(const uint8_t *rec, size_t len)
{
	struct rpc_call_header h;
	enum rpc_auth_stat auth;
	struct xdr_dec d;
	char path[1025];

	xdr_dec_init(&d, rec, len);
	if (rpc_decode_call(&d, &h, &auth) != RPC_HDR_OK)
		return;
	if (h.prog == 100003)
		decode_nfs3_args(&d, h.proc);
	else if (h.prog == 100005)
		xdr_string(&d, 1024, path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rpc_record_reader r;

	/* The whole input as one UDP datagram ... */
	decode_record(data, size);
	/* ... and as a TCP byte stream of records, where long records are
	 * peeked and their tails taken as bulk data, as the server does. */
	rpc_record_init(&r, 65536);
	r.peek_size = 64;
	r.peek_min = 128;
	while (size) {
		uint8_t *dst, *rec;
		size_t want, len;
		int st;

		rpc_record_want(&r, &dst, &want);
		if (want > size)
			want = size;
		memcpy(dst, data, want);
		data += want;
		size -= want;
		st = rpc_record_got(&r, want);
		if (st == RPC_RECORD_PEEK) {
			size_t skip = rpc_record_frag_left(&r) / 2;

			decode_record(r.buf, r.len);
			st = rpc_record_skip(&r, skip);
			if (skip > size)
				skip = size;
			data += skip;
			size -= skip;
		}
		if (st < 0)
			break;
		if (st == RPC_RECORD_DONE) {
			rec = rpc_record_take(&r, &len);
			decode_record(rec, len);
			free(rec);
		}
	}
	rpc_record_free(&r);
	return 0;
}
