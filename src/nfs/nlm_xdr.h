/* nlm_xdr.h: NLM (program 100021) arguments and results on the wire, for
 * version 4 (64-bit offsets, RFC 1813 appendix) and versions 1 and 3
 * (32-bit offsets, X/Open XNFS), and the NSM (program 100024) messages. */
#ifndef KVMINI_NFS_NLM_XDR_H
#define KVMINI_NFS_NLM_XDR_H

#include <stdbool.h>
#include <stdint.h>

#include "nfs/xdr.h"

#define NLM_PROG 100021
#define NSM_PROG 100024
#define NSM_VERS 1
#define NLM_MAXNETOBJ 1024
#define NLM_MAXNAME 1024

enum nlm_proc {
	NLMPROC_NULL = 0, NLMPROC_TEST = 1, NLMPROC_LOCK = 2, NLMPROC_CANCEL = 3,
	NLMPROC_UNLOCK = 4, NLMPROC_GRANTED = 5, NLMPROC_TEST_MSG = 6, NLMPROC_LOCK_MSG = 7,
	NLMPROC_CANCEL_MSG = 8, NLMPROC_UNLOCK_MSG = 9, NLMPROC_GRANTED_MSG = 10,
	NLMPROC_TEST_RES = 11, NLMPROC_LOCK_RES = 12, NLMPROC_CANCEL_RES = 13,
	NLMPROC_UNLOCK_RES = 14, NLMPROC_GRANTED_RES = 15, NLMPROC_SHARE = 20,
	NLMPROC_UNSHARE = 21, NLMPROC_NM_LOCK = 22, NLMPROC_FREE_ALL = 23,
	NLMPROC_COUNT = 24,
};

/* nlm4_stats; versions 1 and 3 know only the first five. */
enum nlm_stat {
	NLM_GRANTED = 0, NLM_DENIED = 1, NLM_DENIED_NOLOCKS = 2, NLM_BLOCKED = 3,
	NLM_DENIED_GRACE_PERIOD = 4, NLM_DEADLCK = 5, NLM_ROFS = 6, NLM_STALE_FH = 7,
	NLM_FBIG = 8, NLM_FAILED = 9,
};

enum nsm_proc {
	SM_NULL = 0, SM_STAT = 1, SM_MON = 2, SM_UNMON = 3, SM_UNMON_ALL = 4,
	SM_SIMU_CRASH = 5, SM_NOTIFY = 6, SM_COUNT = 7,
};
enum { NSM_STAT_SUCC = 0, NSM_STAT_FAIL = 1 };

/* A netobj: points into the decoded message. */
struct nlm_netobj {
	const uint8_t *data;
	uint32_t len;
};

struct nlm_lock_desc {
	char caller_name[NLM_MAXNAME + 1];
	struct nlm_netobj fh;
	struct nlm_netobj oh;
	int32_t svid;
	uint64_t offset;
	uint64_t len;
};

/* Every NLM call's arguments; each decoder fills its part. */
struct nlm_args {
	struct nlm_netobj cookie;
	bool block;
	bool excl;
	bool reclaim;
	int32_t state;
	struct nlm_lock_desc lock;   /* lock procedures */
	uint32_t share_mode;         /* SHARE / UNSHARE (lock.svid unused) */
	uint32_t share_access;
	uint32_t stat;               /* _RES procedures */
};

struct nlm_holder {
	bool excl;
	int32_t svid;
	struct nlm_netobj oh;
	uint64_t offset;
	uint64_t len;
};

/* Decoders return 0, or -1 with d->err set. */
int nlm_decode_test(struct xdr_dec *d, uint32_t vers, struct nlm_args *a);
int nlm_decode_lock(struct xdr_dec *d, uint32_t vers, struct nlm_args *a);
int nlm_decode_cancel(struct xdr_dec *d, uint32_t vers, struct nlm_args *a);
int nlm_decode_unlock(struct xdr_dec *d, uint32_t vers, struct nlm_args *a);
int nlm_decode_share(struct xdr_dec *d, uint32_t vers, struct nlm_args *a);
/* nlm_res (cookie, stat): the _RES procedures and GRANTED replies. */
int nlm_decode_res(struct xdr_dec *d, struct nlm_args *a);
/* nlm_notify (FREE_ALL): the name goes to a->lock.caller_name. */
int nlm_decode_notify(struct xdr_dec *d, uint32_t vers, struct nlm_args *a);

/* Version 1 and 3 replies carry only the first five status values. */
uint32_t nlm_wire_stat(uint32_t vers, enum nlm_stat st);
void nlm_encode_res(struct xdr_enc *e, uint32_t vers, struct nlm_netobj cookie,
		    enum nlm_stat st);
void nlm_encode_testres(struct xdr_enc *e, uint32_t vers, struct nlm_netobj cookie,
			enum nlm_stat st, const struct nlm_holder *holder);
void nlm_encode_shareres(struct xdr_enc *e, uint32_t vers, struct nlm_netobj cookie,
			 enum nlm_stat st, int32_t sequence);
/* nlm_testargs, the arguments of GRANTED / GRANTED_MSG callbacks. */
void nlm_encode_testargs(struct xdr_enc *e, uint32_t vers, struct nlm_netobj cookie, bool excl,
			 const char *caller_name, struct nlm_netobj fh, struct nlm_netobj oh,
			 int32_t svid, uint64_t offset, uint64_t len);

#endif
