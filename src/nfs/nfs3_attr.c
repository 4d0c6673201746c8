/* nfs3_attr.c: the NFSv3 procedures about one object's attributes and the
 * file system: GETATTR, SETATTR (with the ctime guard), ACCESS, READLINK,
 * FSSTAT, FSINFO, PATHCONF. GETATTR and ACCESS use the open-file cache
 * and run on the event-loop thread when the handle is in it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "nfs/nfs3.h"

#define ACCESS3_READ 0x01
#define ACCESS3_LOOKUP 0x02
#define ACCESS3_MODIFY 0x04
#define ACCESS3_EXTEND 0x08
#define ACCESS3_DELETE 0x10
#define ACCESS3_EXECUTE 0x20

static enum rpc_accept_stat garbage(int fd)
{
	if (fd >= 0)
		close(fd);
	return RPC_GARBAGE_ARGS;
}

static enum rpc_accept_stat status_only_attr(struct rpc_reply *r, const struct nfs_export *exp,
					     enum nfsstat3 st, int fd)
{
	xdr_put_u32(&r->enc, st);
	nfs3_put_post_attr(&r->enc, exp, fd);
	if (fd >= 0)
		close(fd);
	return RPC_SUCCESS;
}

/* GETATTR and ACCESS are tried on the event-loop thread: on a file the
 * open-file cache holds, they cannot wait for the disk. */
enum rpc_accept_stat nfs3_getattr(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_export *exp = opaque;
	enum rpc_accept_stat ret = RPC_SUCCESS;
	struct fh_ref ref;
	enum nfsstat3 st;
	struct stat sb;
	bool would_block;

	st = nfs3_get_cached_fh(exp, call, &ref, &sb, &would_block);
	if (call->args.err) {
		ret = RPC_GARBAGE_ARGS;
	} else if (would_block) {
		ret = RPC_WOULD_BLOCK;
	} else {
		xdr_put_u32(&r->enc, st);
		if (st == NFS3_OK)
			nfs3_put_fattr(&r->enc, exp, &sb);
	}
	fh_cache_put(exp->fhc, &ref);
	return ret;
}

enum rpc_accept_stat nfs3_setattr(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_export *exp = opaque;
	struct nfs_wcc_pre pre = { 0 };
	struct nfs_sattr sa;
	struct timespec guard;
	bool check;
	enum nfsstat3 st;
	int fd;

	st = nfs3_get_fh(exp, call, &fd);
	nfs3_get_sattr(&call->args, &sa);
	if ((check = xdr_bool(&call->args)))
		nfs3_get_time(&call->args, &guard);
	if (call->args.err)
		return garbage(fd);
	nfs3_pre_attr(fd, &pre);
	if (st == NFS3_OK && exp->read_only)
		st = NFS3ERR_ROFS;
	if (st == NFS3_OK && check &&
	    (!pre.valid || pre.st.st_ctim.tv_sec != guard.tv_sec || pre.st.st_ctim.tv_nsec != guard.tv_nsec))
		st = NFS3ERR_NOT_SYNC;
	if (st == NFS3_OK && (st = nfs3_become(exp, call)) == NFS3_OK) {
		st = nfs3_apply_sattr(fd, &sa, pre.valid && nfs3_caller_owns(exp, call, &pre.st));
		nfs3_unbecome(exp);
	}
	xdr_put_u32(&r->enc, st);
	nfs3_put_wcc(&r->enc, exp, &pre, fd);
	if (fd >= 0)
		close(fd);
	return RPC_SUCCESS;
}

static uint32_t check_access(const struct nfs_export *exp, int fd, uint32_t want)
{
	struct stat sb;
	uint32_t got = 0;
	bool dir;

	if (fstat(fd, &sb))
		return 0;
	dir = S_ISDIR(sb.st_mode);
	if (S_ISLNK(sb.st_mode))
		return want & ACCESS3_READ; /* symlinks: readable, nothing else */
#define CAN(m) (faccessat(fd, "", (m), AT_EACCESS | AT_EMPTY_PATH) == 0)
	if ((want & ACCESS3_READ) && CAN(R_OK))
		got |= ACCESS3_READ;
	if ((want & ACCESS3_LOOKUP) && dir && CAN(X_OK))
		got |= ACCESS3_LOOKUP;
	if ((want & ACCESS3_EXECUTE) && !dir && CAN(X_OK))
		got |= ACCESS3_EXECUTE;
	if ((want & (ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE)) && !exp->read_only && CAN(W_OK))
		got |= want & (ACCESS3_MODIFY | ACCESS3_EXTEND | (dir ? ACCESS3_DELETE : 0));
#undef CAN
	return got;
}

enum rpc_accept_stat nfs3_access(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_export *exp = opaque;
	uint32_t want, got = 0;
	enum nfsstat3 st;
	struct fh_ref ref;
	struct stat sb;
	bool would_block;

	st = nfs3_get_cached_fh(exp, call, &ref, &sb, &would_block);
	want = xdr_u32(&call->args);
	if (call->args.err || would_block) {
		fh_cache_put(exp->fhc, &ref);
		return call->args.err ? RPC_GARBAGE_ARGS : RPC_WOULD_BLOCK;
	}
	if (st == NFS3_OK && (st = nfs3_become(exp, call)) == NFS3_OK) {
		got = check_access(exp, ref.fd, want);
		nfs3_unbecome(exp);
	}
	xdr_put_u32(&r->enc, st);
	nfs3_put_post_attr(&r->enc, exp, ref.fd);
	if (st == NFS3_OK)
		xdr_put_u32(&r->enc, got);
	fh_cache_put(exp->fhc, &ref);
	return RPC_SUCCESS;
}

enum rpc_accept_stat nfs3_readlink(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_export *exp = opaque;
	char target[NFS3_MAXPATH + 1];
	enum nfsstat3 st;
	ssize_t n = 0;
	int fd;

	st = nfs3_get_fh(exp, call, &fd);
	if (call->args.err)
		return garbage(fd);
	if (st == NFS3_OK) {
		n = readlinkat(fd, "", target, sizeof(target) - 1);
		if (n < 0)
			st = errno == ENOENT || errno == EINVAL ? NFS3ERR_INVAL : nfs3_errno(errno);
	}
	xdr_put_u32(&r->enc, st);
	nfs3_put_post_attr(&r->enc, exp, fd);
	if (st == NFS3_OK)
		xdr_put_opaque_var(&r->enc, target, (uint32_t)n);
	if (fd >= 0)
		close(fd);
	return RPC_SUCCESS;
}

/* FSINFO and PATHCONF: decodes the call's file handle and starts an OK
 * reply with its attributes; false with *ret set when the call ends here
 * (garbage, or an error status with attributes if there are any). */
static bool start_fh_reply(struct nfs_export *exp, struct rpc_call *call, struct rpc_reply *r,
			   int *fd, enum rpc_accept_stat *ret)
{
	enum nfsstat3 st = nfs3_get_fh(exp, call, fd);

	if (call->args.err) {
		*ret = garbage(*fd);
		return false;
	}
	if (st != NFS3_OK) {
		*ret = status_only_attr(r, exp, st, *fd);
		return false;
	}
	xdr_put_u32(&r->enc, NFS3_OK);
	nfs3_put_post_attr(&r->enc, exp, *fd);
	return true;
}

enum rpc_accept_stat nfs3_fsstat(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_export *exp = opaque;
	struct statfs sf;
	enum nfsstat3 st;
	int fd;

	st = nfs3_get_fh(exp, call, &fd);
	if (call->args.err)
		return garbage(fd);
	if (st == NFS3_OK && fstatfs(fd, &sf))
		st = nfs3_errno(errno);
	if (st != NFS3_OK)
		return status_only_attr(r, exp, st, fd);
	xdr_put_u32(&r->enc, NFS3_OK);
	nfs3_put_post_attr(&r->enc, exp, fd);
	xdr_put_u64(&r->enc, (uint64_t)sf.f_blocks * sf.f_bsize);
	xdr_put_u64(&r->enc, (uint64_t)sf.f_bfree * sf.f_bsize);
	xdr_put_u64(&r->enc, (uint64_t)sf.f_bavail * sf.f_bsize);
	xdr_put_u64(&r->enc, sf.f_files);
	xdr_put_u64(&r->enc, sf.f_ffree);
	xdr_put_u64(&r->enc, sf.f_ffree);
	xdr_put_u32(&r->enc, 0); /* invarsec */
	close(fd);
	return RPC_SUCCESS;
}

enum rpc_accept_stat nfs3_fsinfo(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_export *exp = opaque;
	enum rpc_accept_stat ret;
	int fd;

	if (!start_fh_reply(exp, call, r, &fd, &ret))
		return ret;
	xdr_put_u32(&r->enc, NFS3_MAX_IO);   /* rtmax */
	xdr_put_u32(&r->enc, NFS3_MAX_IO);   /* rtpref */
	xdr_put_u32(&r->enc, 4096);          /* rtmult */
	xdr_put_u32(&r->enc, NFS3_MAX_IO);   /* wtmax */
	xdr_put_u32(&r->enc, NFS3_MAX_IO);   /* wtpref */
	xdr_put_u32(&r->enc, 4096);          /* wtmult */
	xdr_put_u32(&r->enc, 65536);         /* dtpref */
	xdr_put_u64(&r->enc, INT64_MAX);     /* maxfilesize */
	xdr_put_u32(&r->enc, 0);             /* time_delta: 1 ns */
	xdr_put_u32(&r->enc, 1);
	xdr_put_u32(&r->enc, 0x1 | 0x2 | 0x8 | 0x10); /* LINK SYMLINK HOMOGENEOUS CANSETTIME */
	close(fd);
	return RPC_SUCCESS;
}

enum rpc_accept_stat nfs3_pathconf(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_export *exp = opaque;
	enum rpc_accept_stat ret;
	int fd;

	if (!start_fh_reply(exp, call, r, &fd, &ret))
		return ret;
	xdr_put_u32(&r->enc, 65000);        /* linkmax */
	xdr_put_u32(&r->enc, NFS3_MAXNAME); /* name_max */
	xdr_put_bool(&r->enc, true);        /* no_trunc */
	xdr_put_bool(&r->enc, true);        /* chown_restricted */
	xdr_put_bool(&r->enc, false);       /* case_insensitive */
	xdr_put_bool(&r->enc, true);        /* case_preserving */
	close(fd);
	return RPC_SUCCESS;
}
