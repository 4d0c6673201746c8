/* nfs3_io.c: READ (file data spliced into the socket, never copied
 * through user space; served on the event-loop thread when the data is
 * in the page cache), WRITE (large data spliced from the socket through a
 * pipe into the file, small data written from the request buffer;
 * UNSTABLE / DATA_SYNC / FILE_SYNC) and COMMIT. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "nfs/creds.h"
#include "nfs/fh.h"
#include "nfs/fh_cache.h"
#include "nfs/nfs3.h"

/* Opens the regular file behind an O_PATH fd for I/O as the caller. */
static enum nfsstat3 open_for_io(const struct nfs_export *exp, struct rpc_call *call, int fd,
				 int flags, int *iofd, struct stat *sbp)
{
	struct stat local, *sb = sbp ? sbp : &local;
	enum nfsstat3 st;

	*iofd = -1;
	if (fstat(fd, sb))
		return nfs3_errno(errno);
	if (S_ISDIR(sb->st_mode))
		return NFS3ERR_ISDIR;
	if (!S_ISREG(sb->st_mode))
		return NFS3ERR_INVAL;
	st = nfs3_become(exp, call);
	if (st != NFS3_OK)
		return st;
	*iofd = nfs3_reopen(fd, flags);
	st = *iofd < 0 ? nfs3_errno(errno) : NFS3_OK;
	nfs3_unbecome(exp);
	if (st == NFS3ERR_ACCES && nfs3_caller_owns(exp, call, sb)) {
		*iofd = nfs3_reopen(fd, flags); /* owner override, as the server */
		st = *iofd < 0 ? nfs3_errno(errno) : NFS3_OK;
	}
	return st;
}

/* Checks that the caller may read the file (as open() would, with the
 * owner override of open_for_io). */
static enum nfsstat3 may_read(const struct nfs_export *exp, struct rpc_call *call, int fd,
			      const struct stat *sb)
{
	enum nfsstat3 st;
	uint32_t uid, gid;

	/* A caller acting as root (not squashed) may read any regular file. */
	nfs_map_cred(exp, &call->h.cred, &uid, &gid);
	if (exp->switch_creds && uid == 0)
		return NFS3_OK;
	st = nfs3_become(exp, call);
	if (st != NFS3_OK)
		return st;
	if (faccessat(fd, "", R_OK, AT_EMPTY_PATH | AT_EACCESS))
		st = nfs3_errno(errno);
	nfs3_unbecome(exp);
	if (st == NFS3ERR_ACCES && nfs3_caller_owns(exp, call, sb))
		st = NFS3_OK;
	return st;
}

/* The file to read, from the open-file cache when it has the handle
 * (*sb is then already its status, from nfs3_get_cached_fh): *iofd is
 * then the cache's (not to be closed), else the caller's own. */
static enum nfsstat3 open_for_read(struct nfs_export *exp, struct rpc_call *call,
				   struct fh_ref *ref, int *iofd, struct stat *sb)
{
	enum nfsstat3 st;

	if (!ref->entry)
		return open_for_io(exp, call, ref->fd, O_RDONLY, iofd, sb);
	*iofd = -1;
	if (S_ISDIR(sb->st_mode))
		return NFS3ERR_ISDIR;
	if (!S_ISREG(sb->st_mode))
		return NFS3ERR_INVAL;
	st = may_read(exp, call, ref->fd, sb);
	if (st != NFS3_OK)
		return st;
	*iofd = fh_cache_read_fd(exp->fhc, ref);
	return *iofd < 0 ? nfs3_errno(-*iofd) : NFS3_OK;
}

enum rpc_accept_stat nfs3_read(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_export *exp = opaque;
	uint64_t offset;
	uint32_t count, got = 0;
	size_t count_at;
	enum nfsstat3 st;
	struct stat sb;
	struct fh_ref ref;
	int iofd = -1, rc;
	enum rpc_accept_stat ret = RPC_SUCCESS;
	bool would_block;

	st = nfs3_get_cached_fh(exp, call, &ref, &sb, &would_block);
	offset = xdr_u64(&call->args);
	count = xdr_u32(&call->args);
	if (call->args.err) {
		ret = RPC_GARBAGE_ARGS;
		goto out;
	}
	if (would_block) {
		ret = RPC_WOULD_BLOCK;
		goto out;
	}
	if (st == NFS3_OK)
		st = open_for_read(exp, call, &ref, &iofd, &sb);
	xdr_put_u32(&r->enc, st);
	if (st != NFS3_OK) {
		nfs3_put_post_attr(&r->enc, exp, ref.fd);
		goto out;
	}
	nfs3_put_post_attr_st(&r->enc, exp, &sb);
	if (count > NFS3_MAX_IO)
		count = NFS3_MAX_IO;
	if (offset >= (uint64_t)sb.st_size)
		count = 0;
	else if (count > (uint64_t)sb.st_size - offset)
		count = (uint32_t)((uint64_t)sb.st_size - offset);
	if (call->on_loop && !rpc_file_cached(iofd, offset, count)) {
		/* Reading would wait for the disk: on a worker instead. */
		ret = RPC_WOULD_BLOCK;
		goto out;
	}
	count_at = r->enc.len;
	xdr_put_u32(&r->enc, 0); /* count */
	xdr_put_bool(&r->enc, false); /* eof */
	xdr_put_u32(&r->enc, 0); /* data length */
	rc = rpc_reply_splice_file(call, r, iofd, offset, count, &got);
	if (rc < 0) {
		/* Nothing was attached: answer the error instead. */
		r->enc.len = r->body_start;
		xdr_put_u32(&r->enc, nfs3_errno(-rc));
		nfs3_put_post_attr(&r->enc, exp, ref.fd);
		goto out;
	}
	xdr_patch_u32(&r->enc, count_at, got);
	xdr_patch_u32(&r->enc, count_at + 4, offset + got >= (uint64_t)sb.st_size);
	xdr_patch_u32(&r->enc, count_at + 8, got);
out:
	if (iofd >= 0 && !ref.entry)
		close(iofd);
	fh_cache_put(exp->fhc, &ref);
	return ret;
}

static enum nfsstat3 write_all(int iofd, const uint8_t *data, uint32_t count, uint64_t offset)
{
	uint32_t done = 0;

	if (offset > INT64_MAX || count > INT64_MAX - offset)
		return NFS3ERR_FBIG;
	while (done < count) {
		ssize_t n = pwrite(iofd, data + done, count - done, (off_t)(offset + done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return nfs3_errno(n < 0 ? errno : EIO);
		done += (uint32_t)n;
	}
	return NFS3_OK;
}

/* Moves `count` bytes of bulk data from the call's pipe into the file
 * (the socket's pages were spliced into the pipe; no user-space copy). */
static enum nfsstat3 splice_all(int pipefd, int iofd, uint32_t count, uint64_t offset)
{
	loff_t off = (loff_t)offset;
	uint32_t done = 0;

	if (offset > INT64_MAX || count > INT64_MAX - offset)
		return NFS3ERR_FBIG;
	while (done < count) {
		ssize_t n = splice(pipefd, NULL, iofd, &off, count - done, SPLICE_F_MOVE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return nfs3_errno(n < 0 ? errno : EIO);
		done += (uint32_t)n;
	}
	return NFS3_OK;
}

/* Bulk WRITE data: the part in the pipe by splice, then the rest (if the
 * pipe filled first) from the arguments. Only `count` bytes are written. */
static enum nfsstat3 write_bulk(const struct rpc_call *call, int iofd, const uint8_t *rest,
				uint32_t count, uint64_t offset)
{
	uint32_t piped = count < call->bulk_piped ? count : call->bulk_piped;
	enum nfsstat3 st = splice_all(call->bulk_pipe, iofd, piped, offset);

	if (st == NFS3_OK && count > piped)
		st = write_all(iofd, rest, count - piped, offset + piped);
	return st;
}

/* WRITE3args up to the data's length word, for the RPC layer to splice
 * the data itself (rpc_program.bulk); no other procedure has bulk data. */
int nfs3_write_bulk(uint32_t proc, struct xdr_dec *d, uint32_t *len)
{
	uint32_t fhlen;

	if (proc != 7)
		return -1;
	xdr_opaque_var(d, NFS3_FHSIZE, &fhlen);
	xdr_u64(d);
	xdr_u32(d);
	xdr_u32(d);
	*len = xdr_u32(d);
	return d->err || *len > NFS3_MAX_IO ? -1 : 0;
}

enum rpc_accept_stat nfs3_write(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_export *exp = opaque;
	struct nfs_wcc_pre pre = { 0 };
	const uint8_t *data;
	uint32_t count, stable, len;
	uint64_t offset;
	enum nfsstat3 st;
	int fd, iofd = -1;

	st = nfs3_get_fh(exp, call, &fd);
	offset = xdr_u64(&call->args);
	count = xdr_u32(&call->args);
	stable = xdr_u32(&call->args);
	if (call->has_bulk) {
		data = NULL;
		len = xdr_u32(&call->args);
		if (len != call->bulk_len)
			xdr_fail(&call->args);
		else if (call->bulk_piped < len) /* the rest came after the pipe filled */
			data = xdr_opaque_rest(&call->args, len - call->bulk_piped, len);
	} else {
		data = xdr_opaque_var(&call->args, NFS3_MAX_IO, &len);
	}
	if (call->args.err || stable > FILE_SYNC || count > len) {
		if (fd >= 0)
			close(fd);
		return RPC_GARBAGE_ARGS;
	}
	nfs3_pre_attr(fd, &pre);
	if (st == NFS3_OK && exp->read_only)
		st = NFS3ERR_ROFS;
	if (st == NFS3_OK)
		st = open_for_io(exp, call, fd, O_WRONLY, &iofd, NULL);
	if (st == NFS3_OK)
		st = call->has_bulk ? write_bulk(call, iofd, data, count, offset)
				    : write_all(iofd, data, count, offset);
	if (st == NFS3_OK && stable == DATA_SYNC && fdatasync(iofd))
		st = nfs3_errno(errno);
	if (st == NFS3_OK && stable == FILE_SYNC && fsync(iofd))
		st = nfs3_errno(errno);
	xdr_put_u32(&r->enc, st);
	nfs3_put_wcc(&r->enc, exp, &pre, fd);
	if (st == NFS3_OK) {
		xdr_put_u32(&r->enc, count);
		xdr_put_u32(&r->enc, stable);
		xdr_put_opaque_fixed(&r->enc, exp->write_verf, 8);
	}
	if (iofd >= 0)
		close(iofd);
	if (fd >= 0)
		close(fd);
	return RPC_SUCCESS;
}

enum rpc_accept_stat nfs3_commit(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_export *exp = opaque;
	struct nfs_wcc_pre pre = { 0 };
	enum nfsstat3 st;
	int fd, iofd = -1;

	st = nfs3_get_fh(exp, call, &fd);
	xdr_u64(&call->args); /* offset */
	xdr_u32(&call->args); /* count: the whole file is synced */
	if (call->args.err) {
		if (fd >= 0)
			close(fd);
		return RPC_GARBAGE_ARGS;
	}
	nfs3_pre_attr(fd, &pre);
	if (st == NFS3_OK && exp->read_only)
		st = NFS3ERR_ROFS;
	if (st == NFS3_OK) {
		/* Syncing is harmless and needs no permission: as the server. */
		iofd = nfs3_reopen(fd, O_RDONLY);
		if (iofd < 0)
			st = nfs3_errno(errno);
	}
	if (st == NFS3_OK && fsync(iofd))
		st = nfs3_errno(errno);
	xdr_put_u32(&r->enc, st);
	nfs3_put_wcc(&r->enc, exp, &pre, fd);
	if (st == NFS3_OK)
		xdr_put_opaque_fixed(&r->enc, exp->write_verf, 8);
	if (iofd >= 0)
		close(iofd);
	if (fd >= 0)
		close(fd);
	return RPC_SUCCESS;
}
