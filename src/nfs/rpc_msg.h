/* rpc_msg.h: ONC RPC v2 (RFC 5531) call and reply headers and the
 * credentials kvmini accepts (AUTH_NONE, AUTH_SYS). */
#ifndef KVMINI_NFS_RPC_MSG_H
#define KVMINI_NFS_RPC_MSG_H

#include <stdint.h>

#include "nfs/xdr.h"

enum { RPC_CALL = 0, RPC_REPLY = 1 };
enum { RPC_MSG_ACCEPTED = 0, RPC_MSG_DENIED = 1 };

enum rpc_accept_stat {
	RPC_SUCCESS = 0,
	RPC_PROG_UNAVAIL = 1,
	RPC_PROG_MISMATCH = 2,
	RPC_PROC_UNAVAIL = 3,
	RPC_GARBAGE_ARGS = 4,
	RPC_SYSTEM_ERR = 5,
	/* Not on the wire: the procedure sends no reply (one-way messages). */
	RPC_NO_REPLY = 100,
};

enum { RPC_MISMATCH = 0, RPC_AUTH_ERROR = 1 };

enum rpc_auth_stat {
	RPC_AUTH_OK = 0,
	RPC_AUTH_BADCRED = 1,
	RPC_AUTH_REJECTEDCRED = 2,
	RPC_AUTH_BADVERF = 3,
	RPC_AUTH_REJECTEDVERF = 4,
	RPC_AUTH_TOOWEAK = 5,
};

enum { RPC_AUTH_NONE = 0, RPC_AUTH_SYS = 1 };

#define RPC_AUTH_MAX_BODY 400
#define RPC_AUTH_SYS_MAX_NAME 255
#define RPC_AUTH_SYS_MAX_GIDS 16

/* The caller's identity. For AUTH_NONE, uid/gid are the anonymous ids
 * chosen by the service (the RPC layer leaves them at 65534). */
struct rpc_cred {
	uint32_t flavor;
	uint32_t stamp;
	uint32_t uid;
	uint32_t gid;
	uint32_t ngids;
	uint32_t gids[RPC_AUTH_SYS_MAX_GIDS];
	char machine[RPC_AUTH_SYS_MAX_NAME + 1];
};

struct rpc_call_header {
	uint32_t xid;
	uint32_t rpcvers;
	uint32_t prog;
	uint32_t vers;
	uint32_t proc;
	struct rpc_cred cred;
};

enum rpc_header_result {
	RPC_HDR_OK,
	RPC_HDR_GARBAGE,   /* not even an xid: drop the message */
	RPC_HDR_NOT_CALL,  /* a reply or unknown type: drop (or route to a client) */
	RPC_HDR_BAD_RPCVERS, /* reply MSG_DENIED/RPC_MISMATCH */
	RPC_HDR_AUTH_ERROR,  /* reply MSG_DENIED/AUTH_ERROR with `auth_stat` */
};

/* Decodes a call header; on return `d` sits on the procedure's arguments.
 * *auth_stat tells why a RPC_HDR_AUTH_ERROR was returned. */
enum rpc_header_result rpc_decode_call(struct xdr_dec *d, struct rpc_call_header *h,
				       enum rpc_auth_stat *auth_stat);
/* Parses an AUTH_SYS credential body (RFC 5531 appendix A). */
int rpc_decode_auth_sys(const uint8_t *body, uint32_t len, struct rpc_cred *cred);

/* Reply headers. The accepted header carries an AUTH_NONE verifier;
 * PROG_MISMATCH is followed by the low and high versions. */
void rpc_encode_accepted(struct xdr_enc *e, uint32_t xid, enum rpc_accept_stat stat);
void rpc_encode_prog_mismatch(struct xdr_enc *e, uint32_t xid, uint32_t low, uint32_t high);
void rpc_encode_rpc_mismatch(struct xdr_enc *e, uint32_t xid);
void rpc_encode_auth_error(struct xdr_enc *e, uint32_t xid, enum rpc_auth_stat stat);

/* Call headers, for kvmini acting as an RPC client (callbacks). */
void rpc_encode_call(struct xdr_enc *e, uint32_t xid, uint32_t prog, uint32_t vers,
		     uint32_t proc, const struct rpc_cred *cred);
/* Decodes a reply header: returns the accept status (RPC_SUCCESS leaves `d`
 * on the results), or -1 for a denied or malformed reply or another xid. */
int rpc_decode_reply(struct xdr_dec *d, uint32_t xid);

#endif
