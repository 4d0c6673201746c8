/* rpc_server.h: an ONC RPC server over TCP and UDP: a table of programs,
 * one epoll event-loop thread for all sockets and a bounded pool of worker
 * threads for procedures that block (file-system calls).
 *
 * Usage:
 *   struct rpc_server *srv = rpc_server_new(&cfg);
 *   rpc_server_add_program(srv, &prog);          // any number, before start
 *   rpc_server_listen(srv, "127.0.0.1:2049", IPPROTO_TCP, &port);
 *   rpc_server_start(srv);  ...  rpc_server_free(srv);   // stops and joins
 *
 * A procedure gets the decoded call (credentials, arguments positioned in
 * an XDR decoder) and appends its results to reply->enc after the accepted
 * header the server already wrote. It returns RPC_SUCCESS, or an RPC error
 * (RPC_GARBAGE_ARGS, RPC_SYSTEM_ERR...) and the server discards the partial
 * results and sends that error instead, or RPC_NO_REPLY to send nothing.
 * Unknown programs, versions and procedures, bad RPC versions and bad
 * credentials are answered by the server itself.
 *
 * Fairness: calls are queued per connection and workers take them round
 * robin across connections; a connection with `max_inflight` calls queued,
 * running or unsent is not read until some complete; when the complete
 * requests waiting for or held by workers pass `max_buffered` bytes, no
 * connection starts another record until they drain. Partial records are
 * bounded per connection by max_record, replies by max_inflight. */
#ifndef KVMINI_NFS_RPC_SERVER_H
#define KVMINI_NFS_RPC_SERVER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "nfs/rpc_msg.h"
#include "nfs/xdr.h"

struct rpc_server;

struct rpc_call {
	struct rpc_call_header h;      /* xid, prog, vers, proc, cred */
	struct xdr_dec args;           /* positioned on the arguments */
	struct sockaddr_storage peer;  /* the caller */
	socklen_t peer_len;
	int proto;                     /* IPPROTO_TCP or IPPROTO_UDP */
	struct rpc_server *srv;
	/* Bulk data (see rpc_program.bulk): the trailing opaque's bytes are not
	 * in `args` (which stops after its length word) but in this pipe,
	 * spliced from the socket. */
	bool has_bulk;
	int bulk_pipe;
	uint32_t bulk_len;
	/* Bytes of it in the pipe: bulk_len, or fewer when the pipe's slots
	 * filled first; then the rest of the opaque (and its padding) follows
	 * in `args` after the length word (xdr_opaque_rest). */
	uint32_t bulk_piped;
	/* Running on the event-loop thread (rpc_proc.inline_try): the
	 * procedure must not block; it returns RPC_WOULD_BLOCK instead (before
	 * any side effect) and is called again on a worker. */
	bool on_loop;
};

/* A reply under construction. `enc` starts with the 4-byte TCP record mark
 * (reserved) and the accepted-reply header; procedures append results. */
struct rpc_reply {
	struct xdr_enc enc;
	size_t body_start;   /* offset of the procedure's results in enc */
	/* Zero-copy data that follows enc on the wire (rpc_reply_splice_file). */
	int pipe_rd, pipe_wr;
	bool pipe_full;      /* the pipe holds max_data: it may be pooled */
	size_t data_len;
	uint32_t data_pad;   /* XDR padding after the data */
	/* Sending progress (event-loop thread). */
	size_t sent;
	size_t data_sent;
	uint32_t pad_sent;
	struct sockaddr_storage peer; /* UDP destination */
	socklen_t peer_len;
	struct rpc_reply *next;
};

typedef enum rpc_accept_stat (*rpc_proc_fn)(void *opaque, struct rpc_call *call,
					     struct rpc_reply *reply);

struct rpc_proc {
	const char *name;
	rpc_proc_fn fn;        /* NULL: PROC_UNAVAIL */
	/* false: on a worker; true: never blocks, run on the event-loop
	 * thread; RPC_INLINE_TRY: tried on the event-loop thread first
	 * (call->on_loop), on a worker if it would block. */
	unsigned char inline_ok;
};

#define RPC_INLINE_TRY 2

struct rpc_program {
	uint32_t prog;
	uint32_t vers;
	const char *name;
	const struct rpc_proc *procs; /* indexed by procedure number */
	uint32_t nprocs;
	void *opaque;                 /* passed to every procedure */
	/* Optional, for procedures whose arguments end with a large opaque
	 * (NFS WRITE): returns -1 for other procedures; else decodes (without
	 * side effects) up to and including the opaque's length word, stores
	 * that length and returns 0. The server then splices the opaque's
	 * bytes from the socket into a pipe (call->has_bulk). */
	int (*bulk)(uint32_t proc, struct xdr_dec *args, uint32_t *len);
};

struct rpc_server_config {
	unsigned workers;        /* worker threads (default 8) */
	unsigned max_inflight;   /* per connection (default 16) */
	size_t max_buffered;     /* bytes of requests held, all connections (default 256 MiB) */
	size_t max_record;       /* largest TCP record accepted (default 1 MiB + 64 KiB) */
	size_t max_data;         /* largest zero-copy data segment (default 1 MiB) */
};

struct rpc_stats {
	uint64_t calls;
	uint64_t garbage;          /* malformed headers or arguments */
	uint64_t oversized;        /* records over max_record: connection closed */
	uint64_t unavail;          /* unknown programs, versions, procedures */
	uint64_t auth_errors;
	uint64_t dropped;          /* UDP calls dropped under load */
	uint64_t spliced_bytes;    /* data sent by splice */
	uint64_t spliced_in_bytes; /* bulk data received by splice */
	uint64_t bulk_pipe_grown;  /* bulk pipes grown because segments filled their slots */
	uint64_t bulk_fallbacks;   /* bulk data that overflowed even so: its rest read the ordinary way */
	uint64_t copied_bytes;     /* data copied because the file system cannot splice */
};

struct rpc_server *rpc_server_new(const struct rpc_server_config *cfg);
/* Adds a program version (before rpc_server_start). Returns 0 or -1. */
int rpc_server_add_program(struct rpc_server *srv, const struct rpc_program *prog);
/* Binds "ADDR:PORT" ("[v6]:PORT" for IPv6; port 0 picks one) for TCP or
 * UDP; stores the bound port in *port if not NULL. The first listener of a
 * protocol is the one the port mapper hands out. */
int rpc_server_listen(struct rpc_server *srv, const char *addr, int proto, uint16_t *port);
/* The port of the first listener of `proto`, 0 if none. */
uint16_t rpc_server_port(const struct rpc_server *srv, int proto);
/* True if some program version `prog`/`vers` is registered
 * (vers 0: any version). */
bool rpc_server_has_program(const struct rpc_server *srv, uint32_t prog, uint32_t vers);
/* Iterates registered programs: returns the i-th, or NULL past the end. */
const struct rpc_program *rpc_server_program(const struct rpc_server *srv, unsigned i);
int rpc_server_start(struct rpc_server *srv);
/* Stops the threads, closes every socket. Safe to call twice. */
void rpc_server_stop(struct rpc_server *srv);
void rpc_server_free(struct rpc_server *srv);
void rpc_server_get_stats(struct rpc_server *srv, struct rpc_stats *out);

/* Runs fn(arg) on a worker thread (for blocking work such as callbacks to
 * clients). Returns 0, or -1 if the server is stopping. */
int rpc_server_submit(struct rpc_server *srv, void (*fn)(void *arg), void *arg);

/* Attaches up to `count` bytes of file `fd` at `offset` to the reply, to go
 * out after enc by splice (file -> pipe -> socket), never copied through
 * user space (over UDP too, within one datagram: at most 32 KiB). The
 * caller encodes everything before the data first and nothing after it
 * (a file system that cannot splice gets the data copied into enc). Stores the bytes attached in *got (short at EOF) and
 * appends the XDR padding itself. Call once per reply (from the event
 * loop only for data known to be in the page cache: rpc_file_cached).
 * Returns 0 or -errno. The caller encodes the opaque length (= *got)
 * before calling, using xdr_patch_u32 on a placeholder. */
int rpc_reply_splice_file(struct rpc_call *call, struct rpc_reply *reply, int fd,
			  uint64_t offset, uint32_t count, uint32_t *got);

/* True if bytes [offset, offset + count) of file `fd` are all in the page
 * cache, so splicing them cannot wait for the disk. False when unknown
 * (kernels before 6.5 have no cachestat). */
bool rpc_file_cached(int fd, uint64_t offset, uint32_t count);

#endif
