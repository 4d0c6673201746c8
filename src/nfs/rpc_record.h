/* rpc_record.h: ONC RPC record marking over TCP (RFC 5531 section 11):
 * reassembles fragments into whole records, bounded in size and in the
 * number of fragments. The reader does no I/O itself: rpc_record_want()
 * says where the next bytes go, rpc_record_got() accounts for them, so the
 * same code serves sockets, tests and the fuzzer. */
#ifndef KVMINI_NFS_RPC_RECORD_H
#define KVMINI_NFS_RPC_RECORD_H

#include <stddef.h>
#include <stdint.h>

#define RPC_RECORD_LAST 0x80000000u
#define RPC_RECORD_MAX_FRAGMENTS 1024

struct rpc_record_reader {
	size_t max;          /* largest record accepted */
	uint8_t hdr[4];      /* fragment header being read */
	uint32_t hdr_got;
	uint32_t frag_left;  /* bytes of the current fragment still to come */
	uint32_t fragments;
	int last;            /* current fragment is the record's last */
	uint8_t *buf;        /* record so far (malloc'ed, owned) */
	size_t len;
	size_t cap;
	/* Peeking: a record sent as one fragment longer than peek_size stops
	 * after its first peek_size bytes with RPC_RECORD_PEEK, so the caller
	 * can take the rest elsewhere (rpc_record_skip). 0: never. */
	size_t peek_size;
	size_t peek_min;     /* ... and at least this long */
	size_t peek_limit;   /* the current record's stop, 0 when none */
};

enum rpc_record_status {
	RPC_RECORD_MORE = 0,      /* need more bytes */
	RPC_RECORD_DONE = 1,      /* a whole record is in buf[0..len) */
	RPC_RECORD_PEEK = 2,      /* the first peek_size bytes of a long record */
	RPC_RECORD_TOO_BIG = -1,  /* record or fragment count over the limit */
	RPC_RECORD_NOMEM = -2,
};

void rpc_record_init(struct rpc_record_reader *r, size_t max);
void rpc_record_free(struct rpc_record_reader *r);
/* Where the next bytes should be read to, and at most how many (0 only
 * when rpc_record_got() just reported an error). */
void rpc_record_want(struct rpc_record_reader *r, uint8_t **dst, size_t *len);
/* Accounts for `n` bytes just stored at the place rpc_record_want() gave. */
enum rpc_record_status rpc_record_got(struct rpc_record_reader *r, size_t n);
/* Accounts for `n` bytes of the current fragment that the caller took
 * itself (n <= what is left of the fragment); they are not in buf. */
enum rpc_record_status rpc_record_skip(struct rpc_record_reader *r, size_t n);
/* Bytes of the current fragment still to come. */
static inline size_t rpc_record_frag_left(const struct rpc_record_reader *r)
{
	return r->hdr_got < 4 ? 0 : r->frag_left;
}
/* Hands the finished record's buffer to the caller (who frees it) and
 * resets the reader for the next record. */
uint8_t *rpc_record_take(struct rpc_record_reader *r, size_t *len);
/* Bytes the reader has allocated. */
static inline size_t rpc_record_buffered(const struct rpc_record_reader *r)
{
	return r->cap;
}
/* True when the reader is between records (no partial data). */
static inline int rpc_record_idle(const struct rpc_record_reader *r)
{
	return r->hdr_got == 0 && r->len == 0;
}

#endif
