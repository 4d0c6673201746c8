/* nfs3_dir.c: the NFSv3 procedures that look up, make and remove names:
 * LOOKUP, CREATE (UNCHECKED, GUARDED, EXCLUSIVE), MKDIR, SYMLINK, MKNOD,
 * REMOVE, RMDIR, RENAME, LINK. Every name is one component (no '/'),
 * every operation is relative to a directory handle, and nothing follows
 * a symlink on the server. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "nfs/nfs3.h"

static bool dot_name(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

static void close_fd(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* Decodes diropargs3; returns false on garbage (fd closed). */
static bool get_dirop(const struct nfs_export *exp, struct rpc_call *call, int *dirfd, char *name,
		      enum nfsstat3 *st)
{
	enum nfsstat3 nst;

	*st = nfs3_get_fh(exp, call, dirfd);
	nst = nfs3_get_name(call, name);
	if (*st == NFS3_OK)
		*st = nst;
	if (call->args.err) {
		close_fd(*dirfd);
		*dirfd = -1;
		return false;
	}
	return true;
}

enum rpc_accept_stat nfs3_lookup(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_export *exp = opaque;
	char name[NFS3_MAXNAME + 1];
	enum nfsstat3 st;
	struct nfs_fh fh;
	int dirfd, fd = -1, rc;

	if (!get_dirop(exp, call, &dirfd, name, &st))
		return RPC_GARBAGE_ARGS;
	if (st == NFS3_OK && (st = nfs3_become(exp, call)) == NFS3_OK) {
		fd = nfs3_lookup_at(exp, dirfd, name);
		nfs3_unbecome(exp);
		if (fd < 0)
			st = nfs3_errno(-fd);
	}
	if (st == NFS3_OK && (rc = fh_from_fd(exp, fd, &fh)) < 0)
		st = nfs3_errno(-rc == EXDEV ? EACCES : -rc);
	xdr_put_u32(&r->enc, st);
	if (st == NFS3_OK) {
		nfs3_put_fh(&r->enc, &fh);
		nfs3_put_post_attr(&r->enc, exp, fd);
	}
	nfs3_put_post_attr(&r->enc, exp, dirfd);
	close_fd(fd);
	close_fd(dirfd);
	return RPC_SUCCESS;
}

/* The common tail of CREATE, MKDIR, SYMLINK, MKNOD: apply the attributes
 * to the new name (as the caller) and encode the result. */
static enum rpc_accept_stat finish_create(const struct nfs_export *exp, struct rpc_call *call,
					  struct rpc_reply *r, enum nfsstat3 st, int dirfd,
					  const struct nfs_wcc_pre *pre, const char *name,
					  const struct nfs_sattr *sa)
{
	int fd = -1;

	if (st == NFS3_OK) {
		struct stat sb;

		fd = nfs3_lookup_at(exp, dirfd, name);
		if (fd < 0)
			st = nfs3_errno(-fd);
		else if (sa && fstat(fd, &sb))
			st = nfs3_errno(errno);
		else if (sa)
			st = nfs3_apply_sattr(fd, sa, nfs3_caller_owns(exp, call, &sb));
	}
	nfs3_unbecome(exp);
	xdr_put_u32(&r->enc, st);
	if (st == NFS3_OK)
		nfs3_put_new_obj(&r->enc, exp, fd);
	nfs3_put_wcc(&r->enc, exp, pre, dirfd);
	close_fd(fd);
	close_fd(dirfd);
	return RPC_SUCCESS;
}

/* Checks shared by the making procedures; switches to the caller. */
static enum nfsstat3 may_make(const struct nfs_export *exp, struct rpc_call *call, enum nfsstat3 st,
			      const char *name)
{
	if (st != NFS3_OK)
		return st;
	if (exp->read_only)
		return NFS3ERR_ROFS;
	if (dot_name(name))
		return NFS3ERR_EXIST;
	return nfs3_become(exp, call);
}

static bool verifier_matches(int dirfd, const char *name, const uint8_t *verf)
{
	struct stat sb;
	uint32_t a = (uint32_t)verf[0] << 24 | verf[1] << 16 | verf[2] << 8 | verf[3];
	uint32_t m = (uint32_t)verf[4] << 24 | verf[5] << 16 | verf[6] << 8 | verf[7];

	return fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(sb.st_mode) &&
	       (uint32_t)sb.st_atim.tv_sec == a && (uint32_t)sb.st_mtim.tv_sec == m;
}

static enum nfsstat3 create_exclusive(int dirfd, const char *name, const uint8_t *verf)
{
	struct timespec ts[2] = { { 0 }, { 0 } };
	int fd = openat(dirfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);

	if (fd < 0)
		return errno == EEXIST && verifier_matches(dirfd, name, verf) ? NFS3_OK : nfs3_errno(errno);
	ts[0].tv_sec = (uint32_t)verf[0] << 24 | verf[1] << 16 | verf[2] << 8 | verf[3];
	ts[1].tv_sec = (uint32_t)verf[4] << 24 | verf[5] << 16 | verf[6] << 8 | verf[7];
	if (futimens(fd, ts)) {
		int e = errno;

		close(fd);
		return nfs3_errno(e);
	}
	close(fd);
	return NFS3_OK;
}

enum rpc_accept_stat nfs3_create(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_export *exp = opaque;
	char name[NFS3_MAXNAME + 1];
	struct nfs_wcc_pre pre = { 0 };
	struct nfs_sattr sa = { 0 };
	const uint8_t *verf = NULL;
	enum nfsstat3 st;
	uint32_t how;
	int dirfd, fd;

	if (!get_dirop(exp, call, &dirfd, name, &st))
		return RPC_GARBAGE_ARGS;
	how = xdr_u32(&call->args);
	if (how <= 1)
		nfs3_get_sattr(&call->args, &sa);
	else if (how == 2)
		verf = xdr_opaque_fixed(&call->args, 8);
	if (call->args.err || how > 2) {
		close_fd(dirfd);
		return RPC_GARBAGE_ARGS;
	}
	nfs3_pre_attr(dirfd, &pre);
	st = may_make(exp, call, st, name);
	if (st == NFS3_OK && verf) {
		st = create_exclusive(dirfd, name, verf);
		return finish_create(exp, call, r, st, dirfd, &pre, name, NULL);
	}
	if (st == NFS3_OK) {
		int flags = O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC | (how == 1 ? O_EXCL : 0);

		fd = openat(dirfd, name, flags, sa.set_mode ? sa.mode : 0644);
		if (fd < 0)
			st = nfs3_errno(errno);
		else
			close(fd);
	}
	return finish_create(exp, call, r, st, dirfd, &pre, name, &sa);
}

enum rpc_accept_stat nfs3_mkdir(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_export *exp = opaque;
	char name[NFS3_MAXNAME + 1];
	struct nfs_wcc_pre pre = { 0 };
	struct nfs_sattr sa;
	enum nfsstat3 st;
	int dirfd;

	if (!get_dirop(exp, call, &dirfd, name, &st))
		return RPC_GARBAGE_ARGS;
	nfs3_get_sattr(&call->args, &sa);
	if (call->args.err) {
		close_fd(dirfd);
		return RPC_GARBAGE_ARGS;
	}
	nfs3_pre_attr(dirfd, &pre);
	st = may_make(exp, call, st, name);
	if (st == NFS3_OK && mkdirat(dirfd, name, sa.set_mode ? sa.mode : 0755))
		st = nfs3_errno(errno);
	return finish_create(exp, call, r, st, dirfd, &pre, name, &sa);
}

enum rpc_accept_stat nfs3_symlink(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_export *exp = opaque;
	char name[NFS3_MAXNAME + 1], target[NFS3_MAXPATH + 1];
	struct nfs_wcc_pre pre = { 0 };
	struct nfs_sattr sa;
	enum nfsstat3 st;
	int dirfd;

	if (!get_dirop(exp, call, &dirfd, name, &st))
		return RPC_GARBAGE_ARGS;
	nfs3_get_sattr(&call->args, &sa);
	xdr_string(&call->args, NFS3_MAXPATH, target);
	if (call->args.err) {
		close_fd(dirfd);
		return RPC_GARBAGE_ARGS;
	}
	nfs3_pre_attr(dirfd, &pre);
	st = may_make(exp, call, st, name);
	/* The target is stored, never followed by the server. */
	if (st == NFS3_OK && (!target[0] ? (errno = ENOENT) : symlinkat(target, dirfd, name)))
		st = nfs3_errno(errno);
	sa.set_mode = false;
	sa.set_size = false;
	return finish_create(exp, call, r, st, dirfd, &pre, name, &sa);
}

enum rpc_accept_stat nfs3_mknod(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_export *exp = opaque;
	char name[NFS3_MAXNAME + 1];
	struct nfs_wcc_pre pre = { 0 };
	struct nfs_sattr sa = { 0 };
	uint32_t type, maj = 0, min = 0;
	mode_t kind = 0;
	enum nfsstat3 st;
	int dirfd;

	if (!get_dirop(exp, call, &dirfd, name, &st))
		return RPC_GARBAGE_ARGS;
	type = xdr_u32(&call->args);
	if (type == NF3CHR || type == NF3BLK || type == NF3SOCK || type == NF3FIFO)
		nfs3_get_sattr(&call->args, &sa);
	if (type == NF3CHR || type == NF3BLK) {
		maj = xdr_u32(&call->args);
		min = xdr_u32(&call->args);
	}
	if (call->args.err || type < NF3REG || type > NF3FIFO) {
		close_fd(dirfd);
		return RPC_GARBAGE_ARGS;
	}
	kind = type == NF3CHR ? S_IFCHR : type == NF3BLK ? S_IFBLK : type == NF3SOCK ? S_IFSOCK : S_IFIFO;
	if (st == NFS3_OK && (type == NF3REG || type == NF3DIR || type == NF3LNK))
		st = NFS3ERR_BADTYPE;
	nfs3_pre_attr(dirfd, &pre);
	st = may_make(exp, call, st, name);
	if (st == NFS3_OK && mknodat(dirfd, name, kind | (sa.set_mode ? sa.mode : 0644), makedev(maj, min)))
		st = nfs3_errno(errno);
	sa.set_size = false;
	return finish_create(exp, call, r, st, dirfd, &pre, name, &sa);
}

static enum rpc_accept_stat remove_common(void *opaque, struct rpc_call *call, struct rpc_reply *r,
					  int flags)
{
	struct nfs_export *exp = opaque;
	char name[NFS3_MAXNAME + 1];
	struct nfs_wcc_pre pre = { 0 };
	enum nfsstat3 st;
	int dirfd;

	if (!get_dirop(exp, call, &dirfd, name, &st))
		return RPC_GARBAGE_ARGS;
	nfs3_pre_attr(dirfd, &pre);
	if (st == NFS3_OK && exp->read_only)
		st = NFS3ERR_ROFS;
	if (st == NFS3_OK && dot_name(name))
		st = !strcmp(name, ".") ? NFS3ERR_INVAL : NFS3ERR_NOTEMPTY;
	if (st == NFS3_OK && (st = nfs3_become(exp, call)) == NFS3_OK) {
		if (unlinkat(dirfd, name, flags))
			st = nfs3_errno(errno);
		nfs3_unbecome(exp);
	}
	xdr_put_u32(&r->enc, st);
	nfs3_put_wcc(&r->enc, exp, &pre, dirfd);
	close_fd(dirfd);
	return RPC_SUCCESS;
}

enum rpc_accept_stat nfs3_remove(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	return remove_common(opaque, call, r, 0);
}

enum rpc_accept_stat nfs3_rmdir(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	return remove_common(opaque, call, r, AT_REMOVEDIR);
}

enum rpc_accept_stat nfs3_rename(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_export *exp = opaque;
	char from[NFS3_MAXNAME + 1], to[NFS3_MAXNAME + 1];
	struct nfs_wcc_pre pre_from = { 0 }, pre_to = { 0 };
	enum nfsstat3 st, st2;
	int fromfd, tofd;

	if (!get_dirop(exp, call, &fromfd, from, &st))
		return RPC_GARBAGE_ARGS;
	if (!get_dirop(exp, call, &tofd, to, &st2)) {
		close_fd(fromfd);
		return RPC_GARBAGE_ARGS;
	}
	if (st == NFS3_OK)
		st = st2;
	nfs3_pre_attr(fromfd, &pre_from);
	nfs3_pre_attr(tofd, &pre_to);
	if (st == NFS3_OK && exp->read_only)
		st = NFS3ERR_ROFS;
	if (st == NFS3_OK && (dot_name(from) || dot_name(to)))
		st = NFS3ERR_INVAL;
	if (st == NFS3_OK && (st = nfs3_become(exp, call)) == NFS3_OK) {
		if (renameat(fromfd, from, tofd, to))
			st = nfs3_errno(errno);
		nfs3_unbecome(exp);
	}
	xdr_put_u32(&r->enc, st);
	nfs3_put_wcc(&r->enc, exp, &pre_from, fromfd);
	nfs3_put_wcc(&r->enc, exp, &pre_to, tofd);
	close_fd(fromfd);
	close_fd(tofd);
	return RPC_SUCCESS;
}

enum rpc_accept_stat nfs3_link(void *opaque, struct rpc_call *call, struct rpc_reply *r)
{
	struct nfs_export *exp = opaque;
	char name[NFS3_MAXNAME + 1], path[64];
	struct nfs_wcc_pre pre = { 0 };
	enum nfsstat3 st, st2;
	int fd, dirfd;

	st = nfs3_get_fh(exp, call, &fd);
	if (!get_dirop(exp, call, &dirfd, name, &st2)) {
		close_fd(fd);
		return RPC_GARBAGE_ARGS;
	}
	if (st == NFS3_OK)
		st = st2;
	nfs3_pre_attr(dirfd, &pre);
	st = may_make(exp, call, st, name);
	if (st == NFS3_OK) {
		/* linkat(AT_EMPTY_PATH) needs CAP_DAC_READ_SEARCH; the
		 * /proc magic link does not. */
		nfs3_fd_path(fd, path, sizeof(path));
		if (linkat(AT_FDCWD, path, dirfd, name, AT_SYMLINK_FOLLOW))
			st = nfs3_errno(errno);
		nfs3_unbecome(exp);
	}
	xdr_put_u32(&r->enc, st);
	nfs3_put_post_attr(&r->enc, exp, fd);
	nfs3_put_wcc(&r->enc, exp, &pre, dirfd);
	close_fd(fd);
	close_fd(dirfd);
	return RPC_SUCCESS;
}
